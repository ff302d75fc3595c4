//! The append-only event log: appends of one event or up to 10,000 in one transaction (all
//! or nothing), and the tail, oldest first after an id, with its filters. The database
//! itself refuses to change or delete an event (see the migration's guard).

use chrono::{DateTime, Utc};
use entity::events;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde::Serialize;
use serde_json::Value;
use serde_json::value::RawValue;
use utoipa::ToSchema;

use super::status::Level;
use super::{event_rows, now, runs, units};
use crate::db::grouped::{GroupLost, Grouped};
use crate::db::per_pool::PerPool;
use crate::db::{WriteTxn, begin_bulk_write};
use crate::pagination::{Page, encode_cursor};
use crate::{Error, Result};

/// Most events one append may carry.
pub const MAX_BATCH: usize = 10_000;

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

/// An event's details: a JSON object, kept as the text it arrived in. An append stores that
/// text as it is, so a batch of events is neither built into JSON trees nor written out again.
#[derive(Debug, Clone, Default)]
pub struct EventDetails(Option<Box<RawValue>>);

impl EventDetails {
    /// The details in `raw`, which must be a JSON object.
    pub fn parse(raw: Box<RawValue>) -> std::result::Result<Self, &'static str> {
        if raw.get().trim_start().starts_with('{') {
            Ok(Self(Some(raw)))
        } else {
            Err("must be a JSON object")
        }
    }

    /// The details of a JSON value, which must be an object.
    pub fn of(value: &Value) -> Result<Self> {
        let raw = serde_json::value::to_raw_value(value)
            .map_err(|e| Error::invalid("details", e.to_string()))?;
        Self::parse(raw).map_err(|message| Error::invalid("details", message))
    }

    /// The JSON text (`{}` when none was given).
    pub fn as_str(&self) -> &str {
        self.0.as_deref().map_or("{}", RawValue::get)
    }
}

/// An event to append, validated.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub run_id: Option<String>,
    pub plan_unit_id: Option<String>,
    pub level: Level,
    pub message: String,
    pub details: EventDetails,
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
/// as heard from. Appends that arrive while another is being written share the next
/// transaction (group commit, `db::grouped`): each is still all or nothing, keeps its own
/// errors, and is answered only once its transaction has committed.
#[tracing::instrument(name = "orchestration.events.append", skip_all, fields(count = batch.len()))]
pub async fn append(db: &DatabaseConnection, batch: Vec<NewEvent>) -> Result<Appended> {
    if batch.len() > MAX_BATCH {
        return Err(Error::invalid(
            "body",
            format!("may carry at most {MAX_BATCH} events"),
        ));
    }
    let weight = batch.len();
    let pool = db.clone();
    APPENDS
        .of(db, Grouped::default)
        .submit(batch, weight, MAX_BATCH, move |group| {
            write_group(pool.clone(), group)
        })
        .await
        .map_err(|GroupLost| Error::internal("an append's group ended without an answer"))?
}

/// The appends waiting to be written together, per pool.
static APPENDS: PerPool<Grouped<Vec<NewEvent>, Result<Appended>>> = PerPool::new();

/// Writes a group of appends in one transaction. When that fails before its commit, each
/// append is written alone, so that it fails (or not) on its own account: one append's error
/// never becomes its neighbours'. A failed commit fails them all (nothing of the group is
/// written then, and writing again could write twice if the commit did land after all).
async fn write_group(db: DatabaseConnection, group: Vec<Vec<NewEvent>>) -> Vec<Result<Appended>> {
    if group.len() > 1 {
        match write_together(&db, &group).await {
            Ok((txn, appended)) => {
                return match txn.commit().await {
                    Ok(()) => appended.into_iter().map(Ok).collect(),
                    Err(err) => group.iter().map(|_| Err(err.clone().into())).collect(),
                };
            }
            Err(err) => {
                tracing::debug!(error = %err, appends = group.len(), "a grouped append failed; each is written alone");
            }
        }
    }
    let mut answers = Vec::with_capacity(group.len());
    for batch in &group {
        let alone = std::slice::from_ref(batch);
        answers.push(match write_together(&db, alone).await {
            Ok((txn, mut appended)) => txn.commit().await.map_err(Error::from).and_then(|()| {
                appended
                    .pop()
                    .ok_or_else(|| Error::internal("an append without an answer"))
            }),
            Err(err) => Err(err),
        });
    }
    answers
}

/// Writes `batches` in one transaction, left open for the caller to commit, and what each
/// wrote.
async fn write_together(
    db: &DatabaseConnection,
    batches: &[Vec<NewEvent>],
) -> Result<(WriteTxn, Vec<Appended>)> {
    let at = now();
    let events: Vec<&NewEvent> = batches.iter().flatten().collect();
    let mut run_ids: Vec<&str> = events.iter().filter_map(|e| e.run_id.as_deref()).collect();
    run_ids.sort_unstable();
    run_ids.dedup();
    let txn = begin_bulk_write(db).await?;
    let ids = event_rows::insert(&txn, &events, at).await?;
    runs::touch(&txn, &run_ids, at).await?;
    let mut ids = ids.into_iter();
    let appended = batches
        .iter()
        .map(|batch| {
            let mine: Vec<i64> = ids.by_ref().take(batch.len()).collect();
            Appended {
                appended: batch.len(),
                first_id: mine.first().copied(),
                last_id: mine.last().copied(),
            }
        })
        .collect();
    Ok((txn, appended))
}

/// What the tail shows.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    pub run_id: Option<String>,
    /// A plan unit's events: those of its run that name it (see [`tail`]).
    pub plan_unit_id: Option<String>,
    /// Exactly this level.
    pub level: Option<Level>,
    /// This level and above (`warn` → warn and error).
    pub min_level: Option<Level>,
}

impl EventFilter {
    /// Whether every level the filter admits is a warning or an error, so that the rows it
    /// reads are all in the partial index of serious events.
    fn only_serious(&self) -> bool {
        let serious = |l: Level| l >= Level::Warn;
        self.level.is_some_and(serious) || self.min_level.is_some_and(serious)
    }
}

/// The predicate of the partial index `idx_events_run_serious`, word for word as the
/// migration declares it: SQLite reads a partial index only for a query whose `WHERE`
/// contains its predicate, and a bound parameter never matches it.
const SERIOUS_LEVELS: &str = "\"level\" IN ('warn', 'error')";

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
///
/// Every read is one range of an index in id order: the whole log's (the primary key), a
/// level's, a run's, or a run's warnings and errors. There is no index of a plan unit's
/// events, because each would cost every append one more B-tree insert in a place that
/// differs per unit; a plan unit's events are read from its run's range instead, so the
/// unit filter costs at most what reading its run costs. Without `run_id`, the run is the
/// unit's own (plan-unit ids are unique across the store); a unit that does not exist has
/// no events.
pub async fn tail(
    db: &impl ConnectionTrait,
    filter: &EventFilter,
    from: Start,
    limit: u64,
) -> Result<Page<EventView>> {
    use events::Column;
    let mut run_id = filter.run_id.clone();
    if let (None, Some(unit)) = (&run_id, &filter.plan_unit_id) {
        run_id = units::run_of(db, unit).await?;
        if run_id.is_none() {
            return Ok(Page {
                items: Vec::new(),
                next_cursor: None,
                prev_cursor: None,
            });
        }
    }
    let mut query = events::Entity::find().limit(limit + 1);
    query = match from {
        Start::After(id) => query.filter(Column::Id.gt(id)).order_by_asc(Column::Id),
        Start::Before(id) => query.filter(Column::Id.lt(id)).order_by_desc(Column::Id),
    };
    if let Some(run) = &run_id {
        query = query.filter(Column::RunId.eq(run.as_str()));
    }
    if let Some(unit) = &filter.plan_unit_id {
        query = query.filter(Column::PlanUnitId.eq(unit.as_str()));
    }
    if filter.only_serious() && run_id.is_some() {
        query = query.filter(Expr::cust(SERIOUS_LEVELS));
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
