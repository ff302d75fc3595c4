//! How a group received from an identity provider is compared with a mapping's `ad_group`.
//!
//! A group value is either a plain name (`Ops`) or an LDAP distinguished name
//! (`CN=Ops,OU=Groups,DC=example,DC=com`). The rules, chosen so that nothing matches by
//! accident:
//!
//! - a mapping whose `ad_group` is a **name** matches a received value equal to it, or a
//!   received **DN** whose first `CN=` component's value equals it;
//! - a mapping whose `ad_group` is a **DN** matches only that DN;
//! - values are compared **exactly** (case-sensitive: `ops` is not `Ops`), because a provider
//!   that returns two spellings is returning two groups as far as Metadeck can tell;
//! - **attribute types** inside a DN (`CN`, `cn`, `Ou`) are case-insensitive, as LDAP
//!   defines them, and spaces around `=` and `,` are not significant; escaped characters
//!   (`\,`) are compared in their escaped form, so `CN=a\,b` stays one component.

/// One `type=value` component of a DN, the type upper-cased.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Rdn {
    kind: String,
    value: String,
}

/// A parsed distinguished name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dn(Vec<Rdn>);

impl Dn {
    /// `raw` as a DN, or `None` when it is not one (then it is a plain group name).
    ///
    /// Every comma-separated component (commas escaped with `\` do not separate) must be
    /// `type=value` with a type of letters, digits and `-` starting with a letter, or a
    /// dotted OID.
    pub fn parse(raw: &str) -> Option<Self> {
        let mut rdns = Vec::new();
        for part in split_unescaped(raw, ',') {
            let (kind, value) = part.split_once('=')?;
            let kind = kind.trim();
            if !is_attribute_type(kind) {
                return None;
            }
            rdns.push(Rdn {
                kind: kind.to_ascii_uppercase(),
                value: value.trim().to_string(),
            });
        }
        (!rdns.is_empty()).then_some(Self(rdns))
    }

    /// The value of the first `CN` component, escapes removed (`CN=a\,b` gives `a,b`).
    pub fn first_cn(&self) -> Option<String> {
        self.0
            .iter()
            .find(|rdn| rdn.kind == "CN")
            .map(|rdn| unescape(&rdn.value))
    }

    /// The DN in one canonical spelling: upper-case types, no spaces around separators.
    pub fn canonical(&self) -> String {
        self.0
            .iter()
            .map(|rdn| format!("{}={}", rdn.kind, rdn.value))
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// What a mapping's `ad_group` matches, prepared once per resolution.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Matcher {
    /// A plain name: matches that name, or a DN whose first `CN` is that name.
    Name(String),
    /// A DN (canonical spelling): matches that DN only.
    Dn(String),
}

impl Matcher {
    /// The matcher of a mapping's `ad_group`.
    pub fn new(ad_group: &str) -> Self {
        let ad_group = ad_group.trim();
        match Dn::parse(ad_group) {
            Some(dn) => Self::Dn(dn.canonical()),
            None => Self::Name(ad_group.to_string()),
        }
    }

    /// The keys a received group value is looked up under: itself as a name, and when it is
    /// a DN, its canonical DN and its first `CN` as a name.
    pub fn keys_of(received: &str) -> Vec<Self> {
        let received = received.trim();
        let mut keys = vec![Self::Name(received.to_string())];
        if let Some(dn) = Dn::parse(received) {
            keys.push(Self::Dn(dn.canonical()));
            if let Some(cn) = dn.first_cn() {
                keys.push(Self::Name(cn));
            }
        }
        keys
    }

    /// True when `received` matches this mapping.
    pub fn matches(&self, received: &str) -> bool {
        Self::keys_of(received).contains(self)
    }
}

/// `raw` split at every `sep` not preceded by a backslash escape.
fn split_unescaped(raw: &str, sep: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut escaped = false;
    for (i, c) in raw.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == sep {
            parts.push(&raw[start..i]);
            start = i + c.len_utf8();
        }
    }
    parts.push(&raw[start..]);
    parts
}

/// `value` with each `\x` escape replaced by `x`.
fn unescape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(next) = chars.next() {
                out.push(next);
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// An LDAP attribute type: a descriptor (`cn`, `x-name`) or a numeric OID (`2.5.4.3`).
fn is_attribute_type(kind: &str) -> bool {
    let mut chars = kind.chars();
    match chars.next() {
        Some(c) if c.is_ascii_alphabetic() => chars.all(|c| c.is_ascii_alphanumeric() || c == '-'),
        Some(c) if c.is_ascii_digit() => kind.chars().all(|c| c.is_ascii_digit() || c == '.'),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_mapping_matches_the_same_name_only_exactly() {
        let m = Matcher::new("Ops");
        assert!(m.matches("Ops"));
        assert!(m.matches("  Ops "));
        assert!(!m.matches("ops"));
        assert!(!m.matches("Ops2"));
    }

    #[test]
    fn a_name_mapping_matches_a_dn_by_its_first_cn() {
        let m = Matcher::new("Ops");
        assert!(m.matches("CN=Ops,OU=Groups,DC=example,DC=com"));
        assert!(m.matches("cn=Ops, ou=Groups, dc=example"));
        assert!(!m.matches("CN=Dev,CN=Ops,DC=example"));
        assert!(!m.matches("OU=Ops,DC=example"));
    }

    #[test]
    fn a_dn_mapping_matches_that_dn_only() {
        let m = Matcher::new("CN=Ops,OU=Groups,DC=example,DC=com");
        assert!(m.matches("CN=Ops,OU=Groups,DC=example,DC=com"));
        assert!(m.matches("cn=Ops , ou=Groups,dc=example,dc=com"));
        assert!(!m.matches("CN=Ops,OU=Other,DC=example,DC=com"));
        assert!(!m.matches("Ops"));
        assert!(!m.matches("CN=ops,OU=Groups,DC=example,DC=com"));
    }

    #[test]
    fn escaped_commas_stay_inside_a_component() {
        let dn = Dn::parse(r"CN=Smith\, John,OU=People").unwrap();
        assert_eq!(dn.first_cn().as_deref(), Some("Smith, John"));
        assert!(Matcher::new("Smith, John").matches(r"CN=Smith\, John,OU=People"));
    }

    #[test]
    fn values_that_are_not_dns_are_names() {
        assert!(Dn::parse("Ops").is_none());
        assert!(Dn::parse("a=b=c, not a dn").is_none());
        assert!(Dn::parse("=x").is_none());
        assert!(Dn::parse("realm role").is_none());
        assert!(Dn::parse("2.5.4.3=Ops").is_some());
        assert_eq!(
            Matcher::new("team: a=b, c"),
            Matcher::Name("team: a=b, c".into())
        );
    }
}
