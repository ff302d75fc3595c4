//! Devices: the filtered keyset list, one device with its entities, replace and delete.

use chrono::{DateTime, Utc};
use entity::devices::{self, Column};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, ExprTrait,
    QueryFilter, QueryOrder, QuerySelect,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::DeviceInput;
use super::entities::EntityView;
use super::events;
use crate::audit::{self, Actor, AuditEntry};
use crate::db::{Handle, begin_write, hot};
use crate::pagination::{Page, PageRequest};
use crate::vocabulary::equals_ignoring_case;
use crate::webhooks::EventType;
use crate::{Error, Result};

/// A device as the API and pages show it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct DeviceView {
    pub device_id: String,
    pub name: String,
    pub manufacturer: Option<String>,
    pub model: Option<String>,
    pub area_id: Option<String>,
    pub integration: Option<String>,
    pub last_seen: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<devices::Model> for DeviceView {
    fn from(d: devices::Model) -> Self {
        Self {
            device_id: d.device_id,
            name: d.name,
            manufacturer: d.manufacturer,
            model: d.model,
            area_id: d.area_id,
            integration: d.integration,
            last_seen: d.last_seen.map(|t| t.to_utc()),
            created_at: d.created_at.to_utc(),
            updated_at: d.updated_at.to_utc(),
        }
    }
}

/// A device with its entities (`GET /api/devices/{id}`, the device page).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct DeviceDetail {
    #[serde(flatten)]
    pub device: DeviceView,
    pub entities: Vec<EntityView>,
}

impl DeviceDetail {
    /// A stored device and its entities, shown in entity id order.
    pub(crate) fn of(device: devices::Model, mut related: Vec<entity::entities::Model>) -> Self {
        related.sort_by(|a, b| a.entity_id.cmp(&b.entity_id));
        Self {
            device: device.into(),
            entities: related.into_iter().map(EntityView::from).collect(),
        }
    }
}

/// Filters of the device list; empty strings mean "no filter".
#[derive(Debug, Clone, Default)]
pub struct DeviceFilter {
    pub area_id: Option<String>,
    pub manufacturer: Option<String>,
    pub integration: Option<String>,
    /// Case-insensitive substring of the name or the device id.
    pub q: Option<String>,
}

impl DeviceFilter {
    /// No stored text holds a NUL character, so a filter with one matches nothing (and is
    /// never sent to PostgreSQL, which refuses it).
    fn matches_nothing(&self) -> bool {
        [
            &self.area_id,
            &self.manufacturer,
            &self.integration,
            &self.q,
        ]
        .iter()
        .any(|v| v.as_ref().is_some_and(|s| s.contains('\0')))
    }
}

/// Orders of the device list; each walks an index so every page costs the same.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum DeviceSort {
    #[default]
    IdAsc,
    IdDesc,
    NameAsc,
    NameDesc,
}

impl DeviceSort {
    /// Parses the page's `sort` parameter (`device_id`, `-device_id`, `name`, `-name`).
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "" | "device_id" => Some(Self::IdAsc),
            "-device_id" => Some(Self::IdDesc),
            "name" => Some(Self::NameAsc),
            "-name" => Some(Self::NameDesc),
            _ => None,
        }
    }

    /// The `sort` parameter naming this order.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::IdAsc => "device_id",
            Self::IdDesc => "-device_id",
            Self::NameAsc => "name",
            Self::NameDesc => "-name",
        }
    }

    fn by_name(self) -> bool {
        matches!(self, Self::NameAsc | Self::NameDesc)
    }

    fn descending(self) -> bool {
        matches!(self, Self::IdDesc | Self::NameDesc)
    }
}

/// The keyset of the device list: the last device's id (and name, when sorted by name).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeviceKey {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// A `LIKE` pattern matching `q` anywhere, with `\` escaping the wildcards.
pub(crate) fn contains_pattern(q: &str) -> String {
    let escaped = q
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

/// `column` contains `q`, without regard to case (ASCII on SQLite, Unicode on PostgreSQL).
///
/// SQLite gets `+col LIKE ?`: its `LIKE` ignores ASCII case as it compares, where
/// `instr(lower(col), ?)` built a lowered copy of every value it looked at (three times the
/// time of a search's scan). The unary `+` keeps the term off every index, so the planner
/// walks the primary key in order and stops at the page's end instead of trying a `LIKE`
/// range and sorting every match.
///
/// PostgreSQL lowers the column under the database's collation: the column's own, `"C"`
/// (byte order for sorting), would fold ASCII letters only.
fn contains(backend: DbBackend, column: Column, q: &str) -> sea_orm::sea_query::SimpleExpr {
    let name = match column {
        Column::DeviceId => "device_id",
        _ => "name",
    };
    // Each builder has its own placeholder: `$1` for PostgreSQL, `?` for SQLite.
    let (term, placeholder, q) = match backend {
        DbBackend::Postgres => (
            format!("lower(\"devices\".\"{name}\" COLLATE \"default\")"),
            "$1",
            q.to_lowercase(),
        ),
        _ => (format!("+\"devices\".\"{name}\""), "?", q.to_owned()),
    };
    Expr::cust_with_values(
        format!("{term} LIKE {placeholder} ESCAPE '\\'"),
        [contains_pattern(&q)],
    )
}

fn filter_condition(backend: DbBackend, filter: &DeviceFilter) -> Condition {
    let mut cond = Condition::all();
    let set = |v: &Option<String>| v.clone().filter(|s| !s.is_empty());
    // The vocabulary filters ignore case ("ikea" finds "IKEA"), each on its lowered index.
    for (column, value) in [
        ("area_id", &filter.area_id),
        ("manufacturer", &filter.manufacturer),
        ("integration", &filter.integration),
    ] {
        if let Some(value) = set(value) {
            cond = cond.add(equals_ignoring_case(backend, "devices", column, &value));
        }
    }
    if let Some(q) = filter.q.as_deref().filter(|q| !q.trim().is_empty()) {
        cond = cond.add(
            Condition::any()
                .add(contains(backend, Column::Name, q))
                .add(contains(backend, Column::DeviceId, q)),
        );
    }
    cond
}

/// A page of devices in `sort` order.
pub async fn list(
    db: &impl ConnectionTrait,
    filter: &DeviceFilter,
    sort: DeviceSort,
    page: &PageRequest<DeviceKey>,
) -> Result<Page<DeviceView>> {
    if let Some(after) = page.boundary()
        && (after.id.contains('\0') || after.name.as_ref().is_some_and(|n| n.contains('\0')))
    {
        return Err(Error::invalid("cursor", "is not a valid cursor"));
    }
    if filter.matches_nothing() {
        return Ok(Page::from_rows(Vec::new(), page.limit, |d: &DeviceView| {
            d.device_id.clone()
        }));
    }
    let mut query = devices::Entity::find()
        .filter(filter_condition(db.get_database_backend(), filter))
        .limit(page.limit + 1);
    // Reading backward walks the same index the other way.
    let desc = page.reads_descending(sort.descending());
    if let Some(after) = page.boundary() {
        let id_past = if desc {
            Column::DeviceId.lt(after.id.as_str())
        } else {
            Column::DeviceId.gt(after.id.as_str())
        };
        query = match (sort.by_name(), &after.name) {
            (true, Some(name)) => {
                let name_past = if desc {
                    Column::Name.lt(name.as_str())
                } else {
                    Column::Name.gt(name.as_str())
                };
                query.filter(
                    Condition::any()
                        .add(name_past)
                        .add(Column::Name.eq(name.as_str()).and(id_past)),
                )
            }
            (true, None) => return Err(Error::invalid("cursor", "is not a valid cursor")),
            (false, _) => query.filter(id_past),
        };
    }
    let order = if desc {
        sea_orm::Order::Desc
    } else {
        sea_orm::Order::Asc
    };
    if sort.by_name() {
        query = query.order_by(Column::Name, order.clone());
    }
    query = query.order_by(Column::DeviceId, order);
    let rows = query.all(db).await?;
    let by_name = sort.by_name();
    Ok(Page::from_request(rows, page, |d| DeviceKey {
        id: d.device_id.clone(),
        name: by_name.then(|| d.name.clone()),
    })
    .map(DeviceView::from))
}

/// How many devices match `filter`, counting no further than `cap` (pages show "10,000+").
pub async fn count_capped(
    db: &impl ConnectionTrait,
    filter: &DeviceFilter,
    cap: u64,
) -> Result<u64> {
    if filter.matches_nothing() {
        return Ok(0);
    }
    let ids: Vec<String> = devices::Entity::find()
        .select_only()
        .column(Column::DeviceId)
        .filter(filter_condition(db.get_database_backend(), filter))
        .limit(cap + 1)
        .into_tuple()
        .all(db)
        .await?;
    Ok(ids.len() as u64)
}

/// One device, without its entities (the lean path of `GET /api/devices/{id}`'s device part).
pub async fn find(db: &impl ConnectionTrait, device_id: &str) -> Result<DeviceView> {
    super::input::DeviceId::parse(device_id)
        .map_err(|_| Error::NotFound(format!("device {device_id}")))?;
    devices::Entity::find_by_id(device_id)
        .one(db)
        .await?
        .map(DeviceView::from)
        .ok_or_else(|| Error::NotFound(format!("device {device_id}")))
}

/// One device with its entities ([`crate::db::hot::device`], the one read of this row).
pub async fn get(db: &impl Handle, device_id: &str) -> Result<DeviceDetail> {
    // An id that breaks the rules names no device (and never reaches the database).
    super::input::DeviceId::parse(device_id)
        .map_err(|_| Error::NotFound(format!("device {device_id}")))?;
    hot::device::device(db, device_id)
        .await?
        .ok_or_else(|| Error::NotFound(format!("device {device_id}")))
}

/// Creates or replaces a device; `true` when it was created.
#[tracing::instrument(name = "registry.devices.put", skip_all)]
pub async fn put(
    db: &DatabaseConnection,
    actor: &Actor,
    ip: Option<String>,
    input: DeviceInput,
) -> Result<(DeviceView, bool)> {
    let txn = begin_write(db).await?;
    let (stored, entry) = put_in(&txn, actor, ip, &input).await?;
    audit::commit_audited(txn, entry, &[]).await?;
    Ok(stored)
}

/// Creates a device that does not exist yet: unlike [`put`], an id already in use is a
/// conflict under `device_id` rather than a replacement (the console's "new device" form).
/// The check and the insert share one transaction, so two creations of one id cannot both
/// pass it.
#[tracing::instrument(name = "registry.devices.create", skip_all)]
pub async fn create(
    db: &DatabaseConnection,
    actor: &Actor,
    ip: Option<String>,
    input: DeviceInput,
) -> Result<DeviceView> {
    let txn = begin_write(db).await?;
    let id = input.device_id.as_str();
    if devices::Entity::find_by_id(id).one(&txn).await?.is_some() {
        return Err(Error::Conflict {
            message: format!("the device {id} already exists"),
            details: vec![crate::FieldError::new("device_id", "is taken")],
        });
    }
    let ((view, _), entry) = put_in(&txn, actor, ip, &input).await?;
    audit::commit_audited(txn, entry, &[]).await?;
    Ok(view)
}

/// Creates or replaces a device inside `txn` and queues its event, without committing:
/// answers the device, whether it was created, and the audit row that records the change.
pub async fn put_in(
    txn: &impl ConnectionTrait,
    actor: &Actor,
    ip: Option<String>,
    input: &DeviceInput,
) -> Result<((DeviceView, bool), AuditEntry)> {
    let counts = super::bulk::write_devices(txn, std::slice::from_ref(input), false).await?;
    let created = counts.created == 1;
    let view = find(txn, input.device_id.as_str()).await?;
    events::device_changed(txn, &view, created).await?;
    let entry = AuditEntry::new(
        if created {
            "device.created"
        } else {
            "device.updated"
        },
        actor,
    )
    .target(view.device_id.clone())
    .details(json!({"name": view.name, "manufacturer": view.manufacturer,
            "model": view.model, "area_id": view.area_id, "integration": view.integration}))
    .ip(ip);
    Ok(((view, created), entry))
}

/// Deletes a device and, by cascade, its entities.
#[tracing::instrument(name = "registry.devices.delete", skip_all, fields(device_id))]
pub async fn delete(
    db: &DatabaseConnection,
    actor: &Actor,
    ip: Option<String>,
    device_id: &str,
) -> Result<()> {
    let txn = begin_write(db).await?;
    let entry = remove(&txn, actor, ip, device_id).await?;
    audit::commit_audited(txn, entry, &[]).await
}

/// Deletes each of `device_ids` with its entities, all or none, in one transaction with an
/// audit row per device; an id that names no device refuses the whole deletion. Answers how
/// many were deleted.
pub async fn delete_many(
    db: &DatabaseConnection,
    actor: &Actor,
    ip: Option<String>,
    device_ids: &[String],
) -> Result<usize> {
    let txn = begin_write(db).await?;
    let mut entries = Vec::with_capacity(device_ids.len());
    for id in device_ids {
        entries.push(remove(&txn, actor, ip.clone(), id).await?);
    }
    let Some(last) = entries.pop() else {
        return Ok(0);
    };
    for entry in entries {
        audit::record(&txn, entry).await?;
    }
    audit::commit_audited(txn, last, &[]).await?;
    Ok(device_ids.len())
}

/// Deletes one device and its entities inside `txn` and queues its event; answers the audit
/// row that records it.
async fn remove(
    txn: &impl ConnectionTrait,
    actor: &Actor,
    ip: Option<String>,
    device_id: &str,
) -> Result<AuditEntry> {
    let view = find(txn, device_id).await?;
    // Entities go first: the cascade is declared, but deleting them explicitly does not
    // depend on the connection's foreign-key setting.
    let removed = entity::entities::Entity::delete_many()
        .filter(entity::entities::Column::DeviceId.eq(device_id))
        .exec(txn)
        .await?
        .rows_affected;
    devices::Entity::delete_by_id(device_id).exec(txn).await?;
    events::emit_one(
        txn,
        EventType::DeviceDeleted,
        json!({"device_id": device_id}),
    )
    .await?;
    Ok(AuditEntry::new("device.deleted", actor)
        .target(device_id.to_string())
        .details(json!({"name": view.name, "entities_deleted": removed}))
        .ip(ip))
}
