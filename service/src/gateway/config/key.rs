//! A config key, checked once where it enters.

use std::fmt;

use crate::{Error, Result};

/// Longest key, in characters.
pub const MAX_KEY_LEN: usize = 128;

/// A `gateway_config` key: 1 to [`MAX_KEY_LEN`] ASCII letters, digits, `.`, `_` and `-`,
/// starting with a letter or a digit; case matters.
///
/// These characters stand for themselves in a URL path, so `/gateway/config/{key}` and
/// `/api/gateway/config/{key}` need no encoding, and a key can never be `.`, `..` or hold a
/// `/`. Keys written as `area.setting` (`feature.search_v2`) read well in lists sorted by key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConfigKey(String);

impl ConfigKey {
    /// The key `raw` names, or a validation error for `field`.
    pub fn parse(raw: &str, field: &str) -> Result<Self> {
        let refuse = |message: &str| Err(Error::invalid(field, message));
        if raw.is_empty() {
            return refuse("is required");
        }
        if raw.len() > MAX_KEY_LEN {
            return refuse("must be at most 128 characters");
        }
        if !raw.as_bytes()[0].is_ascii_alphanumeric() {
            return refuse("must start with a letter or a digit");
        }
        if !raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        {
            return refuse("may hold only letters, digits, '.', '_' and '-'");
        }
        Ok(Self(raw.to_owned()))
    }

    /// The key as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ConfigKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_of_the_allowed_characters_parse() {
        for ok in ["a", "feature.search_v2", "A-1", "9lives", &"k".repeat(128)] {
            assert_eq!(ConfigKey::parse(ok, "key").unwrap().as_str(), ok);
        }
    }

    #[test]
    fn other_keys_are_refused() {
        for bad in [
            "",
            ".",
            "..",
            "-a",
            "_a",
            "a/b",
            "a b",
            "<b>",
            "a'--",
            "é",
            &"k".repeat(129),
        ] {
            assert!(ConfigKey::parse(bad, "key").is_err(), "{bad:?}");
        }
    }
}
