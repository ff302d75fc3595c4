//! Gateway settings (spec 08): MCP servers, their checks and their tool pins; upstream
//! identity providers ([`providers`]) and the AD group mappings single sign-on resolves
//! groups through ([`ad_mappings`]), and single sign-on through those providers ([`sso`]).
//!
//! A server's health comes from one check code path ([`check::check`]) used by the console's
//! button, the API and the background [`checker`]. The first good check pins every tool's
//! canonical hash ([`pins`]); a later check that finds a tool added, removed or changed puts
//! the server in drift and announces `gateway.mcp_drift`, until an admin approves the new set.

pub mod ad_mapping_admin;
pub mod ad_mappings;
pub mod check;
pub mod checker;
pub mod client;
pub mod config;
pub mod fetch;
pub mod group_match;
pub mod import;
pub mod input;
pub mod pins;
pub mod provider_admin;
pub mod provider_input;
pub mod provider_test;
pub mod providers;
pub mod servers;
pub mod sso;
pub mod wire;

use std::time::Duration;

pub use client::McpClient;
pub use input::{Address, HeaderEntry, McpServerInput, Transport};
pub use pins::{ToolState, ToolStatus};
pub use servers::{McpServerFilter, McpServerSummary, ServerInfo};

use crate::webhooks::SecretCipher;

/// HKDF label of the key that seals MCP server header values: a key for nothing else.
pub const HEADER_KEY_LABEL: &[u8] = b"metadeck mcp server headers v1";

/// HKDF label of the key that seals upstream identity providers' client secrets.
pub const PROVIDER_SECRET_LABEL: &[u8] = b"metadeck upstream provider secrets v1";

/// The context a provider's client secret is sealed for: its row and field, so a sealed
/// secret copied onto another provider does not open.
pub fn provider_secret_context(provider_id: uuid::Uuid) -> String {
    format!("oauth_providers:{provider_id}:client_secret")
}

/// The default wait between background checks (`METADECK_MCP_CHECK_SECONDS`).
pub const DEFAULT_CHECK_EVERY: Duration = Duration::from_secs(300);

/// What the gateway area needs from the configuration.
#[derive(Clone)]
pub struct GatewayConfig {
    /// Seals header values at rest (key derived from `METADECK_SECRET_KEY`).
    pub cipher: SecretCipher,
    /// Seals upstream providers' client secrets at rest, under its own key
    /// ([`PROVIDER_SECRET_LABEL`], context [`provider_secret_context`]).
    pub provider_cipher: SecretCipher,
    /// The one HTTP client of checks; it reaches private destinations only when the
    /// webhooks' `METADECK_WEBHOOK_ALLOW_PRIVATE_NETWORKS` allows it.
    pub client: McpClient,
    /// `METADECK_WEBHOOK_ALLOW_PRIVATE_NETWORKS`, applied to server URLs at save.
    pub allow_private_networks: bool,
    /// How often the background checker visits every enabled server.
    pub check_every: Duration,
}

impl std::fmt::Debug for GatewayConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GatewayConfig")
            .field("allow_private_networks", &self.allow_private_networks)
            .field("check_every", &self.check_every)
            .finish_non_exhaustive()
    }
}

impl GatewayConfig {
    /// The configuration for a server whose secret key is `secret_key`.
    pub fn new(
        secret_key: &[u8],
        allow_private_networks: bool,
        check_every: Duration,
    ) -> crate::Result<Self> {
        Ok(Self {
            cipher: SecretCipher::labelled(secret_key, HEADER_KEY_LABEL),
            provider_cipher: SecretCipher::labelled(secret_key, PROVIDER_SECRET_LABEL),
            client: McpClient::new(allow_private_networks)?,
            allow_private_networks,
            check_every,
        })
    }
}
