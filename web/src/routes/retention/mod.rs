//! Retention and purge: the `/system/retention` page, the purge button's target, and the
//! same over JSON.

pub mod api;
pub mod page;

use utoipa::OpenApi;

use crate::routes::Router;

/// The retention part of the API description (`tests/e2e/openapi.rs` checks none is missing).
#[derive(OpenApi)]
#[openapi(paths(api::get, api::put, api::purge_now))]
pub struct ApiDoc;

/// Declares the retention routes.
pub fn routes(r: &mut Router) {
    api::routes(r);
    page::routes(r);
}
