//! The in-process cache that serves config reads without a database round trip, and how it
//! stays true to the database that several instances share.
//!
//! - A read that misses reads the row (or its absence) and keeps it, unless a change was
//!   forgotten while it read ([`ConfigCache::generation`]): a read of the old row must not
//!   refill the cache after the change that replaced it.
//! - A write through this instance forgets its key the moment it commits.
//! - A write through another instance is learnt by polling ([`super::watch`]): every
//!   [`ConfigCache::poll_every`] the poller reads the keys whose version passed the last one
//!   it saw and forgets them.
//! - The cache answers only while the poller's last successful look began less than
//!   [`TRUSTED_FOR`] ago, so a change through another instance is never served stale for
//!   more than 5 s, even when polling fails (the database unreachable): reads then go to the
//!   database until a poll succeeds again, and that poll catches up on everything it missed.
//! - Absent keys are kept too (a `404` is as cheap as a hit); at most [`CAPACITY`] keys are
//!   kept, so asking for many unknown keys cannot grow it without bound.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

use super::ConfigItem;

/// How long after the start of the last successful poll the cache is still believed.
/// Every poll interval allowed is shorter ([`MAX_POLL_EVERY`]).
pub const TRUSTED_FOR: Duration = Duration::from_millis(4_500);

/// The default wait between two polls (`METADECK_CONFIG_POLL_MS`).
pub const DEFAULT_POLL_EVERY: Duration = Duration::from_millis(500);

/// The shortest poll interval accepted.
pub const MIN_POLL_EVERY: Duration = Duration::from_millis(50);

/// The longest poll interval accepted: with polls this far apart a change through another
/// instance is still dropped within 5 s.
pub const MAX_POLL_EVERY: Duration = Duration::from_millis(4_000);

/// Most keys kept (present or absent).
pub const CAPACITY: usize = 10_000;

/// Stands for "no successful poll yet" in [`ConfigCache::synced_at`].
const NEVER: u64 = u64::MAX;

/// A key's cached state: its row, or `None` when it does not exist.
pub type Cached = Option<Arc<ConfigItem>>;

/// The config values of one instance.
#[derive(Debug)]
pub struct ConfigCache {
    entries: RwLock<HashMap<String, Cached>>,
    /// Bumped, under the write lock, by every forget.
    generation: AtomicU64,
    /// What `synced_at` counts from.
    origin: Instant,
    /// Milliseconds from `origin` to the start of the last successful poll, or [`NEVER`].
    synced_at: AtomicU64,
    poll_every: Duration,
}

impl ConfigCache {
    /// An empty cache whose poller looks every `poll_every`. It answers nothing until the
    /// first successful poll ([`ConfigCache::synced`]).
    pub fn new(poll_every: Duration) -> Self {
        Self {
            entries: RwLock::new(HashMap::new()),
            generation: AtomicU64::new(0),
            origin: Instant::now(),
            synced_at: AtomicU64::new(NEVER),
            poll_every,
        }
    }

    /// How often the poller looks for changes made through other instances.
    pub fn poll_every(&self) -> Duration {
        self.poll_every
    }

    /// The key's cached state, when it is kept and the cache is believed now.
    pub fn lookup(&self, key: &str) -> Option<Cached> {
        if !self.trusted() {
            return None;
        }
        self.entries
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(key)
            .cloned()
    }

    /// The current generation: taken before a miss reads the database, handed to
    /// [`ConfigCache::keep`].
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Keeps what a read begun in `read_generation` found, unless a key was forgotten since
    /// (the read may have seen the row before that change), the cache is not believed now, or
    /// it is full.
    pub fn keep(&self, key: &str, found: Cached, read_generation: u64) {
        if !self.trusted() {
            return;
        }
        let mut entries = self.entries.write().unwrap_or_else(PoisonError::into_inner);
        if self.generation.load(Ordering::Acquire) != read_generation
            || (entries.len() >= CAPACITY && !entries.contains_key(key))
        {
            return;
        }
        entries.insert(key.to_owned(), found);
    }

    /// Forgets `keys`: they changed.
    pub fn forget<'a>(&self, keys: impl IntoIterator<Item = &'a str>) {
        let mut entries = self.entries.write().unwrap_or_else(PoisonError::into_inner);
        self.generation.fetch_add(1, Ordering::AcqRel);
        for key in keys {
            entries.remove(key);
        }
    }

    /// Forgets every key (the poller lost track of which changed).
    pub fn forget_all(&self) {
        let mut entries = self.entries.write().unwrap_or_else(PoisonError::into_inner);
        self.generation.fetch_add(1, Ordering::AcqRel);
        entries.clear();
    }

    /// The moment a poll starts, to hand to [`ConfigCache::synced`] once it succeeded.
    pub fn poll_started(&self) -> u64 {
        self.origin.elapsed().as_millis() as u64
    }

    /// Records that the poll started at `started` (from [`ConfigCache::poll_started`]) saw
    /// every change committed before it.
    pub fn synced(&self, started: u64) {
        self.synced_at.store(started, Ordering::Release);
    }

    /// Whether the last successful poll began less than [`TRUSTED_FOR`] ago.
    fn trusted(&self) -> bool {
        let at = self.synced_at.load(Ordering::Acquire);
        at != NEVER && self.poll_started().saturating_sub(at) < TRUSTED_FOR.as_millis() as u64
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;

    fn item(value: i64) -> Cached {
        Some(Arc::new(ConfigItem {
            key: "k".into(),
            value: serde_json::json!(value),
            description: None,
            updated_at: Utc::now(),
            updated_by: None,
        }))
    }

    fn synced_cache() -> ConfigCache {
        let cache = ConfigCache::new(DEFAULT_POLL_EVERY);
        cache.synced(cache.poll_started());
        cache
    }

    #[test]
    fn nothing_is_answered_before_the_first_poll() {
        let cache = ConfigCache::new(DEFAULT_POLL_EVERY);
        cache.keep("k", item(1), cache.generation());
        assert!(cache.lookup("k").is_none());
    }

    #[test]
    fn a_kept_value_is_answered_until_forgotten() {
        let cache = synced_cache();
        cache.keep("k", item(1), cache.generation());
        let hit = cache.lookup("k").flatten().expect("kept");
        assert_eq!(hit.value, serde_json::json!(1));
        cache.forget(["k"]);
        assert!(cache.lookup("k").is_none());
    }

    #[test]
    fn a_read_that_overlapped_a_change_is_not_kept() {
        let cache = synced_cache();
        let before = cache.generation();
        cache.forget(["k"]);
        cache.keep("k", item(1), before);
        assert!(cache.lookup("k").is_none());
    }

    #[test]
    fn absence_is_kept() {
        let cache = synced_cache();
        cache.keep("gone", None, cache.generation());
        assert_eq!(cache.lookup("gone"), Some(None));
    }
}
