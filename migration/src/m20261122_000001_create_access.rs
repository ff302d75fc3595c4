//! Admin users, their roles and sessions, and the login throttle (spec 02).

use sea_orm_migration::{prelude::*, schema::*};

use crate::support::exec;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
pub(crate) enum LocalUsers {
    Table,
    Id,
    Username,
    PasswordHash,
    Email,
    IsActive,
    FailedLoginCount,
    LockedUntil,
    LastLoginAt,
    PasswordChangedAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
pub(crate) enum RbacRoles {
    Table,
    Id,
    Name,
    Description,
    Permissions,
    IsSystem,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum UserRoles {
    Table,
    UserId,
    RoleId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    SessionId,
    UserId,
    CreatedAt,
    ExpiresAt,
    Data,
    LastSeenAt,
    Ip,
    UserAgent,
}

#[derive(DeriveIden)]
enum LoginThrottle {
    Table,
    Key,
    Failures,
    WindowStartedAt,
    LockedUntil,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(LocalUsers::Table)
                .col(big_pk_auto(LocalUsers::Id))
                .col(string_uniq(LocalUsers::Username))
                .col(text_null(LocalUsers::PasswordHash))
                .col(string_null(LocalUsers::Email))
                .col(boolean(LocalUsers::IsActive).default(true))
                .col(big_integer(LocalUsers::FailedLoginCount).default(0))
                .col(timestamp_with_time_zone_null(LocalUsers::LockedUntil))
                .col(timestamp_with_time_zone_null(LocalUsers::LastLoginAt))
                .col(timestamp_with_time_zone_null(LocalUsers::PasswordChangedAt))
                .col(timestamp_with_time_zone(LocalUsers::CreatedAt))
                .col(timestamp_with_time_zone(LocalUsers::UpdatedAt))
                .to_owned(),
        )
        .await?;
        // Usernames are unique without regard to case; the service also stores them lowercased.
        exec(
            m,
            "CREATE UNIQUE INDEX idx_local_users_username_lower ON local_users (lower(username))",
        )
        .await?;
        // Seed 004 read its users from `rbac_users`; the view keeps those queries working.
        // `migrate fresh` drops tables but not views on SQLite, so replace any leftover.
        exec(m, "DROP VIEW IF EXISTS rbac_users").await?;
        exec(
            m,
            "CREATE VIEW rbac_users AS SELECT id AS user_id, username, email, is_active AS enabled, \
             created_at, updated_at FROM local_users",
        )
        .await?;

        m.create_table(
            Table::create()
                .table(RbacRoles::Table)
                .col(big_pk_auto(RbacRoles::Id))
                .col(string_uniq(RbacRoles::Name))
                .col(text_null(RbacRoles::Description))
                .col(json(RbacRoles::Permissions))
                .col(boolean(RbacRoles::IsSystem).default(false))
                .col(timestamp_with_time_zone(RbacRoles::CreatedAt))
                .col(timestamp_with_time_zone(RbacRoles::UpdatedAt))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(UserRoles::Table)
                .col(big_integer(UserRoles::UserId))
                .col(big_integer(UserRoles::RoleId))
                .col(timestamp_with_time_zone(UserRoles::CreatedAt))
                .primary_key(
                    Index::create()
                        .col(UserRoles::UserId)
                        .col(UserRoles::RoleId),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_user_roles_user")
                        .from(UserRoles::Table, UserRoles::UserId)
                        .to(LocalUsers::Table, LocalUsers::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_user_roles_role")
                        .from(UserRoles::Table, UserRoles::RoleId)
                        .to(RbacRoles::Table, RbacRoles::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_user_roles_role")
                .table(UserRoles::Table)
                .col(UserRoles::RoleId)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Sessions::Table)
                // SHA-256 (hex) of the cookie's session key; the key itself is never stored.
                .col(string(Sessions::SessionId).primary_key())
                .col(big_integer(Sessions::UserId))
                .col(timestamp_with_time_zone(Sessions::CreatedAt))
                .col(timestamp_with_time_zone(Sessions::ExpiresAt))
                .col(text(Sessions::Data))
                .col(timestamp_with_time_zone(Sessions::LastSeenAt))
                .col(string_null(Sessions::Ip))
                .col(text_null(Sessions::UserAgent))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_sessions_user")
                        .from(Sessions::Table, Sessions::UserId)
                        .to(LocalUsers::Table, LocalUsers::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_sessions_user")
                .table(Sessions::Table)
                .col(Sessions::UserId)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_sessions_expires_at")
                .table(Sessions::Table)
                .col(Sessions::ExpiresAt)
                .to_owned(),
        )
        .await?;

        // Failed-login counters per username and per client IP, shared by every instance.
        m.create_table(
            Table::create()
                .table(LoginThrottle::Table)
                .col(string(LoginThrottle::Key).primary_key())
                .col(big_integer(LoginThrottle::Failures).default(0))
                .col(timestamp_with_time_zone(LoginThrottle::WindowStartedAt))
                .col(timestamp_with_time_zone_null(LoginThrottle::LockedUntil))
                .col(timestamp_with_time_zone(LoginThrottle::UpdatedAt))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(LoginThrottle::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(Sessions::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(UserRoles::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(RbacRoles::Table).to_owned())
            .await?;
        exec(m, "DROP VIEW IF EXISTS rbac_users").await?;
        m.drop_table(Table::drop().table(LocalUsers::Table).to_owned())
            .await
    }
}
