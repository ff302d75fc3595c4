//! Writing a background worker's last run into `worker_runs`, which `/system` shows.

use chrono::{DateTime, Utc};
use entity::worker_runs;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, DatabaseConnection, EntityTrait};
use serde_json::Value;

/// How a worker's run ended.
#[derive(Debug, Clone)]
pub struct FinishedRun {
    pub started_at: DateTime<Utc>,
    /// What it did (counts, files), shown on `/system`.
    pub details: Value,
    /// Why it failed; `None` when it succeeded.
    pub error: Option<String>,
}

/// Records `run` as `worker`'s last run. A failure to record is logged, never fatal: the
/// worker's own work is done either way.
pub async fn record_finished(db: &DatabaseConnection, worker: &str, run: FinishedRun) {
    let row = worker_runs::ActiveModel {
        worker: Set(worker.to_owned()),
        last_started_at: Set(run.started_at.fixed_offset()),
        last_finished_at: Set(Some(Utc::now().fixed_offset())),
        last_result: Set(if run.error.is_none() { "ok" } else { "error" }.into()),
        last_details: Set(Some(run.details)),
        last_error: Set(run.error),
    };
    let written = match crate::db::writer_turn(db).await {
        Ok(turn) => worker_runs::Entity::insert(row)
            .on_conflict(
                OnConflict::column(worker_runs::Column::Worker)
                    .update_columns([
                        worker_runs::Column::LastStartedAt,
                        worker_runs::Column::LastFinishedAt,
                        worker_runs::Column::LastResult,
                        worker_runs::Column::LastDetails,
                        worker_runs::Column::LastError,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(&turn)
            .await
            .map(drop),
        Err(err) => Err(err),
    };
    if let Err(err) = written {
        tracing::warn!(worker, error = %err, "recording the worker's run failed");
    }
}
