//! The one check of an MCP server, whoever asks for it (the console's button, the API, the
//! background checker): reach it, then record what was found.
//!
//! Health is honest both ways: a reachable server is shown unreachable only after two failed
//! checks in a row (one lost packet does not page anyone), and comes back on the first good
//! one. Every failure keeps its reason in `last_error`, even the first that does not yet
//! change the status.

use entity::mcp_servers;
use sea_orm::{ActiveModelTrait, DatabaseConnection, Set};
use serde_json::json;

use super::GatewayConfig;
use super::client::Probe;
use super::input::Transport;
use super::pins;
use super::servers::{McpServerSummary, find, now, open_headers};
use super::wire::Failure;
use crate::Result;
use crate::audit::{self, Actor, AuditEntry};
use crate::db::begin_write;
use crate::webhooks::{Event, EventType, dispatcher};

/// Failed checks in a row before a reachable server is shown unreachable.
pub const FAILURES_TO_DOWN: i64 = 2;

/// What one check found.
#[derive(Debug, Clone)]
pub enum Outcome {
    Reachable(Probe),
    Failed(Failure),
    /// The transport cannot be checked over the network; the reason says why.
    NotCheckable(String),
}

/// Checks the server `id` and records the outcome; answers the server as it now reads.
#[tracing::instrument(name = "gateway.mcp_servers.check", skip_all, fields(server = id))]
pub async fn check(
    db: &DatabaseConnection,
    config: &GatewayConfig,
    id: &str,
) -> Result<McpServerSummary> {
    let row = find(db, id).await?;
    let outcome = match Transport::parse(&row.transport, "transport") {
        Ok(Transport::Stdio) => Outcome::NotCheckable(
            "a stdio server runs as a local process; only HTTP servers can be checked".into(),
        ),
        Ok(Transport::Sse) => Outcome::NotCheckable(
            "checks speak streamable HTTP; the older HTTP+SSE transport is not checked".into(),
        ),
        Ok(Transport::StreamableHttp) => match open_headers(config, &row) {
            Ok(headers) => match config.client.probe(&row.url, &headers).await {
                Ok(probe) => Outcome::Reachable(probe),
                Err(failure) => Outcome::Failed(failure),
            },
            Err(_) => Outcome::Failed(Failure::error(
                "the stored header values cannot be decrypted (was METADECK_SECRET_KEY changed?)",
            )),
        },
        Err(_) => Outcome::NotCheckable(format!("the transport {:?} is unknown", row.transport)),
    };
    record(db, id, outcome).await
}

/// Stores `outcome` on the server `id`: status with the two-failure rule, check details, and
/// for a good check the tools against the pins (a new drift is audited and announced).
pub async fn record(
    db: &DatabaseConnection,
    id: &str,
    outcome: Outcome,
) -> Result<McpServerSummary> {
    let at = now();
    let txn = begin_write(db).await?;
    let before = find(&txn, id).await?;
    let mut row: mcp_servers::ActiveModel = before.clone().into();
    row.last_checked_at = Set(Some(at.fixed_offset()));
    let mut drift = None;
    match &outcome {
        Outcome::Reachable(probe) => {
            row.last_status = Set(Some("reachable".into()));
            row.last_error = Set(None);
            row.failed_checks = Set(0);
            row.last_latency_ms = Set(Some(
                i64::try_from(probe.latency.as_millis()).unwrap_or(i64::MAX),
            ));
            row.protocol_version = Set(Some(probe.protocol_version.clone()));
            row.server_info = Set(Some(json!({
                "name": probe.server_name,
                "version": probe.server_version,
            })));
            row.tool_count = Set(Some(i64::try_from(probe.tools.len()).unwrap_or(i64::MAX)));
            if before.tools_pinned_at.is_none() {
                pins::pin_all(&txn, before.id, &probe.tools, at).await?;
                row.tools_pinned_at = Set(Some(at.fixed_offset()));
                row.tools_drift = Set(false);
            } else {
                let comparison = pins::observe(&txn, before.id, &probe.tools, at).await?;
                row.tools_drift = Set(comparison.drift);
                drift = Some(comparison);
            }
        }
        Outcome::Failed(failure) => {
            let failures = before.failed_checks.saturating_add(1);
            row.failed_checks = Set(failures);
            row.last_error = Set(Some(failure.reason.clone()));
            row.last_latency_ms = Set(None);
            let holds =
                before.last_status.as_deref() == Some("reachable") && failures < FAILURES_TO_DOWN;
            if !holds {
                row.last_status = Set(Some(failure.kind.as_str().into()));
            }
        }
        Outcome::NotCheckable(reason) => {
            row.last_status = Set(Some("not_checkable".into()));
            row.last_error = Set(Some(reason.clone()));
            row.failed_checks = Set(0);
            row.last_latency_ms = Set(None);
        }
    }
    let after: McpServerSummary = row.update(&txn).await?.into();
    match drift {
        Some(found) if found.drift && found.changed => {
            let entry = AuditEntry::new("mcp_server.drift_detected", &Actor::System)
                .target(after.id.to_string())
                .details(json!({
                    "name": after.name,
                    "tools": found.differing.iter()
                        .map(|(name, status)| json!({"name": name, "status": status}))
                        .collect::<Vec<_>>(),
                }));
            let data = serde_json::to_value(&after).map_err(crate::Error::internal)?;
            let event = Event::new(EventType::GatewayMcpDrift, data);
            audit::commit_audited(txn, entry, &[event]).await?;
            dispatcher::wake();
        }
        _ => txn.commit().await?,
    }
    Ok(after)
}
