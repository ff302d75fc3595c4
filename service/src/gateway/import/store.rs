//! Writes checked legacy data in one transaction: everything, or (on any error, or for a dry
//! run) nothing.

use std::collections::HashMap;

use chrono::Utc;
use entity::{
    ad_group_mappings, gateway_config, local_users, oauth_providers, rbac_roles, user_roles,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    Set,
};
use secrecy::ExposeSecret;
use serde_json::json;
use uuid::Uuid;

use super::legacy::{LegacyData, LegacyProvider};
use super::{ImportProblem, ImportReport};
use crate::access::PermissionSet;
use crate::audit::{self, Actor, AuditEntry};
use crate::db::begin_write;
use crate::gateway::{GatewayConfig, provider_secret_context, servers};

/// Checks every MCP server's address as a save would (no private destination unless
/// `METADECK_WEBHOOK_ALLOW_PRIVATE_NETWORKS` allows it), before the transaction.
pub async fn check_addresses(
    config: &GatewayConfig,
    data: &LegacyData,
) -> Result<(), ImportProblem> {
    for s in &data.servers {
        servers::check_address(config, &s.input.address)
            .await
            .map_err(|e| {
                ImportProblem::entry(
                    "mcp_servers.pkl",
                    format!("server {}", s.legacy_id),
                    e.to_string(),
                )
            })?;
    }
    Ok(())
}

/// A database error while writing an entry, naming the entry.
fn failed(file: &str, entry: String) -> impl Fn(sea_orm::DbErr) -> ImportProblem {
    let file = file.to_string();
    move |e| {
        ImportProblem::entry(
            &file,
            entry.clone(),
            format!("cannot be written: {}", crate::Error::from(e)),
        )
    }
}

/// Imports `data` in one transaction, audited as `gateway.imported`; with `dry_run` the
/// transaction is rolled back, so the report says what would be written and nothing is.
pub async fn import(
    db: &DatabaseConnection,
    config: &GatewayConfig,
    data: &LegacyData,
    files: Vec<String>,
    dry_run: bool,
) -> Result<ImportReport, ImportProblem> {
    let whole = |e: crate::Error| ImportProblem::file("the database", e.to_string());
    let mut report = ImportReport {
        dry_run,
        files,
        skipped_permissions: data.skipped_permissions.clone(),
        ..Default::default()
    };
    let now = Utc::now().fixed_offset();
    let txn = begin_write(db).await.map_err(|e| whole(e.into()))?;

    // Roles: legacy id → Metadeck id.
    let mut role_ids: HashMap<&str, i64> = HashMap::new();
    for role in &data.roles {
        let at = failed("rbac.pkl", format!("role {}", role.legacy_id));
        let existing = rbac_roles::Entity::find()
            .filter(rbac_roles::Column::Name.eq(role.name.as_str()))
            .one(&txn)
            .await
            .map_err(&at)?;
        let id = match existing {
            Some(row) => {
                report.existing.roles.push(role.name.clone());
                row.id
            }
            None => {
                let row = rbac_roles::ActiveModel {
                    name: Set(role.name.clone()),
                    description: Set(role.description.clone()),
                    permissions: Set(json!(
                        PermissionSet::from_names(role.permissions.iter().map(String::as_str))
                            .names()
                    )),
                    is_system: Set(false),
                    created_at: Set(now),
                    updated_at: Set(now),
                    ..Default::default()
                }
                .insert(&txn)
                .await
                .map_err(&at)?;
                report.imported.roles += 1;
                row.id
            }
        };
        role_ids.insert(role.legacy_id.as_str(), id);
    }
    let role_of = |legacy: &str| role_ids.get(legacy).copied();

    // Users, with no password, and their roles.
    for user in &data.users {
        let at = failed("rbac.pkl", format!("user {}", user.legacy_id));
        let taken = local_users::Entity::find()
            .filter(local_users::Column::Username.eq(user.username.as_str()))
            .one(&txn)
            .await
            .map_err(&at)?;
        if taken.is_some() {
            report.existing.users.push(user.username.clone());
            continue;
        }
        let row = local_users::ActiveModel {
            username: Set(user.username.clone()),
            password_hash: Set(None),
            email: Set(user.email.clone()),
            is_active: Set(user.enabled),
            failed_login_count: Set(0),
            password_changed_at: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await
        .map_err(&at)?;
        report.imported.users += 1;
        for legacy in &user.roles {
            let Some(role_id) = role_of(legacy) else {
                continue;
            };
            user_roles::ActiveModel {
                user_id: Set(row.id),
                role_id: Set(role_id),
                created_at: Set(now),
            }
            .insert(&txn)
            .await
            .map_err(&at)?;
            report.imported.user_roles += 1;
        }
    }

    for m in &data.mappings {
        let at = failed("ad_mappings.pkl", format!("mapping {}", m.legacy_id));
        let taken = ad_group_mappings::Entity::find()
            .filter(ad_group_mappings::Column::AdGroup.eq(m.ad_group.as_str()))
            .one(&txn)
            .await
            .map_err(&at)?;
        let Some(role_id) = role_of(&m.role) else {
            continue;
        };
        if taken.is_some() {
            report.existing.ad_group_mappings.push(m.ad_group.clone());
            continue;
        }
        ad_group_mappings::ActiveModel {
            id: Set(Uuid::now_v7()),
            ad_group: Set(m.ad_group.clone()),
            role_id: Set(role_id),
            created_at: Set(now),
        }
        .insert(&txn)
        .await
        .map_err(&at)?;
        report.imported.ad_group_mappings += 1;
    }

    for s in &data.servers {
        let entry = format!("server {}", s.legacy_id);
        let taken = servers_named(&txn, &s.input.name)
            .await
            .map_err(failed("mcp_servers.pkl", entry.clone()))?;
        if taken {
            report.existing.mcp_servers.push(s.input.name.clone());
            continue;
        }
        servers::create_in(&txn, config, s.input.clone())
            .await
            .map_err(|e| ImportProblem::entry("mcp_servers.pkl", entry, e.to_string()))?;
        report.imported.mcp_servers += 1;
    }

    for p in &data.providers {
        let at = failed("oauth_providers.pkl", format!("provider {}", p.legacy_id));
        let taken = oauth_providers::Entity::find()
            .filter(oauth_providers::Column::Name.eq(p.name.as_str()))
            .one(&txn)
            .await
            .map_err(&at)?;
        if taken.is_some() {
            report.existing.oauth_providers.push(p.name.clone());
            continue;
        }
        provider_in(&txn, config, p, now).await.map_err(|e| {
            ImportProblem::entry(
                "oauth_providers.pkl",
                format!("provider {}", p.legacy_id),
                e.to_string(),
            )
        })?;
        report.imported.oauth_providers += 1;
    }

    for (key, value) in &data.config {
        let at = failed("config.pkl", format!("key {:?}", key.as_str()));
        let taken = gateway_config::Entity::find_by_id(key.as_str())
            .one(&txn)
            .await
            .map_err(&at)?;
        if taken.is_some() {
            report.existing.gateway_config.push(key.as_str().to_owned());
            continue;
        }
        gateway_config::ActiveModel {
            key: Set(key.as_str().to_owned()),
            value: Set(value.clone()),
            description: Set(None),
            updated_at: Set(now),
            updated_by: Set(Some(Actor::Cli.as_string())),
        }
        .insert(&txn)
        .await
        .map_err(&at)?;
        // Running instances drop what they cached of the key, as after any config write.
        crate::gateway::config::watch::stamp(&txn, key)
            .await
            .map_err(|e| {
                ImportProblem::entry(
                    "config.pkl",
                    format!("key {:?}", key.as_str()),
                    format!("cannot be written: {e}"),
                )
            })?;
        report.imported.gateway_config += 1;
    }

    if dry_run {
        txn.rollback()
            .await
            .map_err(|e| whole(crate::Error::from(e)))?;
        return Ok(report);
    }
    let entry = AuditEntry::new("gateway.imported", &Actor::Cli)
        .target("legacy gateway files")
        .details(json!({
            "files": report.files,
            "imported": report.imported,
            "skipped_permissions": report.skipped_permissions,
            "existing": report.existing,
        }));
    audit::commit_audited(txn, entry, &[])
        .await
        .map_err(whole)?;
    Ok(report)
}

async fn servers_named(db: &impl ConnectionTrait, name: &str) -> Result<bool, sea_orm::DbErr> {
    Ok(entity::mcp_servers::Entity::find()
        .filter(entity::mcp_servers::Column::Name.eq(name))
        .one(db)
        .await?
        .is_some())
}

/// Inserts an upstream provider inside `txn`, its client secret sealed under its own row's
/// context, without committing or auditing.
pub async fn provider_in(
    txn: &impl ConnectionTrait,
    config: &GatewayConfig,
    p: &LegacyProvider,
    now: chrono::DateTime<chrono::FixedOffset>,
) -> crate::Result<oauth_providers::Model> {
    let id = Uuid::now_v7();
    let secret = match &p.client_secret {
        Some(s) => Some(
            config
                .provider_cipher
                .seal_text(&provider_secret_context(id), s.expose_secret())?,
        ),
        None => None,
    };
    Ok(oauth_providers::ActiveModel {
        id: Set(id),
        name: Set(p.name.clone()),
        display_name: Set(p.display_name.clone()),
        client_id: Set(p.client_id.clone()),
        client_secret: Set(secret),
        authorize_url: Set(p.authorize_url.clone()),
        token_url: Set(p.token_url.clone()),
        userinfo_url: Set(p.userinfo_url.clone()),
        scopes: Set(crate::gateway::providers::stored_scopes(&p.scopes)),
        groups_claim: Set("groups".into()),
        enabled: Set(true),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(txn)
    .await?)
}
