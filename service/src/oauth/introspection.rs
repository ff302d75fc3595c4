//! Token introspection (RFC 7662): what any token is worth now, or that it is not active.

use chrono::Utc;
use entity::{
    oauth_client_configs as configs, oauth_clients as clients, oauth_refresh_tokens as refresh,
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde::Serialize;

use super::bearer::authenticate;
use super::ceiling::{ceiling, stored_scopes};
use super::tokens::REFRESH_PREFIX;
use super::{Scope, secrets, subjects};
use crate::Result;
use crate::access::identity;
use crate::db::Handle;

/// An introspection answer (RFC 7662 §2.2).
#[derive(Debug, Clone, Serialize, Default)]
pub struct Introspection {
    pub active: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_type: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
}

/// Describes any token: `{"active": false}` for anything not currently valid. The scope is
/// what the token is worth now: within its client's [`ceiling`] and, for a user's token,
/// within what the user holds (a refresh token's is what a refresh would issue at most).
pub async fn introspect(db: &impl Handle, token: &str) -> Result<Introspection> {
    if !token.starts_with(REFRESH_PREFIX) {
        if let Some(grant) = authenticate(db, token).await? {
            let sub = match &grant.user {
                Some(u) => subjects::external_id(u.user_id),
                None => grant.client_id.clone(),
            };
            return Ok(Introspection {
                active: true,
                scope: Some(grant.scope.to_text()),
                client_id: Some(grant.client_id),
                username: Some(grant.user.map(|u| u.username)),
                sub: Some(sub),
                token_type: Some("Bearer"),
                exp: Some(grant.expires_at),
                iat: Some(grant.issued_at),
            });
        }
        return Ok(Introspection::default());
    }
    let Some((row, Some(client))) = refresh::Entity::find()
        .filter(refresh::Column::Token.eq(secrets::hash(token)))
        .find_also_related(clients::Entity)
        .one(db)
        .await?
    else {
        return Ok(Introspection::default());
    };
    let now = Utc::now().fixed_offset();
    if row.revoked_at.is_some()
        || row.rotated_at.is_some()
        || row.expires_at <= now
        || !client.is_enabled
    {
        return Ok(Introspection::default());
    }
    let Some(config) = configs::Entity::find()
        .filter(configs::Column::ClientId.eq(client.id))
        .one(db)
        .await?
    else {
        return Ok(Introspection::default());
    };
    let allowed = stored_scopes(&config.allowed_scopes);
    let cap = ceiling(db, allowed, client.created_by.as_deref()).await?;
    let mut scope = Scope::from_stored(&row.scope).intersect(cap);
    let user = match row.user_id {
        Some(u) => match subjects::external_of(db, u)
            .await?
            .as_deref()
            .and_then(subjects::local_user_id)
        {
            Some(uid) => match identity(db, uid).await? {
                Some(user) => Some(user),
                None => return Ok(Introspection::default()),
            },
            None => return Ok(Introspection::default()),
        },
        None => None,
    };
    if let Some(user) = &user {
        scope = scope.intersect(Scope(user.permissions));
    }
    Ok(Introspection {
        active: true,
        scope: Some(scope.to_text()),
        sub: Some(match &user {
            Some(u) => subjects::external_id(u.user_id),
            None => client.client_identifier.clone(),
        }),
        client_id: Some(client.client_identifier),
        username: Some(user.map(|u| u.username)),
        token_type: Some("refresh_token"),
        exp: Some(row.expires_at.timestamp()),
        iat: Some(row.created_at.timestamp()),
    })
}
