//! Operations bookkeeping: background workers' last runs and the retention policies
//! editable on `/system` (spec 09).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum WorkerRuns {
    Table,
    Worker,
    LastStartedAt,
    LastFinishedAt,
    LastResult,
    LastDetails,
    LastError,
}

#[derive(DeriveIden)]
enum RetentionPolicies {
    Table,
    TableName,
    KeepDays,
    Settings,
    UpdatedAt,
    UpdatedBy,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(WorkerRuns::Table)
                .col(string(WorkerRuns::Worker).primary_key())
                .col(timestamp_with_time_zone(WorkerRuns::LastStartedAt))
                .col(timestamp_with_time_zone_null(WorkerRuns::LastFinishedAt))
                .col(
                    string(WorkerRuns::LastResult)
                        .check(Expr::col(WorkerRuns::LastResult).is_in(["running", "ok", "error"])),
                )
                .col(json_null(WorkerRuns::LastDetails))
                .col(text_null(WorkerRuns::LastError))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(RetentionPolicies::Table)
                .col(string(RetentionPolicies::TableName).primary_key())
                .col(
                    big_integer(RetentionPolicies::KeepDays)
                        .check(Expr::col(RetentionPolicies::KeepDays).gte(1)),
                )
                .col(json_null(RetentionPolicies::Settings))
                .col(timestamp_with_time_zone(RetentionPolicies::UpdatedAt))
                .col(string_null(RetentionPolicies::UpdatedBy))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(RetentionPolicies::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(WorkerRuns::Table).to_owned())
            .await
    }
}
