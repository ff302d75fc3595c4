//! `GET /api/openapi.json`: the OpenAPI 3.1 document, generated from the handlers' annotations.

use std::sync::OnceLock;

use actix_web::HttpResponse;
use actix_web::http::Method;
use utoipa::OpenApi;

use super::router::Router;
use crate::auth::Access;
use crate::error::{ErrorBody, ErrorDetail};

/// The system part of the API description; each area contributes its own `ApiDoc`,
/// merged in [`document`].
#[derive(OpenApi)]
#[openapi(
    info(title = "Metadeck", description = "Operational metadata: access, sync, registry, webhooks, OAuth, orchestration, gateway."),
    paths(crate::routes::health::healthz, openapi_json),
    components(schemas(ErrorBody, ErrorDetail, service::FieldError, crate::routes::health::HealthDetails)),
    tags((name = "system", description = "Health and the API description")),
)]
pub struct ApiDoc;

/// The whole description: the system part plus every area's.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.merge(super::access::ApiDoc::openapi());
    doc.merge(super::oauth::ApiDoc::openapi());
    doc.merge(super::sync::ApiDoc::openapi());
    doc.merge(super::registry::ApiDoc::openapi());
    doc.merge(super::webhooks::ApiDoc::openapi());
    doc
}

/// The document, built once.
pub fn document() -> &'static str {
    static DOC: OnceLock<String> = OnceLock::new();
    DOC.get_or_init(|| openapi().to_json().unwrap_or_else(|_| "{}".into()))
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
