//! The devices' indexes on the raw area, manufacturer and integration columns go. Every
//! filter on those columns ignores case and reads the index on `lower(column)`, and the
//! values a filter offers now hop through that same index
//! (`service::vocabulary::known_values`), so nothing reads them; each cost every device
//! write one more B-tree insert, and a bulk upsert writes many devices.

use sea_orm_migration::prelude::*;

use crate::support::exec;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Each index: name and column.
const INDEXES: [(&str, &str); 3] = [
    ("idx_devices_area", "area_id"),
    ("idx_devices_manufacturer", "manufacturer"),
    ("idx_devices_integration", "integration"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for (name, _) in INDEXES {
            exec(m, &format!("DROP INDEX {name}")).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for (name, column) in INDEXES {
            exec(
                m,
                &format!("CREATE INDEX {name} ON \"devices\" (\"{column}\", \"device_id\")"),
            )
            .await?;
        }
        Ok(())
    }
}
