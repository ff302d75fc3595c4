//! Gateway area: MCP servers and the shared config, over JSON and as pages.

pub mod api;
pub mod bodies;
pub mod config_api;
pub mod config_bodies;
pub mod config_form;
pub mod config_pages;
pub mod form;
pub mod list_page;
pub mod server_page;

use utoipa::OpenApi;

use crate::routes::Router;

/// The gateway area's part of the API description (`tests/e2e/openapi.rs` checks that no
/// JSON route is missing from it).
#[derive(OpenApi)]
#[openapi(
    paths(api::list, api::create, api::get, api::replace, api::delete, api::check,
        api::approve, api::tools, config_api::list, config_api::get, config_api::put,
        config_api::delete),
    tags((name = "gateway", description = "MCP servers (honest health checks, tool pinning) and the shared config")),
)]
pub struct ApiDoc;

/// Declares the gateway area's routes.
pub fn routes(r: &mut Router) {
    api::routes(r);
    // `/gateway/mcp-servers/new` is declared before `/gateway/mcp-servers/{id}`.
    list_page::routes(r);
    server_page::routes(r);
    config_api::routes(r);
    config_pages::routes(r);
}
