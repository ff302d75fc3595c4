//! The gateway area's background work, started with the server: the checker that visits
//! every enabled MCP server. It ends when the shutdown signal turns true.

use sea_orm::DatabaseConnection;
use service::gateway::{GatewayConfig, checker};
use tokio::sync::watch;

/// Spawns the MCP server checker on the current runtime.
pub fn spawn(db: &DatabaseConnection, config: &GatewayConfig, shutdown: &watch::Receiver<bool>) {
    tokio::spawn(checker::run_checker(
        db.clone(),
        config.clone(),
        shutdown.clone(),
    ));
}
