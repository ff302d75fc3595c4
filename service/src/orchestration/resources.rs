//! Resource state: one current state per (type, name), hashed by the server, written with
//! optimistic concurrency (`If-Match`), and every change kept as a version (see
//! [`super::versions`]). A write of the state already there changes nothing.

use chrono::{DateTime, Utc};
use entity::resource_state;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait,
    ExprTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use super::canonical::state_hash;
use super::input::OpsKey;
use super::{now, versions};
use crate::audit::Actor;
use crate::db::{Handle, begin_write};
use crate::pagination::{Page, PageRequest};
use crate::{Error, FieldError, Result};

/// A resource's current state as the API renders it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ResourceView {
    pub resource_type: String,
    pub resource_name: String,
    #[schema(value_type = Object)]
    pub state: Value,
    /// SHA-256 (hex) of the state's canonical JSON (RFC 8785).
    pub hash: String,
    /// The serial of the version this state is.
    pub serial: i64,
    pub last_run_id: Option<String>,
    pub last_applied: Option<DateTime<Utc>>,
    /// In a write's answer: whether it changed the state.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub changed: Option<bool>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<resource_state::Model> for ResourceView {
    fn from(r: resource_state::Model) -> Self {
        Self {
            resource_type: r.resource_type,
            resource_name: r.resource_name,
            state: r.state,
            hash: r.hash,
            serial: r.serial,
            last_run_id: r.last_run_id,
            last_applied: r.last_applied.map(|t| t.to_utc()),
            changed: None,
            created_at: r.created_at.to_utc(),
            updated_at: r.updated_at.to_utc(),
        }
    }
}

/// A resource's address: its type and name.
#[derive(Debug, Clone)]
pub struct ResourceKey {
    pub resource_type: OpsKey,
    pub resource_name: OpsKey,
}

impl ResourceKey {
    /// Checks a type and a name from a path.
    pub fn parse(resource_type: &str, resource_name: &str) -> Result<Self> {
        let t = OpsKey::parse(resource_type, "type");
        let n = OpsKey::parse(resource_name, "name");
        match (t, n) {
            (Ok(resource_type), Ok(resource_name)) => Ok(Self {
                resource_type,
                resource_name,
            }),
            (t, n) => Err(Error::Validation(
                [t.err(), n.err()]
                    .into_iter()
                    .flatten()
                    .flat_map(|e| match e {
                        Error::Validation(errors) => errors,
                        _ => Vec::new(),
                    })
                    .collect(),
            )),
        }
    }

    fn describe(&self) -> String {
        format!("resource {}/{}", self.resource_type, self.resource_name)
    }
}

/// A write of a resource's state.
#[derive(Debug, Clone)]
pub struct StateWrite {
    pub state: Value,
    pub run_id: Option<String>,
    /// The hash the writer last read (`If-Match`); another current hash is a conflict.
    pub if_match: Option<String>,
}

/// What a write did.
#[derive(Debug, Clone)]
pub struct Written {
    pub resource: ResourceView,
    /// The resource did not exist (or had been deleted).
    pub created: bool,
}

pub(crate) async fn find(
    db: &impl ConnectionTrait,
    key: &ResourceKey,
    lock: bool,
) -> Result<Option<resource_state::Model>> {
    use resource_state::Column;
    let mut query = resource_state::Entity::find()
        .filter(Column::ResourceType.eq(key.resource_type.as_str()))
        .filter(Column::ResourceName.eq(key.resource_name.as_str()));
    if lock {
        query = query.lock_exclusive();
    }
    Ok(query.one(db).await?)
}

/// The `409` of a write whose `If-Match` is not the current hash.
fn stale(key: &ResourceKey, current: Option<&str>) -> Error {
    Error::Conflict {
        message: match current {
            Some(hash) => format!("{} has changed: its hash is now {hash}", key.describe()),
            None => format!("{} does not exist, so no hash can match", key.describe()),
        },
        details: vec![FieldError::new("If-Match", "is not the current hash")],
    }
}

/// Writes a resource's state in one transaction: checks `If-Match`, does nothing when the
/// hash is unchanged (`changed: false`), else writes the state and appends its version.
#[tracing::instrument(name = "orchestration.resources.put", skip_all)]
pub async fn put(
    db: &DatabaseConnection,
    actor: &Actor,
    key: &ResourceKey,
    write: StateWrite,
) -> Result<Written> {
    let txn = begin_write(db).await?;
    let written = put_in(&txn, actor, key, write).await?;
    txn.commit().await?;
    Ok(written)
}

/// [`put`] inside the caller's transaction.
pub(crate) async fn put_in(
    txn: &impl ConnectionTrait,
    actor: &Actor,
    key: &ResourceKey,
    write: StateWrite,
) -> Result<Written> {
    let hash = state_hash(&write.state);
    let current = find(txn, key, true).await?;
    if let Some(expected) = &write.if_match
        && current.as_ref().map(|c| c.hash.as_str()) != Some(expected.as_str())
    {
        return Err(stale(key, current.as_ref().map(|c| c.hash.as_str())));
    }
    let at = now().fixed_offset();
    let Some(current) = current else {
        let serial = versions::last_serial(txn, key).await? + 1;
        let row = resource_state::ActiveModel {
            id: Set(Uuid::now_v7().to_string()),
            resource_type: Set(key.resource_type.as_str().to_string()),
            resource_name: Set(key.resource_name.as_str().to_string()),
            state: Set(write.state.clone()),
            hash: Set(hash.clone()),
            last_run_id: Set(write.run_id.clone()),
            last_applied: Set(Some(at)),
            created_at: Set(at),
            updated_at: Set(at),
            serial: Set(serial),
        };
        let row = row.insert(txn).await?;
        versions::append(
            txn,
            key,
            serial,
            Some((&hash, &write.state)),
            write.run_id,
            actor,
        )
        .await?;
        let mut resource = ResourceView::from(row);
        resource.changed = Some(true);
        return Ok(Written {
            resource,
            created: true,
        });
    };
    if current.hash == hash {
        let mut resource = ResourceView::from(current);
        resource.changed = Some(false);
        return Ok(Written {
            resource,
            created: false,
        });
    }
    let serial = current.serial + 1;
    let mut row: resource_state::ActiveModel = current.into();
    row.state = Set(write.state.clone());
    row.hash = Set(hash.clone());
    row.last_run_id = Set(write.run_id.clone());
    row.last_applied = Set(Some(at));
    row.updated_at = Set(at);
    row.serial = Set(serial);
    let row = row.update(txn).await?;
    versions::append(
        txn,
        key,
        serial,
        Some((&hash, &write.state)),
        write.run_id,
        actor,
    )
    .await?;
    let mut resource = ResourceView::from(row);
    resource.changed = Some(true);
    Ok(Written {
        resource,
        created: false,
    })
}

/// A resource's current state: through the pool on the fastest read path the backend offers
/// (`db::hot::resource`), inside a transaction on that transaction.
pub async fn get(db: &impl Handle, key: &ResourceKey) -> Result<ResourceView> {
    crate::db::hot::resource::resource(db, key)
        .await?
        .ok_or_else(|| Error::NotFound(key.describe()))
}

/// Deletes a resource's state; its history gains a last version whose state is null (a later
/// write continues the serial).
#[tracing::instrument(name = "orchestration.resources.delete", skip_all)]
pub async fn delete(
    db: &DatabaseConnection,
    actor: &Actor,
    key: &ResourceKey,
    if_match: Option<String>,
) -> Result<()> {
    let txn = begin_write(db).await?;
    let current = find(&txn, key, true)
        .await?
        .ok_or_else(|| Error::NotFound(key.describe()))?;
    if let Some(expected) = if_match
        && expected != current.hash
    {
        return Err(stale(key, Some(&current.hash)));
    }
    let serial = current.serial + 1;
    resource_state::Entity::delete_by_id(current.id)
        .exec(&txn)
        .await?;
    versions::append(&txn, key, serial, None, None, actor).await?;
    txn.commit().await?;
    Ok(())
}

/// Key of the resource list: (type, name), ascending.
pub type ResourceListKey = (String, String);

/// A page of resources by type and name, of one type or all.
pub async fn list(
    db: &impl ConnectionTrait,
    resource_type: Option<&str>,
    page: &PageRequest<ResourceListKey>,
) -> Result<Page<ResourceView>> {
    use resource_state::Column;
    let mut query = resource_state::Entity::find().limit(page.limit + 1);
    let descending = page.reads_descending(false);
    if let Some((t, n)) = page.boundary() {
        query = query.filter(if descending {
            Condition::any()
                .add(Column::ResourceType.lt(t.as_str()))
                .add(
                    Column::ResourceType
                        .eq(t.as_str())
                        .and(Column::ResourceName.lt(n.as_str())),
                )
        } else {
            Condition::any()
                .add(Column::ResourceType.gt(t.as_str()))
                .add(
                    Column::ResourceType
                        .eq(t.as_str())
                        .and(Column::ResourceName.gt(n.as_str())),
                )
        });
    }
    query = if descending {
        query
            .order_by_desc(Column::ResourceType)
            .order_by_desc(Column::ResourceName)
    } else {
        query
            .order_by_asc(Column::ResourceType)
            .order_by_asc(Column::ResourceName)
    };
    if let Some(t) = resource_type {
        query = query.filter(Column::ResourceType.eq(t));
    }
    let rows = query.all(db).await?;
    Ok(Page::from_request(rows, page, |r| {
        (r.resource_type.clone(), r.resource_name.clone())
    })
    .map(ResourceView::from))
}

/// The distinct resource types, for the console's filter.
pub async fn types(db: &impl ConnectionTrait) -> Result<Vec<String>> {
    use resource_state::Column;
    Ok(resource_state::Entity::find()
        .select_only()
        .column(Column::ResourceType)
        .distinct()
        .order_by_asc(Column::ResourceType)
        .limit(500)
        .into_tuple()
        .all(db)
        .await?)
}
