//! Shared state handed to every handler.

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::settings::Settings;

/// What handlers reach through `web::Data<AppState>`.
#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub settings: Arc<Settings>,
    /// The base URL callers reach this instance at (issuer, verification URIs, links).
    pub public_url: Arc<str>,
}
