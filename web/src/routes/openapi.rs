//! `GET /api/openapi.json`: the OpenAPI 3.1 document, generated from the handlers' annotations.
//!
//! Each JSON route is declared in the router with its access rule, and described by its
//! handler's `#[utoipa::path]`: its success responses, the shared error sets of
//! [`super::api_errors`] and what is particular to it. Each area's `ApiDoc` names its
//! handlers, and the schemas they use follow from those descriptions. The end-to-end test
//! `tests/e2e/openapi.rs` holds the document's operations equal to the router's JSON routes,
//! so a route left out of its area's `ApiDoc` (or one described but not routed) fails it.

use std::sync::OnceLock;

use actix_web::HttpResponse;
use actix_web::http::Method;
use utoipa::OpenApi;
use utoipa::openapi::RefOr;
use utoipa::openapi::path::{Operation, PathItem};

use super::router::Router;
use crate::auth::{Access, Kind};
use crate::error::ErrorBody;

/// The system part of the API description; each area contributes its own `ApiDoc`,
/// merged in [`openapi`].
#[derive(OpenApi)]
#[openapi(
    info(title = "Metadeck", description = "Operational metadata: access, sync, registry, webhooks, OAuth, orchestration, gateway."),
    paths(crate::routes::health::healthz, openapi_json, crate::routes::metrics::scrape),
    // The error shape is named here: the shared error sets refer to it without registering it.
    components(schemas(ErrorBody)),
    tags((name = "system", description = "Health, the API description, metrics, retention and purge")),
)]
pub struct ApiDoc;

/// The whole description: the system part plus every area's, each route's `403` naming
/// what its route needs.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.merge(super::access::ApiDoc::openapi());
    doc.merge(super::oauth::ApiDoc::openapi());
    doc.merge(super::sync::ApiDoc::openapi());
    doc.merge(super::registry::ApiDoc::openapi());
    doc.merge(super::webhooks::ApiDoc::openapi());
    doc.merge(super::ops::ApiDoc::openapi());
    doc.merge(super::system::ApiDoc::openapi());
    doc.merge(super::retention::ApiDoc::openapi());
    doc.merge(super::gateway::ApiDoc::openapi());
    name_what_routes_need(&mut doc);
    doc
}

/// Adds to each JSON route's `403` what the router's catalog says the route needs, so that
/// the shared error sets (see [`super::api_errors`]) need not repeat each route's permission.
fn name_what_routes_need(doc: &mut utoipa::openapi::OpenApi) {
    for route in super::catalog() {
        let needs = match route.rule.access {
            _ if route.rule.kind != Kind::Api => continue,
            Access::Public => continue,
            Access::Signed => "a user: a session, or a token issued on a user's behalf".to_owned(),
            Access::Permission(permission) => format!("`{permission}`"),
        };
        let operation = doc
            .paths
            .paths
            .get_mut(route.path)
            .and_then(|item| operation_mut(item, &route.method));
        if let Some(RefOr::T(forbidden)) =
            operation.and_then(|op| op.responses.responses.get_mut("403"))
        {
            forbidden.description = format!("{} (the route needs {needs})", forbidden.description);
        }
    }
}

/// The operation of `item` for `method`.
fn operation_mut<'a>(item: &'a mut PathItem, method: &Method) -> Option<&'a mut Operation> {
    match *method {
        Method::GET => item.get.as_mut(),
        Method::POST => item.post.as_mut(),
        Method::PUT => item.put.as_mut(),
        Method::PATCH => item.patch.as_mut(),
        Method::DELETE => item.delete.as_mut(),
        _ => None,
    }
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
