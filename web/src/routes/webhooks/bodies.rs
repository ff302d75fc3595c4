//! The JSON shapes of the webhook API: what reads answer, the create / replace / patch
//! bodies, and the list query.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use service::webhooks::WebhookSecret;
use service::webhooks::subscriptions::WebhookSummary;
use utoipa::{IntoParams, ToSchema};

/// Longest team name.
pub const TEAM_MAX: usize = 200;
/// Longest description.
pub const DESCRIPTION_MAX: usize = 2000;

/// A webhook subscription as reads show it (the secret masked).
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookJson {
    pub webhook_id: String,
    pub url: String,
    /// Event names, `<family>.*` patterns or `*`.
    pub events: Vec<String>,
    pub team: Option<String>,
    pub description: Option<String>,
    pub is_enabled: bool,
    /// Why it was disabled (`gone (410)`, failing for 5 days, or by whom).
    pub disabled_reason: Option<String>,
    /// `whsec_`, the first four characters of the secret, and `…`.
    pub secret_hint: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<WebhookSummary> for WebhookJson {
    fn from(w: WebhookSummary) -> Self {
        Self {
            webhook_id: w.webhook_id,
            url: w.url,
            events: w.events,
            team: w.team,
            description: w.description,
            is_enabled: w.is_enabled,
            disabled_reason: w.disabled_reason,
            secret_hint: w.secret_hint,
            created_at: w.created_at,
            updated_at: w.updated_at,
        }
    }
}

/// A webhook subscription with its full secret: only in the create and rotate answers. No
/// `Debug`: nothing may print the secret.
#[derive(Serialize, ToSchema)]
pub struct WebhookWithSecret {
    pub webhook_id: String,
    pub url: String,
    pub events: Vec<String>,
    pub team: Option<String>,
    pub description: Option<String>,
    pub is_enabled: bool,
    pub disabled_reason: Option<String>,
    /// The signing secret (`whsec_…`), shown only in this answer.
    pub secret: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl WebhookWithSecret {
    /// The answer for `w` carrying `secret`.
    pub fn new(w: WebhookSummary, secret: &WebhookSecret) -> Self {
        Self {
            webhook_id: w.webhook_id,
            url: w.url,
            events: w.events,
            team: w.team,
            description: w.description,
            is_enabled: w.is_enabled,
            disabled_reason: w.disabled_reason,
            secret: secret.expose().to_string(),
            created_at: w.created_at,
            updated_at: w.updated_at,
        }
    }
}

/// A page of webhooks.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookPage {
    pub items: Vec<WebhookJson>,
    pub next_cursor: Option<String>,
}

/// Query of the webhook list.
#[derive(Debug, Deserialize, IntoParams)]
pub struct WebhookQuery {
    /// Only this team's webhooks.
    pub team: Option<String>,
    /// `true` or `false`.
    pub is_enabled: Option<bool>,
    /// 1–500, default 50.
    pub limit: Option<u64>,
    pub cursor: Option<String>,
}

/// Body of `POST /api/webhooks`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhook {
    /// Omit to have one generated (`wh_…`).
    #[schema(pattern = "^[A-Za-z0-9_.:-]{1,64}$")]
    pub webhook_id: Option<String>,
    /// `http` or `https`, no credentials; private destinations are refused unless
    /// `METADECK_WEBHOOK_ALLOW_PRIVATE_NETWORKS=true`.
    pub url: String,
    pub events: Vec<String>,
    /// Omit to have one generated; else `whsec_` + base64 of 24–64 bytes.
    pub secret: Option<String>,
    pub team: Option<String>,
    pub description: Option<String>,
    /// Default true.
    pub is_enabled: Option<bool>,
}

/// Body of `PUT /api/webhooks/{webhook_id}`: omitted optional fields are cleared.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplaceWebhook {
    pub url: String,
    pub events: Vec<String>,
    pub team: Option<String>,
    pub description: Option<String>,
    /// Default true.
    pub is_enabled: Option<bool>,
}

/// Body of `PATCH /api/webhooks/{webhook_id}`: only the fields given change (`null` clears
/// `team` and `description`).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchWebhook {
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub team: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    pub is_enabled: Option<bool>,
}

/// Tells a field given as `null` (`Some(None)`) from a field left out (`None`).
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

/// Answer of `POST /api/webhooks/{webhook_id}/test`.
#[derive(Debug, Serialize, ToSchema)]
pub struct TestQueued {
    /// The `webhook-id` the test message carries.
    pub message_id: String,
}
