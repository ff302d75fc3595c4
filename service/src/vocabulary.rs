//! Filters on a small vocabulary (a device's area, manufacturer and integration; a sync's
//! tenant): the values a list offers while typing, and a match that ignores case.
//!
//! Both are served by indexes: the known values hop through the column's own index, the
//! match walks an index on `lower(column)` (migration
//! `m20261206_000001_list_indexes`).

use sea_orm::sea_query::SimpleExpr;
use sea_orm::{ConnectionTrait, DbBackend, Statement};

use crate::Result;

/// How many known values a filter offers at most.
pub const KNOWN_VALUES: u64 = 200;

/// The distinct non-empty values of `table.column` in ascending order, at most `limit`.
///
/// A recursive query hops from one value to the next through an index that starts with the
/// column, so it costs one index lookup per value however many rows share each; a plain
/// `DISTINCT` would read the whole index. `table` and `column` are the caller's constants,
/// never user input.
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
    let sql = format!(
        "WITH RECURSIVE v(value, n) AS ( \
           SELECT (SELECT min(\"{column}\") FROM \"{table}\" WHERE \"{column}\" > ''), 1 \
           UNION ALL \
           SELECT (SELECT min(t.\"{column}\") FROM \"{table}\" t WHERE t.\"{column}\" > v.value), v.n + 1 \
           FROM v WHERE v.value IS NOT NULL AND v.n < {p1} \
         ) SELECT value FROM v WHERE value IS NOT NULL ORDER BY n"
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
