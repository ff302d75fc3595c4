//! The OAuth2 authorization server's storage (spec 06, seed 001).
//!
//! Every table carries seed 001's audit fields. Secrets, codes, tokens and device codes
//! are stored only as lowercase hex SHA-256; deleting a client cascades to all of them.

use sea_orm_migration::{prelude::*, schema::*};

use crate::support::{create_append_only_guard, drop_append_only_guard, one_of};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum OauthClients {
    Table,
    Id,
    ClientIdentifier,
    ClientSecret,
    Name,
    IsConfidential,
    IsEnabled,
    RedirectUris,
    GrantTypes,
    LastUsedAt,
}

#[derive(DeriveIden)]
enum OauthClientConfigs {
    Table,
    Id,
    ClientId,
    AllowedScopes,
    AccessTokenTtlSeconds,
    RefreshTokenTtlSeconds,
    RequirePkce,
    SkipConsent,
    DeviceCodeTtlSeconds,
    DevicePollIntervalSeconds,
}

#[derive(DeriveIden)]
enum OauthUsers {
    Table,
    Id,
    ExternalId,
    Username,
    Email,
}

#[derive(DeriveIden)]
enum OauthAuthorizationCodes {
    Table,
    Id,
    Code,
    ClientId,
    UserId,
    RedirectUri,
    Scope,
    CodeChallenge,
    CodeChallengeMethod,
    ExpiresAt,
    ConsumedAt,
}

#[derive(DeriveIden)]
enum OauthAccessTokens {
    Table,
    Id,
    Token,
    ClientId,
    UserId,
    Scope,
    ExpiresAt,
    RevokedAt,
    GrantId,
    RefreshTokenId,
    AuthorizationCodeId,
}

#[derive(DeriveIden)]
enum OauthRefreshTokens {
    Table,
    Id,
    Token,
    ClientId,
    UserId,
    Scope,
    ExpiresAt,
    RevokedAt,
    RotatedAt,
    ParentId,
    GrantId,
}

#[derive(DeriveIden)]
enum OauthDeviceCodes {
    Table,
    Id,
    DeviceCode,
    UserCode,
    ClientId,
    UserId,
    Scope,
    State,
    ExpiresAt,
    IntervalSeconds,
    LastPolledAt,
}

#[derive(DeriveIden)]
enum OauthAuditLogs {
    Table,
    Id,
    EventType,
    Subject,
    ClientId,
    UserId,
    Metadata,
}

#[derive(DeriveIden)]
enum Audited {
    CreatedAt,
    CreatedBy,
    UpdatedAt,
    UpdatedBy,
}

/// Seed 001's audit fields, present on every OAuth table.
fn audited(t: &mut TableCreateStatement) -> &mut TableCreateStatement {
    t.col(timestamp_with_time_zone(Audited::CreatedAt))
        .col(string_null(Audited::CreatedBy))
        .col(timestamp_with_time_zone(Audited::UpdatedAt))
        .col(string_null(Audited::UpdatedBy))
}

fn cascade_to_client<T: IntoIden + 'static, C: IntoIden + 'static>(
    name: &str,
    table: T,
    col: C,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(table, col)
        .to(OauthClients::Table, OauthClients::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

fn cascade_to_user<T: IntoIden + 'static, C: IntoIden + 'static>(
    name: &str,
    table: T,
    col: C,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(table, col)
        .to(OauthUsers::Table, OauthUsers::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

async fn index<T: IntoIden + 'static, C: IntoIden + 'static>(
    m: &SchemaManager<'_>,
    name: &str,
    table: T,
    col: C,
) -> Result<(), DbErr> {
    m.create_index(Index::create().name(name).table(table).col(col).to_owned())
        .await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            audited(
                Table::create()
                    .table(OauthClients::Table)
                    .col(uuid(OauthClients::Id).primary_key())
                    .col(string_uniq(OauthClients::ClientIdentifier))
                    .col(string_null(OauthClients::ClientSecret))
                    .col(string(OauthClients::Name))
                    .col(boolean(OauthClients::IsConfidential))
                    .col(boolean(OauthClients::IsEnabled).default(true))
                    .col(json(OauthClients::RedirectUris))
                    .col(json(OauthClients::GrantTypes))
                    .col(timestamp_with_time_zone_null(OauthClients::LastUsedAt)),
            )
            .to_owned(),
        )
        .await?;
        index(
            m,
            "idx_oauth_clients_enabled",
            OauthClients::Table,
            OauthClients::IsEnabled,
        )
        .await?;

        m.create_table(
            audited(
                Table::create()
                    .table(OauthClientConfigs::Table)
                    .col(uuid(OauthClientConfigs::Id).primary_key())
                    .col(uuid_uniq(OauthClientConfigs::ClientId))
                    .col(json(OauthClientConfigs::AllowedScopes))
                    .col(big_integer(OauthClientConfigs::AccessTokenTtlSeconds).default(3600))
                    .col(big_integer(OauthClientConfigs::RefreshTokenTtlSeconds).default(2_592_000))
                    .col(boolean(OauthClientConfigs::RequirePkce).default(true))
                    .col(boolean(OauthClientConfigs::SkipConsent).default(false))
                    .col(big_integer(OauthClientConfigs::DeviceCodeTtlSeconds).default(600))
                    .col(big_integer(OauthClientConfigs::DevicePollIntervalSeconds).default(5))
                    .foreign_key(&mut cascade_to_client(
                        "fk_oauth_client_configs_client",
                        OauthClientConfigs::Table,
                        OauthClientConfigs::ClientId,
                    )),
            )
            .to_owned(),
        )
        .await?;

        m.create_table(
            audited(
                Table::create()
                    .table(OauthUsers::Table)
                    .col(uuid(OauthUsers::Id).primary_key())
                    // `local:<local_users.id>` for Metadeck's own users.
                    .col(string_uniq(OauthUsers::ExternalId))
                    .col(string_null(OauthUsers::Username))
                    .col(string_null(OauthUsers::Email)),
            )
            .to_owned(),
        )
        .await?;

        m.create_table(
            audited(
                Table::create()
                    .table(OauthAuthorizationCodes::Table)
                    .col(uuid(OauthAuthorizationCodes::Id).primary_key())
                    .col(string_uniq(OauthAuthorizationCodes::Code))
                    .col(uuid(OauthAuthorizationCodes::ClientId))
                    .col(uuid(OauthAuthorizationCodes::UserId))
                    .col(text(OauthAuthorizationCodes::RedirectUri))
                    .col(text(OauthAuthorizationCodes::Scope))
                    .col(string_null(OauthAuthorizationCodes::CodeChallenge))
                    .col(string_null(OauthAuthorizationCodes::CodeChallengeMethod))
                    .col(timestamp_with_time_zone(OauthAuthorizationCodes::ExpiresAt))
                    .col(timestamp_with_time_zone_null(
                        OauthAuthorizationCodes::ConsumedAt,
                    ))
                    .foreign_key(&mut cascade_to_client(
                        "fk_oauth_codes_client",
                        OauthAuthorizationCodes::Table,
                        OauthAuthorizationCodes::ClientId,
                    ))
                    .foreign_key(&mut cascade_to_user(
                        "fk_oauth_codes_user",
                        OauthAuthorizationCodes::Table,
                        OauthAuthorizationCodes::UserId,
                    )),
            )
            .to_owned(),
        )
        .await?;
        index(
            m,
            "idx_oauth_codes_client",
            OauthAuthorizationCodes::Table,
            OauthAuthorizationCodes::ClientId,
        )
        .await?;
        index(
            m,
            "idx_oauth_codes_user",
            OauthAuthorizationCodes::Table,
            OauthAuthorizationCodes::UserId,
        )
        .await?;
        index(
            m,
            "idx_oauth_codes_expires_at",
            OauthAuthorizationCodes::Table,
            OauthAuthorizationCodes::ExpiresAt,
        )
        .await?;

        m.create_table(
            audited(
                Table::create()
                    .table(OauthRefreshTokens::Table)
                    .col(uuid(OauthRefreshTokens::Id).primary_key())
                    .col(string_uniq(OauthRefreshTokens::Token))
                    .col(uuid(OauthRefreshTokens::ClientId))
                    .col(uuid_null(OauthRefreshTokens::UserId))
                    .col(text(OauthRefreshTokens::Scope))
                    .col(timestamp_with_time_zone(OauthRefreshTokens::ExpiresAt))
                    .col(timestamp_with_time_zone_null(OauthRefreshTokens::RevokedAt))
                    // Set when this token was exchanged for its successor; presenting it again is a replay.
                    .col(timestamp_with_time_zone_null(OauthRefreshTokens::RotatedAt))
                    .col(uuid_null(OauthRefreshTokens::ParentId))
                    // The original grant (code or device code) every descendant token shares.
                    .col(uuid(OauthRefreshTokens::GrantId))
                    .foreign_key(&mut cascade_to_client(
                        "fk_oauth_refresh_tokens_client",
                        OauthRefreshTokens::Table,
                        OauthRefreshTokens::ClientId,
                    ))
                    .foreign_key(&mut cascade_to_user(
                        "fk_oauth_refresh_tokens_user",
                        OauthRefreshTokens::Table,
                        OauthRefreshTokens::UserId,
                    )),
            )
            .to_owned(),
        )
        .await?;
        index(
            m,
            "idx_oauth_refresh_tokens_client",
            OauthRefreshTokens::Table,
            OauthRefreshTokens::ClientId,
        )
        .await?;
        index(
            m,
            "idx_oauth_refresh_tokens_user",
            OauthRefreshTokens::Table,
            OauthRefreshTokens::UserId,
        )
        .await?;
        index(
            m,
            "idx_oauth_refresh_tokens_created",
            OauthRefreshTokens::Table,
            Audited::CreatedAt,
        )
        .await?;
        index(
            m,
            "idx_oauth_refresh_tokens_grant",
            OauthRefreshTokens::Table,
            OauthRefreshTokens::GrantId,
        )
        .await?;
        index(
            m,
            "idx_oauth_refresh_tokens_expires_at",
            OauthRefreshTokens::Table,
            OauthRefreshTokens::ExpiresAt,
        )
        .await?;

        m.create_table(
            audited(
                Table::create()
                    .table(OauthAccessTokens::Table)
                    .col(uuid(OauthAccessTokens::Id).primary_key())
                    .col(string_uniq(OauthAccessTokens::Token))
                    .col(uuid(OauthAccessTokens::ClientId))
                    .col(uuid_null(OauthAccessTokens::UserId))
                    .col(text(OauthAccessTokens::Scope))
                    .col(timestamp_with_time_zone(OauthAccessTokens::ExpiresAt))
                    .col(timestamp_with_time_zone_null(OauthAccessTokens::RevokedAt))
                    // Null for client-credentials tokens; otherwise the grant the token descends from.
                    .col(uuid_null(OauthAccessTokens::GrantId))
                    .col(uuid_null(OauthAccessTokens::RefreshTokenId))
                    .col(uuid_null(OauthAccessTokens::AuthorizationCodeId))
                    .foreign_key(&mut cascade_to_client(
                        "fk_oauth_access_tokens_client",
                        OauthAccessTokens::Table,
                        OauthAccessTokens::ClientId,
                    ))
                    .foreign_key(&mut cascade_to_user(
                        "fk_oauth_access_tokens_user",
                        OauthAccessTokens::Table,
                        OauthAccessTokens::UserId,
                    )),
            )
            .to_owned(),
        )
        .await?;
        index(
            m,
            "idx_oauth_access_tokens_client",
            OauthAccessTokens::Table,
            OauthAccessTokens::ClientId,
        )
        .await?;
        index(
            m,
            "idx_oauth_access_tokens_user",
            OauthAccessTokens::Table,
            OauthAccessTokens::UserId,
        )
        .await?;
        index(
            m,
            "idx_oauth_access_tokens_expires_at",
            OauthAccessTokens::Table,
            OauthAccessTokens::ExpiresAt,
        )
        .await?;
        index(
            m,
            "idx_oauth_access_tokens_created",
            OauthAccessTokens::Table,
            Audited::CreatedAt,
        )
        .await?;
        index(
            m,
            "idx_oauth_access_tokens_grant",
            OauthAccessTokens::Table,
            OauthAccessTokens::GrantId,
        )
        .await?;
        index(
            m,
            "idx_oauth_access_tokens_refresh",
            OauthAccessTokens::Table,
            OauthAccessTokens::RefreshTokenId,
        )
        .await?;

        m.create_table(
            audited(
                Table::create()
                    .table(OauthDeviceCodes::Table)
                    .col(uuid(OauthDeviceCodes::Id).primary_key())
                    .col(string_uniq(OauthDeviceCodes::DeviceCode))
                    .col(string_uniq(OauthDeviceCodes::UserCode))
                    .col(uuid(OauthDeviceCodes::ClientId))
                    .col(uuid_null(OauthDeviceCodes::UserId))
                    .col(text(OauthDeviceCodes::Scope))
                    .col(
                        string(OauthDeviceCodes::State)
                            .default("pending")
                            .check(one_of(
                                OauthDeviceCodes::State,
                                &["pending", "approved", "denied", "consumed", "expired"],
                            )),
                    )
                    .col(timestamp_with_time_zone(OauthDeviceCodes::ExpiresAt))
                    .col(big_integer(OauthDeviceCodes::IntervalSeconds))
                    .col(timestamp_with_time_zone_null(
                        OauthDeviceCodes::LastPolledAt,
                    ))
                    .foreign_key(&mut cascade_to_client(
                        "fk_oauth_device_codes_client",
                        OauthDeviceCodes::Table,
                        OauthDeviceCodes::ClientId,
                    ))
                    .foreign_key(&mut cascade_to_user(
                        "fk_oauth_device_codes_user",
                        OauthDeviceCodes::Table,
                        OauthDeviceCodes::UserId,
                    )),
            )
            .to_owned(),
        )
        .await?;
        index(
            m,
            "idx_oauth_device_codes_state",
            OauthDeviceCodes::Table,
            OauthDeviceCodes::State,
        )
        .await?;
        index(
            m,
            "idx_oauth_device_codes_expires_at",
            OauthDeviceCodes::Table,
            OauthDeviceCodes::ExpiresAt,
        )
        .await?;
        index(
            m,
            "idx_oauth_device_codes_client",
            OauthDeviceCodes::Table,
            OauthDeviceCodes::ClientId,
        )
        .await?;

        // No foreign keys: the log outlives the clients and users it mentions.
        m.create_table(
            audited(
                Table::create()
                    .table(OauthAuditLogs::Table)
                    .col(big_pk_auto(OauthAuditLogs::Id))
                    .col(string(OauthAuditLogs::EventType))
                    .col(string_null(OauthAuditLogs::Subject))
                    .col(uuid_null(OauthAuditLogs::ClientId))
                    .col(uuid_null(OauthAuditLogs::UserId))
                    .col(json_null(OauthAuditLogs::Metadata)),
            )
            .to_owned(),
        )
        .await?;
        index(
            m,
            "idx_oauth_audit_logs_created",
            OauthAuditLogs::Table,
            Audited::CreatedAt,
        )
        .await?;
        for (name, col) in [
            ("idx_oauth_audit_logs_event", OauthAuditLogs::EventType),
            ("idx_oauth_audit_logs_client", OauthAuditLogs::ClientId),
            ("idx_oauth_audit_logs_user", OauthAuditLogs::UserId),
        ] {
            m.create_index(
                Index::create()
                    .name(name)
                    .table(OauthAuditLogs::Table)
                    .col(col)
                    .col(OauthAuditLogs::Id)
                    .to_owned(),
            )
            .await?;
        }
        create_append_only_guard(m, "oauth_audit_logs").await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        drop_append_only_guard(m, "oauth_audit_logs").await?;
        for table in [
            OauthAuditLogs::Table.into_iden(),
            OauthDeviceCodes::Table.into_iden(),
            OauthAccessTokens::Table.into_iden(),
            OauthRefreshTokens::Table.into_iden(),
            OauthAuthorizationCodes::Table.into_iden(),
            OauthUsers::Table.into_iden(),
            OauthClientConfigs::Table.into_iden(),
            OauthClients::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
