//! The background workers' bookkeeping: one `worker_runs` row per worker with its last run,
//! what it did and how it ended, shown on `/system` (the sweeper, the webhook dispatcher).

use chrono::{DateTime, Utc};
use entity::worker_runs;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::Result;
use crate::db::writer_turn;

/// What a worker reports about its run.
#[derive(Debug, Clone)]
pub enum WorkerState {
    /// A run begins: the previous one's details and error are cleared.
    Started,
    /// Still running; what it has done so far.
    Running(Value),
    /// Finished; what it did.
    Finished(Value),
    /// Failed, and why.
    Failed(String),
}

/// Notes `worker`'s state in `worker_runs`. Failures are logged, never fatal: bookkeeping
/// must not stop the work it records.
pub async fn record_worker(db: &DatabaseConnection, worker: &str, state: WorkerState) {
    if let Err(err) = record(db, worker, state).await {
        tracing::debug!(worker, error = %err, "recording a worker's state failed");
    }
}

async fn record(db: &DatabaseConnection, worker: &str, state: WorkerState) -> Result<()> {
    let turn = writer_turn(db).await?;
    let now = Utc::now().fixed_offset();
    if let WorkerState::Started = state {
        let row = worker_runs::ActiveModel {
            worker: Set(worker.into()),
            last_started_at: Set(now),
            last_finished_at: Set(None),
            last_result: Set("running".into()),
            last_details: Set(None),
            last_error: Set(None),
        };
        return upsert(&turn, row).await;
    }
    let change = match state {
        WorkerState::Running(details) => worker_runs::ActiveModel {
            last_result: Set("running".into()),
            last_details: Set(Some(details)),
            ..Default::default()
        },
        WorkerState::Finished(details) => worker_runs::ActiveModel {
            last_finished_at: Set(Some(now)),
            last_result: Set("ok".into()),
            last_details: Set(Some(details)),
            last_error: Set(None),
            ..Default::default()
        },
        WorkerState::Failed(error) => worker_runs::ActiveModel {
            last_finished_at: Set(Some(now)),
            last_result: Set("error".into()),
            last_error: Set(Some(error)),
            ..Default::default()
        },
        WorkerState::Started => return Ok(()),
    };
    worker_runs::Entity::update_many()
        .set(change)
        .filter(worker_runs::Column::Worker.eq(worker))
        .exec(&turn)
        .await?;
    Ok(())
}

/// A run recorded once it has ended, by workers that have nothing to report while running
/// (the integrity check, scheduled backups).
#[derive(Debug, Clone)]
pub struct FinishedRun {
    /// When the run began.
    pub started_at: DateTime<Utc>,
    /// What it did (counts, files), shown on `/system`.
    pub details: Value,
    /// Why it failed; `None` when it succeeded.
    pub error: Option<String>,
}

/// Records `run` as `worker`'s last run in one write. Failures are logged, never fatal.
pub async fn record_finished(db: &DatabaseConnection, worker: &str, run: FinishedRun) {
    let row = worker_runs::ActiveModel {
        worker: Set(worker.to_owned()),
        last_started_at: Set(run.started_at.fixed_offset()),
        last_finished_at: Set(Some(Utc::now().fixed_offset())),
        last_result: Set(if run.error.is_none() { "ok" } else { "error" }.into()),
        last_details: Set(Some(run.details)),
        last_error: Set(run.error),
    };
    let written = match writer_turn(db).await {
        Ok(turn) => upsert(&turn, row).await,
        Err(err) => Err(err.into()),
    };
    if let Err(err) = written {
        tracing::warn!(worker, error = %err, "recording the worker's run failed");
    }
}

/// Writes a worker's whole row, creating it on the worker's first run.
async fn upsert(db: &impl ConnectionTrait, row: worker_runs::ActiveModel) -> Result<()> {
    worker_runs::Entity::insert(row)
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
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// A background worker's last run, as recorded in `worker_runs`: the one view of that table
/// (the `/system` page, the retention page, `/health?details` and `/api/system` all read it).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WorkerStatus {
    /// The worker's name (`sweeper`, `backup`, `webhook_dispatcher`, …).
    pub worker: String,
    /// When its last run started.
    pub last_started_at: DateTime<Utc>,
    /// When its last run finished; `None` while it runs.
    pub last_finished_at: Option<DateTime<Utc>>,
    /// `running`, `ok` or `error`.
    pub last_result: String,
    /// What it did (any JSON value).
    #[schema(value_type = Option<Object>)]
    pub last_details: Option<Value>,
    /// Why its last run failed, when it did.
    pub last_error: Option<String>,
}

impl From<worker_runs::Model> for WorkerStatus {
    fn from(row: worker_runs::Model) -> Self {
        Self {
            worker: row.worker,
            last_started_at: row.last_started_at.to_utc(),
            last_finished_at: row.last_finished_at.map(|at| at.to_utc()),
            last_result: row.last_result,
            last_details: row.last_details,
            last_error: row.last_error,
        }
    }
}

/// `worker`'s last run, if it ever ran.
pub async fn last_run(db: &impl ConnectionTrait, worker: &str) -> Result<Option<WorkerStatus>> {
    Ok(worker_runs::Entity::find_by_id(worker)
        .one(db)
        .await?
        .map(WorkerStatus::from))
}

/// Every worker's last run, by name.
pub async fn all(db: &impl ConnectionTrait) -> Result<Vec<WorkerStatus>> {
    Ok(worker_runs::Entity::find()
        .order_by_asc(worker_runs::Column::Worker)
        .all(db)
        .await?
        .into_iter()
        .map(WorkerStatus::from)
        .collect())
}
