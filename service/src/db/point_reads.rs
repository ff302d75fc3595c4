//! Point reads answered on the calling thread: the hottest lookups on SQLite.
//!
//! sqlx runs every SQLite connection on a thread of its own, so each query is a message to
//! that thread and an answer back: two thread wake-ups that cost several times the few
//! microseconds SQLite needs to find a row by its key. A lookup of a handful of B-tree pages
//! (a device by its id) is therefore answered here instead, on a read-only connection that
//! belongs to the calling thread and reads the same file.
//!
//! - Only a file-backed SQLite database takes this path; PostgreSQL and in-memory SQLite read
//!   through the pool as usual.
//! - It never waits: the busy timeout is zero, and an answer it cannot give (the database
//!   busy, a stored value it does not recognise) is `None`, after which the caller reads
//!   through the pool, which also reports any real error. The work it does is bounded B-tree
//!   page reads from SQLite's page cache or the OS's, microseconds, so running it on the async
//!   worker is cheaper than handing it off.
//! - Each statement reads one consistent snapshot (WAL), as a read through the pool does.
//! - It is query-only: every write goes through the pool and the writer turn.
//! - Memory: one connection per thread and database file, each with its own page cache
//!   ([`PAGE_CACHE_KIB`]).

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ValueRef};
use rusqlite::{Connection, OpenFlags};
use sea_orm::{DatabaseConnection, DbBackend};

/// Page cache of each thread's connection (there is one per HTTP worker): the inner B-tree
/// pages every lookup passes through and the hot leaves; a page not cached costs a `pread`.
/// 8 MB each keeps the workers' caches together (cores + 1 of them) within the memory bar
/// of spec 10 (200 MB resident after load).
const PAGE_CACHE_KIB: i64 = 8_000;

/// Statements kept prepared per connection.
const STATEMENT_CACHE: usize = 16;

thread_local! {
    /// This thread's read-only connections, by database file.
    static CONNECTIONS: RefCell<HashMap<PathBuf, Connection>> = RefCell::new(HashMap::new());
}

/// Runs `read` on this thread's read-only connection to `db`'s SQLite file. `None` when `db`
/// is not a file-backed SQLite database or the read could not be answered here; the caller
/// then reads through the pool.
pub fn read<T>(
    db: &DatabaseConnection,
    read: impl FnOnce(&Connection) -> rusqlite::Result<T>,
) -> Option<T> {
    if db.get_database_backend() != DbBackend::Sqlite {
        return None;
    }
    let options = db.get_sqlite_connection_pool().connect_options();
    let path = options.get_filename();
    CONNECTIONS.with(|cell| {
        // A read never starts another one on the same thread; if it ever did, the inner one
        // simply goes through the pool.
        let mut connections = cell.try_borrow_mut().ok()?;
        if !connections.contains_key(path) {
            let connection = open(path)?;
            connections.insert(path.to_path_buf(), connection);
        }
        let answer = read(connections.get(path)?);
        answer
            .inspect_err(|err| tracing::debug!(error = %err, "point read left to the pool"))
            .ok()
    })
}

/// The answer of `read` on this thread's connection when it can give one ([`read`]),
/// otherwise that of `through_pool`: how every point read is used.
pub async fn read_or_pool<T, F>(
    db: &DatabaseConnection,
    read: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    through_pool: impl FnOnce() -> F,
) -> crate::Result<T>
where
    F: Future<Output = crate::Result<T>>,
{
    match self::read(db, read) {
        Some(answer) => Ok(answer),
        None => through_pool().await,
    }
}

/// A timestamp as sqlx stores it on SQLite (RFC 3339 text), read with `row.get`; anything
/// else is an error, which leaves the read to the pool. (UUIDs, 16-byte blobs, decode with
/// rusqlite's own `uuid` support.)
#[derive(Debug, Clone, Copy)]
pub struct Timestamp(pub DateTime<Utc>);

impl FromSql for Timestamp {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        DateTime::parse_from_rfc3339(value.as_str()?)
            .map(|t| Self(t.to_utc()))
            .map_err(|err| FromSqlError::Other(Box::new(err)))
    }
}

/// Opens a query-only connection that never waits for a lock; `None` for anything that is not
/// an existing database file (in-memory databases).
fn open(path: &Path) -> Option<Connection> {
    if !path.is_file() {
        return None;
    }
    let opened = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .and_then(|connection| {
        connection.busy_timeout(Duration::ZERO)?;
        connection.pragma_update(None, "query_only", true)?;
        connection.pragma_update(None, "cache_size", -PAGE_CACHE_KIB)?;
        connection.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        Ok(connection)
    });
    opened
        .inspect_err(|err| tracing::warn!(error = %err, "cannot open a point-read connection"))
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::{DbOptions, connect};

    /// The bundled SQLite is compiled as `.cargo/config.toml` asks: each connection's page
    /// cache its own (not one group behind a process-wide lock, which the workers' point reads
    /// queued on) and no allocation statistics (another such lock).
    #[test]
    fn sqlite_is_built_without_its_process_wide_cache_and_statistics_locks() {
        let connection = Connection::open_in_memory().unwrap();
        let options: Vec<String> = connection
            .prepare("PRAGMA compile_options")
            .unwrap()
            .query_map([], |row| row.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert!(
            !options.iter().any(|o| o == "ENABLE_MEMORY_MANAGEMENT"),
            "{options:?}"
        );
        assert!(
            options.iter().any(|o| o == "DEFAULT_MEMSTATUS=0"),
            "{options:?}"
        );
    }

    #[tokio::test]
    async fn an_in_memory_database_reads_through_the_pool() {
        let db = connect(&DbOptions {
            url: "sqlite::memory:".into(),
            max_connections: 1,
        })
        .await
        .unwrap();
        assert_eq!(
            read(&db, |c| c.query_row("SELECT 1", [], |r| r.get::<_, i64>(0))),
            None
        );
    }

    #[tokio::test]
    async fn a_read_never_writes() {
        let (_dir, _, db) = crate::db::file_database(1).await;
        sea_orm::ConnectionTrait::execute_unprepared(&db, "CREATE TABLE t (x INTEGER)")
            .await
            .unwrap();
        assert_eq!(
            read(&db, |c| c.query_row("SELECT count(*) FROM t", [], |r| r
                .get::<_, i64>(0))),
            Some(0)
        );
        // query_only refuses the write; the caller would then go through the pool.
        assert_eq!(
            read(&db, |c| c.execute("INSERT INTO t VALUES (1)", [])),
            None
        );
    }
}
