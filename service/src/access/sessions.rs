//! Sessions in the database, shared by every instance.
//!
//! A session row is keyed by the SHA-256 (hex) of the cookie's random key; the key itself
//! is never stored. Idle and absolute expiry are enforced here, on every load.

use std::time::Duration;

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, sea_query::Expr,
};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::audit::{self, Actor, AuditEntry};
use crate::db::{begin_write, hot, writer_turn};
use crate::{Error, Result};

use entity::sessions::{self, Column};

/// How long sessions live.
#[derive(Debug, Clone, Copy)]
pub struct SessionLimits {
    pub idle: Duration,
    pub absolute: Duration,
}

/// `last_seen_at` is written at most this often per session, not on every request.
const TOUCH_EVERY: Duration = Duration::from_secs(60);

/// The stored id of a session key.
pub fn key_hash(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// What is known about a new session when it is created at login.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub user_id: i64,
    pub data: String,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// Stores a new session under the hash of `key`.
pub async fn create(
    db: &DatabaseConnection,
    key: &str,
    new: NewSession,
    limits: SessionLimits,
) -> Result<()> {
    let now = Utc::now();
    let absolute = chrono::Duration::from_std(limits.absolute).map_err(Error::internal)?;
    let turn = writer_turn(db).await?;
    sessions::ActiveModel {
        session_id: Set(key_hash(key)),
        user_id: Set(new.user_id),
        created_at: Set(now.fixed_offset()),
        expires_at: Set((now + absolute).fixed_offset()),
        data: Set(new.data),
        last_seen_at: Set(now.fixed_offset()),
        ip: Set(new.ip),
        user_agent: Set(new.user_agent),
    }
    .insert(&turn)
    .await?;
    Ok(())
}

/// Why a session that its holder still presents is over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndReason {
    /// Idle for too long, or past its absolute lifetime.
    Expired,
    /// Ended by someone with `sessions:write` from the session pages.
    Revoked,
}

/// What a session's key leads to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Loaded {
    /// A live session and its stored data.
    Active(String),
    /// A session that is over; its row stays until its holder's browser is told why (the
    /// console then deletes it) or the holder signs in again.
    Ended(EndReason),
    /// No session under this key (signed out, or never stored).
    Unknown,
}

/// The `data` of a session an admin revoked: no state, only why it ended. Only the holder
/// of the session's key can load it, so only they learn why.
const REVOKED_DATA: &str = r#"{"ended":"revoked"}"#;

/// The session stored under `key`, live or ended. Refreshes `last_seen_at` of a live one
/// when it is older than a minute.
pub async fn load(db: &DatabaseConnection, key: &str, limits: SessionLimits) -> Result<Loaded> {
    let id = key_hash(key);
    let Some(row) = hot::caller::session(db, &id).await? else {
        return Ok(Loaded::Unknown);
    };
    let now = Utc::now();
    let idle = chrono::Duration::from_std(limits.idle).map_err(Error::internal)?;
    if row.data == REVOKED_DATA {
        return Ok(Loaded::Ended(EndReason::Revoked));
    }
    if now >= row.expires_at || now >= row.last_seen_at + idle {
        return Ok(Loaded::Ended(EndReason::Expired));
    }
    let touch = chrono::Duration::from_std(TOUCH_EVERY).map_err(Error::internal)?;
    if now - row.last_seen_at >= touch {
        let turn = writer_turn(db).await?;
        sessions::Entity::update_many()
            .col_expr(
                Column::LastSeenAt,
                sea_orm::sea_query::Expr::value(now.fixed_offset()),
            )
            .filter(Column::SessionId.eq(id))
            .exec(&turn)
            .await?;
    }
    Ok(Loaded::Active(row.data))
}

/// Replaces a session's data (and, when known, its address and user agent); false when it no longer exists.
pub async fn update_data(
    db: &DatabaseConnection,
    key: &str,
    data: String,
    ip: Option<String>,
    user_agent: Option<String>,
) -> Result<bool> {
    let mut update = sessions::Entity::update_many()
        .col_expr(Column::Data, sea_orm::sea_query::Expr::value(data))
        .filter(Column::SessionId.eq(key_hash(key)));
    if ip.is_some() {
        update = update.col_expr(Column::Ip, sea_orm::sea_query::Expr::value(ip));
    }
    if user_agent.is_some() {
        update = update.col_expr(
            Column::UserAgent,
            sea_orm::sea_query::Expr::value(user_agent),
        );
    }
    let turn = writer_turn(db).await?;
    Ok(update.exec(&turn).await?.rows_affected > 0)
}

/// Deletes the session of `key` (logout).
pub async fn delete(db: &DatabaseConnection, key: &str) -> Result<()> {
    let turn = writer_turn(db).await?;
    sessions::Entity::delete_by_id(key_hash(key))
        .exec(&turn)
        .await?;
    Ok(())
}

/// Ends every session of a user except `keep` (a session id); returns how many ended.
pub async fn delete_for_user(
    db: &impl ConnectionTrait,
    user_id: i64,
    keep: Option<&str>,
) -> Result<u64> {
    let mut q = sessions::Entity::delete_many().filter(Column::UserId.eq(user_id));
    if let Some(keep) = keep {
        q = q.filter(Column::SessionId.ne(keep));
    }
    Ok(q.exec(db).await?.rows_affected)
}

/// A session as the session pages show it.
#[derive(Debug, Clone, Serialize)]
pub struct SessionSummary {
    /// The stored id (a hash; it cannot be used to sign in).
    pub id: String,
    pub user_id: i64,
    pub username: String,
    pub created_at: chrono::DateTime<Utc>,
    pub last_seen_at: chrono::DateTime<Utc>,
    pub expires_at: chrono::DateTime<Utc>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// How many sessions a session list shows at most: the most recently seen.
pub const SESSIONS_SHOWN: u64 = 500;

/// Live sessions, most recently seen first, at most [`SESSIONS_SHOWN`]; all users' or one
/// user's. The list walks the `last_seen_at` index (one user's: `(user_id, last_seen_at)`) and
/// stops at the limit, so it costs the same however many sessions there are.
pub async fn list(db: &impl ConnectionTrait, user_id: Option<i64>) -> Result<Vec<SessionSummary>> {
    let mut q = sessions::Entity::find()
        .find_also_related(entity::local_users::Entity)
        .filter(Column::ExpiresAt.gt(Utc::now().fixed_offset()))
        .order_by_desc(Column::LastSeenAt)
        .limit(SESSIONS_SHOWN);
    if let Some(user_id) = user_id {
        q = q.filter(Column::UserId.eq(user_id));
    }
    let rows = q.all(db).await?;
    Ok(rows
        .into_iter()
        .map(|(s, u)| SessionSummary {
            id: s.session_id,
            user_id: s.user_id,
            username: u.map(|u| u.username).unwrap_or_default(),
            created_at: s.created_at.to_utc(),
            last_seen_at: s.last_seen_at.to_utc(),
            expires_at: s.expires_at.to_utc(),
            ip: s.ip,
            user_agent: s.user_agent,
        })
        .collect())
}

/// Revokes one session; `owner` restricts it to that user's sessions (own-session pages).
/// Revoking another user's session needs everything that user holds.
#[tracing::instrument(name = "access.sessions.revoke", skip_all, fields(owner))]
pub async fn revoke(
    db: &DatabaseConnection,
    by: &super::Grantor,
    ip: Option<String>,
    session_id: &str,
    owner: Option<i64>,
) -> Result<()> {
    let txn = begin_write(db).await?;
    let mut q = sessions::Entity::find_by_id(session_id.to_string());
    if let Some(owner) = owner {
        q = q.filter(Column::UserId.eq(owner));
    }
    let row = q
        .one(&txn)
        .await?
        .ok_or_else(|| Error::NotFound("session".into()))?;
    if owner.is_none() {
        by.ensure_may_act_on(&txn, row.user_id, "ending a session of")
            .await?;
        // Kept, emptied and already expired, so that its holder is told on their next
        // request that it was ended for them (`Loaded::Ended`).
        sessions::Entity::update_many()
            .col_expr(Column::Data, Expr::value(REVOKED_DATA))
            .col_expr(Column::ExpiresAt, Expr::value(Utc::now().fixed_offset()))
            .filter(Column::SessionId.eq(row.session_id.clone()))
            .exec(&txn)
            .await?;
    } else {
        sessions::Entity::delete_by_id(row.session_id.clone())
            .exec(&txn)
            .await?;
    }
    audit::commit_audited(
        txn,
        AuditEntry::new("session.revoked", &by.actor)
            .target(format!("user:{}", row.user_id))
            .ip(ip)
            .details(serde_json::json!({"session": &row.session_id[..12]})),
        &[],
    )
    .await
}

/// Ends every other session of a user ("sign out everywhere else").
#[tracing::instrument(name = "access.sessions.revoke_others", skip_all, fields(user_id))]
pub async fn revoke_others(
    db: &DatabaseConnection,
    actor: &Actor,
    ip: Option<String>,
    user_id: i64,
    keep: &str,
) -> Result<u64> {
    let txn = begin_write(db).await?;
    let ended = delete_for_user(&txn, user_id, Some(keep)).await?;
    audit::commit_audited(
        txn,
        AuditEntry::new("session.revoked", actor)
            .target(format!("user:{user_id}"))
            .ip(ip)
            .details(serde_json::json!({"others": ended})),
        &[],
    )
    .await?;
    Ok(ended)
}
