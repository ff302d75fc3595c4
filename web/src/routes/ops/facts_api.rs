//! `/api/ops/facts`: facts under (target, namespace, key) with a TTL; an expired fact is
//! invisible to every read.

use actix_web::http::Method;
use actix_web::{HttpResponse, web};
use service::access::Permission;
use service::orchestration::OpsKey;
use service::orchestration::facts::{self, FactFilter, FactKey, FactView, parse_ttl};
use service::pagination::PageRequest;
use service::{Error, FieldError};

use super::bodies::{FactPage, FactQuery, PutFact};
use crate::auth::Access;
use crate::error::ApiError;
use crate::json::Json;
use crate::routes::api_errors::{
    BodyErrors, NotFound, PathErrors, QueryErrors, ReadErrors, WriteErrors,
};
use crate::routes::router::Router;
use crate::state::AppState;

/// The fact a path names, every bad segment reported.
fn key(path: &(String, String, String)) -> Result<FactKey, ApiError> {
    let parts = [
        OpsKey::parse(&path.0, "target_id"),
        OpsKey::parse(&path.1, "namespace"),
        OpsKey::parse(&path.2, "key"),
    ];
    let mut errors: Vec<FieldError> = Vec::new();
    let mut ok = Vec::new();
    for part in parts {
        match part {
            Ok(k) => ok.push(k),
            Err(Error::Validation(list)) => errors.extend(list),
            Err(other) => return Err(other.into()),
        }
    }
    match <[OpsKey; 3]>::try_from(ok) {
        Ok([target_id, namespace, key]) if errors.is_empty() => Ok(FactKey {
            target_id,
            namespace,
            key,
        }),
        _ => Err(Error::Validation(errors).into()),
    }
}

/// Writes a fact (`201` when new, `200` when replaced).
#[utoipa::path(put, path = "/api/ops/facts/{target_id}/{namespace}/{key}", tag = "orchestration",
    request_body = PutFact,
    params(
        ("target_id" = String, Path, description = "What the fact is about"),
        ("namespace" = String, Path, description = "The fact's namespace"),
        ("key" = String, Path, description = "The fact's key"),
    ),
    responses(
        (status = 200, description = "Replaced", body = FactView),
        (status = 201, description = "Created", body = FactView),
        WriteErrors, BodyErrors,
    ))]
pub async fn put(
    state: web::Data<AppState>,
    path: web::Path<(String, String, String)>,
    body: Json<PutFact>,
) -> Result<HttpResponse, ApiError> {
    let key = key(&path)?;
    let PutFact { value, ttl } = body.0;
    let ttl = parse_ttl(ttl)?;
    let (fact, created) = state
        .write(move |db| async move { facts::put(&db, &key, value, ttl).await })
        .await?;
    Ok(if created {
        HttpResponse::Created().json(fact)
    } else {
        HttpResponse::Ok().json(fact)
    })
}

/// An unexpired fact.
#[utoipa::path(get, path = "/api/ops/facts/{target_id}/{namespace}/{key}", tag = "orchestration",
    params(
        ("target_id" = String, Path, description = "What the fact is about"),
        ("namespace" = String, Path, description = "The fact's namespace"),
        ("key" = String, Path, description = "The fact's key"),
    ),
    responses(
        (status = 200, description = "The fact", body = FactView),
        ReadErrors, PathErrors, NotFound,
    ))]
pub async fn get(
    state: web::Data<AppState>,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(facts::get(&state.db, &key(&path)?).await?))
}

/// Deletes an unexpired fact.
#[utoipa::path(delete, path = "/api/ops/facts/{target_id}/{namespace}/{key}", tag = "orchestration",
    params(
        ("target_id" = String, Path, description = "What the fact is about"),
        ("namespace" = String, Path, description = "The fact's namespace"),
        ("key" = String, Path, description = "The fact's key"),
    ),
    responses(
        (status = 204, description = "Deleted"),
        WriteErrors, PathErrors, NotFound,
    ))]
pub async fn delete(
    state: web::Data<AppState>,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, ApiError> {
    let key = key(&path)?;
    state
        .write(move |db| async move { facts::delete(&db, &key).await })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Lists unexpired facts by target, namespace and key.
#[utoipa::path(get, path = "/api/ops/facts", tag = "orchestration", params(FactQuery),
    responses(
        (status = 200, description = "A page of unexpired facts", body = FactPage),
        ReadErrors, QueryErrors,
    ))]
pub async fn list(
    state: web::Data<AppState>,
    query: web::Query<FactQuery>,
) -> Result<HttpResponse, ApiError> {
    let page =
        PageRequest::parse(query.limit, query.cursor.as_deref()).map_err(ApiError::bad_query)?;
    let filter = FactFilter {
        target_id: query.target_id.clone().filter(|t| !t.is_empty()),
        namespace: query.namespace.clone().filter(|n| !n.is_empty()),
    };
    let found = facts::list(&state.db, &filter, &page).await?;
    Ok(HttpResponse::Ok().json(FactPage::from(found)))
}

/// Registers the fact routes.
pub fn routes(r: &mut Router) {
    let read = Access::Permission(Permission::OpsRead);
    let write = Access::Permission(Permission::OpsWrite);
    let one = "/api/ops/facts/{target_id}/{namespace}/{key}";
    r.api(Method::GET, "/api/ops/facts", read, list)
        .api(Method::PUT, one, write, put)
        .api(Method::GET, one, read, get)
        .api(Method::DELETE, one, write, delete);
}
