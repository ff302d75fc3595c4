//! WAL checkpoints in the background, off every writer's path (SQLite).
//!
//! SQLite checkpoints on its own when a commit leaves the WAL over a limit, inside that commit:
//! the writer copies the WAL into the database file and waits for two `fsync`s while it holds
//! this process's writer turn, so every writer behind it waits too: under many concurrent
//! writers, an occasional commit stalled the whole queue for milliseconds (the measurements
//! are in tests/bench/README.md). A server instead checkpoints here, on a thread and
//! connection of its own, every [`CHECKPOINT_EVERY`]: a `PASSIVE` checkpoint never blocks
//! readers or writers, and copies a page written many times since the last one once.
//!
//! The pool's own limit ([`super::AUTOCHECKPOINT_PAGES`]) stays as a bound on the WAL for
//! processes without this thread (the CLI) and should this thread fall behind.

use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};
use sea_orm::{DatabaseConnection, DbBackend};

/// How often the WAL is copied into the database file.
pub const CHECKPOINT_EVERY: Duration = Duration::from_millis(250);

/// The running checkpoint thread; it stops when this is stopped or dropped.
#[derive(Debug)]
pub struct Checkpoints {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpoints {
    /// Stops the thread after the checkpoint it may be running.
    pub fn stop(mut self) {
        self.shut_down();
    }

    fn shut_down(&mut self) {
        self.stop.take();
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            tracing::warn!("the checkpoint thread panicked");
        }
    }
}

impl Drop for Checkpoints {
    fn drop(&mut self) {
        self.shut_down();
    }
}

/// Starts checkpointing `db`'s file every `every`; `None` for PostgreSQL and in-memory SQLite,
/// which have no WAL to copy, and when the file cannot be opened (SQLite's own limit then
/// keeps checkpointing, inside commits).
pub fn start(db: &DatabaseConnection, every: Duration) -> Option<Checkpoints> {
    if db.get_database_backend() != DbBackend::Sqlite {
        return None;
    }
    let path = db
        .get_sqlite_connection_pool()
        .connect_options()
        .get_filename()
        .to_path_buf();
    if !path.is_file() {
        return None;
    }
    let connection = Connection::open_with_flags(
        &path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .inspect_err(|err| tracing::warn!(error = %err, "cannot open the checkpoint connection"))
    .ok()?;
    let (stop, stopped) = mpsc::channel::<()>();
    let thread = std::thread::Builder::new()
        .name("sqlite-checkpoint".into())
        .spawn(move || {
            while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(every) {
                checkpoint(&connection);
            }
        })
        .inspect_err(|err| tracing::warn!(error = %err, "cannot start the checkpoint thread"))
        .ok()?;
    Some(Checkpoints {
        stop: Some(stop),
        thread: Some(thread),
    })
}

/// One passive checkpoint: it copies what no reader still needs and never waits for a lock.
fn checkpoint(connection: &Connection) {
    let done = connection.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| {
        Ok((
            row.get::<_, i64>(0)?,
            row.get::<_, i64>(1)?,
            row.get::<_, i64>(2)?,
        ))
    });
    match done {
        Ok((busy, wal_pages, copied)) => {
            tracing::trace!(busy, wal_pages, copied, "checkpoint");
        }
        Err(err) => tracing::debug!(error = %err, "checkpoint skipped"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::migrated_file_database;
    use sea_orm::ConnectionTrait;

    #[tokio::test]
    async fn the_wal_is_copied_into_the_database_file_without_a_commit_doing_it() {
        let (_dir, path, db) = migrated_file_database().await;
        db.execute_unprepared("CREATE TABLE filler (x BLOB)")
            .await
            .unwrap();
        let size = || std::fs::metadata(&path).unwrap().len();
        let before = size();
        let running = start(&db, Duration::from_millis(20)).expect("a file database");
        // 320 KB: far below the pool's own checkpoint limit, so only this thread copies it.
        for _ in 0..20 {
            db.execute_unprepared("INSERT INTO filler VALUES (zeroblob(16384))")
                .await
                .unwrap();
        }
        let mut grown = 0;
        for _ in 0..200 {
            grown = size().saturating_sub(before);
            if grown >= 20 * 16384 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(
            grown >= 20 * 16384,
            "the database file grew by {grown} bytes"
        );
        running.stop();
    }

    #[tokio::test]
    async fn postgres_and_memory_databases_have_no_checkpoint_thread() {
        let db = crate::db::connect(&crate::db::DbOptions {
            url: "sqlite::memory:".into(),
            max_connections: 1,
        })
        .await
        .unwrap();
        assert!(start(&db, CHECKPOINT_EVERY).is_none());
    }
}
