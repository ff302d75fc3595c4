//! Filters on a small vocabulary (a device's area, manufacturer and integration; a sync's
//! tenant): the values a list offers while typing, and a match that ignores case.
//!
//! Both are served by one index on `lower(column)` (migration
//! `m20261206_000001_list_indexes`): the match walks it, and the known values hop through it.
//! The column needs no index of its own, which every write of the table would pay for.

use sea_orm::sea_query::SimpleExpr;
use sea_orm::{ConnectionTrait, DbBackend, Statement};

use crate::Result;

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
pub async fn known_values(
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
