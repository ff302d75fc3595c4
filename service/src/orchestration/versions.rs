//! The immutable history of a resource's state: a version per change, numbered 1, 2, 3 …
//! per resource, written in the transaction of the change (a deletion is a version whose
//! state is null). Versions are listed newest first, read one by one, and restored by
//! writing an old state as a new version.

use chrono::{DateTime, Utc};
use entity::resource_state_versions as versions;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, ExprTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use super::now;
use super::resources::{ResourceKey, StateWrite, Written, put_in};
use crate::audit::{Actor, AuditEntry, commit_audited};
use crate::db::begin_write;
use crate::pagination::{Page, PageRequest};
use crate::{Error, Result};

/// One version of a resource's state.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VersionView {
    pub resource_type: String,
    pub resource_name: String,
    pub serial: i64,
    /// Null for a deletion.
    pub hash: Option<String>,
    /// Null for a deletion.
    #[schema(value_type = Option<Object>)]
    pub state: Option<Value>,
    pub run_id: Option<String>,
    /// Who wrote it (`user:…`, `client:…`).
    pub actor: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<versions::Model> for VersionView {
    fn from(v: versions::Model) -> Self {
        Self {
            resource_type: v.resource_type,
            resource_name: v.resource_name,
            serial: v.serial,
            hash: v.hash,
            state: v.state,
            run_id: v.run_id,
            actor: v.actor,
            created_at: v.created_at.to_utc(),
        }
    }
}

fn of(key: &ResourceKey) -> sea_orm::Condition {
    sea_orm::Condition::all()
        .add(versions::Column::ResourceType.eq(key.resource_type.as_str()))
        .add(versions::Column::ResourceName.eq(key.resource_name.as_str()))
}

/// The resource's highest serial so far (0 when it never had a version).
pub(crate) async fn last_serial(db: &impl ConnectionTrait, key: &ResourceKey) -> Result<i64> {
    let max: Option<Option<i64>> = versions::Entity::find()
        .select_only()
        .column_as(Expr::col(versions::Column::Serial).max(), "m")
        .filter(of(key))
        .into_tuple()
        .one(db)
        .await?;
    Ok(max.flatten().unwrap_or(0))
}

/// Appends version `serial` of `key`: `(hash, state)`, or `None` for a deletion.
pub(crate) async fn append(
    txn: &impl ConnectionTrait,
    key: &ResourceKey,
    serial: i64,
    content: Option<(&str, &Value)>,
    run_id: Option<String>,
    actor: &Actor,
) -> Result<()> {
    let row = versions::ActiveModel {
        resource_type: Set(key.resource_type.as_str().to_string()),
        resource_name: Set(key.resource_name.as_str().to_string()),
        serial: Set(serial),
        hash: Set(content.map(|(h, _)| h.to_string())),
        state: Set(content.map(|(_, s)| s.clone())),
        run_id: Set(run_id),
        actor: Set(Some(actor.as_string())),
        created_at: Set(now().fixed_offset()),
        ..Default::default()
    };
    versions::Entity::insert(row)
        .exec_without_returning(txn)
        .await?;
    Ok(())
}

/// A page of a resource's versions, newest first; `404` when it never had one.
pub async fn list(
    db: &impl ConnectionTrait,
    key: &ResourceKey,
    page: &PageRequest<i64>,
) -> Result<Page<VersionView>> {
    use versions::Column;
    let mut query = versions::Entity::find()
        .filter(of(key))
        .limit(page.limit + 1);
    if page.reads_descending(true) {
        query = query.order_by_desc(Column::Serial);
        if let Some(&s) = page.boundary() {
            query = query.filter(Column::Serial.lt(s));
        }
    } else {
        query = query.order_by_asc(Column::Serial);
        if let Some(&s) = page.boundary() {
            query = query.filter(Column::Serial.gt(s));
        }
    }
    let rows = query.all(db).await?;
    if rows.is_empty() && page.boundary().is_none() {
        return Err(Error::NotFound(format!(
            "resource {}/{}",
            key.resource_type, key.resource_name
        )));
    }
    Ok(Page::from_request(rows, page, |v| v.serial).map(VersionView::from))
}

/// One version of a resource.
pub async fn get(db: &impl ConnectionTrait, key: &ResourceKey, serial: i64) -> Result<VersionView> {
    versions::Entity::find()
        .filter(of(key))
        .filter(versions::Column::Serial.eq(serial))
        .one(db)
        .await?
        .map(VersionView::from)
        .ok_or_else(|| {
            Error::NotFound(format!(
                "version {serial} of resource {}/{}",
                key.resource_type, key.resource_name
            ))
        })
}

/// Writes the state of version `serial` as the resource's state (a new version, unless it
/// is the current state already), honouring `If-Match`. A deletion cannot be restored.
///
/// Unlike an engine's routine writes, a restore is a person or a tool putting an old state
/// back on purpose, so it is also written to the audit trail (with the version it wrote), in
/// the transaction of the change.
#[tracing::instrument(name = "orchestration.versions.restore", skip_all)]
pub async fn restore(
    db: &DatabaseConnection,
    actor: &Actor,
    ip: Option<String>,
    key: &ResourceKey,
    serial: i64,
    if_match: Option<String>,
) -> Result<Written> {
    let txn = begin_write(db).await?;
    let version = get(&txn, key, serial).await?;
    let Some(state) = version.state else {
        return Err(Error::invalid(
            "serial",
            format!("version {serial} is a deletion; it has no state to restore"),
        ));
    };
    let write = StateWrite {
        state,
        run_id: None,
        if_match,
    };
    let written = put_in(&txn, actor, key, write).await?;
    let entry = AuditEntry::new("resource.restored", actor)
        .target(format!("{}/{}", key.resource_type, key.resource_name))
        .ip(ip)
        .details(json!({
            "serial": serial,
            "restored_as": written.resource.serial,
            "changed": written.resource.changed,
            "hash": written.resource.hash,
        }));
    commit_audited(txn, entry, &[]).await?;
    Ok(written)
}
