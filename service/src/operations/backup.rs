//! `metadeck backup`: a consistent copy of a live SQLite database.

use std::path::{Path, PathBuf};

use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use serde::Serialize;

use super::check_database;
use crate::db::{Backend, create_private_file};
use crate::{Error, Result};

/// What a finished backup reports.
#[derive(Debug, Clone, Serialize)]
pub struct BackupReport {
    pub path: PathBuf,
    pub bytes: u64,
    /// The copy passed `PRAGMA integrity_check` and `foreign_key_check`.
    pub verified: bool,
}

/// Copies the database to `output` with `VACUUM INTO`, which reads one snapshot while
/// writers carry on, then opens the copy and checks it before reporting success. The
/// file is created with mode 0600 before SQLite writes into it.
pub async fn backup_sqlite(db: &DatabaseConnection, output: &Path) -> Result<BackupReport> {
    if Backend::of(db) != Backend::Sqlite {
        return Err(Error::Forbidden(
            "backup copies SQLite databases; on PostgreSQL use pg_dump (e.g. `pg_dump -Fc -f metadeck.dump \"$DATABASE_URL\"`)"
                .into(),
        ));
    }
    if output.exists() {
        return Err(Error::conflict(format!(
            "{} already exists; choose a new file",
            output.display()
        )));
    }
    if let Some(dir) = output
        .parent()
        .filter(|d| !d.as_os_str().is_empty() && !d.is_dir())
    {
        return Err(Error::invalid(
            "output",
            format!("directory {} does not exist", dir.display()),
        ));
    }
    create_private_file(output)
        .map_err(|e| Error::internal(format!("cannot create {}: {e}", output.display())))?;
    let target = output.to_string_lossy().replace('\'', "''");
    let copied = db
        .execute_unprepared(&format!("VACUUM INTO '{target}'"))
        .await;
    if let Err(err) = copied {
        let _ = std::fs::remove_file(output);
        return Err(err.into());
    }

    let copy = Database::connect(format!("sqlite://{}?mode=ro", output.display())).await?;
    let report = check_database(&copy).await;
    copy.close().await?;
    let report = report?;
    if !report.ok() {
        return Err(Error::internal(format!(
            "the copy failed its integrity check: {}",
            report.problems.join("; ")
        )));
    }
    let bytes = std::fs::metadata(output).map(|m| m.len()).unwrap_or(0);
    Ok(BackupReport {
        path: output.to_path_buf(),
        bytes,
        verified: true,
    })
}

/// When the last successful backup finished, for the metrics; `None` when there was none.
///
/// Filled by the `backups` table once it exists: until then no backup is recorded anywhere,
/// so there is nothing to report.
pub async fn last_success(
    _db: &impl ConnectionTrait,
) -> Result<Option<chrono::DateTime<chrono::Utc>>> {
    Ok(None)
}
