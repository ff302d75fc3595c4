//! Webhook subscriptions: create (the secret returned once), read masked, change, enable,
//! rotate the secret, send a test event, delete.

use chrono::{DateTime, SubsecRound, Utc};
use entity::webhooks::{self, Column};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    FromQueryResult, QueryFilter, QueryOrder, QuerySelect, QueryTrait, Set,
};
use serde::Serialize;
use serde_json::{Value, json};

use super::catalog::EventType;
use super::crypto::WebhookSecret;
pub use super::input::{EventList, WebhookId, WebhookInput, WebhookPatch, optional_text};
use super::outbox::{self, Event};
use super::ssrf;
use super::{WebhookConfig, dispatcher};
use crate::audit::{self, Actor, AuditEntry};
use crate::db::begin_write;
use crate::pagination::{Page, PageRequest, Sort, SortField, past_key};
use crate::{Error, FieldError, Result};

/// A webhook as reads show it: the secret only as a hint.
#[derive(Debug, Clone, Serialize)]
pub struct WebhookSummary {
    pub webhook_id: String,
    pub url: String,
    pub events: Vec<String>,
    pub team: Option<String>,
    pub description: Option<String>,
    pub is_enabled: bool,
    pub disabled_reason: Option<String>,
    pub secret_hint: String,
    /// When the secret was last rotated (the old one co-signs for 24 hours after).
    pub secret_rotated_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn events_of(value: &Value) -> Vec<String> {
    value
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(String::from)
                .collect()
        })
        .unwrap_or_default()
}

/// The reads' view of a row; an undecryptable secret shows as `…`.
pub(crate) fn summary(config: &WebhookConfig, row: webhooks::Model) -> WebhookSummary {
    let secret_hint = config
        .cipher
        .decrypt(&row.webhook_id, &row.secret)
        .map(|s| s.hint())
        .unwrap_or_else(|_| "…".into());
    WebhookSummary {
        events: events_of(&row.events),
        webhook_id: row.webhook_id,
        url: row.url,
        team: row.team,
        description: row.description,
        is_enabled: row.is_enabled,
        disabled_reason: row.disabled_reason,
        secret_hint,
        secret_rotated_at: row.secret_rotated_at.map(|t| t.to_utc()),
        created_at: row.created_at.to_utc(),
        updated_at: row.updated_at.to_utc(),
    }
}

fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

async fn find(db: &impl ConnectionTrait, id: &str) -> Result<webhooks::Model> {
    webhooks::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| Error::NotFound(format!("webhook {id}")))
}

/// Creates a subscription; returns it and its secret (generated unless given), shown once.
#[tracing::instrument(name = "webhooks.subscriptions.create", skip_all)]
pub async fn create(
    db: &DatabaseConnection,
    config: &WebhookConfig,
    actor: &Actor,
    ip: Option<String>,
    id: Option<WebhookId>,
    input: WebhookInput,
    secret: Option<WebhookSecret>,
) -> Result<(WebhookSummary, WebhookSecret)> {
    ssrf::check_destination(&input.url, config.allow_private_networks, "url").await?;
    let id = id.unwrap_or_else(WebhookId::generate);
    let secret = secret.unwrap_or_else(WebhookSecret::generate);
    let stored = config.cipher.encrypt(id.as_str(), &secret)?;
    let at = now().fixed_offset();
    // The primary key refuses a taken id: no read before the write.
    let taken = || Error::Conflict {
        message: format!("a webhook with the id {} exists", id.as_str()),
        details: vec![FieldError::new("webhook_id", "is taken")],
    };
    let row = webhooks::ActiveModel {
        webhook_id: Set(id.as_str().to_string()),
        url: Set(input.url.as_str().to_string()),
        events: Set(json!(input.events.as_slice())),
        secret: Set(stored),
        team: Set(input.team.clone()),
        created_at: Set(at),
        description: Set(input.description.clone()),
        is_enabled: Set(input.is_enabled),
        updated_at: Set(at),
        disabled_reason: Set(
            (!input.is_enabled).then(|| format!("disabled by {}", actor.as_string()))
        ),
        previous_secret: Set(None),
        secret_rotated_at: Set(None),
        failing_since: Set(None),
    };
    let details = json!({
        "url": input.url.as_str(),
        "events": input.events.as_slice(),
        "team": input.team,
    });
    let entry = AuditEntry::new("webhook.created", actor)
        .target(id.as_str())
        .ip(ip)
        .details(details);
    let inserted = audit::insert_recorded(db, webhooks::Entity::insert(row).into_query(), entry)
        .await
        .map_err(|err| match err {
            Error::Conflict { .. } => taken(),
            err => err,
        })?;
    let row = webhooks::Model::from_query_result(&inserted, "")?;
    Ok((summary(config, row), secret))
}

/// Filters of the webhook list.
#[derive(Debug, Clone, Default)]
pub struct WebhookFilter {
    pub team: Option<String>,
    pub is_enabled: Option<bool>,
}

/// The sortable columns of the webhook list, each on an index ending in the webhook id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookSortField {
    WebhookId,
    Url,
}

impl SortField for WebhookSortField {
    const ALL: &'static [Self] = &[Self::WebhookId, Self::Url];

    fn name(self) -> &'static str {
        match self {
            Self::WebhookId => "webhook_id",
            Self::Url => "url",
        }
    }
}

/// The webhook list's order.
pub type WebhookSort = Sort<WebhookSortField>;

/// The default order: by webhook id.
pub const BY_WEBHOOK_ID: WebhookSort = Sort {
    field: WebhookSortField::WebhookId,
    descending: false,
};

/// Where a page of webhooks starts or ends: the webhook id, with the URL first when sorted
/// by URL. A bare id reads as cursors did before sorting existed.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
#[serde(untagged)]
pub enum WebhookKey {
    Id(String),
    Text(String, String),
}

/// A page of webhooks in `sort` order.
pub async fn list(
    db: &impl ConnectionTrait,
    config: &WebhookConfig,
    filter: &WebhookFilter,
    sort: WebhookSort,
    page: &PageRequest<WebhookKey>,
) -> Result<Page<WebhookSummary>> {
    // No stored text holds a NUL character (PostgreSQL refuses them in a query).
    let holds_nul = |k: &WebhookKey| match k {
        WebhookKey::Id(id) => id.contains('\0'),
        WebhookKey::Text(v, id) => v.contains('\0') || id.contains('\0'),
    };
    if page.boundary().is_some_and(holds_nul) {
        return Err(Error::invalid("cursor", "is not a valid cursor"));
    }
    // Reading backward walks the same index the other way.
    let order = sort.order(page);
    let descending = order == sea_orm::Order::Desc;
    let by_url = sort.field == WebhookSortField::Url;
    let mut query = webhooks::Entity::find().limit(page.limit + 1);
    if by_url {
        query = query.order_by(Column::Url, order.clone());
    }
    query = query.order_by(Column::WebhookId, order);
    match (by_url, page.boundary()) {
        (_, None) => {}
        (false, Some(WebhookKey::Id(id))) => {
            query = query.filter(if descending {
                Column::WebhookId.lt(id.as_str())
            } else {
                Column::WebhookId.gt(id.as_str())
            });
        }
        (true, Some(WebhookKey::Text(url, id))) => {
            query = query.filter(past_key(
                Column::Url,
                url.as_str(),
                Column::WebhookId,
                id.as_str(),
                descending,
            ));
        }
        _ => return Err(Error::invalid("cursor", "is not a valid cursor")),
    }
    if let Some(team) = filter.team.as_deref().filter(|t| !t.is_empty()) {
        query = query.filter(Column::Team.eq(team));
    }
    if let Some(enabled) = filter.is_enabled {
        query = query.filter(Column::IsEnabled.eq(enabled));
    }
    let rows = query.all(db).await?;
    Ok(Page::from_request(rows, page, |w| {
        if by_url {
            WebhookKey::Text(w.url.clone(), w.webhook_id.clone())
        } else {
            WebhookKey::Id(w.webhook_id.clone())
        }
    })
    .map(|w| summary(config, w)))
}

/// One webhook, masked.
pub async fn get(
    db: &impl ConnectionTrait,
    config: &WebhookConfig,
    id: &str,
) -> Result<WebhookSummary> {
    Ok(summary(config, find(db, id).await?))
}

/// Changes a webhook. Re-enabling clears the reason it was disabled and its failure streak.
#[tracing::instrument(name = "webhooks.subscriptions.update", skip_all, fields(webhook_id = id))]
pub async fn update(
    db: &DatabaseConnection,
    config: &WebhookConfig,
    actor: &Actor,
    ip: Option<String>,
    id: &str,
    patch: WebhookPatch,
) -> Result<WebhookSummary> {
    if let Some(url) = &patch.url {
        ssrf::check_destination(url, config.allow_private_networks, "url").await?;
    }
    let txn = begin_write(db).await?;
    let before = find(&txn, id).await?;
    let mut row: webhooks::ActiveModel = before.clone().into();
    if let Some(url) = &patch.url {
        row.url = Set(url.as_str().to_string());
    }
    if let Some(events) = &patch.events {
        row.events = Set(json!(events.as_slice()));
    }
    if let Some(team) = &patch.team {
        row.team = Set(team.clone());
    }
    if let Some(description) = &patch.description {
        row.description = Set(description.clone());
    }
    let toggled = patch.is_enabled.filter(|e| *e != before.is_enabled);
    match toggled {
        Some(true) => {
            row.is_enabled = Set(true);
            row.disabled_reason = Set(None);
            row.failing_since = Set(None);
        }
        Some(false) => {
            row.is_enabled = Set(false);
            row.disabled_reason = Set(Some(format!("disabled by {}", actor.as_string())));
        }
        None => {}
    }
    row.updated_at = Set(now().fixed_offset());
    let after = row.update(&txn).await?;
    // Not `commit_audited`: a change that also enables or disables the webhook records two
    // entries (the change, then the toggle that lists and alerts look for).
    audit::record(
        &txn,
        AuditEntry::new("webhook.updated", actor)
            .target(id)
            .ip(ip.clone())
            .details(json!({
                "old": {"url": before.url, "events": before.events, "team": before.team,
                        "description": before.description, "is_enabled": before.is_enabled},
                "new": {"url": after.url, "events": after.events, "team": after.team,
                        "description": after.description, "is_enabled": after.is_enabled},
            })),
    )
    .await?;
    if let Some(enabled) = toggled {
        let action = if enabled {
            "webhook.enabled"
        } else {
            "webhook.disabled"
        };
        audit::record(&txn, AuditEntry::new(action, actor).target(id).ip(ip)).await?;
    }
    txn.commit().await?;
    if toggled == Some(true) {
        // Deliveries held while it was disabled are due now.
        dispatcher::wake();
    }
    Ok(summary(config, after))
}

/// Deletes a webhook and, by cascade, its delivery log.
#[tracing::instrument(name = "webhooks.subscriptions.delete", skip_all, fields(webhook_id = id))]
pub async fn delete(
    db: &DatabaseConnection,
    actor: &Actor,
    ip: Option<String>,
    id: &str,
) -> Result<()> {
    let txn = begin_write(db).await?;
    let row = find(&txn, id).await?;
    webhooks::Entity::delete_by_id(id).exec(&txn).await?;
    audit::commit_audited(
        txn,
        AuditEntry::new("webhook.deleted", actor)
            .target(id)
            .ip(ip)
            .details(json!({"url": row.url})),
        &[],
    )
    .await?;
    Ok(())
}

/// Gives a webhook a new secret, returned once. For 24 hours the old one co-signs.
#[tracing::instrument(name = "webhooks.subscriptions.rotate_secret", skip_all, fields(webhook_id = id))]
pub async fn rotate_secret(
    db: &DatabaseConnection,
    config: &WebhookConfig,
    actor: &Actor,
    ip: Option<String>,
    id: &str,
) -> Result<(WebhookSummary, WebhookSecret)> {
    let secret = WebhookSecret::generate();
    let stored = config.cipher.encrypt(id, &secret)?;
    let txn = begin_write(db).await?;
    let before = find(&txn, id).await?;
    let at = now().fixed_offset();
    let mut row: webhooks::ActiveModel = before.clone().into();
    row.previous_secret = Set(Some(before.secret));
    row.secret = Set(stored);
    row.secret_rotated_at = Set(Some(at));
    row.updated_at = Set(at);
    let after = row.update(&txn).await?;
    audit::commit_audited(
        txn,
        AuditEntry::new("webhook.secret_rotated", actor)
            .target(id)
            .ip(ip),
        &[],
    )
    .await?;
    Ok((summary(config, after), secret))
}

/// Queues a `webhook.test` event for this endpoint only; `409` when it is disabled.
/// Returns the message id.
#[tracing::instrument(name = "webhooks.subscriptions.send_test", skip_all, fields(webhook_id = id))]
pub async fn send_test(
    db: &DatabaseConnection,
    actor: &Actor,
    ip: Option<String>,
    id: &str,
) -> Result<String> {
    let txn = begin_write(db).await?;
    let row = find(&txn, id).await?;
    if !row.is_enabled {
        return Err(Error::conflict(format!(
            "webhook {id} is disabled; enable it before sending a test event"
        )));
    }
    let event = Event::new(
        EventType::WebhookTest,
        json!({"webhook_id": id, "message": "A test event sent from Metadeck.", "sent_by": actor.as_string()}),
    );
    let message_id = outbox::emit_to(&txn, id, &event).await?;
    audit::commit_audited(
        txn,
        AuditEntry::new("webhook.test_sent", actor)
            .target(id)
            .ip(ip)
            .details(json!({"message_id": message_id})),
        &[],
    )
    .await?;
    dispatcher::wake();
    Ok(message_id)
}

/// The ids of the webhooks that already go to `url` or carry the name `name`: a second
/// subscription repeating either is allowed but usually a mistake, so the console warns.
pub async fn similar(
    db: &impl ConnectionTrait,
    url: &str,
    name: Option<&str>,
) -> Result<Vec<String>> {
    let mut same = sea_orm::Condition::any().add(Column::Url.eq(url));
    if let Some(name) = name {
        same = same.add(Column::Description.eq(name));
    }
    Ok(webhooks::Entity::find()
        .filter(same)
        .order_by_asc(Column::WebhookId)
        .select_only()
        .column(Column::WebhookId)
        .into_tuple::<String>()
        .all(db)
        .await?)
}
