//! The operations area (spec 09): the `/system` page with its check and backup buttons, and
//! the same facts over JSON.

pub mod api;
pub mod download;
pub mod page;
mod view;

use utoipa::OpenApi;

use crate::routes::Router;

/// The operations area's part of the API description; `tests/e2e/openapi.rs` checks that no
/// route is missing.
#[derive(OpenApi)]
#[openapi(
    paths(api::status, api::check, api::backups),
    tags((name = "operations", description = "The database's state, integrity checks and backups")),
)]
pub struct ApiDoc;

/// Declares the operations area's routes.
pub fn routes(r: &mut Router) {
    api::routes(r);
    page::routes(r);
    download::routes(r);
}
