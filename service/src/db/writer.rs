//! Writes: this process's writer turn on SQLite, and write transactions that hold it.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use sea_orm::{
    ConnAcquireErr, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr,
    ExecResult, QueryResult, SqliteTransactionMode, Statement, TransactionOptions,
    TransactionTrait,
};

use super::Backend;

/// How long a writer waits for its turn before the request fails as "database unavailable";
/// the same as SQLite's busy timeout, which it replaces for writers of this process.
const WRITER_WAIT: Duration = Duration::from_secs(10);

/// The queue of this process's SQLite writers.
///
/// SQLite admits one writer at a time, and a writer that finds the lock taken waits in
/// SQLite's busy handler, which sleeps 1, 2, 5, 10, … 100 ms between tries. Under concurrent
/// writes most of the time then goes to sleeping while the lock is free. Writers of this
/// process take turns here instead, in arrival order, each woken the moment the one before it
/// is done; the busy timeout is left for writers in other processes (the CLI next to a
/// running server). One queue per process, not per file: a process serves one database (the
/// test suite, which opens many, only serialises their writes).
static SQLITE_WRITERS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A writer's turn at the database: held while a write runs, released when dropped. Empty on
/// PostgreSQL, whose writers lock rows, not the database.
#[derive(Debug)]
#[must_use = "the turn ends when it is dropped"]
pub struct WriterTurn {
    _held: Option<tokio::sync::MutexGuard<'static, ()>>,
}

/// Waits for this process's turn to write (SQLite) and returns it; PostgreSQL writers do not
/// queue. For a single write statement outside a transaction; [`begin_write`] takes the turn
/// for its transaction itself.
pub async fn writer_turn(db: &impl ConnectionTrait) -> Result<WriterTurn, DbErr> {
    if Backend::of(db) == Backend::Postgres {
        return Ok(WriterTurn { _held: None });
    }
    match tokio::time::timeout(WRITER_WAIT, SQLITE_WRITERS.lock()).await {
        Ok(guard) => Ok(WriterTurn { _held: Some(guard) }),
        Err(_) => Err(DbErr::ConnectionAcquire(ConnAcquireErr::Timeout)),
    }
}

/// A transaction that writes: on SQLite it holds the writer's turn (see [`writer_turn`]) and
/// the write lock (`BEGIN IMMEDIATE`) until it commits, rolls back or is dropped.
#[derive(Debug)]
pub struct WriteTxn {
    txn: DatabaseTransaction,
    /// Run once the transaction has committed ([`WriteTxn::after_commit`]).
    after_commit: Mutex<Vec<fn()>>,
    // Declared after `txn`: the turn passes on only once the transaction has ended.
    _turn: WriterTurn,
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

    /// Commits the transaction, runs the [`after_commit`](Self::after_commit) hooks, then
    /// ends the turn.
    pub async fn commit(self) -> Result<(), DbErr> {
        let Self {
            txn,
            after_commit,
            _turn,
        } = self;
        txn.commit().await?;
        for hook in after_commit
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner)
        {
            hook();
        }
        Ok(())
    }

    /// Rolls the transaction back, then ends the turn.
    pub async fn rollback(self) -> Result<(), DbErr> {
        let Self { txn, _turn, .. } = self;
        txn.rollback().await
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for WriteTxn {
    fn get_database_backend(&self) -> DbBackend {
        self.txn.get_database_backend()
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        self.txn.execute_raw(stmt).await
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.txn.execute_unprepared(sql).await
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        self.txn.query_one_raw(stmt).await
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        self.txn.query_all_raw(stmt).await
    }
}

/// Begins a transaction that will write. On SQLite it first waits for this process's writer
/// turn, then takes the write lock at once (`BEGIN IMMEDIATE`), which `busy_timeout` can wait
/// for, instead of failing with `SQLITE_BUSY` when a read lock cannot be upgraded.
pub async fn begin_write(db: &DatabaseConnection) -> Result<WriteTxn, DbErr> {
    let turn = writer_turn(db).await?;
    let txn = db
        .begin_with_options(TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..Default::default()
        })
        .await?;
    Ok(WriteTxn {
        txn,
        after_commit: Mutex::default(),
        _turn: turn,
    })
}
