//! Background work started with the server: the orchestration sweeper that fails lost runs,
//! and the operations sweeper that purges what expired and what
//! the retention policies no longer keep. Both end when the shutdown signal turns true.

use sea_orm::DatabaseConnection;
use service::operations::sweeper as purge_sweeper;
use service::orchestration::sweeper;
use tokio::sync::watch;

use crate::settings::Settings;

/// Spawns both sweepers on the current runtime.
pub fn spawn(db: &DatabaseConnection, settings: &Settings, shutdown: &watch::Receiver<bool>) {
    tokio::spawn(sweeper::run_sweeper(
        db.clone(),
        lost_after(settings),
        settings.ops_sweep_every,
        shutdown.clone(),
    ));
    tokio::spawn(purge_sweeper::run_sweeper(
        db.clone(),
        settings.retention.clone(),
        settings.sweep_every,
        shutdown.clone(),
    ));
}

/// The lost-run period as the service takes it.
pub fn lost_after(settings: &Settings) -> chrono::Duration {
    chrono::Duration::from_std(settings.ops_lost_after).unwrap_or(chrono::Duration::minutes(60))
}
