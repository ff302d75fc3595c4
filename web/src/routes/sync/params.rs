//! Query parameters of the sync routes, parsed once for the JSON API and the pages alike.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use service::pagination::PageRequest;
use service::sync::{HistoryFilter, HistoryKey, SyncStatus, SyncType, TenantId};
use utoipa::IntoParams;

/// Filters and page of the sync history.
#[derive(Debug, Default, Deserialize, IntoParams)]
pub struct HistoryQuery {
    /// Only this tenant's syncs.
    pub tenant_id: Option<String>,
    /// `running`, `completed`, `failed` or `canceled`.
    pub status: Option<String>,
    /// `sqlite` or `graphdb`.
    pub sync_type: Option<String>,
    /// Started at or after (RFC 3339, or a date meaning its midnight UTC).
    pub since: Option<String>,
    /// Started before (RFC 3339, or a date meaning its midnight UTC).
    pub until: Option<String>,
    /// 1–500, default 50.
    pub limit: Option<u64>,
    pub cursor: Option<String>,
    /// `started` (oldest first) or `-started` (newest first, the default).
    pub sort: Option<String>,
}

/// An empty parameter (an untouched form field) means "no filter".
fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// A time filter: RFC 3339 with any offset (normalised to UTC) or a plain date.
pub fn parse_time(raw: &str, field: &str) -> Result<DateTime<Utc>, service::Error> {
    if let Ok(t) = DateTime::parse_from_rfc3339(raw) {
        return Ok(t.to_utc());
    }
    if let Some(t) = NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
    {
        return Ok(t.and_utc());
    }
    Err(service::Error::invalid(
        field,
        "must be an RFC 3339 time (2026-11-22T19:03:00Z) or a date (2026-11-22)",
    ))
}

impl HistoryQuery {
    /// The validated filter; a bad value is reported on its field.
    pub fn filter(&self) -> Result<HistoryFilter, service::Error> {
        let tenant_id = given(&self.tenant_id)
            .map(|t| TenantId::parse(t, "tenant_id"))
            .transpose()?;
        let status = given(&self.status)
            .map(|s| {
                SyncStatus::parse(s).ok_or_else(|| {
                    service::Error::invalid(
                        "status",
                        "must be one of running, completed, failed, canceled",
                    )
                })
            })
            .transpose()?;
        let sync_type = given(&self.sync_type)
            .map(|s| {
                SyncType::parse(s).ok_or_else(|| {
                    service::Error::invalid("sync_type", "must be one of sqlite, graphdb")
                })
            })
            .transpose()?;
        let since = given(&self.since)
            .map(|t| parse_time(t, "since"))
            .transpose()?;
        let until = given(&self.until)
            .map(|t| parse_time(t, "until"))
            .transpose()?;
        Ok(HistoryFilter {
            tenant_id,
            status,
            sync_type,
            since,
            until,
        })
    }

    /// The validated page request.
    pub fn page(&self) -> Result<PageRequest<HistoryKey>, service::Error> {
        PageRequest::parse(self.limit, self.cursor.as_deref())
    }

    /// The filters as query pairs, to carry into the next page's link.
    pub fn pairs(&self) -> Vec<(&'static str, Option<String>)> {
        vec![
            ("tenant_id", self.tenant_id.clone()),
            ("status", self.status.clone()),
            ("sync_type", self.sync_type.clone()),
            ("since", self.since.clone()),
            ("until", self.until.clone()),
            ("limit", self.limit.map(|l| l.to_string())),
        ]
    }
}

/// The numeric id in a path; anything else names no sync.
pub fn sync_id(raw: &str) -> Result<i64, service::Error> {
    raw.parse()
        .ok()
        .filter(|id: &i64| *id > 0)
        .ok_or_else(|| service::Error::NotFound(format!("sync {raw}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_rfc3339_or_dates_and_normalised_to_utc() {
        assert_eq!(
            parse_time("2026-11-22T20:03:00+01:00", "since").unwrap(),
            parse_time("2026-11-22T19:03:00Z", "since").unwrap()
        );
        assert_eq!(
            parse_time("2026-11-22", "since").unwrap().to_rfc3339(),
            "2026-11-22T00:00:00+00:00"
        );
        assert!(parse_time("yesterday", "since").is_err());
        assert!(parse_time("2026-13-01", "since").is_err());
    }

    #[test]
    fn empty_filters_are_no_filters_and_bad_ones_are_named() {
        let q = HistoryQuery {
            status: Some(String::new()),
            ..HistoryQuery::default()
        };
        assert!(q.filter().unwrap().status.is_none());
        let q = HistoryQuery {
            status: Some("exploded".into()),
            ..HistoryQuery::default()
        };
        let Err(service::Error::Validation(e)) = q.filter() else {
            panic!("refused")
        };
        assert_eq!(e[0].field, "status");
    }
}
