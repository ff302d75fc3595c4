//! Backups an operator can trust (spec 09): a consistent copy of the live SQLite database,
//! taken while writes continue, verified before it counts, and recorded as a row of
//! `backups` whatever its outcome. A failure also reaches the webhooks
//! (`system.backup_failed`) and the `/system` page.

mod copy;
mod records;
pub mod schedule;
mod verify;

use std::path::{Path, PathBuf};

use chrono::Utc;
use sea_orm::DatabaseConnection;
use serde::Serialize;

pub use records::{BackupRecord, last_success, last_verified, list, recent};
pub use schedule::{BackupSchedule, parse_every};
pub use verify::{VerifyReport, verify_file};

use crate::audit::Actor;
use crate::db::Backend;
use crate::{Error, Result};

/// What started a backup (the `trigger` column).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Trigger {
    /// `metadeck backup --output FILE`.
    Cli,
    /// "Download backup" on `/system`.
    Page,
    /// The schedule of `metadeck serve` (`METADECK_BACKUP_DIR`).
    Schedule,
}

impl Trigger {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Cli => "cli",
            Self::Page => "page",
            Self::Schedule => "schedule",
        }
    }
}

/// What a finished backup reports on the command line.
#[derive(Debug, Clone, Serialize)]
pub struct BackupReport {
    /// The row recorded for it.
    pub id: i64,
    pub path: PathBuf,
    pub bytes: u64,
    pub sha256: String,
    /// The copy passed every check of `metadeck backup verify` before this was reported.
    pub verified: bool,
}

/// The message for a PostgreSQL database, whose backups are `pg_dump`'s job.
pub const PG_DUMP_HINT: &str = "backup copies SQLite databases; on PostgreSQL use pg_dump \
     (e.g. `pg_dump -Fc -f metadeck.dump \"$DATABASE_URL\"`)";

/// Takes a backup of `db` into the new file `output` and records it: the copy is a
/// consistent snapshot taken while writers carry on, created with mode 0600, verified
/// (integrity, foreign keys, audit chain, schema version, row counts) before it counts as
/// succeeded; its size and SHA-256 are recorded. A failure is recorded too, announced to the
/// webhooks as `system.backup_failed`, and leaves no partial file behind.
///
/// `Err` only when no backup could be attempted at all (PostgreSQL) or the row could not be
/// written; a backup that failed is `Ok` with the row saying `failed`.
pub async fn take(
    db: &DatabaseConnection,
    trigger: Trigger,
    actor: &Actor,
    output: &Path,
) -> Result<BackupRecord> {
    if Backend::of(db) != Backend::Sqlite {
        return Err(Error::Forbidden(PG_DUMP_HINT.into()));
    }
    let started_at = Utc::now();
    let outcome = copy::copy_verified(db, output).await;
    if let Err(error) = &outcome {
        tracing::error!(file = %output.display(), error = %error, trigger = trigger.as_str(), "backup failed");
    } else {
        tracing::info!(file = %output.display(), trigger = trigger.as_str(), "backup verified");
    }
    records::record(db, trigger, actor, output, started_at, outcome).await
}

/// The report of a succeeded backup, or the error of a failed one, for the command line.
pub fn report(record: &BackupRecord) -> std::result::Result<BackupReport, String> {
    match (&record.status[..], record.size_bytes, &record.sha256) {
        ("succeeded", Some(bytes), Some(sha256)) => Ok(BackupReport {
            id: record.id,
            path: PathBuf::from(&record.file),
            bytes: bytes.max(0) as u64,
            sha256: sha256.clone(),
            verified: true,
        }),
        _ => Err(record
            .error
            .clone()
            .unwrap_or_else(|| "the backup failed".into())),
    }
}
