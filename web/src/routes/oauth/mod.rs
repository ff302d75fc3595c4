//! OAuth area: the authorization server's protocol endpoints, the consent and device pages,
//! and client administration (pages and JSON).

pub mod authorize;
pub mod client_pages;
pub mod clients_api;
mod consent;
pub mod device_page;
pub mod protocol;

use utoipa::OpenApi;

use crate::routes::Router;

/// The OAuth area's part of the API description (the JSON administration routes).
#[derive(OpenApi)]
#[openapi(
    paths(clients_api::list, clients_api::create, clients_api::show, clients_api::update,
        clients_api::delete, clients_api::rotate_secret, clients_api::tokens,
        clients_api::revoke_token, clients_api::audit),
    components(schemas(clients_api::CreateClient, clients_api::UpdateClient,
        clients_api::CreatedClient, clients_api::RotatedSecret, clients_api::ClientPage,
        clients_api::TokenList, clients_api::OAuthAuditPage,
        service::oauth::clients::ClientView, service::oauth::clients::TokenView,
        service::oauth::audit_log::LogRecord)),
    tags((name = "oauth", description = "OAuth clients, their tokens and the OAuth log")),
)]
pub struct ApiDoc;

/// Declares the OAuth area's routes.
pub fn routes(r: &mut Router) {
    protocol::routes(r);
    authorize::routes(r);
    device_page::routes(r);
    client_pages::routes(r);
    clients_api::routes(r);
}
