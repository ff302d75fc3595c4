//! HTTP routes, one module per area; each declares its routes, with their access rule,
//! in its own `routes(&mut Router)`.

pub mod access;
pub mod api_errors;
pub mod assets;
pub(crate) mod bulk;
pub(crate) mod form_input;
pub(crate) mod forms;
pub mod gateway;
pub mod health;
pub mod home;
pub mod metrics;
pub mod oauth;
pub mod openapi;
pub mod ops;
pub mod registry;
pub mod retention;
pub mod router;
mod shown_once;
pub mod sync;
pub mod system;
mod views;
pub mod webhooks;

use actix_web::web::ServiceConfig;
pub use router::{RouteSpec, Router};

/// Every route of the application, declared once.
pub fn router() -> Router {
    let mut r = Router::default();
    health::routes(&mut r);
    openapi::routes(&mut r);
    assets::routes(&mut r);
    home::routes(&mut r);
    access::routes(&mut r);
    oauth::routes(&mut r);
    sync::routes(&mut r);
    registry::routes(&mut r);
    webhooks::routes(&mut r);
    gateway::routes(&mut r);
    shown_once::routes(&mut r);
    ops::routes(&mut r);
    system::routes(&mut r);
    retention::routes(&mut r);
    metrics::routes(&mut r);
    r
}

/// The catalog of declared routes (what the authorization-matrix test walks).
pub fn catalog() -> Vec<RouteSpec> {
    router().specs()
}

/// Registers every route of the application.
pub fn configure(cfg: &mut ServiceConfig) {
    router().install(cfg);
}
