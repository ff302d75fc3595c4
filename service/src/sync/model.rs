//! The sync vocabulary: validated inputs (tenant id, type, status) and the record as the
//! JSON API, the webhook events and the pages see it.

use chrono::{DateTime, SubsecRound, Utc};
use entity::sync_history;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{Error, Result};

/// Longest tenant id accepted (the seed's ids are short slugs).
pub const TENANT_ID_MAX: usize = 128;
/// Longest `process_id` accepted.
pub const PROCESS_ID_MAX: usize = 256;
/// Longest `error_details` accepted (a stack trace fits; a log file does not).
pub const ERROR_DETAILS_MAX: usize = 64 * 1024;

/// A tenant id: 1–128 characters, no control characters, no surrounding blanks.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TenantId(String);

impl TenantId {
    /// Checks a tenant id as a caller sent it (`field` names it in the error).
    pub fn parse(raw: &str, field: &str) -> Result<Self> {
        if raw.is_empty() || raw.chars().count() > TENANT_ID_MAX {
            return Err(Error::invalid(
                field,
                format!("must be 1 to {TENANT_ID_MAX} characters long"),
            ));
        }
        if raw.trim() != raw || raw.chars().any(char::is_control) {
            return Err(Error::invalid(
                field,
                "must not contain control characters or start or end with a blank",
            ));
        }
        Ok(Self(raw.to_string()))
    }

    /// The id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Where a sync writes: the seed's two modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SyncType {
    Sqlite,
    Graphdb,
}

impl SyncType {
    /// Every type, as filters list them.
    pub const ALL: [SyncType; 2] = [SyncType::Sqlite, SyncType::Graphdb];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Graphdb => "graphdb",
        }
    }

    /// Parses a stored or queried name.
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == raw)
    }
}

/// Where a sync is in its life: `running`, then one terminal status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SyncStatus {
    Running,
    Completed,
    Failed,
    Canceled,
}

impl SyncStatus {
    /// Every status, as filters list them.
    pub const ALL: [SyncStatus; 4] = [
        SyncStatus::Running,
        SyncStatus::Completed,
        SyncStatus::Failed,
        SyncStatus::Canceled,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Completed => "completed",
            Self::Failed => "failed",
            Self::Canceled => "canceled",
        }
    }

    /// Parses a stored or queried name.
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw)
    }

    /// A terminal sync never changes again.
    pub fn is_terminal(self) -> bool {
        self != Self::Running
    }
}

/// One sync with every column of `sync_history`, times in UTC.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct SyncRecord {
    pub id: i64,
    pub tenant_id: String,
    /// `sqlite` or `graphdb`.
    pub sync_type: String,
    /// `running`, `completed`, `failed` or `canceled`.
    pub status: String,
    pub start_time: DateTime<Utc>,
    pub end_time: Option<DateTime<Utc>>,
    /// Null while running; true only for `completed`.
    pub success: Option<bool>,
    pub error_details: Option<String>,
    pub users_count: i64,
    pub groups_count: i64,
    pub apps_count: i64,
    pub policies_count: i64,
    pub devices_count: i64,
    /// 0–100, never decreasing.
    pub progress_percentage: i64,
    pub process_id: Option<String>,
    /// Only for `graphdb` syncs.
    pub graphdb_version: Option<i64>,
    /// Only for `graphdb` syncs.
    pub graphdb_promoted: Option<bool>,
    /// The last change; a running sync without one for too long is stale.
    pub updated_at: DateTime<Utc>,
    /// `user:<username>` or `client:<client_id>` (or `system`).
    pub created_by: Option<String>,
}

impl SyncRecord {
    /// The parsed status (an unknown stored value, impossible under the CHECK constraint,
    /// reads as failed).
    pub fn status(&self) -> SyncStatus {
        SyncStatus::parse(&self.status).unwrap_or(SyncStatus::Failed)
    }

    /// How long the sync ran, or has been running at `now`.
    pub fn elapsed(&self, now: DateTime<Utc>) -> chrono::Duration {
        (self.end_time.unwrap_or(now) - self.start_time).max(chrono::Duration::zero())
    }
}

impl From<sync_history::Model> for SyncRecord {
    fn from(m: sync_history::Model) -> Self {
        Self {
            id: m.id,
            tenant_id: m.tenant_id,
            sync_type: m.sync_type,
            status: m.status,
            start_time: m.start_time.to_utc(),
            end_time: m.end_time.map(|t| t.to_utc()),
            success: m.success,
            error_details: m.error_details,
            users_count: m.users_count,
            groups_count: m.groups_count,
            apps_count: m.apps_count,
            policies_count: m.policies_count,
            devices_count: m.devices_count,
            progress_percentage: m.progress_percentage,
            process_id: m.process_id,
            graphdb_version: m.graphdb_version,
            graphdb_promoted: m.graphdb_promoted,
            updated_at: m.updated_at.to_utc(),
            created_by: m.created_by,
        }
    }
}

/// The five entity counts, as the seed's frontend reads them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct EntityCounts {
    pub users: i64,
    pub groups: i64,
    pub apps: i64,
    pub policies: i64,
    pub devices: i64,
}

impl From<&SyncRecord> for EntityCounts {
    fn from(s: &SyncRecord) -> Self {
        Self {
            users: s.users_count,
            groups: s.groups_count,
            apps: s.apps_count,
            policies: s.policies_count,
            devices: s.devices_count,
        }
    }
}

/// Now, in the precision every backend stores (microseconds), so a value written and read
/// back compares equal.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenant_ids_are_bounded_and_printable() {
        assert!(TenantId::parse("acme", "tenant_id").is_ok());
        assert!(TenantId::parse("", "tenant_id").is_err());
        assert!(TenantId::parse(" acme", "tenant_id").is_err());
        assert!(TenantId::parse("ac\nme", "tenant_id").is_err());
        assert!(TenantId::parse(&"a".repeat(129), "tenant_id").is_err());
        assert!(TenantId::parse("<script>'; DROP TABLE x;--", "tenant_id").is_ok());
    }

    #[test]
    fn names_round_trip() {
        for s in SyncStatus::ALL {
            assert_eq!(SyncStatus::parse(s.as_str()), Some(s));
        }
        for t in SyncType::ALL {
            assert_eq!(SyncType::parse(t.as_str()), Some(t));
        }
        assert_eq!(SyncStatus::parse("never"), None);
        assert!(!SyncStatus::Running.is_terminal());
        assert!(SyncStatus::Canceled.is_terminal());
    }
}
