//! `GET /healthz`: is this instance able to serve, and is its database reachable?

use std::time::Duration;

use actix_web::http::Method;
use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use service::operations::DatabaseHealth;
use utoipa::{IntoParams, ToSchema};

use super::router::Router;
use crate::auth::Access;
use crate::state::AppState;

/// How long the database may take to answer before the instance reports itself unavailable.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// The health report.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok` or `unavailable`.
    pub status: &'static str,
    pub version: &'static str,
    pub database: DatabaseHealth,
}

/// Query of `/healthz`.
#[derive(Debug, Deserialize, IntoParams)]
pub struct HealthQuery {
    /// `1` asks for table counts, file sizes and workers (needs `system:read`; ignored otherwise).
    pub full: Option<String>,
}

/// Reports the instance's and the database's health; `503` when the database does not answer within 2 s.
#[utoipa::path(
    get, path = "/healthz", tag = "system",
    params(HealthQuery),
    responses(
        (status = 200, description = "Healthy", body = Health),
        (status = 503, description = "The database is unreachable", body = Health),
    )
)]
pub async fn healthz(state: web::Data<AppState>, _query: web::Query<HealthQuery>) -> HttpResponse {
    let database = state.health.probe(&state.db, PROBE_TIMEOUT).await;
    let ok = database.ok;
    let body = Health {
        status: if ok { "ok" } else { "unavailable" },
        version: env!("CARGO_PKG_VERSION"),
        database,
    };
    let mut res = if ok {
        HttpResponse::Ok()
    } else {
        HttpResponse::ServiceUnavailable()
    };
    res.insert_header(("Cache-Control", "no-store")).json(body)
}

/// Registers the health route.
pub fn routes(r: &mut Router) {
    r.api(Method::GET, "/healthz", Access::Public, healthz);
}
