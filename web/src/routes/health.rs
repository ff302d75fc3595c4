//! `GET /healthz`: is this instance able to serve, and is its database reachable?

use std::collections::BTreeMap;
use std::time::Duration;

use actix_web::http::Method;
use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use service::access::Permission;
use service::operations::{self, DatabaseHealth, FileSizes, WorkerStatus};
use utoipa::{IntoParams, ToSchema};

use super::router::Router;
use crate::auth::{Access, Caller};
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
    /// Only with `full=1` for a caller holding `system:read`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<HealthDetails>,
}

/// What `?full=1` adds for operators.
#[derive(Debug, Serialize, ToSchema)]
pub struct HealthDetails {
    /// Row count per table.
    pub tables: BTreeMap<String, i64>,
    /// Database and WAL file sizes (SQLite only).
    pub files: Option<FileSizes>,
    /// Each background worker's last run and result.
    pub workers: Vec<WorkerStatus>,
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
pub async fn healthz(
    state: web::Data<AppState>,
    query: web::Query<HealthQuery>,
    caller: Option<Caller>,
) -> HttpResponse {
    let database = state.health.probe(&state.db, PROBE_TIMEOUT).await;
    let ok = database.ok;
    let wants_full = matches!(query.full.as_deref(), Some("1" | "true"));
    let details = match caller {
        Some(c) if ok && wants_full && c.may(Permission::SystemRead) => details(&state).await,
        _ => None,
    };
    let body = Health {
        status: if ok { "ok" } else { "unavailable" },
        version: env!("CARGO_PKG_VERSION"),
        database,
        details,
    };
    let mut res = if ok {
        HttpResponse::Ok()
    } else {
        HttpResponse::ServiceUnavailable()
    };
    res.insert_header(("Cache-Control", "no-store")).json(body)
}

async fn details(state: &AppState) -> Option<HealthDetails> {
    let tables = operations::table_row_counts(&state.db).await.ok()?;
    let workers = operations::workers::all(&state.db).await.ok()?;
    Some(HealthDetails {
        tables,
        files: operations::file_sizes(&state.settings.database_url),
        workers,
    })
}

/// Registers the health route.
pub fn routes(r: &mut Router) {
    r.api(Method::GET, "/healthz", Access::Public, healthz);
}
