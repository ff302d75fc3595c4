//! The AD group mappings JSON API: list, create, read, delete, and the simulator.

use actix_web::http::Method;
use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use service::access::Permission;
use service::gateway::ad_mapping_admin::{self, AdMapping, AdMappingInput};
use service::gateway::ad_mappings::{self, GroupResolution};
use service::pagination::PageRequest;
use utoipa::{IntoParams, ToSchema};

use crate::auth::{Access, Acting};
use crate::error::ApiError;
use crate::json::Json;
use crate::routes::api_errors::{BodyErrors, NotFound, QueryErrors, ReadErrors, WriteErrors};
use crate::routes::router::Router;
use crate::state::AppState;

/// Most groups one simulation takes.
pub const MAX_SIMULATED_GROUPS: usize = 1000;

/// Body of `POST /api/gateway/ad-mappings`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdMappingBody {
    /// A group name, or a DN (`CN=Ops,OU=Groups,DC=example,DC=com`); unique.
    pub ad_group: String,
    /// The role the group gives; it may grant nothing the caller does not hold.
    pub role_id: i64,
}

/// Body of `POST /api/gateway/ad-mappings/simulate`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SimulateBody {
    /// Group values as a provider would send them (names or DNs).
    pub groups: Vec<String>,
}

/// Query of the mapping list.
#[derive(Debug, Deserialize, IntoParams)]
pub struct AdMappingQuery {
    /// 1–500, default 50.
    pub limit: Option<u64>,
    pub cursor: Option<String>,
}

/// A page of mappings, by group.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdMappingPage {
    pub items: Vec<AdMapping>,
    pub next_cursor: Option<String>,
}

/// The groups of a simulation, checked: at most [`MAX_SIMULATED_GROUPS`].
pub fn simulated_groups(groups: Vec<String>, field: &str) -> Result<Vec<String>, service::Error> {
    if groups.len() > MAX_SIMULATED_GROUPS {
        return Err(service::Error::invalid(
            field,
            format!("at most {MAX_SIMULATED_GROUPS} groups at a time"),
        ));
    }
    Ok(groups)
}

/// Lists the mappings by group, each with its role.
#[utoipa::path(get, path = "/api/gateway/ad-mappings", tag = "gateway", params(AdMappingQuery),
    responses(
        (status = 200, description = "A page of AD group mappings", body = AdMappingPage),
        ReadErrors, QueryErrors,
    ))]
pub async fn list(
    state: web::Data<AppState>,
    query: web::Query<AdMappingQuery>,
) -> Result<HttpResponse, ApiError> {
    let page =
        PageRequest::parse(query.limit, query.cursor.as_deref()).map_err(ApiError::bad_query)?;
    let page = ad_mapping_admin::list(&state.db, &page).await?;
    Ok(HttpResponse::Ok().json(AdMappingPage {
        items: page.items,
        next_cursor: page.next_cursor,
    }))
}

/// Maps a group to a role.
#[utoipa::path(post, path = "/api/gateway/ad-mappings", tag = "gateway", request_body = AdMappingBody,
    responses(
        (status = 201, description = "Created", body = AdMapping),
        WriteErrors, BodyErrors,
        (status = 409, description = "The group is mapped already", body = crate::error::ErrorBody),
        (status = 422, description = "Invalid group or unknown role", body = crate::error::ErrorBody),
    ))]
pub async fn create(
    state: web::Data<AppState>,
    acting: Acting,
    body: Json<AdMappingBody>,
) -> Result<HttpResponse, ApiError> {
    let input = AdMappingInput::parse(&body.0.ad_group, body.0.role_id, "ad_group")?;
    let (by, ip) = (acting.grantor(), acting.ip());
    let mapping = state
        .write(move |db| async move { ad_mapping_admin::create(&db, &by, ip, input).await })
        .await?;
    Ok(HttpResponse::Created().json(mapping))
}

/// One mapping.
#[utoipa::path(get, path = "/api/gateway/ad-mappings/{id}", tag = "gateway",
    params(("id" = String, Path, description = "The mapping's id")),
    responses(
        (status = 200, description = "The mapping", body = AdMapping),
        ReadErrors, NotFound,
    ))]
pub async fn get(
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(ad_mapping_admin::get(&state.db, &id).await?))
}

/// Deletes a mapping (its role must grant nothing the caller does not hold).
#[utoipa::path(delete, path = "/api/gateway/ad-mappings/{id}", tag = "gateway",
    params(("id" = String, Path, description = "The mapping's id")),
    responses(
        (status = 204, description = "Deleted"),
        WriteErrors, NotFound,
    ))]
pub async fn delete(
    state: web::Data<AppState>,
    acting: Acting,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (by, ip, id) = (acting.grantor(), acting.ip(), id.into_inner());
    state
        .write(move |db| async move { ad_mapping_admin::delete(&db, &by, ip, &id).await })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The roles a set of groups would give, which mapping gave each, and the groups that
/// matched none; changes nothing.
#[utoipa::path(post, path = "/api/gateway/ad-mappings/simulate", tag = "gateway", request_body = SimulateBody,
    responses(
        (status = 200, description = "What the groups map to", body = GroupResolution),
        ReadErrors, BodyErrors,
        (status = 422, description = "Too many groups", body = crate::error::ErrorBody),
    ))]
pub async fn simulate(
    state: web::Data<AppState>,
    body: Json<SimulateBody>,
) -> Result<HttpResponse, ApiError> {
    let groups = simulated_groups(body.0.groups, "groups")?;
    Ok(HttpResponse::Ok().json(ad_mappings::resolve(&state.db, &groups).await?))
}

/// Registers the AD group mappings API.
pub fn routes(r: &mut Router) {
    let read = Access::Permission(Permission::GatewayRead);
    let write = Access::Permission(Permission::GatewayWrite);
    r.api(Method::GET, "/api/gateway/ad-mappings", read, list)
        .api(Method::POST, "/api/gateway/ad-mappings", write, create)
        .api(
            Method::POST,
            "/api/gateway/ad-mappings/simulate",
            read,
            simulate,
        )
        .api(Method::GET, "/api/gateway/ad-mappings/{id}", read, get)
        .api(
            Method::DELETE,
            "/api/gateway/ad-mappings/{id}",
            write,
            delete,
        );
}
