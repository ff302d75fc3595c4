//! Upstream identity providers: create, replace and delete, each change audited (never with
//! the secret). The client secret is sealed with the providers' own key for the row it
//! belongs to, and a save that gives none keeps the stored one.

use entity::oauth_providers;
use sea_orm::{ActiveModelTrait, DatabaseConnection, EntityTrait, Set};
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use uuid::Uuid;

use super::provider_input::ProviderInput;
use super::providers::{Provider, find};
use super::{GatewayConfig, provider_secret_context};
use crate::audit::{self, Actor, AuditEntry};
use crate::db::begin_write;
use crate::webhooks::ssrf;
use crate::{Error, FieldError, Result};

/// Refuses provider URLs to private destinations at save, as webhooks' are refused.
async fn check_addresses(config: &GatewayConfig, input: &ProviderInput) -> Result<()> {
    let allow = config.allow_private_networks;
    let mut errors = Vec::new();
    for (url, field) in [
        (&input.authorize_url, "authorize_url"),
        (&input.token_url, "token_url"),
        (&input.userinfo_url, "userinfo_url"),
    ] {
        match ssrf::check_destination(url, allow, field).await {
            Ok(()) => {}
            Err(Error::Validation(mut d)) => errors.append(&mut d),
            Err(e) => return Err(e),
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Error::Validation(errors))
    }
}

/// A taken name as the form shows it.
fn name_taken(err: Error, name: &str) -> Error {
    match err {
        Error::Conflict { .. } => Error::Conflict {
            message: format!("an identity provider named {name} exists"),
            details: vec![FieldError::new(
                "name",
                "is taken by another identity provider",
            )],
        },
        err => err,
    }
}

/// What an audit row says of a provider: whether a secret is set, never the secret.
fn audited(row: &oauth_providers::Model) -> Value {
    json!({
        "name": row.name,
        "display_name": row.display_name,
        "client_id": row.client_id,
        "has_client_secret": row.client_secret.is_some(),
        "authorize_url": row.authorize_url,
        "token_url": row.token_url,
        "userinfo_url": row.userinfo_url,
        "scopes": row.scopes,
        "groups_claim": row.groups_claim,
        "enabled": row.enabled,
    })
}

fn sealed(config: &GatewayConfig, id: Uuid, input: &ProviderInput) -> Result<Option<String>> {
    input
        .client_secret
        .as_ref()
        .map(|s| {
            config
                .provider_cipher
                .seal_text(&provider_secret_context(id), s.expose_secret())
        })
        .transpose()
}

fn scopes_text(input: &ProviderInput) -> String {
    Value::from(input.scopes.clone()).to_string()
}

/// Creates a provider.
#[tracing::instrument(name = "gateway.providers.create", skip_all)]
pub async fn create(
    db: &DatabaseConnection,
    config: &GatewayConfig,
    actor: &Actor,
    ip: Option<String>,
    input: ProviderInput,
) -> Result<Provider> {
    check_addresses(config, &input).await?;
    let id = Uuid::now_v7();
    let secret = sealed(config, id, &input)?;
    let at = super::servers::now().fixed_offset();
    let txn = begin_write(db).await?;
    let row = oauth_providers::ActiveModel {
        id: Set(id),
        name: Set(input.name.clone()),
        display_name: Set(input.display_name.clone()),
        client_id: Set(input.client_id.clone()),
        client_secret: Set(secret),
        authorize_url: Set(input.authorize_url.as_str().to_string()),
        token_url: Set(input.token_url.as_str().to_string()),
        userinfo_url: Set(input.userinfo_url.as_str().to_string()),
        scopes: Set(scopes_text(&input)),
        groups_claim: Set(input.groups_claim.clone()),
        enabled: Set(input.enabled),
        created_at: Set(at),
        updated_at: Set(at),
    }
    .insert(&txn)
    .await
    .map_err(|e| name_taken(e.into(), &input.name))?;
    let entry = AuditEntry::new("provider.created", actor)
        .target(id.to_string())
        .ip(ip)
        .details(audited(&row));
    audit::commit_audited(txn, entry, &[]).await?;
    Ok(row.into())
}

/// Replaces a provider's settings; without a new client secret the stored one is kept.
#[tracing::instrument(name = "gateway.providers.update", skip_all)]
pub async fn update(
    db: &DatabaseConnection,
    config: &GatewayConfig,
    actor: &Actor,
    ip: Option<String>,
    id: &str,
    input: ProviderInput,
) -> Result<Provider> {
    check_addresses(config, &input).await?;
    let txn = begin_write(db).await?;
    let before = find(&txn, id).await?;
    let mut row: oauth_providers::ActiveModel = before.clone().into();
    if let Some(secret) = sealed(config, before.id, &input)? {
        row.client_secret = Set(Some(secret));
    }
    row.name = Set(input.name.clone());
    row.display_name = Set(input.display_name.clone());
    row.client_id = Set(input.client_id.clone());
    row.authorize_url = Set(input.authorize_url.as_str().to_string());
    row.token_url = Set(input.token_url.as_str().to_string());
    row.userinfo_url = Set(input.userinfo_url.as_str().to_string());
    row.scopes = Set(scopes_text(&input));
    row.groups_claim = Set(input.groups_claim.clone());
    row.enabled = Set(input.enabled);
    row.updated_at = Set(super::servers::now().fixed_offset());
    let after = row
        .update(&txn)
        .await
        .map_err(|e| name_taken(e.into(), &input.name))?;
    let mut details = json!({"old": audited(&before), "new": audited(&after)});
    details["secret_replaced"] = Value::Bool(input.client_secret.is_some());
    let entry = AuditEntry::new("provider.updated", actor)
        .target(before.id.to_string())
        .ip(ip)
        .details(details);
    audit::commit_audited(txn, entry, &[]).await?;
    Ok(after.into())
}

/// Deletes a provider.
#[tracing::instrument(name = "gateway.providers.delete", skip_all)]
pub async fn delete(
    db: &DatabaseConnection,
    actor: &Actor,
    ip: Option<String>,
    id: &str,
) -> Result<Provider> {
    let txn = begin_write(db).await?;
    let row = find(&txn, id).await?;
    oauth_providers::Entity::delete_by_id(row.id)
        .exec(&txn)
        .await?;
    let entry = AuditEntry::new("provider.deleted", actor)
        .target(row.id.to_string())
        .ip(ip)
        .details(audited(&row));
    audit::commit_audited(txn, entry, &[]).await?;
    Ok(row.into())
}
