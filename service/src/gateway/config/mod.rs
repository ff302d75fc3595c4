//! Shared gateway config (spec 08, `gateway_config`): keys holding JSON values that every
//! instance reads from its own cache and sees change within 5 s of a write through any other.
//!
//! Reads ([`get`]) are answered from the instance's [`ConfigCache`] without a database round
//! trip on a hit; writes ([`put`], [`delete`]) go through the service's writer path, are
//! audited with the old and the new value (`config.updated`, `config.deleted`), count
//! themselves on the config clock ([`watch`]) so that other instances learn of them, and
//! forget their key here the moment they commit.

pub mod cache;
pub mod json_text;
pub mod key;
pub mod watch;

use std::sync::Arc;

use chrono::{DateTime, SubsecRound, Utc};
use entity::gateway_config::{self, Column};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde::Serialize;
use serde_json::{Value, json};

pub use cache::ConfigCache;
pub use json_text::parse_json_text;
pub use key::ConfigKey;

use crate::audit::{self, Actor, AuditEntry};
use crate::db::begin_write;
use crate::pagination::{Page, PageRequest, Sort, SortField};
use crate::{Error, Result};

/// Longest value, as compact JSON, in bytes.
pub const MAX_VALUE_BYTES: usize = 256 * 1024;

/// Longest description, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 1000;

/// The audit actions of config changes (their target is the key).
pub const AUDIT_UPDATED: &str = "config.updated";
/// See [`AUDIT_UPDATED`].
pub const AUDIT_DELETED: &str = "config.deleted";

/// One config key as reads show it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ConfigItem {
    pub key: String,
    /// Any JSON value.
    pub value: Value,
    pub description: Option<String>,
    pub updated_at: DateTime<Utc>,
    /// Who wrote it last (`user:<name>`, `client:<id>`, `cli`).
    pub updated_by: Option<String>,
}

impl From<gateway_config::Model> for ConfigItem {
    fn from(row: gateway_config::Model) -> Self {
        Self {
            key: row.key,
            value: row.value,
            description: row.description,
            updated_at: row.updated_at.to_utc(),
            updated_by: row.updated_by,
        }
    }
}

/// What a write sets: the value and its description.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigInput {
    pub value: Value,
    pub description: Option<String>,
}

impl ConfigInput {
    /// Checks the value's size and the description (trimmed; empty is none), each error under
    /// its field.
    pub fn new(
        value: Value,
        description: Option<&str>,
        value_field: &str,
        description_field: &str,
    ) -> Result<Self> {
        let mut errors = Vec::new();
        if serde_json::to_vec(&value).map_or(true, |v| v.len() > MAX_VALUE_BYTES) {
            errors.push(crate::FieldError::new(
                value_field,
                "must be at most 256 KiB as compact JSON",
            ));
        }
        let description = description.map(str::trim).filter(|d| !d.is_empty());
        if let Some(d) = description {
            if d.chars().count() > MAX_DESCRIPTION_CHARS {
                errors.push(crate::FieldError::new(
                    description_field,
                    "must be at most 1000 characters",
                ));
            }
            if d.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
                errors.push(crate::FieldError::new(
                    description_field,
                    "must not hold control characters",
                ));
            }
        }
        if !errors.is_empty() {
            return Err(Error::Validation(errors));
        }
        Ok(Self {
            value,
            description: description.map(str::to_owned),
        })
    }
}

fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

fn not_found(key: &ConfigKey) -> Error {
    Error::NotFound(format!("config key {key}"))
}

/// One key, from the cache when it holds it (no database round trip), else from the
/// database (and then kept).
pub async fn get(
    db: &impl ConnectionTrait,
    cache: &ConfigCache,
    key: &ConfigKey,
) -> Result<Arc<ConfigItem>> {
    if let Some(found) = cache.lookup(key.as_str()) {
        return found.ok_or_else(|| not_found(key));
    }
    let generation = cache.generation();
    let found = gateway_config::Entity::find_by_id(key.as_str().to_owned())
        .one(db)
        .await?
        .map(|row| Arc::new(ConfigItem::from(row)));
    cache.keep(key.as_str(), found.clone(), generation);
    found.ok_or_else(|| not_found(key))
}

/// One key read from the database itself (the console's edit page shows what is stored).
pub async fn get_stored(db: &impl ConnectionTrait, key: &ConfigKey) -> Result<ConfigItem> {
    gateway_config::Entity::find_by_id(key.as_str().to_owned())
        .one(db)
        .await?
        .map(ConfigItem::from)
        .ok_or_else(|| not_found(key))
}

/// What an audit row says of a key's state (`null` when absent).
fn audited(row: Option<&gateway_config::Model>) -> Value {
    row.map_or(
        Value::Null,
        |r| json!({"value": r.value, "description": r.description}),
    )
}

/// Creates `key` or replaces its value and description; answers the key as saved and whether
/// it was created. Audited as `config.updated` with the old value (`null` when new) and the
/// new one.
#[tracing::instrument(name = "gateway.config.put", skip_all)]
pub async fn put(
    db: &DatabaseConnection,
    cache: &ConfigCache,
    actor: &Actor,
    ip: Option<String>,
    key: &ConfigKey,
    input: ConfigInput,
) -> Result<(ConfigItem, bool)> {
    write(db, cache, actor, ip, key, input, false).await
}

/// Creates `key`; a key that exists is a conflict (the console's "new key" form, which must
/// not overwrite a value by accident). Audited as [`put`] is.
#[tracing::instrument(name = "gateway.config.create", skip_all)]
pub async fn create(
    db: &DatabaseConnection,
    cache: &ConfigCache,
    actor: &Actor,
    ip: Option<String>,
    key: &ConfigKey,
    input: ConfigInput,
) -> Result<ConfigItem> {
    write(db, cache, actor, ip, key, input, true)
        .await
        .map(|(item, _)| item)
}

/// [`put`], or [`create`] when `only_new`.
async fn write(
    db: &DatabaseConnection,
    cache: &ConfigCache,
    actor: &Actor,
    ip: Option<String>,
    key: &ConfigKey,
    input: ConfigInput,
    only_new: bool,
) -> Result<(ConfigItem, bool)> {
    let txn = begin_write(db).await?;
    let before = gateway_config::Entity::find_by_id(key.as_str().to_owned())
        .one(&txn)
        .await?;
    if only_new && before.is_some() {
        return Err(Error::Conflict {
            message: format!("the config key {key} exists"),
            details: vec![crate::FieldError::new(
                "key",
                "exists already; change its value on its own page",
            )],
        });
    }
    let row = gateway_config::ActiveModel {
        key: Set(key.as_str().to_owned()),
        value: Set(input.value),
        description: Set(input.description),
        updated_at: Set(now().fixed_offset()),
        updated_by: Set(Some(actor.as_string())),
    };
    let after = match &before {
        Some(_) => row.update(&txn).await?,
        None => row.insert(&txn).await?,
    };
    let version = watch::stamp(&txn, key).await?;
    let entry = AuditEntry::new(AUDIT_UPDATED, actor)
        .target(key.as_str())
        .ip(ip)
        .details(json!({
            "key": key.as_str(),
            "version": version,
            "old": audited(before.as_ref()),
            "new": audited(Some(&after)),
        }));
    audit::commit_audited(txn, entry, &[]).await?;
    cache.forget([key.as_str()]);
    Ok((after.into(), before.is_none()))
}

/// Deletes `key`; answers it as it was. Audited as `config.deleted` with the old value.
#[tracing::instrument(name = "gateway.config.delete", skip_all)]
pub async fn delete(
    db: &DatabaseConnection,
    cache: &ConfigCache,
    actor: &Actor,
    ip: Option<String>,
    key: &ConfigKey,
) -> Result<ConfigItem> {
    let txn = begin_write(db).await?;
    let before = gateway_config::Entity::find_by_id(key.as_str().to_owned())
        .one(&txn)
        .await?
        .ok_or_else(|| not_found(key))?;
    gateway_config::Entity::delete_by_id(key.as_str().to_owned())
        .exec(&txn)
        .await?;
    let version = watch::stamp(&txn, key).await?;
    let entry = AuditEntry::new(AUDIT_DELETED, actor)
        .target(key.as_str())
        .ip(ip)
        .details(json!({
            "key": key.as_str(),
            "version": version,
            "old": audited(Some(&before)),
            "new": Value::Null,
        }));
    audit::commit_audited(txn, entry, &[]).await?;
    cache.forget([key.as_str()]);
    Ok(before.into())
}

/// The list's one sortable column: the key (the primary key, so every order is total).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigSortField {
    Key,
}

impl SortField for ConfigSortField {
    const ALL: &'static [Self] = &[Self::Key];

    fn name(self) -> &'static str {
        "key"
    }
}

/// The config list's order.
pub type ConfigSort = Sort<ConfigSortField>;

/// The default order: by key.
pub const BY_KEY: ConfigSort = Sort {
    field: ConfigSortField::Key,
    descending: false,
};

/// A page of keys in `sort` order, keyed by key (keys are unique).
pub async fn list(
    db: &impl ConnectionTrait,
    sort: ConfigSort,
    page: &PageRequest<String>,
) -> Result<Page<ConfigItem>> {
    let mut cond = Condition::all();
    let order = sort.order(page);
    if let Some(key) = page.boundary() {
        if key.contains('\0') {
            return Err(Error::invalid("cursor", "is not a valid cursor"));
        }
        cond = cond.add(if order == sea_orm::Order::Desc {
            Column::Key.lt(key.as_str())
        } else {
            Column::Key.gt(key.as_str())
        });
    }
    let rows = gateway_config::Entity::find()
        .filter(cond)
        .order_by(Column::Key, order)
        .limit(page.limit + 1)
        .all(db)
        .await?;
    Ok(Page::from_request(rows, page, |r| r.key.clone()).map(ConfigItem::from))
}
