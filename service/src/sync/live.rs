//! What the live dashboard shows, and how a process notices that it changed — whichever
//! instance made the change.
//!
//! A [`ChangeMark`] is a cheap fingerprint of everything a change can touch: the highest id
//! (a new sync) and the `(id, updated_at)` of every running sync (a report, a status change,
//! which also removes the sync from the running set). Comparing two marks names the tenants
//! whose cards must be reloaded. Reading a mark costs two index lookups plus one row per
//! running sync (at most one per tenant), so polling it a few times a second is negligible.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use entity::sync_history::{self, Column};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use serde::Serialize;
use utoipa::ToSchema;

use super::model::{EntityCounts, SyncRecord, SyncStatus};
use super::query::{last_error, status_of, tenant_ids};
use crate::Result;
use crate::pagination::MAX_LIMIT;

/// One tenant's card on the dashboard: the status answer plus the last error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct TenantCard {
    pub tenant_id: String,
    /// `running`, `completed`, `failed`, `canceled`, or `never`.
    pub status: String,
    /// 0–100.
    pub progress: i64,
    pub entity_counts: EntityCounts,
    /// The running sync, or the latest one.
    pub sync: Option<SyncRecord>,
    /// The last completed sync.
    pub last_completed: Option<SyncRecord>,
    /// The newest sync that recorded an error.
    pub last_error: Option<SyncRecord>,
}

/// The card of `tenant`.
pub async fn card(db: &impl ConnectionTrait, tenant: &str) -> Result<TenantCard> {
    let answer = status_of(db, tenant).await?;
    let last_error = match &answer.sync {
        Some(s) if s.error_details.is_some() => Some(s.clone()),
        _ => last_error(db, tenant).await?,
    };
    Ok(TenantCard {
        tenant_id: answer.tenant_id,
        status: answer.status,
        progress: answer.progress,
        entity_counts: answer.entity_counts,
        sync: answer.sync,
        last_completed: answer.last_completed,
        last_error,
    })
}

/// Every tenant's card, by tenant id.
pub async fn cards(db: &impl ConnectionTrait) -> Result<Vec<TenantCard>> {
    let mut out = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let ids = tenant_ids(db, after.as_deref(), MAX_LIMIT).await?;
        for tenant in &ids {
            out.push(card(db, tenant).await?);
        }
        if (ids.len() as u64) < MAX_LIMIT {
            return Ok(out);
        }
        after = ids.last().cloned();
    }
}

/// The cards of `tenants`, in their order.
pub async fn cards_of(
    db: &impl ConnectionTrait,
    tenants: impl IntoIterator<Item = &String>,
) -> Result<Vec<TenantCard>> {
    let mut out = Vec::new();
    for tenant in tenants {
        out.push(card(db, tenant).await?);
    }
    Ok(out)
}

/// A fingerprint of the sync table; see the module documentation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChangeMark {
    max_id: i64,
    /// Running syncs: id → (tenant, updated_at).
    running: BTreeMap<i64, (String, DateTime<Utc>)>,
}

impl ChangeMark {
    /// True when syncs were deleted since `old` (a purge): marks then cannot say which
    /// tenants changed.
    pub fn shrank_since(&self, old: &ChangeMark) -> bool {
        self.max_id < old.max_id
    }
}

/// Reads the current mark.
pub async fn change_mark(db: &impl ConnectionTrait) -> Result<ChangeMark> {
    let max_id: Option<i64> = sync_history::Entity::find()
        .select_only()
        .column_as(Column::Id.max(), "max_id")
        .into_tuple()
        .one(db)
        .await?
        .flatten();
    let running: Vec<(i64, String, sea_orm::prelude::DateTimeWithTimeZone)> =
        sync_history::Entity::find()
            .select_only()
            .columns([Column::Id, Column::TenantId, Column::UpdatedAt])
            .filter(Column::Status.eq(SyncStatus::Running.as_str()))
            .into_tuple()
            .all(db)
            .await?;
    Ok(ChangeMark {
        max_id: max_id.unwrap_or(0),
        running: running
            .into_iter()
            .map(|(id, tenant, at)| (id, (tenant, at.to_utc())))
            .collect(),
    })
}

/// The tenants whose cards differ between `old` and `new`.
pub async fn changed_tenants(
    db: &impl ConnectionTrait,
    old: &ChangeMark,
    new: &ChangeMark,
) -> Result<BTreeSet<String>> {
    let mut tenants = BTreeSet::new();
    // Reports on running syncs, and syncs that started running.
    for (id, entry) in &new.running {
        if old.running.get(id) != Some(entry) {
            tenants.insert(entry.0.clone());
        }
    }
    // Syncs that stopped running.
    for (id, (tenant, _)) in &old.running {
        if !new.running.contains_key(id) {
            tenants.insert(tenant.clone());
        }
    }
    // Syncs created since (including ones that already finished).
    if new.max_id > old.max_id {
        let created: Vec<String> = sync_history::Entity::find()
            .select_only()
            .column(Column::TenantId)
            .distinct()
            .filter(Column::Id.gt(old.max_id))
            .into_tuple()
            .all(db)
            .await?;
        tenants.extend(created);
    }
    Ok(tenants)
}
