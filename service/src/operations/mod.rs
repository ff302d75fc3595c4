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
