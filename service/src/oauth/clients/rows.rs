//! A client's settings as stored: the configuration row, the summary the logs keep, and a
//! new public identifier.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use entity::oauth_client_configs as configs;
use rand::RngExt;
use sea_orm::ActiveValue::Set;
use serde_json::{Value, json};
use uuid::Uuid;

use super::ClientSpec;

/// A new public client identifier.
pub(super) fn new_identifier() -> String {
    let bytes: [u8; 16] = rand::rng().random();
    format!("mdc_{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// The configuration row of `spec`; `created` is set for a new row, `None` to update one.
pub(super) fn config_row(
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

/// The settings as the logs record them (never the secret).
pub(super) fn settings_summary(spec: &ClientSpec) -> Value {
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
