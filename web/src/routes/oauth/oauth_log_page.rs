//! The OAuth log page: the OAuth events, filtered by event, client, user and dates.

use actix_web::http::Method;
use actix_web::{HttpResponse, web};
use chrono::NaiveDate;
use serde::Deserialize;
use service::access::Permission;
use service::oauth::audit_log::LogSort;
use service::oauth::{audit_log, clients};
use service::pagination::{Page, PageRequest, Sort};
use uuid::Uuid;

use super::clients_api::log_filter;
use crate::auth::Access;
use crate::error::PageError;
use crate::pages::{Cell, FilterField, PageContext, PagerQuery, Table};
use crate::routes::form_input::when;
use crate::routes::forms::FieldErrors;
use crate::routes::router::Router;
use crate::routes::views::ListPage;
use crate::state::AppState;

/// The page's query. The dates are `since` and `until` as on the other lists, so that
/// `from` stays the pager's position.
#[derive(Debug, Deserialize)]
struct AuditQuery {
    event_type: Option<String>,
    client_id: Option<String>,
    user_id: Option<String>,
    since: Option<String>,
    until: Option<String>,
    sort: Option<String>,
    limit: Option<u64>,
    cursor: Option<String>,
}

/// The filters' own values: the event, the user's id and the two days; each bad value is an
/// error under its field.
struct Parsed {
    user_id: Option<Uuid>,
    since: Option<NaiveDate>,
    until: Option<NaiveDate>,
    sort: LogSort,
    page: PageRequest<i64>,
}

fn parse(query: &AuditQuery, at: &PagerQuery) -> Result<Parsed, service::Error> {
    let mut errors = FieldErrors::new();
    let user_id = match query
        .user_id
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty())
    {
        None => None,
        Some(u) => u.parse::<Uuid>().map_or_else(
            |_| {
                errors.add("user_id", "must be a user's id (a UUID)");
                None
            },
            Some,
        ),
    };
    let mut date = |field: &'static str, raw: &Option<String>| match raw
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty())
    {
        None => None,
        Some(d) => NaiveDate::parse_from_str(d, "%Y-%m-%d").map_or_else(
            |_| {
                errors.add(field, "must be a date (YYYY-MM-DD)");
                None
            },
            Some,
        ),
    };
    let since = date("since", &query.since);
    let until = date("until", &query.until);
    let page = PageRequest::parse_both(query.limit, query.cursor.as_deref(), at.before.as_deref())?;
    let sort = Sort::parse(query.sort.as_deref(), audit_log::NEWEST_EVENTS_FIRST)?;
    errors.or_value(Parsed {
        user_id,
        since,
        until,
        sort,
        page,
    })
}

async fn audit(
    ctx: PageContext,
    state: web::Data<AppState>,
    query: web::Query<AuditQuery>,
    at: web::Query<PagerQuery>,
) -> Result<HttpResponse, PageError> {
    let (found, request, refused) = match parse(&query, &at) {
        Ok(parsed) => {
            let filter = log_filter(
                &state,
                query.event_type.clone(),
                query.client_id.as_deref(),
                parsed.user_id,
                parsed.since,
                parsed.until,
            )
            .await?;
            let found = audit_log::list(&state.db, &filter, parsed.sort, &parsed.page).await?;
            (found, Some(parsed.page), None)
        }
        Err(e @ service::Error::Validation(_)) => (Page::empty(), None, Some(e)),
        Err(e) => return Err(e.into()),
    };
    let names = clients::names_by_id(&state.db).await?;
    let events: Vec<(&str, &str)> = audit_log::EVENTS.iter().map(|e| (*e, *e)).collect();
    let mut table = Table {
        columns: vec![
            "When", "Event", "Client", "User", "Subject", "By", "Details",
        ],
        rows: found
            .items
            .iter()
            .map(|r| {
                let client = r.client_id.and_then(|id| names.get(&id).cloned());
                vec![
                    Cell::time(when(r.created_at)),
                    Cell::mono(&r.event_type),
                    match client {
                        Some((ident, name)) => Cell::link(name, format!("/oauth/clients/{ident}")),
                        None => {
                            Cell::short(r.client_id.map(|c| c.to_string()).unwrap_or_default(), 13)
                        }
                    },
                    Cell::short(r.user_id.map(|u| u.to_string()).unwrap_or_default(), 13),
                    Cell::short(r.subject.clone().unwrap_or_default(), 24),
                    Cell::short(r.created_by.clone().unwrap_or_default(), 24),
                    Cell::short(
                        r.metadata
                            .as_ref()
                            .map(|m| m.to_string())
                            .unwrap_or_default(),
                        60,
                    ),
                ]
            })
            .collect(),
        filters: vec![
            FilterField::select("event_type", "Event", &query.event_type, &events),
            FilterField::text("client_id", "Client id", &query.client_id),
            FilterField::text("user_id", "User id", &query.user_id),
            FilterField::date("since", "From", &query.since),
            FilterField::date("until", "To (included)", &query.until),
        ],
        action: "/oauth/audit".into(),
        empty: "No OAuth event matches these filters.",
        ..Table::default()
    };
    let sort = Sort::parse(query.sort.as_deref(), audit_log::NEWEST_EVENTS_FIRST)
        .unwrap_or(audit_log::NEWEST_EVENTS_FIRST);
    let kept = [
        ("event_type", query.event_type.clone()),
        ("client_id", query.client_id.clone()),
        ("user_id", query.user_id.clone()),
        ("since", query.since.clone()),
        ("until", query.until.clone()),
        ("limit", query.limit.map(|l| l.to_string())),
    ];
    table = table.sortable("/oauth/audit", &kept, &[(0, "time")], &sort.param());
    if let Some(request) = &request {
        let mut paged = kept.to_vec();
        paged.push(("sort", Some(sort.param())));
        table = table.paginate("/oauth/audit", &paged, &at, request, &found);
    }
    if let Some(err) = &refused {
        table = table.refused(err);
    }
    ctx.render_status(
        table.status(),
        &ListPage {
            layout: ctx.layout("OAuth log"),
            table,
            actions: vec![("OAuth clients", "/oauth/clients".to_string())],
            note: None,
        },
    )
}

/// Declares the page.
pub fn routes(r: &mut Router) {
    let read = Access::Permission(Permission::OauthRead);
    r.page(Method::GET, "/oauth/audit", read, audit);
}
