//! The second factor (spec 02): an authenticator app (RFC 6238 TOTP) and ten one-time
//! recovery codes.
//!
//! - [`enrolment`]: a secret made for the user, active only once they type one valid code;
//!   turning it off and new recovery codes (both after the password and a current code).
//! - [`reset`]: an admin's reset, for a lost phone without recovery codes.
//! - [`sign_in`]: the second step of signing in, throttled like passwords.
//! - [`codes`]: checking and spending a code. Each TOTP code works once: the newest accepted
//!   time step is stored per user and moved forward by a conditional UPDATE, so a code replayed
//!   within its window, or raced from two instances, is refused; a recovery code is spent the
//!   same way.
//!
//! The secret must be recoverable to compute codes, so it is stored encrypted (AES-256-GCM,
//! the webhook secrets' cipher under a key of its own, bound to the user's id).

pub mod codes;
pub mod enrolment;
pub mod recovery;
pub mod reset;
pub mod sign_in;

use chrono::{DateTime, Utc};
use entity::user_totp;
use sea_orm::{ConnectionTrait, EntityTrait};
use totp_rs::{Algorithm, Builder, Totp};

use crate::webhooks::SecretCipher;
use crate::{Error, Result};

pub use codes::Code;
pub use enrolment::{Pending, begin, confirm, disable, renew_recovery_codes};
pub use reset::reset;
pub use sign_in::{SecondStep, SignedIn, second_step};

/// HKDF label: a key for nothing but TOTP secrets.
const KEY_LABEL: &[u8] = b"metadeck totp secrets v1";

/// The issuer authenticator apps show beside the account name.
pub const ISSUER: &str = "Metadeck";

/// Encrypts and decrypts stored TOTP secrets.
#[derive(Clone, Debug)]
pub struct TotpCipher(SecretCipher);

impl TotpCipher {
    /// The cipher keyed from the server's secret key, under the TOTP label.
    pub fn from_secret_key(secret_key: &[u8]) -> Self {
        Self(SecretCipher::labelled(secret_key, KEY_LABEL))
    }

    /// The stored form of the secret of `user_id`.
    fn seal(&self, user_id: i64, secret: &[u8]) -> Result<String> {
        self.0.seal(&user_id.to_string(), secret)
    }

    /// The secret stored as `stored` for `user_id`.
    fn open(&self, user_id: i64, stored: &str) -> Result<Vec<u8>> {
        self.0.open(&user_id.to_string(), stored).ok_or_else(|| {
            Error::internal(format!(
                "the TOTP secret of user {user_id} cannot be decrypted (was METADECK_SECRET_KEY changed?)"
            ))
        })
    }

    /// The code generator of `row`'s secret for the account `username`.
    fn totp(&self, row: &user_totp::Model, username: &str) -> Result<Totp> {
        generator(self.open(row.user_id, &row.secret_encrypted)?, username)
    }
}

/// RFC 6238 as every authenticator app reads it: HMAC-SHA-1, 6 digits, 30-second steps, one
/// step of skew either side.
fn generator(secret: Vec<u8>, username: &str) -> Result<Totp> {
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_step_duration(30)
        .with_skew(1)
        .with_secret(secret)
        .with_account_name(username)
        .with_issuer(Some(ISSUER))
        .build()
        .map_err(|e| Error::internal(format!("the TOTP generator cannot be built: {e}")))
}

/// What the account page shows of a user's second factor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// Since when it is on; `None` while off (or an enrolment waits for its first code).
    pub since: Option<DateTime<Utc>>,
    /// Unused recovery codes.
    pub recovery_codes_left: u64,
}

impl Status {
    /// True when signing in asks for a code.
    pub fn is_on(&self) -> bool {
        self.since.is_some()
    }
}

/// The second factor of `user_id`.
pub async fn status(db: &impl ConnectionTrait, user_id: i64) -> Result<Status> {
    let since = active_row(db, user_id)
        .await?
        .and_then(|row| row.confirmed_at)
        .map(|t| t.to_utc());
    let recovery_codes_left = if since.is_some() {
        recovery::left(db, user_id).await?
    } else {
        0
    };
    Ok(Status {
        since,
        recovery_codes_left,
    })
}

/// True when `user_id` has a second factor on.
pub async fn is_on(db: &impl ConnectionTrait, user_id: i64) -> Result<bool> {
    Ok(active_row(db, user_id).await?.is_some())
}

/// The confirmed credential of `user_id`, if any.
async fn active_row(db: &impl ConnectionTrait, user_id: i64) -> Result<Option<user_totp::Model>> {
    Ok(user_totp::Entity::find_by_id(user_id)
        .one(db)
        .await?
        .filter(|row| row.confirmed_at.is_some()))
}

/// Seconds since the Unix epoch, as RFC 6238 counts them.
fn now_secs() -> u64 {
    u64::try_from(Utc::now().timestamp()).unwrap_or(0)
}
