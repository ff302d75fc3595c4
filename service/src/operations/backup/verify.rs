//! `metadeck backup verify FILE`: is this copy restorable?

use std::collections::BTreeMap;
use std::path::Path;

use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use sea_orm::{DatabaseConnection, SqlxSqliteConnector};
use serde::Serialize;

use crate::operations::{check_database, scalar, table_row_counts};

/// What `backup verify` found (the JSON shape of spec 09, plus each finding in words).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct VerifyReport {
    /// True when nothing was found.
    pub ok: bool,
    /// `ok`, or what `PRAGMA integrity_check` (or opening the file) reported.
    pub integrity: String,
    /// Rows referring to a missing row (`PRAGMA foreign_key_check`).
    pub foreign_key_violations: u64,
    /// `intact`, or where the audit trail's hash chain breaks.
    pub audit_chain: String,
    /// The copy's newest applied migration.
    pub schema_version: Option<String>,
    /// This binary's newest migration.
    pub expected_schema_version: Option<String>,
    /// Exact row count of every table of the copy.
    pub row_counts: BTreeMap<String, i64>,
    /// Every finding, one sentence each; empty exactly when `ok`.
    pub findings: Vec<String>,
}

/// Opens the copy at `path` read-only and checks integrity, foreign keys, the audit chain,
/// the schema version against this binary's migrations, and counts the rows of every table.
/// Anything that stops a check (a file that is not a database, a corrupted page) is a
/// finding, never an error: the answer to "is this restorable?" is then no.
pub async fn verify_file(path: &Path) -> VerifyReport {
    let expected = Migrator::migrations().last().map(|m| m.name().to_string());
    let mut report = VerifyReport {
        ok: false,
        integrity: "not checked".into(),
        foreign_key_violations: 0,
        audit_chain: "not checked".into(),
        schema_version: None,
        expected_schema_version: expected,
        row_counts: BTreeMap::new(),
        findings: Vec::new(),
    };
    match open_read_only(path).await {
        Ok(copy) => {
            inspect(&copy, &mut report).await;
            copy.close().await.ok();
        }
        Err(err) => {
            report.integrity = format!("the file cannot be opened: {err}");
            report
                .findings
                .push(format!("integrity: {}", report.integrity));
        }
    }
    report.ok = report.findings.is_empty();
    report
}

/// A one-connection pool on the file, read-only; a missing file is an error, never created.
async fn open_read_only(path: &Path) -> Result<DatabaseConnection, String> {
    if !path.is_file() {
        return Err("there is no such file".into());
    }
    let options = SqliteConnectOptions::new()
        .filename(path)
        .read_only(true)
        .create_if_missing(false);
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .map_err(|e| e.to_string())?;
    Ok(SqlxSqliteConnector::from_sqlx_sqlite_pool(pool))
}

async fn inspect(copy: &DatabaseConnection, report: &mut VerifyReport) {
    match check_database(copy).await {
        Ok(check) => {
            let mut integrity = Vec::new();
            for problem in &check.problems {
                if let Some(rest) = problem.strip_prefix("integrity_check: ") {
                    integrity.push(rest.to_string());
                } else if problem.starts_with("foreign_key_check: ") {
                    report.foreign_key_violations += 1;
                } else if let Some(rest) = problem.strip_prefix("audit_chain: ") {
                    report.audit_chain = rest.to_string();
                }
                report.findings.push(problem.clone());
            }
            report.integrity = if integrity.is_empty() {
                "ok".into()
            } else {
                integrity.join("; ")
            };
            if report.audit_chain == "not checked" {
                report.audit_chain = "intact".into();
            }
        }
        Err(err) => {
            report.integrity = format!("the check could not run: {err}");
            report
                .findings
                .push(format!("integrity: {}", report.integrity));
            return;
        }
    }
    match scalar::<String>(
        copy,
        "SELECT version FROM seaql_migrations ORDER BY version DESC LIMIT 1",
    )
    .await
    {
        Ok(version) => report.schema_version = version,
        Err(err) => report
            .findings
            .push(format!("schema_version: cannot be read: {err}")),
    }
    if let Some(finding) = schema_finding(
        report.schema_version.as_deref(),
        report.expected_schema_version.as_deref(),
    ) {
        report.findings.push(finding);
    }
    match table_row_counts(copy).await {
        Ok(counts) => report.row_counts = counts,
        Err(err) => report
            .findings
            .push(format!("row_counts: a table cannot be read: {err}")),
    }
}

/// The copy's schema against this binary's: a copy at a migration this binary lists is
/// restorable (older ones migrate at start); one at a migration it does not know, or with
/// none, is not.
fn schema_finding(found: Option<&str>, expected: Option<&str>) -> Option<String> {
    let known = Migrator::migrations()
        .iter()
        .any(|m| Some(m.name()) == found);
    match found {
        None => Some("schema_version: the copy has no applied migration".into()),
        Some(_) if known => None,
        Some(version) => Some(format!(
            "schema_version: the copy is at {version}, which this binary does not know (it expects {})",
            expected.unwrap_or("none")
        )),
    }
}
