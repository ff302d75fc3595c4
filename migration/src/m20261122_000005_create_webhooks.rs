//! Webhook subscriptions and the delivery outbox (spec 05, seed 002).

use sea_orm_migration::{prelude::*, schema::*};

use crate::support::one_of;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Webhooks {
    Table,
    WebhookId,
    Url,
    Events,
    Secret,
    Team,
    CreatedAt,
    Description,
    IsEnabled,
    UpdatedAt,
    DisabledReason,
    PreviousSecret,
    SecretRotatedAt,
    FailingSince,
}

#[derive(DeriveIden)]
enum WebhookDeliveries {
    Table,
    Id,
    WebhookId,
    MessageId,
    EventType,
    Payload,
    Status,
    Attempts,
    NextAttemptAt,
    ClaimedUntil,
    LastStatusCode,
    LastError,
    LastResponseSnippet,
    CreatedAt,
    DeliveredAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Webhooks::Table)
                .col(string(Webhooks::WebhookId).primary_key())
                .col(text(Webhooks::Url))
                .col(json(Webhooks::Events))
                // Encrypted with a key derived from METADECK_SECRET_KEY: it must be recoverable to sign.
                .col(text(Webhooks::Secret))
                .col(string_null(Webhooks::Team))
                .col(timestamp_with_time_zone(Webhooks::CreatedAt))
                .col(text_null(Webhooks::Description))
                .col(boolean(Webhooks::IsEnabled).default(true))
                .col(timestamp_with_time_zone(Webhooks::UpdatedAt))
                .col(string_null(Webhooks::DisabledReason))
                // The secret replaced by the last rotation, still used to co-sign for 24 hours.
                .col(text_null(Webhooks::PreviousSecret))
                .col(timestamp_with_time_zone_null(Webhooks::SecretRotatedAt))
                // Start of the current run of failed attempts (an endpoint failing for 5 days is disabled).
                .col(timestamp_with_time_zone_null(Webhooks::FailingSince))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_webhooks_team")
                .table(Webhooks::Table)
                .col(Webhooks::Team)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(WebhookDeliveries::Table)
                .col(big_pk_auto(WebhookDeliveries::Id))
                .col(string(WebhookDeliveries::WebhookId))
                .col(string(WebhookDeliveries::MessageId))
                .col(string(WebhookDeliveries::EventType))
                .col(json_null(WebhookDeliveries::Payload))
                .col(string(WebhookDeliveries::Status).check(one_of(
                    WebhookDeliveries::Status,
                    &["pending", "succeeded", "failed", "dead"],
                )))
                .col(big_integer(WebhookDeliveries::Attempts).default(0))
                .col(timestamp_with_time_zone_null(
                    WebhookDeliveries::NextAttemptAt,
                ))
                // Lease taken by the dispatcher instance that is sending this row.
                .col(timestamp_with_time_zone_null(
                    WebhookDeliveries::ClaimedUntil,
                ))
                .col(big_integer_null(WebhookDeliveries::LastStatusCode))
                .col(text_null(WebhookDeliveries::LastError))
                .col(text_null(WebhookDeliveries::LastResponseSnippet))
                .col(timestamp_with_time_zone(WebhookDeliveries::CreatedAt))
                .col(timestamp_with_time_zone_null(
                    WebhookDeliveries::DeliveredAt,
                ))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_webhook_deliveries_webhook")
                        .from(WebhookDeliveries::Table, WebhookDeliveries::WebhookId)
                        .to(Webhooks::Table, Webhooks::WebhookId)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_webhook_deliveries_due")
                .table(WebhookDeliveries::Table)
                .col(WebhookDeliveries::Status)
                .col(WebhookDeliveries::NextAttemptAt)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_webhook_deliveries_webhook")
                .table(WebhookDeliveries::Table)
                .col(WebhookDeliveries::WebhookId)
                .col(WebhookDeliveries::Id)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_webhook_deliveries_message")
                .table(WebhookDeliveries::Table)
                .col(WebhookDeliveries::MessageId)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_webhook_deliveries_created")
                .table(WebhookDeliveries::Table)
                .col(WebhookDeliveries::CreatedAt)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(WebhookDeliveries::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(Webhooks::Table).to_owned())
            .await
    }
}
