//! A client's live tokens: listing them and revoking one or all.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{oauth_access_tokens as access, oauth_refresh_tokens as refresh};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use super::get;
use crate::audit::{self, Actor, AuditEntry};
use crate::db::begin_write;
use crate::oauth::audit_log::{self, OAuthEvent};
use crate::oauth::token_cache;
use crate::{Error, Result};

/// A live token of a client (never the token itself).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TokenView {
    pub id: Uuid,
    /// `access` or `refresh`.
    pub kind: &'static str,
    pub scope: String,
    /// The user's name for user-delegated tokens.
    pub username: Option<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// A client's access and refresh tokens that are neither expired nor revoked, newest first.
pub async fn live_tokens(db: &impl ConnectionTrait, client_id: &str) -> Result<Vec<TokenView>> {
    let client = get(db, client_id).await?;
    let now = Utc::now().fixed_offset();
    // Each read is a range of the `(client_id, created_at)` index, newest first.
    let access_rows = access::Entity::find()
        .filter(access::Column::ClientId.eq(client.row.id))
        .filter(access::Column::RevokedAt.is_null())
        .filter(access::Column::ExpiresAt.gt(now))
        .order_by_desc(access::Column::CreatedAt)
        .limit(500)
        .all(db)
        .await?;
    let refresh_rows = refresh::Entity::find()
        .filter(refresh::Column::ClientId.eq(client.row.id))
        .filter(refresh::Column::RevokedAt.is_null())
        .filter(refresh::Column::RotatedAt.is_null())
        .filter(refresh::Column::ExpiresAt.gt(now))
        .order_by_desc(refresh::Column::CreatedAt)
        .limit(500)
        .all(db)
        .await?;
    let users: Vec<Uuid> = access_rows
        .iter()
        .filter_map(|t| t.user_id)
        .chain(refresh_rows.iter().filter_map(|t| t.user_id))
        .collect();
    let names = usernames(db, users).await?;
    let name_of = |u: Option<Uuid>| u.and_then(|u| names.get(&u).cloned());
    let mut out: Vec<TokenView> = access_rows
        .into_iter()
        .map(|t| TokenView {
            id: t.id,
            kind: "access",
            scope: t.scope,
            username: name_of(t.user_id),
            created_at: t.created_at.to_utc(),
            expires_at: t.expires_at.to_utc(),
        })
        .collect();
    out.extend(refresh_rows.into_iter().map(|t| TokenView {
        id: t.id,
        kind: "refresh",
        scope: t.scope,
        username: name_of(t.user_id),
        created_at: t.created_at.to_utc(),
        expires_at: t.expires_at.to_utc(),
    }));
    out.sort_by_key(|t| std::cmp::Reverse(t.created_at));
    Ok(out)
}

/// The names of the OAuth users `ids` (the holders of the tokens shown), by id: only those
/// rows are read, however many users there are.
async fn usernames(db: &impl ConnectionTrait, mut ids: Vec<Uuid>) -> Result<HashMap<Uuid, String>> {
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(Uuid, Option<String>)> = entity::oauth_users::Entity::find()
        .select_only()
        .column(entity::oauth_users::Column::Id)
        .column(entity::oauth_users::Column::Username)
        .filter(entity::oauth_users::Column::Id.is_in(ids))
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, n)| Some((id, n?)))
        .collect())
}

/// Revokes one token by id (an access or a refresh token; a refresh token takes the access
/// tokens issued from it along).
#[tracing::instrument(name = "oauth.clients.revoke_token", skip_all, fields(token_id = %token_id))]
pub async fn revoke_token(
    db: &DatabaseConnection,
    actor: &Actor,
    ip: Option<String>,
    token_id: Uuid,
) -> Result<()> {
    let txn = begin_write(db).await?;
    let client = if let Some(t) = access::Entity::find_by_id(token_id).one(&txn).await? {
        crate::oauth::tokens::revoke_access(&txn, &[t.id]).await?;
        t.client_id
    } else if let Some(t) = refresh::Entity::find_by_id(token_id).one(&txn).await? {
        crate::oauth::tokens::revoke_refresh(&txn, t.id).await?;
        t.client_id
    } else {
        return Err(Error::NotFound(format!("token {token_id}")));
    };
    let by = actor.as_string();
    audit_log::log(
        &txn,
        OAuthEvent::new("token.revoked", Some(client), &by).subject(token_id.to_string()),
    )
    .await?;
    audit::commit_audited(
        txn,
        AuditEntry::new("oauth_token.revoked", actor)
            .target(token_id.to_string())
            .ip(ip),
        &[],
    )
    .await?;
    Ok(())
}

/// Revokes every live token of a client; returns how many.
#[tracing::instrument(name = "oauth.clients.revoke_all", skip_all, fields(client_id))]
pub async fn revoke_all(
    db: &DatabaseConnection,
    actor: &Actor,
    ip: Option<String>,
    client_id: &str,
) -> Result<u64> {
    let txn = begin_write(db).await?;
    // The client's tokens may stop being valid: none is accepted from memory after this commits.
    txn.after_commit(token_cache::forget_all);
    let client = get(&txn, client_id).await?;
    let now = Utc::now().fixed_offset();
    let a = access::Entity::update_many()
        .col_expr(access::Column::RevokedAt, now.into())
        .col_expr(access::Column::UpdatedAt, now.into())
        .filter(access::Column::ClientId.eq(client.row.id))
        .filter(access::Column::RevokedAt.is_null())
        .exec(&txn)
        .await?
        .rows_affected;
    let r = refresh::Entity::update_many()
        .col_expr(refresh::Column::RevokedAt, now.into())
        .col_expr(refresh::Column::UpdatedAt, now.into())
        .filter(refresh::Column::ClientId.eq(client.row.id))
        .filter(refresh::Column::RevokedAt.is_null())
        .exec(&txn)
        .await?
        .rows_affected;
    let by = actor.as_string();
    audit_log::log(
        &txn,
        OAuthEvent::new("token.revoked", Some(client.row.id), &by)
            .subject("all")
            .metadata(json!({"access_tokens": a, "refresh_tokens": r})),
    )
    .await?;
    audit::commit_audited(
        txn,
        AuditEntry::new("oauth_token.revoked_all", actor)
            .target(client_id.to_owned())
            .details(json!({"access_tokens": a, "refresh_tokens": r}))
            .ip(ip),
        &[],
    )
    .await?;
    Ok(a + r)
}
