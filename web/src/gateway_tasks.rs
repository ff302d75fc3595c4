//! The gateway area's background work, started with the server: the checker that visits
//! every enabled MCP server, and the poller that keeps the config cache in step with the
//! other instances. Both end when the shutdown signal turns true.

use std::sync::Arc;

use sea_orm::DatabaseConnection;
use service::gateway::config::{ConfigCache, watch as config_watch};
use service::gateway::{GatewayConfig, checker};
use tokio::sync::watch;

use crate::settings::Settings;

/// Spawns the MCP server checker on the current runtime.
pub fn spawn(db: &DatabaseConnection, config: &GatewayConfig, shutdown: &watch::Receiver<bool>) {
    tokio::spawn(checker::run_checker(
        db.clone(),
        config.clone(),
        shutdown.clone(),
    ));
}

/// This instance's config cache, brought up to date now and then kept so by a poller every
/// `METADECK_CONFIG_POLL_MS`.
pub async fn follow_config(
    db: &DatabaseConnection,
    settings: &Settings,
    shutdown: &watch::Receiver<bool>,
) -> Arc<ConfigCache> {
    let cache = Arc::new(ConfigCache::new(settings.config_poll_every));
    config_watch::start(db, &cache, shutdown).await;
    cache
}
