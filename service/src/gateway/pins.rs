//! Tool pinning: each tool's SHA-256 of its canonical JSON (RFC 8785, every field as the
//! server sent it), approved once and compared at every later check.
//!
//! A server's `mcp_tool_pins` hold, per tool name, the approved hash and JSON (`pinned_*`,
//! null for a tool added since) and those of the last good check (`current_*`, null for a
//! tool no longer listed). A tool whose two hashes differ is drift.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use entity::mcp_tool_pins::{self, Column};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, Set,
};
use serde::Serialize;
use serde_json::{Value, json};
use uuid::Uuid;

use super::servers::{McpServerSummary, find, now};
use crate::audit::{self, Actor, AuditEntry};
use crate::db::begin_write;
use crate::orchestration::canonical::state_hash;
use crate::{Error, Result};

/// How a tool compares with its approved form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ToolStatus {
    /// As approved.
    Pinned,
    /// Listed and approved, but different now.
    Changed,
    /// Listed now, never approved.
    Added,
    /// Approved, no longer listed.
    Removed,
}

/// One tool of a server, approved form beside current form.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ToolState {
    pub name: String,
    pub status: ToolStatus,
    pub pinned_hash: Option<String>,
    pub current_hash: Option<String>,
    /// The tool as approved.
    #[schema(value_type = Option<Value>)]
    pub pinned: Option<Value>,
    /// The tool as the last good check received it.
    #[schema(value_type = Option<Value>)]
    pub current: Option<Value>,
}

impl From<mcp_tool_pins::Model> for ToolState {
    fn from(row: mcp_tool_pins::Model) -> Self {
        let status = match (&row.pinned_hash, &row.current_hash) {
            (None, _) => ToolStatus::Added,
            (Some(_), None) => ToolStatus::Removed,
            (Some(p), Some(c)) if p == c => ToolStatus::Pinned,
            _ => ToolStatus::Changed,
        };
        Self {
            name: row.name,
            status,
            pinned_hash: row.pinned_hash,
            current_hash: row.current_hash,
            pinned: row.pinned,
            current: row.current,
        }
    }
}

/// A tool's hash: SHA-256 of its canonical JSON.
pub fn tool_hash(tool: &Value) -> String {
    state_hash(tool)
}

/// The tools a check received, by name.
fn by_name(tools: &[Value]) -> BTreeMap<String, (&Value, String)> {
    tools
        .iter()
        .filter_map(|t| {
            let name = t.get("name")?.as_str()?.to_string();
            Some((name, (t, tool_hash(t))))
        })
        .collect()
}

/// A server's pin rows, by name.
async fn rows_of(db: &impl ConnectionTrait, server: Uuid) -> Result<Vec<mcp_tool_pins::Model>> {
    Ok(mcp_tool_pins::Entity::find()
        .filter(Column::ServerId.eq(server))
        .order_by_asc(Column::Name)
        .all(db)
        .await?)
}

/// Pins `tools` as the approved set of `server`, replacing any earlier pins.
pub async fn pin_all(
    txn: &impl ConnectionTrait,
    server: Uuid,
    tools: &[Value],
    at: DateTime<Utc>,
) -> Result<()> {
    mcp_tool_pins::Entity::delete_many()
        .filter(Column::ServerId.eq(server))
        .exec(txn)
        .await?;
    let rows: Vec<_> = by_name(tools)
        .into_iter()
        .map(|(name, (tool, hash))| mcp_tool_pins::ActiveModel {
            server_id: Set(server),
            name: Set(name),
            pinned_hash: Set(Some(hash.clone())),
            pinned: Set(Some(tool.clone())),
            current_hash: Set(Some(hash)),
            current: Set(Some(tool.clone())),
            updated_at: Set(at.fixed_offset()),
            ..Default::default()
        })
        .collect();
    if !rows.is_empty() {
        mcp_tool_pins::Entity::insert_many(rows)
            .exec_without_returning(txn)
            .await?;
    }
    Ok(())
}

/// What comparing a check's tools with the pins found.
#[derive(Debug, Clone, Default)]
pub struct Comparison {
    /// Some tool differs from its approved form.
    pub drift: bool,
    /// The tools differ from what the previous good check saw (so a drift is news).
    pub changed: bool,
    /// The tools that are not as approved, by name and status.
    pub differing: Vec<(String, ToolStatus)>,
}

/// Records the tools a good check received beside the pins of `server`.
pub async fn observe(
    txn: &impl ConnectionTrait,
    server: Uuid,
    tools: &[Value],
    at: DateTime<Utc>,
) -> Result<Comparison> {
    let mut seen = by_name(tools);
    let mut changed = false;
    for row in rows_of(txn, server).await? {
        let now_listed = seen.remove(&row.name);
        let new_hash = now_listed.as_ref().map(|(_, h)| h.clone());
        if new_hash == row.current_hash {
            continue;
        }
        changed = true;
        if new_hash.is_none() && row.pinned_hash.is_none() {
            // Added after the approval, gone again: nothing to compare any more.
            mcp_tool_pins::Entity::delete_by_id(row.id)
                .exec(txn)
                .await?;
            continue;
        }
        let mut active: mcp_tool_pins::ActiveModel = row.into();
        active.current_hash = Set(new_hash);
        active.current = Set(now_listed.map(|(t, _)| t.clone()));
        active.updated_at = Set(at.fixed_offset());
        active.update(txn).await?;
    }
    let added: Vec<_> = seen
        .into_iter()
        .map(|(name, (tool, hash))| mcp_tool_pins::ActiveModel {
            server_id: Set(server),
            name: Set(name),
            pinned_hash: Set(None),
            pinned: Set(None),
            current_hash: Set(Some(hash)),
            current: Set(Some(tool.clone())),
            updated_at: Set(at.fixed_offset()),
            ..Default::default()
        })
        .collect();
    if !added.is_empty() {
        changed = true;
        mcp_tool_pins::Entity::insert_many(added)
            .exec_without_returning(txn)
            .await?;
    }
    let differing: Vec<(String, ToolStatus)> = rows_of(txn, server)
        .await?
        .into_iter()
        .map(ToolState::from)
        .filter(|t| t.status != ToolStatus::Pinned)
        .map(|t| (t.name, t.status))
        .collect();
    Ok(Comparison {
        drift: !differing.is_empty(),
        changed,
        differing,
    })
}

/// Every tool of the server `id`, approved form beside current form, by name.
pub async fn tools(
    db: &impl ConnectionTrait,
    id: &str,
) -> Result<(McpServerSummary, Vec<ToolState>)> {
    let server = find(db, id).await?;
    let tools = rows_of(db, server.id)
        .await?
        .into_iter()
        .map(ToolState::from)
        .collect();
    Ok((server.into(), tools))
}

/// Approves the server's current tools: each pinned as last received, removed ones dropped.
/// A server without drift has nothing to approve (`409`).
#[tracing::instrument(name = "gateway.mcp_servers.approve", skip_all)]
pub async fn approve(
    db: &DatabaseConnection,
    actor: &Actor,
    ip: Option<String>,
    id: &str,
) -> Result<McpServerSummary> {
    let txn = begin_write(db).await?;
    let server = find(&txn, id).await?;
    if !server.tools_drift {
        return Err(Error::conflict(format!(
            "the tools of {} are as approved; there is nothing to approve",
            server.name
        )));
    }
    let at = now();
    let mut approved = Vec::new();
    for row in rows_of(&txn, server.id).await? {
        let state = ToolState::from(row.clone());
        if state.status == ToolStatus::Pinned {
            continue;
        }
        approved.push(json!({"name": state.name, "status": state.status}));
        if row.current_hash.is_none() {
            mcp_tool_pins::Entity::delete_by_id(row.id)
                .exec(&txn)
                .await?;
            continue;
        }
        let mut active: mcp_tool_pins::ActiveModel = row.clone().into();
        active.pinned_hash = Set(row.current_hash.clone());
        active.pinned = Set(row.current.clone());
        active.updated_at = Set(at.fixed_offset());
        active.update(&txn).await?;
    }
    let mut active: entity::mcp_servers::ActiveModel = server.clone().into();
    active.tools_drift = Set(false);
    active.tools_pinned_at = Set(Some(at.fixed_offset()));
    let after = active.update(&txn).await?;
    let entry = AuditEntry::new("mcp_server.tools_approved", actor)
        .target(server.id.to_string())
        .ip(ip)
        .details(json!({"name": server.name, "tools": approved}));
    audit::commit_audited(txn, entry, &[]).await?;
    Ok(after.into())
}
