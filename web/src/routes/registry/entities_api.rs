//! `/api/entities`: the filtered list, one entity, replace, delete.

use actix_web::http::Method;
use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use service::access::Permission;
use service::pagination::PageRequest;
use service::registry::{EntityFilter, EntityView, RawEntity, entities};
use utoipa::{IntoParams, ToSchema};

use crate::auth::{Access, Acting};
use crate::error::{ApiError, ErrorBody};
use crate::json::Json;
use crate::routes::api_errors::{BodyErrors, NotFound, QueryErrors, ReadErrors, WriteErrors};
use crate::routes::router::Router;
use crate::state::AppState;

/// A page of entities.
#[derive(Debug, Serialize, ToSchema)]
pub struct EntityPage {
    pub items: Vec<EntityView>,
    pub next_cursor: Option<String>,
}

/// Query of the entity list.
#[derive(Debug, Deserialize, IntoParams)]
pub struct EntityQuery {
    pub device_id: Option<String>,
    pub domain: Option<String>,
    pub platform: Option<String>,
    /// `true` or `false`.
    pub disabled: Option<bool>,
    /// 1–500, default 50.
    pub limit: Option<u64>,
    pub cursor: Option<String>,
}

/// An entity as sent to `PUT /api/entities/{entity_id}` and to the bulk upsert.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EntityBody {
    /// `<domain>.<object_id>`; required in a bulk item, optional on PUT (must equal the path's).
    #[schema(pattern = "^[a-z0-9_]+\\.[a-z0-9_]+$")]
    pub entity_id: Option<String>,
    /// An existing device, or null.
    pub device_id: Option<String>,
    /// Defaults to the entity id's prefix, and must equal it.
    pub domain: Option<String>,
    #[schema(max_length = 255)]
    pub platform: Option<String>,
    /// Default false.
    pub disabled: Option<bool>,
}

impl From<EntityBody> for RawEntity {
    fn from(b: EntityBody) -> Self {
        Self {
            entity_id: b.entity_id,
            device_id: b.device_id,
            domain: b.domain,
            platform: b.platform,
            disabled: b.disabled,
        }
    }
}

/// Lists entities by entity id.
#[utoipa::path(get, path = "/api/entities", tag = "registry", params(EntityQuery),
    responses(
        (status = 200, description = "A page of entities", body = EntityPage),
        ReadErrors, QueryErrors,
    ))]
pub async fn list(
    state: web::Data<AppState>,
    query: web::Query<EntityQuery>,
) -> Result<HttpResponse, ApiError> {
    let page =
        PageRequest::parse(query.limit, query.cursor.as_deref()).map_err(ApiError::bad_query)?;
    let query = query.into_inner();
    let filter = EntityFilter {
        device_id: query.device_id,
        domain: query.domain,
        platform: query.platform,
        disabled: query.disabled,
    };
    let page = entities::list(&state.db, &filter, service::registry::BY_ENTITY_ID, &page).await?;
    Ok(HttpResponse::Ok().json(EntityPage {
        items: page.items,
        next_cursor: page.next_cursor,
    }))
}

/// One entity.
#[utoipa::path(get, path = "/api/entities/{entity_id}", tag = "registry",
    params(("entity_id" = String, Path, description = "The entity id")),
    responses(
        (status = 200, description = "The entity", body = EntityView),
        ReadErrors, NotFound,
    ))]
pub async fn get(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(entities::get(&state.db, &path).await?))
}

/// Creates or replaces one entity.
#[utoipa::path(put, path = "/api/entities/{entity_id}", tag = "registry",
    params(("entity_id" = String, Path, description = "The entity id")),
    request_body = EntityBody,
    responses(
        (status = 200, description = "Replaced", body = EntityView),
        (status = 201, description = "Created", body = EntityView),
        WriteErrors, BodyErrors,
        (status = 422, description = "Invalid fields, or no such device", body = ErrorBody),
    ))]
pub async fn put(
    state: web::Data<AppState>,
    acting: Acting,
    path: web::Path<String>,
    body: Json<EntityBody>,
) -> Result<HttpResponse, ApiError> {
    let mut raw = RawEntity::from(body.0);
    match raw.entity_id.as_deref() {
        Some(id) if id != path.as_str() => {
            return Err(ApiError::invalid_field(
                "entity_id",
                "must equal the entity id of the path",
            ));
        }
        _ => raw.entity_id = Some(path.into_inner()),
    }
    let input = raw.parse()?;
    let (actor, ip) = (acting.actor(), acting.ip());
    let (view, created) = state
        .write(move |db| async move { entities::put(&db, &actor, ip, input).await })
        .await?;
    Ok(if created {
        HttpResponse::Created().json(view)
    } else {
        HttpResponse::Ok().json(view)
    })
}

/// Deletes one entity.
#[utoipa::path(delete, path = "/api/entities/{entity_id}", tag = "registry",
    params(("entity_id" = String, Path, description = "The entity id")),
    responses(
        (status = 204, description = "Deleted"),
        WriteErrors, NotFound,
    ))]
pub async fn delete(
    state: web::Data<AppState>,
    acting: Acting,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (actor, ip, id) = (acting.actor(), acting.ip(), path.into_inner());
    state
        .write(move |db| async move { entities::delete(&db, &actor, ip, &id).await })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Registers the entity API.
pub fn routes(r: &mut Router) {
    let read = Access::Permission(Permission::RegistryRead);
    let write = Access::Permission(Permission::RegistryWrite);
    r.api(Method::GET, "/api/entities", read, list)
        .api(Method::GET, "/api/entities/{entity_id}", read, get)
        .api(Method::PUT, "/api/entities/{entity_id}", write, put)
        .api(Method::DELETE, "/api/entities/{entity_id}", write, delete);
}
