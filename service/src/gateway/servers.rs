//! MCP servers: create, read (header values never), list, replace, delete.

use chrono::{DateTime, SubsecRound, Utc};
use entity::mcp_servers::{self, Column};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::GatewayConfig;
use super::input::{Address, HeaderEntry, McpServerInput};
use crate::audit::{self, Actor, AuditEntry};
use crate::db::begin_write;
use crate::pagination::{Page, PageRequest, Sort, SortField};
use crate::webhooks::ssrf;
use crate::{Error, FieldError, Result};

/// The name and version a server gave in its `initialize` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ServerInfo {
    pub name: String,
    pub version: String,
}

/// An MCP server as reads show it: header names only, never their values.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct McpServerSummary {
    pub id: Uuid,
    pub name: String,
    /// The URL; for `stdio`, the command line.
    pub url: String,
    /// `streamable-http`, `sse` or `stdio`.
    pub transport: String,
    pub description: Option<String>,
    pub enabled: bool,
    /// The configured headers' names (their values are never returned).
    pub header_names: Vec<String>,
    pub last_checked_at: Option<DateTime<Utc>>,
    /// `reachable`, `unreachable`, `error` or `not_checkable`; `null` before the first check.
    /// A reachable server is shown unreachable only after two failed checks in a row.
    pub last_status: Option<String>,
    /// Why the last check failed (also while one failure does not yet change the status).
    pub last_error: Option<String>,
    pub last_latency_ms: Option<i64>,
    pub protocol_version: Option<String>,
    pub server_info: Option<ServerInfo>,
    pub tool_count: Option<i64>,
    /// True when the tools differ from the approved (pinned) set.
    pub tools_drift: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<mcp_servers::Model> for McpServerSummary {
    fn from(row: mcp_servers::Model) -> Self {
        Self {
            header_names: row
                .headers
                .as_object()
                .map(|h| h.keys().cloned().collect())
                .unwrap_or_default(),
            server_info: row.server_info.and_then(|v| serde_json::from_value(v).ok()),
            id: row.id,
            name: row.name,
            url: row.url,
            transport: row.transport,
            description: row.description,
            enabled: row.enabled,
            last_checked_at: row.last_checked_at.map(|t| t.to_utc()),
            last_status: row.last_status,
            last_error: row.last_error,
            last_latency_ms: row.last_latency_ms,
            protocol_version: row.protocol_version,
            tool_count: row.tool_count,
            tools_drift: row.tools_drift,
            created_at: row.created_at.to_utc(),
            updated_at: row.updated_at.to_utc(),
        }
    }
}

pub(super) fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// The server `id` (text from a path); anything that is not one of its ids is not found.
pub(super) async fn find(db: &impl ConnectionTrait, id: &str) -> Result<mcp_servers::Model> {
    let not_found = || Error::NotFound(format!("MCP server {id}"));
    let uuid = Uuid::parse_str(id).map_err(|_| not_found())?;
    mcp_servers::Entity::find_by_id(uuid)
        .one(db)
        .await?
        .ok_or_else(not_found)
}

/// One server.
pub async fn get(db: &impl ConnectionTrait, id: &str) -> Result<McpServerSummary> {
    find(db, id).await.map(McpServerSummary::from)
}

/// The context a header value is sealed for: the server and the header's name.
fn context(id: Uuid, name: &str) -> String {
    format!("mcp_server:{id}:{name}")
}

/// The stored headers object for `entries`, values sealed; a value of `None` keeps the one
/// `stored` holds under that name.
fn seal_headers(
    config: &GatewayConfig,
    id: Uuid,
    entries: &[HeaderEntry],
    stored: &Value,
) -> Result<Value> {
    let mut out = Map::new();
    for entry in entries {
        let sealed = match &entry.value {
            Some(value) => {
                Value::String(config.cipher.seal_text(&context(id, &entry.name), value)?)
            }
            None => stored.get(&entry.name).cloned().ok_or_else(|| {
                Error::invalid(
                    "headers",
                    format!("{} has no stored value to keep; give one", entry.name),
                )
            })?,
        };
        out.insert(entry.name.clone(), sealed);
    }
    Ok(Value::Object(out))
}

/// The headers of `row` in plain text, for a check.
pub(super) fn open_headers(
    config: &GatewayConfig,
    row: &mcp_servers::Model,
) -> Result<Vec<(String, String)>> {
    let Some(headers) = row.headers.as_object() else {
        return Ok(Vec::new());
    };
    headers
        .iter()
        .map(|(name, sealed)| {
            let sealed = sealed.as_str().unwrap_or_default();
            Ok((
                name.clone(),
                config.cipher.open_text(&context(row.id, name), sealed)?,
            ))
        })
        .collect()
}

/// Refuses a URL to a private destination at save, as a webhook's is refused.
pub(super) async fn check_address(config: &GatewayConfig, address: &Address) -> Result<()> {
    match address {
        Address::Url(url) => {
            ssrf::check_destination(url, config.allow_private_networks, "url").await
        }
        Address::Command(_) => Ok(()),
    }
}

/// A taken name as the form shows it.
fn name_taken(err: Error, name: &str) -> Error {
    match err {
        Error::Conflict { .. } => Error::Conflict {
            message: format!("an MCP server named {name} exists"),
            details: vec![FieldError::new("name", "is taken by another MCP server")],
        },
        err => err,
    }
}

/// What an audit row says of a server (never a header value).
fn audited(row: &mcp_servers::Model) -> Value {
    json!({
        "name": row.name,
        "url": row.url,
        "transport": row.transport,
        "enabled": row.enabled,
        "header_names": row.headers.as_object().map(|h| h.keys().cloned().collect::<Vec<_>>()),
    })
}

/// Creates a server.
#[tracing::instrument(name = "gateway.mcp_servers.create", skip_all)]
pub async fn create(
    db: &DatabaseConnection,
    config: &GatewayConfig,
    actor: &Actor,
    ip: Option<String>,
    input: McpServerInput,
) -> Result<McpServerSummary> {
    check_address(config, &input.address).await?;
    let txn = begin_write(db).await?;
    let row = create_in(&txn, config, input).await?;
    let entry = AuditEntry::new("mcp_server.created", actor)
        .target(row.id.to_string())
        .ip(ip)
        .details(audited(&row));
    audit::commit_audited(txn, entry, &[]).await?;
    Ok(row.into())
}

/// Inserts a server inside `txn` with its header values sealed, without committing or
/// auditing, for callers that write several things in one transaction (the legacy import).
/// The caller has checked the address with [`check_address`].
pub async fn create_in(
    txn: &impl ConnectionTrait,
    config: &GatewayConfig,
    input: McpServerInput,
) -> Result<mcp_servers::Model> {
    let id = Uuid::now_v7();
    let headers = seal_headers(
        config,
        id,
        input.headers.as_deref().unwrap_or(&[]),
        &json!({}),
    )?;
    let at = now().fixed_offset();
    mcp_servers::ActiveModel {
        id: Set(id),
        name: Set(input.name.clone()),
        url: Set(input.address.as_str().to_string()),
        transport: Set(input.transport.as_str().to_string()),
        description: Set(input.description),
        enabled: Set(input.enabled),
        headers: Set(headers),
        last_checked_at: Set(None),
        last_status: Set(None),
        server_info: Set(None),
        created_at: Set(at),
        updated_at: Set(at),
        last_error: Set(None),
        last_latency_ms: Set(None),
        protocol_version: Set(None),
        tool_count: Set(None),
        failed_checks: Set(0),
        tools_drift: Set(false),
        tools_pinned_at: Set(None),
    }
    .insert(txn)
    .await
    .map_err(|e| name_taken(e.into(), &input.name))
}

/// Replaces a server's settings; headers left out (`None`) are kept. Its check results and
/// pins stay: a server moved to a new address is compared with what was approved before.
#[tracing::instrument(name = "gateway.mcp_servers.update", skip_all)]
pub async fn update(
    db: &DatabaseConnection,
    config: &GatewayConfig,
    actor: &Actor,
    ip: Option<String>,
    id: &str,
    input: McpServerInput,
) -> Result<McpServerSummary> {
    check_address(config, &input.address).await?;
    let txn = begin_write(db).await?;
    let before = find(&txn, id).await?;
    let mut row: mcp_servers::ActiveModel = before.clone().into();
    if let Some(entries) = &input.headers {
        row.headers = Set(seal_headers(config, before.id, entries, &before.headers)?);
    }
    row.name = Set(input.name.clone());
    row.url = Set(input.address.as_str().to_string());
    row.transport = Set(input.transport.as_str().to_string());
    row.description = Set(input.description);
    row.enabled = Set(input.enabled);
    row.updated_at = Set(now().fixed_offset());
    let after = row
        .update(&txn)
        .await
        .map_err(|e| name_taken(e.into(), &input.name))?;
    let entry = AuditEntry::new("mcp_server.updated", actor)
        .target(before.id.to_string())
        .ip(ip)
        .details(json!({"old": audited(&before), "new": audited(&after)}));
    audit::commit_audited(txn, entry, &[]).await?;
    Ok(after.into())
}

/// Deletes a server and, by cascade, its pins.
#[tracing::instrument(name = "gateway.mcp_servers.delete", skip_all)]
pub async fn delete(
    db: &DatabaseConnection,
    actor: &Actor,
    ip: Option<String>,
    id: &str,
) -> Result<McpServerSummary> {
    let txn = begin_write(db).await?;
    let row = find(&txn, id).await?;
    mcp_servers::Entity::delete_by_id(row.id).exec(&txn).await?;
    let entry = AuditEntry::new("mcp_server.deleted", actor)
        .target(row.id.to_string())
        .ip(ip)
        .details(audited(&row));
    audit::commit_audited(txn, entry, &[]).await?;
    Ok(row.into())
}

/// Filters of the server list.
#[derive(Debug, Clone, Default)]
pub struct McpServerFilter {
    /// `reachable`, `unreachable`, `error`, `not_checkable`, or `unchecked` (never checked).
    pub status: Option<String>,
    /// Only servers whose tools drifted.
    pub drift: Option<bool>,
}

/// The list's one sortable column, on the unique index of names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum McpSortField {
    Name,
}

impl SortField for McpSortField {
    const ALL: &'static [Self] = &[Self::Name];

    fn name(self) -> &'static str {
        "name"
    }
}

/// The server list's order.
pub type McpSort = Sort<McpSortField>;

/// The default order: by name.
pub const BY_NAME: McpSort = Sort {
    field: McpSortField::Name,
    descending: false,
};

/// A page of servers in `sort` order, keyed by name (names are unique).
pub async fn list(
    db: &impl ConnectionTrait,
    filter: &McpServerFilter,
    sort: McpSort,
    page: &PageRequest<String>,
) -> Result<Page<McpServerSummary>> {
    let mut cond = Condition::all();
    match filter.status.as_deref().filter(|s| !s.is_empty()) {
        Some("unchecked") => cond = cond.add(Column::LastStatus.is_null()),
        Some(status) => cond = cond.add(Column::LastStatus.eq(status)),
        None => {}
    }
    if let Some(drift) = filter.drift {
        cond = cond.add(Column::ToolsDrift.eq(drift));
    }
    let order = sort.order(page);
    if let Some(name) = page.boundary() {
        if name.contains('\0') {
            return Err(Error::invalid("cursor", "is not a valid cursor"));
        }
        cond = cond.add(if order == sea_orm::Order::Desc {
            Column::Name.lt(name.as_str())
        } else {
            Column::Name.gt(name.as_str())
        });
    }
    let rows = mcp_servers::Entity::find()
        .filter(cond)
        .order_by(Column::Name, order)
        .limit(page.limit + 1)
        .all(db)
        .await?;
    Ok(Page::from_request(rows, page, |r| r.name.clone()).map(McpServerSummary::from))
}

/// Every enabled server's id (what the background checker visits).
pub async fn enabled_ids(db: &impl ConnectionTrait) -> Result<Vec<Uuid>> {
    Ok(mcp_servers::Entity::find()
        .select_only()
        .column(Column::Id)
        .filter(Column::Enabled.eq(true))
        .order_by_asc(Column::Name)
        .into_tuple()
        .all(db)
        .await?)
}
