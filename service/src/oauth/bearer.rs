//! Bearer tokens at work: authenticating API calls, introspection (RFC 7662) and
//! revocation (RFC 7009).

use chrono::{DateTime, Utc};
use entity::{
    oauth_access_tokens as access, oauth_clients as clients, oauth_refresh_tokens as refresh,
    oauth_users as users,
};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, JoinType, QueryFilter,
    QuerySelect, RelationTrait,
};
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use super::audit_log::{self, OAuthEvent};
use super::clients::Client;
use super::tokens::{self, REFRESH_PREFIX};
use super::{Scope, secrets, subjects, token_cache};
use crate::Result;
use crate::access::{Identity, current_identity, identity};
use crate::db::{begin_write, point_reads};

/// What a valid access token grants.
#[derive(Debug, Clone)]
pub struct BearerGrant {
    pub token_id: Uuid,
    /// The client's public identifier.
    pub client_id: String,
    /// The user a delegated token acts for (still active, with current permissions).
    pub user: Option<Identity>,
    /// The token's scope; for a user token, also within what the user holds today.
    pub scope: Scope,
    pub issued_at: i64,
    pub expires_at: i64,
}

/// What authenticating needs of an access token's row, its client and its user.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct TokenRow {
    pub id: Uuid,
    pub scope: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked: bool,
    /// The client's public identifier.
    pub client_id: String,
    pub client_enabled: bool,
    /// The user's external id, for a delegated token.
    pub external_user: Option<String>,
}

impl TokenRow {
    /// Neither revoked nor of a disabled client (expiry is checked at each use).
    fn is_usable(&self) -> bool {
        !self.revoked && self.client_enabled
    }
}

/// The grant of a currently valid access token: one indexed query on the token's hash (plus
/// the user's identity for delegated tokens), on SQLite read on the calling thread when it
/// can be ([`super::token_read`]), and not repeated for a token found valid within the last
/// second ([`super::token_cache`]). Unknown, expired, revoked tokens, tokens of a disabled
/// client and tokens of an inactive user are `None`.
pub async fn authenticate(db: &DatabaseConnection, token: &str) -> Result<Option<BearerGrant>> {
    let hash = secrets::hash(token);
    let row = match token_cache::get(&hash) {
        Some(row) => row,
        None => {
            let epoch = token_cache::epoch();
            let row = point_reads::read_or_pool(
                db,
                |c| super::token_read::token(c, &hash),
                || token_row(db, &hash),
            )
            .await?;
            let Some(row) = row.filter(TokenRow::is_usable) else {
                return Ok(None);
            };
            token_cache::keep(&hash, row.clone(), epoch);
            row
        }
    };
    if row.expires_at <= Utc::now() {
        return Ok(None);
    }
    let mut scope = Scope::from_stored(&row.scope);
    let user = match row.external_user {
        None => None,
        Some(external) => {
            let user = match subjects::local_user_id(&external) {
                Some(uid) => current_identity(db, uid).await?,
                None => None,
            };
            let Some(user) = user else {
                return Ok(None);
            };
            scope = scope.intersect(Scope(user.permissions));
            Some(user)
        }
    };
    Ok(Some(BearerGrant {
        token_id: row.id,
        client_id: row.client_id,
        user,
        scope,
        issued_at: row.created_at.timestamp(),
        expires_at: row.expires_at.timestamp(),
    }))
}

/// The row of the access token with this hash, through the pool.
pub(super) async fn token_row(db: &impl ConnectionTrait, hash: &str) -> Result<Option<TokenRow>> {
    type Columns = (
        Uuid,
        String,
        chrono::DateTime<chrono::FixedOffset>,
        chrono::DateTime<chrono::FixedOffset>,
        Option<chrono::DateTime<chrono::FixedOffset>>,
        String,
        bool,
        Option<String>,
    );
    let row: Option<Columns> = access::Entity::find()
        .select_only()
        .column(access::Column::Id)
        .column(access::Column::Scope)
        .column(access::Column::CreatedAt)
        .column(access::Column::ExpiresAt)
        .column(access::Column::RevokedAt)
        .column(clients::Column::ClientIdentifier)
        .column(clients::Column::IsEnabled)
        .column(users::Column::ExternalId)
        .join(JoinType::InnerJoin, access::Relation::OauthClients.def())
        .join(JoinType::LeftJoin, access::Relation::OauthUsers.def())
        .filter(access::Column::Token.eq(hash))
        .into_tuple()
        .one(db)
        .await?;
    Ok(row.map(
        |(id, scope, created, expires, revoked, client_id, enabled, external)| TokenRow {
            id,
            scope,
            created_at: created.to_utc(),
            expires_at: expires.to_utc(),
            revoked: revoked.is_some(),
            client_id,
            client_enabled: enabled,
            external_user: external,
        },
    ))
}

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

/// Describes any token: `{"active": false}` for anything not currently valid.
pub async fn introspect(db: &DatabaseConnection, token: &str) -> Result<Introspection> {
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
    Ok(Introspection {
        active: true,
        scope: Some(row.scope),
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

/// Revokes `token` if it belongs to `client` (RFC 7009: unknown tokens are not an error).
/// A refresh token takes the access tokens issued from it along.
pub async fn revoke(db: &DatabaseConnection, client: &Client, token: &str) -> Result<()> {
    let hash = secrets::hash(token);
    let txn = begin_write(db).await?;
    let by = format!("client:{}", client.row.client_identifier);
    let mut revoked = None;
    if let Some(row) = refresh::Entity::find()
        .filter(refresh::Column::Token.eq(&hash))
        .filter(refresh::Column::ClientId.eq(client.row.id))
        .one(&txn)
        .await?
    {
        tokens::revoke_refresh(&txn, row.id).await?;
        revoked = Some((row.id, "refresh"));
    } else if let Some(row) = access::Entity::find()
        .filter(access::Column::Token.eq(&hash))
        .filter(access::Column::ClientId.eq(client.row.id))
        .one(&txn)
        .await?
    {
        tokens::revoke_access(&txn, &[row.id]).await?;
        revoked = Some((row.id, "access"));
    }
    if let Some((id, kind)) = revoked {
        audit_log::log(
            &txn,
            OAuthEvent::new("token.revoked", Some(client.row.id), &by)
                .subject(id.to_string())
                .metadata(json!({"kind": kind})),
        )
        .await?;
    }
    txn.commit().await?;
    Ok(())
}
