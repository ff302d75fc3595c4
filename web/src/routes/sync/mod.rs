//! Sync area (spec 03): the orchestrators' JSON API, the live dashboard and the history.

pub mod dashboard;
pub mod history;
pub mod live;
pub mod params;
pub mod runs_api;
pub mod status_api;
pub mod views;

use utoipa::OpenApi;

use crate::routes::Router;

/// The sync area's part of the API description.
/// It names the handler of each of the area's JSON routes (the schemas they use follow from
/// them); `tests/e2e/openapi.rs` checks that none is missing.
#[derive(OpenApi)]
#[openapi(
    paths(runs_api::list, runs_api::start, runs_api::get, runs_api::report, runs_api::cancel,
        status_api::status, status_api::tenants),
    tags((name = "sync", description = "Sync tracking: orchestrators report, admins watch")),
)]
pub struct ApiDoc;

/// Declares the sync area's routes; the fixed `/sync/…` paths come before `/sync/{id}`.
pub fn routes(r: &mut Router) {
    runs_api::routes(r);
    status_api::routes(r);
    dashboard::routes(r);
    live::routes(r);
    history::routes(r);
}
