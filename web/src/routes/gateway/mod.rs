//! Gateway area: MCP servers over JSON and their pages.

pub mod api;
pub mod bodies;
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
        api::approve, api::tools),
    tags((name = "gateway", description = "MCP servers: honest health checks and tool pinning")),
)]
pub struct ApiDoc;

/// Declares the gateway area's routes.
pub fn routes(r: &mut Router) {
    api::routes(r);
    // `/gateway/mcp-servers/new` is declared before `/gateway/mcp-servers/{id}`.
    list_page::routes(r);
    server_page::routes(r);
}
