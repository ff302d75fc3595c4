//! Access tokens recently found valid, so that a client calling the API many times a second
//! costs one token lookup about every [`FRESH_FOR`] instead of one per call (on PostgreSQL a
//! lookup is a round trip to the server, as long as the call's own query).
//!
//! - An entry is used for at most [`FRESH_FOR`] after its row was read; expiry is still
//!   checked on every use, from the row.
//! - Each entry holds the token's row with its client's allowed scopes and creator's
//!   permissions as they were read ([`CheckedToken`]), so what the token is worth is not read
//!   again on a hit either.
//! - A revocation, or a client's change or deletion, committed by this process forgets every
//!   entry the moment it commits ([`forget_all`], run by `WriteTxn::after_commit`), so this
//!   process never accepts a token it has revoked, nor one worth more than its client is
//!   allowed now; so do changes to users and roles, which can lower what a client's creator
//!   holds. A lookup that was under way when such a change committed is not kept (each entry
//!   records the [`epoch`] its read began in).
//! - A change committed by another process (a second instance on the same PostgreSQL
//!   database, the CLI) takes effect here within [`FRESH_FOR`]: the short propagation delay
//!   RFC 7009 §2.2 allows between servers.
//! - Only valid tokens are kept, at most [`CAPACITY`] of them: unknown tokens are never
//!   cached, so guessing cannot fill it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{LazyLock, Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::bearer::CheckedToken;

/// How long a token found valid is taken as still valid without reading its row again.
pub const FRESH_FOR: Duration = Duration::from_secs(1);

/// Most tokens kept; beyond it, new tokens are looked up on every call until entries expire.
pub const CAPACITY: usize = 10_000;

/// Bumped by every committed change that can invalidate a token; entries of an earlier epoch
/// are ignored.
static EPOCH: AtomicU64 = AtomicU64::new(0);

/// Valid tokens by the SHA-256 of the token (the stored hash).
static ENTRIES: LazyLock<Mutex<HashMap<String, Entry>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

#[derive(Debug)]
struct Entry {
    token: CheckedToken,
    epoch: u64,
    read_at: Instant,
}

impl Entry {
    fn is_current(&self, epoch: u64, now: Instant) -> bool {
        self.epoch == epoch && now.duration_since(self.read_at) < FRESH_FOR
    }
}

/// The current epoch: taken before a token's row is read, handed back to [`keep`].
pub fn epoch() -> u64 {
    EPOCH.load(Ordering::Acquire)
}

/// The token with this hash, when it was found valid less than [`FRESH_FOR`] ago and nothing
/// that could revoke or narrow it has committed since.
pub(super) fn get(hash: &str) -> Option<CheckedToken> {
    let epoch = epoch();
    let entries = ENTRIES.lock().unwrap_or_else(PoisonError::into_inner);
    entries
        .get(hash)
        .filter(|entry| entry.is_current(epoch, Instant::now()))
        .map(|entry| entry.token.clone())
}

/// Keeps a valid token, read in `read_epoch`; one read before the last change that could
/// revoke or narrow tokens is not kept.
pub(super) fn keep(hash: &str, token: CheckedToken, read_epoch: u64) {
    let now = Instant::now();
    let mut entries = ENTRIES.lock().unwrap_or_else(PoisonError::into_inner);
    if epoch() != read_epoch {
        return;
    }
    if entries.len() >= CAPACITY && !entries.contains_key(hash) {
        entries.retain(|_, entry| entry.is_current(read_epoch, now));
        if entries.len() >= CAPACITY {
            return;
        }
    }
    entries.insert(
        hash.to_owned(),
        Entry {
            token,
            epoch: read_epoch,
            read_at: now,
        },
    );
}

/// Forgets every kept token: run after a commit that revokes tokens, changes a client, or
/// changes what a user holds (a client's creator).
pub fn forget_all() {
    EPOCH.fetch_add(1, Ordering::AcqRel);
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use uuid::Uuid;

    use super::*;
    use crate::db::hot::access_token::TokenRow;
    use crate::oauth::Scope;

    fn row() -> CheckedToken {
        let row = TokenRow {
            id: Uuid::new_v4(),
            scope: "registry:read".into(),
            created_at: Utc::now(),
            expires_at: Utc::now() + chrono::Duration::hours(1),
            revoked: false,
            client_id: "c".into(),
            client_enabled: true,
            client_scopes: Scope::from_stored("registry:read"),
            client_created_by: Some("cli".into()),
            external_user: None,
        };
        CheckedToken {
            ceiling: row.client_scopes,
            row,
        }
    }

    /// One test, not several: the cache is process-wide, and a `forget_all` in a test running
    /// alongside would empty it under another's feet.
    #[test]
    fn kept_rows_are_found_until_a_change_commits_and_stale_reads_are_not_kept() {
        let row = row();
        keep("hash-kept", row.clone(), epoch());
        assert_eq!(get("hash-kept"), Some(row));
        assert_eq!(get("hash-never-kept"), None);
        forget_all();
        assert_eq!(get("hash-kept"), None);

        let before = epoch();
        forget_all();
        keep("hash-stale", self::row(), before);
        assert_eq!(get("hash-stale"), None);
    }
}
