//! What `/system` and `GET /api/system` show: the database's files, pages, schema and tables,
//! the workers' last runs and the backups.

use chrono::{DateTime, TimeZone, Utc};
use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use serde::Serialize;

use super::backup::{self, BackupRecord};
use super::{FileSizes, WorkerStatus, file_sizes, scalar, sqlite_rowid_span, table_names, workers};
use crate::Result;
use crate::db::Backend;

/// A SQLite table is counted exactly up to this many rows; past it the count would read the
/// whole table, so the page shows an estimate instead.
pub const EXACT_COUNT_LIMIT: i64 = 100_000;
/// How many backups the status lists.
pub const RECENT_BACKUPS: u64 = 10;

/// One migration of this binary, with when it was applied (`None`: pending).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MigrationRow {
    pub name: String,
    pub applied_at: Option<DateTime<Utc>>,
}

/// One table's row count.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TableRows {
    pub table: String,
    pub rows: i64,
    /// False when `rows` is an estimate (PostgreSQL's statistics, or a big SQLite table).
    pub exact: bool,
}

/// Everything `/system` shows about the database and its upkeep.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SystemStatus {
    /// `sqlite` or `postgres`.
    pub backend: &'static str,
    /// The database's size in bytes (the file on SQLite, `pg_database_size` on PostgreSQL).
    pub database_bytes: Option<i64>,
    /// The SQLite file and its WAL; null on PostgreSQL.
    pub files: Option<FileSizes>,
    /// SQLite's page size, page count and free pages; null on PostgreSQL.
    pub page_size: Option<i64>,
    pub page_count: Option<i64>,
    pub freelist_count: Option<i64>,
    /// The newest applied migration.
    pub schema_version: Option<String>,
    pub migrations: Vec<MigrationRow>,
    pub tables: Vec<TableRows>,
    pub workers: Vec<WorkerStatus>,
    /// The newest backups, newest first.
    pub backups: Vec<BackupRecord>,
    /// When the newest verified backup finished: the last time the database was known to be
    /// restorable from a copy.
    pub last_verified_restorable_at: Option<DateTime<Utc>>,
}

/// Reads the status of `db` (whose URL is `database_url`, for the file sizes).
pub async fn system_status(db: &DatabaseConnection, database_url: &str) -> Result<SystemStatus> {
    let backend = Backend::of(db);
    let (page_size, page_count, freelist_count, database_bytes) = match backend {
        Backend::Sqlite => {
            let size = scalar::<i64>(db, "PRAGMA page_size").await?;
            let count = scalar::<i64>(db, "PRAGMA page_count").await?;
            let free = scalar::<i64>(db, "PRAGMA freelist_count").await?;
            let bytes = size.zip(count).map(|(s, c)| s * c);
            (size, count, free, bytes)
        }
        Backend::Postgres => {
            let bytes =
                scalar::<i64>(db, "SELECT pg_database_size(current_database())::bigint").await?;
            (None, None, None, bytes)
        }
    };
    let migrations = migrations(db).await?;
    let schema_version = migrations
        .iter()
        .rev()
        .find(|m| m.applied_at.is_some())
        .map(|m| m.name.clone());
    Ok(SystemStatus {
        backend: backend.name(),
        database_bytes,
        files: file_sizes(database_url),
        page_size,
        page_count,
        freelist_count,
        schema_version,
        migrations,
        tables: table_rows(db).await?,
        workers: workers::all(db).await?,
        backups: backup::recent(db, RECENT_BACKUPS).await?,
        last_verified_restorable_at: backup::last_success(db).await?,
    })
}

/// This binary's migrations in order, each with its applied time from `seaql_migrations`.
async fn migrations(db: &impl ConnectionTrait) -> Result<Vec<MigrationRow>> {
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT version, applied_at FROM seaql_migrations",
        ))
        .await?;
    let mut applied = Vec::with_capacity(rows.len());
    for row in rows {
        let version: String = row.try_get_by_index(0)?;
        let at: i64 = row.try_get_by_index(1)?;
        applied.push((version, Utc.timestamp_opt(at, 0).single()));
    }
    Ok(Migrator::migrations()
        .iter()
        .map(|m| MigrationRow {
            name: m.name().to_string(),
            applied_at: applied
                .iter()
                .find(|(v, _)| v == m.name())
                .and_then(|(_, at)| *at),
        })
        .collect())
}

/// Row counts of every table. PostgreSQL: the planner's estimate (`pg_class.reltuples`, or
/// the statistics collector's live rows for a table never analysed), never a scan. SQLite:
/// an exact count stopped at [`EXACT_COUNT_LIMIT`] rows, so a big table costs no more than a
/// bounded walk of its smallest index; past it, the span of its rowids (one look at each end
/// of the table's B-tree) as an estimate.
async fn table_rows(db: &impl ConnectionTrait) -> Result<Vec<TableRows>> {
    if Backend::of(db) == Backend::Postgres {
        let rows = db
            .query_all_raw(Statement::from_string(
                db.get_database_backend(),
                "SELECT c.relname::text, COALESCE(NULLIF(c.reltuples, -1)::bigint, s.n_live_tup, 0)::bigint \
                 FROM pg_class c LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid \
                 WHERE c.relkind = 'r' AND c.relnamespace = current_schema()::regnamespace \
                 AND c.relname <> 'seaql_migrations' ORDER BY c.relname",
            ))
            .await?;
        return rows
            .iter()
            .map(|r| {
                Ok(TableRows {
                    table: r.try_get_by_index(0)?,
                    rows: r.try_get_by_index(1)?,
                    exact: false,
                })
            })
            .collect();
    }
    let mut out = Vec::new();
    for table in table_names(db).await? {
        // Table names come from the catalog, never from a caller.
        let counted = scalar::<i64>(
            db,
            &format!(
                "SELECT COUNT(*) FROM (SELECT 1 FROM \"{table}\" LIMIT {})",
                EXACT_COUNT_LIMIT + 1
            ),
        )
        .await?
        .unwrap_or(0);
        let (rows, exact) = if counted <= EXACT_COUNT_LIMIT {
            (counted, true)
        } else {
            let span = scalar::<i64>(db, &format!("SELECT {}", sqlite_rowid_span(&table)))
                .await
                .ok()
                .flatten()
                .unwrap_or(counted);
            (span.max(counted), false)
        };
        out.push(TableRows { table, rows, exact });
    }
    Ok(out)
}
