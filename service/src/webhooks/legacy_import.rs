//! Import of the legacy `data/webhooks.json` file (seed 002): validate every entry first,
//! then upsert them all in one transaction, with deterministic ids so a re-run changes
//! nothing.

use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDateTime, SubsecRound, Utc};
use entity::webhooks;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, DatabaseConnection, EntityTrait};
use serde::Serialize;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::WebhookConfig;
use super::crypto::WebhookSecret;
use super::ssrf::{self, WebhookUrl};
use super::subscriptions::{EventList, WebhookId, optional_text};
use crate::audit::{self, Actor, AuditEntry};
use crate::db::begin_write;
use crate::{Error, Result};

/// One valid entry of the file.
#[derive(Debug, Clone)]
pub struct LegacyEntry {
    pub webhook_id: String,
    pub url: WebhookUrl,
    pub events: EventList,
    /// `None` when the file has none: a new webhook gets a generated one, an existing one
    /// keeps its own.
    pub secret: Option<WebhookSecret>,
    pub team: Option<String>,
    pub created_at: Option<DateTime<Utc>>,
}

/// Why an entry is refused: its position, its id when known, and the problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryProblem {
    pub index: usize,
    pub webhook_id: Option<String>,
    pub message: String,
}

impl std::fmt::Display for EntryProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.webhook_id {
            Some(id) => write!(
                f,
                "entry {} (webhook_id {id}): {}",
                self.index, self.message
            ),
            None => write!(f, "entry {}: {}", self.index, self.message),
        }
    }
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportCounts {
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
}

/// The id of an entry without one: `wh_` + the first 16 hex digits of SHA-256(url).
pub fn derived_id(url: &str) -> String {
    let digest = hex::encode(Sha256::digest(url.as_bytes()));
    format!("wh_{}", &digest[..16])
}

/// `<file>.bak-<YYYYMMDDTHHMMSSZ>`.
pub fn backup_path(file: &Path, at: DateTime<Utc>) -> PathBuf {
    suffixed(file, &format!(".bak-{}", at.format("%Y%m%dT%H%M%SZ")))
}

/// `<file>.migrated`, or `<file>.migrated.<YYYYMMDDTHHMMSSZ>` when that exists.
pub fn migrated_path(file: &Path, at: DateTime<Utc>) -> PathBuf {
    let plain = suffixed(file, ".migrated");
    if plain.exists() {
        suffixed(file, &format!(".migrated.{}", at.format("%Y%m%dT%H%M%SZ")))
    } else {
        plain
    }
}

fn suffixed(file: &Path, suffix: &str) -> PathBuf {
    let mut name = file.as_os_str().to_os_string();
    name.push(suffix);
    PathBuf::from(name)
}

/// Parses the file — an array of objects, or an object keyed by webhook id — and checks
/// every entry. Any problem refuses the whole file.
pub fn parse(bytes: &[u8]) -> std::result::Result<Vec<LegacyEntry>, Vec<EntryProblem>> {
    let problem = |index, webhook_id, message: String| EntryProblem {
        index,
        webhook_id,
        message,
    };
    let root: Value = serde_json::from_slice(bytes)
        .map_err(|e| vec![problem(0, None, format!("the file is not JSON: {e}"))])?;
    let items: Vec<(Option<String>, Value)> = match root {
        Value::Array(items) => items.into_iter().map(|v| (None, v)).collect(),
        Value::Object(map) => map.into_iter().map(|(k, v)| (Some(k), v)).collect(),
        _ => {
            return Err(vec![problem(
                0,
                None,
                "the file must hold an array of webhooks or an object keyed by webhook id".into(),
            )]);
        }
    };
    let mut entries: Vec<LegacyEntry> = Vec::new();
    let mut problems = Vec::new();
    for (index, (key, value)) in items.into_iter().enumerate() {
        match entry(key, value) {
            Ok(e) => {
                if let Some(first) = entries.iter().position(|o| o.webhook_id == e.webhook_id) {
                    problems.push(problem(
                        index,
                        Some(e.webhook_id.clone()),
                        format!("has the same webhook_id as entry {first}"),
                    ));
                }
                entries.push(e);
            }
            Err((id, message)) => problems.push(problem(index, id, message)),
        }
    }
    if problems.is_empty() {
        Ok(entries)
    } else {
        Err(problems)
    }
}

fn text<'a>(
    obj: &'a Map<String, Value>,
    name: &str,
) -> std::result::Result<Option<&'a str>, String> {
    match obj.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(format!("{name} must be a string")),
    }
}

fn described(err: Error) -> String {
    match err {
        Error::Validation(details) => details
            .iter()
            .map(|d| format!("{} {}", d.field, d.message))
            .collect::<Vec<_>>()
            .join("; "),
        other => other.to_string(),
    }
}

type EntryResult = std::result::Result<LegacyEntry, (Option<String>, String)>;

fn entry(key: Option<String>, value: Value) -> EntryResult {
    let Value::Object(obj) = value else {
        return Err((key, "must be an object".into()));
    };
    let given_id = text(&obj, "webhook_id").map_err(|m| (key.clone(), m))?;
    let raw_url = text(&obj, "url")
        .map_err(|m| (key.clone(), m))?
        .unwrap_or_default();
    let id = match (&key, given_id) {
        (Some(k), Some(g)) if k != g => {
            return Err((
                Some(k.clone()),
                format!("its key differs from its webhook_id {g}"),
            ));
        }
        (Some(k), _) => k.clone(),
        (None, Some(g)) => g.to_string(),
        (None, None) => derived_id(raw_url),
    };
    let fail = |m: String| (Some(id.clone()), m);
    WebhookId::parse(&id, "webhook_id").map_err(|e| fail(described(e)))?;
    let url = WebhookUrl::parse(raw_url, "url").map_err(|e| fail(described(e)))?;
    let events: Vec<String> = match obj.get("events") {
        Some(Value::Array(list)) => list
            .iter()
            .map(|v| v.as_str().map(String::from).ok_or("events must be strings"))
            .collect::<std::result::Result<_, _>>()
            .map_err(|m| fail(m.into()))?,
        _ => return Err(fail("events must be an array of event names".into())),
    };
    let events = EventList::parse(&events, "events").map_err(|e| fail(described(e)))?;
    let secret = text(&obj, "secret")
        .map_err(fail)?
        .and_then(WebhookSecret::legacy);
    let team = optional_text(text(&obj, "team").map_err(fail)?, "team", 200)
        .map_err(|e| fail(described(e)))?;
    let created_at = match obj.get("created_at") {
        None | Some(Value::Null) => None,
        Some(v) => Some(timestamp(v).ok_or_else(|| {
            fail("created_at must be an RFC 3339 time, an ISO time in UTC, or Unix seconds".into())
        })?),
    };
    Ok(LegacyEntry {
        webhook_id: id,
        url,
        events,
        secret,
        team,
        created_at,
    })
}

fn timestamp(v: &Value) -> Option<DateTime<Utc>> {
    let t = match v {
        Value::Number(n) => DateTime::from_timestamp(n.as_i64()?, 0)?,
        Value::String(s) => DateTime::parse_from_rfc3339(s)
            .map(|t| t.to_utc())
            .ok()
            .or_else(|| {
                ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"]
                    .iter()
                    .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
                    .map(|n| n.and_utc())
            })?,
        _ => return None,
    };
    Some(t.trunc_subsecs(6))
}

/// Checks every entry's destination with the SSRF guard (as a save would).
pub async fn check_destinations(
    entries: &[LegacyEntry],
    allow_private: bool,
) -> std::result::Result<(), Vec<EntryProblem>> {
    let mut problems = Vec::new();
    for (index, e) in entries.iter().enumerate() {
        if let Err(err) = ssrf::check_destination(&e.url, allow_private, "url").await {
            problems.push(EntryProblem {
                index,
                webhook_id: Some(e.webhook_id.clone()),
                message: described(err),
            });
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

/// Upserts every entry in one transaction (all or nothing) and records one audit row.
pub async fn import(
    db: &DatabaseConnection,
    config: &WebhookConfig,
    entries: &[LegacyEntry],
    source: &str,
) -> Result<ImportCounts> {
    let mut counts = ImportCounts::default();
    let now = Utc::now().trunc_subsecs(6);
    let txn = begin_write(db).await?;
    for e in entries {
        let events = json!(e.events.as_slice());
        let existing = webhooks::Entity::find_by_id(e.webhook_id.as_str())
            .one(&txn)
            .await?;
        let Some(row) = existing else {
            let secret = e.secret.clone().unwrap_or_else(WebhookSecret::generate);
            webhooks::ActiveModel {
                webhook_id: Set(e.webhook_id.clone()),
                url: Set(e.url.as_str().to_string()),
                events: Set(events),
                secret: Set(config.cipher.encrypt(&e.webhook_id, &secret)?),
                team: Set(e.team.clone()),
                created_at: Set(e.created_at.unwrap_or(now).fixed_offset()),
                description: Set(None),
                is_enabled: Set(true),
                updated_at: Set(now.fixed_offset()),
                disabled_reason: Set(None),
                previous_secret: Set(None),
                secret_rotated_at: Set(None),
                failing_since: Set(None),
            }
            .insert(&txn)
            .await?;
            counts.created += 1;
            continue;
        };
        let same_secret = match &e.secret {
            None => true,
            Some(s) => config
                .cipher
                .decrypt(&row.webhook_id, &row.secret)
                .is_ok_and(|current| &current == s),
        };
        let same_created = e.created_at.is_none_or(|t| row.created_at.to_utc() == t);
        if row.url == e.url.as_str()
            && row.events == events
            && row.team == e.team
            && same_secret
            && same_created
        {
            counts.unchanged += 1;
            continue;
        }
        let mut change: webhooks::ActiveModel = row.into();
        change.url = Set(e.url.as_str().to_string());
        change.events = Set(events);
        change.team = Set(e.team.clone());
        if let Some(t) = e.created_at {
            change.created_at = Set(t.fixed_offset());
        }
        if let (false, Some(s)) = (same_secret, &e.secret) {
            change.secret = Set(config.cipher.encrypt(&e.webhook_id, s)?);
        }
        change.updated_at = Set(now.fixed_offset());
        change.update(&txn).await?;
        counts.updated += 1;
    }
    audit::commit_audited(
        txn,
        AuditEntry::new("webhook.imported", &Actor::Cli)
            .target(source)
            .details(json!(counts)),
        &[],
    )
    .await?;
    Ok(counts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_derive_from_the_url() {
        let id = derived_id("https://example.com/hook");
        assert!(id.starts_with("wh_"));
        assert_eq!(id.len(), 3 + 16);
        assert_eq!(id, derived_id("https://example.com/hook"));
    }

    #[test]
    fn both_shapes_parse() {
        let array = br#"[{"url":"https://a.example/h","events":["sync.*"],"secret":"s3cret","team":"ops","created_at":"2024-01-02T03:04:05"}]"#;
        let e = parse(array).unwrap();
        assert_eq!(e[0].webhook_id, derived_id("https://a.example/h"));
        assert_eq!(e[0].team.as_deref(), Some("ops"));
        assert!(e[0].created_at.is_some());
        let object = br#"{"wh_1":{"url":"https://a.example/h","events":["*"],"secret":"x"}}"#;
        assert_eq!(parse(object).unwrap()[0].webhook_id, "wh_1");
    }

    #[test]
    fn a_bad_entry_names_its_index_and_id() {
        let file = br#"[{"url":"https://a.example/h","events":["*"]},{"webhook_id":"wh_2","url":"https://b.example","events":["nope.done"]}]"#;
        let problems = parse(file).unwrap_err();
        assert_eq!(problems.len(), 1);
        let text = problems[0].to_string();
        assert!(text.contains("entry 1") && text.contains("wh_2"), "{text}");
    }

    #[test]
    fn names_of_backups_and_migrated_files() {
        let at = DateTime::parse_from_rfc3339("2026-11-22T19:03:00Z")
            .unwrap()
            .to_utc();
        assert_eq!(
            backup_path(Path::new("data/webhooks.json"), at),
            PathBuf::from("data/webhooks.json.bak-20261122T190300Z")
        );
    }
}
