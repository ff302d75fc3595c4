//! Orchestration beyond the seed (spec 07): a run's `error` text, the current `serial` of a
//! resource's state, and `resource_state_versions`, the immutable history of every change of
//! a resource's state (a deletion is a version whose `state` is null).

use sea_orm_migration::{prelude::*, schema::*};

use crate::support::{create_append_only_guard, drop_append_only_guard};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Runs {
    Table,
    Error,
}

#[derive(DeriveIden)]
enum ResourceState {
    Table,
    Serial,
}

#[derive(DeriveIden)]
enum ResourceStateVersions {
    Table,
    Id,
    ResourceType,
    ResourceName,
    Serial,
    Hash,
    State,
    RunId,
    Actor,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Runs::Table)
                .add_column(text_null(Runs::Error))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(ResourceState::Table)
                .add_column(big_integer(ResourceState::Serial).default(0))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(ResourceStateVersions::Table)
                .col(big_pk_auto(ResourceStateVersions::Id))
                .col(string(ResourceStateVersions::ResourceType))
                .col(string(ResourceStateVersions::ResourceName))
                .col(big_integer(ResourceStateVersions::Serial))
                .col(string_null(ResourceStateVersions::Hash))
                .col(json_null(ResourceStateVersions::State))
                .col(string_null(ResourceStateVersions::RunId))
                .col(string_null(ResourceStateVersions::Actor))
                .col(timestamp_with_time_zone(ResourceStateVersions::CreatedAt))
                .to_owned(),
        )
        .await?;
        // Serves the newest-first list of one resource's versions and keeps serials unique.
        m.create_index(
            Index::create()
                .name("uq_resource_state_versions_serial")
                .table(ResourceStateVersions::Table)
                .col(ResourceStateVersions::ResourceType)
                .col(ResourceStateVersions::ResourceName)
                .col(ResourceStateVersions::Serial)
                .unique()
                .to_owned(),
        )
        .await?;
        create_append_only_guard(m, "resource_state_versions").await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        drop_append_only_guard(m, "resource_state_versions").await?;
        m.drop_table(Table::drop().table(ResourceStateVersions::Table).to_owned())
            .await?;
        m.alter_table(
            Table::alter()
                .table(ResourceState::Table)
                .drop_column(ResourceState::Serial)
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Runs::Table)
                .drop_column(Runs::Error)
                .to_owned(),
        )
        .await
    }
}
