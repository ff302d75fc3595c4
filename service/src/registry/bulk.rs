//! Bulk upserts: all-or-nothing batches written as multi-row `INSERT … ON CONFLICT DO UPDATE`
//! statements in one write transaction, with coalesced events and one audit row per batch.
//!
//! Devices are written by [`super::device_upsert`] (the form each database takes fastest);
//! entities as bound values, under SQLite's 32,766 bound parameters (and PostgreSQL's
//! 65,535): 4,000 entities × 7 columns. One `SELECT` of the chunk's existing ids tells
//! created from updated, for the counts and for the events, except for devices: PostgreSQL's
//! device upsert answers the ids it created itself (or only their number, when no event needs
//! them: [`created_by_count`]), and on SQLite a device write that emits no events counts what
//! it created from the table's row ids ([`created_by_rowid`]): two steps down the table's
//! B-tree per chunk instead of one primary-key lookup per device.

use std::collections::HashSet;

use chrono::{SubsecRound, Utc};
use entity::{devices, entities};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait,
    QueryFilter, QuerySelect, Statement,
};
use serde::Serialize;
use serde_json::json;

use super::input::{DeviceId, DeviceInput, EntityInput, RawDevice, RawEntity};
use super::{device_upsert, events};
use crate::audit::{self, Actor, AuditEntry};
use crate::db::{Backend, begin_bulk_write};
use crate::{Error, FieldError, Result};

const DEVICE_CHUNK: usize = 10_000;
const ENTITY_CHUNK: usize = 4_000;
/// Ids per `IN (…)` lookup.
const LOOKUP_CHUNK: usize = 10_000;

/// What a batch did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct UpsertCounts {
    pub created: u64,
    pub updated: u64,
}

impl UpsertCounts {
    /// Distinct objects written.
    pub fn upserted(&self) -> u64 {
        self.created + self.updated
    }
}

/// Sorts `items` by id and keeps the last item of each id, with the index it had in the
/// request (for error messages). The sort is stable, so repeats of an id stay in request
/// order and the last of each run is the one that wins; no id is copied to find them.
fn last_of_each_id<T, K: Ord + ?Sized>(
    mut items: Vec<(usize, T)>,
    id: impl Fn(&T) -> &K,
) -> Vec<(usize, T)> {
    items.sort_by(|a, b| id(&a.1).cmp(id(&b.1)));
    // `dedup_by` hands over the later item first and drops it when told to; swapping first
    // keeps the later item in the earlier one's place instead.
    items.dedup_by(|later, kept| {
        let repeat = id(&later.1) == id(&kept.1);
        if repeat {
            std::mem::swap(later, kept);
        }
        repeat
    });
    items
}

/// Checks every item of a device batch; all problems or all devices (last duplicate wins),
/// in id order.
pub fn check_devices(raw: Vec<RawDevice>) -> Result<Vec<DeviceInput>> {
    let now = Utc::now();
    let mut errors = Vec::new();
    let checked: Vec<(usize, DeviceInput)> = raw
        .into_iter()
        .enumerate()
        .filter_map(|(i, d)| d.check(Some(i), now, &mut errors).map(|d| (i, d)))
        .collect();
    if !errors.is_empty() {
        return Err(Error::Validation(errors));
    }
    // Every writer takes row locks in id order, so two batches never wait on each other in a
    // cycle (PostgreSQL would abort one as a deadlock).
    Ok(last_of_each_id(checked, |d| d.device_id.as_str())
        .into_iter()
        .map(|(_, d)| d)
        .collect())
}

/// Checks every item of an entity batch; all problems or all entities (last duplicate wins),
/// each with its index in the request, in id order.
pub fn check_entities(raw: Vec<RawEntity>) -> Result<Vec<(usize, EntityInput)>> {
    let mut errors = Vec::new();
    let checked: Vec<(usize, EntityInput)> = raw
        .into_iter()
        .enumerate()
        .filter_map(|(i, e)| e.check(Some(i), &mut errors).map(|e| (i, e)))
        .collect();
    if !errors.is_empty() {
        return Err(Error::Validation(errors));
    }
    Ok(last_of_each_id(checked, |e| e.entity_id.as_str()))
}

/// Which of `ids` exist in `column` of `E`.
async fn existing<E: EntityTrait>(
    txn: &impl ConnectionTrait,
    column: E::Column,
    ids: &[&str],
) -> Result<HashSet<String>> {
    let mut found = HashSet::with_capacity(ids.len());
    for chunk in ids.chunks(LOOKUP_CHUNK) {
        let rows: Vec<String> = E::find()
            .select_only()
            .column(column)
            .filter(column.is_in(chunk.iter().copied()))
            .into_tuple()
            .all(txn)
            .await?;
        found.extend(rows);
    }
    Ok(found)
}

/// Upserts devices (ids distinct) inside `txn`; returns the counts. With `keep_last_seen`,
/// an existing device keeps its `last_seen`.
pub async fn write_devices(
    txn: &impl ConnectionTrait,
    items: &[DeviceInput],
    keep_last_seen: bool,
) -> Result<UpsertCounts> {
    if let Some(counts) = created_by_rowid(txn, items, keep_last_seen).await? {
        return Ok(counts);
    }
    if Backend::of(txn) == Backend::Postgres {
        return created_by_count(txn, items, keep_last_seen).await;
    }
    write_devices_flagged(txn, items, keep_last_seen)
        .await
        .map(|(counts, _)| counts)
}

/// Upserts devices and tells, per device, whether it was created: PostgreSQL's upsert
/// answers the ids it created; on SQLite the chunk's existing ids are read before each write.
async fn write_devices_flagged(
    txn: &impl ConnectionTrait,
    items: &[DeviceInput],
    keep_last_seen: bool,
) -> Result<(UpsertCounts, Vec<bool>)> {
    let now = Utc::now().trunc_subsecs(6).fixed_offset();
    let mut counts = UpsertCounts::default();
    let mut created = Vec::with_capacity(items.len());
    for chunk in items.chunks(DEVICE_CHUNK) {
        let ids: Vec<&str> = chunk.iter().map(|d| d.device_id.as_str()).collect();
        let new: HashSet<String> = if Backend::of(txn) == Backend::Postgres {
            device_upsert::upsert(txn, chunk, now, keep_last_seen)
                .await?
                .unwrap_or_default()
        } else {
            let found = existing::<devices::Entity>(txn, devices::Column::DeviceId, &ids).await?;
            device_upsert::upsert(txn, chunk, now, keep_last_seen).await?;
            ids.iter()
                .filter(|id| !found.contains(**id))
                .map(|id| (*id).to_owned())
                .collect()
        };
        for id in ids {
            let is_new = new.contains(id);
            created.push(is_new);
            if is_new {
                counts.created += 1;
            } else {
                counts.updated += 1;
            }
        }
    }
    Ok((counts, created))
}

/// SQLite only: upserts devices and counts those created from the table's row ids. SQLite
/// gives a new row the id one past the highest in the table, so a write that created `n`
/// devices raised the highest id by exactly `n`, and updates leave ids alone. `None`, with
/// nothing written, on PostgreSQL, for a single device (reading its id first is one query
/// where the row ids take two), or should the ids near the top of their range (where SQLite
/// would pick free ids at random).
async fn created_by_rowid(
    txn: &impl ConnectionTrait,
    items: &[DeviceInput],
    keep_last_seen: bool,
) -> Result<Option<UpsertCounts>> {
    if Backend::of(txn) != Backend::Sqlite || items.len() < 2 {
        return Ok(None);
    }
    let before = highest_device_rowid(txn).await?;
    let total = items.len() as u64;
    if before.checked_add(total as i64).is_none() {
        return Ok(None);
    }
    let now = Utc::now().trunc_subsecs(6).fixed_offset();
    device_upsert::upsert(txn, items, now, keep_last_seen).await?;
    let created = highest_device_rowid(txn).await?.abs_diff(before);
    Ok(Some(UpsertCounts {
        created,
        updated: total.saturating_sub(created),
    }))
}

/// PostgreSQL only: upserts devices, each chunk's statement answering how many it created.
async fn created_by_count(
    txn: &impl ConnectionTrait,
    items: &[DeviceInput],
    keep_last_seen: bool,
) -> Result<UpsertCounts> {
    let now = Utc::now().trunc_subsecs(6).fixed_offset();
    let mut created = 0;
    for chunk in items.chunks(DEVICE_CHUNK) {
        created += device_upsert::upsert_counting_created(txn, chunk, now, keep_last_seen).await?;
    }
    Ok(UpsertCounts {
        created,
        updated: (items.len() as u64).saturating_sub(created),
    })
}

/// The highest row id of `devices` (0 when empty): one step down the table's B-tree.
async fn highest_device_rowid(txn: &impl ConnectionTrait) -> Result<i64> {
    let row = txn
        .query_one_raw(Statement::from_string(
            DbBackend::Sqlite,
            "SELECT coalesce(max(rowid), 0) AS highest FROM devices",
        ))
        .await?
        .ok_or_else(|| Error::internal("max(rowid) answered no row"))?;
    Ok(row.try_get("", "highest")?)
}

/// Refuses entities whose device does not exist (`index` tags batch items).
async fn check_devices_exist(
    txn: &impl ConnectionTrait,
    items: &[(Option<usize>, &EntityInput)],
) -> Result<()> {
    let wanted: Vec<&str> = items
        .iter()
        .filter_map(|(_, e)| e.device_id.as_ref().map(DeviceId::as_str))
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    if wanted.is_empty() {
        return Ok(());
    }
    let found = existing::<devices::Entity>(txn, devices::Column::DeviceId, &wanted).await?;
    let missing: Vec<FieldError> = items
        .iter()
        .filter_map(|(index, e)| {
            let id = e.device_id.as_ref()?.as_str();
            (!found.contains(id)).then(|| {
                let message = format!("there is no device {id}");
                match index {
                    Some(i) => FieldError::at(*i, "device_id", message),
                    None => FieldError::new("device_id", message),
                }
            })
        })
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(Error::Validation(missing))
    }
}

/// Upserts entities (ids distinct) inside `txn` after checking that their devices exist.
pub async fn write_entities(
    txn: &impl ConnectionTrait,
    items: &[EntityInput],
) -> Result<UpsertCounts> {
    let tagged: Vec<(Option<usize>, &EntityInput)> = items.iter().map(|e| (None, e)).collect();
    write_entities_tagged(txn, &tagged).await
}

async fn write_entities_tagged(
    txn: &impl ConnectionTrait,
    items: &[(Option<usize>, &EntityInput)],
) -> Result<UpsertCounts> {
    use entities::Column as C;
    check_devices_exist(txn, items).await?;
    let now = Utc::now().trunc_subsecs(6).fixed_offset();
    let mut counts = UpsertCounts::default();
    for chunk in items.chunks(ENTITY_CHUNK) {
        let ids: Vec<&str> = chunk.iter().map(|(_, e)| e.entity_id.as_str()).collect();
        let found = existing::<entities::Entity>(txn, C::EntityId, &ids).await?;
        counts.created += ids.iter().filter(|id| !found.contains(**id)).count() as u64;
        counts.updated += ids.iter().filter(|id| found.contains(**id)).count() as u64;
        let rows = chunk.iter().map(|(_, e)| entities::ActiveModel {
            entity_id: Set(e.entity_id.as_str().to_owned()),
            device_id: Set(e.device_id.as_ref().map(|d| d.as_str().to_owned())),
            domain: Set(e.domain.clone()),
            platform: Set(e.platform.clone()),
            disabled: Set(e.disabled),
            created_at: Set(now),
            updated_at: Set(now),
        });
        entities::Entity::insert_many(rows)
            .on_conflict(
                OnConflict::column(C::EntityId)
                    .update_columns([
                        C::DeviceId,
                        C::Domain,
                        C::Platform,
                        C::Disabled,
                        C::UpdatedAt,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(txn)
            .await?;
    }
    Ok(counts)
}

/// Devices of a batch inside `txn`, with their coalesced events (one per device) when a
/// webhook subscribes to them.
pub async fn upsert_devices_in(
    txn: &impl ConnectionTrait,
    items: &[DeviceInput],
    keep_last_seen: bool,
) -> Result<UpsertCounts> {
    if items.is_empty() || !events::device_events_wanted(txn).await? {
        return write_devices(txn, items, keep_last_seen).await;
    }
    let (counts, created) = write_devices_flagged(txn, items, keep_last_seen).await?;
    events::devices_upserted(txn, items, &created, Utc::now()).await?;
    Ok(counts)
}

/// Entities of a batch (each with its request index) inside `txn`.
pub async fn upsert_entities_in(
    txn: &impl ConnectionTrait,
    items: &[(usize, EntityInput)],
) -> Result<UpsertCounts> {
    let tagged: Vec<(Option<usize>, &EntityInput)> =
        items.iter().map(|(i, e)| (Some(*i), e)).collect();
    write_entities_tagged(txn, &tagged).await
}

/// `POST /internal/devices/bulk_upsert`: checks everything, then writes everything or nothing.
#[tracing::instrument(name = "registry.devices.bulk_upsert", skip_all, fields(items = raw.len()))]
pub async fn upsert_devices(
    db: &DatabaseConnection,
    actor: &Actor,
    ip: Option<String>,
    raw: Vec<RawDevice>,
) -> Result<UpsertCounts> {
    let received = raw.len();
    let items = check_devices(raw)?;
    let txn = begin_bulk_write(db).await?;
    let counts = upsert_devices_in(&txn, &items, false).await?;
    let entry = batch_entry("device.bulk_upserted", actor, ip, received, counts);
    // The batch's events are already queued, item by item, by the upsert itself.
    audit::commit_audited(txn, entry, &[]).await?;
    Ok(counts)
}

/// `POST /internal/entities/bulk_upsert`: checks everything, then writes everything or nothing.
#[tracing::instrument(name = "registry.entities.bulk_upsert", skip_all, fields(items = raw.len()))]
pub async fn upsert_entities(
    db: &DatabaseConnection,
    actor: &Actor,
    ip: Option<String>,
    raw: Vec<RawEntity>,
) -> Result<UpsertCounts> {
    let received = raw.len();
    let items = check_entities(raw)?;
    let txn = begin_bulk_write(db).await?;
    let counts = upsert_entities_in(&txn, &items).await?;
    let entry = batch_entry("entity.bulk_upserted", actor, ip, received, counts);
    // The batch's events are already queued, item by item, by the upsert itself.
    audit::commit_audited(txn, entry, &[]).await?;
    Ok(counts)
}

/// One audit row per batch, with its counts (never one per item).
fn batch_entry(
    action: &'static str,
    actor: &Actor,
    ip: Option<String>,
    received: usize,
    counts: UpsertCounts,
) -> AuditEntry {
    AuditEntry::new(action, actor)
        .details(json!({"received": received, "upserted": counts.upserted(),
            "created": counts.created, "updated": counts.updated}))
        .ip(ip)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_duplicate_of_each_id_wins_in_id_order() {
        let items = vec![
            (0, ("c", 1)),
            (1, ("a", 1)),
            (2, ("b", 1)),
            (3, ("a", 2)),
            (4, ("c", 2)),
            (5, ("a", 3)),
        ];
        let out = last_of_each_id(items, |(id, _)| *id);
        assert_eq!(out, vec![(5, ("a", 3)), (2, ("b", 1)), (4, ("c", 2))]);
    }

    #[test]
    fn a_batch_with_one_bad_item_names_it_and_keeps_nothing() {
        let good = |id: &str| RawDevice {
            device_id: Some(id.into()),
            name: Some("n".into()),
            ..Default::default()
        };
        let bad = RawDevice {
            device_id: Some("bad id".into()),
            name: Some("".into()),
            ..Default::default()
        };
        let Err(Error::Validation(errors)) = check_devices(vec![good("a"), bad, good("c")]) else {
            panic!("the batch is refused");
        };
        assert!(errors.iter().all(|e| e.index == Some(1)));
        assert_eq!(errors.len(), 2);
    }

    #[tokio::test]
    async fn counts_tell_created_from_updated_with_and_without_flags() {
        let (_dir, _path, db) = crate::db::migrated_file_database().await;
        let devices = |ids: &[&str]| -> Vec<DeviceInput> {
            let raw = ids
                .iter()
                .map(|id| RawDevice {
                    device_id: Some((*id).into()),
                    name: Some(format!("device {id}")),
                    ..Default::default()
                })
                .collect();
            check_devices(raw).unwrap()
        };
        let write = |items: Vec<DeviceInput>, flagged: bool| {
            let db = db.clone();
            async move {
                let txn = crate::db::begin_write(&db).await.unwrap();
                let counts = if flagged {
                    write_devices_flagged(&txn, &items, false).await.unwrap().0
                } else {
                    write_devices(&txn, &items, false).await.unwrap()
                };
                txn.commit().await.unwrap();
                (counts.created, counts.updated)
            }
        };
        assert_eq!(write(devices(&["a", "b", "c"]), false).await, (3, 0));
        assert_eq!(write(devices(&["b", "c", "d", "e"]), false).await, (2, 2));
        assert_eq!(write(devices(&["e", "f"]), true).await, (1, 1));
        assert_eq!(write(devices(&["a", "g"]), false).await, (1, 1));
        assert_eq!(write(devices(&["a"]), false).await, (0, 1));
    }
}
