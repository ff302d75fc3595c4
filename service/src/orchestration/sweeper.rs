//! The orchestration sweeper: fails lost runs (running, with no event, unit change or run
//! change for the lost period), periodically while the server runs. Expired facts are not
//! its business: they are invisible to every read at expiry and deleted with everything else
//! that expires by the operations sweeper and `metadeck purge` (`operations::purge`). A lost run fails with an `error` beginning `lost:`, its running units fail with it,
//! and it is announced (`run.failed`) and audited like any run that ends.

use std::time::Duration as StdDuration;

use chrono::Duration;
use entity::{plan_units, runs};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect};
use serde::Serialize;
use tokio::sync::watch;

use super::status::{RunStatus, UnitStatus};
use super::{now, units};
use crate::Result;
use crate::audit::{Actor, commit_audited};
use crate::db::begin_write;

/// What one sweep did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SweepReport {
    /// Ids of the runs failed as lost.
    pub runs_lost: Vec<String>,
}

/// One sweep: the lost runs.
pub async fn sweep(db: &DatabaseConnection, lost_after: Duration) -> Result<SweepReport> {
    Ok(SweepReport {
        runs_lost: fail_lost(db, lost_after).await?,
    })
}

/// Fails every run silent for longer than `lost_after`; returns their ids. Each run is
/// failed in a transaction of its own, re-checked under lock, so that a sign of life
/// arriving meanwhile wins.
pub async fn fail_lost(db: &DatabaseConnection, lost_after: Duration) -> Result<Vec<String>> {
    let cutoff = now() - lost_after;
    let candidates: Vec<String> = runs::Entity::find()
        .select_only()
        .column(runs::Column::Id)
        .filter(runs::Column::Status.eq(RunStatus::Running.as_str()))
        .filter(runs::Column::UpdatedAt.lt(cutoff.fixed_offset()))
        .into_tuple()
        .all(db)
        .await?;
    let mut failed = Vec::new();
    for id in candidates {
        let txn = begin_write(db).await?;
        let Some(row) = runs::Entity::find_by_id(id.as_str())
            .lock_exclusive()
            .one(&txn)
            .await?
        else {
            continue;
        };
        let at = now();
        if row.status != RunStatus::Running.as_str() || row.updated_at.to_utc() >= at - lost_after {
            continue;
        }
        let error = format!(
            "lost: no event, unit change or run change for more than {} minutes (last sign of life {})",
            lost_after.num_minutes(),
            row.updated_at
                .to_utc()
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        );
        let running = plan_units::Entity::find()
            .filter(plan_units::Column::RunId.eq(id.as_str()))
            .filter(plan_units::Column::Status.eq(UnitStatus::Running.as_str()))
            .all(&txn)
            .await?;
        for unit in running {
            units::finish(&txn, unit, UnitStatus::Failed, Some(error.clone()), at).await?;
        }
        let run = super::runs::finish(&txn, row, RunStatus::Failed, Some(error), at).await?;
        let (events, entry) = super::runs::announcement(&run, &Actor::System, None)?;
        commit_audited(txn, entry, &events).await?;
        failed.push(id);
    }
    Ok(failed)
}

/// Sweeps every `every` until `shutdown` turns true (or its sender goes away), logging what
/// each sweep removed.
pub async fn run_sweeper(
    db: DatabaseConnection,
    lost_after: Duration,
    every: StdDuration,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = shutdown.wait_for(|stop| *stop) => return,
        }
        match sweep(&db, lost_after).await {
            Ok(report) => {
                for run_id in &report.runs_lost {
                    tracing::warn!(run_id = %run_id, "lost run failed");
                }
            }
            Err(err) => tracing::warn!(error = %err, "the orchestration sweep failed"),
        }
    }
}
