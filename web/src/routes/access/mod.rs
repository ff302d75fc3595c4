//! Access area: sign-in, account, sessions, users, roles and the audit trail.

pub mod account;
pub mod admin_role_edit;
pub mod admin_roles;
pub mod admin_user_edit;
pub mod admin_user_second_factor;
pub mod admin_users;
pub mod audit;
pub mod auth;
pub mod second_factor;
pub mod second_step;
pub mod sessions;
pub mod sessions_bulk;
pub mod sso;
pub mod users_api;
pub mod users_bulk;

use utoipa::OpenApi;

use crate::routes::Router;

/// The access area's part of the API description.
/// It names the handler of each of the area's JSON routes (the schemas they use follow from
/// them); `tests/e2e/openapi.rs` checks that none is missing.
#[derive(OpenApi)]
#[openapi(
    paths(audit::list_api, users_api::list, users_api::create),
    tags((name = "audit", description = "The admin audit trail"), (name = "access", description = "Admin users")),
)]
pub struct ApiDoc;

/// Declares the access area's routes.
pub fn routes(r: &mut Router) {
    auth::routes(r);
    second_step::routes(r);
    sso::routes(r);
    audit::routes(r);
    account::routes(r);
    second_factor::routes(r);
    sessions::routes(r);
    sessions_bulk::routes(r);
    // `…/new` is declared before `…/{id}`, which would match it too.
    admin_users::routes(r);
    users_bulk::routes(r);
    admin_user_edit::routes(r);
    admin_user_second_factor::routes(r);
    admin_roles::routes(r);
    admin_role_edit::routes(r);
    users_api::routes(r);
}
