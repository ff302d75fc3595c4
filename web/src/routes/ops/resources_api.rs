//! `/api/ops/resources`: resource state written with optimistic concurrency (`If-Match`),
//! read, deleted and listed, and each resource's versions listed, read and restored.

use actix_web::http::{Method, header};
use actix_web::{HttpRequest, HttpResponse, web};
use service::access::Permission;
use service::orchestration::OpsKey;
use service::orchestration::resources::{self, ResourceKey, ResourceView, StateWrite, Written};
use service::orchestration::versions::{self, VersionView};
use service::pagination::PageRequest;

use super::bodies::{PutResource, ResourcePage, ResourceQuery, VersionPage, VersionQuery};
use crate::auth::{Access, Acting};
use crate::error::{ApiError, ErrorBody};
use crate::json::Json;
use crate::routes::api_errors::{
    BodyErrors, NotFound, PathErrors, QueryErrors, ReadErrors, WriteErrors,
};
use crate::routes::router::Router;
use crate::state::AppState;

/// The hash of `If-Match`, quoted or not (`*` and an absent header check nothing).
fn if_match(req: &HttpRequest) -> Option<String> {
    let raw = req.headers().get(header::IF_MATCH)?.to_str().ok()?.trim();
    let raw = raw.strip_prefix("W/").unwrap_or(raw).trim_matches('"');
    (!raw.is_empty() && raw != "*").then(|| raw.to_string())
}

/// The resource a path names.
fn key(path: &(String, String)) -> Result<ResourceKey, ApiError> {
    Ok(ResourceKey::parse(&path.0, &path.1)?)
}

/// A write's answer: `201` when the resource is new, `200` otherwise, with the hash as ETag.
fn written(w: Written) -> HttpResponse {
    let mut res = if w.created {
        HttpResponse::Created()
    } else {
        HttpResponse::Ok()
    };
    res.insert_header((header::ETAG, format!("\"{}\"", w.resource.hash)))
        .json(w.resource)
}

/// Writes a resource's state; `changed: false` when its hash is the current one.
#[utoipa::path(put, path = "/api/ops/resources/{type}/{name}", tag = "orchestration",
    request_body = PutResource,
    params(
        ("type" = String, Path, description = "The resource type"),
        ("name" = String, Path, description = "The resource name"),
        ("If-Match" = Option<String>, Header, description = "The hash the writer last read: another current hash is a 409"),
    ),
    responses(
        (status = 200, description = "Written (or unchanged: `changed` is false)", body = ResourceView),
        (status = 201, description = "Created", body = ResourceView),
        WriteErrors, BodyErrors,
        (status = 409, description = "`If-Match` is not the current hash", body = ErrorBody),
    ))]
pub async fn put(
    state: web::Data<AppState>,
    acting: Acting,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: Json<PutResource>,
) -> Result<HttpResponse, ApiError> {
    let key = key(&path)?;
    let PutResource {
        state: value,
        run_id,
    } = body.0;
    if !value.is_object() {
        return Err(ApiError::invalid_field("state", "must be a JSON object"));
    }
    let run_id = run_id
        .map(|r| OpsKey::parse(&r, "run_id").map(OpsKey::into_string))
        .transpose()?;
    let write = StateWrite {
        state: value,
        run_id,
        if_match: if_match(&req),
    };
    let actor = acting.actor();
    let w = state
        .write(move |db| async move { resources::put(&db, &actor, &key, write).await })
        .await?;
    Ok(written(w))
}

/// A resource's current state.
#[utoipa::path(get, path = "/api/ops/resources/{type}/{name}", tag = "orchestration",
    params(
        ("type" = String, Path, description = "The resource type"),
        ("name" = String, Path, description = "The resource name"),
    ),
    responses(
        (status = 200, description = "The resource", body = ResourceView),
        ReadErrors, PathErrors, NotFound,
    ))]
pub async fn get(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let resource = resources::get(&state.db, &key(&path)?).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, format!("\"{}\"", resource.hash)))
        .json(resource))
}

/// Deletes a resource's state (its history gains a version whose state is null).
#[utoipa::path(delete, path = "/api/ops/resources/{type}/{name}", tag = "orchestration",
    params(
        ("type" = String, Path, description = "The resource type"),
        ("name" = String, Path, description = "The resource name"),
        ("If-Match" = Option<String>, Header, description = "The hash the writer last read"),
    ),
    responses(
        (status = 204, description = "Deleted"),
        WriteErrors, PathErrors, NotFound,
        (status = 409, description = "`If-Match` is not the current hash", body = ErrorBody),
    ))]
pub async fn delete(
    state: web::Data<AppState>,
    acting: Acting,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let key = key(&path)?;
    let (actor, expected) = (acting.actor(), if_match(&req));
    state
        .write(move |db| async move { resources::delete(&db, &actor, &key, expected).await })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Lists resources by type and name.
#[utoipa::path(get, path = "/api/ops/resources", tag = "orchestration", params(ResourceQuery),
    responses(
        (status = 200, description = "A page of resources", body = ResourcePage),
        ReadErrors, QueryErrors,
    ))]
pub async fn list(
    state: web::Data<AppState>,
    query: web::Query<ResourceQuery>,
) -> Result<HttpResponse, ApiError> {
    let page =
        PageRequest::parse(query.limit, query.cursor.as_deref()).map_err(ApiError::bad_query)?;
    let t = query.resource_type.as_deref().filter(|t| !t.is_empty());
    let found = resources::list(&state.db, t, &page).await?;
    Ok(HttpResponse::Ok().json(ResourcePage::from(found)))
}

/// A resource's versions, newest first (a deleted resource keeps its history).
#[utoipa::path(get, path = "/api/ops/resources/{type}/{name}/versions", tag = "orchestration",
    params(
        ("type" = String, Path, description = "The resource type"),
        ("name" = String, Path, description = "The resource name"),
        VersionQuery,
    ),
    responses(
        (status = 200, description = "A page of versions", body = VersionPage),
        ReadErrors, PathErrors, QueryErrors, NotFound,
    ))]
pub async fn list_versions(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    query: web::Query<VersionQuery>,
) -> Result<HttpResponse, ApiError> {
    let page =
        PageRequest::parse(query.limit, query.cursor.as_deref()).map_err(ApiError::bad_query)?;
    let found = versions::list(&state.db, &key(&path)?, &page).await?;
    Ok(HttpResponse::Ok().json(VersionPage::from(found)))
}

/// One version of a resource.
#[utoipa::path(get, path = "/api/ops/resources/{type}/{name}/versions/{serial}", tag = "orchestration",
    params(
        ("type" = String, Path, description = "The resource type"),
        ("name" = String, Path, description = "The resource name"),
        ("serial" = i64, Path, description = "The version's serial"),
    ),
    responses(
        (status = 200, description = "The version", body = VersionView),
        ReadErrors, PathErrors, NotFound,
    ))]
pub async fn get_version(
    state: web::Data<AppState>,
    path: web::Path<(String, String, i64)>,
) -> Result<HttpResponse, ApiError> {
    let (t, n, serial) = path.into_inner();
    let version = versions::get(&state.db, &key(&(t, n))?, serial).await?;
    Ok(HttpResponse::Ok().json(version))
}

/// Writes the state of an old version as the resource's state (a new version).
#[utoipa::path(post, path = "/api/ops/resources/{type}/{name}/versions/{serial}/restore", tag = "orchestration",
    params(
        ("type" = String, Path, description = "The resource type"),
        ("name" = String, Path, description = "The resource name"),
        ("serial" = i64, Path, description = "The version to restore"),
        ("If-Match" = Option<String>, Header, description = "The hash the writer last read"),
    ),
    responses(
        (status = 200, description = "The resource as restored", body = ResourceView),
        WriteErrors, NotFound,
        (status = 400, description = "The serial is not a whole number", body = ErrorBody),
        (status = 409, description = "`If-Match` is not the current hash", body = ErrorBody),
        (status = 422, description = "The version is a deletion", body = ErrorBody),
    ))]
pub async fn restore(
    state: web::Data<AppState>,
    acting: Acting,
    req: HttpRequest,
    path: web::Path<(String, String, i64)>,
) -> Result<HttpResponse, ApiError> {
    let (t, n, serial) = path.into_inner();
    let key = key(&(t, n))?;
    let (actor, ip, expected) = (acting.actor(), acting.ip(), if_match(&req));
    let w =
        state
            .write(move |db| async move {
                versions::restore(&db, &actor, ip, &key, serial, expected).await
            })
            .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, format!("\"{}\"", w.resource.hash)))
        .json(w.resource))
}

/// Registers the resource routes.
pub fn routes(r: &mut Router) {
    let read = Access::Permission(Permission::OpsRead);
    let write = Access::Permission(Permission::OpsWrite);
    let one = "/api/ops/resources/{type}/{name}";
    r.api(Method::GET, "/api/ops/resources", read, list)
        .api(Method::PUT, one, write, put)
        .api(Method::GET, one, read, get)
        .api(Method::DELETE, one, write, delete)
        .api(
            Method::GET,
            "/api/ops/resources/{type}/{name}/versions",
            read,
            list_versions,
        )
        .api(
            Method::GET,
            "/api/ops/resources/{type}/{name}/versions/{serial}",
            read,
            get_version,
        )
        .api(
            Method::POST,
            "/api/ops/resources/{type}/{name}/versions/{serial}/restore",
            write,
            restore,
        );
}
