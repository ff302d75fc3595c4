//! The statement that upserts a chunk of devices, in the form each database takes fastest.
//!
//! - **PostgreSQL:** each column of the chunk travels as ONE parameter, an array in
//!   PostgreSQL's text form that `unnest` zips back into rows, instead of nine bound values per
//!   device. Binding 27,000 values took more time than the B-tree work they feed, and
//!   PostgreSQL parsed and planned a `VALUES` list of 3,000 rows on every chunk. Arrays rather
//!   than one JSON document: PostgreSQL read the JSON twice (checking it, then unpacking it
//!   into a lookup table per object), 13 % of the statement's time, where an array is read
//!   once. The statement's text is prepared once per connection.
//! - **SQLite:** statements of [`SQLITE_ROWS`] rows of bound values, prepared once per
//!   connection and run as many times as the chunk needs. SQLite's `json_each` hands each
//!   element over as text that every `->>` parses again (seven columns, seven lookups per
//!   device): about a third of the statement's time, against a few microseconds to bind a
//!   row. A short `VALUES` list keeps the compiled statement small; a long one (thousands of
//!   rows) made a program as long as the list.
//!
//! Stored values are exactly what a bound value stores: on SQLite they are bound values; on
//! PostgreSQL text arrives verbatim and a timestamp is RFC 3339 text that it parses into
//! `timestamptz`. `tests::rows_store_what_an_insert_stores` holds SQLite to it, and
//! `db::pg_array`'s tests the array form.

use std::collections::HashSet;
use std::sync::LazyLock;

use chrono::{DateTime, FixedOffset, SecondsFormat};
use futures_util::future::join;
use sea_orm::{ConnectionTrait, DbBackend, Statement, Value};

use super::input::DeviceInput;
use crate::Result;
use crate::db::pg_array::pg_array_literal;

/// The written columns, in the order of the statement's `INSERT` list.
const COLUMNS: [&str; 9] = [
    "device_id",
    "name",
    "manufacturer",
    "model",
    "area_id",
    "integration",
    "last_seen",
    "created_at",
    "updated_at",
];

/// The first seven columns come from each device; `created_at` and `updated_at` are the
/// statement's time, bound once.
const PER_DEVICE: usize = 7;

/// Columns an existing device takes from the upsert (`created_at` is kept).
const UPDATED: [&str; 7] = [
    "name",
    "manufacturer",
    "model",
    "area_id",
    "integration",
    "updated_at",
    "last_seen",
];

/// Upserts `chunk` (ids distinct) with `now` as `created_at` / `updated_at`. With
/// `keep_last_seen`, an existing device keeps its `last_seen`. On PostgreSQL the answer is
/// the ids the statement created (the same statement tells, [`postgres`]); SQLite's upsert
/// cannot tell, and the answer is `None`.
pub(super) async fn upsert(
    txn: &impl ConnectionTrait,
    chunk: &[DeviceInput],
    now: DateTime<FixedOffset>,
    keep_last_seen: bool,
) -> Result<Option<HashSet<String>>> {
    match txn.get_database_backend() {
        DbBackend::Postgres => {
            let created =
                upsert_arrays(txn, chunk, now, keep_last_seen, Answer::CreatedIds).await?;
            created
                .iter()
                .map(|row| Ok(row.try_get_by_index::<String>(0)?))
                .collect::<Result<_>>()
                .map(Some)
        }
        _ => upsert_bound(txn, chunk, now, keep_last_seen)
            .await
            .map(|()| None),
    }
}

/// PostgreSQL only: upserts `chunk` like [`upsert`] and answers how many devices it created,
/// one number instead of a row per created device, for a caller that needs only the count.
pub(super) async fn upsert_counting_created(
    txn: &impl ConnectionTrait,
    chunk: &[DeviceInput],
    now: DateTime<FixedOffset>,
    keep_last_seen: bool,
) -> Result<u64> {
    let rows = upsert_arrays(txn, chunk, now, keep_last_seen, Answer::CreatedCount).await?;
    let created = match rows.first() {
        Some(row) => row.try_get_by_index::<i64>(0)?,
        None => 0,
    };
    Ok(u64::try_from(created).unwrap_or_default())
}

/// What a PostgreSQL upsert answers about the devices it created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    /// Their ids, one row each.
    CreatedIds,
    /// Their number, in one row.
    CreatedCount,
}

/// PostgreSQL: the chunk as one array parameter per column; answers the rows `answer` asks
/// for.
async fn upsert_arrays(
    txn: &impl ConnectionTrait,
    chunk: &[DeviceInput],
    now: DateTime<FixedOffset>,
    keep_last_seen: bool,
    answer: Answer,
) -> Result<Vec<sea_orm::QueryResult>> {
    let column = |pick: fn(&DeviceInput) -> Option<&str>| -> Value {
        pg_array_literal(chunk.iter().map(pick)).into()
    };
    let last_seen: Vec<Option<String>> = chunk
        .iter()
        .map(|d| {
            d.last_seen
                .map(|t| t.to_rfc3339_opts(SecondsFormat::AutoSi, true))
        })
        .collect();
    let values = vec![
        column(|d| Some(d.device_id.as_str())),
        column(|d| Some(&d.name)),
        column(|d| d.manufacturer.as_deref()),
        column(|d| d.model.as_deref()),
        column(|d| d.area_id.as_deref()),
        column(|d| d.integration.as_deref()),
        pg_array_literal(last_seen.iter().map(Option::as_deref)).into(),
        now.into(),
    ];
    let sql =
        &PG_STATEMENTS[usize::from(keep_last_seen)][usize::from(answer == Answer::CreatedCount)];
    Ok(txn
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            sql.as_str(),
            values,
        ))
        .await?)
}

/// SQLite: statements of [`SQLITE_ROWS`] rows of bound values (the last one shorter), each
/// built while SQLite runs the one before: SQLite's worker thread then goes from one
/// statement straight to the next instead of waiting for this thread to bind it.
async fn upsert_bound(
    txn: &impl ConnectionTrait,
    chunk: &[DeviceInput],
    now: DateTime<FixedOffset>,
    keep_last_seen: bool,
) -> Result<()> {
    let mut statements = chunk
        .chunks(SQLITE_ROWS)
        .map(|rows| sqlite_statement(rows, now, keep_last_seen));
    let mut current = statements.next();
    while let Some(statement) = current {
        // `join` polls the statement first, which hands it to the worker, then builds the
        // next one on this thread while the worker runs it.
        let (done, next) = join(txn.execute_raw(statement), async { statements.next() }).await;
        done?;
        current = next;
    }
    Ok(())
}

/// One SQLite statement upserting `rows`.
fn sqlite_statement(
    rows: &[DeviceInput],
    now: DateTime<FixedOffset>,
    keep_last_seen: bool,
) -> Statement {
    let sql = match (rows.len() == SQLITE_ROWS, keep_last_seen) {
        (true, false) => SQLITE.clone(),
        (true, true) => SQLITE_KEEP_LAST_SEEN.clone(),
        (false, _) => sqlite(rows.len(), keep_last_seen),
    };
    let mut values: Vec<Value> = Vec::with_capacity(rows.len() * COLUMNS.len());
    for d in rows {
        values.extend([
            d.device_id.as_str().into(),
            d.name.as_str().into(),
            d.manufacturer.clone().into(),
            d.model.clone().into(),
            d.area_id.clone().into(),
            d.integration.clone().into(),
            d.last_seen.map(|t| t.fixed_offset()).into(),
            now.into(),
            now.into(),
        ]);
    }
    Statement::from_sql_and_values(DbBackend::Sqlite, sql, values)
}

/// Devices per SQLite statement: 300 × 9 bound values, well under SQLite's 32,766. In five
/// paired runs of the benchmark, 300 rows a statement wrote a 10,000-device chunk in 82–98 ms
/// on average where 100 took 87–138 ms; 500 was level with 300, 1,000 slower again.
const SQLITE_ROWS: usize = 300;

static SQLITE: LazyLock<String> = LazyLock::new(|| sqlite(SQLITE_ROWS, false));
static SQLITE_KEEP_LAST_SEEN: LazyLock<String> = LazyLock::new(|| sqlite(SQLITE_ROWS, true));
/// PostgreSQL's statements, by `keep_last_seen`, then by whether they answer the count.
static PG_STATEMENTS: LazyLock<[[String; 2]; 2]> = LazyLock::new(|| {
    [false, true].map(|keep| [Answer::CreatedIds, Answer::CreatedCount].map(|a| postgres(keep, a)))
});

/// `rows` rows of nine anonymous parameters each: the device's seven columns, then the time
/// twice. (Numbered parameters would let the time be bound once, but sqlx asks SQLite for
/// every parameter's name, a walk along the statement's list of named parameters: with
/// hundreds of them that walk took a quarter of the write.)
fn sqlite(rows: usize, keep_last_seen: bool) -> String {
    let row = format!("({})", vec!["?"; COLUMNS.len()].join(", "));
    format!(
        "INSERT INTO \"devices\" ({}) VALUES {} {}",
        column_list(&COLUMNS),
        vec![row; rows].join(", "),
        on_conflict(keep_last_seen)
    )
}

/// `$1`–`$7` are the seven columns' arrays, `$8` the time. Each array is unnested in the
/// select list, where PostgreSQL steps through all seven in lockstep and hands each row
/// straight to the insert; `unnest(…) AS r(…)` in `FROM` first copies every row into a
/// tuple store, which took 5–10 ms of a 10,000-device statement. The statement answers the
/// ids it inserted, or their number: a row version written by an `INSERT` has no `xmax`,
/// while the version an `ON CONFLICT DO UPDATE` writes carries the lock it took on the row
/// it replaced (PostgreSQL's documented use of `xmax`, and the usual way to tell the two
/// apart in one statement).
fn postgres(keep_last_seen: bool, answer: Answer) -> String {
    let mut picked: Vec<String> = COLUMNS[..PER_DEVICE]
        .iter()
        .enumerate()
        .map(|(n, &c)| {
            let ty = if c == "last_seen" {
                "timestamptz"
            } else {
                "text"
            };
            format!("unnest(${}::{ty}[])", n + 1)
        })
        .collect();
    let time = format!("${}::timestamptz", PER_DEVICE + 1);
    picked.extend([time.clone(), time]);
    let answered = match answer {
        Answer::CreatedIds => "SELECT \"device_id\" FROM \"written\" WHERE \"created\"",
        Answer::CreatedCount => "SELECT count(*) FILTER (WHERE \"created\") FROM \"written\"",
    };
    format!(
        "WITH \"written\" AS (INSERT INTO \"devices\" ({}) SELECT {} {} \
         RETURNING \"device_id\", xmax = 0 AS \"created\") {answered}",
        column_list(&COLUMNS),
        picked.join(", "),
        on_conflict(keep_last_seen),
    )
}

/// `columns` quoted and separated by commas.
fn column_list(columns: &[&str]) -> String {
    columns
        .iter()
        .map(|c| format!("\"{c}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

fn on_conflict(keep_last_seen: bool) -> String {
    let set: Vec<String> = UPDATED
        .iter()
        .filter(|&&c| !(keep_last_seen && c == "last_seen"))
        .map(|c| format!("\"{c}\" = excluded.\"{c}\""))
        .collect();
    format!(
        "ON CONFLICT (\"device_id\") DO UPDATE SET {}",
        set.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use chrono::{SubsecRound, TimeZone, Utc};
    use entity::devices;
    use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait};

    use super::*;
    use crate::db::migrated_file_database;
    use crate::registry::DeviceId;

    fn device(id: &str, last_seen: Option<DateTime<Utc>>) -> DeviceInput {
        DeviceInput {
            device_id: DeviceId::parse(id).unwrap(),
            name: format!("<b>{id}</b> ' OR 1=1 -- \"é\""),
            manufacturer: Some("Acme".into()),
            model: None,
            area_id: Some("area_01".into()),
            integration: None,
            last_seen,
        }
    }

    /// Every column of a device as SQLite stores it: its type and its text.
    async fn stored(db: &impl ConnectionTrait, id: &str) -> Vec<(String, Option<String>)> {
        let mut out = Vec::new();
        for column in COLUMNS {
            let row = db
                .query_one_raw(Statement::from_sql_and_values(
                    DbBackend::Sqlite,
                    format!("SELECT typeof(\"{column}\") AS t, CAST(\"{column}\" AS TEXT) AS v FROM devices WHERE device_id = ?"),
                    [id.into()],
                ))
                .await
                .unwrap()
                .unwrap();
            out.push((row.try_get("", "t").unwrap(), row.try_get("", "v").unwrap()));
        }
        out
    }

    #[tokio::test]
    async fn rows_store_what_an_insert_stores() {
        let (_dir, _path, db) = migrated_file_database().await;
        let now = Utc::now().trunc_subsecs(6).fixed_offset();
        let seen = Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap()
            + chrono::Duration::microseconds(123_456);
        for (id, last_seen) in [("insert-a", Some(seen)), ("insert-b", None)] {
            let d = device(id, last_seen);
            devices::ActiveModel {
                device_id: Set(d.device_id.as_str().into()),
                name: Set(d.name.clone()),
                manufacturer: Set(d.manufacturer.clone()),
                model: Set(d.model.clone()),
                area_id: Set(d.area_id.clone()),
                integration: Set(d.integration.clone()),
                last_seen: Set(d.last_seen.map(|t| t.fixed_offset())),
                created_at: Set(now),
                updated_at: Set(now),
            }
            .insert(&db)
            .await
            .unwrap();
        }
        let chunk = [device("upsert-a", Some(seen)), device("upsert-b", None)];
        upsert(&db, &chunk, now, false).await.unwrap();

        for (inserted, upserted) in [("insert-a", "upsert-a"), ("insert-b", "upsert-b")] {
            let (mut i, mut u) = (stored(&db, inserted).await, stored(&db, upserted).await);
            // The id and the name carry the id itself.
            i.drain(..2);
            u.drain(..2);
            assert_eq!(i, u, "{inserted} / {upserted}");
        }
        let name = stored(&db, "upsert-a").await[1].1.clone();
        assert_eq!(
            name.as_deref(),
            Some(chunk[0].name.as_str()),
            "stored verbatim"
        );
    }

    #[tokio::test]
    async fn an_existing_device_is_updated_and_keeps_what_it_should() {
        let (_dir, _path, db) = migrated_file_database().await;
        let first = Utc::now().trunc_subsecs(6).fixed_offset() - chrono::Duration::hours(1);
        let seen = Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap();
        upsert(&db, &[device("d", Some(seen))], first, false)
            .await
            .unwrap();

        let later = first + chrono::Duration::minutes(5);
        let mut renamed = device("d", None);
        renamed.name = "renamed".into();
        upsert(&db, &[renamed.clone()], later, true).await.unwrap();
        let row = devices::Entity::find_by_id("d")
            .one(&db)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(row.name, "renamed");
        assert_eq!(row.created_at, first, "created_at is kept");
        assert_eq!(row.updated_at, later);
        assert_eq!(row.last_seen, Some(seen.fixed_offset()), "kept");

        upsert(&db, &[renamed], later, false).await.unwrap();
        let row = devices::Entity::find_by_id("d")
            .one(&db)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(row.last_seen, None, "replaced");
    }

    #[tokio::test]
    async fn a_chunk_longer_than_one_statement_stores_every_device_with_its_own_values() {
        let (_dir, _path, db) = migrated_file_database().await;
        let now = Utc::now().trunc_subsecs(6).fixed_offset();
        let chunk: Vec<DeviceInput> = (0..2 * SQLITE_ROWS + 37)
            .map(|n| {
                let mut d = device(&format!("d-{n:04}"), None);
                d.name = format!("name {n}");
                d.model = Some(format!("model {n}"));
                d
            })
            .collect();
        upsert(&db, &chunk, now, false).await.unwrap();

        let rows = devices::Entity::find().all(&db).await.unwrap();
        assert_eq!(rows.len(), chunk.len());
        for row in rows {
            let n: usize = row.device_id["d-".len()..].parse().unwrap();
            assert_eq!(row.name, format!("name {n}"));
            assert_eq!(row.model, Some(format!("model {n}")));
        }
    }
}
