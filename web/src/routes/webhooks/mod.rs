//! Webhooks area: subscriptions and the delivery log over JSON, and their pages.

pub mod api;
pub mod bodies;
pub mod deliveries_api;
pub mod page_edit;
pub mod pages;

use utoipa::OpenApi;

use crate::routes::Router;

/// The webhooks area's part of the API description.
#[derive(OpenApi)]
#[openapi(
    paths(api::list, api::create, api::get, api::replace, api::patch, api::delete, api::rotate,
        api::test, deliveries_api::list, deliveries_api::redeliver),
    components(schemas(api::WebhookJson, api::WebhookWithSecret, api::WebhookPage,
        api::CreateWebhook, api::ReplaceWebhook, api::PatchWebhook, api::TestQueued,
        deliveries_api::DeliveryJson, deliveries_api::DeliveryPage)),
    tags((name = "webhooks", description = "Webhook subscriptions, signed deliveries and their log")),
)]
pub struct ApiDoc;

/// Declares the webhooks area's routes.
pub fn routes(r: &mut Router) {
    api::routes(r);
    deliveries_api::routes(r);
    // `/webhooks/new` is declared before `/webhooks/{id}`, which would match it too.
    pages::routes(r);
    page_edit::routes(r);
}
