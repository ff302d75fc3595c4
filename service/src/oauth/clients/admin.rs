//! Changing clients: register, change settings, rotate the secret, delete.

use chrono::Utc;
use entity::{oauth_client_configs as configs, oauth_clients as clients};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
};
use secrecy::SecretString;
use serde_json::json;
use uuid::Uuid;

use super::rows::{config_row, new_identifier, settings_summary};
use super::{Client, ClientInput, ClientSpec, ClientView, get, view};
use crate::access::{Grantor, PermissionSet};
use crate::audit::{self, AuditEntry};
use crate::db::begin_write;
use crate::oauth::audit_log::{self, OAuthEvent};
use crate::oauth::{secrets, token_cache};
use crate::webhooks::{Event, EventType};
use crate::{Error, Result};

/// Changing a client in any way needs every scope it is allowed, and `more` besides: whoever
/// could rotate its secret, point its redirect URI elsewhere or let it skip consent could
/// collect tokens worth those scopes.
fn ensure_may_change(
    grantor: &Grantor,
    client: &Client,
    more: PermissionSet,
    action: &str,
) -> Result<()> {
    grantor.ensure_holds(
        client.spec.allowed_scopes.0.union(more),
        format!("{action} the client {}", client.spec.name),
    )
}

/// The client `client_id`'s name, when `grantor` may act on it (change, disable, delete): it
/// must hold every scope the client is allowed. The console asks this before it offers or
/// asks about an action, so nobody is shown a question the action would then refuse.
pub async fn may_act_on(
    db: &impl ConnectionTrait,
    grantor: &Grantor,
    client_id: &str,
    action: &str,
) -> Result<String> {
    let client = get(db, client_id).await?;
    ensure_may_change(grantor, &client, PermissionSet::EMPTY, action)?;
    Ok(client.spec.name)
}

/// A created client and its secret (shown once; `None` for public clients). The secret is a
/// [`SecretString`], so the derived `Debug` prints it as `[REDACTED]`.
#[derive(Debug)]
pub struct Created {
    pub client: ClientView,
    pub secret: Option<SecretString>,
}

/// Registers a client allowed nothing beyond what `grantor` holds.
#[tracing::instrument(name = "oauth.clients.create", skip_all)]
pub async fn create(
    db: &DatabaseConnection,
    grantor: &Grantor,
    ip: Option<String>,
    spec: ClientSpec,
) -> Result<Created> {
    grantor.ensure_holds(
        spec.allowed_scopes.0,
        format!("allowing the client {} these scopes", spec.name),
    )?;
    let actor = &grantor.actor;
    let secret = spec
        .is_confidential
        .then(|| secrets::new_credential("mds_"));
    let now = Utc::now().fixed_offset();
    let id = Uuid::now_v7();
    let by = actor.as_string();
    let row = clients::ActiveModel {
        id: Set(id),
        client_identifier: Set(new_identifier()),
        client_secret: Set(secret.as_deref().map(secrets::hash)),
        name: Set(spec.name.clone()),
        is_confidential: Set(spec.is_confidential),
        is_enabled: Set(spec.is_enabled),
        redirect_uris: Set(json!(spec.redirect_uris)),
        grant_types: Set(json!(spec.grant_types)),
        last_used_at: Set(None),
        created_at: Set(now),
        created_by: Set(Some(by.clone())),
        updated_at: Set(now),
        updated_by: Set(Some(by.clone())),
    };
    let txn = begin_write(db).await?;
    let row = clients::Entity::insert(row)
        .exec_with_returning(&txn)
        .await?;
    configs::Entity::insert(config_row(id, &spec, &by, Some(now)))
        .exec_without_returning(&txn)
        .await?;
    let client = Client { row, spec };
    let view = client.view(0);
    audit_log::log(
        &txn,
        OAuthEvent::new("client.created", Some(id), &by).metadata(settings_summary(&client.spec)),
    )
    .await?;
    audit::commit_audited(
        txn,
        AuditEntry::new("oauth_client.created", actor)
            .target(view.client_id.clone())
            .details(settings_summary(&client.spec))
            .ip(ip),
        &[Event::new(EventType::ClientCreated, client.event_data())],
    )
    .await?;
    Ok(Created {
        client: view,
        secret: secret.map(SecretString::from),
    })
}

/// Changes a client. Turning a confidential client public drops its secret; turning a public
/// one confidential needs a secret rotation before it can authenticate. Any change (redirect
/// URIs and `skip_consent` included) needs every scope the client is allowed before and after.
#[tracing::instrument(name = "oauth.clients.update", skip_all, fields(client_id))]
pub async fn update(
    db: &DatabaseConnection,
    grantor: &Grantor,
    ip: Option<String>,
    client_id: &str,
    input: ClientInput,
) -> Result<ClientView> {
    let actor = &grantor.actor;
    let txn = begin_write(db).await?;
    // The client's tokens may stop being valid: none is accepted from memory after this commits.
    txn.after_commit(token_cache::forget_all);
    let before = get(&txn, client_id).await?;
    let spec = before.spec.clone().with(input)?;
    ensure_may_change(grantor, &before, spec.allowed_scopes.0, "changing")?;
    let by = actor.as_string();
    let now = Utc::now().fixed_offset();
    let mut update = clients::Entity::update_many()
        .col_expr(clients::Column::Name, spec.name.clone().into())
        .col_expr(clients::Column::IsConfidential, spec.is_confidential.into())
        .col_expr(clients::Column::IsEnabled, spec.is_enabled.into())
        .col_expr(
            clients::Column::RedirectUris,
            json!(spec.redirect_uris).into(),
        )
        .col_expr(clients::Column::GrantTypes, json!(spec.grant_types).into())
        .col_expr(clients::Column::UpdatedAt, now.into())
        .col_expr(clients::Column::UpdatedBy, Some(by.clone()).into());
    if !spec.is_confidential {
        update = update.col_expr(clients::Column::ClientSecret, Option::<String>::None.into());
    }
    update
        .filter(clients::Column::Id.eq(before.row.id))
        .exec(&txn)
        .await?;
    let mut config = config_row(before.row.id, &spec, &by, None);
    config.client_id = sea_orm::ActiveValue::NotSet;
    configs::Entity::update_many()
        .set(config)
        .filter(configs::Column::ClientId.eq(before.row.id))
        .exec(&txn)
        .await?;
    let details = json!({"old": settings_summary(&before.spec), "new": settings_summary(&spec)});
    audit_log::log(
        &txn,
        OAuthEvent::new("client.updated", Some(before.row.id), &by).metadata(details.clone()),
    )
    .await?;
    if before.spec.is_enabled != spec.is_enabled {
        let event = if spec.is_enabled {
            "client.enabled"
        } else {
            "client.disabled"
        };
        audit_log::log(&txn, OAuthEvent::new(event, Some(before.row.id), &by)).await?;
    }
    audit::commit_audited(
        txn,
        AuditEntry::new("oauth_client.updated", actor)
            .target(client_id.to_owned())
            .details(details)
            .ip(ip),
        &[],
    )
    .await?;
    view(db, client_id).await
}

/// Replaces a confidential client's secret; the old one stops working at once.
#[tracing::instrument(name = "oauth.clients.rotate_secret", skip_all, fields(client_id))]
pub async fn rotate_secret(
    db: &DatabaseConnection,
    grantor: &Grantor,
    ip: Option<String>,
    client_id: &str,
) -> Result<SecretString> {
    let txn = begin_write(db).await?;
    let client = get(&txn, client_id).await?;
    ensure_may_change(
        grantor,
        &client,
        PermissionSet::EMPTY,
        "rotating the secret of",
    )?;
    let actor = &grantor.actor;
    if !client.spec.is_confidential {
        return Err(Error::conflict("a public client has no secret to rotate"));
    }
    let secret = secrets::new_credential("mds_");
    let by = actor.as_string();
    clients::Entity::update_many()
        .col_expr(
            clients::Column::ClientSecret,
            Some(secrets::hash(&secret)).into(),
        )
        .col_expr(clients::Column::UpdatedAt, Utc::now().fixed_offset().into())
        .col_expr(clients::Column::UpdatedBy, Some(by.clone()).into())
        .filter(clients::Column::Id.eq(client.row.id))
        .exec(&txn)
        .await?;
    audit_log::log(
        &txn,
        OAuthEvent::new("client.secret_rotated", Some(client.row.id), &by),
    )
    .await?;
    audit::commit_audited(
        txn,
        AuditEntry::new("oauth_client.secret_rotated", actor)
            .target(client_id.to_owned())
            .ip(ip),
        &[],
    )
    .await?;
    Ok(secret.into())
}

/// Deletes a client; its codes, tokens and device codes go with it (ON DELETE CASCADE).
#[tracing::instrument(name = "oauth.clients.delete", skip_all, fields(client_id))]
pub async fn delete(
    db: &DatabaseConnection,
    grantor: &Grantor,
    ip: Option<String>,
    client_id: &str,
) -> Result<()> {
    let txn = begin_write(db).await?;
    // The client's tokens may stop being valid: none is accepted from memory after this commits.
    txn.after_commit(token_cache::forget_all);
    let client = get(&txn, client_id).await?;
    ensure_may_change(grantor, &client, PermissionSet::EMPTY, "deleting")?;
    let actor = &grantor.actor;
    let data = client.event_data();
    clients::Entity::delete_by_id(client.row.id)
        .exec(&txn)
        .await?;
    let by = actor.as_string();
    audit_log::log(
        &txn,
        OAuthEvent::new("client.deleted", Some(client.row.id), &by)
            .metadata(json!({"name": client.spec.name, "client_id": client_id})),
    )
    .await?;
    audit::commit_audited(
        txn,
        AuditEntry::new("oauth_client.deleted", actor)
            .target(client_id.to_owned())
            .details(json!({"name": client.spec.name}))
            .ip(ip),
        &[Event::new(EventType::ClientDeleted, data)],
    )
    .await?;
    Ok(())
}
