//! The registry's validated inputs: raw fields in, checked types out, each problem named by
//! field (and by index for batch items) so one answer lists every mistake of a request.

use chrono::{DateTime, Duration, Utc};

use crate::FieldError;

/// Longest id, name or free-text field the registry stores.
pub const MAX_TEXT: usize = 255;

/// Text is stored verbatim, but PostgreSQL cannot store a NUL character, so none is accepted.
pub const NUL_MESSAGE: &str = "must not contain NUL characters";

/// How far in the future `last_seen` may lie (clock skew between reporters).
const FUTURE_SLACK_MINUTES: i64 = 5;

/// A device id: 1–255 characters of `[A-Za-z0-9._:@-]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DeviceId(String);

impl DeviceId {
    /// Checks a device id.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let ok = |c: char| c.is_ascii_alphanumeric() || "._:@-".contains(c);
        if raw.is_empty() || raw.len() > MAX_TEXT {
            return Err("must be 1 to 255 characters long".into());
        }
        if !raw.chars().all(ok) {
            return Err("may contain only letters, digits and . _ : @ -".into());
        }
        Ok(Self(raw.to_string()))
    }

    /// The id.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The id, owned.
    pub fn into_string(self) -> String {
        self.0
    }
}

/// An entity id `<domain>.<object_id>`, each part `[a-z0-9_]+`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EntityId(String);

impl EntityId {
    /// Checks an entity id.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let part_ok = |p: &str| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        };
        if raw.len() > MAX_TEXT {
            return Err("must be at most 255 characters long".into());
        }
        match raw.split_once('.') {
            Some((domain, object)) if part_ok(domain) && part_ok(object) => {
                Ok(Self(raw.to_string()))
            }
            _ => Err("must be <domain>.<object_id>, each part of a-z 0-9 _".into()),
        }
    }

    /// The part before the dot.
    pub fn domain(&self) -> &str {
        self.0.split_once('.').map_or("", |(d, _)| d)
    }

    /// The id.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The id, owned.
    pub fn into_string(self) -> String {
        self.0
    }
}

/// A device as a caller sends it, before checking (JSON body, form, import file).
#[derive(Debug, Clone, Default)]
pub struct RawDevice {
    pub device_id: Option<String>,
    pub name: Option<String>,
    pub manufacturer: Option<String>,
    pub model: Option<String>,
    pub area_id: Option<String>,
    pub integration: Option<String>,
    pub last_seen: Option<String>,
}

/// A checked device, ready to store. Omitted optional fields are `None` (PUT replaces).
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceInput {
    pub device_id: DeviceId,
    pub name: String,
    pub manufacturer: Option<String>,
    pub model: Option<String>,
    pub area_id: Option<String>,
    pub integration: Option<String>,
    pub last_seen: Option<DateTime<Utc>>,
}

/// An entity as a caller sends it, before checking.
#[derive(Debug, Clone, Default)]
pub struct RawEntity {
    pub entity_id: Option<String>,
    pub device_id: Option<String>,
    pub domain: Option<String>,
    pub platform: Option<String>,
    pub disabled: Option<bool>,
}

/// A checked entity. Whether its device exists is checked when it is written.
#[derive(Debug, Clone, PartialEq)]
pub struct EntityInput {
    pub entity_id: EntityId,
    pub device_id: Option<DeviceId>,
    pub domain: String,
    pub platform: Option<String>,
    pub disabled: bool,
}

/// Collects the problems of one item, tagging them with its index in a batch.
struct Problems<'a> {
    index: Option<usize>,
    out: &'a mut Vec<FieldError>,
}

impl Problems<'_> {
    fn add(&mut self, field: &str, message: impl Into<String>) {
        self.out.push(match self.index {
            Some(i) => FieldError::at(i, field, message),
            None => FieldError::new(field, message),
        });
    }

    /// An optional free-text field: at most 255 characters, kept verbatim.
    fn text(&mut self, field: &str, value: Option<String>) -> Option<String> {
        match value {
            Some(v) if v.chars().count() > MAX_TEXT => {
                self.add(field, "must be at most 255 characters long");
                None
            }
            Some(v) if v.contains('\0') => {
                self.add(field, NUL_MESSAGE);
                None
            }
            v => v,
        }
    }
}

/// Parses an RFC 3339 time not more than five minutes ahead of `now`.
pub fn parse_last_seen(raw: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    let at = DateTime::parse_from_rfc3339(raw)
        .map_err(|_| "must be an RFC 3339 time such as 2026-11-22T19:03:00Z".to_string())?
        .to_utc();
    if at > now + Duration::minutes(FUTURE_SLACK_MINUTES) {
        return Err("must not be more than 5 minutes in the future".into());
    }
    Ok(at)
}

impl RawDevice {
    /// Checks every field, appending each problem to `errors`; `index` tags batch items.
    pub fn check(
        self,
        index: Option<usize>,
        now: DateTime<Utc>,
        errors: &mut Vec<FieldError>,
    ) -> Option<DeviceInput> {
        let before = errors.len();
        let mut p = Problems { index, out: errors };
        let device_id = match self.device_id.as_deref() {
            None => {
                p.add("device_id", "is required");
                None
            }
            Some(raw) => DeviceId::parse(raw).map_err(|m| p.add("device_id", m)).ok(),
        };
        let name = match self.name {
            None => {
                p.add("name", "is required");
                None
            }
            Some(n) if n.trim().is_empty() || n.chars().count() > MAX_TEXT => {
                p.add("name", "must be 1 to 255 characters long");
                None
            }
            Some(n) if n.contains('\0') => {
                p.add("name", NUL_MESSAGE);
                None
            }
            Some(n) => Some(n),
        };
        let manufacturer = p.text("manufacturer", self.manufacturer);
        let model = p.text("model", self.model);
        let area_id = p.text("area_id", self.area_id);
        let integration = p.text("integration", self.integration);
        let last_seen = match self.last_seen.as_deref() {
            None => None,
            Some(raw) => parse_last_seen(raw, now)
                .map_err(|m| p.add("last_seen", m))
                .ok(),
        };
        if errors.len() > before {
            return None;
        }
        Some(DeviceInput {
            device_id: device_id?,
            name: name?,
            manufacturer,
            model,
            area_id,
            integration,
            last_seen,
        })
    }

    /// Checks one device (a PUT body or a form), every problem in one error.
    pub fn parse(self) -> crate::Result<DeviceInput> {
        let mut errors = Vec::new();
        self.check(None, Utc::now(), &mut errors)
            .ok_or(crate::Error::Validation(errors))
    }
}

impl RawEntity {
    /// Checks every field, appending each problem to `errors`; `index` tags batch items.
    pub fn check(self, index: Option<usize>, errors: &mut Vec<FieldError>) -> Option<EntityInput> {
        let before = errors.len();
        let mut p = Problems { index, out: errors };
        let entity_id = match self.entity_id.as_deref() {
            None => {
                p.add("entity_id", "is required");
                None
            }
            Some(raw) => EntityId::parse(raw).map_err(|m| p.add("entity_id", m)).ok(),
        };
        let device_id = match self.device_id.as_deref() {
            None => None,
            Some(raw) => DeviceId::parse(raw).map_err(|m| p.add("device_id", m)).ok(),
        };
        let domain = match (&entity_id, self.domain) {
            (Some(id), Some(d)) if d != id.domain() => {
                p.add("domain", "must equal the entity id's part before the dot");
                None
            }
            (Some(id), _) => Some(id.domain().to_string()),
            (None, _) => None,
        };
        let platform = p.text("platform", self.platform);
        if errors.len() > before {
            return None;
        }
        Some(EntityInput {
            entity_id: entity_id?,
            device_id,
            domain: domain?,
            platform,
            disabled: self.disabled.unwrap_or(false),
        })
    }

    /// Checks one entity, every problem in one error.
    pub fn parse(self) -> crate::Result<EntityInput> {
        let mut errors = Vec::new();
        self.check(None, &mut errors)
            .ok_or(crate::Error::Validation(errors))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_ids_allow_only_their_alphabet() {
        assert!(DeviceId::parse("hue:00-17.88@bridge_1").is_ok());
        assert!(DeviceId::parse("").is_err());
        assert!(DeviceId::parse("a b").is_err());
        assert!(DeviceId::parse("<script>").is_err());
        assert!(DeviceId::parse(&"a".repeat(256)).is_err());
        assert!(DeviceId::parse(&"a".repeat(255)).is_ok());
    }

    #[test]
    fn entity_ids_are_domain_dot_object() {
        assert_eq!(
            EntityId::parse("light.kitchen_1").unwrap().domain(),
            "light"
        );
        for bad in ["light", ".x", "light.", "Light.x", "light.x.y", "light.a-b"] {
            assert!(EntityId::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn an_entity_takes_its_domain_from_its_id_and_refuses_another() {
        let e = RawEntity {
            entity_id: Some("sensor.t".into()),
            ..Default::default()
        };
        assert_eq!(e.parse().unwrap().domain, "sensor");
        let e = RawEntity {
            entity_id: Some("sensor.t".into()),
            domain: Some("light".into()),
            ..Default::default()
        };
        assert!(e.parse().is_err());
    }

    #[test]
    fn every_bad_field_of_a_batch_item_is_named_with_its_index() {
        let mut errors = Vec::new();
        let d = RawDevice {
            device_id: Some("bad id".into()),
            last_seen: Some("yesterday".into()),
            ..Default::default()
        };
        assert!(d.check(Some(7), Utc::now(), &mut errors).is_none());
        let fields: Vec<_> = errors.iter().map(|e| (e.index, e.field.as_str())).collect();
        assert_eq!(
            fields,
            vec![
                (Some(7), "device_id"),
                (Some(7), "name"),
                (Some(7), "last_seen")
            ]
        );
    }

    #[test]
    fn last_seen_may_not_lie_far_in_the_future() {
        let now = Utc::now();
        let soon = (now + Duration::minutes(4)).to_rfc3339();
        let later = (now + Duration::minutes(6)).to_rfc3339();
        assert!(parse_last_seen(&soon, now).is_ok());
        assert!(parse_last_seen(&later, now).is_err());
        let offset = parse_last_seen("2026-01-01T10:00:00+02:00", now).unwrap();
        assert_eq!(offset.to_rfc3339(), "2026-01-01T08:00:00+00:00");
    }
}
