//! Gateway area: MCP servers, upstream identity providers and AD group mappings, over JSON
//! and as pages.

pub mod ad_mappings_api;
pub mod ad_mappings_page;
pub mod api;
pub mod bodies;
pub mod form;
pub mod list_page;
pub mod provider_form;
pub mod providers_api;
pub mod providers_page;
pub mod server_page;

use utoipa::OpenApi;

use crate::routes::Router;

/// The gateway area's part of the API description (`tests/e2e/openapi.rs` checks that no
/// JSON route is missing from it).
#[derive(OpenApi)]
#[openapi(
    paths(api::list, api::create, api::get, api::replace, api::delete, api::check,
        api::approve, api::tools,
        providers_api::list, providers_api::create, providers_api::get, providers_api::replace,
        providers_api::delete, providers_api::test,
        ad_mappings_api::list, ad_mappings_api::create, ad_mappings_api::get,
        ad_mappings_api::delete, ad_mappings_api::simulate),
    tags((name = "gateway", description = "MCP servers (honest health checks and tool pinning), identity providers and AD group mappings")),
)]
pub struct ApiDoc;

/// Declares the gateway area's routes.
pub fn routes(r: &mut Router) {
    api::routes(r);
    providers_api::routes(r);
    ad_mappings_api::routes(r);
    // `/gateway/mcp-servers/new` is declared before `/gateway/mcp-servers/{id}`.
    list_page::routes(r);
    server_page::routes(r);
    providers_page::routes(r);
    ad_mappings_page::routes(r);
}
