//! `metadeck vacuum`: compact the database and report its size before and after.

use sea_orm::{ConnectionTrait, DbErr};
use serde::Serialize;

use super::scalar;
use crate::db::Backend;

/// Sizes in bytes before and after compaction.
#[derive(Debug, Clone, Serialize)]
pub struct VacuumReport {
    pub backend: &'static str,
    pub bytes_before: i64,
    pub bytes_after: i64,
}

async fn size(db: &impl ConnectionTrait) -> Result<i64, DbErr> {
    let sql = match Backend::of(db) {
        Backend::Sqlite => "SELECT page_count * page_size FROM pragma_page_count, pragma_page_size",
        Backend::Postgres => "SELECT pg_database_size(current_database())::bigint",
    };
    Ok(scalar::<i64>(db, sql).await?.unwrap_or(0))
}

/// `VACUUM` and a WAL checkpoint on SQLite; `VACUUM ANALYZE` on PostgreSQL.
pub async fn vacuum(db: &impl ConnectionTrait) -> Result<VacuumReport, DbErr> {
    let backend = Backend::of(db);
    let bytes_before = size(db).await?;
    match backend {
        Backend::Sqlite => {
            db.execute_unprepared("VACUUM").await?;
            db.execute_unprepared("PRAGMA wal_checkpoint(TRUNCATE)")
                .await?;
        }
        Backend::Postgres => {
            db.execute_unprepared("VACUUM ANALYZE").await?;
        }
    }
    let bytes_after = size(db).await?;
    Ok(VacuumReport {
        backend: backend.name(),
        bytes_before,
        bytes_after,
    })
}
