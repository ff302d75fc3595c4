//! `GET /metrics`: the Prometheus text format, for a bearer token with `system:read`.

use actix_web::http::Method;
use actix_web::{HttpResponse, web};
use prometheus_client::encoding::prometheus_text::CONTENT_TYPE;
use service::access::Permission;
use service::operations::metrics::metrics;

use crate::auth::Access;
use crate::error::ApiError;
use crate::routes::api_errors::ReadErrors;
use crate::routes::router::Router;
use crate::state::AppState;

/// Every metric family (spec 09), in the Prometheus text format (0.0.4).
#[utoipa::path(get, path = "/metrics", tag = "system",
    responses(
        (status = 200, description = "The metrics, in the Prometheus text format", body = String, content_type = "text/plain"),
        ReadErrors,
    ))]
pub async fn scrape(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let text = metrics().scrape(&state.db).await?;
    Ok(HttpResponse::Ok().content_type(CONTENT_TYPE).body(text))
}

/// Registers the route.
pub fn routes(r: &mut Router) {
    r.api(
        Method::GET,
        "/metrics",
        Access::Permission(Permission::SystemRead),
        scrape,
    );
}
