//! Indexes the console's lists need beyond those their tables were created with.
//!
//! - The filters whose values form a small vocabulary (a device's area, manufacturer and
//!   integration; a sync's tenant) ignore case ("ikea" finds "IKEA"): they compare
//!   `lower(column)` with the lowered value, and an index on that same expression serves
//!   them on both backends. The registry columns compare by bytes on PostgreSQL (collation
//!   `"C"`, see `m20261124_000002_registry_text_in_byte_order`), under which `lower` folds
//!   ASCII letters, as SQLite's does.
//! - The OAuth clients list by name and the device codes by creation time, both ways, each
//!   with its id breaking ties.
//!
//! Each index ends with the columns the list pages by, so a filtered page is one range of it.

use sea_orm_migration::prelude::*;

use crate::support::exec;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Each index: name, table, and its key.
const INDEXES: [(&str, &str, &str); 6] = [
    (
        "idx_devices_area_lower",
        "devices",
        "lower(\"area_id\"), device_id",
    ),
    (
        "idx_devices_manufacturer_lower",
        "devices",
        "lower(\"manufacturer\"), device_id",
    ),
    (
        "idx_devices_integration_lower",
        "devices",
        "lower(\"integration\"), device_id",
    ),
    (
        "idx_sync_history_tenant_lower",
        "sync_history",
        "lower(\"tenant_id\"), start_time, id",
    ),
    (
        "idx_oauth_clients_name",
        "oauth_clients",
        "name, client_identifier",
    ),
    (
        "idx_oauth_device_codes_created",
        "oauth_device_codes",
        "created_at, id",
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for (name, table, key) in INDEXES {
            exec(m, &format!("CREATE INDEX {name} ON \"{table}\" ({key})")).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for (name, _, _) in INDEXES {
            exec(m, &format!("DROP INDEX {name}")).await?;
        }
        Ok(())
    }
}
