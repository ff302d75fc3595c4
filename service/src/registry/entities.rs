//! Entities: the filtered keyset list, one entity, replace, delete, enable / disable.

use chrono::{DateTime, Utc};
use entity::entities::{self, Column};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde::Serialize;
use serde_json::json;

use super::EntityInput;
use crate::audit::{self, Actor, AuditEntry};
use crate::db::begin_write;
use crate::pagination::{Page, PageRequest, Sort, SortField, past_key};
use crate::{Error, Result};

/// An entity as the API and pages show it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct EntityView {
    pub entity_id: String,
    pub device_id: Option<String>,
    pub domain: String,
    pub platform: Option<String>,
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<entities::Model> for EntityView {
    fn from(e: entities::Model) -> Self {
        Self {
            entity_id: e.entity_id,
            device_id: e.device_id,
            domain: e.domain,
            platform: e.platform,
            disabled: e.disabled,
            created_at: e.created_at.to_utc(),
            updated_at: e.updated_at.to_utc(),
        }
    }
}

/// Filters of the entity list; empty strings mean "no filter".
#[derive(Debug, Clone, Default)]
pub struct EntityFilter {
    pub device_id: Option<String>,
    pub domain: Option<String>,
    pub platform: Option<String>,
    pub disabled: Option<bool>,
}

/// The sortable columns of the entity list, each on an index ending in the entity id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntitySortField {
    EntityId,
    Domain,
}

impl SortField for EntitySortField {
    const ALL: &'static [Self] = &[Self::EntityId, Self::Domain];

    fn name(self) -> &'static str {
        match self {
            Self::EntityId => "entity_id",
            Self::Domain => "domain",
        }
    }
}

/// The entity list's order.
pub type EntitySort = Sort<EntitySortField>;

/// The default order: by entity id.
pub const BY_ENTITY_ID: EntitySort = Sort {
    field: EntitySortField::EntityId,
    descending: false,
};

/// Where a page of entities starts or ends: the entity id, with the domain first when sorted
/// by domain. A bare id reads as cursors did before sorting existed.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
#[serde(untagged)]
pub enum EntityKey {
    Id(String),
    Text(String, String),
}

impl EntityKey {
    fn holds_nul(&self) -> bool {
        match self {
            Self::Id(id) => id.contains('\0'),
            Self::Text(v, id) => v.contains('\0') || id.contains('\0'),
        }
    }
}

/// A page of entities in `sort` order.
pub async fn list(
    db: &impl ConnectionTrait,
    filter: &EntityFilter,
    sort: EntitySort,
    page: &PageRequest<EntityKey>,
) -> Result<Page<EntityView>> {
    if page.boundary().is_some_and(EntityKey::holds_nul) {
        return Err(Error::invalid("cursor", "is not a valid cursor"));
    }
    // No stored text holds a NUL character (PostgreSQL refuses them in a query).
    if [&filter.device_id, &filter.domain, &filter.platform]
        .iter()
        .any(|v| v.as_ref().is_some_and(|s| s.contains('\0')))
    {
        return Ok(Page::empty());
    }
    let set = |v: &Option<String>| v.clone().filter(|s| !s.is_empty());
    let mut cond = Condition::all();
    if let Some(d) = set(&filter.device_id) {
        cond = cond.add(Column::DeviceId.eq(d));
    }
    if let Some(d) = set(&filter.domain) {
        cond = cond.add(Column::Domain.eq(d));
    }
    if let Some(p) = set(&filter.platform) {
        cond = cond.add(Column::Platform.eq(p));
    }
    if let Some(disabled) = filter.disabled {
        cond = cond.add(Column::Disabled.eq(disabled));
    }
    // Reading backward walks the same index the other way.
    let order = sort.order(page);
    let descending = order == sea_orm::Order::Desc;
    let by_domain = sort.field == EntitySortField::Domain;
    match (by_domain, page.boundary()) {
        (_, None) => {}
        (false, Some(EntityKey::Id(id))) => {
            cond = cond.add(if descending {
                Column::EntityId.lt(id.as_str())
            } else {
                Column::EntityId.gt(id.as_str())
            });
        }
        (true, Some(EntityKey::Text(domain, id))) => {
            cond = cond.add(past_key(
                Column::Domain,
                domain.as_str(),
                Column::EntityId,
                id.as_str(),
                descending,
            ));
        }
        _ => return Err(Error::invalid("cursor", "is not a valid cursor")),
    }
    let mut query = entities::Entity::find().filter(cond);
    if by_domain {
        query = query.order_by(Column::Domain, order.clone());
    }
    let rows = query
        .order_by(Column::EntityId, order)
        .limit(page.limit + 1)
        .all(db)
        .await?;
    Ok(Page::from_request(rows, page, |e| {
        if by_domain {
            EntityKey::Text(e.domain.clone(), e.entity_id.clone())
        } else {
            EntityKey::Id(e.entity_id.clone())
        }
    })
    .map(EntityView::from))
}

/// How many entities each of `device_ids` has (devices without any are left out).
pub async fn counts_by_device(
    db: &impl ConnectionTrait,
    device_ids: &[String],
) -> Result<Vec<(String, i64)>> {
    if device_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(entities::Entity::find()
        .select_only()
        .column(Column::DeviceId)
        .column_as(Column::EntityId.count(), "n")
        .filter(Column::DeviceId.is_in(device_ids.iter().map(String::as_str)))
        .group_by(Column::DeviceId)
        .into_tuple::<(String, i64)>()
        .all(db)
        .await?)
}

/// One entity.
pub async fn get(db: &impl ConnectionTrait, entity_id: &str) -> Result<EntityView> {
    // An id that breaks the rules names no entity (and never reaches the database).
    super::input::EntityId::parse(entity_id)
        .map_err(|_| Error::NotFound(format!("entity {entity_id}")))?;
    entities::Entity::find_by_id(entity_id)
        .one(db)
        .await?
        .map(EntityView::from)
        .ok_or_else(|| Error::NotFound(format!("entity {entity_id}")))
}

/// Creates or replaces an entity; `true` when it was created. Its device must exist.
#[tracing::instrument(name = "registry.entities.put", skip_all)]
pub async fn put(
    db: &DatabaseConnection,
    actor: &Actor,
    ip: Option<String>,
    input: EntityInput,
) -> Result<(EntityView, bool)> {
    let txn = begin_write(db).await?;
    let (stored, entry) = put_in(&txn, actor, ip, &input).await?;
    audit::commit_audited(txn, entry, &[]).await?;
    Ok(stored)
}

/// Creates an entity that does not exist yet: unlike [`put`], an id already in use is a
/// conflict under `entity_id` rather than a replacement (the console's "new entity" form).
/// The check and the insert share one transaction, so two creations of one id cannot both
/// pass it.
#[tracing::instrument(name = "registry.entities.create", skip_all)]
pub async fn create(
    db: &DatabaseConnection,
    actor: &Actor,
    ip: Option<String>,
    input: EntityInput,
) -> Result<EntityView> {
    let txn = begin_write(db).await?;
    if entities::Entity::find_by_id(input.entity_id.as_str())
        .one(&txn)
        .await?
        .is_some()
    {
        return Err(Error::Conflict {
            message: format!("an entity {} exists", input.entity_id.as_str()),
            details: vec![crate::FieldError::new(
                "entity_id",
                "is already in use by another entity",
            )],
        });
    }
    let ((view, _), entry) = put_in(&txn, actor, ip, &input).await?;
    audit::commit_audited(txn, entry, &[]).await?;
    Ok(view)
}

/// Creates or replaces an entity inside `txn`, without committing: answers the entity,
/// whether it was created, and the audit row that records the change. Its device must exist.
pub async fn put_in(
    txn: &impl ConnectionTrait,
    actor: &Actor,
    ip: Option<String>,
    input: &EntityInput,
) -> Result<((EntityView, bool), AuditEntry)> {
    let counts = super::bulk::write_entities(txn, std::slice::from_ref(input)).await?;
    let created = counts.created == 1;
    let view = get(txn, input.entity_id.as_str()).await?;
    let entry = AuditEntry::new(
        if created {
            "entity.created"
        } else {
            "entity.updated"
        },
        actor,
    )
    .target(view.entity_id.clone())
    .details(
        json!({"device_id": view.device_id, "platform": view.platform,
        "disabled": view.disabled}),
    )
    .ip(ip);
    Ok(((view, created), entry))
}

/// Enables or disables an entity (the toggle of the entity page).
#[tracing::instrument(
    name = "registry.entities.set_disabled",
    skip_all,
    fields(entity_id, disabled)
)]
pub async fn set_disabled(
    db: &DatabaseConnection,
    actor: &Actor,
    ip: Option<String>,
    entity_id: &str,
    disabled: bool,
) -> Result<EntityView> {
    get(db, entity_id).await?;
    let txn = begin_write(db).await?;
    let current = entities::Entity::find_by_id(entity_id)
        .one(&txn)
        .await?
        .ok_or_else(|| Error::NotFound(format!("entity {entity_id}")))?;
    let mut row: entities::ActiveModel = current.into();
    row.disabled = Set(disabled);
    row.updated_at = Set(Utc::now().fixed_offset());
    let view = EntityView::from(row.update(&txn).await?);
    audit::commit_audited(
        txn,
        AuditEntry::new(
            if disabled {
                "entity.disabled"
            } else {
                "entity.enabled"
            },
            actor,
        )
        .target(entity_id.to_string())
        .ip(ip),
        &[],
    )
    .await?;
    Ok(view)
}

/// Deletes an entity.
#[tracing::instrument(name = "registry.entities.delete", skip_all, fields(entity_id))]
pub async fn delete(
    db: &DatabaseConnection,
    actor: &Actor,
    ip: Option<String>,
    entity_id: &str,
) -> Result<()> {
    let txn = begin_write(db).await?;
    let view = get(&txn, entity_id).await?;
    entities::Entity::delete_by_id(entity_id).exec(&txn).await?;
    audit::commit_audited(
        txn,
        AuditEntry::new("entity.deleted", actor)
            .target(entity_id.to_string())
            .details(json!({"device_id": view.device_id}))
            .ip(ip),
        &[],
    )
    .await?;
    Ok(())
}
