//! The start of a single sign-on: a fresh `state`, PKCE verifier and nonce, one `sso_flows`
//! row keyed by the state's hash (deleted by the callback, so each callback is taken once),
//! and the authorization URL to send the browser to.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use rand::RngExt;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::db::begin_write;
use crate::gateway::providers::{self, Provider};
use crate::{Error, Result};

/// How long a sign-in may stay at the provider before its answer is refused.
pub const LIFETIME_SECS: i64 = 10 * 60;

/// A sign-in sent to its provider, as the browser carries it back (in a cookie the console
/// encrypts): the secrets the callback checks against.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PendingFlow {
    /// The provider's name.
    pub provider: String,
    /// The `state` sent.
    pub state: String,
    /// The PKCE verifier whose S256 challenge was sent.
    #[serde(with = "secret_text")]
    pub verifier: SecretString,
    /// The `nonce` sent, when the scopes include `openid`.
    pub nonce: Option<String>,
    /// Where to go once signed in (a local path, checked by the console).
    pub next: String,
    /// Unix time after which the flow is over.
    pub expires: i64,
}

impl PendingFlow {
    /// Whether the flow is past its lifetime.
    pub fn expired(&self) -> bool {
        self.expires <= Utc::now().timestamp()
    }
}

/// A started sign-in: where to send the browser, and what it must carry back.
#[derive(Debug, Clone)]
pub struct Started {
    pub authorize_url: String,
    pub flow: PendingFlow,
}

/// 32 random bytes, base64url: 256 bits, beyond guessing.
fn random_token() -> String {
    let bytes: [u8; 32] = rand::rng().random();
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The stored key of a flow: the hash of its state (the state itself is never stored).
pub(super) fn state_hash(state: &str) -> String {
    hex::encode(Sha256::digest(state.as_bytes()))
}

/// The S256 challenge of a PKCE verifier (RFC 7636).
pub fn challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// Starts a sign-in through the enabled provider `name`, whose callback is `redirect_uri`.
/// `NotFound` for a provider that does not exist or is disabled.
#[tracing::instrument(name = "gateway.sso.start", skip_all)]
pub async fn start(
    db: &DatabaseConnection,
    name: &str,
    redirect_uri: &str,
    next: &str,
) -> Result<Started> {
    let provider = providers::get_by_name(db, name).await?;
    if !provider.enabled {
        return Err(Error::NotFound(format!("identity provider {name}")));
    }
    let state = random_token();
    let verifier = random_token();
    let nonce = provider
        .scopes
        .iter()
        .any(|s| s == "openid")
        .then(random_token);
    let authorize_url =
        authorize_url(&provider, redirect_uri, &state, &verifier, nonce.as_deref())?;
    let now = Utc::now();
    let expires = now + chrono::Duration::seconds(LIFETIME_SECS);
    let txn = begin_write(db).await?;
    // Flows that never came back are swept here, by the next one to start.
    entity::sso_flows::Entity::delete_many()
        .filter(entity::sso_flows::Column::ExpiresAt.lt(now.fixed_offset()))
        .exec(&txn)
        .await?;
    entity::sso_flows::Entity::insert(entity::sso_flows::ActiveModel {
        state_hash: Set(state_hash(&state)),
        provider_id: Set(provider.id),
        created_at: Set(now.fixed_offset()),
        expires_at: Set(expires.fixed_offset()),
    })
    .exec_without_returning(&txn)
    .await?;
    txn.commit().await?;
    Ok(Started {
        authorize_url,
        flow: PendingFlow {
            provider: provider.name,
            state,
            verifier: verifier.into(),
            nonce,
            next: next.to_owned(),
            expires: expires.timestamp(),
        },
    })
}

/// The provider's authorization URL with this sign-in's parameters added to its own.
fn authorize_url(
    provider: &Provider,
    redirect_uri: &str,
    state: &str,
    verifier: &str,
    nonce: Option<&str>,
) -> Result<String> {
    let mut url = url::Url::parse(&provider.authorize_url).map_err(|e| {
        Error::internal(format!(
            "the authorization URL of identity provider {} cannot be parsed: {e}",
            provider.name
        ))
    })?;
    {
        let mut query = url.query_pairs_mut();
        query
            .append_pair("response_type", "code")
            .append_pair("client_id", &provider.client_id)
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("scope", &provider.scopes.join(" "))
            .append_pair("state", state)
            .append_pair("code_challenge", &challenge(verifier))
            .append_pair("code_challenge_method", "S256");
        if let Some(nonce) = nonce {
            query.append_pair("nonce", nonce);
        }
    }
    Ok(url.into())
}

/// Serialises a [`SecretString`] as plain text, for the encrypted cookie only.
mod secret_text {
    use super::{ExposeSecret, SecretString};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(secret: &SecretString, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(secret.expose_secret())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<SecretString, D::Error> {
        String::deserialize(d).map(SecretString::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_s256_challenge_is_rfc_7636s() {
        // RFC 7636, appendix B.
        assert_eq!(
            challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn a_pending_flow_never_prints_its_verifier() {
        let flow = PendingFlow {
            provider: "corp".into(),
            state: "s".into(),
            verifier: "the-verifier-itself".to_string().into(),
            nonce: None,
            next: "/".into(),
            expires: 0,
        };
        assert!(!format!("{flow:?}").contains("the-verifier-itself"));
    }
}
