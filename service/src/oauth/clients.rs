//! Client administration: registration rules, create / change / rotate / delete, and the
//! client's live tokens. Every change is written to `oauth_audit_logs` and the admin audit
//! trail in the same transaction.

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use entity::{
    oauth_access_tokens as access, oauth_client_configs as configs, oauth_clients as clients,
    oauth_refresh_tokens as refresh,
};
use rand::RngExt;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde::Serialize;
use serde_json::{Value, json};
use uuid::Uuid;

use super::audit_log::{self, OAuthEvent};
use super::{Scope, grant_type, redirect, secrets};
use crate::access::{Grantor, PermissionSet};
use crate::audit::{self, Actor, AuditEntry};
use crate::db::begin_write;
use crate::pagination::{Page, PageRequest};
use crate::webhooks::{Event, EventType, outbox};
use crate::{Error, FieldError, Result};

/// Lifetime bounds, in seconds, for the configurable TTLs.
const TTL_BOUNDS: [(&str, i64, i64); 4] = [
    ("access_token_ttl_seconds", 60, 86_400),
    ("refresh_token_ttl_seconds", 300, 31_536_000),
    ("device_code_ttl_seconds", 60, 3_600),
    ("device_poll_interval_seconds", 1, 60),
];

/// Raw client settings as a form, the JSON API or the CLI send them; `None` keeps the
/// current value (or the default, on creation).
#[derive(Debug, Clone, Default)]
pub struct ClientInput {
    pub name: Option<String>,
    pub is_confidential: Option<bool>,
    pub is_enabled: Option<bool>,
    pub redirect_uris: Option<Vec<String>>,
    pub grant_types: Option<Vec<String>>,
    pub allowed_scopes: Option<Vec<String>>,
    pub access_token_ttl_seconds: Option<i64>,
    pub refresh_token_ttl_seconds: Option<i64>,
    pub device_code_ttl_seconds: Option<i64>,
    pub device_poll_interval_seconds: Option<i64>,
    pub require_pkce: Option<bool>,
    pub skip_consent: Option<bool>,
}

/// Validated client settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientSpec {
    pub name: String,
    pub is_confidential: bool,
    pub is_enabled: bool,
    pub redirect_uris: Vec<String>,
    pub grant_types: Vec<&'static str>,
    pub allowed_scopes: Scope,
    pub access_token_ttl_seconds: i64,
    pub refresh_token_ttl_seconds: i64,
    pub device_code_ttl_seconds: i64,
    pub device_poll_interval_seconds: i64,
    pub require_pkce: bool,
    pub skip_consent: bool,
}

impl ClientSpec {
    /// Settings of a new client: the input over the defaults.
    pub fn new_from(input: ClientInput) -> Result<Self> {
        let confidential = input.is_confidential.unwrap_or(true);
        let base = Self {
            name: String::new(),
            is_confidential: confidential,
            is_enabled: true,
            redirect_uris: Vec::new(),
            grant_types: if confidential {
                vec![grant_type::CLIENT_CREDENTIALS]
            } else {
                vec![grant_type::AUTHORIZATION_CODE, grant_type::REFRESH_TOKEN]
            },
            allowed_scopes: Scope::default(),
            access_token_ttl_seconds: 3_600,
            refresh_token_ttl_seconds: 2_592_000,
            device_code_ttl_seconds: 600,
            device_poll_interval_seconds: 5,
            require_pkce: true,
            skip_consent: false,
        };
        if input.name.is_none() {
            return Err(Error::invalid("name", "is required"));
        }
        base.with(input)
    }

    /// These settings changed by `input`, validated as a whole.
    pub fn with(mut self, input: ClientInput) -> Result<Self> {
        let mut errors = Vec::new();
        if let Some(name) = input.name {
            let name = name.trim().to_owned();
            if name.is_empty() || name.chars().count() > 200 {
                errors.push(FieldError::new("name", "must be 1–200 characters"));
            }
            self.name = name;
        }
        if let Some(c) = input.is_confidential {
            if c != self.is_confidential && !self.name.is_empty() && input.grant_types.is_none() {
                // A type change without explicit grants takes the new type's defaults.
                self.grant_types = if c {
                    vec![grant_type::CLIENT_CREDENTIALS]
                } else {
                    vec![grant_type::AUTHORIZATION_CODE, grant_type::REFRESH_TOKEN]
                };
            }
            self.is_confidential = c;
        }
        if let Some(e) = input.is_enabled {
            self.is_enabled = e;
        }
        if let Some(uris) = input.redirect_uris {
            let uris: Vec<String> = uris
                .into_iter()
                .map(|u| u.trim().to_owned())
                .filter(|u| !u.is_empty())
                .collect();
            for uri in &uris {
                if let Err(problem) = redirect::validate(uri) {
                    errors.push(FieldError::new("redirect_uris", problem));
                }
            }
            self.redirect_uris = dedup(uris);
        }
        if let Some(grants) = input.grant_types {
            let mut parsed = Vec::new();
            for g in grants.iter().filter(|g| !g.trim().is_empty()) {
                match grant_type::parse(g) {
                    Some(g) if !parsed.contains(&g) => parsed.push(g),
                    Some(_) => {}
                    None => errors.push(FieldError::new(
                        "grant_types",
                        format!("{g} is not a supported grant type"),
                    )),
                }
            }
            self.grant_types = parsed;
        }
        if let Some(scopes) = input.allowed_scopes {
            match Scope::parse(&scopes.join(" ")) {
                Ok(s) => self.allowed_scopes = s,
                Err(e) => errors.push(FieldError::new("allowed_scopes", e.description)),
            }
        }
        let ttls = [
            (
                input.access_token_ttl_seconds,
                &mut self.access_token_ttl_seconds,
            ),
            (
                input.refresh_token_ttl_seconds,
                &mut self.refresh_token_ttl_seconds,
            ),
            (
                input.device_code_ttl_seconds,
                &mut self.device_code_ttl_seconds,
            ),
            (
                input.device_poll_interval_seconds,
                &mut self.device_poll_interval_seconds,
            ),
        ];
        for ((value, slot), (field, min, max)) in ttls.into_iter().zip(TTL_BOUNDS) {
            if let Some(v) = value {
                if !(min..=max).contains(&v) {
                    errors.push(FieldError::new(
                        field,
                        format!("must be between {min} and {max}"),
                    ));
                }
                *slot = v;
            }
        }
        if let Some(p) = input.require_pkce {
            self.require_pkce = p;
        }
        if let Some(s) = input.skip_consent {
            self.skip_consent = s;
        }
        if !self.is_confidential {
            // Public clients cannot keep a verifier secret from the network: PKCE always.
            self.require_pkce = true;
            if self.grant_types.contains(&grant_type::CLIENT_CREDENTIALS) {
                errors.push(FieldError::new(
                    "grant_types",
                    "client_credentials needs a confidential client",
                ));
            }
        }
        if self.grant_types.is_empty() {
            errors.push(FieldError::new(
                "grant_types",
                "choose at least one grant type",
            ));
        }
        if self.grant_types.contains(&grant_type::AUTHORIZATION_CODE)
            && self.redirect_uris.is_empty()
        {
            errors.push(FieldError::new(
                "redirect_uris",
                "authorization_code needs at least one redirect URI",
            ));
        }
        if errors.is_empty() {
            Ok(self)
        } else {
            Err(Error::Validation(errors))
        }
    }

    /// True when the client may use `grant` (an RFC grant type name).
    pub fn allows(&self, grant: &str) -> bool {
        self.grant_types.contains(&grant)
    }

    fn from_rows(client: &clients::Model, config: &configs::Model) -> Self {
        Self {
            name: client.name.clone(),
            is_confidential: client.is_confidential,
            is_enabled: client.is_enabled,
            redirect_uris: strings(&client.redirect_uris),
            grant_types: strings(&client.grant_types)
                .iter()
                .filter_map(|g| grant_type::parse(g))
                .collect(),
            allowed_scopes: Scope(PermissionSet::from_names(
                strings(&config.allowed_scopes).iter().map(String::as_str),
            )),
            access_token_ttl_seconds: config.access_token_ttl_seconds,
            refresh_token_ttl_seconds: config.refresh_token_ttl_seconds,
            device_code_ttl_seconds: config.device_code_ttl_seconds,
            device_poll_interval_seconds: config.device_poll_interval_seconds,
            require_pkce: config.require_pkce,
            skip_consent: config.skip_consent,
        }
    }
}

fn dedup(items: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(items.len());
    for item in items {
        if !out.contains(&item) {
            out.push(item);
        }
    }
    out
}

/// The strings of a stored JSON array.
pub(crate) fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// A client as pages and the API show it (never its secret).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ClientView {
    /// The public identifier.
    pub client_id: String,
    pub name: String,
    pub is_confidential: bool,
    pub is_enabled: bool,
    pub redirect_uris: Vec<String>,
    pub grant_types: Vec<String>,
    pub allowed_scopes: Vec<String>,
    pub access_token_ttl_seconds: i64,
    pub refresh_token_ttl_seconds: i64,
    pub device_code_ttl_seconds: i64,
    pub device_poll_interval_seconds: i64,
    pub require_pkce: bool,
    pub skip_consent: bool,
    /// Access tokens neither expired nor revoked.
    pub active_tokens: u64,
    /// When the client last obtained a token.
    pub last_used_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub created_by: Option<String>,
    pub updated_at: DateTime<Utc>,
}

/// A client with its settings, as stored.
#[derive(Debug, Clone)]
pub struct Client {
    pub row: clients::Model,
    pub spec: ClientSpec,
}

impl Client {
    /// The view, given the active token count.
    pub fn view(&self, active_tokens: u64) -> ClientView {
        let s = &self.spec;
        ClientView {
            client_id: self.row.client_identifier.clone(),
            name: s.name.clone(),
            is_confidential: s.is_confidential,
            is_enabled: s.is_enabled,
            redirect_uris: s.redirect_uris.clone(),
            grant_types: s.grant_types.iter().map(|g| g.to_string()).collect(),
            allowed_scopes: s
                .allowed_scopes
                .0
                .names()
                .into_iter()
                .map(String::from)
                .collect(),
            access_token_ttl_seconds: s.access_token_ttl_seconds,
            refresh_token_ttl_seconds: s.refresh_token_ttl_seconds,
            device_code_ttl_seconds: s.device_code_ttl_seconds,
            device_poll_interval_seconds: s.device_poll_interval_seconds,
            require_pkce: s.require_pkce,
            skip_consent: s.skip_consent,
            active_tokens,
            last_used_at: self.row.last_used_at.map(|t| t.to_utc()),
            created_at: self.row.created_at.to_utc(),
            created_by: self.row.created_by.clone(),
            updated_at: self.row.updated_at.to_utc(),
        }
    }

    /// The event payload: the client without secrets.
    fn event_data(&self) -> Value {
        serde_json::to_value(self.view(0)).unwrap_or(Value::Null)
    }
}

/// A new public client identifier.
fn new_identifier() -> String {
    let bytes: [u8; 16] = rand::rng().random();
    format!("mdc_{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// Loads a client by its public identifier.
pub async fn find(db: &impl ConnectionTrait, client_id: &str) -> Result<Option<Client>> {
    let Some((row, config)) = clients::Entity::find()
        .filter(clients::Column::ClientIdentifier.eq(client_id))
        .find_also_related(configs::Entity)
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let config = config.ok_or_else(|| Error::internal("client without configuration"))?;
    let spec = ClientSpec::from_rows(&row, &config);
    Ok(Some(Client { row, spec }))
}

/// Loads a client by its public identifier, or `NotFound`.
pub async fn get(db: &impl ConnectionTrait, client_id: &str) -> Result<Client> {
    find(db, client_id)
        .await?
        .ok_or_else(|| Error::NotFound(format!("client {client_id}")))
}

/// One client's view with its active token count.
pub async fn view(db: &impl ConnectionTrait, client_id: &str) -> Result<ClientView> {
    let client = get(db, client_id).await?;
    let counts = active_token_counts(db, &[client.row.id]).await?;
    Ok(client.view(counts.get(&client.row.id).copied().unwrap_or(0)))
}

async fn active_token_counts(
    db: &impl ConnectionTrait,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, u64>> {
    let now = Utc::now().fixed_offset();
    let rows: Vec<(Uuid, i64)> = access::Entity::find()
        .select_only()
        .column(access::Column::ClientId)
        .column_as(access::Column::Id.count(), "n")
        .filter(access::Column::ClientId.is_in(ids.to_vec()))
        .filter(access::Column::RevokedAt.is_null())
        .filter(access::Column::ExpiresAt.gt(now))
        .group_by(access::Column::ClientId)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, n)| (id, n.max(0) as u64))
        .collect())
}

/// Clients by name, then identifier.
pub async fn list(
    db: &impl ConnectionTrait,
    page: &PageRequest<(String, String)>,
) -> Result<Page<ClientView>> {
    let mut query = clients::Entity::find()
        .find_also_related(configs::Entity)
        .order_by_asc(clients::Column::Name)
        .order_by_asc(clients::Column::ClientIdentifier)
        .limit(page.limit + 1);
    if let Some((name, id)) = &page.after {
        query = query.filter(
            sea_orm::Condition::any()
                .add(clients::Column::Name.gt(name.as_str()))
                .add(
                    sea_orm::Condition::all()
                        .add(clients::Column::Name.eq(name.as_str()))
                        .add(clients::Column::ClientIdentifier.gt(id.as_str())),
                ),
        );
    }
    let rows: Vec<Client> = query
        .all(db)
        .await?
        .into_iter()
        .filter_map(|(row, config)| {
            let spec = ClientSpec::from_rows(&row, config.as_ref()?);
            Some(Client { row, spec })
        })
        .collect();
    let page = Page::from_rows(rows, page.limit, |c| {
        (c.row.name.clone(), c.row.client_identifier.clone())
    });
    let ids: Vec<Uuid> = page.items.iter().map(|c| c.row.id).collect();
    let counts = active_token_counts(db, &ids).await?;
    Ok(page.map(|c| c.view(counts.get(&c.row.id).copied().unwrap_or(0))))
}

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

/// A created client and its secret (shown once; `None` for public clients).
#[derive(Debug)]
pub struct Created {
    pub client: ClientView,
    pub secret: Option<String>,
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
    audit::record(
        &txn,
        AuditEntry::new("oauth_client.created", actor)
            .target(view.client_id.clone())
            .details(settings_summary(&client.spec))
            .ip(ip),
    )
    .await?;
    outbox::emit(
        &txn,
        &[Event::new(EventType::ClientCreated, client.event_data())],
    )
    .await?;
    txn.commit().await?;
    Ok(Created {
        client: view,
        secret,
    })
}

fn config_row(
    client_id: Uuid,
    spec: &ClientSpec,
    by: &str,
    created: Option<chrono::DateTime<chrono::FixedOffset>>,
) -> configs::ActiveModel {
    let now = Utc::now().fixed_offset();
    let mut row = configs::ActiveModel {
        client_id: Set(client_id),
        allowed_scopes: Set(json!(spec.allowed_scopes.0.names())),
        access_token_ttl_seconds: Set(spec.access_token_ttl_seconds),
        refresh_token_ttl_seconds: Set(spec.refresh_token_ttl_seconds),
        require_pkce: Set(spec.require_pkce),
        skip_consent: Set(spec.skip_consent),
        device_code_ttl_seconds: Set(spec.device_code_ttl_seconds),
        device_poll_interval_seconds: Set(spec.device_poll_interval_seconds),
        updated_at: Set(now),
        updated_by: Set(Some(by.to_owned())),
        ..Default::default()
    };
    if let Some(created) = created {
        row.id = Set(Uuid::now_v7());
        row.created_at = Set(created);
        row.created_by = Set(Some(by.to_owned()));
    }
    row
}

fn settings_summary(spec: &ClientSpec) -> Value {
    json!({
        "name": spec.name,
        "is_confidential": spec.is_confidential,
        "is_enabled": spec.is_enabled,
        "redirect_uris": spec.redirect_uris,
        "grant_types": spec.grant_types,
        "allowed_scopes": spec.allowed_scopes.0.names(),
        "access_token_ttl_seconds": spec.access_token_ttl_seconds,
        "refresh_token_ttl_seconds": spec.refresh_token_ttl_seconds,
        "device_code_ttl_seconds": spec.device_code_ttl_seconds,
        "device_poll_interval_seconds": spec.device_poll_interval_seconds,
        "require_pkce": spec.require_pkce,
        "skip_consent": spec.skip_consent,
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
    txn.after_commit(super::token_cache::forget_all);
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
    audit::record(
        &txn,
        AuditEntry::new("oauth_client.updated", actor)
            .target(client_id.to_owned())
            .details(details)
            .ip(ip),
    )
    .await?;
    txn.commit().await?;
    view(db, client_id).await
}

/// Replaces a confidential client's secret; the old one stops working at once.
#[tracing::instrument(name = "oauth.clients.rotate_secret", skip_all, fields(client_id))]
pub async fn rotate_secret(
    db: &DatabaseConnection,
    grantor: &Grantor,
    ip: Option<String>,
    client_id: &str,
) -> Result<String> {
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
    audit::record(
        &txn,
        AuditEntry::new("oauth_client.secret_rotated", actor)
            .target(client_id.to_owned())
            .ip(ip),
    )
    .await?;
    txn.commit().await?;
    Ok(secret)
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
    txn.after_commit(super::token_cache::forget_all);
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
    audit::record(
        &txn,
        AuditEntry::new("oauth_client.deleted", actor)
            .target(client_id.to_owned())
            .details(json!({"name": client.spec.name}))
            .ip(ip),
    )
    .await?;
    outbox::emit(&txn, &[Event::new(EventType::ClientDeleted, data)]).await?;
    txn.commit().await?;
    Ok(())
}

/// A live token of a client (never the token itself).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TokenView {
    pub id: Uuid,
    /// `access` or `refresh`.
    pub kind: &'static str,
    pub scope: String,
    /// The user's name for user-delegated tokens.
    pub username: Option<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// A client's access and refresh tokens that are neither expired nor revoked, newest first.
pub async fn live_tokens(db: &impl ConnectionTrait, client_id: &str) -> Result<Vec<TokenView>> {
    let client = get(db, client_id).await?;
    let now = Utc::now().fixed_offset();
    let names = usernames(db).await?;
    let mut out: Vec<TokenView> = access::Entity::find()
        .filter(access::Column::ClientId.eq(client.row.id))
        .filter(access::Column::RevokedAt.is_null())
        .filter(access::Column::ExpiresAt.gt(now))
        .order_by_desc(access::Column::CreatedAt)
        .limit(500)
        .all(db)
        .await?
        .into_iter()
        .map(|t| TokenView {
            id: t.id,
            kind: "access",
            scope: t.scope,
            username: t.user_id.and_then(|u| names.get(&u).cloned()),
            created_at: t.created_at.to_utc(),
            expires_at: t.expires_at.to_utc(),
        })
        .collect();
    out.extend(
        refresh::Entity::find()
            .filter(refresh::Column::ClientId.eq(client.row.id))
            .filter(refresh::Column::RevokedAt.is_null())
            .filter(refresh::Column::RotatedAt.is_null())
            .filter(refresh::Column::ExpiresAt.gt(now))
            .order_by_desc(refresh::Column::CreatedAt)
            .limit(500)
            .all(db)
            .await?
            .into_iter()
            .map(|t| TokenView {
                id: t.id,
                kind: "refresh",
                scope: t.scope,
                username: t.user_id.and_then(|u| names.get(&u).cloned()),
                created_at: t.created_at.to_utc(),
                expires_at: t.expires_at.to_utc(),
            }),
    );
    out.sort_by_key(|t| std::cmp::Reverse(t.created_at));
    Ok(out)
}

async fn usernames(db: &impl ConnectionTrait) -> Result<HashMap<Uuid, String>> {
    let rows: Vec<(Uuid, Option<String>)> = entity::oauth_users::Entity::find()
        .select_only()
        .column(entity::oauth_users::Column::Id)
        .column(entity::oauth_users::Column::Username)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, n)| Some((id, n?)))
        .collect())
}

/// Revokes one token by id (an access or a refresh token; a refresh token takes the access
/// tokens issued from it along).
#[tracing::instrument(name = "oauth.clients.revoke_token", skip_all, fields(token_id = %token_id))]
pub async fn revoke_token(
    db: &DatabaseConnection,
    actor: &Actor,
    ip: Option<String>,
    token_id: Uuid,
) -> Result<()> {
    let txn = begin_write(db).await?;
    let client = if let Some(t) = access::Entity::find_by_id(token_id).one(&txn).await? {
        super::tokens::revoke_access(&txn, &[t.id]).await?;
        t.client_id
    } else if let Some(t) = refresh::Entity::find_by_id(token_id).one(&txn).await? {
        super::tokens::revoke_refresh(&txn, t.id).await?;
        t.client_id
    } else {
        return Err(Error::NotFound(format!("token {token_id}")));
    };
    let by = actor.as_string();
    audit_log::log(
        &txn,
        OAuthEvent::new("token.revoked", Some(client), &by).subject(token_id.to_string()),
    )
    .await?;
    audit::record(
        &txn,
        AuditEntry::new("oauth_token.revoked", actor)
            .target(token_id.to_string())
            .ip(ip),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Revokes every live token of a client; returns how many.
#[tracing::instrument(name = "oauth.clients.revoke_all", skip_all, fields(client_id))]
pub async fn revoke_all(
    db: &DatabaseConnection,
    actor: &Actor,
    ip: Option<String>,
    client_id: &str,
) -> Result<u64> {
    let txn = begin_write(db).await?;
    // The client's tokens may stop being valid: none is accepted from memory after this commits.
    txn.after_commit(super::token_cache::forget_all);
    let client = get(&txn, client_id).await?;
    let now = Utc::now().fixed_offset();
    let a = access::Entity::update_many()
        .col_expr(access::Column::RevokedAt, now.into())
        .col_expr(access::Column::UpdatedAt, now.into())
        .filter(access::Column::ClientId.eq(client.row.id))
        .filter(access::Column::RevokedAt.is_null())
        .exec(&txn)
        .await?
        .rows_affected;
    let r = refresh::Entity::update_many()
        .col_expr(refresh::Column::RevokedAt, now.into())
        .col_expr(refresh::Column::UpdatedAt, now.into())
        .filter(refresh::Column::ClientId.eq(client.row.id))
        .filter(refresh::Column::RevokedAt.is_null())
        .exec(&txn)
        .await?
        .rows_affected;
    let by = actor.as_string();
    audit_log::log(
        &txn,
        OAuthEvent::new("token.revoked", Some(client.row.id), &by)
            .subject("all")
            .metadata(json!({"access_tokens": a, "refresh_tokens": r})),
    )
    .await?;
    audit::record(
        &txn,
        AuditEntry::new("oauth_token.revoked_all", actor)
            .target(client_id.to_owned())
            .details(json!({"access_tokens": a, "refresh_tokens": r}))
            .ip(ip),
    )
    .await?;
    txn.commit().await?;
    Ok(a + r)
}

/// The identifier and name of each client, by `oauth_clients.id` (for log views).
pub async fn names_by_id(db: &impl ConnectionTrait) -> Result<HashMap<Uuid, (String, String)>> {
    let rows: Vec<(Uuid, String, String)> = clients::Entity::find()
        .select_only()
        .column(clients::Column::Id)
        .column(clients::Column::ClientIdentifier)
        .column(clients::Column::Name)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, ident, name)| (id, (ident, name)))
        .collect())
}

/// Number of registered clients.
pub async fn count(db: &impl ConnectionTrait) -> Result<u64> {
    Ok(clients::Entity::find().count(db).await?)
}
