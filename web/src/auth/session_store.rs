//! actix-session's `SessionStore` over the `sessions` table, so every instance on one
//! database shares sessions. Only signed-in sessions are stored (anonymous visitors carry
//! no server state); the row is keyed by the SHA-256 of the cookie's key.

use std::collections::HashMap;

use actix_session::storage::{LoadError, SaveError, SessionKey, SessionStore, UpdateError};
use actix_web::cookie::time::Duration;
use base64::Engine;
use rand::RngExt;
use sea_orm::DatabaseConnection;
use service::access::sessions::{self, EndReason, Loaded, NewSession, SessionLimits};

type State = HashMap<String, String>;

/// The session keys Metadeck stores.
pub mod keys {
    pub const USER_ID: &str = "user_id";
    pub const IP: &str = "ip";
    pub const USER_AGENT: &str = "ua";
    /// Only in a session that is over: why (`expired`, `revoked`); see [`super::ended`].
    pub const ENDED: &str = "ended";
    /// `true` in a session signed in through single sign-on. No SSO sign-in exists yet: the
    /// one that comes sets this key, and such sessions are then not asked for the local second
    /// factor (spec 02: SSO users skip it). Password sign-ins never set it.
    pub const SSO: &str = "sso";
}

/// Why the session presented by the request is over, and forgets it (the row is deleted and
/// the cookie removed when the response goes out): a message for its holder's next page.
/// `None` for a live session or none at all. Only the holder of the session's key gets here,
/// so no other visitor learns anything.
pub fn ended(session: &actix_session::Session) -> Option<crate::flash::Flash> {
    let reason = session.get::<String>(keys::ENDED).ok().flatten()?;
    session.purge();
    let message = match reason.as_str() {
        "revoked" => "Your session was ended by an administrator. Sign in again to continue.",
        _ => "Your session expired. Sign in again to continue.",
    };
    Some(crate::flash::Flash::warning(message))
}

/// Sessions in the database.
#[derive(Clone)]
pub struct DbSessionStore {
    db: DatabaseConnection,
    limits: SessionLimits,
}

impl DbSessionStore {
    /// A store over `db` enforcing `limits`.
    pub fn new(db: DatabaseConnection, limits: SessionLimits) -> Self {
        Self { db, limits }
    }
}

fn decode<T: serde::de::DeserializeOwned>(state: &State, key: &str) -> Option<T> {
    state.get(key).and_then(|v| serde_json::from_str(v).ok())
}

fn new_key() -> Result<SessionKey, anyhow::Error> {
    let bytes: [u8; 32] = rand::rng().random();
    SessionKey::try_from(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
        .map_err(anyhow::Error::from)
}

impl SessionStore for DbSessionStore {
    async fn load(&self, key: &SessionKey) -> Result<Option<State>, LoadError> {
        let loaded = sessions::load(&self.db, key.as_ref(), self.limits)
            .await
            .map_err(|e| LoadError::Other(anyhow::anyhow!("{e}")))?;
        match loaded {
            Loaded::Unknown => Ok(None),
            // A state without a user: the request is anonymous, and [`ended`] can say why.
            Loaded::Ended(reason) => {
                let reason = match reason {
                    EndReason::Expired => "\"expired\"",
                    EndReason::Revoked => "\"revoked\"",
                };
                Ok(Some(State::from([(
                    keys::ENDED.to_string(),
                    reason.to_string(),
                )])))
            }
            Loaded::Active(json) => serde_json::from_str(&json)
                .map(Some)
                .map_err(|e| LoadError::Deserialization(e.into())),
        }
    }

    async fn save(&self, state: State, _ttl: &Duration) -> Result<SessionKey, SaveError> {
        let user_id: i64 = decode(&state, keys::USER_ID).ok_or_else(|| {
            SaveError::Other(anyhow::anyhow!("only signed-in sessions are stored"))
        })?;
        let key = new_key().map_err(SaveError::Other)?;
        let new = NewSession {
            user_id,
            data: serde_json::to_string(&state).map_err(|e| SaveError::Serialization(e.into()))?,
            ip: decode(&state, keys::IP),
            user_agent: decode(&state, keys::USER_AGENT),
        };
        sessions::create(&self.db, key.as_ref(), new, self.limits)
            .await
            .map_err(|e| SaveError::Other(anyhow::anyhow!("{e}")))?;
        Ok(key)
    }

    async fn update(
        &self,
        key: SessionKey,
        state: State,
        ttl: &Duration,
    ) -> Result<SessionKey, UpdateError> {
        let data =
            serde_json::to_string(&state).map_err(|e| UpdateError::Serialization(e.into()))?;
        let updated = sessions::update_data(
            &self.db,
            key.as_ref(),
            data,
            decode(&state, keys::IP),
            decode(&state, keys::USER_AGENT),
        )
        .await
        .map_err(|e| UpdateError::Other(anyhow::anyhow!("{e}")))?;
        if updated {
            return Ok(key);
        }
        // The row is gone (expired or revoked): store the state under a new key.
        self.save(state, ttl).await.map_err(|e| match e {
            SaveError::Serialization(e) => UpdateError::Serialization(e),
            SaveError::Other(e) => UpdateError::Other(e),
        })
    }

    async fn update_ttl(&self, _key: &SessionKey, _ttl: &Duration) -> Result<(), anyhow::Error> {
        // Expiry is enforced from the row's own timestamps on every load.
        Ok(())
    }

    async fn delete(&self, key: &SessionKey) -> Result<(), anyhow::Error> {
        sessions::delete(&self.db, key.as_ref())
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))
    }
}
