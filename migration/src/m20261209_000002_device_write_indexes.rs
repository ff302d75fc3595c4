//! Fewer indexes on `devices`, which a bulk upsert writes by the ten thousand: each index is
//! one more B-tree insert per device written.
//!
//! - The indexes on the raw area, manufacturer and integration columns go. Every filter on
//!   those columns ignores case and reads the index on `lower(column)`, and the values a
//!   filter offers now hop through that same index (`service::vocabulary::known_values`), so
//!   nothing read them.
//! - The indexes of a filter's devices by name (`lower(column), name, device_id`) go. A
//!   device's name is unrelated to its id, so each write put an entry at a random place in
//!   each of them; the three halved a bulk upsert. A list filtered by area, manufacturer or
//!   integration and sorted by name now reads the filter's range of `lower(column)` and sorts
//!   those devices: its cost grows with the devices of that area, manufacturer or
//!   integration, not with the table.

use sea_orm_migration::prelude::*;

use crate::support::exec;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The columns whose indexes go.
const COLUMNS: [(&str, &str); 3] = [
    ("area", "area_id"),
    ("manufacturer", "manufacturer"),
    ("integration", "integration"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for (name, _) in COLUMNS {
            exec(m, &format!("DROP INDEX idx_devices_{name}")).await?;
            exec(m, &format!("DROP INDEX idx_devices_{name}_name")).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for (name, column) in COLUMNS {
            exec(
                m,
                &format!(
                    "CREATE INDEX idx_devices_{name} ON \"devices\" (\"{column}\", \"device_id\")"
                ),
            )
            .await?;
            exec(
                m,
                &format!(
                    "CREATE INDEX idx_devices_{name}_name ON \"devices\" (lower(\"{column}\"), name, device_id)"
                ),
            )
            .await?;
        }
        Ok(())
    }
}
