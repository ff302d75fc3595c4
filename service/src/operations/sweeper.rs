//! The sweeper: a purge every minute while the server runs (spec 09), each run recorded in
//! `worker_runs` as worker `sweeper` with what it removed, logged, and counted in the metrics.

use std::time::Duration;

use sea_orm::DatabaseConnection;
use tokio::sync::watch;

use super::metrics::metrics;
use super::purge::{PurgeReport, purge};
use super::retention::RetentionSettings;
use super::workers::{WorkerState, record_worker};
use crate::Result;

/// The sweeper's name in `worker_runs`.
pub const WORKER_NAME: &str = "sweeper";

/// One sweeper run: the purge, recorded and logged.
pub async fn sweep(db: &DatabaseConnection, settings: &RetentionSettings) -> Result<PurgeReport> {
    record_worker(db, WORKER_NAME, WorkerState::Started).await;
    match purge(db, settings).await {
        Ok(report) => {
            let details = serde_json::to_value(report.removed).unwrap_or_default();
            record_worker(db, WORKER_NAME, WorkerState::Finished(details)).await;
            metrics().swept(&report.removed);
            if report.removed.total() > 0 {
                tracing::info!(removed = %report.removed.summary(), "the sweeper purged");
            }
            Ok(report)
        }
        Err(err) => {
            record_worker(db, WORKER_NAME, WorkerState::Failed(err.to_string())).await;
            Err(err)
        }
    }
}

/// Sweeps every `every` until `shutdown` turns true (or its sender goes away).
pub async fn run_sweeper(
    db: DatabaseConnection,
    settings: RetentionSettings,
    every: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = shutdown.wait_for(|stop| *stop) => return,
        }
        if let Err(err) = sweep(&db, &settings).await {
            tracing::warn!(error = %err, "the sweeper's purge failed");
        }
    }
}
