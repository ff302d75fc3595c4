//! The token endpoint's grants and client authentication (RFC 6749 §2.3, §4, §6; RFC 8628):
//! here what every grant shares (client authentication, the token answer, what a new token
//! may carry, a replay's revocation), each grant in a module of its own.

mod authorization_code;
mod client_credentials;
mod device_code;
mod refresh_token;

pub use authorization_code::authorization_code;
pub use client_credentials::client_credentials;
pub use device_code::device_code;
pub use refresh_token::refresh_token;

use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde_json::json;

use super::audit_log::{self, OAuthEvent};
use super::clients::{self, Client};
use super::tokens::{self};
use super::{OAuthError, Scope, secrets, subjects};
use crate::access::{Identity, identity};
use crate::{Error, Result};

/// How a client presented itself at an endpoint. Secrets are [`SecretString`]s, so the
/// derived `Debug` prints them as `[REDACTED]`.
#[derive(Debug, Clone)]
pub enum ClientAuth {
    /// `client_secret_basic`.
    Basic {
        client_id: String,
        secret: SecretString,
    },
    /// `client_secret_post`.
    Post {
        client_id: String,
        secret: SecretString,
    },
    /// `none`: a public client names itself.
    Public { client_id: String },
}

impl ClientAuth {
    /// True when the credentials came in an `Authorization: Basic` header (an
    /// `invalid_client` answer then carries `WWW-Authenticate: Basic`).
    pub fn used_basic(&self) -> bool {
        matches!(self, Self::Basic { .. })
    }

    fn client_id(&self) -> &str {
        match self {
            Self::Basic { client_id, .. }
            | Self::Post { client_id, .. }
            | Self::Public { client_id } => client_id,
        }
    }

    fn secret(&self) -> Option<&str> {
        match self {
            Self::Basic { secret, .. } | Self::Post { secret, .. } => Some(secret.expose_secret()),
            Self::Public { .. } => None,
        }
    }
}

/// A successful token answer (RFC 6749 §5.1).
#[derive(Clone, Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    pub scope: String,
}

/// Prints everything but the tokens, which are credentials and must not reach a log.
impl std::fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenResponse")
            .field("access_token", &"[REDACTED]")
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "[REDACTED]"),
            )
            .field("scope", &self.scope)
            .finish()
    }
}

/// Authenticates the client: confidential clients by secret, public ones by id alone.
/// Unknown, disabled, or wrong secret: `invalid_client`.
pub async fn authenticate(db: &impl sea_orm::ConnectionTrait, auth: &ClientAuth) -> Result<Client> {
    let Some(client) = clients::find(db, auth.client_id()).await? else {
        return Err(OAuthError::invalid_client().into());
    };
    if !client.spec.is_enabled {
        return Err(OAuthError::invalid_client().into());
    }
    let ok = match (
        client.spec.is_confidential,
        auth.secret(),
        &client.row.client_secret,
    ) {
        (true, Some(given), Some(stored)) => secrets::same(&secrets::hash(given), stored),
        (false, None, _) => true,
        // A public client sending a secret, or a confidential one without: refuse.
        _ => false,
    };
    if ok {
        Ok(client)
    } else {
        Err(OAuthError::invalid_client().into())
    }
}

fn require_grant(client: &Client, grant: &str) -> Result<()> {
    if client.spec.allows(grant) {
        Ok(())
    } else {
        Err(
            OAuthError::unauthorized_client(format!("the client is not allowed the {grant} grant"))
                .into(),
        )
    }
}

/// A used code or refresh token presented again: the whole grant is revoked, the event
/// logged and committed, and the caller gets `invalid_grant`.
struct Replay {
    event: &'static str,
    grant_id: uuid::Uuid,
    user_id: Option<uuid::Uuid>,
    subject: uuid::Uuid,
    refusal: &'static str,
}

impl Replay {
    async fn revoke(self, txn: crate::db::WriteTxn, client: &Client) -> Error {
        let done = async {
            let revoked = tokens::revoke_grant(&txn, self.grant_id).await?;
            audit_log::log(
                &txn,
                OAuthEvent::new(
                    self.event,
                    Some(client.row.id),
                    format!("client:{}", client.row.client_identifier),
                )
                .user(self.user_id)
                .subject(self.subject.to_string())
                .metadata(json!({"grant_id": self.grant_id, "revoked_tokens": revoked})),
            )
            .await?;
            txn.commit().await?;
            Ok::<_, Error>(())
        };
        match done.await {
            Ok(()) => OAuthError::invalid_grant(self.refusal).into(),
            Err(e) => e,
        }
    }
}

/// The user a delegated grant acts for, with what they hold now: the grant stays usable only
/// while its user is active.
async fn active_user(db: &impl crate::db::Handle, oauth_user: uuid::Uuid) -> Result<Identity> {
    let user = match subjects::external_of(db, oauth_user).await? {
        Some(external) => match subjects::local_user_id(&external) {
            Some(id) => identity(db, id).await?,
            None => None,
        },
        None => None,
    };
    user.ok_or_else(|| {
        OAuthError::invalid_grant("the user who granted access is no longer active").into()
    })
}

/// What a new token may carry: `scope` within `cap` (the client's [`ceiling_of`] now) and,
/// for a user's token, within what the user holds now, so that neither narrowing a client nor
/// taking a permission from a user can be undone by asking for a new token. A scope that
/// loses everything this way is `invalid_scope`; an empty one stays empty (a client allowed
/// no scope at all still gets its scopeless token).
fn grantable(cap: Scope, user: Option<&Identity>, scope: Scope) -> Result<Scope> {
    let mut granted = scope.intersect(cap);
    if let Some(user) = user {
        granted = granted.intersect(Scope(user.permissions));
    }
    if granted.is_empty() && !scope.is_empty() {
        return Err(OAuthError::invalid_scope(
            "none of the requested scopes may be granted to this client now",
        )
        .into());
    }
    Ok(granted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_credentials_never_print_their_secret() {
        let auth = ClientAuth::Basic {
            client_id: "reporter".into(),
            secret: "s3cret-value".to_string().into(),
        };

        let printed = format!("{auth:?}");

        assert!(printed.contains("reporter"));
        assert!(!printed.contains("s3cret-value"), "{printed}");
    }
}
