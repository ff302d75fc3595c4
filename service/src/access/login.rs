//! Signing in: password check with equal timing, throttling per username and per address.
//!
//! 5 failures for one username within 15 minutes lock it for 15 minutes (the 6th attempt is
//! the first refused); 20 failures from one address within 15 minutes block that address for
//! 15 minutes. A locked attempt is refused even with the right password. Each attempt is
//! counted before its password is checked ([`throttle`]), so the limits hold against a
//! parallel burst, and the counters live in the database so every instance sees the same ones.

use std::net::IpAddr;

use chrono::Utc;
use sea_orm::{ActiveModelTrait, DatabaseConnection, Set};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

use super::password::{self, Password, Verified};
use super::throttle::{self, Counter, Limit};
use super::{Identity, identity, users};
use crate::audit::{self, Actor, AuditEntry};
use crate::db::begin_write;
use crate::{Error, Result};

/// Failures one username may have within 15 minutes before it is locked for 15 minutes.
const USER_LIMIT: Limit = Limit::per_quarter_hour(5);
/// Failures one address may have within 15 minutes before it is blocked for 15 minutes.
const IP_LIMIT: Limit = Limit::per_quarter_hour(20);

/// A sign-in attempt as it arrived. The password is a [`SecretString`]: it prints as
/// `[REDACTED]` and is wiped from memory when the attempt is dropped.
#[derive(Debug, Clone)]
pub struct LoginAttempt {
    pub username: String,
    pub password: SecretString,
    pub ip: IpAddr,
}

/// The counters of one sign-in: its username's and its address's.
fn counters(attempt: &LoginAttempt) -> [Counter; 2] {
    [
        Counter::new("user", attempt.username.trim().to_lowercase(), USER_LIMIT),
        Counter::new("ip", attempt.ip, IP_LIMIT),
    ]
}

/// What a right password leads to.
#[derive(Debug, Clone)]
pub enum SignIn {
    /// Signed in: the user has no second factor.
    Complete(Identity),
    /// The password was right, and the user's second factor is on: no session yet, only the
    /// second step ([`super::totp::second_step`]) completes the sign-in.
    SecondFactor { user_id: i64 },
}

/// Checks the credentials. Every refusal is the same `InvalidCredentials` (unknown user,
/// wrong password, inactive user), or `RateLimited` while locked.
#[tracing::instrument(name = "access.login", skip_all)]
pub async fn login(db: &DatabaseConnection, attempt: LoginAttempt) -> Result<SignIn> {
    // The attempt counts before the password is checked, so a burst cannot outrun the count.
    let [user_counter, ip_counter] = counters(&attempt);
    throttle::take(db, &[user_counter.clone(), ip_counter.clone()]).await?;

    let user = users::find_by_username(db, &attempt.username).await?;
    let verified = password::verify(
        attempt.password.expose_secret(),
        user.as_ref().and_then(|u| u.password_hash.as_deref()),
    )
    .await?;
    let accepted = match (&user, verified) {
        (Some(u), Verified::Yes | Verified::YesButRehash) if u.is_active => Some(u.clone()),
        _ => None,
    };

    let now = Utc::now();
    let txn = begin_write(db).await?;
    let Some(user) = accepted else {
        // Said without the username (it may be a password typed into the wrong field); the
        // request's span carries the request id that ties this line to the audit row.
        tracing::info!(known_user = user.is_some(), "sign-in refused");
        // The attempt taken above stays counted: it was a failure.
        if let Some(u) = &user {
            let mut row: entity::local_users::ActiveModel = u.clone().into();
            row.failed_login_count = Set(u.failed_login_count + 1);
            row.locked_until = Set(throttle::locked_until(&txn, &user_counter.key)
                .await?
                .map(|t| t.fixed_offset()));
            row.update(&txn).await?;
        }
        let entry = AuditEntry::new("login.failed", &Actor::System)
            .target(attempt.username.trim().to_lowercase())
            .ip(Some(attempt.ip.to_string()));
        audit::commit_audited(txn, entry, &[]).await?;
        return Err(Error::InvalidCredentials);
    };

    throttle::clear(&txn, &user_counter.key).await?;
    throttle::give_back(&txn, &ip_counter.key).await?;
    let mut row: entity::local_users::ActiveModel = user.clone().into();
    if verified == Verified::YesButRehash {
        // Upgrade a hash made with weaker parameters now that the password is known.
        if let Ok(pw) = Password::parse(attempt.password.expose_secret(), "", "password") {
            row.password_hash = Set(Some(password::hash(&pw).await?));
        }
    }
    if super::totp::is_on(&txn, user.id).await? {
        // The sign-in is not complete until the second step, so it is not recorded as one yet.
        if row.is_changed() {
            row.update(&txn).await?;
        }
        txn.commit().await?;
        return Ok(SignIn::SecondFactor { user_id: user.id });
    }
    row.last_login_at = Set(Some(now.fixed_offset()));
    row.failed_login_count = Set(0);
    row.locked_until = Set(None);
    row.update(&txn).await?;
    let identity = identity(&txn, user.id)
        .await?
        .ok_or_else(|| Error::internal("user vanished during login"))?;
    audit::commit_audited(
        txn,
        AuditEntry::new("login.succeeded", &Actor::User(user.username.clone()))
            .target(user.username.clone())
            .ip(Some(attempt.ip.to_string()))
            .details(json!({"rehashed": verified == Verified::YesButRehash})),
        &[],
    )
    .await?;
    Ok(SignIn::Complete(identity))
}

/// Records a sign-out in the audit trail.
pub async fn record_logout(
    db: &DatabaseConnection,
    actor: &Actor,
    ip: Option<String>,
) -> Result<()> {
    let txn = begin_write(db).await?;
    audit::commit_audited(txn, AuditEntry::new("logout", actor).ip(ip), &[]).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_attempt_never_prints_its_password() {
        let attempt = LoginAttempt {
            username: "dora".into(),
            password: "hunter2-hunter2".to_string().into(),
            ip: IpAddr::from([127, 0, 0, 1]),
        };

        let printed = format!("{attempt:?}");

        assert!(printed.contains("dora"));
        assert!(!printed.contains("hunter2"), "{printed}");
    }
}
