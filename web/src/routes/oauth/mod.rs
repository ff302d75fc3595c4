//! OAuth area: the authorization server's protocol endpoints, the consent and device pages,
//! and client administration (pages and JSON).

pub mod authorize;
pub mod client_pages;
pub mod clients_api;
mod consent;
pub mod device_codes_page;
pub mod device_page;
pub mod oauth_log_page;
pub mod protocol;

use utoipa::OpenApi;

use crate::routes::Router;

/// The OAuth area's part of the API description (the JSON administration routes).
/// It names the handler of each of the area's JSON routes (the schemas they use follow from
/// them); `tests/e2e/openapi.rs` checks that none is missing.
#[derive(OpenApi)]
#[openapi(
    paths(clients_api::list, clients_api::create, clients_api::show, clients_api::update,
        clients_api::delete, clients_api::rotate_secret, clients_api::tokens,
        clients_api::revoke_token, clients_api::audit),
    tags((name = "oauth", description = "OAuth clients, their tokens and the OAuth log")),
)]
pub struct ApiDoc;

/// Declares the OAuth area's routes.
pub fn routes(r: &mut Router) {
    protocol::routes(r);
    authorize::routes(r);
    device_page::routes(r);
    client_pages::routes(r);
    device_codes_page::routes(r);
    oauth_log_page::routes(r);
    clients_api::routes(r);
}
