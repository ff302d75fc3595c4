//! A resource's current state, by its type and name: what `GET
//! /api/ops/resources/{type}/{name}` reads.

use std::collections::HashMap;
use std::sync::LazyLock;

use entity::resource_state as state;
use rusqlite::{Connection, OptionalExtension, Row};
use sea_orm::sea_query::{Expr, ExprTrait, Query, SqliteQueryBuilder};
use sea_orm::{ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter};

use super::super::Handle;
use super::super::coalesced::Coalesced;
use super::super::per_pool::PerPool;
use super::super::point_reads::Timestamp;
use super::json_column;
use crate::Result;
use crate::orchestration::resources::{ResourceKey, ResourceView, find};

/// The resource's type and name, as a lookup's key.
type Key = (String, String);

/// The current state of the resource `key`; `None` when it does not exist (or was deleted).
pub async fn resource(db: &impl Handle, key: &ResourceKey) -> Result<Option<ResourceView>> {
    let (t, n) = (key.resource_type.as_str(), key.resource_name.as_str());
    super::read(
        db,
        &RESOURCES,
        (t.to_owned(), n.to_owned()),
        |c| resource_here(c, t, n),
        resources_batch,
        || async { Ok(find(db, key, false).await?.map(ResourceView::from)) },
    )
    .await
}

/// The resources read together on each PostgreSQL pool.
static RESOURCES: PerPool<Coalesced<Key, ResourceView>> = PerPool::new();

/// The resources of `keys` that exist, in one query (PostgreSQL): one `(type, name)` pair per
/// branch of an `OR`, each answered by the unique index on the pair.
async fn resources_batch(
    db: DatabaseConnection,
    keys: Vec<Key>,
) -> Result<HashMap<Key, ResourceView>> {
    let wanted = keys.into_iter().fold(Condition::any(), |any, (t, n)| {
        any.add(
            state::Column::ResourceType
                .eq(t)
                .and(state::Column::ResourceName.eq(n)),
        )
    });
    let found = state::Entity::find().filter(wanted).all(&db).await?;
    Ok(found
        .into_iter()
        .map(|row| {
            let key = (row.resource_type.clone(), row.resource_name.clone());
            (key, ResourceView::from(row))
        })
        .collect())
}

/// The columns [`resource_columns`] reads, in its order.
const COLUMNS: [state::Column; 9] = [
    state::Column::ResourceType,
    state::Column::ResourceName,
    state::Column::State,
    state::Column::Hash,
    state::Column::Serial,
    state::Column::LastRunId,
    state::Column::LastApplied,
    state::Column::CreatedAt,
    state::Column::UpdatedAt,
];

/// The resource by its type and name (the unique index on the pair), built once from the
/// entity definition; the type and the name are its two parameters.
static SQL: LazyLock<String> = LazyLock::new(|| {
    Query::select()
        .columns(COLUMNS)
        .from(state::Entity)
        .and_where(Expr::col(state::Column::ResourceType).eq(""))
        .and_where(Expr::col(state::Column::ResourceName).eq(""))
        .build(SqliteQueryBuilder)
        .0
});

/// The resource `resource_type`/`resource_name`, read here.
fn resource_here(
    connection: &Connection,
    resource_type: &str,
    resource_name: &str,
) -> rusqlite::Result<Option<ResourceView>> {
    connection
        .prepare_cached(&SQL)?
        .query_row([resource_type, resource_name], resource_columns)
        .optional()
}

fn resource_columns(row: &Row<'_>) -> rusqlite::Result<ResourceView> {
    Ok(ResourceView {
        resource_type: row.get(0)?,
        resource_name: row.get(1)?,
        state: json_column(row, 2)?,
        hash: row.get(3)?,
        serial: row.get(4)?,
        last_run_id: row.get(5)?,
        last_applied: row.get::<_, Option<Timestamp>>(6)?.map(|t| t.0),
        changed: None,
        created_at: row.get::<_, Timestamp>(7)?.0,
        updated_at: row.get::<_, Timestamp>(8)?.0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::Actor;
    use crate::db::{migrated_file_database, point_reads};
    use crate::orchestration::resources::{StateWrite, delete, put};
    use sea_orm::TransactionTrait;
    use serde_json::json;

    fn key(t: &str, n: &str) -> ResourceKey {
        ResourceKey::parse(t, n).unwrap()
    }

    #[tokio::test]
    async fn a_read_here_answers_what_the_pool_query_answers() {
        let (_dir, path, db) = migrated_file_database().await;
        let state = json!({"name": "<b>x</b> ' OR 1=1", "n": [1, 2.5, null], "é": {"z": true}});
        for (n, run) in [("with-run", Some("run-1")), ("without-run", None)] {
            let write = StateWrite {
                state: state.clone(),
                run_id: run.map(Into::into),
                if_match: None,
            };
            put(&db, &Actor::System, &key("vm", n), write)
                .await
                .unwrap();
        }
        // A second version, and a resource deleted after it was written.
        let write = StateWrite {
            state: json!({"v": 2}),
            run_id: None,
            if_match: None,
        };
        put(&db, &Actor::System, &key("vm", "with-run"), write.clone())
            .await
            .unwrap();
        put(&db, &Actor::System, &key("vm", "deleted"), write)
            .await
            .unwrap();
        delete(&db, &Actor::System, &key("vm", "deleted"), None)
            .await
            .unwrap();

        let connection = Connection::open(&path).unwrap();
        for n in ["with-run", "without-run", "deleted", "missing"] {
            let here = resource_here(&connection, "vm", n).unwrap();
            let alone = resource(&db.begin().await.unwrap(), &key("vm", n))
                .await
                .unwrap();
            assert_eq!(
                serde_json::to_value(&here).unwrap(),
                serde_json::to_value(&alone).unwrap(),
                "{n}"
            );
        }
        let two = resource_here(&connection, "vm", "with-run")
            .unwrap()
            .unwrap();
        assert_eq!((two.serial, two.state), (2, json!({"v": 2})));
        assert!(
            resource_here(&connection, "vm", "deleted")
                .unwrap()
                .is_none()
        );
        assert!(
            resource_here(&connection, "other", "with-run")
                .unwrap()
                .is_none()
        );

        // The pool's own connection answers through this thread's read-only connection.
        let read = point_reads::read(&db, |c| resource_here(c, "vm", "without-run")).unwrap();
        assert_eq!(read.unwrap().last_run_id, None);
    }
}
