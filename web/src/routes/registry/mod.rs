//! Registry area: devices, entities, the bulk upserts a discovery service posts to, and each
//! user's preferences (spec 04).

pub mod bulk_api;
pub mod device_page;
pub mod devices_api;
pub mod devices_pages;
pub mod entities_api;
pub mod entities_pages;
pub mod entity_page;
pub mod preferences_api;
pub mod preferences_page;

use utoipa::OpenApi;

use crate::routes::Router;

/// The registry area's part of the API description.
/// It names the handler of each of the area's JSON routes (the schemas they use follow from
/// them); `tests/e2e/openapi.rs` checks that none is missing.
#[derive(OpenApi)]
#[openapi(
    paths(devices_api::list, devices_api::get, devices_api::put, devices_api::delete,
        entities_api::list, entities_api::get, entities_api::put, entities_api::delete,
        bulk_api::devices, bulk_api::entities, preferences_api::get, preferences_api::put),
    tags((name = "registry", description = "Devices, entities, bulk upserts and user preferences")),
)]
pub struct ApiDoc;

/// Declares the registry area's routes.
pub fn routes(r: &mut Router) {
    devices_api::routes(r);
    entities_api::routes(r);
    bulk_api::routes(r);
    preferences_api::routes(r);
    // `…/new` is declared before `…/{device_id}`, which would match it too.
    devices_pages::routes(r);
    device_page::routes(r);
    entities_pages::routes(r);
    entity_page::routes(r);
    preferences_page::routes(r);
}
