//! The operations area's background work, started with the server: scheduled backups
//! (`METADECK_BACKUP_DIR`). It ends when the shutdown signal turns true.

use sea_orm::DatabaseConnection;
use service::operations::backup::schedule;
use tokio::sync::watch;

use crate::settings::Settings;

/// Spawns the backup schedule on the current runtime, when one is configured.
pub fn spawn(db: &DatabaseConnection, settings: &Settings, shutdown: &watch::Receiver<bool>) {
    if let Some(plan) = settings.backup_schedule.clone() {
        tracing::info!(dir = %plan.dir.display(), every_secs = plan.every.as_secs(), keep = plan.keep, "scheduled backups on");
        tokio::spawn(schedule::run(db.clone(), plan, shutdown.clone()));
    }
}
