//! `GET /api/devices/{id}` on PostgreSQL: lookups that arrive together are answered by one
//! query ([`crate::db::coalesced`]), each with exactly what [`super::devices::get_through`]
//! answers. (On SQLite the lookup is a point read on the calling thread.)

use std::collections::HashMap;

use entity::{devices, entities};
use sea_orm::sea_query::{Expr, ExprTrait, extension::postgres::PgFunc};
use sea_orm::{DatabaseConnection, EntityTrait, QueryFilter};

use super::devices::{DeviceDetail, get_through};
use crate::Result;
use crate::db::coalesced::{self, Coalesced};
use crate::db::per_pool::PerPool;

/// The batched lookups of each PostgreSQL pool.
static LOOKUPS: PerPool<Coalesced<String, DeviceDetail>> = PerPool::new();

/// The device `device_id` with its entities in id order, `None` when there is no such device.
pub(super) async fn device_detail(
    db: &DatabaseConnection,
    device_id: &str,
) -> Result<Option<DeviceDetail>> {
    coalesced::lookup(&LOOKUPS, db, device_id.to_owned(), details, || {
        get_through(db, device_id)
    })
    .await
}

/// The devices of `ids` that exist, each with its entities, in one query (the `LEFT JOIN` of
/// [`get_through`], for a set of keys).
async fn details(
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
