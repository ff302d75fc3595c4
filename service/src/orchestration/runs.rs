//! Runs: created with their plan units in one transaction, listed newest first, read with
//! their units and last events, and moved along their state machine. A run that ends is
//! announced (`run.succeeded` / `run.failed`) and audited in the transaction of the change.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use entity::{plan_units, runs};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait,
    ExprTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use super::events::{self, EventView};
use super::input::OpsKey;
use super::status::{RunStatus, illegal};
use super::units::{NewUnit, UnitView, insert_units};
use super::{dag, now};
use crate::audit::{Actor, AuditEntry, commit_audited};
use crate::db::begin_write;
use crate::pagination::{Page, PageRequest};
use crate::webhooks::{Event, EventType};
use crate::{Error, FieldError, Result};

/// How many events a run's read carries (its newest, oldest first).
pub const RUN_EVENTS: u64 = 100;

/// A run as the API renders it (and as its webhook events carry it).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RunView {
    pub id: String,
    pub plan_path: String,
    pub status: RunStatus,
    /// Why a failed run failed (`lost: …` when the sweeper failed it).
    pub error: Option<String>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Value>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<runs::Model> for RunView {
    fn from(r: runs::Model) -> Self {
        Self {
            status: RunStatus::parse(&r.status, "status").unwrap_or(RunStatus::Pending),
            id: r.id,
            plan_path: r.plan_path,
            error: r.error,
            started_at: r.started_at.map(|t| t.to_utc()),
            finished_at: r.finished_at.map(|t| t.to_utc()),
            metadata: r.metadata,
            created_at: r.created_at.to_utc(),
            updated_at: r.updated_at.to_utc(),
        }
    }
}

/// A run with its plan units and its last events (oldest first).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RunDetail {
    #[serde(flatten)]
    pub run: RunView,
    pub plan_units: Vec<UnitView>,
    pub events: Vec<EventView>,
}

/// A run to create, validated.
#[derive(Debug, Clone)]
pub struct NewRun {
    pub id: OpsKey,
    pub plan_path: String,
    pub metadata: Option<Value>,
    pub units: Vec<NewUnit>,
}

/// Newest-first key of the run list: (created_at, id).
pub type RunKey = (DateTime<Utc>, String);

async fn find(db: &impl ConnectionTrait, id: &str) -> Result<runs::Model> {
    runs::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| Error::NotFound(format!("run {id}")))
}

/// Creates a run (`pending`) and its plan units in one transaction, after the DAG check;
/// nothing is written when any check fails.
#[tracing::instrument(name = "orchestration.runs.create", skip_all, fields(run_id = %new.id))]
pub async fn create(
    db: &DatabaseConnection,
    actor: &Actor,
    ip: Option<String>,
    new: NewRun,
) -> Result<RunDetail> {
    let graph: Vec<(&str, &[String])> = new
        .units
        .iter()
        .map(|u| (u.id.as_str(), u.dependencies.as_slice()))
        .collect();
    dag::check(&graph)?;
    let at = now().fixed_offset();
    let txn = begin_write(db).await?;
    let row = runs::ActiveModel {
        id: Set(new.id.as_str().to_string()),
        plan_path: Set(new.plan_path.clone()),
        status: Set(RunStatus::Pending.as_str().into()),
        started_at: Set(None),
        finished_at: Set(None),
        metadata: Set(new.metadata.clone()),
        created_at: Set(at),
        updated_at: Set(at),
        error: Set(None),
    };
    let run = runs::Entity::insert(row)
        .exec_with_returning(&txn)
        .await
        .map_err(|e| match Error::from(e) {
            Error::Conflict { .. } => Error::Conflict {
                message: format!("a run with the id {} exists", new.id),
                details: vec![FieldError::new("id", "is taken")],
            },
            other => other,
        })?;
    let units = insert_units(&txn, new.id.as_str(), &new.units, at).await?;
    let entry = AuditEntry::new("run.created", actor)
        .target(new.id.as_str())
        .ip(ip)
        .details(json!({"plan_path": new.plan_path, "plan_units": new.units.len()}));
    commit_audited(txn, entry, &[]).await?;
    Ok(RunDetail {
        run: run.into(),
        plan_units: units,
        events: Vec::new(),
    })
}

/// A page of runs, newest first, of one status or all.
pub async fn list(
    db: &impl ConnectionTrait,
    status: Option<RunStatus>,
    page: &PageRequest<RunKey>,
) -> Result<Page<RunView>> {
    use runs::Column;
    let mut query = runs::Entity::find().limit(page.limit + 1);
    let descending = page.reads_descending(true);
    if let Some((at, id)) = page.boundary() {
        let at = at.fixed_offset();
        query = query.filter(if descending {
            Condition::any()
                .add(Column::CreatedAt.lt(at))
                .add(Column::CreatedAt.eq(at).and(Column::Id.lt(id.as_str())))
        } else {
            Condition::any()
                .add(Column::CreatedAt.gt(at))
                .add(Column::CreatedAt.eq(at).and(Column::Id.gt(id.as_str())))
        });
    }
    query = if descending {
        query
            .order_by_desc(Column::CreatedAt)
            .order_by_desc(Column::Id)
    } else {
        query
            .order_by_asc(Column::CreatedAt)
            .order_by_asc(Column::Id)
    };
    if let Some(status) = status {
        query = query.filter(Column::Status.eq(status.as_str()));
    }
    let rows = query.all(db).await?;
    Ok(
        Page::from_request(rows, page, |r| (r.created_at.to_utc(), r.id.clone()))
            .map(RunView::from),
    )
}

/// How many plan units of each run are in each status (runs without units are absent).
pub async fn unit_counts(
    db: &impl ConnectionTrait,
    run_ids: &[String],
) -> Result<HashMap<String, BTreeMap<String, i64>>> {
    use plan_units::Column;
    if run_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(String, String, i64)> = plan_units::Entity::find()
        .select_only()
        .column(Column::RunId)
        .column(Column::Status)
        .column_as(Expr::col(Column::Id).count(), "n")
        .filter(Column::RunId.is_in(run_ids.iter().map(String::as_str)))
        .group_by(Column::RunId)
        .group_by(Column::Status)
        .into_tuple()
        .all(db)
        .await?;
    let mut counts: HashMap<String, BTreeMap<String, i64>> = HashMap::new();
    for (run, status, n) in rows {
        counts.entry(run).or_default().insert(status, n);
    }
    Ok(counts)
}

/// A run with its plan units (in creation order) and its last [`RUN_EVENTS`] events.
pub async fn get(db: &impl ConnectionTrait, id: &str) -> Result<RunDetail> {
    let run = find(db, id).await?;
    let units = plan_units::Entity::find()
        .filter(plan_units::Column::RunId.eq(id))
        .order_by_asc(plan_units::Column::CreatedAt)
        .order_by_asc(plan_units::Column::Id)
        .all(db)
        .await?;
    let events = events::last_of_run(db, id, RUN_EVENTS).await?;
    Ok(RunDetail {
        run: run.into(),
        plan_units: units.into_iter().map(UnitView::from).collect(),
        events,
    })
}

/// One run without its units.
pub async fn get_run(db: &impl ConnectionTrait, id: &str) -> Result<RunView> {
    Ok(find(db, id).await?.into())
}

/// Moves a run to `to`; `409` when its state machine does not allow it. `started_at` and
/// `finished_at` are the server's; `error` is kept only for a failure.
#[tracing::instrument(name = "orchestration.runs.transition", skip_all, fields(run_id = id))]
pub async fn transition(
    db: &DatabaseConnection,
    actor: &Actor,
    ip: Option<String>,
    id: &str,
    to: RunStatus,
    error: Option<String>,
) -> Result<RunView> {
    let txn = begin_write(db).await?;
    let row = runs::Entity::find_by_id(id)
        .lock_exclusive()
        .one(&txn)
        .await?
        .ok_or_else(|| Error::NotFound(format!("run {id}")))?;
    let from = RunStatus::parse(&row.status, "status")?;
    if !from.may_become(to) {
        return Err(illegal("run", id, from.as_str(), to.as_str()));
    }
    let at = now();
    let run = finish(&txn, row, to, error, at).await?;
    let (events, entry) = announcement(&run, actor, ip)?;
    commit_audited(txn, entry, &events).await?;
    Ok(run)
}

/// Writes `row` at status `to` (with the server's times); returns it as the API shows it.
pub(crate) async fn finish(
    txn: &impl ConnectionTrait,
    row: runs::Model,
    to: RunStatus,
    error: Option<String>,
    at: DateTime<Utc>,
) -> Result<RunView> {
    let mut active: runs::ActiveModel = row.into();
    active.status = Set(to.as_str().into());
    if to == RunStatus::Running {
        active.started_at = Set(Some(at.fixed_offset()));
    }
    if to.is_terminal() {
        active.finished_at = Set(Some(at.fixed_offset()));
    }
    if to == RunStatus::Failed {
        active.error = Set(error);
    }
    active.updated_at = Set(at.fixed_offset());
    Ok(active.update(txn).await?.into())
}

/// The webhook events and the audit entry of `run` having reached its status.
pub(crate) fn announcement(
    run: &RunView,
    actor: &Actor,
    ip: Option<String>,
) -> Result<(Vec<Event>, AuditEntry)> {
    let event_type = match run.status {
        RunStatus::Succeeded => Some(EventType::RunSucceeded),
        RunStatus::Failed => Some(EventType::RunFailed),
        _ => None,
    };
    let data = serde_json::to_value(run).map_err(Error::internal)?;
    let events = event_type
        .map(|t| vec![Event::new(t, data)])
        .unwrap_or_default();
    let mut details = json!({"status": run.status.as_str()});
    if let Some(e) = &run.error {
        details["error"] = json!(e.chars().take(500).collect::<String>());
    }
    let action = match run.status {
        RunStatus::Pending => "run.created",
        RunStatus::Running => "run.started",
        RunStatus::Succeeded => "run.succeeded",
        RunStatus::Failed => "run.failed",
        RunStatus::Canceled => "run.canceled",
    };
    let entry = AuditEntry::new(action, actor)
        .target(run.id.as_str())
        .ip(ip)
        .details(details);
    Ok((events, entry))
}

/// Marks the runs named in `run_ids` that are running as heard from now (an event or a unit
/// change arrived), so that the sweeper does not take them for lost.
pub(crate) async fn touch(
    txn: &impl ConnectionTrait,
    run_ids: &[&str],
    at: DateTime<Utc>,
) -> Result<()> {
    if run_ids.is_empty() {
        return Ok(());
    }
    runs::Entity::update_many()
        .col_expr(runs::Column::UpdatedAt, Expr::value(at.fixed_offset()))
        .filter(runs::Column::Id.is_in(run_ids.iter().copied()))
        .filter(runs::Column::Status.eq(RunStatus::Running.as_str()))
        .exec(txn)
        .await?;
    Ok(())
}
