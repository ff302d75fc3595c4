//! `GET /api/system`, `POST /api/system/check` and `GET /api/system/backups`.

use actix_web::http::Method;
use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use service::access::Permission;
use service::operations::backup::{self, BackupRecord};
use service::operations::status::{SystemStatus, system_status};
use service::operations::{CheckReport, check_and_record};
use service::pagination::PageRequest;
use utoipa::{IntoParams, ToSchema};

use crate::auth::Access;
use crate::error::ApiError;
use crate::routes::api_errors::{QueryErrors, ReadErrors, WriteErrors};
use crate::routes::router::Router;
use crate::state::AppState;

/// The database's state: files, pages, schema, tables, workers and backups.
#[utoipa::path(get, path = "/api/system", tag = "operations",
    responses((status = 200, description = "What /system shows", body = SystemStatus), ReadErrors))]
pub async fn status(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let status = system_status(&state.db, &state.settings.database_url).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(status))
}

/// Runs the integrity check now (SQLite: `integrity_check`, `foreign_key_check`; PostgreSQL:
/// constraints and indexes; both: the audit chain) and records it as the `check` worker's
/// last run. Findings are in `problems`; the answer is `200` either way.
#[utoipa::path(post, path = "/api/system/check", tag = "operations",
    responses((status = 200, description = "The check's findings (none when `problems` is empty)", body = CheckReport), WriteErrors))]
pub async fn check(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let report = state
        .write(|db| async move { Ok(check_and_record(&db).await?) })
        .await?;
    Ok(HttpResponse::Ok().json(report))
}

/// Query of the backup list.
#[derive(Debug, Deserialize, IntoParams)]
pub struct BackupQuery {
    /// 1–500, default 50.
    pub limit: Option<u64>,
    pub cursor: Option<String>,
}

/// A page of backups, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct BackupPage {
    pub items: Vec<BackupRecord>,
    pub next_cursor: Option<String>,
}

/// Every backup taken (command line, page, schedule), succeeded or failed, newest first.
#[utoipa::path(get, path = "/api/system/backups", tag = "operations", params(BackupQuery),
    responses((status = 200, description = "A page of backups", body = BackupPage), ReadErrors, QueryErrors))]
pub async fn backups(
    state: web::Data<AppState>,
    query: web::Query<BackupQuery>,
) -> Result<HttpResponse, ApiError> {
    let page =
        PageRequest::parse(query.limit, query.cursor.as_deref()).map_err(ApiError::bad_query)?;
    let page = backup::list(&state.db, &page).await?;
    Ok(HttpResponse::Ok().json(BackupPage {
        items: page.items,
        next_cursor: page.next_cursor,
    }))
}

/// Registers the JSON routes.
pub fn routes(r: &mut Router) {
    r.api(
        Method::GET,
        "/api/system",
        Access::Permission(Permission::SystemRead),
        status,
    )
    .api(
        Method::POST,
        "/api/system/check",
        Access::Permission(Permission::SystemWrite),
        check,
    )
    .api(
        Method::GET,
        "/api/system/backups",
        Access::Permission(Permission::SystemRead),
        backups,
    );
}
