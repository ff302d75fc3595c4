//! `grant_type=authorization_code` (RFC 6749 §4.1.3) with PKCE (RFC 7636).

use chrono::Utc;
use entity::oauth_authorization_codes as codes;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};

use super::{Replay, TokenResponse, active_user, grantable, require_grant};
use crate::Result;
use crate::db::begin_write;
use crate::oauth::audit_log::{self, OAuthEvent};
use crate::oauth::ceiling::ceiling_of;
use crate::oauth::clients::Client;
use crate::oauth::tokens::{self, Grant};
use crate::oauth::{OAuthError, Scope, grant_type, secrets};

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

/// RFC 7636 §4.1: 43–128 unreserved characters.
fn valid_verifier(v: &str) -> bool {
    (43..=128).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}
