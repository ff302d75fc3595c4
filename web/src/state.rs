//! Shared state handed to every handler.

use std::future::Future;
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
    /// The cipher of stored TOTP secrets (the second factor).
    pub totp: service::access::totp::TotpCipher,
    /// The MCP header cipher, the check client and the checker's interval.
    pub gateway: Arc<service::gateway::GatewayConfig>,
    /// This instance's cache of the shared gateway config, kept in step with other instances.
    pub config_cache: Arc<service::gateway::config::ConfigCache>,
    /// The server's shared multi-threaded runtime, where API writes run ([`AppState::write`]).
    pub runtime: tokio::runtime::Handle,
}

impl AppState {
    /// Runs a service call that writes on the server's shared runtime, not on the HTTP worker
    /// that took the request, and answers what it answers. Every JSON API route that writes
    /// goes through it; console form posts, one admin at a time, call their service directly.
    ///
    /// Each HTTP worker is a single-threaded runtime that attends to the database's answers
    /// only after every other connection it has ready. A write holding SQLite's writer turn
    /// waited there at each statement, and every write queued behind it waited too; on the
    /// shared runtime nothing else is queued, so statements follow one another at once and
    /// the turn passes on, and concurrent writes get through far sooner (the measurements are
    /// in tests/bench/README.md). A write started also finishes when its client goes away,
    /// rather than being rolled back midway.
    pub async fn write<T, F, Fut>(&self, write: F) -> service::Result<T>
    where
        F: FnOnce(DatabaseConnection) -> Fut,
        Fut: Future<Output = service::Result<T>> + Send + 'static,
        T: Send + 'static,
    {
        self.runtime
            .spawn(write(self.db.clone()))
            .await
            .map_err(service::Error::internal)?
    }
}
