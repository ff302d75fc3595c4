//! The purge: deletes what has expired and what the retention policies no longer keep
//! (spec 09), for `metadeck purge`, the sweeper and the `/system` button alike.
//!
//! Every kind is deleted in batches of [`BATCH`] rows, each in a short write transaction of
//! its own (on SQLite, one writer turn each), so a concurrent write waits for one batch at
//! most, never for the whole purge. A kind with nothing to delete takes no writer turn at all:
//! a read on the pool finds that out first.

use chrono::{DateTime, Duration, Utc};
use entity::{
    audit, audit_anchors, events, oauth_access_tokens, oauth_audit_logs, oauth_authorization_codes,
    oauth_device_codes, oauth_refresh_tokens, sessions, sync_history, webhook_deliveries,
};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, QueryTrait, Set,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::retention::{Policy, RetentionSettings, in_force};
use crate::Result;
use crate::db::begin_write;
use crate::orchestration::facts;

/// Rows deleted per transaction.
pub const BATCH: u64 = 500;
/// How long expired tokens and codes stay after their expiry (or a code after its use), so
/// that a replayed one is still recognised as such for a while.
const TOKEN_GRACE: Duration = Duration::days(1);
/// The newest sync history rows of each tenant that stay whatever their age.
pub const SYNC_HISTORY_FLOOR: u64 = 100;

/// Rows removed, by kind (payloads: payloads dropped from delivery rows that stay). Read
/// back from the sweeper's `worker_runs` details, where a kind missing counts 0.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct Removed {
    pub sessions: u64,
    pub access_tokens: u64,
    pub refresh_tokens: u64,
    pub authorization_codes: u64,
    pub device_codes: u64,
    pub facts: u64,
    pub sync_history: u64,
    pub webhook_deliveries: u64,
    pub webhook_payloads: u64,
    pub events: u64,
    pub oauth_audit_logs: u64,
    pub audit: u64,
}

impl Removed {
    /// Each kind with its count, in the report's order.
    pub fn kinds(&self) -> [(&'static str, u64); 12] {
        [
            ("sessions", self.sessions),
            ("access_tokens", self.access_tokens),
            ("refresh_tokens", self.refresh_tokens),
            ("authorization_codes", self.authorization_codes),
            ("device_codes", self.device_codes),
            ("facts", self.facts),
            ("sync_history", self.sync_history),
            ("webhook_deliveries", self.webhook_deliveries),
            ("webhook_payloads", self.webhook_payloads),
            ("events", self.events),
            ("oauth_audit_logs", self.oauth_audit_logs),
            ("audit", self.audit),
        ]
    }

    /// Everything removed, all kinds together.
    pub fn total(&self) -> u64 {
        self.kinds().iter().map(|(_, n)| n).sum()
    }

    /// "3 sessions, 120 events" (the kinds with something removed), or "nothing".
    pub fn summary(&self) -> String {
        let parts: Vec<String> = self
            .kinds()
            .iter()
            .filter(|(_, n)| *n > 0)
            .map(|(kind, n)| format!("{n} {}", kind.replace('_', " ")))
            .collect();
        if parts.is_empty() {
            "nothing".into()
        } else {
            parts.join(", ")
        }
    }
}

/// What one purge removed: spec 09's `{"removed": {…}}`.
#[derive(Debug, Clone, Copy, Default, Serialize, ToSchema)]
pub struct PurgeReport {
    pub removed: Removed,
}

/// One purge run: every expired kind, then every retention policy as it applies now.
#[tracing::instrument(skip_all)]
pub async fn purge(db: &DatabaseConnection, settings: &RetentionSettings) -> Result<PurgeReport> {
    purge_at(db, settings, Utc::now()).await
}

/// [`purge`] with the windows measured back from `now` (tests place rows either side of a
/// window's edge this way). Expired facts go by the clock: a fact's expiry is its own.
pub async fn purge_at(
    db: &DatabaseConnection,
    settings: &RetentionSettings,
    now: DateTime<Utc>,
) -> Result<PurgeReport> {
    let policies = in_force(db, settings).await?;
    let cutoff = |policy: Policy| policies.get(&policy).and_then(|days| days.cutoff(now));
    let grace = (now - TOKEN_GRACE).fixed_offset();
    let mut removed = Removed {
        sessions: delete_batches::<sessions::Entity>(
            db,
            sessions::Column::SessionId,
            sessions::Column::ExpiresAt.lt(now.fixed_offset()).into(),
            None,
        )
        .await?,
        access_tokens: delete_batches::<oauth_access_tokens::Entity>(
            db,
            oauth_access_tokens::Column::Id,
            oauth_access_tokens::Column::ExpiresAt.lt(grace).into(),
            None,
        )
        .await?,
        refresh_tokens: delete_batches::<oauth_refresh_tokens::Entity>(
            db,
            oauth_refresh_tokens::Column::Id,
            oauth_refresh_tokens::Column::ExpiresAt.lt(grace).into(),
            None,
        )
        .await?,
        authorization_codes: delete_batches::<oauth_authorization_codes::Entity>(
            db,
            oauth_authorization_codes::Column::Id,
            Condition::any()
                .add(oauth_authorization_codes::Column::ExpiresAt.lt(grace))
                .add(oauth_authorization_codes::Column::ConsumedAt.lt(grace)),
            None,
        )
        .await?,
        device_codes: delete_batches::<oauth_device_codes::Entity>(
            db,
            oauth_device_codes::Column::Id,
            oauth_device_codes::Column::ExpiresAt.lt(grace).into(),
            None,
        )
        .await?,
        facts: facts::purge_expired(db).await?,
        ..Removed::default()
    };
    if let Some(before) = cutoff(Policy::SyncHistory) {
        removed.sync_history = purge_sync_history(db, before).await?;
    }
    if let Some(before) = cutoff(Policy::WebhookDeliveries) {
        removed.webhook_deliveries = delete_batches::<webhook_deliveries::Entity>(
            db,
            webhook_deliveries::Column::Id,
            webhook_deliveries::Column::CreatedAt
                .lt(before.fixed_offset())
                .into(),
            None,
        )
        .await?;
    }
    if let Some(before) = cutoff(Policy::WebhookPayloads) {
        removed.webhook_payloads = drop_payloads(db, before).await?;
    }
    if let Some(before) = cutoff(Policy::Events) {
        removed.events = delete_batches::<events::Entity>(
            db,
            events::Column::Id,
            events::Column::Timestamp.lt(before.fixed_offset()).into(),
            Some("events"),
        )
        .await?;
    }
    if let Some(before) = cutoff(Policy::OauthAuditLogs) {
        removed.oauth_audit_logs = delete_batches::<oauth_audit_logs::Entity>(
            db,
            oauth_audit_logs::Column::Id,
            oauth_audit_logs::Column::CreatedAt
                .lt(before.fixed_offset())
                .into(),
            Some("oauth_audit_logs"),
        )
        .await?;
    }
    if let Some(before) = cutoff(Policy::Audit) {
        removed.audit = purge_audit(db, before).await?;
    }
    Ok(PurgeReport { removed })
}

/// Deletes the rows of `E` matching `condition`, [`BATCH`] at a time, each batch in a write
/// transaction of its own. `guarded` names an append-only table, whose rows may be deleted
/// only while its purge permit exists, inside the purge's own transaction.
async fn delete_batches<E: EntityTrait>(
    db: &DatabaseConnection,
    key: E::Column,
    condition: Condition,
    guarded: Option<&'static str>,
) -> Result<u64> {
    if E::find().filter(condition.clone()).one(db).await?.is_none() {
        return Ok(0);
    }
    let mut removed = 0;
    loop {
        let batch = E::find()
            .select_only()
            .column(key)
            .filter(condition.clone())
            .limit(BATCH)
            .into_query();
        let txn = begin_write(db).await?;
        permit(&txn, guarded, true).await?;
        let deleted = E::delete_many()
            .filter(key.in_subquery(batch))
            .exec(&txn)
            .await?
            .rows_affected;
        permit(&txn, guarded, false).await?;
        txn.commit().await?;
        removed += deleted;
        if deleted < BATCH {
            return Ok(removed);
        }
    }
}

/// Grants (`grant`) or withdraws the purge permit of the append-only `table`, inside the
/// purge's transaction: no other connection ever sees it.
async fn permit(db: &impl ConnectionTrait, table: Option<&str>, grant: bool) -> Result<()> {
    use entity::purge_permits;
    let Some(table) = table else { return Ok(()) };
    if grant {
        purge_permits::Entity::insert(purge_permits::ActiveModel {
            table_name: Set(table.to_string()),
        })
        .exec_without_returning(db)
        .await?;
    } else {
        purge_permits::Entity::delete_by_id(table.to_string())
            .exec(db)
            .await?;
    }
    Ok(())
}

/// Sync history older than `before`, except the newest [`SYNC_HISTORY_FLOOR`] rows of each
/// tenant: per tenant, the floor's oldest row is found on the (tenant, start) index, and
/// only rows older than it and than `before` go.
async fn purge_sync_history(db: &DatabaseConnection, before: DateTime<Utc>) -> Result<u64> {
    use sync_history::Column;
    let before = before.fixed_offset();
    let tenants: Vec<String> = sync_history::Entity::find()
        .select_only()
        .column(Column::TenantId)
        .distinct()
        .filter(Column::StartTime.lt(before))
        .into_tuple()
        .all(db)
        .await?;
    let mut removed = 0;
    for tenant in tenants {
        let floor: Option<(i64, chrono::DateTime<chrono::FixedOffset>)> =
            sync_history::Entity::find()
                .select_only()
                .columns([Column::Id, Column::StartTime])
                .filter(Column::TenantId.eq(tenant.as_str()))
                .order_by_desc(Column::StartTime)
                .order_by_desc(Column::Id)
                .offset(SYNC_HISTORY_FLOOR - 1)
                .limit(1)
                .into_tuple()
                .one(db)
                .await?;
        let Some((floor_id, floor_start)) = floor else {
            continue;
        };
        let older_than_floor = Condition::any().add(Column::StartTime.lt(floor_start)).add(
            Condition::all()
                .add(Column::StartTime.eq(floor_start))
                .add(Column::Id.lt(floor_id)),
        );
        removed += delete_batches::<sync_history::Entity>(
            db,
            Column::Id,
            Condition::all()
                .add(Column::TenantId.eq(tenant.as_str()))
                .add(Column::StartTime.lt(before))
                .add(older_than_floor),
            None,
        )
        .await?;
    }
    Ok(removed)
}

/// Drops the payloads of deliveries that succeeded before `before`; the rows stay in the
/// delivery log.
async fn drop_payloads(db: &DatabaseConnection, before: DateTime<Utc>) -> Result<u64> {
    use webhook_deliveries::Column;
    let condition = Condition::all()
        .add(Column::Status.eq(crate::webhooks::deliveries::DeliveryStatus::Succeeded.as_str()))
        .add(Column::Payload.is_not_null())
        .add(Column::CreatedAt.lt(before.fixed_offset()));
    let mut dropped = 0;
    loop {
        let batch = webhook_deliveries::Entity::find()
            .select_only()
            .column(Column::Id)
            .filter(condition.clone())
            .limit(BATCH)
            .into_query();
        if webhook_deliveries::Entity::find()
            .filter(condition.clone())
            .one(db)
            .await?
            .is_none()
        {
            return Ok(dropped);
        }
        let txn = begin_write(db).await?;
        let changed = webhook_deliveries::Entity::update_many()
            .set(webhook_deliveries::ActiveModel {
                payload: Set(None),
                ..Default::default()
            })
            .filter(Column::Id.in_subquery(batch))
            .exec(&txn)
            .await?
            .rows_affected;
        txn.commit().await?;
        dropped += changed;
        if changed < BATCH {
            return Ok(dropped);
        }
    }
}

/// The audit trail's rows older than `before`, oldest first and only as a prefix of the
/// trail (never a row after one that stays), so that the rows left still chain on from the
/// last one removed. That row's hash is recorded in `audit_anchors` in the same transaction;
/// the chain's check starts from it. Only the newest anchor is kept: older ones name rows
/// that came before it.
async fn purge_audit(db: &DatabaseConnection, before: DateTime<Utc>) -> Result<u64> {
    use audit::Column;
    let mut removed = 0;
    loop {
        let oldest: Vec<(i64, chrono::DateTime<chrono::FixedOffset>, String)> =
            audit::Entity::find()
                .select_only()
                .columns([Column::Id, Column::Timestamp, Column::RowHash])
                .order_by_asc(Column::Id)
                .limit(BATCH)
                .into_tuple()
                .all(db)
                .await?;
        let expired = oldest
            .iter()
            .take_while(|(_, at, _)| at.to_utc() < before)
            .count();
        let Some((last_id, _, last_hash)) = expired.checked_sub(1).map(|i| &oldest[i]) else {
            return Ok(removed);
        };
        let txn = begin_write(db).await?;
        permit(&txn, Some("audit"), true).await?;
        let deleted = audit::Entity::delete_many()
            .filter(Column::Id.lte(*last_id))
            .exec(&txn)
            .await?
            .rows_affected;
        permit(&txn, Some("audit"), false).await?;
        let anchor = audit_anchors::Entity::insert(audit_anchors::ActiveModel {
            last_purged_id: Set(*last_id),
            last_purged_hash: Set(last_hash.clone()),
            purged_at: Set(Utc::now().fixed_offset()),
            ..Default::default()
        })
        .exec(&txn)
        .await?
        .last_insert_id;
        audit_anchors::Entity::delete_many()
            .filter(audit_anchors::Column::Id.lt(anchor))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        removed += deleted;
        if expired < oldest.len() || oldest.len() < BATCH as usize {
            return Ok(removed);
        }
    }
}
