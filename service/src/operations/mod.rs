//! Operations: database health, integrity check, verified and scheduled backups, vacuum,
//! purge and retention, the sweeper, the background workers' records, metrics (spec 01
//! and 09).

pub mod backup;
mod check;
mod health;
pub mod metrics;
pub mod overview;
pub mod purge;
pub mod retention;
pub mod status;
pub mod sweeper;
mod vacuum;
pub mod workers;

pub use backup::{BackupRecord, BackupReport, Trigger, VerifyReport, last_success, verify_file};
pub use check::{CHECK_WORKER, CheckReport, check_and_record, check_database};
pub use health::{
    DatabaseHealth, FileSizes, HealthProbe, MigrationState, apply_pending_migrations, file_sizes,
    migration_state, table_names, table_row_counts,
};
pub use vacuum::{VacuumReport, vacuum};
pub use workers::WorkerStatus;

use sea_orm::{ConnectionTrait, DbErr, Statement};

/// SQLite: an estimate of `table`'s row count from the span of its rowids, as an expression.
/// Each end is its own subquery: SQLite answers a lone `MIN` or `MAX` of the rowid with one
/// step into the table's B-tree, but both in one `SELECT` read every row. `table` comes from
/// the caller's constants or the catalog, never from a request.
pub(crate) fn sqlite_rowid_span(table: &str) -> String {
    format!("((SELECT MAX(rowid) FROM \"{table}\") - (SELECT MIN(rowid) FROM \"{table}\") + 1)")
}

/// Runs a query that returns one value in its first column.
pub(crate) async fn scalar<T: sea_orm::TryGetable>(
    db: &impl ConnectionTrait,
    sql: &str,
) -> Result<Option<T>, DbErr> {
    let backend = db.get_database_backend();
    match db
        .query_one_raw(Statement::from_string(backend, sql))
        .await?
    {
        Some(row) => row.try_get_by_index::<T>(0).map(Some),
        None => Ok(None),
    }
}
