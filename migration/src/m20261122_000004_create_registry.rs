//! The device / entity registry and user preferences (spec 04, seed 002).

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261122_000001_create_access::LocalUsers;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Devices {
    Table,
    DeviceId,
    Name,
    Manufacturer,
    Model,
    AreaId,
    Integration,
    LastSeen,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Entities {
    Table,
    EntityId,
    DeviceId,
    Domain,
    Platform,
    Disabled,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum UserPreferences {
    Table,
    UserId,
    SelectedTeams,
    NotificationSettings,
    Ui,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Devices::Table)
                .col(string(Devices::DeviceId).primary_key())
                .col(string(Devices::Name))
                .col(string_null(Devices::Manufacturer))
                .col(string_null(Devices::Model))
                .col(string_null(Devices::AreaId))
                .col(string_null(Devices::Integration))
                .col(timestamp_with_time_zone_null(Devices::LastSeen))
                .col(timestamp_with_time_zone(Devices::CreatedAt))
                .col(timestamp_with_time_zone(Devices::UpdatedAt))
                .to_owned(),
        )
        .await?;
        // Each list filter walks its own index in device_id order (keyset pagination).
        for (name, col) in [
            ("idx_devices_area", Devices::AreaId),
            ("idx_devices_manufacturer", Devices::Manufacturer),
            ("idx_devices_integration", Devices::Integration),
            ("idx_devices_name", Devices::Name),
        ] {
            m.create_index(
                Index::create()
                    .name(name)
                    .table(Devices::Table)
                    .col(col)
                    .col(Devices::DeviceId)
                    .to_owned(),
            )
            .await?;
        }

        m.create_table(
            Table::create()
                .table(Entities::Table)
                .col(string(Entities::EntityId).primary_key())
                .col(string_null(Entities::DeviceId))
                .col(string(Entities::Domain))
                .col(string_null(Entities::Platform))
                .col(boolean(Entities::Disabled).default(false))
                .col(timestamp_with_time_zone(Entities::CreatedAt))
                .col(timestamp_with_time_zone(Entities::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_entities_device")
                        .from(Entities::Table, Entities::DeviceId)
                        .to(Devices::Table, Devices::DeviceId)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        for (name, col) in [
            ("idx_entities_device", Entities::DeviceId),
            ("idx_entities_domain", Entities::Domain),
            ("idx_entities_platform", Entities::Platform),
            ("idx_entities_disabled", Entities::Disabled),
        ] {
            m.create_index(
                Index::create()
                    .name(name)
                    .table(Entities::Table)
                    .col(col)
                    .col(Entities::EntityId)
                    .to_owned(),
            )
            .await?;
        }

        m.create_table(
            Table::create()
                .table(UserPreferences::Table)
                .col(big_integer(UserPreferences::UserId).primary_key())
                .col(json(UserPreferences::SelectedTeams))
                .col(json(UserPreferences::NotificationSettings))
                .col(json(UserPreferences::Ui))
                .col(timestamp_with_time_zone(UserPreferences::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_user_preferences_user")
                        .from(UserPreferences::Table, UserPreferences::UserId)
                        .to(LocalUsers::Table, LocalUsers::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(UserPreferences::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(Entities::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(Devices::Table).to_owned())
            .await
    }
}
