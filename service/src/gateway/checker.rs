//! The background checker: every `METADECK_MCP_CHECK_SECONDS` it checks each enabled server
//! through the same [`super::check::check`] as the console and the API, a few at a time so
//! that slow servers (up to 10 s each) never hold up the rest.

use futures_util::StreamExt;
use sea_orm::DatabaseConnection;
use tokio::sync::watch;

use super::{GatewayConfig, check, servers};

/// Servers checked at once.
const AT_ONCE: usize = 4;

/// Checks every enabled server once; answers how many were checked.
pub async fn check_all(db: &DatabaseConnection, config: &GatewayConfig) -> crate::Result<usize> {
    let ids = servers::enabled_ids(db).await?;
    let count = ids.len();
    futures_util::stream::iter(ids)
        .map(|id| async move {
            let id = id.to_string();
            if let Err(err) = check::check(db, config, &id).await {
                tracing::warn!(server = %id, error = %err, "an MCP server check could not be recorded");
            }
        })
        .buffer_unordered(AT_ONCE)
        .collect::<Vec<()>>()
        .await;
    Ok(count)
}

/// Checks every `config.check_every` until `shutdown` turns true (or its sender goes away).
pub async fn run_checker(
    db: DatabaseConnection,
    config: GatewayConfig,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(config.check_every) => {}
            _ = shutdown.wait_for(|stop| *stop) => return,
        }
        tokio::select! {
            done = check_all(&db, &config) => {
                if let Err(err) = done {
                    tracing::warn!(error = %err, "the MCP servers could not be listed for checking");
                }
            }
            _ = shutdown.wait_for(|stop| *stop) => return,
        }
    }
}
