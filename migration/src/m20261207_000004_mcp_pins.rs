//! MCP server health and tool pinning (spec 08, "Beyond the seed"): what each check records
//! on the server (error, latency, protocol version, tool count, the failure streak that keeps
//! one failed check from marking a reachable server unreachable, whether its tools drifted),
//! and `mcp_tool_pins`, one row per tool: the hash and JSON approved, and those last seen.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum McpServers {
    Table,
    Id,
    LastError,
    LastLatencyMs,
    ProtocolVersion,
    ToolCount,
    FailedChecks,
    ToolsDrift,
    ToolsPinnedAt,
}

#[derive(DeriveIden)]
enum McpToolPins {
    Table,
    Id,
    ServerId,
    Name,
    PinnedHash,
    Pinned,
    CurrentHash,
    Current,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite's ALTER TABLE adds one at a time.
        let columns = [
            text_null(McpServers::LastError),
            big_integer_null(McpServers::LastLatencyMs),
            string_null(McpServers::ProtocolVersion),
            big_integer_null(McpServers::ToolCount),
            big_integer(McpServers::FailedChecks).default(0).to_owned(),
            boolean(McpServers::ToolsDrift).default(false).to_owned(),
            timestamp_with_time_zone_null(McpServers::ToolsPinnedAt),
        ];
        for column in columns {
            m.alter_table(
                Table::alter()
                    .table(McpServers::Table)
                    .add_column(column)
                    .to_owned(),
            )
            .await?;
        }
        m.create_table(
            Table::create()
                .table(McpToolPins::Table)
                .col(big_pk_auto(McpToolPins::Id))
                .col(uuid(McpToolPins::ServerId))
                .col(string(McpToolPins::Name))
                // Null for a tool added since the last approval.
                .col(string_null(McpToolPins::PinnedHash))
                .col(json_null(McpToolPins::Pinned))
                // Null for a tool the server no longer lists.
                .col(string_null(McpToolPins::CurrentHash))
                .col(json_null(McpToolPins::Current))
                .col(timestamp_with_time_zone(McpToolPins::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_mcp_tool_pins_server")
                        .from(McpToolPins::Table, McpToolPins::ServerId)
                        .to(McpServers::Table, McpServers::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        // A server's tools by name, one row each.
        m.create_index(
            Index::create()
                .name("uq_mcp_tool_pins_server_name")
                .table(McpToolPins::Table)
                .col(McpToolPins::ServerId)
                .col(McpToolPins::Name)
                .unique()
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(McpToolPins::Table).to_owned())
            .await?;
        for column in [
            McpServers::ToolsPinnedAt,
            McpServers::ToolsDrift,
            McpServers::FailedChecks,
            McpServers::ToolCount,
            McpServers::ProtocolVersion,
            McpServers::LastLatencyMs,
            McpServers::LastError,
        ] {
            m.alter_table(
                Table::alter()
                    .table(McpServers::Table)
                    .drop_column(column)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}
