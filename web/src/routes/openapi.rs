//! `GET /api/openapi.json`: the OpenAPI 3.1 document, generated from the handlers' annotations.

use std::sync::OnceLock;

use actix_web::HttpResponse;
use actix_web::http::Method;
use utoipa::OpenApi;

use super::router::Router;
use crate::auth::Access;
use crate::error::{ErrorBody, ErrorDetail};

/// The API description. Each area adds its paths here as it lands.
#[derive(OpenApi)]
#[openapi(
    info(title = "Metadeck", description = "Operational metadata: access, sync, registry, webhooks, OAuth, orchestration, gateway."),
    paths(
        crate::routes::health::healthz,
        openapi_json,
        crate::routes::audit::list_api,
        crate::routes::users_api::list,
        crate::routes::users_api::create,
    ),
    components(schemas(ErrorBody, crate::routes::health::HealthDetails, ErrorDetail, service::FieldError, crate::routes::audit::AuditPage, service::audit::AuditRecord,
        crate::routes::users_api::UserJson, crate::routes::users_api::UserPage,
        crate::routes::users_api::CreateUser, crate::routes::users_api::CreatedUser)),
    tags((name = "system", description = "Health and the API description"), (name = "audit", description = "The admin audit trail"), (name = "access", description = "Admin users")),
)]
pub struct ApiDoc;

/// The document, built once.
pub fn document() -> &'static str {
    static DOC: OnceLock<String> = OnceLock::new();
    DOC.get_or_init(|| ApiDoc::openapi().to_json().unwrap_or_else(|_| "{}".into()))
}

/// Serves the OpenAPI document.
#[utoipa::path(get, path = "/api/openapi.json", tag = "system",
    responses((status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json")))]
pub async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(document())
}

/// Registers the route.
pub fn routes(r: &mut Router) {
    r.api(
        Method::GET,
        "/api/openapi.json",
        Access::Public,
        openapi_json,
    );
}
