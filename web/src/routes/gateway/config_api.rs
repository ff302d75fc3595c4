//! The config JSON API: list, read (from this instance's cache), create or replace, delete.

use actix_web::http::Method;
use actix_web::{HttpResponse, web};
use service::access::Permission;
use service::gateway::config::{self, BY_KEY, ConfigItem, ConfigKey};
use service::pagination::{PageRequest, Sort};

use super::config_bodies::{ConfigBody, ConfigPage, ConfigQuery};
use crate::auth::{Access, Acting};
use crate::error::ApiError;
use crate::json::Json;
use crate::routes::api_errors::{BodyErrors, NotFound, QueryErrors, ReadErrors, WriteErrors};
use crate::routes::router::Router;
use crate::state::AppState;

/// The key a path names; a path that cannot be a key names none (`404`).
fn existing_key(raw: &str) -> Result<ConfigKey, ApiError> {
    ConfigKey::parse(raw, "key")
        .map_err(|_| service::Error::NotFound(format!("config key {raw}")).into())
}

/// Lists the config keys by key.
#[utoipa::path(get, path = "/api/gateway/config", tag = "gateway", params(ConfigQuery),
    responses(
        (status = 200, description = "A page of config keys", body = ConfigPage),
        ReadErrors, QueryErrors,
    ))]
pub async fn list(
    state: web::Data<AppState>,
    query: web::Query<ConfigQuery>,
) -> Result<HttpResponse, ApiError> {
    let sort = Sort::parse(query.sort.as_deref(), BY_KEY).map_err(ApiError::bad_query)?;
    let page =
        PageRequest::parse(query.limit, query.cursor.as_deref()).map_err(ApiError::bad_query)?;
    let page = config::list(&state.db, sort, &page).await?;
    Ok(HttpResponse::Ok().json(ConfigPage {
        items: page.items,
        next_cursor: page.next_cursor,
    }))
}

/// One config key, answered from this instance's cache (a change through any instance shows
/// within 5 s).
#[utoipa::path(get, path = "/api/gateway/config/{key}", tag = "gateway",
    params(("key" = String, Path, description = "The key: letters, digits, '.', '_' and '-', at most 128")),
    responses(
        (status = 200, description = "The key", body = ConfigItem),
        ReadErrors, NotFound,
    ))]
pub async fn get(
    state: web::Data<AppState>,
    key: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let key = existing_key(&key)?;
    let item = config::get(&state.db, &state.config_cache, &key).await?;
    Ok(HttpResponse::Ok().json(&*item))
}

/// Creates the key or replaces its value and description; audited with the old and the new
/// value.
#[utoipa::path(put, path = "/api/gateway/config/{key}", tag = "gateway", request_body = ConfigBody,
    params(("key" = String, Path, description = "The key: letters, digits, '.', '_' and '-', at most 128")),
    responses(
        (status = 200, description = "Replaced", body = ConfigItem),
        (status = 201, description = "Created", body = ConfigItem),
        WriteErrors, BodyErrors,
        (status = 422, description = "An invalid key, value (with its line and column) or description", body = crate::error::ErrorBody),
    ))]
pub async fn put(
    state: web::Data<AppState>,
    acting: Acting,
    key: web::Path<String>,
    body: Json<ConfigBody>,
) -> Result<HttpResponse, ApiError> {
    let key = ConfigKey::parse(&key, "key")?;
    let input = body.0.parse()?;
    let (cache, actor, ip) = (state.config_cache.clone(), acting.actor(), acting.ip());
    let (item, created) = state
        .write(move |db| async move { config::put(&db, &cache, &actor, ip, &key, input).await })
        .await?;
    Ok(if created {
        HttpResponse::Created().json(item)
    } else {
        HttpResponse::Ok().json(item)
    })
}

/// Deletes the key; audited with its old value.
#[utoipa::path(delete, path = "/api/gateway/config/{key}", tag = "gateway",
    params(("key" = String, Path, description = "The key")),
    responses(
        (status = 204, description = "Deleted"),
        WriteErrors, NotFound,
    ))]
pub async fn delete(
    state: web::Data<AppState>,
    acting: Acting,
    key: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let key = existing_key(&key)?;
    let (cache, actor, ip) = (state.config_cache.clone(), acting.actor(), acting.ip());
    state
        .write(move |db| async move { config::delete(&db, &cache, &actor, ip, &key).await })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Registers the config API.
pub fn routes(r: &mut Router) {
    let read = Access::Permission(Permission::GatewayRead);
    let write = Access::Permission(Permission::GatewayWrite);
    r.api(Method::GET, "/api/gateway/config", read, list)
        .api(Method::GET, "/api/gateway/config/{key}", read, get)
        .api(Method::PUT, "/api/gateway/config/{key}", write, put)
        .api(Method::DELETE, "/api/gateway/config/{key}", write, delete);
}
