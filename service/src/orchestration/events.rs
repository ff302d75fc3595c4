//! The append-only event log: appends of one event or up to 10,000 in one transaction (all
//! or nothing), and the tail, oldest first after an id, with its filters. The database
//! itself refuses to change or delete an event (see the migration's guard).

use chrono::{DateTime, Utc};
use entity::events;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::status::Level;
use super::{now, runs};
use crate::db::begin_bulk_write;
use crate::pagination::{Page, encode_cursor};
use crate::{Error, Result};

/// Most events one append may carry.
pub const MAX_BATCH: usize = 10_000;
/// Rows per INSERT: 6 bound columns each stays under SQLite's 32,766 parameters.
const INSERT_CHUNK: usize = 2_000;

/// An event as the API renders it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EventView {
    pub id: i64,
    pub run_id: Option<String>,
    pub plan_unit_id: Option<String>,
    pub level: Level,
    pub message: String,
    #[schema(value_type = Object)]
    pub details: Value,
    pub timestamp: DateTime<Utc>,
}

impl From<events::Model> for EventView {
    fn from(e: events::Model) -> Self {
        Self {
            id: e.id,
            run_id: e.run_id,
            plan_unit_id: e.plan_unit_id,
            level: Level::parse(&e.level, "level").unwrap_or(Level::Info),
            message: e.message,
            details: e
                .details
                .unwrap_or_else(|| Value::Object(Default::default())),
            timestamp: e.timestamp.to_utc(),
        }
    }
}

/// An event to append, validated.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub run_id: Option<String>,
    pub plan_unit_id: Option<String>,
    pub level: Level,
    pub message: String,
    /// A JSON object.
    pub details: Value,
    /// Default: the time of the append.
    pub timestamp: Option<DateTime<Utc>>,
}

/// What an append wrote.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub struct Appended {
    pub appended: usize,
    pub first_id: Option<i64>,
    pub last_id: Option<i64>,
}

/// Appends `batch` in one transaction: every event or none. The runs the events name count
/// as heard from.
#[tracing::instrument(name = "orchestration.events.append", skip_all, fields(count = batch.len()))]
pub async fn append(db: &DatabaseConnection, batch: Vec<NewEvent>) -> Result<Appended> {
    if batch.len() > MAX_BATCH {
        return Err(Error::invalid(
            "body",
            format!("may carry at most {MAX_BATCH} events"),
        ));
    }
    let at = now();
    let mut run_ids: Vec<&str> = batch.iter().filter_map(|e| e.run_id.as_deref()).collect();
    run_ids.sort_unstable();
    run_ids.dedup();
    let txn = begin_bulk_write(db).await?;
    let (mut first_id, mut last_id) = (None, None);
    for chunk in batch.chunks(INSERT_CHUNK) {
        let rows = chunk.iter().map(|e| events::ActiveModel {
            run_id: Set(e.run_id.clone()),
            plan_unit_id: Set(e.plan_unit_id.clone()),
            level: Set(e.level.as_str().into()),
            message: Set(e.message.clone()),
            details: Set(Some(e.details.clone())),
            timestamp: Set(e.timestamp.unwrap_or(at).fixed_offset()),
            ..Default::default()
        });
        let ids = events::Entity::insert_many(rows)
            .exec_with_returning_keys(&txn)
            .await?;
        first_id = first_id.or_else(|| ids.iter().copied().min());
        last_id = ids.iter().copied().max().or(last_id);
    }
    runs::touch(&txn, &run_ids, at).await?;
    txn.commit().await?;
    Ok(Appended {
        appended: batch.len(),
        first_id,
        last_id,
    })
}

/// What the tail shows.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    pub run_id: Option<String>,
    pub plan_unit_id: Option<String>,
    /// Exactly this level.
    pub level: Option<Level>,
    /// This level and above (`warn` → warn and error).
    pub min_level: Option<Level>,
}

/// Where a read of the log starts.
#[derive(Debug, Clone, Copy)]
pub enum Start {
    /// Events with a larger id, oldest first (a follower passes the last id it saw).
    After(i64),
    /// The newest events with a smaller id, still answered oldest first (paging back).
    Before(i64),
}

/// A page of the log, oldest first; `next_cursor` is the last id's cursor when more follow
/// (reading forward) or the first id's when older ones precede (reading back).
pub async fn tail(
    db: &impl ConnectionTrait,
    filter: &EventFilter,
    from: Start,
    limit: u64,
) -> Result<Page<EventView>> {
    use events::Column;
    let mut query = events::Entity::find().limit(limit + 1);
    query = match from {
        Start::After(id) => query.filter(Column::Id.gt(id)).order_by_asc(Column::Id),
        Start::Before(id) => query.filter(Column::Id.lt(id)).order_by_desc(Column::Id),
    };
    if let Some(run) = &filter.run_id {
        query = query.filter(Column::RunId.eq(run.as_str()));
    }
    if let Some(unit) = &filter.plan_unit_id {
        query = query.filter(Column::PlanUnitId.eq(unit.as_str()));
    }
    if let Some(level) = filter.level {
        query = query.filter(Column::Level.eq(level.as_str()));
    }
    if let Some(min) = filter.min_level {
        query = query.filter(Column::Level.is_in(min.and_above()));
    }
    let mut rows: Vec<EventView> = query
        .all(db)
        .await?
        .into_iter()
        .map(EventView::from)
        .collect();
    let more = rows.len() as u64 > limit;
    rows.truncate(limit as usize);
    let next_cursor = match from {
        Start::After(_) => more
            .then(|| rows.last().map(|e| encode_cursor(&e.id)))
            .flatten(),
        Start::Before(_) => {
            rows.reverse();
            more.then(|| rows.first().map(|e| encode_cursor(&e.id)))
                .flatten()
        }
    };
    Ok(Page {
        items: rows,
        next_cursor,
        prev_cursor: None,
    })
}

/// The newest `n` events of a run, oldest first.
pub async fn last_of_run(
    db: &impl ConnectionTrait,
    run_id: &str,
    n: u64,
) -> Result<Vec<EventView>> {
    let filter = EventFilter {
        run_id: Some(run_id.to_string()),
        ..Default::default()
    };
    Ok(tail(db, &filter, Start::Before(i64::MAX), n).await?.items)
}
