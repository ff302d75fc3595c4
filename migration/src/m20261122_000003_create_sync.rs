//! Sync-job history (spec 03, seed 000).

use sea_orm_migration::{prelude::*, schema::*};

use crate::support::one_of;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum SyncHistory {
    Table,
    Id,
    TenantId,
    SyncType,
    Status,
    StartTime,
    EndTime,
    Success,
    ErrorDetails,
    UsersCount,
    GroupsCount,
    AppsCount,
    PoliciesCount,
    DevicesCount,
    ProgressPercentage,
    ProcessId,
    GraphdbVersion,
    GraphdbPromoted,
    UpdatedAt,
    CreatedBy,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let count = |c: SyncHistory| {
            big_integer(c)
                .default(0)
                .check(Expr::col(c).gte(0))
                .to_owned()
        };
        m.create_table(
            Table::create()
                .table(SyncHistory::Table)
                .col(big_pk_auto(SyncHistory::Id))
                .col(string(SyncHistory::TenantId))
                .col(
                    string(SyncHistory::SyncType)
                        .check(one_of(SyncHistory::SyncType, &["sqlite", "graphdb"])),
                )
                .col(string(SyncHistory::Status).check(one_of(
                    SyncHistory::Status,
                    &["running", "completed", "failed", "canceled"],
                )))
                .col(timestamp_with_time_zone(SyncHistory::StartTime))
                .col(timestamp_with_time_zone_null(SyncHistory::EndTime))
                .col(boolean_null(SyncHistory::Success))
                .col(text_null(SyncHistory::ErrorDetails))
                .col(count(SyncHistory::UsersCount))
                .col(count(SyncHistory::GroupsCount))
                .col(count(SyncHistory::AppsCount))
                .col(count(SyncHistory::PoliciesCount))
                .col(count(SyncHistory::DevicesCount))
                .col(
                    big_integer(SyncHistory::ProgressPercentage)
                        .default(0)
                        .check(Expr::col(SyncHistory::ProgressPercentage).between(0, 100)),
                )
                .col(string_null(SyncHistory::ProcessId))
                .col(big_integer_null(SyncHistory::GraphdbVersion))
                .col(boolean_null(SyncHistory::GraphdbPromoted))
                .col(timestamp_with_time_zone(SyncHistory::UpdatedAt))
                .col(string_null(SyncHistory::CreatedBy))
                .to_owned(),
        )
        .await?;
        // At most one running sync per tenant, enforced by the database so racing instances cannot both win.
        m.create_index(
            Index::create()
                .name("uq_sync_history_one_running")
                .table(SyncHistory::Table)
                .col(SyncHistory::TenantId)
                .unique()
                .and_where(Expr::col(SyncHistory::Status).eq("running"))
                .to_owned(),
        )
        .await?;
        // History per tenant and overall, newest first by (start_time, id).
        m.create_index(
            Index::create()
                .name("idx_sync_history_tenant_start")
                .table(SyncHistory::Table)
                .col(SyncHistory::TenantId)
                .col(SyncHistory::StartTime)
                .col(SyncHistory::Id)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_sync_history_start")
                .table(SyncHistory::Table)
                .col(SyncHistory::StartTime)
                .col(SyncHistory::Id)
                .to_owned(),
        )
        .await?;
        // The stale sweeper looks for running syncs by their last update.
        m.create_index(
            Index::create()
                .name("idx_sync_history_status_updated")
                .table(SyncHistory::Table)
                .col(SyncHistory::Status)
                .col(SyncHistory::UpdatedAt)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(SyncHistory::Table).to_owned())
            .await
    }
}
