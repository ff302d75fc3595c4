//! Stale detection: a running sync without any report for the stale period is failed with
//! `error_details` beginning `stale:`, at start-up and then periodically by [`run_sweeper`].

use std::time::Duration as StdDuration;

use chrono::Duration;
use entity::sync_history::{self, Column};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect};
use tokio::sync::watch;

use super::model::{SyncRecord, SyncStatus, now};
use super::runs::fail_stale;
use crate::Result;
use crate::db::begin_write;

/// Fails every running sync silent for longer than `stale_after`; returns them.
///
/// Each sync is failed in a transaction of its own, re-checked under lock, so a report
/// arriving meanwhile wins and a sweep on another instance does not fail a sync twice.
pub async fn sweep(db: &DatabaseConnection, stale_after: Duration) -> Result<Vec<SyncRecord>> {
    let cutoff = now() - stale_after;
    let candidates: Vec<i64> = sync_history::Entity::find()
        .select_only()
        .column(Column::Id)
        .filter(Column::Status.eq(SyncStatus::Running.as_str()))
        .filter(Column::UpdatedAt.lt(cutoff.fixed_offset()))
        .into_tuple()
        .all(db)
        .await?;
    let mut failed = Vec::new();
    for id in candidates {
        let txn = begin_write(db).await?;
        let Some(row) = sync_history::Entity::find_by_id(id)
            .lock_exclusive()
            .one(&txn)
            .await?
        else {
            continue;
        };
        let at = now();
        if row.status != SyncStatus::Running.as_str() || row.updated_at.to_utc() >= at - stale_after
        {
            continue;
        }
        failed.push(fail_stale(&txn, row, stale_after, at).await?);
        txn.commit().await?;
    }
    Ok(failed)
}

/// Sweeps every `every` until `shutdown` turns true (or its sender goes away).
pub async fn run_sweeper(
    db: DatabaseConnection,
    stale_after: Duration,
    every: StdDuration,
    mut shutdown: watch::Receiver<bool>,
    on_change: impl Fn() + Send + 'static,
) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = shutdown.wait_for(|stop| *stop) => return,
        }
        match sweep(&db, stale_after).await {
            Ok(failed) if !failed.is_empty() => {
                for s in &failed {
                    tracing::warn!(sync_id = s.id, tenant_id = %s.tenant_id, "stale sync failed");
                }
                on_change();
            }
            Ok(_) => {}
            Err(err) => tracing::warn!(error = %err, "the stale-sync sweep failed"),
        }
    }
}
