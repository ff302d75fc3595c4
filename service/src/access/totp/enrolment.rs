//! Turning the second factor on and off, and new recovery codes.

use std::net::IpAddr;

use chrono::Utc;
use entity::{user_recovery_codes, user_totp};
use rand::RngExt;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};
use serde_json::json;

use super::codes::{self, Code, Spent};
use super::{TotpCipher, active_row, now_secs, recovery};
use crate::access::throttle::{self, Counter};
use crate::access::users;
use crate::audit::{self, Actor, AuditEntry};
use crate::db::begin_write;
use crate::{Error, FieldError, Result};

/// An enrolment waiting for its first code: what the authenticator app needs.
#[derive(Clone)]
pub struct Pending {
    /// The secret in base32, for apps that cannot scan.
    pub secret_base32: String,
    /// The `otpauth://` URI the QR code carries.
    pub otpauth_uri: String,
}

impl std::fmt::Debug for Pending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pending(…)")
    }
}

/// The pending enrolment of `user_id`, made now if there is none (a second visit shows the same
/// secret, so a page reload does not invalidate an app already set up). `Conflict` when the
/// second factor is already on.
pub async fn begin(
    db: &DatabaseConnection,
    cipher: &TotpCipher,
    user_id: i64,
    username: &str,
) -> Result<Pending> {
    if active_row(db, user_id).await?.is_some() {
        return Err(Error::conflict("the second factor is already on"));
    }
    let row = match user_totp::Entity::find_by_id(user_id).one(db).await? {
        Some(row) => row,
        None => {
            // 160 bits, the length RFC 4226 recommends.
            let secret: [u8; 20] = rand::rng().random();
            let now = Utc::now().fixed_offset();
            let fresh = user_totp::ActiveModel {
                user_id: Set(user_id),
                secret_encrypted: Set(cipher.seal(user_id, &secret)?),
                confirmed_at: Set(None),
                last_step: Set(0),
                created_at: Set(now),
                updated_at: Set(now),
            };
            // Two tabs opening the page at once keep whichever secret was stored first.
            user_totp::Entity::insert(fresh)
                .on_conflict_do_nothing()
                .exec_without_returning(db)
                .await?;
            user_totp::Entity::find_by_id(user_id)
                .one(db)
                .await?
                .ok_or_else(|| Error::internal("a new TOTP secret vanished"))?
        }
    };
    let totp = cipher.totp(&row, username)?;
    Ok(Pending {
        secret_base32: totp.secret().to_base32(),
        otpauth_uri: totp
            .to_url()
            .map_err(|e| Error::internal(format!("no otpauth URI: {e}")))?,
    })
}

/// Who turns the second factor on or off, or renews its codes, from where.
#[derive(Debug, Clone)]
pub struct Holder<'a> {
    pub user_id: i64,
    pub username: &'a str,
    pub ip: Option<IpAddr>,
}

impl Holder<'_> {
    fn actor(&self) -> Actor {
        Actor::User(self.username.to_owned())
    }

    fn ip(&self) -> Option<String> {
        self.ip.map(|ip| ip.to_string())
    }
}

/// Turns the pending enrolment on with its first valid code (±1 step; that step counts as
/// used) and returns the ten recovery codes to show once.
pub async fn confirm(
    db: &DatabaseConnection,
    cipher: &TotpCipher,
    holder: Holder<'_>,
    code: &str,
) -> Result<Vec<String>> {
    let wrong = || {
        Error::invalid(
            "code",
            "is not the current code of your app; try the next one",
        )
    };
    let Code::Totp(digits) = Code::parse(code, "code")? else {
        return Err(wrong());
    };
    let row = user_totp::Entity::find_by_id(holder.user_id)
        .one(db)
        .await?
        .filter(|row| row.confirmed_at.is_none())
        .ok_or_else(|| Error::conflict("there is no enrolment waiting for a code; start again"))?;
    let step = cipher
        .totp(&row, holder.username)?
        .check(&digits, now_secs())
        .ok_or_else(wrong)?;
    let txn = begin_write(db).await?;
    if !codes::advance(&txn, holder.user_id, step, true).await? {
        return Err(wrong());
    }
    let shown = recovery::generate();
    recovery::replace(&txn, holder.user_id, &shown, Utc::now().fixed_offset()).await?;
    let entry = AuditEntry::new("totp.enrolled", &holder.actor())
        .target(holder.username.to_owned())
        .ip(holder.ip())
        .details(json!({"recovery_codes": shown.len()}));
    audit::commit_audited(txn, entry, &[]).await?;
    Ok(shown)
}

/// The password and a current code, as typed on the form that turns the second factor off or
/// renews the recovery codes.
#[derive(Clone)]
pub struct Reauthentication {
    pub password: secrecy::SecretString,
    pub code: String,
}

/// The change a [`Reauthentication`] is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Change {
    Disable,
    RenewRecoveryCodes,
}

/// Turns the second factor off after the password and a current code (a code from the app, or
/// a recovery code for a lost phone). Each refusal is audited (`totp.change_refused`).
pub async fn disable(
    db: &DatabaseConnection,
    cipher: &TotpCipher,
    holder: Holder<'_>,
    proof: Reauthentication,
) -> Result<()> {
    let (txn, spent) = reauthenticate(db, cipher, &holder, proof, Change::Disable).await?;
    user_totp::Entity::delete_by_id(holder.user_id)
        .exec(&txn)
        .await?;
    user_recovery_codes::Entity::delete_many()
        .filter(user_recovery_codes::Column::UserId.eq(holder.user_id))
        .exec(&txn)
        .await?;
    let entry = AuditEntry::new("totp.disabled", &holder.actor())
        .target(holder.username.to_owned())
        .ip(holder.ip())
        .details(json!({"confirmed_with": spent.kind()}));
    audit::commit_audited(txn, entry, &[]).await
}

/// Replaces the recovery codes after the password and a current code; returns the new ten to
/// show once.
pub async fn renew_recovery_codes(
    db: &DatabaseConnection,
    cipher: &TotpCipher,
    holder: Holder<'_>,
    proof: Reauthentication,
) -> Result<Vec<String>> {
    let (txn, spent) =
        reauthenticate(db, cipher, &holder, proof, Change::RenewRecoveryCodes).await?;
    let shown = recovery::generate();
    recovery::replace(&txn, holder.user_id, &shown, Utc::now().fixed_offset()).await?;
    let entry = AuditEntry::new("totp.recovery_codes_renewed", &holder.actor())
        .target(holder.username.to_owned())
        .ip(holder.ip())
        .details(json!({"confirmed_with": spent.kind(), "recovery_codes": shown.len()}));
    audit::commit_audited(txn, entry, &[]).await?;
    Ok(shown)
}

/// Checks the password and spends the code, counted by the second step's throttle (so this
/// form is no way around it). On success, the write transaction the change goes in; on a
/// refusal, the audit row `totp.change_refused` and an error under each wrong field.
async fn reauthenticate(
    db: &DatabaseConnection,
    cipher: &TotpCipher,
    holder: &Holder<'_>,
    proof: Reauthentication,
    change: Change,
) -> Result<(crate::db::WriteTxn, Spent)> {
    use secrecy::ExposeSecret;
    let row = active_row(db, holder.user_id)
        .await?
        .ok_or_else(|| Error::conflict("the second factor is not on"))?;
    let code = Code::parse(&proof.code, "code");
    let counter = Counter::new("totp", holder.username, super::sign_in::CODE_LIMIT);
    throttle::take(db, std::slice::from_ref(&counter)).await?;
    let password_ok =
        users::verify_password(db, holder.user_id, proof.password.expose_secret()).await?;
    let txn = begin_write(db).await?;
    let spent = match &code {
        Ok(code) if password_ok => codes::spend(&txn, cipher, &row, holder.username, code).await?,
        _ => None,
    };
    if let Some(spent) = spent {
        throttle::clear(&txn, &counter.key).await?;
        return Ok((txn, spent));
    }
    let mut wrong = Vec::new();
    if !password_ok {
        wrong.push(FieldError::new("password", "is not your current password"));
    }
    match code {
        Err(Error::Validation(mut details)) => wrong.append(&mut details),
        Err(other) => return Err(other),
        Ok(_) if password_ok => wrong.push(FieldError::new(
            "code",
            "is not a current code of your app or an unused recovery code",
        )),
        // The code is not checked (or spent) after a wrong password.
        Ok(_) => {}
    }
    let entry = AuditEntry::new("totp.change_refused", &holder.actor())
        .target(holder.username.to_owned())
        .ip(holder.ip())
        .details(json!({
            "change": match change {
                Change::Disable => "disable",
                Change::RenewRecoveryCodes => "renew_recovery_codes",
            },
            "wrong": wrong.iter().map(|w| w.field.clone()).collect::<Vec<_>>(),
        }));
    audit::commit_audited(txn, entry, &[]).await?;
    Err(Error::Validation(wrong))
}
