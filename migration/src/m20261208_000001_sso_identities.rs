//! Single sign-on (spec 08): `sso_identities` links a local user to the (`provider`, `sub`)
//! an upstream identity provider vouched for, and `sso_flows` holds one row per sign-in that
//! went to a provider and has not come back yet, so that each callback is taken once.
//!
//! A flow's secrets (the PKCE verifier, the nonce) are not stored: they travel in the
//! browser's encrypted flow cookie. The row holds only the SHA-256 of the `state`, and the
//! callback deletes it; a callback whose row is gone is a replay.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum SsoIdentities {
    Table,
    Id,
    ProviderId,
    Sub,
    UserId,
    CreatedAt,
    LastLoginAt,
}

#[derive(DeriveIden)]
enum SsoFlows {
    Table,
    StateHash,
    ProviderId,
    CreatedAt,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum OauthProviders {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum LocalUsers {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(SsoIdentities::Table)
                .col(big_pk_auto(SsoIdentities::Id))
                .col(uuid(SsoIdentities::ProviderId))
                .col(string(SsoIdentities::Sub))
                .col(big_integer(SsoIdentities::UserId))
                .col(timestamp_with_time_zone(SsoIdentities::CreatedAt))
                .col(timestamp_with_time_zone(SsoIdentities::LastLoginAt))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_sso_identities_provider")
                        .from(SsoIdentities::Table, SsoIdentities::ProviderId)
                        .to(OauthProviders::Table, OauthProviders::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_sso_identities_user")
                        .from(SsoIdentities::Table, SsoIdentities::UserId)
                        .to(LocalUsers::Table, LocalUsers::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        // One local user per identity at a provider.
        m.create_index(
            Index::create()
                .name("uq_sso_identities_provider_sub")
                .table(SsoIdentities::Table)
                .col(SsoIdentities::ProviderId)
                .col(SsoIdentities::Sub)
                .unique()
                .to_owned(),
        )
        .await?;
        // Deleting a user finds its links by this index (the cascade).
        m.create_index(
            Index::create()
                .name("ix_sso_identities_user")
                .table(SsoIdentities::Table)
                .col(SsoIdentities::UserId)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(SsoFlows::Table)
                .col(string(SsoFlows::StateHash).primary_key())
                .col(uuid(SsoFlows::ProviderId))
                .col(timestamp_with_time_zone(SsoFlows::CreatedAt))
                .col(timestamp_with_time_zone(SsoFlows::ExpiresAt))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_sso_flows_provider")
                        .from(SsoFlows::Table, SsoFlows::ProviderId)
                        .to(OauthProviders::Table, OauthProviders::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        // Flows that never came back are deleted by their expiry.
        m.create_index(
            Index::create()
                .name("ix_sso_flows_expires_at")
                .table(SsoFlows::Table)
                .col(SsoFlows::ExpiresAt)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(SsoFlows::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(SsoIdentities::Table).to_owned())
            .await
    }
}
