//! The token endpoint's grants and client authentication (RFC 6749 §2.3, §4, §6; RFC 8628).

use chrono::{Duration, Utc};
use entity::{
    oauth_authorization_codes as codes, oauth_device_codes as devices,
    oauth_refresh_tokens as refresh,
};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde_json::json;

use super::audit_log::{self, OAuthEvent};
use super::ceiling::ceiling_of;
use super::clients::{self, Client};
use super::tokens::{self, Grant};
use super::{OAuthError, Scope, grant_type, secrets, subjects};
use crate::access::{Identity, identity};
use crate::db::begin_write;
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
#[derive(Debug, Clone, Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    pub scope: String,
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

/// `grant_type=client_credentials`. The token carries the scope asked for (all the client's
/// allowed scopes when none is named) within what the client may grant now: a client
/// registered by a user never hands out more than that user holds ([`ceiling_of`]). A scope
/// beyond the client's allowed scopes, or nothing left to grant, is `invalid_scope`.
pub async fn client_credentials(
    db: &DatabaseConnection,
    client: &Client,
    scope: Option<&str>,
) -> Result<TokenResponse> {
    if !client.spec.is_confidential {
        return Err(OAuthError::unauthorized_client(
            "public clients cannot use client_credentials",
        )
        .into());
    }
    require_grant(client, grant_type::CLIENT_CREDENTIALS)?;
    let allowed = client.spec.allowed_scopes;
    let scope = match scope.map(str::trim).filter(|s| !s.is_empty()) {
        None => allowed,
        Some(text) => {
            let asked = Scope::parse(text)?;
            if !asked.within(allowed) {
                return Err(OAuthError::invalid_scope(
                    "the scope exceeds the client's allowed scopes",
                )
                .into());
            }
            asked
        }
    };
    let scope = grantable(ceiling_of(db, client).await?, None, scope)?;
    let txn = begin_write(db).await?;
    let answer = tokens::issue(
        &txn,
        Grant {
            client,
            user_id: None,
            scope,
            grant_id: None,
            authorization_code_id: None,
            parent_refresh_id: None,
            with_refresh: false,
            refresh_expires_at: None,
            event: "token.issued",
        },
    )
    .await?;
    txn.commit().await?;
    Ok(answer)
}

/// `grant_type=authorization_code`. A code works once; a second presentation is
/// `invalid_grant` and revokes every token issued from it. The tokens carry the consented
/// scope within what the client may grant and the user holds now ([`grantable`]).
pub async fn authorization_code(
    db: &DatabaseConnection,
    client: &Client,
    code: &str,
    redirect_uri: Option<&str>,
    verifier: Option<&str>,
) -> Result<TokenResponse> {
    require_grant(client, grant_type::AUTHORIZATION_CODE)?;
    let cap = ceiling_of(db, client).await?;
    let txn = begin_write(db).await?;
    let Some(row) = codes::Entity::find()
        .filter(codes::Column::Code.eq(secrets::hash(code)))
        .one(&txn)
        .await?
    else {
        return Err(OAuthError::invalid_grant("the code is unknown").into());
    };
    if row.client_id != client.row.id {
        return Err(OAuthError::invalid_grant("the code was issued to another client").into());
    }
    let now = Utc::now().fixed_offset();
    if row.consumed_at.is_some() {
        let replay = Replay {
            event: "code.reuse_detected",
            grant_id: row.id,
            user_id: Some(row.user_id),
            subject: row.id,
            refusal: "the code was already used; its tokens are revoked",
        };
        return Err(replay.revoke(txn, client).await);
    }
    if row.expires_at <= now {
        return Err(OAuthError::invalid_grant("the code has expired").into());
    }
    if redirect_uri != Some(row.redirect_uri.as_str()) {
        return Err(OAuthError::invalid_grant(
            "redirect_uri differs from the authorization request",
        )
        .into());
    }
    match (&row.code_challenge, verifier) {
        (Some(challenge), Some(v))
            if valid_verifier(v) && secrets::same(&secrets::s256(v), challenge) => {}
        (Some(_), _) => {
            return Err(OAuthError::invalid_grant("the code_verifier does not match").into());
        }
        (None, Some(_)) => {
            return Err(
                OAuthError::invalid_grant("no code_challenge was sent for this code").into(),
            );
        }
        (None, None) => {}
    }
    let consumed = codes::Entity::update_many()
        .col_expr(codes::Column::ConsumedAt, Some(now).into())
        .col_expr(codes::Column::UpdatedAt, now.into())
        .filter(codes::Column::Id.eq(row.id))
        .filter(codes::Column::ConsumedAt.is_null())
        .exec(&txn)
        .await?
        .rows_affected;
    if consumed != 1 {
        return Err(OAuthError::invalid_grant("the code was already used").into());
    }
    let user = active_user(&txn, row.user_id).await?;
    let scope = grantable(cap, Some(&user), Scope::from_stored(&row.scope))?;
    audit_log::log(
        &txn,
        OAuthEvent::new(
            "code.redeemed",
            Some(client.row.id),
            format!("client:{}", client.row.client_identifier),
        )
        .user(Some(row.user_id))
        .subject(row.id.to_string()),
    )
    .await?;
    let answer = tokens::issue(
        &txn,
        Grant {
            client,
            user_id: Some(row.user_id),
            scope,
            grant_id: Some(row.id),
            authorization_code_id: Some(row.id),
            parent_refresh_id: None,
            with_refresh: client.spec.allows(grant_type::REFRESH_TOKEN),
            refresh_expires_at: None,
            event: "token.issued",
        },
    )
    .await?;
    txn.commit().await?;
    Ok(answer)
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

/// RFC 7636 §4.1: 43–128 unreserved characters.
fn valid_verifier(v: &str) -> bool {
    (43..=128).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// The user a delegated grant acts for, with what they hold now: the grant stays usable only
/// while its user is active.
async fn active_user(
    db: &impl sea_orm::ConnectionTrait,
    oauth_user: uuid::Uuid,
) -> Result<Identity> {
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

/// `grant_type=refresh_token`: rotation, and family revocation when an old token comes back.
/// The new pair carries the old scope (or the narrower one asked for) within what the client
/// may grant and the user holds now ([`grantable`]), and the new refresh token expires when
/// the old one would have: rotating never extends a grant beyond its original lifetime.
pub async fn refresh_token(
    db: &DatabaseConnection,
    client: &Client,
    token: &str,
    scope: Option<&str>,
) -> Result<TokenResponse> {
    require_grant(client, grant_type::REFRESH_TOKEN)?;
    let cap = ceiling_of(db, client).await?;
    let txn = begin_write(db).await?;
    let Some(row) = refresh::Entity::find()
        .filter(refresh::Column::Token.eq(secrets::hash(token)))
        .one(&txn)
        .await?
    else {
        return Err(OAuthError::invalid_grant("the refresh token is unknown").into());
    };
    if row.client_id != client.row.id {
        return Err(
            OAuthError::invalid_grant("the refresh token was issued to another client").into(),
        );
    }
    let now = Utc::now().fixed_offset();
    if row.rotated_at.is_some() || row.revoked_at.is_some() {
        let replay = Replay {
            event: "refresh_token.reuse_detected",
            grant_id: row.grant_id,
            user_id: row.user_id,
            subject: row.id,
            refusal: "the refresh token was already used; the grant is revoked",
        };
        return Err(replay.revoke(txn, client).await);
    }
    if row.expires_at <= now {
        return Err(OAuthError::invalid_grant("the refresh token has expired").into());
    }
    let granted = Scope::from_stored(&row.scope);
    let scope = match scope.map(str::trim).filter(|s| !s.is_empty()) {
        None => granted,
        Some(text) => {
            let asked = Scope::parse(text)?;
            if !asked.within(granted) {
                return Err(
                    OAuthError::invalid_scope("a refresh may only narrow the scope").into(),
                );
            }
            asked
        }
    };
    let user = match row.user_id {
        Some(user) => Some(active_user(&txn, user).await?),
        None => None,
    };
    let scope = grantable(cap, user.as_ref(), scope)?;
    let rotated = refresh::Entity::update_many()
        .col_expr(refresh::Column::RotatedAt, Some(now).into())
        .col_expr(refresh::Column::UpdatedAt, now.into())
        .filter(refresh::Column::Id.eq(row.id))
        .filter(refresh::Column::RotatedAt.is_null())
        .filter(refresh::Column::RevokedAt.is_null())
        .exec(&txn)
        .await?
        .rows_affected;
    if rotated != 1 {
        return Err(OAuthError::invalid_grant("the refresh token was already used").into());
    }
    let answer = tokens::issue(
        &txn,
        Grant {
            client,
            user_id: row.user_id,
            scope,
            grant_id: Some(row.grant_id),
            authorization_code_id: None,
            parent_refresh_id: Some(row.id),
            with_refresh: true,
            refresh_expires_at: Some(row.expires_at),
            event: "token.refreshed",
        },
    )
    .await?;
    txn.commit().await?;
    Ok(answer)
}

/// `grant_type=urn:ietf:params:oauth:grant-type:device_code` (RFC 8628 §3.4–3.5).
pub async fn device_code(
    db: &DatabaseConnection,
    client: &Client,
    device_code: &str,
) -> Result<TokenResponse> {
    require_grant(client, grant_type::DEVICE_CODE)?;
    let txn = begin_write(db).await?;
    let Some(row) = devices::Entity::find()
        .filter(devices::Column::DeviceCode.eq(secrets::hash(device_code)))
        .one(&txn)
        .await?
    else {
        return Err(OAuthError::invalid_grant("the device code is unknown").into());
    };
    if row.client_id != client.row.id {
        return Err(
            OAuthError::invalid_grant("the device code was issued to another client").into(),
        );
    }
    let now = Utc::now().fixed_offset();
    use super::error::OAuthErrorCode as C;
    let refusal = |code: C, text: &str| -> Error { OAuthError::new(code, text).into() };
    match row.state.as_str() {
        "consumed" => {
            return Err(OAuthError::invalid_grant("the device code was already used").into());
        }
        "denied" => return Err(refusal(C::AccessDenied, "the user denied the request")),
        "expired" => return Err(refusal(C::ExpiredToken, "the device code has expired")),
        _ if row.expires_at <= now => {
            set_device_state(&txn, row.id, "expired", None).await?;
            txn.commit().await?;
            return Err(refusal(C::ExpiredToken, "the device code has expired"));
        }
        "pending" => {
            let too_soon = row
                .last_polled_at
                .is_some_and(|last| now - last < Duration::seconds(row.interval_seconds));
            let interval = if too_soon {
                row.interval_seconds + 5
            } else {
                row.interval_seconds
            };
            devices::Entity::update_many()
                .col_expr(devices::Column::LastPolledAt, Some(now).into())
                .col_expr(devices::Column::IntervalSeconds, interval.into())
                .col_expr(devices::Column::UpdatedAt, now.into())
                .filter(devices::Column::Id.eq(row.id))
                .exec(&txn)
                .await?;
            txn.commit().await?;
            return Err(if too_soon {
                refusal(
                    C::SlowDown,
                    "polling too fast; the interval grew by 5 seconds",
                )
            } else {
                refusal(C::AuthorizationPending, "the user has not answered yet")
            });
        }
        _ => {}
    }
    // Approved: consume exactly once.
    let Some(user_id) = row.user_id else {
        return Err(Error::internal("approved device code without a user"));
    };
    if set_device_state(&txn, row.id, "consumed", Some("approved")).await? != 1 {
        return Err(OAuthError::invalid_grant("the device code was already used").into());
    }
    let user = active_user(&txn, user_id).await?;
    // Read here rather than before each poll: most polls end in `authorization_pending`.
    let cap = ceiling_of(&txn, client).await?;
    let scope = grantable(cap, Some(&user), Scope::from_stored(&row.scope))?;
    let answer = tokens::issue(
        &txn,
        Grant {
            client,
            user_id: Some(user_id),
            scope,
            grant_id: Some(row.id),
            authorization_code_id: None,
            parent_refresh_id: None,
            with_refresh: client.spec.allows(grant_type::REFRESH_TOKEN),
            refresh_expires_at: None,
            event: "token.issued",
        },
    )
    .await?;
    txn.commit().await?;
    Ok(answer)
}

/// Moves a device code to `state` (only from `from`, when given); returns rows changed.
pub(super) async fn set_device_state(
    db: &impl sea_orm::ConnectionTrait,
    id: uuid::Uuid,
    state: &str,
    from: Option<&str>,
) -> Result<u64> {
    let now = Utc::now().fixed_offset();
    let mut update = devices::Entity::update_many()
        .col_expr(devices::Column::State, state.into())
        .col_expr(devices::Column::UpdatedAt, now.into())
        .filter(devices::Column::Id.eq(id));
    if let Some(from) = from {
        update = update.filter(devices::Column::State.eq(from));
    }
    Ok(update.exec(db).await?.rows_affected)
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
