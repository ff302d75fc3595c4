//! Scheduled backups of `metadeck serve`: with `METADECK_BACKUP_DIR` set, a verified backup
//! every `METADECK_BACKUP_EVERY` into that directory, keeping the newest
//! `METADECK_BACKUP_KEEP` files. Each run is a `backups` row and the `backup` worker's last
//! run in `worker_runs`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::Utc;
use entity::backups;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};
use serde_json::json;
use tokio::sync::watch;

use super::{Trigger, take};
use crate::audit::Actor;
use crate::operations::workers::{FinishedRun, record_finished};

/// The worker's name in `worker_runs`.
pub const WORKER_NAME: &str = "backup";
/// The default interval (`METADECK_BACKUP_EVERY`).
pub const DEFAULT_EVERY: &str = "24h";
/// How many files are kept by default (`METADECK_BACKUP_KEEP`).
pub const DEFAULT_KEEP: usize = 7;
/// Scheduled files are named `metadeck-<UTC time>.db`, so that names sort by age and
/// rotation never touches a file it did not write.
const PREFIX: &str = "metadeck-";
const SUFFIX: &str = ".db";

/// Where, how often and how many.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupSchedule {
    pub dir: PathBuf,
    pub every: Duration,
    pub keep: usize,
}

/// Parses an interval such as `30s`, `15m`, `6h` or `1d`: a whole number of at least one
/// second with its unit.
pub fn parse_every(raw: &str) -> Result<Duration, String> {
    let raw = raw.trim();
    let bad = || format!("{raw:?} is not a duration such as 30s, 15m, 6h or 1d");
    let (number, unit) = raw.split_at(raw.len().saturating_sub(1));
    let n: u64 = number.parse().map_err(|_| bad())?;
    let secs = match unit {
        "s" => n,
        "m" => n.saturating_mul(60),
        "h" => n.saturating_mul(3600),
        "d" => n.saturating_mul(86_400),
        _ => return Err(bad()),
    };
    if secs == 0 {
        return Err(format!("{raw:?} must be at least 1s"));
    }
    Ok(Duration::from_secs(secs))
}

/// Runs the schedule until `shutdown` turns true. The first backup is due one interval after
/// the last scheduled one (at once when that is past, or when there was none), so a restart
/// neither skips a backup nor takes an extra one.
pub async fn run(
    db: DatabaseConnection,
    schedule: BackupSchedule,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut wait = first_wait(&db, schedule.every).await;
    loop {
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = shutdown.wait_for(|stop| *stop) => return,
        }
        run_once(&db, &schedule).await;
        wait = schedule.every;
    }
}

async fn first_wait(db: &DatabaseConnection, every: Duration) -> Duration {
    let last = backups::Entity::find()
        .filter(backups::Column::Trigger.eq(Trigger::Schedule.as_str()))
        .order_by_desc(backups::Column::Id)
        .one(db)
        .await
        .ok()
        .flatten();
    let Some(last) = last else {
        return Duration::ZERO;
    };
    let since = (Utc::now() - last.started_at.to_utc())
        .to_std()
        .unwrap_or_default();
    every.saturating_sub(since)
}

/// One scheduled backup, then rotation after a success (a failing run never deletes a good
/// file), recorded as the worker's last run.
pub async fn run_once(db: &DatabaseConnection, schedule: &BackupSchedule) {
    let started_at = Utc::now();
    let file = schedule.dir.join(format!(
        "{PREFIX}{}{SUFFIX}",
        started_at.format("%Y%m%dT%H%M%S%.3fZ")
    ));
    let run = match take(db, Trigger::Schedule, &Actor::System, &file).await {
        Ok(record) if record.succeeded() => {
            let removed = rotate(&schedule.dir, schedule.keep);
            FinishedRun {
                started_at,
                details: json!({"backup_id": record.id, "file": record.file,
                    "size_bytes": record.size_bytes, "rotated_out": removed}),
                error: None,
            }
        }
        Ok(record) => FinishedRun {
            started_at,
            details: json!({"backup_id": record.id, "file": record.file}),
            error: record.error,
        },
        Err(err) => FinishedRun {
            started_at,
            details: json!({"file": file.display().to_string()}),
            error: Some(err.to_string()),
        },
    };
    record_finished(db, WORKER_NAME, run).await;
}

/// Deletes all but the newest `keep` scheduled files of `dir`; returns the names removed.
fn rotate(dir: &Path, keep: usize) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| n.starts_with(PREFIX) && n.ends_with(SUFFIX))
        .collect();
    names.sort();
    let excess = names.len().saturating_sub(keep);
    let mut removed = Vec::new();
    for name in names.into_iter().take(excess) {
        match std::fs::remove_file(dir.join(&name)) {
            Ok(()) => removed.push(name),
            Err(err) => {
                tracing::warn!(file = %name, error = %err, "an old backup cannot be removed")
            }
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_take_seconds_minutes_hours_and_days() {
        assert_eq!(parse_every("1s"), Ok(Duration::from_secs(1)));
        assert_eq!(parse_every("15m"), Ok(Duration::from_secs(900)));
        assert_eq!(parse_every("24h"), Ok(Duration::from_secs(86_400)));
        assert_eq!(parse_every("2d"), Ok(Duration::from_secs(172_800)));
        for bad in ["", "0s", "1", "1w", "-1s", "1.5h", "s"] {
            assert!(parse_every(bad).is_err(), "{bad:?} is refused");
        }
    }

    #[test]
    fn rotation_keeps_the_newest_scheduled_files_and_nothing_else_is_touched() {
        let dir = tempfile::tempdir().unwrap();
        for name in [
            "metadeck-1.db",
            "metadeck-2.db",
            "metadeck-3.db",
            "other.db",
        ] {
            std::fs::write(dir.path().join(name), b"x").unwrap();
        }
        let removed = rotate(dir.path(), 2);
        assert_eq!(removed, ["metadeck-1.db"]);
        assert!(dir.path().join("other.db").exists());
        assert!(dir.path().join("metadeck-3.db").exists());
    }
}
