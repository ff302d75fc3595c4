//! Validated inputs shared by the orchestration store: the text keys that name runs, plan
//! units, resources and facts.

use crate::{Error, Result};

/// Longest key: run and unit ids, resource types and names, fact targets, namespaces, keys.
pub const KEY_MAX: usize = 255;

/// A client-chosen key: 1 to 255 characters, none of them a control character. Anything
/// else is kept verbatim (it is data, escaped wherever it is shown).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OpsKey(String);

impl OpsKey {
    /// Checks `raw` as the value of `field`.
    pub fn parse(raw: &str, field: &str) -> Result<Self> {
        if raw.is_empty() || raw.chars().count() > KEY_MAX {
            return Err(Error::invalid(
                field,
                format!("must be 1 to {KEY_MAX} characters"),
            ));
        }
        if raw.chars().any(char::is_control) {
            return Err(Error::invalid(field, "must not contain control characters"));
        }
        Ok(Self(raw.to_string()))
    }

    /// The key's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The key's text, owned.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl std::fmt::Display for OpsKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_keep_any_printable_text_and_refuse_control_characters() {
        assert_eq!(
            OpsKey::parse("<script>'; DROP TABLE runs;--", "id")
                .unwrap()
                .as_str(),
            "<script>'; DROP TABLE runs;--"
        );
        assert!(OpsKey::parse("", "id").is_err());
        assert!(OpsKey::parse("a\nb", "id").is_err());
        assert!(OpsKey::parse(&"x".repeat(256), "id").is_err());
    }
}
