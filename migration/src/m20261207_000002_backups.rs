//! Backups an operator can trust (spec 09): every backup — from the command line, the
//! `/system` page or the schedule — is a row, verified before it counts as succeeded.

use sea_orm_migration::{prelude::*, schema::*};

use crate::support::one_of;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Backups {
    Table,
    Id,
    Trigger,
    StartedAt,
    FinishedAt,
    File,
    SizeBytes,
    Sha256,
    Status,
    Error,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Backups::Table)
                .col(big_pk_auto(Backups::Id))
                .col(
                    string(Backups::Trigger)
                        .check(one_of(Backups::Trigger, &["cli", "page", "schedule"])),
                )
                .col(timestamp_with_time_zone(Backups::StartedAt))
                .col(timestamp_with_time_zone(Backups::FinishedAt))
                .col(text(Backups::File))
                .col(big_integer_null(Backups::SizeBytes))
                .col(string_null(Backups::Sha256))
                .col(
                    string(Backups::Status)
                        .check(one_of(Backups::Status, &["succeeded", "failed"])),
                )
                .col(text_null(Backups::Error))
                .to_owned(),
        )
        .await?;
        // "Last verified restorable at" and the backup metric read the newest success.
        m.create_index(
            Index::create()
                .name("idx_backups_status_finished_at")
                .table(Backups::Table)
                .col(Backups::Status)
                .col(Backups::FinishedAt)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Backups::Table).to_owned())
            .await
    }
}
