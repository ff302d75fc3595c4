//! Facts: JSON values under (target, namespace, key) with a TTL. An expired fact is
//! invisible to every read at once (each read filters on `expires_at`); the operations sweeper
//! and `metadeck purge` delete it later with [`purge_expired`].

use chrono::{DateTime, Duration, Utc};
use entity::facts;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait,
    ExprTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use super::input::OpsKey;
use super::now;
use crate::db::begin_write;
use crate::pagination::{Page, PageRequest};
use crate::{Error, Result};

/// Longest TTL: ten years, in seconds.
pub const TTL_MAX: i64 = 10 * 366 * 24 * 3600;
/// Rows deleted per statement by the purge, so that it never holds the write lock for long.
const PURGE_BATCH: u64 = 1_000;

/// A fact as the API renders it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FactView {
    pub target_id: String,
    pub namespace: String,
    pub key: String,
    /// Any JSON value.
    #[schema(value_type = Value)]
    pub value: Value,
    /// Seconds it lives after its last write; 0 = never expires.
    pub ttl: i64,
    pub expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<facts::Model> for FactView {
    fn from(f: facts::Model) -> Self {
        Self {
            target_id: f.target_id,
            namespace: f.namespace,
            key: f.key,
            value: f.value,
            ttl: f.ttl,
            expires_at: f.expires_at.map(|t| t.to_utc()),
            created_at: f.created_at.to_utc(),
            updated_at: f.updated_at.to_utc(),
        }
    }
}

/// A fact's address.
#[derive(Debug, Clone)]
pub struct FactKey {
    pub target_id: OpsKey,
    pub namespace: OpsKey,
    pub key: OpsKey,
}

impl FactKey {
    fn describe(&self) -> String {
        format!("fact {}/{}/{}", self.target_id, self.namespace, self.key)
    }

    fn condition(&self) -> Condition {
        Condition::all()
            .add(facts::Column::TargetId.eq(self.target_id.as_str()))
            .add(facts::Column::Namespace.eq(self.namespace.as_str()))
            .add(facts::Column::Key.eq(self.key.as_str()))
    }
}

/// Unexpired at `at`: no expiry, or one still ahead.
fn alive(at: DateTime<Utc>) -> Condition {
    Condition::any()
        .add(facts::Column::ExpiresAt.is_null())
        .add(facts::Column::ExpiresAt.gt(at.fixed_offset()))
}

/// Checks a TTL in seconds (0 = never expires).
pub fn parse_ttl(ttl: Option<i64>) -> Result<i64> {
    let ttl = ttl.unwrap_or(0);
    if !(0..=TTL_MAX).contains(&ttl) {
        return Err(Error::invalid(
            "ttl",
            format!("must be between 0 (never expires) and {TTL_MAX} seconds"),
        ));
    }
    Ok(ttl)
}

/// Writes a fact; returns it and whether it is new (an expired fact is replaced as new).
#[tracing::instrument(name = "orchestration.facts.put", skip_all)]
pub async fn put(
    db: &DatabaseConnection,
    key: &FactKey,
    value: Value,
    ttl: i64,
) -> Result<(FactView, bool)> {
    let at = now();
    let expires_at = (ttl > 0).then(|| (at + Duration::seconds(ttl)).fixed_offset());
    let txn = begin_write(db).await?;
    let current = facts::Entity::find()
        .filter(key.condition())
        .lock_exclusive()
        .one(&txn)
        .await?;
    let (row, created) = match current {
        Some(current) => {
            let expired = current.expires_at.is_some_and(|e| e.to_utc() <= at);
            let mut row: facts::ActiveModel = current.into();
            row.value = Set(value);
            row.ttl = Set(ttl);
            row.expires_at = Set(expires_at);
            row.updated_at = Set(at.fixed_offset());
            if expired {
                row.created_at = Set(at.fixed_offset());
            }
            (row.update(&txn).await?, expired)
        }
        None => {
            let row = facts::ActiveModel {
                id: Set(Uuid::now_v7().to_string()),
                target_id: Set(key.target_id.as_str().to_string()),
                namespace: Set(key.namespace.as_str().to_string()),
                key: Set(key.key.as_str().to_string()),
                value: Set(value),
                ttl: Set(ttl),
                expires_at: Set(expires_at),
                created_at: Set(at.fixed_offset()),
                updated_at: Set(at.fixed_offset()),
            };
            (row.insert(&txn).await?, true)
        }
    };
    txn.commit().await?;
    Ok((row.into(), created))
}

/// An unexpired fact.
pub async fn get(db: &impl ConnectionTrait, key: &FactKey) -> Result<FactView> {
    facts::Entity::find()
        .filter(key.condition())
        .filter(alive(now()))
        .one(db)
        .await?
        .map(FactView::from)
        .ok_or_else(|| Error::NotFound(key.describe()))
}

/// Deletes an unexpired fact (`404` for one that expired: it no longer exists for anyone).
pub async fn delete(db: &DatabaseConnection, key: &FactKey) -> Result<()> {
    let txn = begin_write(db).await?;
    let deleted = facts::Entity::delete_many()
        .filter(key.condition())
        .filter(alive(now()))
        .exec(&txn)
        .await?
        .rows_affected;
    txn.commit().await?;
    if deleted == 0 {
        return Err(Error::NotFound(key.describe()));
    }
    Ok(())
}

/// Which facts a list shows.
#[derive(Debug, Clone, Default)]
pub struct FactFilter {
    pub target_id: Option<String>,
    pub namespace: Option<String>,
}

/// Key of the fact list: (target, namespace, key), ascending.
pub type FactListKey = (String, String, String);

/// A page of unexpired facts by target, namespace and key.
pub async fn list(
    db: &impl ConnectionTrait,
    filter: &FactFilter,
    page: &PageRequest<FactListKey>,
) -> Result<Page<FactView>> {
    use facts::Column;
    let mut query = facts::Entity::find()
        .filter(alive(now()))
        .limit(page.limit + 1);
    let descending = page.reads_descending(false);
    if let Some((t, n, k)) = page.boundary() {
        let (t, n, k) = (t.as_str(), n.as_str(), k.as_str());
        let past = |c: Column, v: &str| if descending { c.lt(v) } else { c.gt(v) };
        query = query.filter(
            Condition::any()
                .add(past(Column::TargetId, t))
                .add(Column::TargetId.eq(t).and(past(Column::Namespace, n)))
                .add(
                    Column::TargetId
                        .eq(t)
                        .and(Column::Namespace.eq(n))
                        .and(past(Column::Key, k)),
                ),
        );
    }
    for c in [Column::TargetId, Column::Namespace, Column::Key] {
        query = if descending {
            query.order_by_desc(c)
        } else {
            query.order_by_asc(c)
        };
    }
    if let Some(t) = &filter.target_id {
        query = query.filter(Column::TargetId.eq(t.as_str()));
    }
    if let Some(n) = &filter.namespace {
        query = query.filter(Column::Namespace.eq(n.as_str()));
    }
    let rows = query.all(db).await?;
    Ok(Page::from_request(rows, page, |f| {
        (f.target_id.clone(), f.namespace.clone(), f.key.clone())
    })
    .map(FactView::from))
}

/// Deletes every fact expired by now, in batches; returns how many.
pub async fn purge_expired(db: &DatabaseConnection) -> Result<u64> {
    let mut removed = 0;
    loop {
        let at = now().fixed_offset();
        let ids: Vec<String> = facts::Entity::find()
            .select_only()
            .column(facts::Column::Id)
            .filter(facts::Column::ExpiresAt.lte(at))
            .limit(PURGE_BATCH)
            .into_tuple()
            .all(db)
            .await?;
        if ids.is_empty() {
            return Ok(removed);
        }
        let txn = begin_write(db).await?;
        // Re-checked in the DELETE: a fact rewritten meanwhile lives on.
        removed += facts::Entity::delete_many()
            .filter(facts::Column::Id.is_in(ids))
            .filter(facts::Column::ExpiresAt.lte(at))
            .exec(&txn)
            .await?
            .rows_affected;
        txn.commit().await?;
    }
}
