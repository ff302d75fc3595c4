//! OAuth scopes: the permission catalog, space-separated.

use crate::access::{Permission, PermissionSet};

use super::OAuthError;

/// A validated scope: a set of catalog permissions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Scope(pub PermissionSet);

impl Scope {
    /// Parses a `scope` parameter; an unknown name is `invalid_scope`.
    pub fn parse(text: &str) -> Result<Self, OAuthError> {
        let mut set = PermissionSet::EMPTY;
        for name in text.split_ascii_whitespace() {
            let p = Permission::parse(name)
                .ok_or_else(|| OAuthError::invalid_scope(format!("unknown scope {name}")))?;
            set.insert(p);
        }
        Ok(Self(set))
    }

    /// Parses stored scope text, ignoring names the catalog no longer has.
    pub fn from_stored(text: &str) -> Self {
        Self(PermissionSet::from_names(text.split_ascii_whitespace()))
    }

    /// The space-separated form, in catalog order.
    pub fn to_text(self) -> String {
        self.0.names().join(" ")
    }

    /// True when no permission is granted.
    pub fn is_empty(self) -> bool {
        self.0 == PermissionSet::EMPTY
    }

    /// True when every permission of `self` is in `other`.
    pub fn within(self, other: Scope) -> bool {
        self.0.intersection(other.0) == self.0
    }

    /// What both grant.
    pub fn intersect(self, other: Scope) -> Scope {
        Scope(self.0.intersection(other.0))
    }
}
