//! `/api/sync/status` (the seed frontend's answer) and `/api/sync/tenants`.

use actix_web::http::Method;
use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use service::access::Permission;
use service::pagination::PageRequest;
use service::sync::{StatusAnswer, TenantId, TenantSummary, query};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Access;
use crate::error::{ApiError, ErrorBody};
use crate::routes::api_errors::{QueryErrors, ReadErrors};
use crate::routes::router::Router;
use crate::state::AppState;

/// Query of `/api/sync/status`.
#[derive(Debug, Deserialize, IntoParams)]
pub struct StatusQuery {
    /// The tenant (required).
    pub tenant_id: Option<String>,
}

/// Query of `/api/sync/tenants`.
#[derive(Debug, Deserialize, IntoParams)]
pub struct TenantQuery {
    /// 1–500, default 50.
    pub limit: Option<u64>,
    pub cursor: Option<String>,
}

/// A page of tenants by id.
#[derive(Debug, Serialize, ToSchema)]
pub struct TenantPage {
    pub items: Vec<TenantSummary>,
    pub next_cursor: Option<String>,
}

/// A tenant's sync status in the shape the seed's frontend reads; `never` without history.
#[utoipa::path(get, path = "/api/sync/status", tag = "sync", params(StatusQuery),
    responses(
        (status = 200, description = "The tenant's status", body = StatusAnswer),
        ReadErrors, QueryErrors,
        (status = 400, description = "No or an invalid tenant_id", body = ErrorBody),
    ))]
pub async fn status(
    state: web::Data<AppState>,
    query: web::Query<StatusQuery>,
) -> Result<HttpResponse, ApiError> {
    let raw = query
        .tenant_id
        .as_deref()
        .ok_or_else(|| ApiError::bad_query(service::Error::invalid("tenant_id", "is required")))?;
    let tenant = TenantId::parse(raw, "tenant_id").map_err(ApiError::bad_query)?;
    Ok(HttpResponse::Ok().json(query::status(&state.db, &tenant).await?))
}

/// Every tenant with a sync, by id, with its latest and last completed sync.
#[utoipa::path(get, path = "/api/sync/tenants", tag = "sync", params(TenantQuery),
    responses(
        (status = 200, description = "A page of tenants", body = TenantPage),
        ReadErrors, QueryErrors,
    ))]
pub async fn tenants(
    state: web::Data<AppState>,
    query: web::Query<TenantQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = PageRequest::<String>::parse(query.limit, query.cursor.as_deref())
        .map_err(ApiError::bad_query)?;
    let page = query::tenants(&state.db, &page).await?;
    Ok(HttpResponse::Ok().json(TenantPage {
        items: page.items,
        next_cursor: page.next_cursor,
    }))
}

/// Registers the status routes.
pub fn routes(r: &mut Router) {
    let read = Access::Permission(Permission::SyncRead);
    r.api(Method::GET, "/api/sync/status", read, status).api(
        Method::GET,
        "/api/sync/tenants",
        read,
        tenants,
    );
}
