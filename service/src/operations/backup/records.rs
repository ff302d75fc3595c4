//! The `backups` rows: writing one per backup, and reading them for `/system`, the JSON API
//! and the metrics.

use std::path::Path;

use chrono::{DateTime, Utc};
use entity::backups;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde::Serialize;
use serde_json::json;

use super::Trigger;
use super::copy::Copied;
use crate::Result;
use crate::audit::{Actor, AuditEntry, commit_audited};
use crate::db::begin_write;
use crate::pagination::{Page, PageRequest};
use crate::webhooks::{Event, EventType};

/// One backup as the JSON API, the page and the `system.backup_failed` event show it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BackupRecord {
    pub id: i64,
    /// `cli`, `page` or `schedule`.
    pub trigger: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    /// The file written (or that was to be written).
    pub file: String,
    /// Size of the verified copy; null when the backup failed.
    pub size_bytes: Option<i64>,
    /// SHA-256 (hex) of the verified copy; null when the backup failed.
    pub sha256: Option<String>,
    /// `succeeded` (verified) or `failed`.
    pub status: String,
    /// Why it failed; null when it succeeded.
    pub error: Option<String>,
}

impl BackupRecord {
    /// True when the copy was verified.
    pub fn succeeded(&self) -> bool {
        self.status == "succeeded"
    }
}

impl From<backups::Model> for BackupRecord {
    fn from(m: backups::Model) -> Self {
        Self {
            id: m.id,
            trigger: m.trigger,
            started_at: m.started_at.to_utc(),
            finished_at: m.finished_at.to_utc(),
            file: m.file,
            size_bytes: m.size_bytes,
            sha256: m.sha256,
            status: m.status,
            error: m.error,
        }
    }
}

/// Writes the row of a finished backup, audited (`backup.succeeded` / `backup.failed`); a
/// failure also queues `system.backup_failed` for the webhooks, in the same transaction.
pub(super) async fn record(
    db: &DatabaseConnection,
    trigger: Trigger,
    actor: &Actor,
    file: &Path,
    started_at: DateTime<Utc>,
    outcome: std::result::Result<Copied, String>,
) -> Result<BackupRecord> {
    let (size, sha256, error) = match outcome {
        Ok((size, sha256)) => (Some(size as i64), Some(sha256), None),
        Err(error) => (None, None, Some(error)),
    };
    let status = if error.is_none() {
        "succeeded"
    } else {
        "failed"
    };
    let txn = begin_write(db).await?;
    let row = backups::ActiveModel {
        trigger: Set(trigger.as_str().into()),
        started_at: Set(started_at.fixed_offset()),
        finished_at: Set(Utc::now().fixed_offset()),
        file: Set(file.display().to_string()),
        size_bytes: Set(size),
        sha256: Set(sha256),
        status: Set(status.into()),
        error: Set(error),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let record = BackupRecord::from(row);
    let details = json!({"trigger": record.trigger, "file": record.file,
        "size_bytes": record.size_bytes, "sha256": record.sha256, "error": record.error});
    let (action, events) = if record.succeeded() {
        ("backup.succeeded", Vec::new())
    } else {
        let data = serde_json::to_value(&record).unwrap_or_default();
        (
            "backup.failed",
            vec![Event::new(EventType::SystemBackupFailed, data)],
        )
    };
    let entry = AuditEntry::new(action, actor)
        .target(record.id.to_string())
        .details(details);
    commit_audited(txn, entry, &events).await?;
    if !events.is_empty() {
        crate::webhooks::dispatcher::wake();
    }
    Ok(record)
}

/// The newest `limit` backups, newest first.
pub async fn recent(db: &impl ConnectionTrait, limit: u64) -> Result<Vec<BackupRecord>> {
    Ok(backups::Entity::find()
        .order_by_desc(backups::Column::Id)
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .map(BackupRecord::from)
        .collect())
}

/// One page of backups, newest first (keyset on the id).
pub async fn list(
    db: &impl ConnectionTrait,
    page: &PageRequest<i64>,
) -> Result<Page<BackupRecord>> {
    let mut query = backups::Entity::find()
        .order_by_desc(backups::Column::Id)
        .limit(page.limit + 1);
    if let Some(after) = page.after {
        query = query.filter(backups::Column::Id.lt(after));
    }
    let rows = query.all(db).await?;
    Ok(Page::from_rows(rows, page.limit, |r| r.id).map(BackupRecord::from))
}

/// When the newest verified backup finished: the last time the database was known to be
/// restorable from a copy. `None` before the first success.
pub async fn last_success(db: &impl ConnectionTrait) -> Result<Option<DateTime<Utc>>> {
    Ok(last_verified(db).await?.map(|b| b.finished_at))
}

/// The newest verified backup.
pub async fn last_verified(db: &impl ConnectionTrait) -> Result<Option<BackupRecord>> {
    Ok(backups::Entity::find()
        .filter(backups::Column::Status.eq("succeeded"))
        .order_by_desc(backups::Column::FinishedAt)
        .one(db)
        .await?
        .map(BackupRecord::from))
}
