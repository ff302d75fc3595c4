//! Writes: this process's writer turn on SQLite, and write transactions that hold it.
//!
//! SQLite admits one writer at a time, and a writer that finds the lock taken waits in
//! SQLite's busy handler, which sleeps 1, 2, 5, 10, … 100 ms between tries. Under concurrent
//! writes most of the time then goes to sleeping while the lock is free. Writers of this
//! process take turns instead, in arrival order, each woken the moment the one before it is
//! done; the busy timeout is left for writers in other processes (the CLI next to a running
//! server). There is one queue per pool.
//!
//! On a database file the turn also carries **the pool's writer connection**: every write of
//! the process runs on that one connection, taken out of the pool for good the first time it
//! is needed. SQLite drops a connection's page cache whenever another connection has
//! committed, so writes spread over the pool re-read the pages they touch on every write;
//! the writer connection keeps them. (Handing a pooled connection back and forth was tried
//! first and lost more than it saved: sqlx returns a connection to its pool from a spawned
//! task, which the next writer had to wait for.) In-memory databases, where every connection
//! is a database of its own, write through the pool; PostgreSQL writers lock rows, not the
//! database, and neither queue nor share a connection.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use sea_orm::sqlx::sqlite::SqliteConnection;
use sea_orm::sqlx::{self, AssertSqlSafe, SqlSafeStr};
use sea_orm::{
    ConnAcquireErr, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr,
    ExecResult, QueryResult, RuntimeErr, SqliteTransactionMode, Statement, TransactionOptions,
    TransactionTrait,
};
use sea_query_sqlx::SqlxValues;
use sqlx_core::transaction::TransactionManager;
use tokio::sync::OwnedMutexGuard;

use super::Backend;
use super::per_pool::PerPool;

/// sqlx's transaction bookkeeping for SQLite connections: begin, commit, rollback, and the
/// rollback queued by a transaction dropped while open.
type Manager = <sqlx::Sqlite as sqlx::Database>::TransactionManager;

/// How long a writer waits for its turn before the request fails as "database unavailable";
/// the same as SQLite's busy timeout, which it replaces for writers of this process.
const WRITER_WAIT: Duration = Duration::from_secs(10);

/// A pool's writer queue; what it guards is the pool's writer connection, `None` until the
/// first write on a database file (and always on an in-memory database).
type Queue = Arc<tokio::sync::Mutex<Option<SqliteConnection>>>;

/// The writer queue of every SQLite pool of the process.
static QUEUES: PerPool<tokio::sync::Mutex<Option<SqliteConnection>>> = PerPool::new();

/// The writer queue of `db`'s SQLite pool.
fn queue_of(db: &DatabaseConnection) -> Queue {
    QUEUES.of(db, Default::default)
}

/// A writer's turn at the database: held while a write runs, released when dropped. On a
/// SQLite file it holds the pool's writer connection, and statements run on the turn (it is
/// a [`ConnectionTrait`]) run there; otherwise they run through the pool.
#[must_use = "the turn ends when it is dropped"]
pub struct WriterTurn {
    db: DatabaseConnection,
    /// The queue's guard (SQLite), behind a lock because statements borrow the turn shared.
    held: Option<tokio::sync::Mutex<OwnedMutexGuard<Option<SqliteConnection>>>>,
    /// Whether statements go through the pool (PostgreSQL, in-memory SQLite) rather than the
    /// writer connection; fixed when the turn is taken, so that a turn whose connection
    /// failed never carries on outside its transaction.
    through_pool: bool,
}

impl std::fmt::Debug for WriterTurn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WriterTurn")
            .field("queued", &self.held.is_some())
            .finish()
    }
}

/// Waits for this process's turn to write on `db` (SQLite) and returns it; PostgreSQL writers
/// do not queue. For writes outside a transaction, run on the turn itself; [`begin_write`]
/// takes the turn for its transaction.
pub async fn writer_turn(db: &DatabaseConnection) -> Result<WriterTurn, DbErr> {
    if Backend::of(db) == Backend::Postgres {
        return Ok(WriterTurn {
            db: db.clone(),
            held: None,
            through_pool: true,
        });
    }
    let queue = queue_of(db);
    let mut guard = tokio::time::timeout(WRITER_WAIT, queue.lock_owned())
        .await
        .map_err(|_| DbErr::ConnectionAcquire(ConnAcquireErr::Timeout))?;
    if guard.is_none() && is_file(db) {
        let pooled = db
            .get_sqlite_connection_pool()
            .acquire()
            .await
            .map_err(|err| DbErr::Conn(RuntimeErr::SqlxError(Arc::new(err))))?;
        *guard = Some(pooled.detach());
    }
    Ok(WriterTurn {
        db: db.clone(),
        through_pool: guard.is_none(),
        held: Some(tokio::sync::Mutex::new(guard)),
    })
}

/// Closes `db`'s writer connection, if it has one: at shutdown, before the pool, so that the
/// last connection to close leaves the database file tidy (SQLite checkpoints and removes the
/// WAL then). A writer still at work is waited for as any other would be.
pub(super) async fn close_writer(db: &DatabaseConnection) {
    if Backend::of(db) == Backend::Postgres {
        return;
    }
    let queue = queue_of(db);
    let Ok(mut guard) = tokio::time::timeout(WRITER_WAIT, queue.lock()).await else {
        tracing::warn!("the writer connection was still busy at shutdown");
        return;
    };
    if let Some(connection) = guard.take()
        && let Err(err) = sqlx::Connection::close(connection).await
    {
        tracing::warn!(error = %err, "closing the writer connection failed");
    }
}

/// Whether `db`'s pool opens a database file (not an in-memory database).
fn is_file(db: &DatabaseConnection) -> bool {
    let options = db.get_sqlite_connection_pool().connect_options();
    options.get_filename().is_file()
}

/// Runs `op` on the turn's writer connection, or `None` when the turn writes through the pool.
/// A connection that failed as a connection (not a statement that failed) is given up: the
/// rest of the turn fails, and the next turn takes a fresh one from the pool.
async fn on_writer<T>(
    turn: &WriterTurn,
    op: impl AsyncFnOnce(&mut SqliteConnection) -> Result<T, sqlx::Error>,
    wrap: fn(RuntimeErr) -> DbErr,
) -> Option<Result<T, DbErr>> {
    if turn.through_pool {
        return None;
    }
    let mut guard = turn.held.as_ref()?.lock().await;
    let Some(connection) = guard.as_mut() else {
        return Some(Err(DbErr::Custom("the writer connection was lost".into())));
    };
    let result = op(connection).await;
    Some(result.map_err(|err| {
        if is_connection_failure(&err) {
            guard.take();
        }
        wrap(RuntimeErr::SqlxError(Arc::new(err)))
    }))
}

fn is_connection_failure(err: &sqlx::Error) -> bool {
    matches!(
        err,
        sqlx::Error::Io(_) | sqlx::Error::WorkerCrashed | sqlx::Error::Protocol(_)
    )
}

fn sqlx_query(stmt: &Statement) -> sqlx::query::Query<'_, sqlx::Sqlite, SqlxValues> {
    let values = stmt
        .values
        .clone()
        .unwrap_or(sea_orm::sea_query::Values(Vec::new()));
    sqlx::query_with(AssertSqlSafe(stmt.sql.as_str()), SqlxValues(values))
}

/// A statement on the turn's writer connection (`$op` with the connection as `$c`, its result
/// converted by `$convert`), or the same statement through the pool when the turn has none.
macro_rules! on_turn {
    ($turn:expr, |$c:ident| $op:expr, $wrap:expr, $convert:expr, $pool:ident($arg:expr)) => {
        match on_writer($turn, async |$c| $op, $wrap).await {
            Some(done) => done.map($convert),
            None => $turn.db.$pool($arg).await,
        }
    };
}

#[async_trait::async_trait]
impl ConnectionTrait for WriterTurn {
    fn get_database_backend(&self) -> DbBackend {
        self.db.get_database_backend()
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        on_turn!(
            self,
            |c| sqlx_query(&stmt).execute(c).await,
            DbErr::Exec,
            ExecResult::from,
            execute_raw(stmt)
        )
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        on_turn!(
            self,
            |c| sqlx::raw_sql(AssertSqlSafe(sql)).execute(c).await,
            DbErr::Exec,
            ExecResult::from,
            execute_unprepared(sql)
        )
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        on_turn!(
            self,
            |c| sqlx_query(&stmt).fetch_optional(c).await,
            DbErr::Query,
            |row| row.map(QueryResult::from),
            query_one_raw(stmt)
        )
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        on_turn!(
            self,
            |c| sqlx_query(&stmt).fetch_all(c).await,
            DbErr::Query,
            |rows| rows.into_iter().map(QueryResult::from).collect(),
            query_all_raw(stmt)
        )
    }
}

/// A transaction that writes: on SQLite it holds the writer's turn (see [`writer_turn`]) and
/// the write lock (`BEGIN IMMEDIATE`) until it commits, rolls back or is dropped.
#[derive(Debug)]
pub struct WriteTxn {
    /// `None` once committed or rolled back.
    inner: Option<Inner>,
    /// Run once the transaction has committed ([`WriteTxn::after_commit`]).
    after_commit: Mutex<Vec<fn()>>,
}

#[derive(Debug)]
enum Inner {
    /// A transaction on the turn's writer connection (a SQLite file).
    OnTurn(WriterTurn),
    /// A pool transaction (PostgreSQL, in-memory SQLite).
    Pooled {
        txn: DatabaseTransaction,
        // Declared after `txn`: the turn passes on only once the transaction has ended.
        _turn: WriterTurn,
    },
}

/// How a transaction on the writer connection ends.
#[derive(Debug, Clone, Copy)]
enum End {
    Commit,
    Rollback,
}

impl Drop for WriteTxn {
    fn drop(&mut self) {
        if let Some(Inner::OnTurn(turn)) = &mut self.inner
            && let Some(held) = turn.held.as_mut()
            && let Some(connection) = held.get_mut().as_mut()
        {
            // Dropped while open (its request was cancelled, or a commit failed): the rollback
            // is queued on the connection's thread ahead of anything the next writer sends.
            Manager::start_rollback(connection);
        }
    }
}

impl WriteTxn {
    /// Runs `hook` once this transaction has committed, never if it rolls back: how an
    /// in-process cache of committed rows learns that they changed, at the moment every new
    /// read sees the change (forgetting earlier would let a read of the old rows refill it).
    pub fn after_commit(&self, hook: fn()) {
        self.after_commit
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(hook);
    }

    /// Commits the transaction, ends the turn (the next writer may start), then runs the
    /// [`after_commit`](Self::after_commit) hooks.
    pub async fn commit(mut self) -> Result<(), DbErr> {
        self.end(End::Commit).await?;
        let hooks = std::mem::take(
            &mut *self
                .after_commit
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        );
        drop(self);
        for hook in hooks {
            hook();
        }
        Ok(())
    }

    /// Rolls the transaction back, then ends the turn.
    pub async fn rollback(mut self) -> Result<(), DbErr> {
        self.end(End::Rollback).await
    }

    /// Ends the transaction. On the writer connection, a transaction whose end failed stays
    /// open, and dropping it rolls it back.
    async fn end(&mut self, how: End) -> Result<(), DbErr> {
        match self.inner.take() {
            Some(Inner::OnTurn(turn)) => {
                let ended = on_writer(
                    &turn,
                    async |c| match how {
                        End::Commit => Manager::commit(c).await,
                        End::Rollback => Manager::rollback(c).await,
                    },
                    DbErr::Query,
                )
                .await
                .unwrap_or_else(|| Err(DbErr::Custom("the turn has no writer connection".into())));
                if ended.is_err() {
                    self.inner = Some(Inner::OnTurn(turn));
                }
                ended
            }
            Some(Inner::Pooled { txn, _turn }) => match how {
                End::Commit => txn.commit().await,
                End::Rollback => txn.rollback().await,
            },
            None => Err(DbErr::Custom("the transaction has already ended".into())),
        }
    }
}

/// Where a transaction's statements run, or why they cannot.
macro_rules! on_txn {
    ($txn:expr, $method:ident, $arg:expr) => {
        match &$txn.inner {
            Some(Inner::OnTurn(turn)) => turn.$method($arg).await,
            Some(Inner::Pooled { txn, .. }) => txn.$method($arg).await,
            None => Err(DbErr::Custom("the transaction has already ended".into())),
        }
    };
}

#[async_trait::async_trait]
impl ConnectionTrait for WriteTxn {
    fn get_database_backend(&self) -> DbBackend {
        match &self.inner {
            Some(Inner::OnTurn(turn)) => turn.get_database_backend(),
            Some(Inner::Pooled { txn, .. }) => txn.get_database_backend(),
            None => DbBackend::Sqlite,
        }
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        on_txn!(self, execute_raw, stmt)
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        on_txn!(self, execute_unprepared, sql)
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        on_txn!(self, query_one_raw, stmt)
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        on_txn!(self, query_all_raw, stmt)
    }
}

/// Begins a transaction that will write. On SQLite it first waits for this process's writer
/// turn, then takes the write lock at once (`BEGIN IMMEDIATE`), which `busy_timeout` can wait
/// for, instead of failing with `SQLITE_BUSY` when a read lock cannot be upgraded.
pub async fn begin_write(db: &DatabaseConnection) -> Result<WriteTxn, DbErr> {
    let asked = std::time::Instant::now();
    let turn = writer_turn(db).await?;
    let begun = on_writer(
        &turn,
        async |c| Manager::begin(c, Some(AssertSqlSafe("BEGIN IMMEDIATE").into_sql_str())).await,
        DbErr::Query,
    )
    .await;
    let inner = match begun {
        Some(begun) => {
            begun?;
            Inner::OnTurn(turn)
        }
        None => Inner::Pooled {
            txn: db
                .begin_with_options(TransactionOptions {
                    sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                    ..Default::default()
                })
                .await?,
            _turn: turn,
        },
    };
    // How long the write waited for its turn and connection: what the pool-wait metric shows.
    crate::operations::metrics::metrics().pool_wait(asked.elapsed());
    Ok(WriteTxn {
        inner: Some(inner),
        after_commit: Mutex::default(),
    })
}

/// Begins a write transaction for one large, idempotent batch (bulk upserts, imports). On
/// SQLite it is [`begin_write`]. On PostgreSQL the transaction also:
///
/// - commits without waiting for its WAL to reach the disk (`synchronous_commit = off`): a
///   crash of the machine (not of Metadeck, nor of PostgreSQL alone) may lose the batches
///   acknowledged in its last fraction of a second, and never leaves one half-written. That
///   is the guarantee SQLite's `synchronous = NORMAL` gives every Metadeck write, and a
///   discovery service re-sends its registry anyway. A 10,000-device commit waited 3–12 ms
///   for the flush;
/// - plans its statements once per connection (`plan_cache_mode = force_generic_plan`). A
///   statement whose parameters are whole arrays got a plan of its own per call, for which
///   PostgreSQL read every array an extra time to estimate its length: 8–16 ms a chunk.
pub async fn begin_bulk_write(db: &DatabaseConnection) -> Result<WriteTxn, DbErr> {
    let txn = begin_write(db).await?;
    if txn.get_database_backend() == DbBackend::Postgres {
        txn.execute_unprepared(
            "SELECT set_config('synchronous_commit', 'off', true), \
                    set_config('plan_cache_mode', 'force_generic_plan', true)",
        )
        .await?;
    }
    Ok(txn)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::{DbOptions, connect, migrated_file_database};

    /// A temporary table lives on the connection that created it: seeing it again tells that
    /// a write ran on the same connection.
    async fn on_the_connection_that_made_it(txn: &impl ConnectionTrait) -> bool {
        txn.execute_unprepared("INSERT INTO temp.marker VALUES (1)")
            .await
            .is_ok()
    }

    #[tokio::test]
    async fn every_write_on_a_file_runs_on_one_connection() {
        let (_dir, _path, db) = migrated_file_database().await;
        let first = begin_write(&db).await.unwrap();
        first
            .execute_unprepared("CREATE TEMP TABLE marker (x INTEGER)")
            .await
            .unwrap();
        first.commit().await.unwrap();
        for _ in 0..3 {
            let txn = begin_write(&db).await.unwrap();
            assert!(on_the_connection_that_made_it(&txn).await);
            txn.commit().await.unwrap();
        }
        let turn = writer_turn(&db).await.unwrap();
        assert!(on_the_connection_that_made_it(&turn).await);
    }

    #[tokio::test]
    async fn a_write_dropped_while_open_is_rolled_back_and_the_next_one_proceeds() {
        let (_dir, _path, db) = migrated_file_database().await;
        let setup = begin_write(&db).await.unwrap();
        setup
            .execute_unprepared("CREATE TABLE kept (x INTEGER)")
            .await
            .unwrap();
        setup.commit().await.unwrap();

        let abandoned = begin_write(&db).await.unwrap();
        abandoned
            .execute_unprepared("INSERT INTO kept VALUES (1)")
            .await
            .unwrap();
        drop(abandoned);

        let next = begin_write(&db).await.unwrap();
        next.execute_unprepared("INSERT INTO kept VALUES (2)")
            .await
            .unwrap();
        next.commit().await.unwrap();
        let rolled_back = begin_write(&db).await.unwrap();
        rolled_back
            .execute_unprepared("INSERT INTO kept VALUES (3)")
            .await
            .unwrap();
        rolled_back.rollback().await.unwrap();

        let rows: Vec<i64> = db
            .query_all_raw(Statement::from_string(
                DbBackend::Sqlite,
                "SELECT x FROM kept ORDER BY x",
            ))
            .await
            .unwrap()
            .iter()
            .map(|row| row.try_get("", "x").unwrap())
            .collect();
        assert_eq!(rows, vec![2], "only the committed write is stored");
    }

    #[tokio::test]
    async fn a_failed_statement_leaves_the_transaction_usable() {
        let (_dir, _path, db) = migrated_file_database().await;
        let txn = begin_write(&db).await.unwrap();
        txn.execute_unprepared("CREATE TABLE once (x INTEGER PRIMARY KEY)")
            .await
            .unwrap();
        txn.execute_unprepared("INSERT INTO once VALUES (1)")
            .await
            .unwrap();
        let err = txn
            .execute_unprepared("INSERT INTO once VALUES (1)")
            .await
            .unwrap_err();
        assert!(
            matches!(
                err.sql_err(),
                Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
            ),
            "classified as sea-orm classifies it: {err:?}"
        );
        txn.execute_unprepared("INSERT INTO once VALUES (2)")
            .await
            .unwrap();
        txn.commit().await.unwrap();
        let count = db
            .query_one_raw(Statement::from_string(
                DbBackend::Sqlite,
                "SELECT count(*) AS n FROM once",
            ))
            .await
            .unwrap()
            .unwrap()
            .try_get::<i64>("", "n")
            .unwrap();
        assert_eq!(count, 2);
    }

    #[tokio::test]
    async fn a_closed_writer_connection_is_replaced_by_the_next_write() {
        let (_dir, _path, db) = migrated_file_database().await;
        let first = begin_write(&db).await.unwrap();
        first
            .execute_unprepared("CREATE TEMP TABLE marker (x INTEGER)")
            .await
            .unwrap();
        first.commit().await.unwrap();
        close_writer(&db).await;
        let next = begin_write(&db).await.unwrap();
        assert!(
            !on_the_connection_that_made_it(&next).await,
            "a new connection"
        );
        next.execute_unprepared("CREATE TABLE after_close (x INTEGER)")
            .await
            .unwrap();
        next.commit().await.unwrap();
    }

    #[tokio::test]
    async fn an_in_memory_database_writes_through_its_pool() {
        let db = connect(&DbOptions {
            url: "sqlite::memory:".into(),
            max_connections: 1,
        })
        .await
        .unwrap();
        let txn = begin_write(&db).await.unwrap();
        txn.execute_unprepared("CREATE TABLE t (x INTEGER)")
            .await
            .unwrap();
        txn.commit().await.unwrap();
        let turn = writer_turn(&db).await.unwrap();
        turn.execute_unprepared("INSERT INTO t VALUES (1)")
            .await
            .unwrap();
        drop(turn);
        let row = db
            .query_one_raw(Statement::from_string(
                DbBackend::Sqlite,
                "SELECT count(*) AS n FROM t",
            ))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(row.try_get::<i64>("", "n").unwrap(), 1);
    }
}
