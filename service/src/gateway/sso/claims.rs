//! Reading a userinfo answer: the groups at the provider's `groups_claim`, and the username a
//! new user gets.

use serde_json::{Map, Value};

/// The groups at `path`, a claim name or a dotted path into nested objects
/// (`realm_access.roles`). A list of strings gives its strings; one string gives itself;
/// anything else (or nothing there) gives no groups.
pub fn groups_at(userinfo: &Map<String, Value>, path: &str) -> Vec<String> {
    let mut segments = path.split('.');
    let Some(first) = segments.next() else {
        return Vec::new();
    };
    let mut at = userinfo.get(first);
    for segment in segments {
        at = at.and_then(|v| v.get(segment));
    }
    match at {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        Some(Value::String(one)) => vec![one.clone()],
        _ => Vec::new(),
    }
}

/// The username a new user of this identity is given: the `preferred_username` claim, else
/// `email`, else `sub`; lowercased, with any character a username may not hold replaced by
/// `_`, and cut to 64 characters.
pub fn base_username(userinfo: &Map<String, Value>, sub: &str) -> String {
    let claim = |name: &str| {
        userinfo
            .get(name)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
    };
    let raw = claim("preferred_username")
        .or_else(|| claim("email"))
        .unwrap_or(sub);
    sanitize(raw, 64)
}

/// `raw` as a username of at most `max` characters.
pub fn sanitize(raw: &str, max: usize) -> String {
    let name: String = raw
        .to_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_lowercase() || c.is_ascii_digit() || "._@-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .take(max)
        .collect();
    if name.is_empty() { "_".into() } else { name }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn info(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn groups_are_read_at_a_dotted_path() {
        let u = info(json!({"realm_access": {"roles": ["ops", 7, "dev"]}, "groups": "solo"}));
        assert_eq!(groups_at(&u, "realm_access.roles"), ["ops", "dev"]);
        assert_eq!(groups_at(&u, "groups"), ["solo"]);
        assert!(groups_at(&u, "missing.path").is_empty());
    }

    #[test]
    fn the_username_prefers_preferred_username_then_email_then_sub() {
        let sub = "Auth0|123";
        assert_eq!(
            base_username(
                &info(json!({"preferred_username": "Dora", "email": "d@x.io"})),
                sub
            ),
            "dora"
        );
        assert_eq!(
            base_username(&info(json!({"email": "D@x.io"})), sub),
            "d@x.io"
        );
        assert_eq!(base_username(&info(json!({})), sub), "auth0_123");
    }
}
