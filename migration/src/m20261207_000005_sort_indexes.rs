//! Indexes for the columns the console's lists now sort by: a webhook's URL and a device
//! code's expiry, each ending with the list's id, so a sorted page is one range of its index
//! read either way.

use sea_orm_migration::prelude::*;

use crate::support::exec;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Each index: name, table, and its key.
const INDEXES: [(&str, &str, &str); 2] = [
    ("idx_webhooks_url", "webhooks", "url, webhook_id"),
    (
        "idx_oauth_device_codes_expires",
        "oauth_device_codes",
        "expires_at, id",
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
