//! `/api/sync/runs`: orchestrators start syncs, report progress, end and cancel them; anyone
//! with `sync:read` reads one or the history.

use actix_web::http::Method;
use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use service::access::Permission;
use service::sync::runs::{self, NewSync, SyncUpdate};
use service::sync::{SyncRecord, SyncStatus, SyncType, TenantId, query};
use utoipa::ToSchema;

use super::params::{HistoryQuery, sync_id};
use crate::auth::{Access, Acting};
use crate::error::{ApiError, ErrorBody};
use crate::json::Json;
use crate::routes::api_errors::{BodyErrors, NotFound, QueryErrors, ReadErrors, WriteErrors};
use crate::routes::router::Router;
use crate::state::AppState;

/// Body of `POST /api/sync/runs`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartSync {
    /// 1–128 characters.
    #[schema(min_length = 1, max_length = 128)]
    pub tenant_id: String,
    pub sync_type: SyncType,
    /// The orchestrator's own id for the run (1–256 characters).
    #[schema(min_length = 1, max_length = 256)]
    pub process_id: Option<String>,
}

/// Body of `PATCH /api/sync/runs/{id}`: any subset; an empty object is a heartbeat.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportSync {
    /// 0–100, never below the current value; `completed` sets 100.
    #[schema(minimum = 0, maximum = 100)]
    pub progress_percentage: Option<i64>,
    #[schema(minimum = 0)]
    pub users_count: Option<i64>,
    #[schema(minimum = 0)]
    pub groups_count: Option<i64>,
    #[schema(minimum = 0)]
    pub apps_count: Option<i64>,
    #[schema(minimum = 0)]
    pub policies_count: Option<i64>,
    #[schema(minimum = 0)]
    pub devices_count: Option<i64>,
    /// A terminal status ends the sync; `failed` needs `error_details`.
    pub status: Option<SyncStatus>,
    pub error_details: Option<String>,
    /// Only for `graphdb` syncs.
    #[schema(minimum = 0)]
    pub graphdb_version: Option<i64>,
    /// Only for `graphdb` syncs.
    pub graphdb_promoted: Option<bool>,
}

impl From<ReportSync> for SyncUpdate {
    fn from(b: ReportSync) -> Self {
        Self {
            progress_percentage: b.progress_percentage,
            users_count: b.users_count,
            groups_count: b.groups_count,
            apps_count: b.apps_count,
            policies_count: b.policies_count,
            devices_count: b.devices_count,
            status: b.status,
            error_details: b.error_details,
            graphdb_version: b.graphdb_version,
            graphdb_promoted: b.graphdb_promoted,
        }
    }
}

/// A page of syncs, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct SyncPage {
    pub items: Vec<SyncRecord>,
    pub next_cursor: Option<String>,
}

fn stale_after(state: &AppState) -> chrono::Duration {
    chrono::Duration::from_std(state.settings.sync_stale_after)
        .unwrap_or(chrono::Duration::minutes(30))
}

/// Starts a sync for a tenant.
#[utoipa::path(post, path = "/api/sync/runs", tag = "sync", request_body = StartSync,
    responses(
        (status = 201, description = "Started", body = SyncRecord),
        WriteErrors, BodyErrors,
        (status = 409, description = "The tenant already has a running sync; `details[0].sync_id` names it", body = ErrorBody),
        (status = 422, description = "Invalid or unknown fields", body = ErrorBody),
    ))]
pub async fn start(
    state: web::Data<AppState>,
    acting: Acting,
    body: Json<StartSync>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let input = NewSync::new(
        TenantId::parse(&body.tenant_id, "tenant_id")?,
        body.sync_type,
        body.process_id,
    )?;
    let ip = acting.ip();
    let (actor, stale) = (acting.actor(), stale_after(&state));
    let record = state
        .write(move |db| async move { runs::start(&db, &actor, ip, input, stale).await })
        .await?;
    state.sync_live.poke();
    Ok(HttpResponse::Created()
        .insert_header((
            actix_web::http::header::LOCATION,
            format!("/api/sync/runs/{}", record.id),
        ))
        .json(record))
}

/// Reports progress, counts or a status change of a running sync.
#[utoipa::path(patch, path = "/api/sync/runs/{id}", tag = "sync", request_body = ReportSync,
    params(("id" = i64, Path, description = "The sync")),
    responses(
        (status = 200, description = "Updated", body = SyncRecord),
        WriteErrors, BodyErrors, NotFound,
        (status = 409, description = "The sync has finished; the message and `details` name its status", body = ErrorBody),
        (status = 422, description = "Invalid fields: out of range, decreasing progress, graphdb fields on a sqlite sync, failed without error_details", body = ErrorBody),
    ))]
pub async fn report(
    state: web::Data<AppState>,
    acting: Acting,
    id: web::Path<String>,
    body: Json<ReportSync>,
) -> Result<HttpResponse, ApiError> {
    let id = sync_id(&id)?;
    let ip = acting.ip();
    let (actor, change) = (acting.actor(), body.0.into());
    let record = state
        .write(move |db| async move { runs::update(&db, &actor, ip, id, change).await })
        .await?;
    state.sync_live.poke();
    Ok(HttpResponse::Ok().json(record))
}

/// Cancels a running sync.
#[utoipa::path(post, path = "/api/sync/runs/{id}/cancel", tag = "sync",
    params(("id" = i64, Path, description = "The sync")),
    responses(
        (status = 200, description = "Canceled", body = SyncRecord),
        WriteErrors, NotFound,
        (status = 409, description = "The sync has already finished; the message names its status", body = ErrorBody),
    ))]
pub async fn cancel(
    state: web::Data<AppState>,
    acting: Acting,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = sync_id(&id)?;
    let ip = acting.ip();
    let actor = acting.actor();
    let record = state
        .write(move |db| async move { runs::cancel(&db, &actor, ip, id).await })
        .await?;
    state.sync_live.poke();
    Ok(HttpResponse::Ok().json(record))
}

/// One sync with every column.
#[utoipa::path(get, path = "/api/sync/runs/{id}", tag = "sync",
    params(("id" = i64, Path, description = "The sync")),
    responses(
        (status = 200, description = "The sync", body = SyncRecord),
        ReadErrors, NotFound,
    ))]
pub async fn get(
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let record = runs::get(&state.db, sync_id(&id)?).await?;
    Ok(HttpResponse::Ok().json(record))
}

/// The history, newest first (by `start_time`, then `id`).
#[utoipa::path(get, path = "/api/sync/runs", tag = "sync", params(HistoryQuery),
    responses(
        (status = 200, description = "A page of syncs", body = SyncPage),
        ReadErrors, QueryErrors,
    ))]
pub async fn list(
    state: web::Data<AppState>,
    query: web::Query<HistoryQuery>,
) -> Result<HttpResponse, ApiError> {
    let filter = query.filter().map_err(ApiError::bad_query)?;
    let sort =
        service::pagination::Sort::parse(query.sort.as_deref(), service::sync::NEWEST_SYNC_FIRST)
            .map_err(ApiError::bad_query)?;
    let page = query.page().map_err(ApiError::bad_query)?;
    let page = query::history(&state.db, &filter, sort, &page).await?;
    Ok(HttpResponse::Ok().json(SyncPage {
        items: page.items,
        next_cursor: page.next_cursor,
    }))
}

/// Registers the runs API.
pub fn routes(r: &mut Router) {
    let read = Access::Permission(Permission::SyncRead);
    let write = Access::Permission(Permission::SyncWrite);
    r.api(Method::GET, "/api/sync/runs", read, list)
        .api(Method::POST, "/api/sync/runs", write, start)
        .api(Method::GET, "/api/sync/runs/{id}", read, get)
        .api(Method::PATCH, "/api/sync/runs/{id}", write, report)
        .api(Method::POST, "/api/sync/runs/{id}/cancel", write, cancel);
}
