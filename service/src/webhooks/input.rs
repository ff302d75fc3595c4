//! The validated inputs of a subscription: its id, its event list, its free-text fields, and
//! the whole of a create / replace or a partial change.

use uuid::Uuid;

use super::catalog::EventPattern;
use super::ssrf::WebhookUrl;
use crate::{Error, FieldError, Result};

/// Most entries a subscription may list.
const MAX_EVENTS: usize = 64;

/// A webhook id: 1–64 characters of `A-Z a-z 0-9 _ - . :`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookId(String);

impl WebhookId {
    /// Checks a caller-chosen id.
    pub fn parse(raw: &str, field: &str) -> Result<Self> {
        let ok = |c: char| c.is_ascii_alphanumeric() || "_-.:".contains(c);
        if raw.is_empty() || raw.len() > 64 || !raw.chars().all(ok) {
            return Err(Error::invalid(
                field,
                "must be 1 to 64 characters of letters, digits, _ - . and :",
            ));
        }
        Ok(Self(raw.to_string()))
    }

    /// A fresh id (`wh_` + a time-ordered UUID).
    pub fn generate() -> Self {
        Self(format!("wh_{}", Uuid::now_v7().simple()))
    }

    /// The id's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The events a subscription lists: names or patterns of the catalog, without repeats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventList(Vec<String>);

impl EventList {
    /// Checks every entry against the catalog.
    pub fn parse(entries: &[String], field: &str) -> Result<Self> {
        if entries.is_empty() {
            return Err(Error::invalid(
                field,
                "must list at least one event or pattern",
            ));
        }
        if entries.len() > MAX_EVENTS {
            return Err(Error::invalid(
                field,
                format!("may list at most {MAX_EVENTS} entries"),
            ));
        }
        let mut list: Vec<String> = Vec::new();
        let mut errors = Vec::new();
        for entry in entries {
            let entry = entry.trim();
            if EventPattern::parse(entry).is_none() {
                errors.push(FieldError::new(
                    field,
                    format!("{entry:?} is not an event of the catalog, a <family>.* pattern or *"),
                ));
            } else if !list.iter().any(|e| e == entry) {
                list.push(entry.to_string());
            }
        }
        if errors.is_empty() {
            Ok(Self(list))
        } else {
            Err(Error::Validation(errors))
        }
    }

    /// The entries.
    pub fn as_slice(&self) -> &[String] {
        &self.0
    }
}

/// Checks an optional free-text field (trimmed; empty means none).
pub fn optional_text(raw: Option<&str>, field: &str, max: usize) -> Result<Option<String>> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) if s.chars().count() > max => Err(Error::invalid(
            field,
            format!("must be at most {max} characters"),
        )),
        Some(s) => Ok(Some(s.to_string())),
    }
}

/// A subscription's validated fields, as create and replace take them.
#[derive(Debug, Clone)]
pub struct WebhookInput {
    pub url: WebhookUrl,
    pub events: EventList,
    pub team: Option<String>,
    pub description: Option<String>,
    pub is_enabled: bool,
}

/// A partial change: `None` leaves a field as it is (`Some(None)` clears an optional one).
#[derive(Debug, Clone, Default)]
pub struct WebhookPatch {
    pub url: Option<WebhookUrl>,
    pub events: Option<EventList>,
    pub team: Option<Option<String>>,
    pub description: Option<Option<String>>,
    pub is_enabled: Option<bool>,
}

impl From<WebhookInput> for WebhookPatch {
    fn from(input: WebhookInput) -> Self {
        Self {
            url: Some(input.url),
            events: Some(input.events),
            team: Some(input.team),
            description: Some(input.description),
            is_enabled: Some(input.is_enabled),
        }
    }
}
