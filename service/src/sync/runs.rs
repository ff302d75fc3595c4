//! Starting, reporting on and ending syncs: the rules of spec 03.
//!
//! Every change runs in one write transaction with its webhook event and audit row, so an
//! event exists exactly when its change does. One running sync per tenant is enforced by the
//! partial unique index `uq_sync_history_one_running`; the check before the insert only makes
//! the common case's answer precise, the index decides races between instances.

use chrono::{DateTime, Duration, Utc};
use entity::sync_history::{self, Column};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QuerySelect, Set, SqlErr,
};
use serde_json::json;

use super::model::{
    ERROR_DETAILS_MAX, PROCESS_ID_MAX, SyncRecord, SyncStatus, SyncType, TenantId, now,
};
use crate::audit::{self, Actor, AuditEntry};
use crate::db::{begin_write, writer_turn};
use crate::webhooks::{Event, EventType, emit};
use crate::{Error, FieldError, Result};

/// Input of "start a sync", already parsed.
#[derive(Debug, Clone)]
pub struct NewSync {
    pub tenant_id: TenantId,
    pub sync_type: SyncType,
    pub process_id: Option<String>,
}

impl NewSync {
    /// Checks the parts that are not checked by their types.
    pub fn new(
        tenant_id: TenantId,
        sync_type: SyncType,
        process_id: Option<String>,
    ) -> Result<Self> {
        if let Some(p) = &process_id
            && (p.is_empty()
                || p.chars().count() > PROCESS_ID_MAX
                || p.chars().any(char::is_control))
        {
            return Err(Error::invalid(
                "process_id",
                format!(
                    "must be 1 to {PROCESS_ID_MAX} characters long, without control characters"
                ),
            ));
        }
        Ok(Self {
            tenant_id,
            sync_type,
            process_id,
        })
    }
}

/// What a progress report may change; absent fields stay as they are. An empty report is a
/// heartbeat: it only moves `updated_at`, the stale clock.
#[derive(Debug, Clone, Default)]
pub struct SyncUpdate {
    pub progress_percentage: Option<i64>,
    pub users_count: Option<i64>,
    pub groups_count: Option<i64>,
    pub apps_count: Option<i64>,
    pub policies_count: Option<i64>,
    pub devices_count: Option<i64>,
    pub status: Option<SyncStatus>,
    pub error_details: Option<String>,
    pub graphdb_version: Option<i64>,
    pub graphdb_promoted: Option<bool>,
}

impl SyncUpdate {
    /// The checks that need no stored state; every broken rule is reported at once.
    pub fn validate(&self) -> Result<()> {
        let mut errors = Vec::new();
        if let Some(p) = self.progress_percentage
            && !(0..=100).contains(&p)
        {
            errors.push(FieldError::new(
                "progress_percentage",
                "must be between 0 and 100",
            ));
        }
        for (field, value) in self.counts() {
            if value.is_some_and(|v| v < 0) {
                errors.push(FieldError::new(field, "must not be negative"));
            }
        }
        if self.graphdb_version.is_some_and(|v| v < 0) {
            errors.push(FieldError::new("graphdb_version", "must not be negative"));
        }
        match &self.error_details {
            Some(e) if e.trim().is_empty() => {
                errors.push(FieldError::new("error_details", "must not be empty"));
            }
            // PostgreSQL text cannot hold NUL; newlines and tabs (stack traces) are fine.
            Some(e) if e.contains('\0') => {
                errors.push(FieldError::new(
                    "error_details",
                    "must not contain NUL characters",
                ));
            }
            Some(e) if e.len() > ERROR_DETAILS_MAX => errors.push(FieldError::new(
                "error_details",
                format!("must be at most {} KiB", ERROR_DETAILS_MAX / 1024),
            )),
            None if self.status == Some(SyncStatus::Failed) => {
                errors.push(FieldError::new(
                    "error_details",
                    "is required when status is failed",
                ));
            }
            _ => {}
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(Error::Validation(errors))
        }
    }

    fn counts(&self) -> [(&'static str, Option<i64>); 5] {
        [
            ("users_count", self.users_count),
            ("groups_count", self.groups_count),
            ("apps_count", self.apps_count),
            ("policies_count", self.policies_count),
            ("devices_count", self.devices_count),
        ]
    }
}

/// The conflict answered when `tenant` already has the running sync `id`.
fn already_running(tenant: &str, id: i64) -> Error {
    Error::Conflict {
        message: format!("the tenant {tenant} already has a running sync ({id})"),
        details: vec![
            FieldError::new("tenant_id", format!("already has a running sync ({id})"))
                .with_sync_id(id),
        ],
    }
}

/// The conflict answered for any change to a finished sync; it names the status so that an
/// orchestrator learns its sync was canceled.
fn finished(record: &sync_history::Model) -> Error {
    Error::Conflict {
        message: format!(
            "the sync {} is {} and can no longer change",
            record.id, record.status
        ),
        details: vec![FieldError::new("status", format!("is {}", record.status))],
    }
}

/// The tenant's running sync, if any.
pub(crate) async fn running_of(
    db: &impl ConnectionTrait,
    tenant: &str,
) -> Result<Option<sync_history::Model>> {
    Ok(sync_history::Entity::find()
        .filter(Column::TenantId.eq(tenant))
        .filter(Column::Status.eq(SyncStatus::Running.as_str()))
        .one(db)
        .await?)
}

/// Starts a sync: `running`, progress 0, counts 0. A running sync of the tenant that has been
/// silent longer than `stale_after` is failed first (as the sweeper would), so a crashed
/// orchestrator's successor is not locked out.
#[tracing::instrument(name = "sync.runs.start", skip_all)]
pub async fn start(
    db: &DatabaseConnection,
    actor: &Actor,
    ip: Option<String>,
    input: NewSync,
    stale_after: Duration,
) -> Result<SyncRecord> {
    let txn = begin_write(db).await?;
    let tenant = input.tenant_id.as_str();
    let at = now();
    let running = sync_history::Entity::find()
        .filter(Column::TenantId.eq(tenant))
        .filter(Column::Status.eq(SyncStatus::Running.as_str()))
        .lock_exclusive()
        .one(&txn)
        .await?;
    if let Some(running) = running {
        if running.updated_at.to_utc() >= at - stale_after {
            return Err(already_running(tenant, running.id));
        }
        fail_stale(&txn, running, stale_after, at).await?;
    }
    let inserted = sync_history::ActiveModel {
        tenant_id: Set(tenant.to_string()),
        sync_type: Set(input.sync_type.as_str().to_string()),
        status: Set(SyncStatus::Running.as_str().to_string()),
        start_time: Set(at.fixed_offset()),
        end_time: Set(None),
        success: Set(None),
        error_details: Set(None),
        users_count: Set(0),
        groups_count: Set(0),
        apps_count: Set(0),
        policies_count: Set(0),
        devices_count: Set(0),
        progress_percentage: Set(0),
        process_id: Set(input.process_id.clone()),
        graphdb_version: Set(None),
        graphdb_promoted: Set(None),
        updated_at: Set(at.fixed_offset()),
        created_by: Set(Some(actor.as_string())),
        ..Default::default()
    }
    .insert(&txn)
    .await;
    let model = match inserted {
        Ok(model) => model,
        Err(err) if matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            // Another instance won the race; its sync is visible once our transaction ends.
            drop(txn);
            return Err(match running_of(db, tenant).await? {
                Some(winner) => already_running(tenant, winner.id),
                None => Error::conflict(format!("the tenant {tenant} already has a running sync")),
            });
        }
        Err(err) => return Err(err.into()),
    };
    let record = SyncRecord::from(model);
    let (entry, event) = announcement(&record, actor, ip)?;
    audit::commit_audited(txn, entry, &[event]).await?;
    Ok(record)
}

/// Applies a progress report (and possibly a status change) to a running sync.
#[tracing::instrument(name = "sync.runs.update", skip_all, fields(sync_id = id))]
pub async fn update(
    db: &DatabaseConnection,
    actor: &Actor,
    ip: Option<String>,
    id: i64,
    change: SyncUpdate,
) -> Result<SyncRecord> {
    change.validate()?;
    if !change.status.is_some_and(SyncStatus::is_terminal)
        && let Some(record) = report_on_running(db, id, &change).await?
    {
        return Ok(record);
    }
    let txn = begin_write(db).await?;
    let current = locked(&txn, id).await?;
    if SyncStatus::parse(&current.status) != Some(SyncStatus::Running) {
        return Err(finished(&current));
    }
    let mut errors = Vec::new();
    if let Some(p) = change.progress_percentage
        && p < current.progress_percentage
    {
        errors.push(FieldError::new(
            "progress_percentage",
            format!("must not decrease (it is {})", current.progress_percentage),
        ));
    }
    if current.sync_type != SyncType::Graphdb.as_str() {
        for (field, given) in [
            ("graphdb_version", change.graphdb_version.is_some()),
            ("graphdb_promoted", change.graphdb_promoted.is_some()),
        ] {
            if given {
                errors.push(FieldError::new(field, "is only for graphdb syncs"));
            }
        }
    }
    if !errors.is_empty() {
        return Err(Error::Validation(errors));
    }
    let at = now();
    let status = change.status.unwrap_or(SyncStatus::Running);
    let mut row: sync_history::ActiveModel = current.clone().into();
    let set = |value: Option<i64>, field: &mut sea_orm::ActiveValue<i64>| {
        if let Some(v) = value {
            *field = Set(v);
        }
    };
    set(change.progress_percentage, &mut row.progress_percentage);
    set(change.users_count, &mut row.users_count);
    set(change.groups_count, &mut row.groups_count);
    set(change.apps_count, &mut row.apps_count);
    set(change.policies_count, &mut row.policies_count);
    set(change.devices_count, &mut row.devices_count);
    if let Some(v) = change.graphdb_version {
        row.graphdb_version = Set(Some(v));
    }
    if let Some(v) = change.graphdb_promoted {
        row.graphdb_promoted = Set(Some(v));
    }
    if let Some(e) = &change.error_details {
        row.error_details = Set(Some(e.clone()));
    }
    finish_fields(&mut row, status, at);
    row.updated_at = Set(later_than(current.updated_at.to_utc(), at).fixed_offset());
    let record = SyncRecord::from(row.update(&txn).await?);
    if status.is_terminal() {
        let (entry, event) = announcement(&record, actor, ip)?;
        audit::commit_audited(txn, entry, &[event]).await?;
    } else {
        // A progress report is not audited: the trail records status changes only.
        txn.commit().await?;
    }
    Ok(record)
}

/// The common progress report (no status change, nothing to announce) as one conditional
/// `UPDATE … RETURNING`: it applies only if the sync is running, its progress does not go
/// down, graphdb fields go to a graphdb sync and the clock has moved past `updated_at`.
/// `None` when any of that does not hold; [`update`] then takes the full path, which says why
/// (or, for the clock, moves `updated_at` by a microsecond).
async fn report_on_running(
    db: &DatabaseConnection,
    id: i64,
    change: &SyncUpdate,
) -> Result<Option<SyncRecord>> {
    use sea_orm::sea_query::Expr;
    let at = now().fixed_offset();
    let mut update = sync_history::Entity::update_many()
        .col_expr(Column::UpdatedAt, Expr::value(at))
        .filter(Column::Id.eq(id))
        .filter(Column::Status.eq(SyncStatus::Running.as_str()))
        .filter(Column::UpdatedAt.lt(at));
    for (column, value) in [
        (Column::ProgressPercentage, change.progress_percentage),
        (Column::UsersCount, change.users_count),
        (Column::GroupsCount, change.groups_count),
        (Column::AppsCount, change.apps_count),
        (Column::PoliciesCount, change.policies_count),
        (Column::DevicesCount, change.devices_count),
        (Column::GraphdbVersion, change.graphdb_version),
    ] {
        if let Some(v) = value {
            update = update.col_expr(column, Expr::value(v));
        }
    }
    if let Some(p) = change.progress_percentage {
        update = update.filter(Column::ProgressPercentage.lte(p));
    }
    if let Some(promoted) = change.graphdb_promoted {
        update = update.col_expr(Column::GraphdbPromoted, Expr::value(promoted));
    }
    if change.graphdb_version.is_some() || change.graphdb_promoted.is_some() {
        update = update.filter(Column::SyncType.eq(SyncType::Graphdb.as_str()));
    }
    if let Some(e) = &change.error_details {
        update = update.col_expr(Column::ErrorDetails, Expr::value(e.clone()));
    }
    let turn = writer_turn(db).await?;
    let rows = update.exec_with_returning(&turn).await?;
    Ok(rows.into_iter().next().map(SyncRecord::from))
}

/// Cancels a running sync.
#[tracing::instrument(name = "sync.runs.cancel", skip_all, fields(sync_id = id))]
pub async fn cancel(
    db: &DatabaseConnection,
    actor: &Actor,
    ip: Option<String>,
    id: i64,
) -> Result<SyncRecord> {
    update(
        db,
        actor,
        ip,
        id,
        SyncUpdate {
            status: Some(SyncStatus::Canceled),
            ..SyncUpdate::default()
        },
    )
    .await
}

/// The sync `id`, locked against concurrent reports until the transaction ends (SQLite's
/// write transaction already holds the whole database).
async fn locked(db: &impl ConnectionTrait, id: i64) -> Result<sync_history::Model> {
    sync_history::Entity::find_by_id(id)
        .lock_exclusive()
        .one(db)
        .await?
        .ok_or_else(|| Error::NotFound(format!("sync {id}")))
}

/// Sets what a status implies: the end time and the outcome of a finished sync.
fn finish_fields(row: &mut sync_history::ActiveModel, status: SyncStatus, at: DateTime<Utc>) {
    row.status = Set(status.as_str().to_string());
    match status {
        SyncStatus::Running => {}
        SyncStatus::Completed => {
            row.success = Set(Some(true));
            row.progress_percentage = Set(100);
            row.end_time = Set(Some(at.fixed_offset()));
        }
        SyncStatus::Failed | SyncStatus::Canceled => {
            row.success = Set(Some(false));
            row.end_time = Set(Some(at.fixed_offset()));
        }
    }
}

/// `at`, or a microsecond after `previous` when the clock has not moved past it: every change
/// moves `updated_at`, so watchers comparing it never miss one.
fn later_than(previous: DateTime<Utc>, at: DateTime<Utc>) -> DateTime<Utc> {
    if at > previous {
        at
    } else {
        previous + Duration::microseconds(1)
    }
}

/// Fails a running sync that has been silent longer than `stale_after`.
pub(crate) async fn fail_stale(
    txn: &impl ConnectionTrait,
    running: sync_history::Model,
    stale_after: Duration,
    at: DateTime<Utc>,
) -> Result<SyncRecord> {
    let silent_since = running.updated_at.to_utc();
    let mut row: sync_history::ActiveModel = running.into();
    row.error_details = Set(Some(format!(
        "stale: no update for more than {} minutes (last update {})",
        stale_after.num_minutes(),
        silent_since.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    )));
    finish_fields(&mut row, SyncStatus::Failed, at);
    row.updated_at = Set(later_than(silent_since, at).fixed_offset());
    let record = SyncRecord::from(row.update(txn).await?);
    announce(txn, &record, &Actor::System, None).await?;
    Ok(record)
}

/// Writes the webhook event and the audit row of the status `record` has just reached, in
/// `txn`, which the caller goes on with (the stale sweep fails many syncs in one transaction).
async fn announce(
    txn: &impl ConnectionTrait,
    record: &SyncRecord,
    actor: &Actor,
    ip: Option<String>,
) -> Result<()> {
    let (entry, event) = announcement(record, actor, ip)?;
    emit(txn, &[event]).await?;
    audit::record(txn, entry).await?;
    Ok(())
}

/// The audit entry and the webhook event of the status `record` has just reached.
fn announcement(
    record: &SyncRecord,
    actor: &Actor,
    ip: Option<String>,
) -> Result<(AuditEntry, Event)> {
    let (event, action) = match record.status() {
        SyncStatus::Running => (EventType::SyncStarted, "sync.started"),
        SyncStatus::Completed => (EventType::SyncCompleted, "sync.completed"),
        SyncStatus::Failed => (EventType::SyncFailed, "sync.failed"),
        SyncStatus::Canceled => (EventType::SyncCanceled, "sync.canceled"),
    };
    let data = serde_json::to_value(record).map_err(Error::internal)?;
    let mut details = json!({
        "tenant_id": record.tenant_id,
        "sync_type": record.sync_type,
        "status": record.status,
    });
    if let Some(e) = &record.error_details
        && record.status() == SyncStatus::Failed
    {
        details["error_details"] = json!(e.chars().take(500).collect::<String>());
    }
    let entry = AuditEntry::new(action, actor)
        .target(record.id.to_string())
        .details(details)
        .ip(ip);
    Ok((entry, Event::new(event, data)))
}

/// Locks nothing, changes nothing: the sync `id` as it is now.
pub async fn get(db: &impl ConnectionTrait, id: i64) -> Result<SyncRecord> {
    sync_history::Entity::find_by_id(id)
        .one(db)
        .await?
        .map(SyncRecord::from)
        .ok_or_else(|| Error::NotFound(format!("sync {id}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_broken_rule_of_a_report_is_named() {
        let bad = SyncUpdate {
            progress_percentage: Some(101),
            users_count: Some(-1),
            status: Some(SyncStatus::Failed),
            ..SyncUpdate::default()
        };
        let Err(Error::Validation(errors)) = bad.validate() else {
            panic!("invalid");
        };
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            ["progress_percentage", "users_count", "error_details"]
        );
        assert!(SyncUpdate::default().validate().is_ok());
    }

    #[test]
    fn updated_at_always_moves_forward() {
        let t = now();
        assert_eq!(later_than(t, t), t + Duration::microseconds(1));
        assert_eq!(
            later_than(t, t + Duration::seconds(1)),
            t + Duration::seconds(1)
        );
    }
}
