//! The sync area's background work, started with the server: the stale sweep at start-up,
//! the periodic sweeper, and the poller of the live dashboard feed. All of them end when the
//! shutdown signal turns true.

use std::sync::Arc;
use std::time::Duration;

use sea_orm::DatabaseConnection;
use service::sync::{LiveHub, stale};
use tokio::sync::watch;

use crate::settings::Settings;

/// How often the live feed looks at the database for changes made by any instance.
pub const LIVE_POLL: Duration = Duration::from_millis(400);

/// Fails the syncs that went stale while no instance was running.
pub async fn sweep_at_startup(db: &DatabaseConnection, settings: &Settings) {
    match stale::sweep(db, stale_after(settings)).await {
        Ok(failed) if !failed.is_empty() => {
            tracing::warn!(count = failed.len(), "stale syncs failed at start-up");
        }
        Ok(_) => {}
        Err(err) => tracing::warn!(error = %err, "the start-up stale-sync sweep failed"),
    }
}

/// Spawns the sweeper and the live-feed poller on the current runtime.
pub fn spawn(
    db: &DatabaseConnection,
    settings: &Settings,
    hub: &Arc<LiveHub>,
    shutdown: &watch::Receiver<bool>,
) {
    let poke = Arc::clone(hub);
    tokio::spawn(stale::run_sweeper(
        db.clone(),
        stale_after(settings),
        settings.sync_sweep_every,
        shutdown.clone(),
        move || poke.poke(),
    ));
    tokio::spawn(Arc::clone(hub).run(db.clone(), LIVE_POLL));
}

fn stale_after(settings: &Settings) -> chrono::Duration {
    chrono::Duration::from_std(settings.sync_stale_after).unwrap_or(chrono::Duration::minutes(30))
}

/// Turns `shutdown` true on SIGINT or SIGTERM, alongside the server's own handling of them,
/// so that open event streams end at once instead of holding up the graceful stop.
pub fn end_streams_on_signal(shutdown: Arc<watch::Sender<bool>>) {
    tokio::spawn(async move {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let (Ok(mut term), Ok(mut int)) = (
                signal(SignalKind::terminate()),
                signal(SignalKind::interrupt()),
            ) else {
                return;
            };
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
                _ = shutdown.closed() => return,
            }
        }
        #[cfg(not(unix))]
        {
            if tokio::signal::ctrl_c().await.is_err() {
                return;
            }
        }
        shutdown.send_replace(true);
    });
}
