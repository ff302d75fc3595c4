//! The device-codes page: the most recent device authorization requests.

use actix_web::http::Method;
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use service::access::Permission;
use service::oauth::device;
use service::pagination::{Page, PageRequest, Sort};

use crate::auth::Access;
use crate::error::PageError;
use crate::pages::{Cell, PageContext, PagerQuery, Table};
use crate::routes::form_input::when;
use crate::routes::router::Router;
use crate::routes::views::ListPage;
use crate::state::AppState;

#[derive(Debug, Deserialize)]
struct PageQuery {
    sort: Option<String>,
    limit: Option<u64>,
    cursor: Option<String>,
}

async fn device_codes(
    ctx: PageContext,
    state: web::Data<AppState>,
    query: web::Query<PageQuery>,
    at: web::Query<PagerQuery>,
) -> Result<HttpResponse, PageError> {
    let parsed = Sort::parse(query.sort.as_deref(), device::NEWEST_CODES_FIRST).and_then(|sort| {
        let page =
            PageRequest::parse_both(query.limit, query.cursor.as_deref(), at.before.as_deref())?;
        Ok((sort, page))
    });
    let (found, request, refused) = match parsed {
        Ok((sort, request)) => (
            device::list(&state.db, sort, &request).await?,
            Some(request),
            None,
        ),
        Err(e @ service::Error::Validation(_)) => (Page::empty(), None, Some(e)),
        Err(e) => return Err(e.into()),
    };
    let sort = Sort::parse(query.sort.as_deref(), device::NEWEST_CODES_FIRST)
        .unwrap_or(device::NEWEST_CODES_FIRST);
    let mut table = Table {
        columns: vec![
            "User code",
            "Client",
            "State",
            "User",
            "Scope",
            "Created",
            "Expires",
        ],
        rows: found
            .items
            .iter()
            .map(|d| {
                let class = match d.state.as_str() {
                    "approved" | "consumed" => "badge ok",
                    "denied" | "expired" => "badge bad",
                    _ => "badge",
                };
                vec![
                    Cell::mono(&d.user_code),
                    Cell::link(&d.client_name, format!("/oauth/clients/{}", d.client_id)),
                    Cell::badge(&d.state, class),
                    Cell::text(d.username.clone().unwrap_or_default()),
                    Cell::short(&d.scope, 40),
                    Cell::time(when(d.created_at)),
                    Cell::time(when(d.expires_at)),
                ]
            })
            .collect(),
        action: "/oauth/device-codes".into(),
        empty: "No device has asked for access yet. Devices ask through the device authorization endpoint with a client that may use the device grant.",
        ..Table::default()
    };
    let kept = [("limit", query.limit.map(|l| l.to_string()))];
    table = table.sortable(
        "/oauth/device-codes",
        &kept,
        &[(5, "created"), (6, "expires")],
        &sort.param(),
    );
    if let Some(request) = &request {
        let mut paged = kept.to_vec();
        paged.push(("sort", Some(sort.param())));
        table = table.paginate("/oauth/device-codes", &paged, &at, request, &found);
    }
    if let Some(err) = &refused {
        table = table.refused(err);
    }
    ctx.render_status(
        table.status(),
        &ListPage {
            layout: ctx.layout("Device codes"),
            table,
            actions: vec![("OAuth clients", "/oauth/clients".to_string())],
            note: Some(
                "Device authorization requests; a column header with an arrow sorts by it.".into(),
            ),
        },
    )
}

/// Declares the page.
pub fn routes(r: &mut Router) {
    let read = Access::Permission(Permission::OauthRead);
    r.page(Method::GET, "/oauth/device-codes", read, device_codes);
}
