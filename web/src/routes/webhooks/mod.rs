//! Webhooks area: subscriptions and the delivery log over JSON, and their pages.

pub mod api;
pub mod bodies;
pub mod deliveries_api;
pub mod list_bulk;
pub mod page_edit;
pub mod pages;

use utoipa::OpenApi;

use crate::routes::Router;

/// The webhooks area's part of the API description.
/// It names the handler of each of the area's JSON routes (the schemas they use follow from
/// them); `tests/e2e/openapi.rs` checks that none is missing.
#[derive(OpenApi)]
#[openapi(
    paths(api::list, api::create, api::get, api::replace, api::patch, api::delete, api::rotate,
        api::test, deliveries_api::list, deliveries_api::redeliver),
    tags((name = "webhooks", description = "Webhook subscriptions, signed deliveries and their log")),
)]
pub struct ApiDoc;

/// Declares the webhooks area's routes.
pub fn routes(r: &mut Router) {
    api::routes(r);
    deliveries_api::routes(r);
    // `/webhooks/new` is declared before `/webhooks/{id}`, which would match it too.
    list_bulk::routes(r);
    pages::routes(r);
    page_edit::routes(r);
}
