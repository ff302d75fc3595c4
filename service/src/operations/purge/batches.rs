//! The purge's batches: each a short write transaction of its own, on SQLite one writer turn,
//! so a concurrent write waits for one batch at most.

use chrono::{DateTime, Utc};
use entity::{audit, audit_anchors, sync_history, webhook_deliveries};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, QueryTrait, Set,
};

use super::{BATCH, SYNC_HISTORY_FLOOR};
use crate::Result;
use crate::db::begin_write;

/// Deletes the rows of `E` matching `condition`, [`BATCH`] at a time, each batch in a write
/// transaction of its own. `guarded` names an append-only table, whose rows may be deleted
/// only while its purge permit exists, inside the purge's own transaction.
pub(super) async fn delete_batches<E: EntityTrait>(
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
pub(super) async fn purge_sync_history(
    db: &DatabaseConnection,
    before: DateTime<Utc>,
) -> Result<u64> {
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
pub(super) async fn drop_payloads(db: &DatabaseConnection, before: DateTime<Utc>) -> Result<u64> {
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
pub(super) async fn purge_audit(db: &DatabaseConnection, before: DateTime<Utc>) -> Result<u64> {
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
