//! Gateway settings: MCP servers, upstream OAuth providers, AD group mappings and the
//! key/value configuration (spec 08, seed 004).

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261122_000001_create_access::RbacRoles;
use crate::support::one_of;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum McpServers {
    Table,
    Id,
    Name,
    Url,
    Transport,
    Description,
    Enabled,
    Headers,
    LastCheckedAt,
    LastStatus,
    ServerInfo,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum OauthProviders {
    Table,
    Id,
    Name,
    DisplayName,
    ClientId,
    ClientSecret,
    AuthorizeUrl,
    TokenUrl,
    UserinfoUrl,
    Scopes,
    GroupsClaim,
    Enabled,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum AdGroupMappings {
    Table,
    Id,
    AdGroup,
    RoleId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum GatewayConfig {
    Table,
    Key,
    Value,
    Description,
    UpdatedAt,
    UpdatedBy,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(McpServers::Table)
                .col(uuid(McpServers::Id).primary_key())
                .col(string_uniq(McpServers::Name))
                .col(text(McpServers::Url))
                .col(
                    string(McpServers::Transport)
                        .default("streamable-http")
                        .check(one_of(
                            McpServers::Transport,
                            &["streamable-http", "sse", "stdio"],
                        )),
                )
                .col(text_null(McpServers::Description))
                .col(boolean(McpServers::Enabled).default(true))
                // Header values are encrypted at rest: they often hold API keys.
                .col(json(McpServers::Headers))
                .col(timestamp_with_time_zone_null(McpServers::LastCheckedAt))
                .col(string_null(McpServers::LastStatus))
                .col(json_null(McpServers::ServerInfo))
                .col(timestamp_with_time_zone(McpServers::CreatedAt))
                .col(timestamp_with_time_zone(McpServers::UpdatedAt))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(OauthProviders::Table)
                .col(uuid(OauthProviders::Id).primary_key())
                .col(string_uniq(OauthProviders::Name))
                .col(string(OauthProviders::DisplayName))
                .col(string(OauthProviders::ClientId))
                // Encrypted at rest; write-only through the API.
                .col(text_null(OauthProviders::ClientSecret))
                .col(text(OauthProviders::AuthorizeUrl))
                .col(text(OauthProviders::TokenUrl))
                .col(text(OauthProviders::UserinfoUrl))
                .col(string(OauthProviders::Scopes))
                .col(string(OauthProviders::GroupsClaim).default("groups"))
                .col(boolean(OauthProviders::Enabled).default(true))
                .col(timestamp_with_time_zone(OauthProviders::CreatedAt))
                .col(timestamp_with_time_zone(OauthProviders::UpdatedAt))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(AdGroupMappings::Table)
                .col(uuid(AdGroupMappings::Id).primary_key())
                .col(string_uniq(AdGroupMappings::AdGroup))
                .col(big_integer(AdGroupMappings::RoleId))
                .col(timestamp_with_time_zone(AdGroupMappings::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_ad_group_mappings_role")
                        .from(AdGroupMappings::Table, AdGroupMappings::RoleId)
                        .to(RbacRoles::Table, RbacRoles::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_ad_group_mappings_role")
                .table(AdGroupMappings::Table)
                .col(AdGroupMappings::RoleId)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(GatewayConfig::Table)
                .col(string(GatewayConfig::Key).primary_key())
                .col(json(GatewayConfig::Value))
                .col(text_null(GatewayConfig::Description))
                .col(timestamp_with_time_zone(GatewayConfig::UpdatedAt))
                .col(string_null(GatewayConfig::UpdatedBy))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(GatewayConfig::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(AdGroupMappings::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(OauthProviders::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(McpServers::Table).to_owned())
            .await
    }
}
