//! The dispatcher's queue of due deliveries as its own partial index.
//!
//! The first index, `(status, next_attempt_at)`, could not hand out the earliest due
//! deliveries of two statuses (`pending`, `failed`) in `next_attempt_at` order: every claim
//! read and sorted the whole backlog (112 ms a claim with 37,000 deliveries due on
//! PostgreSQL). The new one holds only deliveries still to send (exactly those with a
//! `next_attempt_at`: it is cleared when a delivery succeeds or dies), in the order they are
//! claimed, so a claim reads just the rows it takes, however long the backlog; delivered and
//! dead rows, the bulk of the table, are not in it at all.
//!
//! The claim's `next_attempt_at <= now` implies the index's `next_attempt_at IS NOT NULL`, on
//! SQLite and PostgreSQL alike, even with the time bound as a parameter.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum WebhookDeliveries {
    Table,
    Id,
    Status,
    NextAttemptAt,
}

const INDEX: &str = "idx_webhook_deliveries_due";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    /// The old index is dropped and the new one built together, or neither is.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        drop_index(m).await?;
        m.create_index(
            Index::create()
                .name(INDEX)
                .table(WebhookDeliveries::Table)
                .col(WebhookDeliveries::NextAttemptAt)
                .col(WebhookDeliveries::Id)
                .and_where(Expr::col(WebhookDeliveries::NextAttemptAt).is_not_null())
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        drop_index(m).await?;
        m.create_index(
            Index::create()
                .name(INDEX)
                .table(WebhookDeliveries::Table)
                .col(WebhookDeliveries::Status)
                .col(WebhookDeliveries::NextAttemptAt)
                .to_owned(),
        )
        .await
    }
}

async fn drop_index(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    m.drop_index(
        Index::drop()
            .name(INDEX)
            .table(WebhookDeliveries::Table)
            .to_owned(),
    )
    .await
}
