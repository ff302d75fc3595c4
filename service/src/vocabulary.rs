//! Filters on a small vocabulary (a device's area, manufacturer and integration; a sync's
//! tenant): the values a list offers while typing, and a match that ignores case.
//!
//! Both are served by one index on `lower(column)` (migration
//! `m20261206_000001_list_indexes`): the match walks it, and the known values hop through it.
//! The column needs no index of its own, which every write of the table would pay for.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use sea_orm::sea_query::SimpleExpr;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};

use crate::Result;
use crate::db::per_pool::PerPool;

/// How many known values a filter offers at most.
pub const KNOWN_VALUES: u64 = 200;

/// The distinct non-empty values of `table.column` without regard to case, in ascending
/// order of their lowered form, at most `limit`; each is answered in one of the spellings
/// stored (the filter it feeds ignores case, so "IKEA" and "ikea" are one choice).
///
/// A recursive query hops from one lowered value to the next through the index on
/// `lower(column)`, so it costs one index lookup per value (and one more for its spelling)
/// however many rows share each; a plain `DISTINCT` would read the whole index. `table` and
/// `column` are the caller's constants, never user input.
///
/// The answer is kept for [`KNOWN_VALUES_FRESH`] per pool: the values are a filter's
/// suggestions, and every view of a list page asks for those of each of its filters.
pub async fn known_values(
    db: &DatabaseConnection,
    table: &'static str,
    column: &'static str,
    limit: u64,
) -> Result<Vec<String>> {
    let cache = KNOWN.of(db, Mutex::default);
    let key = (table, column, limit);
    let fresh = |cache: &KnownCache| {
        cache
            .get(&key)
            .filter(|(at, _)| at.elapsed() < KNOWN_VALUES_FRESH)
            .map(|(_, values)| values.clone())
    };
    if let Some(values) = fresh(&cache.lock().unwrap_or_else(PoisonError::into_inner)) {
        return Ok(values);
    }
    let values = read_known_values(db, table, column, limit).await?;
    cache
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(key, (Instant::now(), values.clone()));
    Ok(values)
}

/// How long the known values of a column are served from memory: a filter's suggestions may
/// lag a write by this much.
pub const KNOWN_VALUES_FRESH: Duration = Duration::from_secs(5);

/// The known values read, per table, column and limit, with when they were read.
type KnownCache = HashMap<(&'static str, &'static str, u64), (Instant, Vec<String>)>;

/// The known values of each pool.
static KNOWN: PerPool<Mutex<KnownCache>> = PerPool::new();

/// [`known_values`], read from the database.
async fn read_known_values(
    db: &impl ConnectionTrait,
    table: &'static str,
    column: &'static str,
    limit: u64,
) -> Result<Vec<String>> {
    let backend = db.get_database_backend();
    let p1 = match backend {
        DbBackend::Postgres => "$1",
        _ => "?",
    };
    let lowered = format!("lower(t.\"{column}\")");
    let sql = format!(
        "WITH RECURSIVE v(value, n) AS ( \
           SELECT (SELECT min({lowered}) FROM \"{table}\" t WHERE {lowered} > ''), 1 \
           UNION ALL \
           SELECT (SELECT min({lowered}) FROM \"{table}\" t WHERE {lowered} > v.value), v.n + 1 \
           FROM v WHERE v.value IS NOT NULL AND v.n < {p1} \
         ) SELECT (SELECT t.\"{column}\" FROM \"{table}\" t WHERE {lowered} = v.value LIMIT 1) \
         FROM v WHERE v.value IS NOT NULL ORDER BY v.n"
    );
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(backend, sql, [limit.into()]))
        .await?;
    rows.iter()
        .map(|r| r.try_get_by_index::<String>(0).map_err(Into::into))
        .collect()
}

/// `lower(table.column) = lower(value)`: the column equals `value` without regard to case,
/// in the form the index on `lower(column)` serves on both backends.
pub fn equals_ignoring_case(
    backend: DbBackend,
    table: &'static str,
    column: &'static str,
    value: &str,
) -> SimpleExpr {
    let placeholder = match backend {
        DbBackend::Postgres => "$1",
        _ => "?",
    };
    sea_orm::sea_query::Expr::cust_with_values(
        format!("lower(\"{table}\".\"{column}\") = lower({placeholder})"),
        [value.to_owned()],
    )
}
