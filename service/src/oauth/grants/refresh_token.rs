//! `grant_type=refresh_token` (RFC 6749 §6): rotation, and the family revoked on replay.

use chrono::Utc;
use entity::oauth_refresh_tokens as refresh;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};

use super::{Replay, TokenResponse, active_user, grantable, require_grant};
use crate::Result;
use crate::db::begin_write;
use crate::oauth::ceiling::ceiling_of;
use crate::oauth::clients::Client;
use crate::oauth::tokens::{self, Grant};
use crate::oauth::{OAuthError, Scope, grant_type, secrets};

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
