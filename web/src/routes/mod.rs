//! HTTP routes, one module per area; each registers its own routes with `configure`.

pub mod assets;
pub mod health;
pub mod home;
pub mod openapi;

use actix_web::web::ServiceConfig;

/// Registers every route of the application.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.configure(health::configure)
        .configure(openapi::configure)
        .configure(assets::configure)
        .configure(home::configure);
}
