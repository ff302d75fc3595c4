//! Database tasks for operators: migrate, check, vacuum, backup.

use std::path::PathBuf;

use migration::{Migrator, MigratorTrait};
use sea_orm::DatabaseConnection;
use service::audit::Actor;
use service::operations::{self, Trigger, backup};

use super::{MigrateAction, Outcome, emit};
use crate::settings::Settings;

async fn open(settings: &Settings) -> Result<DatabaseConnection, Outcome> {
    service::db::connect(&settings.db_options())
        .await
        .map_err(|e| Outcome::Failure(format!("cannot open the database: {e}")))
}

macro_rules! try_outcome {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(o) => return o,
        }
    };
}

fn failed(what: &str, err: impl std::fmt::Display) -> Outcome {
    Outcome::Failure(format!("{what} failed: {err}"))
}

/// `metadeck migrate up|down|status|fresh`.
pub(super) async fn migrate(settings: Settings, action: MigrateAction) -> Outcome {
    let db = try_outcome!(open(&settings).await);
    let result = match action {
        MigrateAction::Up { num } => operations::apply_pending_migrations(&db, num)
            .await
            .map(drop),
        MigrateAction::Down { num } => Migrator::down(&db, Some(num)).await,
        MigrateAction::Fresh => Migrator::fresh(&db).await,
        MigrateAction::Status { json } => {
            let state = match operations::migration_state(&db).await {
                Ok(state) => state,
                Err(err) => return failed("reading the migration status", err),
            };
            emit(json, &state, |s| {
                let mut lines: Vec<String> =
                    s.applied.iter().map(|m| format!("applied  {m}")).collect();
                lines.extend(s.pending.iter().map(|m| format!("pending  {m}")));
                lines.join("\n")
            });
            return Outcome::Success;
        }
    };
    match result {
        Ok(()) => match operations::migration_state(&db).await {
            Ok(state) => {
                eprintln!(
                    "schema version: {} ({} pending)",
                    state.applied.last().map_or("none", String::as_str),
                    state.pending.len()
                );
                Outcome::Success
            }
            Err(err) => failed("reading the migration status", err),
        },
        Err(err) => failed("migration", err),
    }
}

/// `metadeck check`: exit 1 when anything is wrong.
pub(super) async fn check(settings: Settings, json: bool) -> Outcome {
    let db = try_outcome!(open(&settings).await);
    let report = match operations::check_database(&db).await {
        Ok(r) => r,
        Err(err) => return failed("the check", err),
    };
    emit(json, &report, |r| {
        if r.ok() {
            format!("ok ({}: {})", r.backend, r.checks.join(", "))
        } else {
            r.problems.join("\n")
        }
    });
    if report.ok() {
        Outcome::Success
    } else {
        Outcome::Failure(format!("{} problem(s) found", report.problems.len()))
    }
}

/// `metadeck vacuum`.
pub(super) async fn vacuum(settings: Settings, json: bool) -> Outcome {
    let db = try_outcome!(open(&settings).await);
    match operations::vacuum(&db).await {
        Ok(report) => {
            emit(json, &report, |r| {
                format!(
                    "{} bytes before, {} bytes after",
                    r.bytes_before, r.bytes_after
                )
            });
            Outcome::Success
        }
        Err(err) => failed("vacuum", err),
    }
}

/// `metadeck backup --output FILE`: a verified copy, recorded as a backup of the database.
pub(super) async fn backup(settings: Settings, output: PathBuf, json: bool) -> Outcome {
    let db = try_outcome!(open(&settings).await);
    let record = match backup::take(&db, Trigger::Cli, &Actor::Cli, &output).await {
        Ok(record) => record,
        Err(service::Error::Forbidden(message)) => return Outcome::Failure(message),
        Err(err) => return failed("backup", err),
    };
    match backup::report(&record) {
        Ok(report) => {
            emit(json, &report, |r| {
                format!(
                    "backup written to {} ({} bytes, sha256 {}, verified)",
                    r.path.display(),
                    r.bytes,
                    r.sha256
                )
            });
            Outcome::Success
        }
        Err(error) => failed("backup", error),
    }
}

/// `metadeck backup verify FILE`: needs no database of its own, only the file; exit 1 on any
/// finding.
pub(super) async fn verify_backup(file: PathBuf, json: bool) -> Outcome {
    let report = backup::verify_file(&file).await;
    emit(json, &report, |r| {
        if r.ok {
            format!(
                "ok: integrity ok, no foreign key violation, audit chain intact, schema {}, {} tables, {} rows",
                r.schema_version.as_deref().unwrap_or("none"),
                r.row_counts.len(),
                r.row_counts.values().sum::<i64>()
            )
        } else {
            r.findings.join("\n")
        }
    });
    if report.ok {
        Outcome::Success
    } else {
        Outcome::Failure(format!(
            "{} is not a restorable backup: {} finding(s)",
            file.display(),
            report.findings.len()
        ))
    }
}
