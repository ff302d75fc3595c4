//! The second step of signing in: after the right password, a code from the app or a
//! recovery code, throttled like passwords.

use std::net::IpAddr;

use chrono::Utc;
use entity::local_users;
use sea_orm::{ActiveModelTrait, DatabaseConnection, EntityTrait, Set};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

use super::codes::{self, Code, Spent};
use super::{TotpCipher, active_row, recovery};
use crate::access::throttle::{self, Counter, Limit};
use crate::access::{Identity, identity};
use crate::audit::{self, Actor, AuditEntry};
use crate::db::begin_write;
use crate::{Error, Result};

/// Wrong codes one user may send within 15 minutes before the second step is locked for 15
/// minutes: the password rule (spec 02), on a counter of its own.
pub const CODE_LIMIT: Limit = Limit::per_quarter_hour(5);

/// Failures one address may have within 15 minutes: shared with the password step.
const IP_LIMIT: Limit = Limit::per_quarter_hour(20);

/// The second step as it arrived: the user whose password was right, and the code typed.
#[derive(Debug, Clone)]
pub struct SecondStep {
    pub user_id: i64,
    /// As typed; a [`SecretString`], so it never prints.
    pub code: SecretString,
    pub ip: IpAddr,
}

/// A completed sign-in.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub identity: Identity,
    /// After a recovery code: how many are left (the user is told at once).
    pub recovery_codes_left: Option<u64>,
}

/// Checks and spends the code. A wrong, replayed or too old code is `InvalidCredentials` and
/// audited (`login.second_factor_failed`); a malformed one is a `Validation` error that costs
/// an attempt too; `RateLimited` while locked. A recovery code is audited
/// (`login.recovery_code_used`) besides `login.succeeded`.
#[tracing::instrument(name = "access.totp.second_step", skip_all, fields(user_id = step.user_id))]
pub async fn second_step(
    db: &DatabaseConnection,
    cipher: &TotpCipher,
    step: SecondStep,
) -> Result<SignedIn> {
    let user = local_users::Entity::find_by_id(step.user_id)
        .one(db)
        .await?
        .filter(|u| u.is_active)
        .ok_or(Error::InvalidCredentials)?;
    let user_counter = Counter::new("totp", &user.username, CODE_LIMIT);
    let ip_counter = Counter::new("ip", step.ip, IP_LIMIT);
    throttle::take(db, &[user_counter.clone(), ip_counter.clone()]).await?;

    // A second factor reset since the password step: the sign-in starts over.
    let row = active_row(db, user.id)
        .await?
        .ok_or(Error::InvalidCredentials)?;
    let code = Code::parse(step.code.expose_secret(), "code");
    let txn = begin_write(db).await?;
    let spent = match &code {
        Ok(code) => codes::spend(&txn, cipher, &row, &user.username, code).await?,
        Err(_) => None,
    };
    let actor = Actor::User(user.username.clone());
    let ip = Some(step.ip.to_string());
    let Some(spent) = spent else {
        tracing::info!("second factor refused");
        let entry = AuditEntry::new("login.second_factor_failed", &actor)
            .target(user.username.clone())
            .ip(ip)
            .details(json!({"kind": code.as_ref().map(Code::kind).unwrap_or("malformed")}));
        audit::commit_audited(txn, entry, &[]).await?;
        return Err(code.err().unwrap_or(Error::InvalidCredentials));
    };

    throttle::clear(&txn, &user_counter.key).await?;
    throttle::give_back(&txn, &ip_counter.key).await?;
    let mut row: local_users::ActiveModel = user.clone().into();
    row.last_login_at = Set(Some(Utc::now().fixed_offset()));
    row.failed_login_count = Set(0);
    row.locked_until = Set(None);
    row.update(&txn).await?;
    let recovery_codes_left = match spent {
        Spent::Totp { .. } => None,
        Spent::Recovery => {
            let left = recovery::left(&txn, user.id).await?;
            let entry = AuditEntry::new("login.recovery_code_used", &actor)
                .target(user.username.clone())
                .ip(ip.clone())
                .details(json!({"recovery_codes_left": left}));
            audit::record(&txn, entry).await?;
            Some(left)
        }
    };
    let identity = identity(&txn, user.id)
        .await?
        .ok_or_else(|| Error::internal("user vanished during login"))?;
    audit::commit_audited(
        txn,
        AuditEntry::new("login.succeeded", &actor)
            .target(user.username.clone())
            .ip(ip)
            .details(json!({"second_factor": spent.kind()})),
        &[],
    )
    .await?;
    Ok(SignedIn {
        identity,
        recovery_codes_left,
    })
}
