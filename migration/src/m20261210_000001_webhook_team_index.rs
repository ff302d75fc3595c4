//! One redundant webhook index less: `idx_webhooks_team` (`team`) goes, because
//! `idx_webhooks_team_id` (`team, webhook_id`) starts with the same column and serves every
//! lookup it served, while each webhook write paid for both.

use sea_orm_migration::prelude::*;

use crate::support::exec;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        exec(m, "DROP INDEX idx_webhooks_team").await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        exec(
            m,
            "CREATE INDEX idx_webhooks_team ON \"webhooks\" (\"team\")",
        )
        .await
    }
}
