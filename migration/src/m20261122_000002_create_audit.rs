//! The admin audit trail: append-only, hash-chained (spec 02), and the purge permits
//! that let the retention purge, and nothing else, delete from append-only tables (spec 09).

use sea_orm_migration::{prelude::*, schema::*};

use crate::support::{create_append_only_guard, drop_append_only_guard, drop_guard_function};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum PurgePermits {
    Table,
    TableName,
}

#[derive(DeriveIden)]
enum Audit {
    Table,
    Id,
    Action,
    Actor,
    TargetId,
    Details,
    IpAddress,
    Timestamp,
    PrevHash,
    RowHash,
}

#[derive(DeriveIden)]
enum AuditAnchors {
    Table,
    Id,
    LastPurgedId,
    LastPurgedHash,
    PurgedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(PurgePermits::Table)
                .col(string(PurgePermits::TableName).primary_key())
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Audit::Table)
                .col(big_pk_auto(Audit::Id))
                .col(string(Audit::Action))
                .col(string(Audit::Actor))
                .col(string_null(Audit::TargetId))
                .col(json_null(Audit::Details))
                .col(string_null(Audit::IpAddress))
                .col(timestamp_with_time_zone(Audit::Timestamp))
                .col(string(Audit::PrevHash))
                .col(string(Audit::RowHash))
                .to_owned(),
        )
        .await?;
        for (name, col) in [
            ("idx_audit_timestamp", Audit::Timestamp),
            ("idx_audit_actor", Audit::Actor),
            ("idx_audit_action", Audit::Action),
            ("idx_audit_target", Audit::TargetId),
        ] {
            m.create_index(
                Index::create()
                    .name(name)
                    .table(Audit::Table)
                    .col(col)
                    .col(Audit::Id)
                    .to_owned(),
            )
            .await?;
        }
        create_append_only_guard(m, "audit").await?;

        // Where the hash chain starts after the retention purge removed its oldest rows.
        m.create_table(
            Table::create()
                .table(AuditAnchors::Table)
                .col(big_pk_auto(AuditAnchors::Id))
                .col(big_integer(AuditAnchors::LastPurgedId))
                .col(string(AuditAnchors::LastPurgedHash))
                .col(timestamp_with_time_zone(AuditAnchors::PurgedAt))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(AuditAnchors::Table).to_owned())
            .await?;
        drop_append_only_guard(m, "audit").await?;
        m.drop_table(Table::drop().table(Audit::Table).to_owned())
            .await?;
        drop_guard_function(m).await?;
        m.drop_table(Table::drop().table(PurgePermits::Table).to_owned())
            .await
    }
}
