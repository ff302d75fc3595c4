//! `/api/devices`: the filtered list, one device with its entities, replace, delete.

use actix_web::http::Method;
use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use service::access::Permission;
use service::pagination::PageRequest;
use service::registry::{DeviceFilter, DeviceSort, DeviceView, RawDevice, devices};
use utoipa::{IntoParams, ToSchema};

use crate::auth::{Access, Acting};
use crate::error::ApiError;
use crate::json::Json;
use crate::routes::api_errors::{BodyErrors, NotFound, QueryErrors, ReadErrors, WriteErrors};
use crate::routes::router::Router;
use crate::state::AppState;

/// A page of devices.
#[derive(Debug, Serialize, ToSchema)]
pub struct DevicePage {
    pub items: Vec<DeviceView>,
    pub next_cursor: Option<String>,
}

/// Query of the device list.
#[derive(Debug, Deserialize, IntoParams)]
pub struct DeviceQuery {
    pub area_id: Option<String>,
    pub manufacturer: Option<String>,
    pub integration: Option<String>,
    /// Case-insensitive substring of the name or the device id.
    pub q: Option<String>,
    /// 1–500, default 50.
    pub limit: Option<u64>,
    pub cursor: Option<String>,
}

/// The `{device_id}` of a device's route. The document states the id's rule, so that clients
/// and API fuzzers generate ids the server can take; the service checks it again on writes.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct DevicePath {
    /// The device id.
    #[param(
        pattern = "^[A-Za-z0-9._:@-]{1,255}$",
        min_length = 1,
        max_length = 255
    )]
    pub device_id: String,
}

/// A device as sent to `PUT /api/devices/{device_id}` and to the bulk upsert. Omitted
/// optional fields become null (PUT replaces).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeviceBody {
    /// Required in a bulk item; optional on PUT, where it must equal the path's.
    #[schema(pattern = "^[A-Za-z0-9._:@-]{1,255}$")]
    pub device_id: Option<String>,
    /// Required, 1–255 characters.
    #[schema(min_length = 1, max_length = 255)]
    pub name: Option<String>,
    #[schema(max_length = 255)]
    pub manufacturer: Option<String>,
    #[schema(max_length = 255)]
    pub model: Option<String>,
    #[schema(max_length = 255)]
    pub area_id: Option<String>,
    #[schema(max_length = 255)]
    pub integration: Option<String>,
    /// RFC 3339, at most 5 minutes in the future.
    #[schema(format = DateTime)]
    pub last_seen: Option<String>,
}

impl From<DeviceBody> for RawDevice {
    fn from(b: DeviceBody) -> Self {
        Self {
            device_id: b.device_id,
            name: b.name,
            manufacturer: b.manufacturer,
            model: b.model,
            area_id: b.area_id,
            integration: b.integration,
            last_seen: b.last_seen,
        }
    }
}

/// Lists devices by device id.
#[utoipa::path(get, path = "/api/devices", tag = "registry", params(DeviceQuery),
    responses(
        (status = 200, description = "A page of devices", body = DevicePage),
        ReadErrors, QueryErrors,
    ))]
pub async fn list(
    state: web::Data<AppState>,
    query: web::Query<DeviceQuery>,
) -> Result<HttpResponse, ApiError> {
    let page =
        PageRequest::parse(query.limit, query.cursor.as_deref()).map_err(ApiError::bad_query)?;
    let query = query.into_inner();
    let filter = DeviceFilter {
        area_id: query.area_id,
        manufacturer: query.manufacturer,
        integration: query.integration,
        q: query.q,
    };
    let page = devices::list(&state.db, &filter, DeviceSort::IdAsc, &page)
        .await
        .map_err(ApiError::bad_query)?;
    Ok(HttpResponse::Ok().json(DevicePage {
        items: page.items,
        next_cursor: page.next_cursor,
    }))
}

/// One device with its entities.
#[utoipa::path(get, path = "/api/devices/{device_id}", tag = "registry",
    params(DevicePath),
    responses(
        (status = 200, description = "The device and its entities", body = service::registry::DeviceDetail),
        ReadErrors, NotFound,
    ))]
pub async fn get(
    state: web::Data<AppState>,
    path: web::Path<DevicePath>,
) -> Result<HttpResponse, ApiError> {
    let detail = devices::get(&state.db, &path.device_id).await?;
    Ok(HttpResponse::Ok().json(detail))
}

/// Creates or replaces one device.
#[utoipa::path(put, path = "/api/devices/{device_id}", tag = "registry",
    params(DevicePath),
    request_body = DeviceBody,
    responses(
        (status = 200, description = "Replaced", body = DeviceView),
        (status = 201, description = "Created", body = DeviceView),
        WriteErrors, BodyErrors,
    ))]
pub async fn put(
    state: web::Data<AppState>,
    acting: Acting,
    path: web::Path<DevicePath>,
    body: Json<DeviceBody>,
) -> Result<HttpResponse, ApiError> {
    let path = path.into_inner().device_id;
    let mut raw = RawDevice::from(body.0);
    match raw.device_id.as_deref() {
        Some(id) if id != path => {
            return Err(ApiError::invalid_field(
                "device_id",
                "must equal the device id of the path",
            ));
        }
        _ => raw.device_id = Some(path),
    }
    let input = raw.parse()?;
    let (actor, ip) = (acting.actor(), acting.ip());
    let (view, created) = state
        .write(move |db| async move { devices::put(&db, &actor, ip, input).await })
        .await?;
    Ok(if created {
        HttpResponse::Created().json(view)
    } else {
        HttpResponse::Ok().json(view)
    })
}

/// Deletes a device and its entities.
#[utoipa::path(delete, path = "/api/devices/{device_id}", tag = "registry",
    params(DevicePath),
    responses(
        (status = 204, description = "Deleted, with its entities"),
        WriteErrors, NotFound,
    ))]
pub async fn delete(
    state: web::Data<AppState>,
    acting: Acting,
    path: web::Path<DevicePath>,
) -> Result<HttpResponse, ApiError> {
    let (actor, ip, id) = (acting.actor(), acting.ip(), path.into_inner().device_id);
    state
        .write(move |db| async move { devices::delete(&db, &actor, ip, &id).await })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Registers the device API.
pub fn routes(r: &mut Router) {
    let read = Access::Permission(Permission::RegistryRead);
    let write = Access::Permission(Permission::RegistryWrite);
    r.api(Method::GET, "/api/devices", read, list)
        .api(Method::GET, "/api/devices/{device_id}", read, get)
        .api(Method::PUT, "/api/devices/{device_id}", write, put)
        .api(Method::DELETE, "/api/devices/{device_id}", write, delete);
}
