//! Signing in: password check with equal timing, throttling per username and per address.
//!
//! 5 failures for one username within 15 minutes lock it for 15 minutes (the 6th attempt is
//! the first refused); 20 failures from one address within 15 minutes block that address for
//! 15 minutes. A locked attempt is refused even with the right password. The counters live
//! in the database so every instance sees the same ones.

use std::net::IpAddr;

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ActiveModelTrait, ConnectionTrait, DatabaseConnection, EntityTrait, Set};
use serde_json::json;

use super::password::{self, Password, Verified};
use super::{Identity, identity, users};
use crate::audit::{self, Actor, AuditEntry};
use crate::db::begin_write;
use crate::{Error, Result};

const WINDOW_MINUTES: i64 = 15;
const USER_LIMIT: i64 = 5;
const IP_LIMIT: i64 = 20;

/// A sign-in attempt as it arrived.
#[derive(Debug, Clone)]
pub struct LoginAttempt {
    pub username: String,
    pub password: String,
    pub ip: IpAddr,
}

fn user_key(username: &str) -> String {
    format!("user:{}", username.trim().to_lowercase())
}

fn ip_key(ip: IpAddr) -> String {
    format!("ip:{ip}")
}

/// Seconds until `key` may try again, if it is locked.
async fn locked_for(
    db: &impl ConnectionTrait,
    key: &str,
    now: DateTime<Utc>,
) -> Result<Option<u64>> {
    let row = entity::login_throttle::Entity::find_by_id(key.to_string())
        .one(db)
        .await?;
    Ok(row
        .and_then(|r| r.locked_until)
        .map(|t| t.to_utc())
        .filter(|until| *until > now)
        .map(|until| (until - now).num_seconds().max(1) as u64))
}

/// Counts one failure for `key`, locking it once `limit` failures fall in the window.
async fn count_failure(
    db: &impl ConnectionTrait,
    key: &str,
    limit: i64,
    now: DateTime<Utc>,
) -> Result<()> {
    let window = Duration::minutes(WINDOW_MINUTES);
    let row = entity::login_throttle::Entity::find_by_id(key.to_string())
        .one(db)
        .await?;
    let (failures, started) = match &row {
        Some(r) if now - r.window_started_at.to_utc() < window => {
            (r.failures + 1, r.window_started_at)
        }
        _ => (1, now.fixed_offset()),
    };
    let locked_until = (failures >= limit).then(|| (now + window).fixed_offset());
    let model = entity::login_throttle::ActiveModel {
        key: Set(key.to_string()),
        failures: Set(failures),
        window_started_at: Set(started),
        locked_until: Set(locked_until),
        updated_at: Set(now.fixed_offset()),
    };
    if row.is_some() {
        model.update(db).await?;
    } else {
        model.insert(db).await?;
    }
    Ok(())
}

/// Checks the credentials. Every refusal is the same `InvalidCredentials` (unknown user,
/// wrong password, inactive user), or `RateLimited` while locked.
pub async fn login(db: &DatabaseConnection, attempt: LoginAttempt) -> Result<Identity> {
    let now = Utc::now();
    let (ukey, ikey) = (user_key(&attempt.username), ip_key(attempt.ip));
    let user_wait = locked_for(db, &ukey, now).await?;
    let ip_wait = locked_for(db, &ikey, now).await?;
    if let Some(wait) = user_wait.into_iter().chain(ip_wait).max() {
        return Err(Error::RateLimited {
            retry_after_secs: wait,
        });
    }

    let user = users::find_by_username(db, &attempt.username).await?;
    let verified = password::verify(
        &attempt.password,
        user.as_ref().and_then(|u| u.password_hash.as_deref()),
    )
    .await?;
    let accepted = match (&user, verified) {
        (Some(u), Verified::Yes | Verified::YesButRehash) if u.is_active => Some(u.clone()),
        _ => None,
    };

    let txn = begin_write(db).await?;
    let Some(user) = accepted else {
        count_failure(&txn, &ukey, USER_LIMIT, now).await?;
        count_failure(&txn, &ikey, IP_LIMIT, now).await?;
        if let Some(u) = &user {
            let mut row: entity::local_users::ActiveModel = u.clone().into();
            row.failed_login_count = Set(u.failed_login_count + 1);
            row.locked_until = Set(locked_for(&txn, &ukey, now)
                .await?
                .map(|s| (now + Duration::seconds(s as i64)).fixed_offset()));
            row.update(&txn).await?;
        }
        let entry = AuditEntry::new("login.failed", &Actor::System)
            .target(attempt.username.trim().to_lowercase())
            .ip(Some(attempt.ip.to_string()));
        audit::record(&txn, entry).await?;
        txn.commit().await?;
        return Err(Error::InvalidCredentials);
    };

    entity::login_throttle::Entity::delete_by_id(ukey)
        .exec(&txn)
        .await?;
    let mut row: entity::local_users::ActiveModel = user.clone().into();
    row.last_login_at = Set(Some(now.fixed_offset()));
    row.failed_login_count = Set(0);
    row.locked_until = Set(None);
    if verified == Verified::YesButRehash {
        // Upgrade a hash made with weaker parameters now that the password is known.
        if let Ok(pw) = Password::parse(&attempt.password, "", "password") {
            row.password_hash = Set(Some(password::hash(&pw).await?));
        }
    }
    row.update(&txn).await?;
    audit::record(
        &txn,
        AuditEntry::new("login.succeeded", &Actor::User(user.username.clone()))
            .target(user.username.clone())
            .ip(Some(attempt.ip.to_string()))
            .details(json!({"rehashed": verified == Verified::YesButRehash})),
    )
    .await?;
    let identity = identity(&txn, user.id)
        .await?
        .ok_or_else(|| Error::internal("user vanished during login"))?;
    txn.commit().await?;
    Ok(identity)
}

/// Records a sign-out in the audit trail.
pub async fn record_logout(
    db: &DatabaseConnection,
    actor: &Actor,
    ip: Option<String>,
) -> Result<()> {
    let txn = begin_write(db).await?;
    audit::record(&txn, AuditEntry::new("logout", actor).ip(ip)).await?;
    txn.commit().await?;
    Ok(())
}
