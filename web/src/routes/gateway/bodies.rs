//! The JSON shapes of the MCP server API beyond the service's own views: the create /
//! replace body, the list query and page, and the tools answer.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use service::gateway::input::{self, Address, McpServerInput, Transport};
use service::gateway::{McpServerSummary, ToolState};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::routes::form_input::merge_errors;

/// Body of `POST /api/gateway/mcp-servers` and `PUT /api/gateway/mcp-servers/{id}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct McpServerBody {
    /// 1–100 characters, unique.
    pub name: String,
    /// `http` or `https` (private destinations refused unless
    /// `METADECK_WEBHOOK_ALLOW_PRIVATE_NETWORKS=true`); for `stdio`, the command line.
    pub url: String,
    /// `streamable-http` (default), `sse` or `stdio`.
    pub transport: Option<String>,
    pub description: Option<String>,
    /// Default true.
    pub enabled: Option<bool>,
    /// Header name → value, sent with every check; stored encrypted and never returned.
    /// Left out of a `PUT`, the stored headers are kept; `{}` removes them.
    pub headers: Option<BTreeMap<String, String>>,
}

impl McpServerBody {
    /// The server the body describes, every bad field reported at once.
    pub fn parse(self) -> Result<McpServerInput, service::Error> {
        let name = input::server_name(&self.name, "name");
        let transport = Transport::parse(
            self.transport.as_deref().unwrap_or("streamable-http"),
            "transport",
        );
        let address = match &transport {
            Ok(t) => Address::parse(&self.url, *t, "url"),
            Err(_) => Ok(Address::Command(String::new())),
        };
        let description = input::description(self.description.as_deref(), "description");
        let headers = self
            .headers
            .map(|h| {
                let pairs: Vec<(String, Option<String>)> =
                    h.into_iter().map(|(k, v)| (k, Some(v))).collect();
                input::headers(&pairs, "headers")
            })
            .transpose();
        match (name, transport, address, description, headers) {
            (Ok(name), Ok(transport), Ok(address), Ok(description), Ok(headers)) => {
                Ok(McpServerInput {
                    name,
                    transport,
                    address,
                    description,
                    enabled: self.enabled.unwrap_or(true),
                    headers,
                })
            }
            (n, t, a, d, h) => Err(
                merge_errors(vec![n.err(), t.err(), a.err(), d.err(), h.err()])
                    .unwrap_or_else(|| service::Error::internal("no error")),
            ),
        }
    }
}

/// Query of the server list.
#[derive(Debug, Deserialize, IntoParams)]
pub struct McpServerQuery {
    /// `reachable`, `unreachable`, `error`, `not_checkable` or `unchecked`.
    pub status: Option<String>,
    /// `true`: only servers whose tools drifted; `false`: only those without drift.
    pub drift: Option<bool>,
    /// `name` (default) or `-name`.
    pub sort: Option<String>,
    /// 1–500, default 50.
    pub limit: Option<u64>,
    pub cursor: Option<String>,
}

/// A page of servers.
#[derive(Debug, Serialize, ToSchema)]
pub struct McpServerPage {
    pub items: Vec<McpServerSummary>,
    pub next_cursor: Option<String>,
}

/// Answer of `GET /api/gateway/mcp-servers/{id}/tools`.
#[derive(Debug, Serialize, ToSchema)]
pub struct McpToolsJson {
    pub server_id: Uuid,
    /// True when some tool is not as approved.
    pub tools_drift: bool,
    /// Each tool by name: `pinned`, `changed`, `added` or `removed`, with both hashes.
    pub tools: Vec<ToolState>,
}
