//! The admin audit trail: `/audit` and `GET /api/audit`.

use actix_web::http::Method;
use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use service::access::Permission;
use service::audit::{self, AuditFilter, AuditRecord};
use service::pagination::PageRequest;
use utoipa::{IntoParams, ToSchema};

use crate::auth::Access;
use crate::error::{ApiError, PageError};
use crate::pages::{
    BeforeQuery, Cell, FilterField, Layout, ListRow, PageContext, Row, Table, rows,
};
use crate::routes::api_errors::{QueryErrors, ReadErrors};
use crate::routes::router::Router;
use crate::state::AppState;

/// Query of the audit list.
#[derive(Debug, Default, Deserialize, IntoParams)]
pub struct AuditQuery {
    /// Exact actor, e.g. `user:alice`, `client:orchestrator`, `cli`, `system`.
    pub actor: Option<String>,
    /// Action prefix, e.g. `login.` or `user.created`.
    pub action: Option<String>,
    pub target_id: Option<String>,
    /// Inclusive; RFC 3339 or a date (`2026-11-22`).
    pub since: Option<String>,
    /// Exclusive; RFC 3339 or a date.
    pub until: Option<String>,
    /// 1–500, default 50.
    pub limit: Option<u64>,
    pub cursor: Option<String>,
}

/// A page of audit rows.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPage {
    pub items: Vec<AuditRecord>,
    pub next_cursor: Option<String>,
}

/// Parses a date filter: RFC 3339 with any offset, or a plain date at 00:00 UTC.
pub fn parse_time(
    field: &str,
    value: Option<&str>,
) -> Result<Option<DateTime<Utc>>, service::Error> {
    let Some(v) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if let Ok(t) = DateTime::parse_from_rfc3339(v) {
        return Ok(Some(t.to_utc()));
    }
    NaiveDate::parse_from_str(v, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| Some(t.and_utc()))
        .ok_or_else(|| {
            service::Error::invalid(field, "must be an RFC 3339 time or a date (YYYY-MM-DD)")
        })
}

fn filter(q: &AuditQuery) -> Result<AuditFilter, service::Error> {
    let text = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    Ok(AuditFilter {
        actor: text(&q.actor),
        action_prefix: text(&q.action),
        target_id: text(&q.target_id),
        since: parse_time("since", q.since.as_deref())?,
        until: parse_time("until", q.until.as_deref())?,
    })
}

/// Lists the audit trail, newest first.
#[utoipa::path(get, path = "/api/audit", tag = "audit", params(AuditQuery),
    responses(
        (status = 200, description = "A page of audit rows", body = AuditPage),
        ReadErrors, QueryErrors,
    ))]
pub async fn list_api(
    state: web::Data<AppState>,
    query: web::Query<AuditQuery>,
) -> Result<HttpResponse, ApiError> {
    let filter = filter(&query).map_err(ApiError::bad_query)?;
    let page =
        PageRequest::parse(query.limit, query.cursor.as_deref()).map_err(ApiError::bad_query)?;
    let page = audit::list(&state.db, &filter, &page).await?;
    Ok(HttpResponse::Ok().json(AuditPage {
        items: page.items,
        next_cursor: page.next_cursor,
    }))
}

/// A row of the trail in the audit list.
impl ListRow for AuditRecord {
    fn row(&self, _: &()) -> Row {
        let r = self;
        vec![
            Cell::text(r.timestamp.format("%Y-%m-%d %H:%M:%S UTC").to_string()),
            Cell::text(&r.actor),
            Cell {
                text: r.action.clone(),
                href: None,
                class: "mono",
            },
            Cell::text(r.target_id.clone().unwrap_or_default()),
            Cell {
                text: r
                    .details
                    .as_ref()
                    .map(|d| d.to_string())
                    .unwrap_or_default(),
                href: None,
                class: "mono",
            },
            Cell::text(r.ip_address.clone().unwrap_or_default()),
        ]
    }
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditListPage {
    layout: Layout,
    table: Table,
    chain: String,
    chain_ok: bool,
}

async fn list_page(
    ctx: PageContext,
    state: web::Data<AppState>,
    query: web::Query<AuditQuery>,
    before: web::Query<BeforeQuery>,
) -> Result<HttpResponse, PageError> {
    let parsed = filter(&query).and_then(|f| {
        let page = PageRequest::parse_both(
            query.limit,
            query.cursor.as_deref(),
            before.before.as_deref(),
        )?;
        Ok((f, page))
    });
    let (filter, page_request) = parsed
        .map_err(|e| PageError::new(actix_web::http::StatusCode::BAD_REQUEST, e.to_string()))?;
    let page = audit::list(&state.db, &filter, &page_request).await?;
    let chain = audit::verify_chain(&state.db).await?;
    let rows = rows(&page.items, &());
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let table = Table {
        columns: vec!["Time", "Actor", "Action", "Target", "Details", "IP"],
        rows,
        filters: vec![
            FilterField {
                name: "actor",
                label: "Actor",
                value: text(&query.actor),
                options: vec![],
            },
            FilterField {
                name: "action",
                label: "Action starts with",
                value: text(&query.action),
                options: vec![],
            },
            FilterField {
                name: "target_id",
                label: "Target",
                value: text(&query.target_id),
                options: vec![],
            },
            FilterField {
                name: "since",
                label: "Since",
                value: text(&query.since),
                options: vec![],
            },
            FilterField {
                name: "until",
                label: "Until",
                value: text(&query.until),
                options: vec![],
            },
        ],
        action: "/audit".into(),
        next_url: None,
        sort_links: Vec::new(),
        empty: "No audit rows match these filters.",
    }
    .paginate_both(
        "/audit",
        &[
            ("actor", query.actor.clone()),
            ("action", query.action.clone()),
            ("target_id", query.target_id.clone()),
            ("since", query.since.clone()),
            ("until", query.until.clone()),
            ("limit", query.limit.map(|l| l.to_string())),
        ],
        page.prev_cursor,
        page.next_cursor,
    );
    let (chain, chain_ok) = match chain.problem() {
        Some(problem) => (format!("Hash chain {problem}."), false),
        None => (
            format!("Hash chain intact ({} rows checked).", chain.rows_checked),
            true,
        ),
    };
    ctx.render(&AuditListPage {
        layout: ctx.layout("Audit trail"),
        table,
        chain,
        chain_ok,
    })
}

/// Registers the audit routes.
pub fn routes(r: &mut Router) {
    let read = Access::Permission(Permission::AuditRead);
    r.page(Method::GET, "/audit", read, list_page)
        .api(Method::GET, "/api/audit", read, list_api);
}
