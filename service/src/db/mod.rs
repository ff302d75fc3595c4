//! The connection pool and the rules every area shares for using it.
//!
//! SQLite gets seed 002's pragmas on every pooled connection and a file created with mode
//! 0600 in a directory with mode 0700. Writes go through [`writer`]: one writer turn per
//! process on SQLite, and transactions that begin `IMMEDIATE` so a read lock is never upgraded
//! under load (the cause of `database is locked`). The rows nearly every request reads are
//! read through [`hot`], one function per row, which picks the fastest path the backend
//! offers ([`point_reads`] on a SQLite file, `coalesced` batches on PostgreSQL).

pub mod checkpoints;
pub(crate) mod coalesced;
pub(crate) mod grouped;
pub mod hot;
pub(crate) mod per_pool;
pub(crate) mod pg_array;
pub mod point_reads;
mod writer;

pub use writer::{WriteTxn, WriterTurn, begin_bulk_write, begin_write, writer_turn};

use std::path::{Path, PathBuf};
use std::time::Duration;

use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend,
    DbErr,
};

/// What a service function that reads runs on: the pool, or a transaction the caller has
/// open (a [`WriteTxn`], a plain [`DatabaseTransaction`]) so that the read sees the
/// transaction's own writes and composes into a larger change.
pub trait Handle: ConnectionTrait {
    /// The pool, when this is the pool itself. Only then may a read go around the connection
    /// (on the calling thread, or batched with other requests' reads), since such reads see
    /// committed rows only.
    fn pool(&self) -> Option<&DatabaseConnection>;
}

impl Handle for DatabaseConnection {
    fn pool(&self) -> Option<&DatabaseConnection> {
        Some(self)
    }
}

impl Handle for DatabaseTransaction {
    fn pool(&self) -> Option<&DatabaseConnection> {
        None
    }
}

impl Handle for WriteTxn {
    fn pool(&self) -> Option<&DatabaseConnection> {
        None
    }
}

/// Which database a `DATABASE_URL` points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// Recognises the URL's scheme; any other scheme is `None`.
    pub fn of_url(url: &str) -> Option<Self> {
        if url.starts_with("sqlite:") {
            Some(Self::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Some(Self::Postgres)
        } else {
            None
        }
    }

    /// The backend of an open connection.
    pub fn of(db: &impl ConnectionTrait) -> Self {
        match db.get_database_backend() {
            DbBackend::Postgres => Self::Postgres,
            _ => Self::Sqlite,
        }
    }

    /// The name used in reports (`sqlite` / `postgres`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        }
    }
}

/// How to open the pool.
#[derive(Debug, Clone)]
pub struct DbOptions {
    pub url: String,
    pub max_connections: u32,
}

/// The file behind a SQLite URL (`sqlite://./data/x.db?mode=rwc` → `./data/x.db`); `None`
/// for in-memory databases and for other backends.
pub fn sqlite_path(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    if path.is_empty() || path.starts_with(":memory:") {
        return None;
    }
    Some(PathBuf::from(path))
}

/// SQLite's page cache for the whole pool (64 MB, seed 002's figure), shared out evenly: each
/// connection caches its own pages, so a per-connection 64 MB would let a pool of 8 hold
/// half a gigabyte of copies of the same pages. Pages beyond it come from the OS cache.
const PAGE_CACHE_KIB: u64 = 64_000;

/// The WAL size (pages) at which a commit checkpoints by itself: a bound for processes that
/// do not checkpoint in the background ([`checkpoints`], which a server runs far more often),
/// 40 MB rather than SQLite's 4 MB so that a server's commits practically never do.
pub const AUTOCHECKPOINT_PAGES: u32 = 10_000;

/// The size the WAL file is cut back to when SQLite starts it over (after a checkpoint has
/// copied all of it), instead of keeping its largest size for good.
///
/// SQLite writes frames of 24 + 4,096 bytes, so each one covers part of a file block. Where
/// the kernel has already dropped that block from its cache (a WAL grown by a burst of
/// writes goes cold at its tail; proactive reclaim drops cold pages even with memory free),
/// the write first reads the block from disk. A bulk upsert after a burst spent a quarter of
/// its time waiting on such reads (1,500 a run); past this size the WAL is appended to
/// instead, which needs no read.
pub const WAL_KEPT_BYTES: u64 = 8 * 1024 * 1024;

/// Opens the pool. For SQLite, creates the directory (0700) and file (0600) when missing.
pub async fn connect(options: &DbOptions) -> Result<DatabaseConnection, DbErr> {
    let mut opt = ConnectOptions::new(options.url.clone());
    opt.max_connections(options.max_connections)
        .min_connections(1)
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(Duration::from_secs(10))
        .sqlx_logging(false);
    let backend = Backend::of_url(&options.url);
    if backend == Some(Backend::Postgres) {
        // A server connection can be dropped by the server or a proxy while idle; a busy one
        // is known to be alive, so only connections idle for a while are checked.
        opt.test_before_acquire_if_idle_for(Duration::from_secs(30));
    }
    if backend == Some(Backend::Sqlite) {
        untracked_sqlite_memory();
        if let Some(path) = sqlite_path(&options.url) {
            prepare_sqlite_file(&path)
                .map_err(|e| DbErr::Custom(format!("cannot create {}: {e}", path.display())))?;
        }
        let cache_kib = PAGE_CACHE_KIB / u64::from(options.max_connections.max(1));
        opt.map_sqlx_sqlite_opts(move |o: SqliteConnectOptions| {
            o.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10))
                .pragma("temp_store", "MEMORY")
                .pragma("cache_size", format!("-{cache_kib}"))
                .pragma("wal_autocheckpoint", AUTOCHECKPOINT_PAGES.to_string())
                .pragma("journal_size_limit", WAL_KEPT_BYTES.to_string())
                .create_if_missing(true)
        });
        // A SQLite connection is a file handle in this process: it cannot go stale, so the
        // pool's ping (one more trip to the connection's thread per query) is not needed.
        opt.test_before_acquire(false);
        opt.map_sqlx_sqlite_pool_opts(|pool| {
            pool.after_connect(|conn, _| {
                Box::pin(async move {
                    // The connection's opening pragmas hold lookaside slots while their
                    // statements stay cached, and SQLite resizes its lookaside only when no
                    // slot is in use.
                    sqlx_core::connection::Connection::clear_cached_statements(conn).await?;
                    let mut handle = conn.lock_handle().await?;
                    stable_query_plans(handle.as_raw_handle());
                    room_for_bound_values(handle.as_raw_handle());
                    Ok(())
                })
            })
        });
    }
    let db = Database::connect(opt).await?;
    if backend == Some(Backend::Postgres) {
        require_utf8(&db).await?;
    }
    Ok(db)
}

/// Refuses a PostgreSQL database whose encoding is not UTF8: the audit chain's appends hash
/// text in the database (`convert_to(…, 'UTF8')`), and only in a UTF8 database is that text
/// byte for byte what Metadeck hashes when it checks the chain.
async fn require_utf8(db: &DatabaseConnection) -> Result<(), DbErr> {
    let encoding: String = db
        .query_one_raw(sea_orm::Statement::from_string(
            DbBackend::Postgres,
            "SHOW server_encoding",
        ))
        .await?
        .map(|row| row.try_get_by_index(0))
        .transpose()?
        .unwrap_or_default();
    if encoding.eq_ignore_ascii_case("UTF8") {
        return Ok(());
    }
    Err(DbErr::Custom(format!(
        "the PostgreSQL database's encoding is {encoding}; Metadeck needs UTF8 \
         (CREATE DATABASE … ENCODING 'UTF8')"
    )))
}

/// Closes `db` for good: on SQLite the writer connection first ([`writer::close_writer`]), so
/// that the pool's last connection to close leaves the file tidy, then the pool.
pub async fn close(db: &DatabaseConnection) -> Result<(), DbErr> {
    writer::close_writer(db).await;
    db.close_by_ref().await
}

/// Turns off SQLite's memory statistics for the process, once, before its first connection.
///
/// With them on, every allocation SQLite makes (one per column value read) takes a global
/// mutex that all connections share; Metadeck never reads those statistics.
fn untracked_sqlite_memory() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: SQLITE_CONFIG_MEMSTATUS takes one int. Called before SQLite is initialised
        // it applies; afterwards SQLite refuses it (SQLITE_MISUSE) and nothing changes.
        let rc = unsafe {
            libsqlite3_sys::sqlite3_config(
                libsqlite3_sys::SQLITE_CONFIG_MEMSTATUS,
                0 as std::ffi::c_int,
            )
        };
        if rc != libsqlite3_sys::SQLITE_OK {
            tracing::debug!(code = rc, "SQLite memory statistics stay on");
        }
    });
}

/// Turns on SQLite's query planner stability guarantee for a connection.
///
/// Without it, SQLite marks a cached statement as expired whenever a value bound to a
/// `LIMIT ?` (or a `LIKE ?`) is bound again, and re-parses and re-plans the statement on
/// every execution; Sea-ORM binds every `LIMIT`, so each `.one()` paid a full re-prepare.
/// With it, a statement is planned once and reused as it is.
fn stable_query_plans(db: std::ptr::NonNull<libsqlite3_sys::sqlite3>) {
    // SAFETY: `db` is the open handle of a connection whose lock the caller holds, and
    // SQLITE_DBCONFIG_ENABLE_QPSG takes an int and an optional int pointer (null here).
    let rc = unsafe {
        libsqlite3_sys::sqlite3_db_config(
            db.as_ptr(),
            libsqlite3_sys::SQLITE_DBCONFIG_ENABLE_QPSG,
            1 as std::ffi::c_int,
            std::ptr::null_mut::<std::ffi::c_int>(),
        )
    };
    if rc != libsqlite3_sys::SQLITE_OK {
        tracing::warn!(
            code = rc,
            "SQLite refused the query planner stability setting"
        );
    }
}

/// Small allocations a connection serves from its own lookaside slots.
const LOOKASIDE_SLOT_BYTES: std::ffi::c_int = 128;
/// Lookaside slots per connection (512 KiB, taken from the system only as slots are used).
const LOOKASIDE_SLOTS: std::ffi::c_int = 4096;

/// Gives a connection enough lookaside slots for a bulk statement's bound values.
///
/// SQLite copies every bound text into memory of its own. Its default lookaside (a few
/// hundred small slots) runs out within a statement of 2,700 values, and the rest then went
/// through the C allocator one by one: a tenth of the writer thread under bulk upserts.
fn room_for_bound_values(db: std::ptr::NonNull<libsqlite3_sys::sqlite3>) {
    // SAFETY: `db` is the open handle of a connection whose lock the caller holds, with no
    // statement running; SQLITE_DBCONFIG_LOOKASIDE takes a buffer (null: SQLite allocates
    // it), a slot size and a slot count.
    let rc = unsafe {
        libsqlite3_sys::sqlite3_db_config(
            db.as_ptr(),
            libsqlite3_sys::SQLITE_DBCONFIG_LOOKASIDE,
            std::ptr::null_mut::<std::ffi::c_void>(),
            LOOKASIDE_SLOT_BYTES,
            LOOKASIDE_SLOTS,
        )
    };
    if rc != libsqlite3_sys::SQLITE_OK {
        tracing::warn!(code = rc, "SQLite kept its default lookaside");
    }
}

/// Creates the database directory with mode 0700 and the file with mode 0600, so the file
/// is never readable by others, not even for a moment.
fn prepare_sqlite_file(path: &Path) -> std::io::Result<()> {
    if let Some(dir) = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty() && !d.exists())
    {
        std::fs::create_dir_all(dir)?;
        set_mode(dir, 0o700)?;
    }
    if !path.exists() {
        create_private_file(path)?;
    }
    Ok(())
}

/// Creates an empty file readable and writable by its owner only.
pub fn create_private_file(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_mode(_path: &Path, _mode: u32) -> std::io::Result<()> {
    Ok(())
}

/// An empty SQLite database in a new file, for tests: the directory (deleted when dropped),
/// the file and a pool of `connections` on it.
#[cfg(test)]
pub(crate) async fn file_database(
    connections: u32,
) -> (tempfile::TempDir, PathBuf, DatabaseConnection) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("metadeck.db");
    let db = connect(&DbOptions {
        url: format!("sqlite://{}?mode=rwc", path.display()),
        max_connections: connections,
    })
    .await
    .expect("the database opens");
    (dir, path, db)
}

/// A migrated SQLite database in a new file, for tests of code that reads the file itself:
/// the directory (deleted when dropped), the file and a pool on it.
#[cfg(test)]
pub(crate) async fn migrated_file_database() -> (tempfile::TempDir, PathBuf, DatabaseConnection) {
    use migration::MigratorTrait;
    let (dir, path, db) = file_database(2).await;
    migration::Migrator::up(&db, None)
        .await
        .expect("the migrations apply");
    (dir, path, db)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_name_their_file() {
        assert_eq!(
            sqlite_path("sqlite://./data/m.db?mode=rwc"),
            Some(PathBuf::from("./data/m.db"))
        );
        assert_eq!(
            sqlite_path("sqlite:///tmp/m.db"),
            Some(PathBuf::from("/tmp/m.db"))
        );
        assert_eq!(sqlite_path("sqlite::memory:"), None);
        assert_eq!(sqlite_path("postgres://x/y"), None);
    }

    #[test]
    fn only_sqlite_and_postgres_urls_are_recognised() {
        assert_eq!(Backend::of_url("sqlite://x.db"), Some(Backend::Sqlite));
        assert_eq!(
            Backend::of_url("postgresql://h/db"),
            Some(Backend::Postgres)
        );
        assert_eq!(Backend::of_url("mysql://h/db"), None);
    }

    /// After a burst of writes the WAL file is cut back once SQLite starts it over, so later
    /// writes past that size append rather than overwrite blocks the kernel may have dropped.
    #[tokio::test]
    async fn the_wal_file_shrinks_back_after_a_burst() {
        let (_dir, path, db) = migrated_file_database().await;
        let limit: i64 = db
            .query_one_raw(sea_orm::Statement::from_string(
                DbBackend::Sqlite,
                "PRAGMA journal_size_limit",
            ))
            .await
            .unwrap()
            .unwrap()
            .try_get_by_index(0)
            .unwrap();
        assert_eq!(limit, WAL_KEPT_BYTES as i64);
        db.execute_unprepared(
            "CREATE TABLE burst (b BLOB); \
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 4000) \
             INSERT INTO burst SELECT randomblob(4000) FROM n",
        )
        .await
        .unwrap();
        let wal = path.with_extension("db-wal");
        let burst = std::fs::metadata(&wal).unwrap().len();
        assert!(
            burst > WAL_KEPT_BYTES,
            "the burst grew the WAL to {burst} bytes"
        );
        db.execute_unprepared("PRAGMA wal_checkpoint(PASSIVE)")
            .await
            .unwrap();
        db.execute_unprepared("INSERT INTO burst VALUES (x'00')")
            .await
            .unwrap();
        let after = std::fs::metadata(&wal).unwrap().len();
        assert!(after <= WAL_KEPT_BYTES, "the WAL kept {after} bytes");
    }

    /// A bulk statement binds thousands of short texts; each pooled connection holds them
    /// all in its lookaside, none through the C allocator.
    #[tokio::test]
    async fn a_bulk_statement_s_bound_texts_fit_in_the_lookaside() {
        let (_dir, _path, db) = migrated_file_database().await;
        let pool = db.get_sqlite_connection_pool();
        let mut conn = pool.acquire().await.unwrap();
        let mut handle = conn.lock_handle().await.unwrap();
        let raw = handle.as_raw_handle().as_ptr();
        // SAFETY: `raw` is the open handle of the connection locked above, used on this
        // thread only while the lock is held; `from_handle` leaves it open when dropped.
        let borrowed = unsafe { rusqlite::Connection::from_handle(raw) }.unwrap();
        let texts: Vec<String> = (0..2_700).map(|n| format!("device value {n}")).collect();
        let sql = format!(
            "SELECT count(*) FROM (VALUES {})",
            vec!["(?)"; texts.len()].join(", ")
        );
        let counted: i64 = borrowed
            .query_row(&sql, rusqlite::params_from_iter(&texts), |row| row.get(0))
            .unwrap();
        assert_eq!(counted, 2_700);
        let (mut current, mut highest) = (0, 0);
        // SAFETY: as above; the two out-pointers are valid ints.
        let rc = unsafe {
            libsqlite3_sys::sqlite3_db_status(
                raw,
                libsqlite3_sys::SQLITE_DBSTATUS_LOOKASIDE_MISS_FULL,
                &mut current,
                &mut highest,
                0,
            )
        };
        assert_eq!(rc, libsqlite3_sys::SQLITE_OK);
        assert_eq!(highest, 0, "allocations the lookaside could not serve");
    }
}
