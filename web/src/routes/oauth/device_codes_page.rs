//! The device-codes page: the most recent device authorization requests.

use actix_web::http::Method;
use actix_web::{HttpResponse, web};
use service::access::Permission;
use service::oauth::device;

use crate::auth::Access;
use crate::error::PageError;
use crate::pages::{Cell, PageContext, Table};
use crate::routes::form_input::when;
use crate::routes::router::Router;
use crate::routes::views::ListPage;
use crate::state::AppState;

async fn device_codes(
    ctx: PageContext,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let codes = device::recent(&state.db, 200).await?;
    let table = Table {
        columns: vec![
            "User code",
            "Client",
            "State",
            "User",
            "Scope",
            "Created",
            "Expires",
        ],
        rows: codes
            .into_iter()
            .map(|d| {
                let class = match d.state.as_str() {
                    "approved" | "consumed" => "badge ok",
                    "denied" | "expired" => "badge bad",
                    _ => "badge",
                };
                vec![
                    Cell {
                        class: "mono",
                        ..Cell::text(d.user_code)
                    },
                    Cell::link(d.client_name, format!("/oauth/clients/{}", d.client_id)),
                    Cell::badge(d.state, class),
                    Cell::text(d.username.unwrap_or_default()),
                    Cell::text(d.scope),
                    Cell::text(when(d.created_at)),
                    Cell::text(when(d.expires_at)),
                ]
            })
            .collect(),
        filters: vec![],
        action: "/oauth/device-codes".into(),
        next_url: None,
        sort_links: Vec::new(),
        empty: "No device has asked for access yet.",
    };
    ctx.render(&ListPage {
        layout: ctx.layout("Device codes"),
        table,
        actions: vec![("OAuth clients", "/oauth/clients".to_string())],
        note: Some("The 200 most recent device authorization requests, newest first.".into()),
    })
}
/// Declares the page.
pub fn routes(r: &mut Router) {
    let read = Access::Permission(Permission::OauthRead);
    r.page(Method::GET, "/oauth/device-codes", read, device_codes);
}
