//! The second factor (spec 02): each user's TOTP credential and their one-time recovery codes.
//!
//! `user_totp` holds the secret encrypted (AES-256-GCM, like webhook secrets), `confirmed_at`
//! (NULL while an enrolment waits for its first code) and `last_step`, the newest time step
//! accepted, which a conditional UPDATE moves forward so each code works once.
//! `user_recovery_codes` holds SHA-256 hashes of the codes; `used_at` marks a spent one.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum LocalUsers {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum UserTotp {
    Table,
    UserId,
    SecretEncrypted,
    ConfirmedAt,
    LastStep,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum UserRecoveryCodes {
    Table,
    Id,
    UserId,
    CodeHash,
    UsedAt,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(UserTotp::Table)
                .col(big_integer(UserTotp::UserId).primary_key())
                .col(text(UserTotp::SecretEncrypted))
                .col(timestamp_with_time_zone_null(UserTotp::ConfirmedAt))
                .col(big_integer(UserTotp::LastStep).default(0))
                .col(timestamp_with_time_zone(UserTotp::CreatedAt))
                .col(timestamp_with_time_zone(UserTotp::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_user_totp_user")
                        .from(UserTotp::Table, UserTotp::UserId)
                        .to(LocalUsers::Table, LocalUsers::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(UserRecoveryCodes::Table)
                .col(big_pk_auto(UserRecoveryCodes::Id))
                .col(big_integer(UserRecoveryCodes::UserId))
                .col(string(UserRecoveryCodes::CodeHash))
                .col(timestamp_with_time_zone_null(UserRecoveryCodes::UsedAt))
                .col(timestamp_with_time_zone(UserRecoveryCodes::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_user_recovery_codes_user")
                        .from(UserRecoveryCodes::Table, UserRecoveryCodes::UserId)
                        .to(LocalUsers::Table, LocalUsers::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        // A code is looked up (and spent) by its user and hash, in one conditional UPDATE.
        m.create_index(
            Index::create()
                .name("uq_user_recovery_codes_user_hash")
                .table(UserRecoveryCodes::Table)
                .col(UserRecoveryCodes::UserId)
                .col(UserRecoveryCodes::CodeHash)
                .unique()
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(UserRecoveryCodes::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(UserTotp::Table).to_owned())
            .await
    }
}
