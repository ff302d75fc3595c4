//! The admin audit trail: `/audit` and `GET /api/audit`.

use std::collections::HashMap;

use actix_web::http::Method;
use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use service::access::Permission;
use service::audit::{self, AuditFilter, AuditRecord, AuditSort, NEWEST_FIRST};
use service::pagination::{Page, PageRequest, Sort};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Access;
use crate::error::{ApiError, PageError};
use crate::pages::{Cell, FilterField, Layout, ListRow, PageContext, PagerQuery, Row, Table, rows};
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
    /// `time` (the default, `-time`: newest first), `actor` or `action`; a leading `-`
    /// reverses it.
    pub sort: Option<String>,
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
    let sort = Sort::parse(query.sort.as_deref(), NEWEST_FIRST).map_err(ApiError::bad_query)?;
    let page =
        PageRequest::parse(query.limit, query.cursor.as_deref()).map_err(ApiError::bad_query)?;
    let page = audit::list(&state.db, &filter, sort, &page).await?;
    Ok(HttpResponse::Ok().json(AuditPage {
        items: page.items,
        next_cursor: page.next_cursor,
    }))
}

/// Where an actor links: a client to its page, a user to theirs (its id from `users`, the
/// page's user actors resolved at once); `cli`, `system` and deleted users nowhere.
fn actor_href(actor: &str, users: &HashMap<String, i64>) -> Option<String> {
    if let Some(client) = actor.strip_prefix("client:") {
        let encoded = serde_urlencoded::to_string([("", client)])
            .map(|q| q.trim_start_matches('=').to_string())
            .unwrap_or_default();
        return Some(format!("/oauth/clients/{encoded}"));
    }
    actor
        .strip_prefix("user:")
        .and_then(|user| users.get(user))
        .map(|id| format!("/admin/users/{id}"))
}

/// A row of the trail in the audit list: the time on one line, the actor a link to what it
/// names, long values shortened with the full value on hover.
impl ListRow<HashMap<String, i64>> for AuditRecord {
    fn row(&self, users: &HashMap<String, i64>) -> Row {
        let r = self;
        let actor = Cell::short(&r.actor, 28);
        vec![
            Cell::time(r.timestamp.format("%Y-%m-%d %H:%M:%S UTC").to_string()),
            match actor_href(&r.actor, users) {
                Some(href) => actor.linked(href),
                None => actor,
            },
            Cell::mono(&r.action),
            Cell::short(r.target_id.clone().unwrap_or_default(), 24),
            Cell::short(
                r.details
                    .as_ref()
                    .map(|d| d.to_string())
                    .unwrap_or_default(),
                60,
            ),
            Cell::short(r.ip_address.clone().unwrap_or_default(), 39),
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
    at: web::Query<PagerQuery>,
) -> Result<HttpResponse, PageError> {
    let parsed = Sort::parse(query.sort.as_deref(), NEWEST_FIRST).and_then(|sort| {
        let f = filter(&query)?;
        let page =
            PageRequest::parse_both(query.limit, query.cursor.as_deref(), at.before.as_deref())?;
        Ok((f, sort, page))
    });
    let (page, request, refused) = match parsed {
        Ok((filter, sort, request)) => (
            audit::list(&state.db, &filter, sort, &request).await?,
            Some(request),
            None,
        ),
        Err(e @ service::Error::Validation(_)) => (Page::empty(), None, Some(e)),
        Err(e) => return Err(e.into()),
    };
    let users = audit::actor_user_ids(&state.db, &page.items).await?;
    let chain = audit::verify_chain(&state.db).await?;
    let filters = [
        ("actor", query.actor.clone()),
        ("action", query.action.clone()),
        ("target_id", query.target_id.clone()),
        ("since", query.since.clone()),
        ("until", query.until.clone()),
        ("limit", query.limit.map(|l| l.to_string())),
    ];
    let current: AuditSort =
        Sort::parse(query.sort.as_deref(), NEWEST_FIRST).unwrap_or(NEWEST_FIRST);
    let mut paged = filters.to_vec();
    paged.push(("sort", Some(current.param())));
    let mut table = Table {
        columns: vec!["Time", "Actor", "Action", "Target", "Details", "IP"],
        rows: rows(&page.items, &users),
        filters: vec![
            FilterField::text("actor", "Actor", &query.actor),
            FilterField::text("action", "Action starts with", &query.action),
            FilterField::text("target_id", "Target", &query.target_id),
            FilterField::date("since", "Since", &query.since),
            FilterField::date("until", "Until", &query.until),
        ],
        action: "/audit".into(),
        empty: "No audit rows match these filters.",
        ..Table::default()
    }
    .sortable(
        "/audit",
        &filters,
        &[(0, "time"), (1, "actor"), (2, "action")],
        &current.param(),
    );
    if let Some(request) = &request {
        table = table.paginate("/audit", &paged, &at, request, &page);
    }
    if let Some(err) = &refused {
        table = table.refused(err);
    }
    let (chain, chain_ok) = match chain.problem() {
        Some(problem) => (format!("Hash chain {problem}."), false),
        None => (
            format!("Hash chain intact ({} rows checked).", chain.rows_checked),
            true,
        ),
    };
    ctx.render_status(
        table.status(),
        &AuditListPage {
            layout: ctx.layout("Audit trail"),
            table,
            chain,
            chain_ok,
        },
    )
}

/// Registers the audit routes.
pub fn routes(r: &mut Router) {
    let read = Access::Permission(Permission::AuditRead);
    r.page(Method::GET, "/audit", read, list_page)
        .api(Method::GET, "/api/audit", read, list_api);
}
