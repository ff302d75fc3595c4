//! Lookups by key that arrive together, answered by one query: how the hottest point reads
//! are made on PostgreSQL.
//!
//! On PostgreSQL every query through the pool is a round trip to a server process, and sqlx
//! follows each with a second one (it pings every connection it takes back to its pool).
//! Under load those trips, and the switches between processes sharing the same cores, cost
//! more than finding the row. A [`Coalesced`] lookup therefore has one query out at a time
//! per pool: keys asked for while it is out wait, and go out together in the next one
//! (`WHERE key = ANY(…)`). The trips per lookup fall as the load rises, and a lone lookup
//! goes out at once, never waiting for company.
//!
//! - A query carries at most [`MAX_BATCH`] keys; more waiting go out in the queries after.
//! - The queries run in a task of their own, so a caller that goes away (a request whose
//!   client hung up) never strands the callers batched with it.
//! - A query that fails, panics or is cancelled (its runtime shutting down) answers
//!   [`BatchFailed`] to each of its callers, which then look their key up alone: that
//!   answer, or the real error, is theirs.
//! - Each answer is read by the query that follows the caller's arrival, so it is as fresh as
//!   a lookup of its own would be.

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::{Arc, Mutex, PoisonError};

use sea_orm::DatabaseConnection;
use tokio::sync::oneshot;

use super::Backend;
use super::per_pool::PerPool;

/// The value stored under `key` (`None`: nothing is): on PostgreSQL looked up together with
/// the keys asked for at the same time, by `batch` (the values of a set of keys, in one
/// query, through the pool it is given); otherwise, or when the batch fails, by `alone`.
/// `lookups` keeps the batches of each pool, for this one kind of lookup.
pub(crate) async fn lookup<K, T, B, BFut, A, AFut>(
    lookups: &PerPool<Coalesced<K, T>>,
    db: &DatabaseConnection,
    key: K,
    batch: B,
    alone: A,
) -> crate::Result<Option<T>>
where
    K: Clone + Eq + Hash + Send + 'static,
    T: Clone + Send + 'static,
    B: Fn(DatabaseConnection, Vec<K>) -> BFut + Send + 'static,
    BFut: Future<Output = crate::Result<HashMap<K, T>>> + Send + 'static,
    A: FnOnce() -> AFut,
    AFut: Future<Output = crate::Result<Option<T>>>,
{
    if Backend::of(db) != Backend::Postgres {
        return alone().await;
    }
    let pool = db.clone();
    let query = move |keys| batch(pool.clone(), keys);
    match lookups.of(db, Coalesced::default).get(key, query).await {
        Ok(found) => Ok(found),
        Err(BatchFailed) => alone().await,
    }
}

/// The most keys one query asks for.
pub const MAX_BATCH: usize = 64;

/// The batched query could not answer; look the key up alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchFailed;

/// What a caller receives: the value stored under its key (`None`: nothing is).
type Answer<T> = Result<Option<T>, BatchFailed>;

/// The lookups of one kind on one pool (keep one per pool, e.g. in a
/// [`PerPool`](super::per_pool::PerPool)).
pub struct Coalesced<K, T> {
    pending: Mutex<Pending<K, T>>,
}

struct Pending<K, T> {
    /// Whether the task that sends the queries is running; it takes `waiting` when its query
    /// is answered, and stops when none is left.
    running: bool,
    waiting: Vec<(K, oneshot::Sender<Answer<T>>)>,
}

impl<K, T> Default for Coalesced<K, T> {
    fn default() -> Self {
        Self {
            pending: Mutex::new(Pending {
                running: false,
                waiting: Vec::new(),
            }),
        }
    }
}

impl<K, T> Coalesced<K, T>
where
    K: Clone + Eq + Hash + Send + 'static,
    T: Clone + Send + 'static,
{
    /// The value stored under `key`, looked up together with the keys asked for at the same
    /// time. `fetch` answers a batch of keys (a key it leaves out has no value); the first
    /// caller's `fetch` is the one used while the batches go on, so every caller of one
    /// `Coalesced` must pass the same query.
    pub async fn get<F, Fut, E>(self: &Arc<Self>, key: K, fetch: F) -> Answer<T>
    where
        F: Fn(Vec<K>) -> Fut + Send + 'static,
        Fut: Future<Output = Result<HashMap<K, T>, E>> + Send + 'static,
        E: std::fmt::Display + 'static,
    {
        let (answer, answered) = oneshot::channel();
        let start = {
            let mut pending = self.lock();
            pending.waiting.push((key, answer));
            !std::mem::replace(&mut pending.running, true)
        };
        if start {
            tokio::spawn(Arc::clone(self).send_batches(fetch));
        }
        answered.await.unwrap_or(Err(BatchFailed))
    }

    /// Sends the waiting keys, one query at a time, until none is left.
    async fn send_batches<F, Fut, E>(self: Arc<Self>, fetch: F)
    where
        F: Fn(Vec<K>) -> Fut,
        Fut: Future<Output = Result<HashMap<K, T>, E>>,
        E: std::fmt::Display,
    {
        let mut unfinished = Unfinished(Some(&self));
        loop {
            let batch: Vec<_> = {
                let mut pending = self.lock();
                if pending.waiting.is_empty() {
                    pending.running = false;
                    unfinished.0 = None;
                    return;
                }
                let n = pending.waiting.len().min(MAX_BATCH);
                pending.waiting.drain(..n).collect()
            };
            let keys = batch.iter().map(|(key, _)| key.clone()).collect();
            match fetch(keys).await {
                Ok(found) => {
                    for (key, answer) in batch {
                        // A caller that went away no longer listens.
                        let _ = answer.send(Ok(found.get(&key).cloned()));
                    }
                }
                Err(err) => {
                    // Each caller still gets its answer (alone), so only this says that the
                    // batched query itself is broken or the database is in trouble.
                    tracing::warn!(error = %err, keys = batch.len(), "a batched lookup failed");
                    for (_, answer) in batch {
                        let _ = answer.send(Err(BatchFailed));
                    }
                }
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Pending<K, T>> {
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Lets the next caller start a new task when this one ends before its work is done (a
/// panic, or its runtime shutting down): the callers waiting then are dropped, so they look
/// their keys up alone.
struct Unfinished<'a, K, T>(Option<&'a Coalesced<K, T>>);

impl<K, T> Drop for Unfinished<'_, K, T> {
    fn drop(&mut self) {
        if let Some(lookups) = self.0 {
            let mut pending = lookups
                .pending
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            pending.running = false;
            pending.waiting.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::future::BoxFuture;
    use tokio::sync::Notify;

    /// A query that records the keys of each batch and answers `key → key.len()`, except
    /// for keys starting with `absent`; it waits for `release` before answering when told to.
    #[derive(Clone, Default)]
    struct Recorder {
        batches: Arc<Mutex<Vec<Vec<String>>>>,
        release: Arc<Notify>,
    }

    /// What [`Recorder::fetch`] returns: a query for [`Coalesced::get`].
    type Query = Box<
        dyn Fn(Vec<String>) -> BoxFuture<'static, Result<HashMap<String, usize>, String>> + Send,
    >;

    impl Recorder {
        fn fetch(&self, hold: bool) -> Query {
            let this = self.clone();
            Box::new(move |keys: Vec<String>| {
                let this = this.clone();
                Box::pin(async move {
                    this.batches.lock().unwrap().push(keys.clone());
                    if hold {
                        this.release.notified().await;
                    }
                    Ok(keys
                        .into_iter()
                        .filter(|k| !k.starts_with("absent"))
                        .map(|k| (k.clone(), k.len()))
                        .collect())
                })
            })
        }
    }

    #[tokio::test]
    async fn keys_asked_while_a_query_is_out_go_out_together_in_the_next() {
        let lookups = Arc::new(Coalesced::<String, usize>::default());
        let recorder = Recorder::default();
        let first = tokio::spawn({
            let (lookups, fetch) = (Arc::clone(&lookups), recorder.fetch(true));
            async move { lookups.get("a".into(), fetch).await }
        });
        while recorder.batches.lock().unwrap().is_empty() {
            tokio::task::yield_now().await;
        }
        let mut later = Vec::new();
        for key in ["bb", "ccc", "absent-d"] {
            let (lookups, fetch) = (Arc::clone(&lookups), recorder.fetch(true));
            later.push(tokio::spawn(
                async move { lookups.get(key.into(), fetch).await },
            ));
        }
        while lookups.lock().waiting.len() < 3 {
            tokio::task::yield_now().await;
        }
        recorder.release.notify_one();
        assert_eq!(first.await.unwrap(), Ok(Some(1)));
        // The task keeps the first caller's query (which waits for `release`) for the next batch.
        recorder.release.notify_one();
        let answers: Vec<_> = futures_util::future::join_all(later)
            .await
            .into_iter()
            .map(Result::unwrap)
            .collect();
        assert_eq!(answers, [Ok(Some(2)), Ok(Some(3)), Ok(None)]);
        assert_eq!(
            *recorder.batches.lock().unwrap(),
            [
                vec!["a".to_string()],
                vec!["bb".into(), "ccc".into(), "absent-d".into()]
            ]
        );
        assert!(
            !lookups.lock().running,
            "the task stops when no key is left"
        );
    }

    #[tokio::test]
    async fn a_batch_never_exceeds_its_bound() {
        let lookups = Arc::new(Coalesced::<String, usize>::default());
        let recorder = Recorder::default();
        let calls: Vec<_> = (0..MAX_BATCH * 2 + 1)
            .map(|n| {
                let (lookups, fetch) = (Arc::clone(&lookups), recorder.fetch(false));
                tokio::spawn(async move { lookups.get(format!("k{n}"), fetch).await })
            })
            .collect();
        for (n, call) in calls.into_iter().enumerate() {
            assert_eq!(call.await.unwrap(), Ok(Some(format!("k{n}").len())));
        }
        let batches = recorder.batches.lock().unwrap();
        assert!(batches.iter().all(|b| b.len() <= MAX_BATCH), "{batches:?}");
        assert_eq!(
            batches.iter().map(Vec::len).sum::<usize>(),
            MAX_BATCH * 2 + 1
        );
    }

    #[tokio::test]
    async fn a_failed_or_panicking_query_tells_its_callers_to_look_alone() {
        let lookups = Arc::new(Coalesced::<String, usize>::default());
        let failing = |_: Vec<String>| async { Err::<HashMap<String, usize>, _>("gone") };
        assert_eq!(lookups.get("a".into(), failing).await, Err(BatchFailed));

        let panicking = |_: Vec<String>| async {
            if true {
                panic!("a bug in the query");
            }
            Ok::<HashMap<String, usize>, String>(HashMap::new())
        };
        assert_eq!(lookups.get("a".into(), panicking).await, Err(BatchFailed));

        // Lookups after either go on as usual.
        let recorder = Recorder::default();
        assert_eq!(
            lookups.get("abc".into(), recorder.fetch(false)).await,
            Ok(Some(3))
        );
    }

    #[test]
    fn a_query_cancelled_with_its_runtime_leaves_the_next_lookup_free_to_start() {
        let lookups = Arc::new(Coalesced::<String, usize>::default());
        let recorder = Recorder::default();
        let first = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        first.block_on(async {
            let (lookups, fetch) = (Arc::clone(&lookups), recorder.fetch(true));
            tokio::spawn(async move { lookups.get("never".into(), fetch).await });
            while recorder.batches.lock().unwrap().is_empty() {
                tokio::task::yield_now().await;
            }
        });
        drop(first); // its query never answered; the task is dropped with the runtime

        let second = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let answer = second.block_on(lookups.get("abc".into(), recorder.fetch(false)));
        assert_eq!(answer, Ok(Some(3)));
    }
}
