//! Shared state handed to every handler.

use std::sync::Arc;

use actix_web::cookie::Key;
use sea_orm::DatabaseConnection;

use crate::settings::Settings;

/// What handlers reach through `web::Data<AppState>`.
#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub settings: Arc<Settings>,
    /// The base URL callers reach this instance at (issuer, verification URIs, links).
    pub public_url: Arc<str>,
    /// Signs the session cookie, the pre-session CSRF cookie and flash messages.
    pub cookie_key: Key,
    /// Whether cookies carry the `Secure` flag.
    pub cookie_secure: bool,
    /// The `/healthz` database probe and its short-lived cache.
    pub health: Arc<service::operations::HealthProbe>,
    /// The live sync feed behind the dashboard's event streams.
    pub sync_live: Arc<service::sync::LiveHub>,
    /// The webhook secrets' cipher, the SSRF switch and the retry schedule.
    pub webhooks: Arc<service::webhooks::WebhookConfig>,
}
