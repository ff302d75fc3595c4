//! A device with its entities, by id: what `GET /api/devices/{id}` and the device pages read.

use std::collections::HashMap;
use std::sync::LazyLock;

use entity::{devices, entities};
use rusqlite::{Connection, Row};
use sea_orm::sea_query::extension::postgres::PgFunc;
use sea_orm::sea_query::{Expr, ExprTrait, Order, Query, SqliteQueryBuilder};
use sea_orm::{DatabaseConnection, EntityTrait, QueryFilter};

use super::super::Handle;
use super::super::coalesced::Coalesced;
use super::super::per_pool::PerPool;
use super::super::point_reads::Timestamp;
use crate::Result;
use crate::registry::{DeviceDetail, DeviceView, EntityView};

/// The device `device_id` with its entities in id order; `None` when there is no such device.
pub async fn device(db: &impl Handle, device_id: &str) -> Result<Option<DeviceDetail>> {
    super::read(
        db,
        &DEVICES,
        device_id.to_owned(),
        |c| device_here(c, device_id),
        devices_batch,
        || async {
            // One query: a `LEFT JOIN` on the entities' device index.
            Ok(devices::Entity::find_by_id(device_id)
                .find_with_related(entities::Entity)
                .all(db)
                .await?
                .pop()
                .map(|(device, related)| DeviceDetail::of(device, related)))
        },
    )
    .await
}

/// The devices read together on each PostgreSQL pool.
static DEVICES: PerPool<Coalesced<String, DeviceDetail>> = PerPool::new();

/// The devices of `ids` that exist, each with its entities, in one query (PostgreSQL).
async fn devices_batch(
    db: DatabaseConnection,
    ids: Vec<String>,
) -> Result<HashMap<String, DeviceDetail>> {
    let found = devices::Entity::find()
        .filter(Expr::col((devices::Entity, devices::Column::DeviceId)).eq(PgFunc::any(ids)))
        .find_with_related(entities::Entity)
        .all(&db)
        .await?;
    Ok(found
        .into_iter()
        .map(|(device, related)| (device.device_id.clone(), DeviceDetail::of(device, related)))
        .collect())
}

/// The device's columns, in the order [`device_columns`] reads them.
const DEVICE: [devices::Column; 9] = [
    devices::Column::DeviceId,
    devices::Column::Name,
    devices::Column::Manufacturer,
    devices::Column::Model,
    devices::Column::AreaId,
    devices::Column::Integration,
    devices::Column::LastSeen,
    devices::Column::CreatedAt,
    devices::Column::UpdatedAt,
];

/// The entity's columns, after the device's, in the order [`entity_columns`] reads them.
const ENTITY: [entities::Column; 6] = [
    entities::Column::EntityId,
    entities::Column::Domain,
    entities::Column::Platform,
    entities::Column::Disabled,
    entities::Column::CreatedAt,
    entities::Column::UpdatedAt,
];

/// One row per entity (one row with empty entity columns for a device without any), built
/// once from the entity definitions; the device id is its one parameter.
static SQL: LazyLock<String> = LazyLock::new(|| {
    Query::select()
        .columns(DEVICE.map(|c| (devices::Entity, c)))
        .columns(ENTITY.map(|c| (entities::Entity, c)))
        .from(devices::Entity)
        .left_join(
            entities::Entity,
            Expr::col((entities::Entity, entities::Column::DeviceId))
                .equals((devices::Entity, devices::Column::DeviceId)),
        )
        .and_where(Expr::col((devices::Entity, devices::Column::DeviceId)).eq(""))
        .order_by((entities::Entity, entities::Column::EntityId), Order::Asc)
        .build(SqliteQueryBuilder)
        .0
});

/// The device `device_id` with its entities in id order, read here.
fn device_here(connection: &Connection, device_id: &str) -> rusqlite::Result<Option<DeviceDetail>> {
    let mut statement = connection.prepare_cached(&SQL)?;
    let mut rows = statement.query([device_id])?;
    let mut detail: Option<DeviceDetail> = None;
    while let Some(row) = rows.next()? {
        let found = match &mut detail {
            Some(found) => found,
            None => detail.insert(DeviceDetail {
                device: device_columns(row)?,
                entities: Vec::new(),
            }),
        };
        if let Some(entity) = entity_columns(row, &found.device.device_id)? {
            found.entities.push(entity);
        }
    }
    Ok(detail)
}

fn device_columns(row: &Row<'_>) -> rusqlite::Result<DeviceView> {
    Ok(DeviceView {
        device_id: row.get(0)?,
        name: row.get(1)?,
        manufacturer: row.get(2)?,
        model: row.get(3)?,
        area_id: row.get(4)?,
        integration: row.get(5)?,
        last_seen: row.get::<_, Option<Timestamp>>(6)?.map(|t| t.0),
        created_at: row.get::<_, Timestamp>(7)?.0,
        updated_at: row.get::<_, Timestamp>(8)?.0,
    })
}

/// The entity of a row, `None` on the row of a device without entities.
fn entity_columns(row: &Row<'_>, device_id: &str) -> rusqlite::Result<Option<EntityView>> {
    let at = DEVICE.len();
    let Some(entity_id) = row.get::<_, Option<String>>(at)? else {
        return Ok(None);
    };
    Ok(Some(EntityView {
        entity_id,
        device_id: Some(device_id.to_owned()),
        domain: row.get(at + 1)?,
        platform: row.get(at + 2)?,
        disabled: row.get(at + 3)?,
        created_at: row.get::<_, Timestamp>(at + 4)?.0,
        updated_at: row.get::<_, Timestamp>(at + 5)?.0,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::Actor;
    use crate::db::migrated_file_database;
    use crate::db::point_reads;
    use crate::registry::bulk;
    use crate::registry::input::{RawDevice, RawEntity};
    use sea_orm::TransactionTrait;

    #[tokio::test]
    async fn a_read_here_answers_what_the_pool_query_answers() {
        let (_dir, path, db) = migrated_file_database().await;
        let device = |id: &str, seen: Option<&str>| RawDevice {
            device_id: Some(id.into()),
            name: Some(format!("<b>{id}</b> ' OR 1=1")),
            manufacturer: Some("Acme".into()),
            last_seen: seen.map(Into::into),
            ..Default::default()
        };
        let devices = vec![
            device("with-two", Some("2026-01-02T03:04:05.123456Z")),
            device("without", None),
        ];
        bulk::upsert_devices(&db, &Actor::System, None, devices)
            .await
            .unwrap();
        let entity = |id: &str| RawEntity {
            entity_id: Some(id.into()),
            device_id: Some("with-two".into()),
            domain: Some("sensor".into()),
            ..Default::default()
        };
        let entities = vec![entity("sensor.b"), entity("sensor.a")];
        bulk::upsert_entities(&db, &Actor::System, None, entities)
            .await
            .unwrap();

        let connection = Connection::open(&path).unwrap();
        for id in ["with-two", "without", "missing"] {
            let here = device_here(&connection, id).unwrap();
            let alone = super::device(&db.begin().await.unwrap(), id).await.unwrap();
            assert_eq!(here, alone, "{id}");
        }
        let two = device_here(&connection, "with-two").unwrap().unwrap();
        let ids: Vec<&str> = two.entities.iter().map(|e| e.entity_id.as_str()).collect();
        assert_eq!(ids, ["sensor.a", "sensor.b"]);
        assert!(two.device.last_seen.is_some());

        // The pool's own connection answers through this thread's read-only connection.
        let read = point_reads::read(&db, |c| device_here(c, "without")).unwrap();
        assert_eq!(read.unwrap().device.device_id, "without");
    }
}
