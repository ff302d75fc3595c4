//! Plan units: inserted with their run, and moved along their state machine; a unit's change
//! counts as a sign of life of its run.

use chrono::{DateTime, FixedOffset, Utc};
use entity::plan_units;
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QuerySelect, Set,
};
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use super::input::OpsKey;
use super::status::{Action, UnitStatus, illegal};
use super::{now, runs};
use crate::db::begin_write;
use crate::{Error, FieldError, Result};

/// Rows per INSERT: 13 bound columns each stays under SQLite's 32,766 parameters.
const INSERT_CHUNK: usize = 1_000;

/// A plan unit as the API renders it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UnitView {
    pub id: String,
    pub run_id: String,
    pub resource_type: String,
    pub resource_name: String,
    pub action: Action,
    pub status: UnitStatus,
    /// Ids of the plan units of the same run this one waits for.
    pub dependencies: Vec<String>,
    #[schema(value_type = Object)]
    pub desired_state: Option<Value>,
    pub error: Option<String>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<plan_units::Model> for UnitView {
    fn from(u: plan_units::Model) -> Self {
        Self {
            action: Action::parse(&u.action, "action").unwrap_or(Action::Noop),
            status: UnitStatus::parse(&u.status, "status").unwrap_or(UnitStatus::Pending),
            dependencies: u
                .dependencies
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(String::from)
                        .collect()
                })
                .unwrap_or_default(),
            id: u.id,
            run_id: u.run_id,
            resource_type: u.resource_type,
            resource_name: u.resource_name,
            desired_state: u.desired_state,
            error: u.error,
            started_at: u.started_at.map(|t| t.to_utc()),
            finished_at: u.finished_at.map(|t| t.to_utc()),
            created_at: u.created_at.to_utc(),
            updated_at: u.updated_at.to_utc(),
        }
    }
}

/// A plan unit to create with its run, validated.
#[derive(Debug, Clone)]
pub struct NewUnit {
    pub id: OpsKey,
    pub resource_type: OpsKey,
    pub resource_name: OpsKey,
    pub action: Action,
    pub dependencies: Vec<String>,
    pub desired_state: Option<Value>,
}

/// Inserts the units of `run_id` (all `pending`) in chunked multi-row statements.
pub(crate) async fn insert_units(
    txn: &impl ConnectionTrait,
    run_id: &str,
    units: &[NewUnit],
    at: DateTime<FixedOffset>,
) -> Result<Vec<UnitView>> {
    let rows: Vec<plan_units::Model> = units
        .iter()
        .map(|u| plan_units::Model {
            id: u.id.as_str().to_string(),
            run_id: run_id.to_string(),
            resource_type: u.resource_type.as_str().to_string(),
            resource_name: u.resource_name.as_str().to_string(),
            action: u.action.as_str().into(),
            status: UnitStatus::Pending.as_str().into(),
            dependencies: json!(u.dependencies),
            desired_state: u.desired_state.clone(),
            error: None,
            started_at: None,
            finished_at: None,
            created_at: at,
            updated_at: at,
        })
        .collect();
    for chunk in rows.chunks(INSERT_CHUNK) {
        let active: Vec<plan_units::ActiveModel> = chunk
            .iter()
            .map(|m| plan_units::ActiveModel::from(m.clone()).reset_all())
            .collect();
        plan_units::Entity::insert_many(active)
            .exec_without_returning(txn)
            .await
            .map_err(|e| match Error::from(e) {
                Error::Conflict { .. } => Error::Conflict {
                    message: "a plan unit id is taken by another run".into(),
                    details: vec![FieldError::new(
                        "plan_units",
                        "plan unit ids are unique across the store",
                    )],
                },
                other => other,
            })?;
    }
    Ok(rows.into_iter().map(UnitView::from).collect())
}

/// The run a plan unit belongs to, or `None` when there is no such unit.
pub async fn run_of(db: &impl ConnectionTrait, id: &str) -> Result<Option<String>> {
    Ok(plan_units::Entity::find_by_id(id)
        .select_only()
        .column(plan_units::Column::RunId)
        .into_tuple::<String>()
        .one(db)
        .await?)
}

/// Moves a plan unit to `to`; `409` when its state machine does not allow it. `error` is
/// kept for a failure; the unit's run counts as heard from.
#[tracing::instrument(name = "orchestration.units.transition", skip_all, fields(unit_id = id))]
pub async fn transition(
    db: &DatabaseConnection,
    id: &str,
    to: UnitStatus,
    error: Option<String>,
) -> Result<UnitView> {
    let txn = begin_write(db).await?;
    let row = plan_units::Entity::find_by_id(id)
        .lock_exclusive()
        .one(&txn)
        .await?
        .ok_or_else(|| Error::NotFound(format!("plan unit {id}")))?;
    let from = UnitStatus::parse(&row.status, "status")?;
    if !from.may_become(to) {
        return Err(illegal("plan unit", id, from.as_str(), to.as_str()));
    }
    let at = now();
    let run_id = row.run_id.clone();
    let unit = finish(&txn, row, to, error, at).await?;
    runs::touch(&txn, &[run_id.as_str()], at).await?;
    txn.commit().await?;
    Ok(unit)
}

/// Writes `row` at status `to` with the server's times.
pub(crate) async fn finish(
    txn: &impl ConnectionTrait,
    row: plan_units::Model,
    to: UnitStatus,
    error: Option<String>,
    at: DateTime<Utc>,
) -> Result<UnitView> {
    let mut active: plan_units::ActiveModel = row.into();
    active.status = Set(to.as_str().into());
    if to == UnitStatus::Running {
        active.started_at = Set(Some(at.fixed_offset()));
    }
    if to.is_terminal() {
        active.finished_at = Set(Some(at.fixed_offset()));
    }
    if to == UnitStatus::Failed {
        active.error = Set(error);
    }
    active.updated_at = Set(at.fixed_offset());
    Ok(active.update(txn).await?.into())
}
