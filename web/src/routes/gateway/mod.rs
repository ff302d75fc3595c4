//! Gateway area: MCP servers, upstream identity providers, AD group mappings and the shared
//! config, over JSON and as pages.

pub mod ad_mappings_api;
pub mod ad_mappings_page;
pub mod api;
pub mod bodies;
pub mod config_api;
pub mod config_bodies;
pub mod config_form;
pub mod config_pages;
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
        ad_mappings_api::delete, ad_mappings_api::simulate,
        config_api::list, config_api::get, config_api::put, config_api::delete),
    tags((name = "gateway", description = "MCP servers (honest health checks and tool pinning), identity providers, AD group mappings and the shared config")),
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
    config_api::routes(r);
    config_pages::routes(r);
}
