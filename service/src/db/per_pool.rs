//! State the process keeps for each connection pool: the SQLite writer queue, the
//! PostgreSQL lookup batches.
//!
//! A pool is known by its connect options, which the pool owns and shares out as one `Arc`:
//! an entry whose options are gone belongs to a closed pool and is dropped (with whatever it
//! holds, a connection say) the next time an entry is added. Tests open many databases in one
//! process, so such state cannot simply be global.

use std::any::Any;
use std::sync::{Arc, Mutex, PoisonError, Weak};

use sea_orm::{DatabaseConnection, DbBackend};

/// The connect options of a pool of either backend, as the key of its entry.
type Options = Arc<dyn Any + Send + Sync>;

/// An entry: the options of the pool it belongs to, and what it keeps.
type Entry<T> = (Weak<dyn Any + Send + Sync>, Arc<T>);

/// Entries of type `T`, one per pool.
pub(crate) struct PerPool<T> {
    entries: Mutex<Vec<Entry<T>>>,
}

impl<T> PerPool<T> {
    /// An empty registry, for a `static`.
    pub(crate) const fn new() -> Self {
        Self {
            entries: Mutex::new(Vec::new()),
        }
    }

    /// The entry of `db`'s pool, made by `make` the first time.
    pub(crate) fn of(&self, db: &DatabaseConnection, make: impl FnOnce() -> T) -> Arc<T> {
        let options: Options = match db.get_database_backend() {
            DbBackend::Postgres => db.get_postgres_connection_pool().connect_options(),
            _ => db.get_sqlite_connection_pool().connect_options(),
        };
        let key = Arc::as_ptr(&options).cast::<()>();
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((_, entry)) = entries
            .iter()
            .find(|(known, _)| known.strong_count() > 0 && known.as_ptr().cast::<()>() == key)
        {
            return Arc::clone(entry);
        }
        entries.retain(|(known, _)| known.strong_count() > 0);
        let entry = Arc::new(make());
        entries.push((Arc::downgrade(&options), Arc::clone(&entry)));
        entry
    }
}
