//! `metadeck check`: is the database intact?

use sea_orm::{ConnectionTrait, DbErr, Statement};
use serde::Serialize;

use crate::db::Backend;

/// Findings of an integrity check; empty `problems` means all is well.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CheckReport {
    pub backend: &'static str,
    pub checks: Vec<String>,
    pub problems: Vec<String>,
}

impl CheckReport {
    /// True when nothing is wrong.
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// SQLite: `PRAGMA integrity_check` and `PRAGMA foreign_key_check`. PostgreSQL: constraints
/// that are not validated and indexes that are not valid. On both, the audit trail's hash chain.
pub async fn check_database(db: &impl ConnectionTrait) -> Result<CheckReport, DbErr> {
    let backend = Backend::of(db);
    let (checks, queries): (Vec<String>, Vec<(&str, &str)>) = match backend {
        Backend::Sqlite => (
            vec!["integrity_check".into(), "foreign_key_check".into()],
            vec![
                ("integrity_check", "PRAGMA integrity_check"),
                (
                    "foreign_key_check",
                    "SELECT \"table\" || ' row ' || COALESCE(rowid, 0) || ' refers to a missing ' || parent \
                     FROM pragma_foreign_key_check",
                ),
            ],
        ),
        Backend::Postgres => (
            vec!["constraints".into(), "indexes".into()],
            vec![
                (
                    "constraints",
                    "SELECT conrelid::regclass::text || ': constraint ' || conname || ' is not validated' \
                     FROM pg_constraint WHERE NOT convalidated AND connamespace = current_schema()::regnamespace",
                ),
                (
                    "indexes",
                    "SELECT indexrelid::regclass::text || ' is not valid' FROM pg_index i \
                     JOIN pg_class c ON c.oid = i.indrelid \
                     WHERE NOT i.indisvalid AND c.relnamespace = current_schema()::regnamespace",
                ),
            ],
        ),
    };
    let mut problems = Vec::new();
    for (name, sql) in queries {
        let rows = db
            .query_all_raw(Statement::from_string(db.get_database_backend(), sql))
            .await?;
        for row in rows {
            let finding: String = row.try_get_by_index(0)?;
            if name == "integrity_check" && finding == "ok" {
                continue;
            }
            problems.push(format!("{name}: {finding}"));
        }
    }
    let mut checks = checks;
    checks.push("audit_chain".into());
    let chain = crate::audit::verify_chain(db)
        .await
        .map_err(|e| DbErr::Custom(e.to_string()))?;
    if let Some(problem) = chain.problem() {
        problems.push(format!(
            "audit_chain: the audit trail's hash chain is {problem}"
        ));
    }
    Ok(CheckReport {
        backend: backend.name(),
        checks,
        problems,
    })
}

/// The name "check now" runs are recorded under in `worker_runs`.
pub const CHECK_WORKER: &str = "check";

/// Runs [`check_database`] and records it as the `check` worker's last run, so that its
/// findings stay on `/system` after the page that asked for it.
pub async fn check_and_record(db: &sea_orm::DatabaseConnection) -> Result<CheckReport, DbErr> {
    let started_at = chrono::Utc::now();
    let report = check_database(db).await?;
    let run = super::workers::FinishedRun {
        started_at,
        details: serde_json::json!({"checks": report.checks, "problems": report.problems}),
        error: (!report.ok()).then(|| format!("{} problem(s) found", report.problems.len())),
    };
    super::workers::record_finished(db, CHECK_WORKER, run).await;
    Ok(report)
}
