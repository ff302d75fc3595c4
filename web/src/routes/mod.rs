//! HTTP routes, one module per area; each declares its routes, with their access rule,
//! in its own `routes(&mut Router)`.

pub mod account;
pub mod admin_role_edit;
pub mod admin_roles;
pub mod admin_user_edit;
pub mod admin_users;
pub mod assets;
pub mod audit;
pub mod auth;
mod form_input;
pub mod health;
pub mod home;
pub mod openapi;
pub mod router;
pub mod sessions;
pub mod users_api;
mod views;

use actix_web::web::ServiceConfig;
pub use router::{RouteSpec, Router};

/// Every route of the application, declared once.
pub fn router() -> Router {
    let mut r = Router::default();
    health::routes(&mut r);
    openapi::routes(&mut r);
    assets::routes(&mut r);
    auth::routes(&mut r);
    home::routes(&mut r);
    audit::routes(&mut r);
    account::routes(&mut r);
    sessions::routes(&mut r);
    // `…/new` is declared before `…/{id}`, which would match it too.
    admin_users::routes(&mut r);
    admin_user_edit::routes(&mut r);
    admin_roles::routes(&mut r);
    admin_role_edit::routes(&mut r);
    users_api::routes(&mut r);
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
