//! The orchestration store: runs, plan units, the append-only event log, resource state
//! and facts with a TTL (spec 07, seed 003).

use sea_orm_migration::{prelude::*, schema::*};

use crate::support::{create_append_only_guard, drop_append_only_guard, one_of};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Runs {
    Table,
    Id,
    PlanPath,
    Status,
    StartedAt,
    FinishedAt,
    Metadata,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum PlanUnits {
    Table,
    Id,
    RunId,
    ResourceType,
    ResourceName,
    Action,
    Status,
    Dependencies,
    DesiredState,
    Error,
    StartedAt,
    FinishedAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Events {
    Table,
    Id,
    RunId,
    PlanUnitId,
    Level,
    Message,
    Details,
    Timestamp,
}

#[derive(DeriveIden)]
enum ResourceState {
    Table,
    Id,
    ResourceType,
    ResourceName,
    State,
    Hash,
    LastRunId,
    LastApplied,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Facts {
    Table,
    Id,
    TargetId,
    Namespace,
    Key,
    Value,
    Ttl,
    ExpiresAt,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Runs::Table)
                .col(string(Runs::Id).primary_key())
                .col(text(Runs::PlanPath))
                .col(string(Runs::Status).check(one_of(
                    Runs::Status,
                    &["pending", "running", "succeeded", "failed", "canceled"],
                )))
                .col(timestamp_with_time_zone_null(Runs::StartedAt))
                .col(timestamp_with_time_zone_null(Runs::FinishedAt))
                .col(json_null(Runs::Metadata))
                .col(timestamp_with_time_zone(Runs::CreatedAt))
                .col(timestamp_with_time_zone(Runs::UpdatedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_runs_created")
                .table(Runs::Table)
                .col(Runs::CreatedAt)
                .col(Runs::Id)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_runs_status_created")
                .table(Runs::Table)
                .col(Runs::Status)
                .col(Runs::CreatedAt)
                .col(Runs::Id)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(PlanUnits::Table)
                .col(string(PlanUnits::Id).primary_key())
                .col(string(PlanUnits::RunId))
                .col(string(PlanUnits::ResourceType))
                .col(string(PlanUnits::ResourceName))
                .col(string(PlanUnits::Action).check(one_of(
                    PlanUnits::Action,
                    &["create", "update", "delete", "noop"],
                )))
                .col(string(PlanUnits::Status).check(one_of(
                    PlanUnits::Status,
                    &["pending", "running", "succeeded", "failed", "skipped"],
                )))
                .col(json(PlanUnits::Dependencies))
                .col(json_null(PlanUnits::DesiredState))
                .col(text_null(PlanUnits::Error))
                .col(timestamp_with_time_zone_null(PlanUnits::StartedAt))
                .col(timestamp_with_time_zone_null(PlanUnits::FinishedAt))
                .col(timestamp_with_time_zone(PlanUnits::CreatedAt))
                .col(timestamp_with_time_zone(PlanUnits::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_plan_units_run")
                        .from(PlanUnits::Table, PlanUnits::RunId)
                        .to(Runs::Table, Runs::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_plan_units_run")
                .table(PlanUnits::Table)
                .col(PlanUnits::RunId)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_plan_units_resource")
                .table(PlanUnits::Table)
                .col(PlanUnits::ResourceType)
                .col(PlanUnits::ResourceName)
                .to_owned(),
        )
        .await?;

        // No foreign keys: the event log is append-only and outlives the runs it mentions.
        m.create_table(
            Table::create()
                .table(Events::Table)
                .col(big_pk_auto(Events::Id))
                .col(string_null(Events::RunId))
                .col(string_null(Events::PlanUnitId))
                .col(
                    string(Events::Level)
                        .check(one_of(Events::Level, &["debug", "info", "warn", "error"])),
                )
                .col(text(Events::Message))
                .col(json_null(Events::Details))
                .col(timestamp_with_time_zone(Events::Timestamp))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_events_run")
                .table(Events::Table)
                .col(Events::RunId)
                .col(Events::Id)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_events_level")
                .table(Events::Table)
                .col(Events::Level)
                .col(Events::Id)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_events_timestamp")
                .table(Events::Table)
                .col(Events::Timestamp)
                .to_owned(),
        )
        .await?;
        create_append_only_guard(m, "events").await?;

        m.create_table(
            Table::create()
                .table(ResourceState::Table)
                .col(string(ResourceState::Id).primary_key())
                .col(string(ResourceState::ResourceType))
                .col(string(ResourceState::ResourceName))
                .col(json(ResourceState::State))
                .col(string(ResourceState::Hash))
                .col(string_null(ResourceState::LastRunId))
                .col(timestamp_with_time_zone_null(ResourceState::LastApplied))
                .col(timestamp_with_time_zone(ResourceState::CreatedAt))
                .col(timestamp_with_time_zone(ResourceState::UpdatedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("uq_resource_state_type_name")
                .table(ResourceState::Table)
                .col(ResourceState::ResourceType)
                .col(ResourceState::ResourceName)
                .unique()
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Facts::Table)
                .col(string(Facts::Id).primary_key())
                .col(string(Facts::TargetId))
                .col(string(Facts::Namespace))
                .col(string(Facts::Key))
                .col(json(Facts::Value))
                .col(
                    big_integer(Facts::Ttl)
                        .default(0)
                        .check(Expr::col(Facts::Ttl).gte(0)),
                )
                .col(timestamp_with_time_zone_null(Facts::ExpiresAt))
                .col(timestamp_with_time_zone(Facts::CreatedAt))
                .col(timestamp_with_time_zone(Facts::UpdatedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("uq_facts_target_namespace_key")
                .table(Facts::Table)
                .col(Facts::TargetId)
                .col(Facts::Namespace)
                .col(Facts::Key)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_facts_expires_at")
                .table(Facts::Table)
                .col(Facts::ExpiresAt)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Facts::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(ResourceState::Table).to_owned())
            .await?;
        drop_append_only_guard(m, "events").await?;
        m.drop_table(Table::drop().table(Events::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(PlanUnits::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(Runs::Table).to_owned())
            .await
    }
}
