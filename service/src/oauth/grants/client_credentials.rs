//! `grant_type=client_credentials` (RFC 6749 §4.4): a confidential client acting for itself.

use sea_orm::DatabaseConnection;

use super::{TokenResponse, grantable, require_grant};
use crate::Result;
use crate::db::begin_write;
use crate::oauth::ceiling::ceiling_of;
use crate::oauth::clients::Client;
use crate::oauth::tokens::{self, Grant};
use crate::oauth::{OAuthError, Scope, grant_type};

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
