//! `POST /internal/devices/bulk_upsert` and `POST /internal/entities/bulk_upsert`, the routes a
//! discovery service posts to: all or nothing, at most `METADECK_BULK_MAX` items.

use actix_web::http::{Method, StatusCode};
use actix_web::{HttpResponse, web};
use serde::Serialize;
use service::access::Permission;
use service::registry::bulk;
use utoipa::ToSchema;

use super::devices_api::DeviceBody;
use super::entities_api::EntityBody;
use crate::auth::{Access, Acting};
use crate::error::{ApiError, ErrorBody};
use crate::json::BulkJson;
use crate::routes::api_errors::{BodyErrors, WriteErrors};
use crate::routes::router::Router;
use crate::state::AppState;

/// Answer of a bulk upsert.
#[derive(Debug, Serialize, ToSchema)]
pub struct Upserted {
    /// Distinct ids written (a repeated id counts once; the last one wins).
    pub upserted: u64,
}

fn within_limit(state: &AppState, items: usize) -> Result<(), ApiError> {
    let max = state.settings.bulk_max;
    if items > max {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("a batch holds at most {max} items; this one has {items}"),
        ));
    }
    Ok(())
}

/// Creates or replaces many devices in one transaction.
#[utoipa::path(post, path = "/internal/devices/bulk_upsert", tag = "registry",
    request_body = Vec<DeviceBody>,
    responses(
        (status = 200, description = "Every device written", body = Upserted),
        WriteErrors, BodyErrors,
        (status = 413, description = "Body over 16 MiB or more items than METADECK_BULK_MAX", body = ErrorBody),
        (status = 422, description = "Invalid items, each named by index and field; nothing written", body = ErrorBody),
    ))]
pub async fn devices(
    state: web::Data<AppState>,
    acting: Acting,
    body: BulkJson<Vec<DeviceBody>>,
) -> Result<HttpResponse, ApiError> {
    within_limit(&state, body.0.len())?;
    let raw = body.0.into_iter().map(Into::into).collect();
    let (actor, ip) = (acting.actor(), acting.ip());
    let counts = state
        .write(move |db| async move { bulk::upsert_devices(&db, &actor, ip, raw).await })
        .await?;
    Ok(HttpResponse::Ok().json(Upserted {
        upserted: counts.upserted(),
    }))
}

/// Creates or replaces many entities in one transaction.
#[utoipa::path(post, path = "/internal/entities/bulk_upsert", tag = "registry",
    request_body = Vec<EntityBody>,
    responses(
        (status = 200, description = "Every entity written", body = Upserted),
        WriteErrors, BodyErrors,
        (status = 413, description = "Body over 16 MiB or more items than METADECK_BULK_MAX", body = ErrorBody),
        (status = 422, description = "Invalid items (or unknown devices), each named by index and field; nothing written", body = ErrorBody),
    ))]
pub async fn entities(
    state: web::Data<AppState>,
    acting: Acting,
    body: BulkJson<Vec<EntityBody>>,
) -> Result<HttpResponse, ApiError> {
    within_limit(&state, body.0.len())?;
    let raw = body.0.into_iter().map(Into::into).collect();
    let (actor, ip) = (acting.actor(), acting.ip());
    let counts = state
        .write(move |db| async move { bulk::upsert_entities(&db, &actor, ip, raw).await })
        .await?;
    Ok(HttpResponse::Ok().json(Upserted {
        upserted: counts.upserted(),
    }))
}

/// Registers the bulk routes.
pub fn routes(r: &mut Router) {
    let write = Access::Permission(Permission::RegistryWrite);
    r.api(
        Method::POST,
        "/internal/devices/bulk_upsert",
        write,
        devices,
    )
    .api(
        Method::POST,
        "/internal/entities/bulk_upsert",
        write,
        entities,
    );
}
