//! Attempt limits that hold under concurrency: sign-in failures, device user-code guesses,
//! device authorization requests.
//!
//! An attempt is *taken* — counted — before the check it guards runs, in one write
//! transaction that locks the counter's row (`FOR UPDATE` on PostgreSQL; SQLite's writer
//! already holds the database's write lock). So a burst of 200 parallel guesses is 200
//! turns at the counter, of which only the first `limit` get through to the password check;
//! the rest are refused without one. A check that succeeds gives its attempt back
//! ([`give_back`]) or clears the counter ([`clear`]). Counters live in the `login_throttle`
//! table, so every instance on one database shares them.

use chrono::{DateTime, Duration, Utc};
use entity::login_throttle::{self, Entity};
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QuerySelect, Set,
};

use crate::db::begin_write;
use crate::{Error, Result};

/// How many attempts one key may take, and for how long it is refused once it has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// Attempts counted within the window; taking the last one locks the key.
    pub attempts: i64,
    /// The window attempts are counted in, from the first one.
    pub window: Duration,
    /// How long the key is refused once its attempts are used up.
    pub lock: Duration,
}

impl Limit {
    /// `attempts` within 15 minutes, then a 15-minute lock: the password rule of spec 02.
    pub const fn per_quarter_hour(attempts: i64) -> Self {
        Self {
            attempts,
            window: Duration::minutes(15),
            lock: Duration::minutes(15),
        }
    }

    /// `attempts` per minute, then refused for a minute: a plain rate limit.
    pub const fn per_minute(attempts: i64) -> Self {
        Self {
            attempts,
            window: Duration::minutes(1),
            lock: Duration::minutes(1),
        }
    }
}

/// One counter: its key (e.g. `user:alice`, `ip:192.0.2.1`) and its limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counter {
    pub key: String,
    pub limit: Limit,
}

impl Counter {
    /// The counter `<kind>:<subject>` under `limit`.
    pub fn new(kind: &str, subject: impl std::fmt::Display, limit: Limit) -> Self {
        Self {
            key: format!("{kind}:{subject}"),
            limit,
        }
    }
}

/// The state of one counter as read under its row lock.
struct Taken {
    attempts: i64,
    window_started_at: DateTime<Utc>,
    locked_until: Option<DateTime<Utc>>,
}

/// Seconds until `taken` may try again, or `None` if it may take an attempt now (after
/// starting its window over when the last one has passed).
fn refusal(taken: &mut Taken, limit: Limit, now: DateTime<Utc>) -> Option<u64> {
    if let Some(until) = taken.locked_until.filter(|until| *until > now) {
        return Some((until - now).num_seconds().max(1) as u64);
    }
    if taken.locked_until.is_some() || now - taken.window_started_at >= limit.window {
        *taken = Taken {
            attempts: 0,
            window_started_at: now,
            locked_until: None,
        };
    }
    // Full without a lock only when the row was written under a smaller limit.
    (taken.attempts >= limit.attempts).then(|| limit.lock.num_seconds().max(1) as u64)
}

/// Takes one attempt on every counter, or on none: refused with `RateLimited` (the longest
/// wait of the refusing counters) when any of them is locked or used up. Taking a counter's
/// last attempt locks it, so the attempt after is refused before its check runs.
pub async fn take(db: &DatabaseConnection, counters: &[Counter]) -> Result<()> {
    let now = Utc::now();
    let mut counters: Vec<&Counter> = counters.iter().collect();
    // One order for every transaction, so two of them never wait on each other's rows.
    counters.sort_by(|a, b| a.key.cmp(&b.key));
    let txn = begin_write(db).await?;
    let mut updates = Vec::with_capacity(counters.len());
    let mut wait: Option<u64> = None;
    for counter in counters {
        let mut taken = lock_row(&txn, &counter.key, now).await?;
        if let Some(secs) = refusal(&mut taken, counter.limit, now) {
            wait = wait.max(Some(secs));
            continue;
        }
        taken.attempts += 1;
        if taken.attempts >= counter.limit.attempts {
            taken.locked_until = Some(now + counter.limit.lock);
        }
        updates.push((counter.key.clone(), taken));
    }
    if let Some(retry_after_secs) = wait {
        // Nothing is taken: the transaction ends without writing.
        txn.rollback().await?;
        return Err(Error::RateLimited { retry_after_secs });
    }
    for (key, taken) in updates {
        write(&txn, key, &taken, now).await?;
    }
    txn.commit().await?;
    Ok(())
}

/// Gives back one attempt of `key` after the check it was taken for succeeded, and lifts a
/// lock that attempt had set. Runs in the caller's transaction.
pub async fn give_back(db: &impl ConnectionTrait, key: &str) -> Result<()> {
    let Some(row) = Entity::find_by_id(key.to_owned())
        .lock_exclusive()
        .one(db)
        .await?
    else {
        return Ok(());
    };
    let attempts = (row.failures - 1).max(0);
    let mut row: login_throttle::ActiveModel = row.into();
    row.failures = Set(attempts);
    row.locked_until = Set(None);
    row.updated_at = Set(Utc::now().fixed_offset());
    row.update(db).await?;
    Ok(())
}

/// Starts `key` over, e.g. a username after a successful sign-in. Runs in the caller's
/// transaction.
pub async fn clear(db: &impl ConnectionTrait, key: &str) -> Result<()> {
    Entity::delete_by_id(key.to_owned()).exec(db).await?;
    Ok(())
}

/// Until when `key` is locked, if it is.
pub async fn locked_until(db: &impl ConnectionTrait, key: &str) -> Result<Option<DateTime<Utc>>> {
    let now = Utc::now();
    Ok(Entity::find_by_id(key.to_owned())
        .one(db)
        .await?
        .and_then(|r| r.locked_until)
        .map(|t| t.to_utc())
        .filter(|until| *until > now))
}

/// The counter's row, created if missing, locked until the transaction ends.
async fn lock_row(db: &impl ConnectionTrait, key: &str, now: DateTime<Utc>) -> Result<Taken> {
    let fresh = login_throttle::ActiveModel {
        key: Set(key.to_owned()),
        failures: Set(0),
        window_started_at: Set(now.fixed_offset()),
        locked_until: Set(None),
        updated_at: Set(now.fixed_offset()),
    };
    Entity::insert(fresh)
        .on_conflict_do_nothing()
        .exec_without_returning(db)
        .await?;
    let row = Entity::find_by_id(key.to_owned())
        .lock_exclusive()
        .one(db)
        .await?
        .ok_or_else(|| Error::internal("a throttle row vanished under its lock"))?;
    Ok(Taken {
        // The `failures` column counts the attempts taken and not given back.
        attempts: row.failures,
        window_started_at: row.window_started_at.to_utc(),
        locked_until: row.locked_until.map(|t| t.to_utc()),
    })
}

async fn write(
    db: &impl ConnectionTrait,
    key: String,
    taken: &Taken,
    now: DateTime<Utc>,
) -> Result<()> {
    login_throttle::ActiveModel {
        key: Set(key),
        failures: Set(taken.attempts),
        window_started_at: Set(taken.window_started_at.fixed_offset()),
        locked_until: Set(taken.locked_until.map(|t| t.fixed_offset())),
        updated_at: Set(now.fixed_offset()),
    }
    .update(db)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(attempts: i64, started_ago_min: i64, locked_for_min: Option<i64>) -> Taken {
        let now = Utc::now();
        Taken {
            attempts,
            window_started_at: now - Duration::minutes(started_ago_min),
            locked_until: locked_for_min.map(|m| now + Duration::minutes(m)),
        }
    }

    #[test]
    fn a_key_within_its_limit_may_take_an_attempt() {
        let limit = Limit::per_quarter_hour(5);
        assert_eq!(refusal(&mut at(4, 1, None), limit, Utc::now()), None);
    }

    #[test]
    fn a_locked_key_is_refused_with_the_time_left() {
        let limit = Limit::per_quarter_hour(5);
        let wait = refusal(&mut at(5, 1, Some(10)), limit, Utc::now());
        assert!(
            matches!(wait, Some(s) if (590..=600).contains(&s)),
            "{wait:?}"
        );
    }

    #[test]
    fn a_window_that_has_passed_starts_over() {
        let limit = Limit::per_quarter_hour(5);
        let mut taken = at(4, 16, None);
        assert_eq!(refusal(&mut taken, limit, Utc::now()), None);
        assert_eq!(taken.attempts, 0);
        let mut expired_lock = at(5, 30, Some(-1));
        assert_eq!(refusal(&mut expired_lock, limit, Utc::now()), None);
        assert_eq!(expired_lock.attempts, 0);
    }
}
