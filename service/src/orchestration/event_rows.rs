//! The statements that append events, in the form each database takes fastest, answering the
//! ids the rows received in the order of the rows.
//!
//! - **SQLite:** statements of bound values with a fixed number of rows each: [`SQLITE_ROWS`],
//!   and the rest split into powers of two (37 rows: 32 + 4 + 1). The writer connection keeps
//!   every statement it has prepared, by its text, so a handful of texts serve every batch
//!   size instead of one new statement (parsed and planned again) per size. The ids come from
//!   `last_insert_rowid`: the statement runs under the write lock, so its rows take the ids
//!   after the largest one, one after another.
//! - **PostgreSQL:** one statement whatever the number of rows: each column of the batch is ONE
//!   parameter, an array in PostgreSQL's text form that `unnest` zips back into rows, instead
//!   of six bound values per event. Rows are produced, and take their ids from the sequence, in
//!   the arrays' order, so the returned ids sorted are the rows' ids in order.
//!
//! Stored values are exactly what an insert of the entity stores
//! (`tests::rows_store_what_an_entity_insert_stores`).

use std::sync::LazyLock;

use chrono::{DateTime, SecondsFormat, Utc};
use futures_util::future::join;
use sea_orm::{ConnectionTrait, DbBackend, Statement, Value};

use super::events::NewEvent;
use crate::db::pg_array::pg_array_literal;
use crate::{Error, Result};

/// The written columns, in the order of the statements' `INSERT` list.
const COLUMNS: [&str; 6] = [
    "run_id",
    "plan_unit_id",
    "level",
    "message",
    "details",
    "timestamp",
];

/// Rows of the longest SQLite statement: 512 × 6 bound values, far under SQLite's 32,766 (a
/// longer `VALUES` list compiles into a longer program and saves little more).
const SQLITE_ROWS: usize = 512;

/// Inserts `events` (an event without a timestamp takes `at`) and answers their ids, in the
/// order of `events`.
pub(super) async fn insert(
    txn: &impl ConnectionTrait,
    events: &[&NewEvent],
    at: DateTime<Utc>,
) -> Result<Vec<i64>> {
    if events.is_empty() {
        return Ok(Vec::new());
    }
    match txn.get_database_backend() {
        DbBackend::Postgres => insert_arrays(txn, events, at).await,
        _ => insert_bound(txn, events, at).await,
    }
}

/// PostgreSQL: the batch as one array parameter per column.
async fn insert_arrays(
    txn: &impl ConnectionTrait,
    events: &[&NewEvent],
    at: DateTime<Utc>,
) -> Result<Vec<i64>> {
    let column = |pick: fn(&NewEvent) -> Option<&str>| -> Value {
        pg_array_literal(events.iter().map(|e| pick(e))).into()
    };
    // Microseconds, cut rather than rounded: what a bound timestamp stores.
    let timestamps: Vec<String> = events
        .iter()
        .map(|e| {
            e.timestamp
                .unwrap_or(at)
                .to_rfc3339_opts(SecondsFormat::Micros, true)
        })
        .collect();
    let values = vec![
        column(|e| e.run_id.as_deref()),
        column(|e| e.plan_unit_id.as_deref()),
        column(|e| Some(e.level.as_str())),
        column(|e| Some(&e.message)),
        pg_array_literal(events.iter().map(|e| Some(e.details.as_str()))).into(),
        pg_array_literal(timestamps.iter().map(|t| Some(t.as_str()))).into(),
    ];
    let rows = txn
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            PG.as_str(),
            values,
        ))
        .await?;
    let mut ids = rows
        .iter()
        .map(|row| Ok(row.try_get_by_index::<i64>(0)?))
        .collect::<Result<Vec<_>>>()?;
    ids.sort_unstable();
    if ids.len() != events.len() {
        return Err(Error::internal("the insert answered fewer ids than rows"));
    }
    Ok(ids)
}

/// The PostgreSQL statement: `$1`–`$6` are the columns' arrays, unnested in the select list
/// (in lockstep, each row handed straight to the insert).
static PG: LazyLock<String> = LazyLock::new(|| {
    let types = ["text", "text", "text", "text", "json", "timestamptz"];
    let picked: Vec<String> = types
        .iter()
        .enumerate()
        .map(|(n, ty)| format!("unnest(${}::{ty}[])", n + 1))
        .collect();
    format!(
        "INSERT INTO \"events\" ({}) SELECT {} RETURNING \"id\"",
        column_list(),
        picked.join(", ")
    )
});

/// SQLite: the statements of [`statement_sizes`], each built while SQLite runs the one before
/// (SQLite's worker thread goes from one statement straight to the next).
async fn insert_bound(
    txn: &impl ConnectionTrait,
    events: &[&NewEvent],
    at: DateTime<Utc>,
) -> Result<Vec<i64>> {
    let mut ids = Vec::with_capacity(events.len());
    let mut rest = events;
    let mut statements = statement_sizes(events.len()).map(|size| {
        let (rows, after) = rest.split_at(size);
        rest = after;
        (size, sqlite_statement(rows, at))
    });
    let mut current = statements.next();
    while let Some((size, statement)) = current {
        let (done, next) = join(txn.execute_raw(statement), async { statements.next() }).await;
        let last = i64::try_from(done?.last_insert_id()).map_err(Error::internal)?;
        let size = i64::try_from(size).map_err(Error::internal)?;
        ids.extend(last - size + 1..=last);
        current = next;
    }
    Ok(ids)
}

/// The rows of each SQLite statement for `n` events: full statements of [`SQLITE_ROWS`], then
/// the rest in powers of two, largest first.
fn statement_sizes(n: usize) -> impl Iterator<Item = usize> {
    let full = std::iter::repeat_n(SQLITE_ROWS, n / SQLITE_ROWS);
    let rest = n % SQLITE_ROWS;
    let parts = (0..usize::BITS)
        .rev()
        .map(|bit| 1usize << bit)
        .filter(move |part| rest & part != 0);
    full.chain(parts)
}

/// One SQLite statement inserting `rows`.
fn sqlite_statement(rows: &[&NewEvent], at: DateTime<Utc>) -> Statement {
    let mut values: Vec<Value> = Vec::with_capacity(rows.len() * COLUMNS.len());
    for e in rows {
        values.extend([
            e.run_id.as_deref().into(),
            e.plan_unit_id.as_deref().into(),
            e.level.as_str().into(),
            e.message.as_str().into(),
            // SQLite keeps JSON as its text: the details are bound as they arrived.
            e.details.as_str().into(),
            e.timestamp.unwrap_or(at).fixed_offset().into(),
        ]);
    }
    let sql = SQLITE_TEXTS
        .iter()
        .find(|(size, _)| *size == rows.len())
        .map_or_else(|| sqlite(rows.len()), |(_, sql)| sql.clone());
    Statement::from_sql_and_values(DbBackend::Sqlite, sql, values)
}

/// The texts of the SQLite statements [`statement_sizes`] uses, built once.
static SQLITE_TEXTS: LazyLock<Vec<(usize, String)>> = LazyLock::new(|| {
    (0..=SQLITE_ROWS.ilog2())
        .map(|bit| 1usize << bit)
        .map(|size| (size, sqlite(size)))
        .collect()
});

/// `rows` rows of six anonymous parameters.
fn sqlite(rows: usize) -> String {
    let row = format!("({})", vec!["?"; COLUMNS.len()].join(", "));
    format!(
        "INSERT INTO \"events\" ({}) VALUES {}",
        column_list(),
        vec![row; rows].join(", ")
    )
}

/// The columns quoted and separated by commas.
fn column_list() -> String {
    COLUMNS
        .iter()
        .map(|c| format!("\"{c}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use entity::events;
    use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait, QueryOrder};
    use serde_json::json;

    use super::*;
    use crate::db::migrated_file_database;
    use crate::orchestration::Level;
    use crate::orchestration::events::EventDetails;

    fn event(n: usize, timestamp: Option<DateTime<Utc>>) -> NewEvent {
        NewEvent {
            run_id: n.is_multiple_of(2).then(|| format!("run-{n}")),
            plan_unit_id: None,
            level: Level::Warn,
            message: format!("<b>{n}</b> ' OR 1=1 -- \"é\" \\ {{x}}"),
            details: EventDetails::of(
                &json!({"n": n, "s": "a\"b\\c", "nested": {"z": [1, 2.5, null]}}),
            )
            .unwrap(),
            timestamp,
        }
    }

    #[test]
    fn statements_cover_every_row_with_few_texts() {
        for n in [1, 2, 3, 37, 511, 512, 513, 1_000, 10_000] {
            let sizes: Vec<usize> = statement_sizes(n).collect();
            assert_eq!(sizes.iter().sum::<usize>(), n, "{n}");
            assert!(
                sizes
                    .iter()
                    .all(|s| SQLITE_TEXTS.iter().any(|(size, _)| size == s)),
                "{n}: {sizes:?}"
            );
        }
        assert_eq!(statement_sizes(37).collect::<Vec<_>>(), [32, 4, 1]);
    }

    #[tokio::test]
    async fn rows_store_what_an_entity_insert_stores() {
        let (_dir, _path, db) = migrated_file_database().await;
        let at = Utc::now().fixed_offset().to_utc();
        let given = Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap()
            + chrono::Duration::nanoseconds(123_456_789);
        let mine = [event(2, Some(given)), event(3, None)];
        for e in &mine {
            events::ActiveModel {
                run_id: Set(e.run_id.clone()),
                plan_unit_id: Set(e.plan_unit_id.clone()),
                level: Set(e.level.as_str().into()),
                message: Set(e.message.clone()),
                details: Set(Some(serde_json::from_str(e.details.as_str()).unwrap())),
                timestamp: Set(e.timestamp.unwrap_or(at).fixed_offset()),
                ..Default::default()
            }
            .insert(&db)
            .await
            .unwrap();
        }
        let refs: Vec<&NewEvent> = mine.iter().collect();
        let ids = insert(&db, &refs, at).await.unwrap();
        assert_eq!(ids, [3, 4]);

        let stored = |id: i64| {
            let db = &db;
            async move {
                let mut out = Vec::new();
                for column in COLUMNS {
                    let row = db
                        .query_one_raw(Statement::from_sql_and_values(
                            DbBackend::Sqlite,
                            format!("SELECT typeof(\"{column}\") AS t, CAST(\"{column}\" AS TEXT) AS v FROM events WHERE id = ?"),
                            [id.into()],
                        ))
                        .await
                        .unwrap()
                        .unwrap();
                    out.push((
                        row.try_get::<String>("", "t").unwrap(),
                        row.try_get::<Option<String>>("", "v").unwrap(),
                    ));
                }
                out
            }
        };
        assert_eq!(stored(1).await, stored(3).await);
        assert_eq!(stored(2).await, stored(4).await);
        let read: Vec<events::Model> = events::Entity::find()
            .order_by_asc(events::Column::Id)
            .all(&db)
            .await
            .unwrap();
        assert_eq!(read[0].details, read[2].details);
        assert_eq!(read[2].message, mine[0].message);
    }

    #[tokio::test]
    async fn ids_follow_the_rows_across_statements() {
        let (_dir, _path, db) = migrated_file_database().await;
        let many: Vec<NewEvent> = (0..1_300).map(|n| event(n, None)).collect();
        let refs: Vec<&NewEvent> = many.iter().collect();
        let ids = insert(&db, &refs, Utc::now()).await.unwrap();
        assert_eq!(ids, (1..=1_300).collect::<Vec<i64>>());
        let messages: Vec<(i64, String)> = events::Entity::find()
            .order_by_asc(events::Column::Id)
            .all(&db)
            .await
            .unwrap()
            .into_iter()
            .map(|e| (e.id, e.message))
            .collect();
        for (n, (id, message)) in messages.iter().enumerate() {
            assert_eq!((*id, message), (ids[n], &many[n].message));
        }
    }
}
