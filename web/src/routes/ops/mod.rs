//! Orchestration area (spec 07): runs with their plan units, the event log, resource state
//! with its versions and facts over JSON, and their pages.

pub mod bodies;
pub mod events_api;
pub mod fact_list;
pub mod facts_api;
pub mod graph;
pub mod lists;
pub mod live;
pub mod pages;
pub mod resource_page;
pub mod resources_api;
pub mod run_page;
pub mod runs_api;

use utoipa::OpenApi;

use crate::routes::Router;

/// The orchestration area's part of the API description.
/// It names the handler of each of the area's JSON routes (the schemas they use follow from
/// them); `tests/e2e/openapi.rs` checks that none is missing.
#[derive(OpenApi)]
#[openapi(
    paths(runs_api::list, runs_api::create, runs_api::get, runs_api::patch, runs_api::patch_unit,
        events_api::append, events_api::tail,
        resources_api::list, resources_api::put, resources_api::get, resources_api::delete,
        resources_api::list_versions, resources_api::get_version, resources_api::restore,
        facts_api::list, facts_api::put, facts_api::get, facts_api::delete),
    tags((name = "orchestration", description = "Runs and plan units, the event log, resource state with its versions, facts with a TTL")),
)]
pub struct ApiDoc;

/// Declares the orchestration area's routes.
pub fn routes(r: &mut Router) {
    runs_api::routes(r);
    events_api::routes(r);
    resources_api::routes(r);
    facts_api::routes(r);
    pages::routes(r);
    live::routes(r);
}
