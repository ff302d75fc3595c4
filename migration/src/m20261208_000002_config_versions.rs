//! What lets every instance's cache of `gateway_config` learn of a change made through another
//! instance: `gateway_config_clock` counts the changes (one row per clock, `gateway_config`),
//! and `gateway_config_versions` holds, for each key ever written, the count at its last change.
//!
//! A write bumps the clock inside its own transaction, so the clock's row lock orders the
//! writes: versions become visible in the order they were counted, and an instance that has
//! seen every version up to `n` finds every later change with `version > n`. A deleted key
//! keeps its row, which is how other instances learn of the deletion.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum GatewayConfigClock {
    Table,
    Name,
    Version,
}

#[derive(DeriveIden)]
enum GatewayConfigVersions {
    Table,
    Key,
    Version,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(GatewayConfigClock::Table)
                .col(string(GatewayConfigClock::Name).primary_key())
                .col(big_integer(GatewayConfigClock::Version))
                .to_owned(),
        )
        .await?;
        m.exec_stmt(
            Query::insert()
                .into_table(GatewayConfigClock::Table)
                .columns([GatewayConfigClock::Name, GatewayConfigClock::Version])
                .values_panic(["gateway_config".into(), 0i64.into()])
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(GatewayConfigVersions::Table)
                .col(string(GatewayConfigVersions::Key).primary_key())
                .col(big_integer(GatewayConfigVersions::Version))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_gateway_config_versions_version")
                .table(GatewayConfigVersions::Table)
                .col(GatewayConfigVersions::Version)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(GatewayConfigVersions::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(GatewayConfigClock::Table).to_owned())
            .await
    }
}
