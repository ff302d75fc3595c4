//! Issuing and revoking tokens: the one place that writes `oauth_access_tokens` and
//! `oauth_refresh_tokens`.

use chrono::{DateTime, Duration, FixedOffset, Utc};
use entity::{
    oauth_access_tokens as access, oauth_clients as clients, oauth_refresh_tokens as refresh,
};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde_json::json;
use uuid::Uuid;

use super::audit_log::{self, OAuthEvent};
use super::clients::Client;
use super::{Scope, TokenResponse, secrets, token_cache};
use crate::Result;
use crate::db::WriteTxn;

/// Prefix of access tokens.
pub const ACCESS_PREFIX: &str = "mda_";
/// Prefix of refresh tokens.
pub const REFRESH_PREFIX: &str = "mdr_";

/// What a new token pair descends from and carries.
pub(super) struct Grant<'a> {
    pub client: &'a Client,
    pub user_id: Option<Uuid>,
    pub scope: Scope,
    /// The original grant (code or device code id); `None` for client credentials.
    pub grant_id: Option<Uuid>,
    pub authorization_code_id: Option<Uuid>,
    /// The refresh token this pair replaces.
    pub parent_refresh_id: Option<Uuid>,
    pub with_refresh: bool,
    /// When the refresh token expires: on a rotation, the expiry of the token it replaces, so
    /// that rotating never lets a grant outlive its original lifetime; `None` for a new grant
    /// (now + the client's refresh token lifetime).
    pub refresh_expires_at: Option<DateTime<FixedOffset>>,
    /// The audit event: `token.issued` or `token.refreshed`.
    pub event: &'static str,
}

/// Writes an access token (and a refresh token when asked) and returns the answer.
pub(super) async fn issue(db: &impl ConnectionTrait, grant: Grant<'_>) -> Result<TokenResponse> {
    let now = Utc::now().fixed_offset();
    let client = grant.client;
    let by = format!("client:{}", client.row.client_identifier);
    let scope_text = grant.scope.to_text();
    let refresh_plain = grant
        .with_refresh
        .then(|| secrets::new_credential(REFRESH_PREFIX));
    let refresh_id = refresh_plain.as_ref().map(|_| Uuid::now_v7());
    if let (Some(plain), Some(id)) = (&refresh_plain, refresh_id) {
        refresh::Entity::insert(refresh::ActiveModel {
            id: Set(id),
            token: Set(secrets::hash(plain)),
            client_id: Set(client.row.id),
            user_id: Set(grant.user_id),
            scope: Set(scope_text.clone()),
            expires_at: Set(grant
                .refresh_expires_at
                .unwrap_or_else(|| now + Duration::seconds(client.spec.refresh_token_ttl_seconds))),
            revoked_at: Set(None),
            rotated_at: Set(None),
            parent_id: Set(grant.parent_refresh_id),
            grant_id: Set(grant.grant_id.unwrap_or(id)),
            created_at: Set(now),
            created_by: Set(Some(by.clone())),
            updated_at: Set(now),
            updated_by: Set(Some(by.clone())),
        })
        .exec_without_returning(db)
        .await?;
    }
    let access_plain = secrets::new_credential(ACCESS_PREFIX);
    let access_id = Uuid::now_v7();
    let ttl = client.spec.access_token_ttl_seconds;
    access::Entity::insert(access::ActiveModel {
        id: Set(access_id),
        token: Set(secrets::hash(&access_plain)),
        client_id: Set(client.row.id),
        user_id: Set(grant.user_id),
        scope: Set(scope_text.clone()),
        expires_at: Set(now + Duration::seconds(ttl)),
        revoked_at: Set(None),
        grant_id: Set(grant.grant_id),
        refresh_token_id: Set(refresh_id),
        authorization_code_id: Set(grant.authorization_code_id),
        created_at: Set(now),
        created_by: Set(Some(by.clone())),
        updated_at: Set(now),
        updated_by: Set(Some(by.clone())),
    })
    .exec_without_returning(db)
    .await?;
    clients::Entity::update_many()
        .col_expr(clients::Column::LastUsedAt, Some(now).into())
        .filter(clients::Column::Id.eq(client.row.id))
        .exec(db)
        .await?;
    audit_log::log(
        db,
        OAuthEvent::new(grant.event, Some(client.row.id), &by)
            .user(grant.user_id)
            .subject(access_id.to_string())
            .metadata(json!({"scope": scope_text, "refresh_token": refresh_id})),
    )
    .await?;
    Ok(TokenResponse {
        access_token: access_plain,
        token_type: "Bearer",
        expires_in: ttl,
        refresh_token: refresh_plain,
        scope: scope_text,
    })
}

/// Revokes access tokens by id.
pub(super) async fn revoke_access(db: &WriteTxn, ids: &[Uuid]) -> Result<u64> {
    db.after_commit(token_cache::forget_all);
    let now = Utc::now().fixed_offset();
    Ok(access::Entity::update_many()
        .col_expr(access::Column::RevokedAt, Some(now).into())
        .col_expr(access::Column::UpdatedAt, now.into())
        .filter(access::Column::Id.is_in(ids.to_vec()))
        .filter(access::Column::RevokedAt.is_null())
        .exec(db)
        .await?
        .rows_affected)
}

/// Revokes a refresh token and the access tokens issued with it.
pub(super) async fn revoke_refresh(db: &WriteTxn, id: Uuid) -> Result<()> {
    db.after_commit(token_cache::forget_all);
    let now = Utc::now().fixed_offset();
    refresh::Entity::update_many()
        .col_expr(refresh::Column::RevokedAt, Some(now).into())
        .col_expr(refresh::Column::UpdatedAt, now.into())
        .filter(refresh::Column::Id.eq(id))
        .filter(refresh::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    access::Entity::update_many()
        .col_expr(access::Column::RevokedAt, Some(now).into())
        .col_expr(access::Column::UpdatedAt, now.into())
        .filter(access::Column::RefreshTokenId.eq(id))
        .filter(access::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// Revokes every access and refresh token descending from `grant_id`.
pub(super) async fn revoke_grant(db: &WriteTxn, grant_id: Uuid) -> Result<u64> {
    db.after_commit(token_cache::forget_all);
    let now = Utc::now().fixed_offset();
    let a = access::Entity::update_many()
        .col_expr(access::Column::RevokedAt, Some(now).into())
        .col_expr(access::Column::UpdatedAt, now.into())
        .filter(
            sea_orm::Condition::any()
                .add(access::Column::GrantId.eq(grant_id))
                .add(access::Column::AuthorizationCodeId.eq(grant_id)),
        )
        .filter(access::Column::RevokedAt.is_null())
        .exec(db)
        .await?
        .rows_affected;
    let r = refresh::Entity::update_many()
        .col_expr(refresh::Column::RevokedAt, Some(now).into())
        .col_expr(refresh::Column::UpdatedAt, now.into())
        .filter(refresh::Column::GrantId.eq(grant_id))
        .filter(refresh::Column::RevokedAt.is_null())
        .exec(db)
        .await?
        .rows_affected;
    Ok(a + r)
}
