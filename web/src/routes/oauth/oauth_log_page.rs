//! The OAuth log page: the OAuth events, filtered by event, client, user and dates.

use actix_web::http::Method;
use actix_web::{HttpResponse, web};
use chrono::NaiveDate;
use serde::Deserialize;
use service::access::Permission;
use service::oauth::{audit_log, clients};
use service::pagination::PageRequest;
use uuid::Uuid;

use super::bad_request;
use super::clients_api::log_filter;
use crate::auth::Access;
use crate::error::PageError;
use crate::pages::{Cell, Choice, FilterField, PageContext, Table};
use crate::routes::form_input::when;
use crate::routes::router::Router;
use crate::routes::views::ListPage;
use crate::state::AppState;

#[derive(Debug, Deserialize)]
struct AuditQuery {
    event_type: Option<String>,
    client_id: Option<String>,
    user_id: Option<String>,
    from: Option<String>,
    to: Option<String>,
    limit: Option<u64>,
    cursor: Option<String>,
}

fn date(raw: &Option<String>, name: &str) -> Result<Option<NaiveDate>, PageError> {
    match raw.as_deref().filter(|d| !d.is_empty()) {
        None => Ok(None),
        Some(d) => NaiveDate::parse_from_str(d, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| bad_request(format!("The {name} date must be YYYY-MM-DD."))),
    }
}

async fn audit(
    ctx: PageContext,
    state: web::Data<AppState>,
    query: web::Query<AuditQuery>,
) -> Result<HttpResponse, PageError> {
    let page = PageRequest::parse(query.limit, query.cursor.as_deref())
        .map_err(|e| bad_request(e.to_string()))?;
    let user_id = match query.user_id.as_deref().filter(|u| !u.is_empty()) {
        None => None,
        Some(u) => Some(
            u.parse::<Uuid>()
                .map_err(|_| bad_request("The user filter is an id."))?,
        ),
    };
    let filter = log_filter(
        &state,
        query.event_type.clone(),
        query.client_id.as_deref(),
        user_id,
        date(&query.from, "from")?,
        date(&query.to, "to")?,
    )
    .await?;
    let found = audit_log::list(&state.db, &filter, &page).await?;
    let names = clients::names_by_id(&state.db).await?;
    let value = |v: &Option<String>| v.clone().unwrap_or_default();
    let events: Vec<Choice> = audit_log::EVENTS
        .iter()
        .map(|e| Choice {
            value: e.to_string(),
            label: e.to_string(),
            checked: query.event_type.as_deref() == Some(e),
        })
        .collect();
    let table = Table {
        columns: vec![
            "When", "Event", "Client", "User", "Subject", "By", "Details",
        ],
        rows: found
            .items
            .iter()
            .map(|r| {
                let client = r.client_id.and_then(|id| names.get(&id).cloned());
                vec![
                    Cell::text(when(r.created_at)),
                    Cell::text(&r.event_type),
                    match client {
                        Some((ident, name)) => Cell::link(name, format!("/oauth/clients/{ident}")),
                        None => Cell::text(r.client_id.map(|c| c.to_string()).unwrap_or_default()),
                    },
                    Cell::text(r.user_id.map(|u| u.to_string()).unwrap_or_default()),
                    Cell {
                        class: "mono",
                        ..Cell::text(r.subject.clone().unwrap_or_default())
                    },
                    Cell::text(r.created_by.clone().unwrap_or_default()),
                    Cell::text(
                        r.metadata
                            .as_ref()
                            .map(|m| m.to_string())
                            .unwrap_or_default(),
                    ),
                ]
            })
            .collect(),
        filters: vec![
            FilterField {
                name: "event_type",
                label: "Event",
                value: value(&query.event_type),
                options: events,
            },
            FilterField {
                name: "client_id",
                label: "Client id",
                value: value(&query.client_id),
                options: vec![],
            },
            FilterField {
                name: "user_id",
                label: "User id",
                value: value(&query.user_id),
                options: vec![],
            },
            FilterField {
                name: "from",
                label: "From (YYYY-MM-DD)",
                value: value(&query.from),
                options: vec![],
            },
            FilterField {
                name: "to",
                label: "To (YYYY-MM-DD)",
                value: value(&query.to),
                options: vec![],
            },
        ],
        action: "/oauth/audit".into(),
        next_url: None,
        sort_links: Vec::new(),
        empty: "No OAuth event matches these filters.",
    }
    .paginate(
        "/oauth/audit",
        &[
            ("event_type", query.event_type.clone()),
            ("client_id", query.client_id.clone()),
            ("user_id", query.user_id.clone()),
            ("from", query.from.clone()),
            ("to", query.to.clone()),
        ],
        found.next_cursor,
    );
    ctx.render(&ListPage {
        layout: ctx.layout("OAuth log"),
        table,
        actions: vec![("OAuth clients", "/oauth/clients".to_string())],
        note: None,
    })
}

/// Declares the page.
pub fn routes(r: &mut Router) {
    let read = Access::Permission(Permission::OauthRead);
    r.page(Method::GET, "/oauth/audit", read, audit);
}
