//! Retention policies may keep rows forever: `keep_days` 0 is allowed (spec 09: `0` keeps
//! forever, on the page as in the environment). A check constraint cannot be changed in
//! place on SQLite, so the (small) table is rebuilt with the new check on both backends.

use sea_orm_migration::{prelude::*, schema::*};

use crate::support::exec;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum RetentionPolicies {
    Table,
    TableName,
    KeepDays,
    Settings,
    UpdatedAt,
    UpdatedBy,
}

/// The table being built, before it takes the real name.
#[derive(DeriveIden)]
enum RetentionPoliciesNext {
    Table,
}

/// Rebuilds `retention_policies` with `keep_days >= min`, keeping the rows that satisfy it.
///
/// The steps run as one script on one connection: on SQLite the migrator does not hold a
/// transaction, and a pooled connection that still saw the old schema refused the rename.
async fn rebuild(m: &SchemaManager<'_>, min: i64) -> Result<(), DbErr> {
    let backend = m.get_database_backend();
    let create = Table::create()
        .table(RetentionPoliciesNext::Table)
        .col(string(RetentionPolicies::TableName).primary_key())
        .col(
            big_integer(RetentionPolicies::KeepDays)
                .check(Expr::col(RetentionPolicies::KeepDays).gte(min)),
        )
        .col(json_null(RetentionPolicies::Settings))
        .col(timestamp_with_time_zone(RetentionPolicies::UpdatedAt))
        .col(string_null(RetentionPolicies::UpdatedBy))
        .to_owned();
    let drop = Table::drop().table(RetentionPolicies::Table).to_owned();
    let rename = Table::rename()
        .table(RetentionPoliciesNext::Table, RetentionPolicies::Table)
        .to_owned();
    let script = [
        backend.build(&create).to_string(),
        format!(
            "INSERT INTO retention_policies_next \
             (table_name, keep_days, settings, updated_at, updated_by) \
             SELECT table_name, keep_days, settings, updated_at, updated_by \
             FROM retention_policies WHERE keep_days >= {min}"
        ),
        backend.build(&drop).to_string(),
        backend.build(&rename).to_string(),
    ]
    .join(";\n");
    exec(m, &script).await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        rebuild(m, 0).await
    }

    /// Policies set to keep forever are dropped (they fall back to the environment).
    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        rebuild(m, 1).await
    }
}
