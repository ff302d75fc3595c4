//! The database part of `GET /healthz`.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr};
use serde::Serialize;

use super::scalar;
use crate::db::Backend;

/// What `/healthz` reports about the database.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DatabaseHealth {
    /// `sqlite` or `postgres`.
    pub backend: &'static str,
    pub ok: bool,
    pub latency_ms: f64,
    /// SQLite only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub journal_mode: Option<String>,
    pub schema_version: Option<String>,
    pub pending_migrations: usize,
}

/// Applied and pending migrations by name.
#[derive(Debug, Clone, Serialize)]
pub struct MigrationState {
    pub applied: Vec<String>,
    pub pending: Vec<String>,
}

/// Applies the pending migrations (at most `limit` of them) and returns how many it applied.
/// The migrator is called only when one is pending, so a database already up to date logs
/// nothing: a command's `--json` output and one-time secrets on stderr are not buried.
pub async fn apply_pending_migrations(
    db: &DatabaseConnection,
    limit: Option<u32>,
) -> Result<usize, DbErr> {
    // The read-only query never runs `CREATE TABLE IF NOT EXISTS`, whose PostgreSQL notice
    // ("already exists, skipping") would be logged at info.
    let pending = Migrator::get_pending_migrations_read_only(db).await?.len();
    if pending == 0 {
        return Ok(0);
    }
    Migrator::up(db, limit).await?;
    Ok(limit.map_or(pending, |n| pending.min(n as usize)))
}

/// Reads which migrations are applied and which are pending.
pub async fn migration_state(db: &DatabaseConnection) -> Result<MigrationState, DbErr> {
    let applied = Migrator::get_applied_migrations_read_only(db)
        .await?
        .iter()
        .map(|m| m.name().to_string())
        .collect();
    let pending = Migrator::get_pending_migrations_read_only(db)
        .await?
        .iter()
        .map(|m| m.name().to_string())
        .collect();
    Ok(MigrationState { applied, pending })
}

/// How long the schema version and journal mode are reused between probes: `/healthz`
/// stays a single `SELECT 1` under load, and a migration shows within seconds.
const SCHEMA_INFO_TTL: Duration = Duration::from_secs(5);

/// The database probe behind `/healthz`, with its slow-changing answers cached.
#[derive(Debug, Default)]
pub struct HealthProbe {
    cached: std::sync::Mutex<Option<(Instant, Option<String>, MigrationState)>>,
}

impl HealthProbe {
    /// Asks the database whether it answers, giving up after `timeout` (then `ok` is false).
    pub async fn probe(&self, db: &DatabaseConnection, timeout: Duration) -> DatabaseHealth {
        let backend = Backend::of(db);
        let started = Instant::now();
        let answer = tokio::time::timeout(timeout, async {
            scalar::<i32>(db, "SELECT 1").await?;
            let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
            let fresh = self
                .cached
                .lock()
                .ok()
                .and_then(|c| c.clone())
                .filter(|(at, _, _)| at.elapsed() < SCHEMA_INFO_TTL);
            let (journal_mode, state) = match fresh {
                Some((_, journal_mode, state)) => (journal_mode, state),
                None => {
                    let journal_mode = match backend {
                        Backend::Sqlite => scalar::<String>(db, "PRAGMA journal_mode").await?,
                        Backend::Postgres => None,
                    };
                    let state = migration_state(db).await?;
                    if let Ok(mut cache) = self.cached.lock() {
                        *cache = Some((Instant::now(), journal_mode.clone(), state.clone()));
                    }
                    (journal_mode, state)
                }
            };
            Ok::<_, DbErr>((latency_ms, journal_mode, state))
        })
        .await;
        match answer {
            Ok(Ok((latency_ms, journal_mode, state))) => DatabaseHealth {
                backend: backend.name(),
                ok: true,
                latency_ms: (latency_ms * 100.0).round() / 100.0,
                journal_mode,
                schema_version: state.applied.last().cloned(),
                pending_migrations: state.pending.len(),
            },
            Ok(Err(err)) => {
                tracing::warn!(error = %err, "database health probe failed");
                unavailable(backend, started)
            }
            Err(_) => {
                tracing::warn!("database health probe timed out");
                unavailable(backend, started)
            }
        }
    }
}

fn unavailable(backend: Backend, started: Instant) -> DatabaseHealth {
    DatabaseHealth {
        backend: backend.name(),
        ok: false,
        latency_ms: started.elapsed().as_secs_f64() * 1000.0,
        journal_mode: None,
        schema_version: None,
        pending_migrations: 0,
    }
}

/// Every table of the schema (views and the migration bookkeeping excluded).
pub async fn table_names(db: &impl ConnectionTrait) -> Result<Vec<String>, DbErr> {
    let sql = match Backend::of(db) {
        Backend::Sqlite => {
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
             AND name <> 'seaql_migrations' ORDER BY name"
        }
        Backend::Postgres => {
            "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema() \
             AND table_type = 'BASE TABLE' AND table_name <> 'seaql_migrations' ORDER BY table_name"
        }
    };
    let rows = db
        .query_all_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            sql,
        ))
        .await?;
    rows.iter()
        .map(|r| r.try_get_by_index::<String>(0))
        .collect()
}

/// Row count of every table, for `/healthz?full=1` and `/system`.
pub async fn table_row_counts(db: &impl ConnectionTrait) -> Result<BTreeMap<String, i64>, DbErr> {
    let mut counts = BTreeMap::new();
    for table in table_names(db).await? {
        // Table names come from the catalog, never from a caller.
        let n = scalar::<i64>(db, &format!("SELECT COUNT(*) FROM \"{table}\""))
            .await?
            .unwrap_or(0);
        counts.insert(table, n);
    }
    Ok(counts)
}

/// Sizes of the SQLite database and its WAL file, in bytes.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FileSizes {
    pub database_bytes: u64,
    pub wal_bytes: u64,
}

/// The files behind a SQLite URL; `None` for PostgreSQL and in-memory databases.
pub fn file_sizes(database_url: &str) -> Option<FileSizes> {
    let path = crate::db::sqlite_path(database_url)?;
    let size = |p: &std::path::Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    let mut wal = path.clone().into_os_string();
    wal.push("-wal");
    Some(FileSizes {
        database_bytes: size(&path),
        wal_bytes: size(std::path::Path::new(&wal)),
    })
}
