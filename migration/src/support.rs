//! Schema pieces that sea-query cannot express portably: expression indexes,
//! views, and the append-only triggers, each written once per backend.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

/// Runs one raw SQL statement on the migration's connection.
pub async fn exec(m: &SchemaManager<'_>, sql: &str) -> Result<(), DbErr> {
    m.get_connection().execute_unprepared(sql).await.map(|_| ())
}

/// The check-constraint expression `col IN (values…)`.
pub fn one_of<C: IntoIden + 'static>(col: C, values: &[&str]) -> SimpleExpr {
    Expr::col(col).is_in(values.iter().map(ToString::to_string))
}

/// The PostgreSQL trigger function shared by every append-only table.
///
/// A row may be deleted only while `purge_permits` holds a row naming its table; the
/// retention purge inserts that row inside its own transaction, so no other
/// connection ever sees it. Updates are never allowed.
const PG_GUARD_FUNCTION: &str = r#"
CREATE OR REPLACE FUNCTION metadeck_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' AND EXISTS (SELECT 1 FROM purge_permits WHERE table_name = TG_TABLE_NAME) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql"#;

/// Makes `table` reject UPDATE, and DELETE outside the retention purge, in the database itself.
pub async fn create_append_only_guard(m: &SchemaManager<'_>, table: &str) -> Result<(), DbErr> {
    match m.get_database_backend() {
        DbBackend::Postgres => {
            exec(m, PG_GUARD_FUNCTION).await?;
            exec(
                m,
                &format!(
                    "CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON \"{table}\" \
                     FOR EACH ROW EXECUTE FUNCTION metadeck_append_only()"
                ),
            )
            .await
        }
        _ => {
            exec(
                m,
                &format!(
                    "CREATE TRIGGER {table}_no_update BEFORE UPDATE ON \"{table}\" \
                     BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
                ),
            )
            .await?;
            exec(
                m,
                &format!(
                    "CREATE TRIGGER {table}_no_delete BEFORE DELETE ON \"{table}\" \
                     WHEN NOT EXISTS (SELECT 1 FROM purge_permits WHERE table_name = '{table}') \
                     BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
                ),
            )
            .await
        }
    }
}

/// Removes the guard of `table` (the triggers also go with a dropped table; this is for clarity
/// and for PostgreSQL's function, dropped with the last guarded table).
pub async fn drop_append_only_guard(m: &SchemaManager<'_>, table: &str) -> Result<(), DbErr> {
    match m.get_database_backend() {
        DbBackend::Postgres => {
            exec(
                m,
                &format!("DROP TRIGGER IF EXISTS {table}_append_only ON \"{table}\""),
            )
            .await
        }
        _ => {
            exec(m, &format!("DROP TRIGGER IF EXISTS {table}_no_update")).await?;
            exec(m, &format!("DROP TRIGGER IF EXISTS {table}_no_delete")).await
        }
    }
}

/// Drops the PostgreSQL guard function once no table uses it any more.
pub async fn drop_guard_function(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    if m.get_database_backend() == DbBackend::Postgres {
        exec(m, "DROP FUNCTION IF EXISTS metadeck_append_only()").await?;
    }
    Ok(())
}
