//! The permission catalog shared by people (roles) and machines (OAuth scopes).

use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! catalog {
    ($($variant:ident = $name:literal, $meaning:literal;)*) => {
        /// One permission of the catalog; a route declares the one it needs.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum Permission {
            $(#[serde(rename = $name)] $variant,)*
        }

        impl Permission {
            /// Every permission, in catalog order.
            pub const ALL: &'static [Permission] = &[$(Permission::$variant,)*];

            /// The catalog name, e.g. `sync:write`.
            pub fn as_str(self) -> &'static str {
                match self { $(Permission::$variant => $name,)* }
            }

            /// What the permission grants, for people choosing it.
            pub fn meaning(self) -> &'static str {
                match self { $(Permission::$variant => $meaning,)* }
            }

            /// Parses a catalog name.
            pub fn parse(name: &str) -> Option<Self> {
                match name { $($name => Some(Permission::$variant),)* _ => None }
            }
        }
    };
}

catalog! {
    UsersRead = "users:read", "See admin users and roles";
    UsersWrite = "users:write", "Create, change and delete admin users and roles";
    SessionsRead = "sessions:read", "See everyone's sessions";
    SessionsWrite = "sessions:write", "Revoke anyone's sessions";
    SyncRead = "sync:read", "See sync status and history";
    SyncWrite = "sync:write", "Start, report and cancel syncs";
    RegistryRead = "registry:read", "See devices and entities";
    RegistryWrite = "registry:write", "Change devices and entities";
    WebhooksRead = "webhooks:read", "See webhook subscriptions and deliveries";
    WebhooksWrite = "webhooks:write", "Change webhook subscriptions, redeliver";
    OauthRead = "oauth:read", "See OAuth clients, tokens and their audit log";
    OauthWrite = "oauth:write", "Manage OAuth clients and revoke tokens";
    OpsRead = "ops:read", "See runs, plan units, events, resource state and facts";
    OpsWrite = "ops:write", "Record runs, events, resource state and facts";
    GatewayRead = "gateway:read", "See gateway settings";
    GatewayWrite = "gateway:write", "Change gateway settings";
    AuditRead = "audit:read", "Read the admin audit trail";
    SystemRead = "system:read", "See health details, metrics and database status";
    SystemWrite = "system:write", "Take backups, run checks and purges";
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Permission {
    fn bit(self) -> u32 {
        1 << (Self::ALL.iter().position(|p| *p == self).unwrap_or(0) as u32)
    }

    /// True for the `…:read` permissions.
    pub fn is_read(self) -> bool {
        self.as_str().ends_with(":read")
    }
}

/// A set of permissions, as granted by a user's roles or a token's scope.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PermissionSet(u32);

impl PermissionSet {
    /// No permission at all.
    pub const EMPTY: PermissionSet = PermissionSet(0);

    /// Every permission of the catalog.
    pub fn all() -> Self {
        Self::from_iter(Permission::ALL.iter().copied())
    }

    /// True when `p` is granted.
    pub fn contains(self, p: Permission) -> bool {
        self.0 & p.bit() != 0
    }

    /// Grants `p`.
    pub fn insert(&mut self, p: Permission) {
        self.0 |= p.bit();
    }

    /// Everything granted by either set.
    pub fn union(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }

    /// Only what both sets grant.
    pub fn intersection(self, other: Self) -> Self {
        Self(self.0 & other.0)
    }

    /// What this set grants that `other` does not.
    pub fn difference(self, other: Self) -> Self {
        Self(self.0 & !other.0)
    }

    /// True when nothing is granted.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The granted permissions in catalog order.
    pub fn iter(self) -> impl Iterator<Item = Permission> {
        Permission::ALL
            .iter()
            .copied()
            .filter(move |p| self.contains(*p))
    }

    /// Catalog names, e.g. for a token's `scope`.
    pub fn names(self) -> Vec<&'static str> {
        self.iter().map(Permission::as_str).collect()
    }

    /// Parses catalog names, ignoring unknown ones (stored role data written by older versions).
    pub fn from_names<'a>(names: impl IntoIterator<Item = &'a str>) -> Self {
        Self::from_iter(names.into_iter().filter_map(Permission::parse))
    }
}

impl FromIterator<Permission> for PermissionSet {
    fn from_iter<I: IntoIterator<Item = Permission>>(iter: I) -> Self {
        let mut set = Self::EMPTY;
        for p in iter {
            set.insert(p);
        }
        set
    }
}

/// The roles every installation has; they cannot be edited or deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BuiltinRole {
    Admin,
    Operator,
    Viewer,
}

impl BuiltinRole {
    /// All built-in roles.
    pub const ALL: [BuiltinRole; 3] = [
        BuiltinRole::Admin,
        BuiltinRole::Operator,
        BuiltinRole::Viewer,
    ];

    /// The role's name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Operator => "operator",
            Self::Viewer => "viewer",
        }
    }

    /// What the role is for.
    pub fn description(self) -> &'static str {
        match self {
            Self::Admin => "Every permission",
            Self::Operator => {
                "Reads everything; reports syncs, manages the registry, webhooks and orchestration"
            }
            Self::Viewer => "Reads operational data; no users, sessions or audit trail",
        }
    }

    /// The permissions the role grants (spec 02).
    pub fn permissions(self) -> PermissionSet {
        use Permission::*;
        match self {
            Self::Admin => PermissionSet::all(),
            Self::Operator => Permission::ALL
                .iter()
                .copied()
                .filter(|p| {
                    p.is_read() || matches!(p, SyncWrite | RegistryWrite | WebhooksWrite | OpsWrite)
                })
                .collect(),
            Self::Viewer => Permission::ALL
                .iter()
                .copied()
                .filter(|p| p.is_read() && !matches!(p, UsersRead | SessionsRead | AuditRead))
                .collect(),
        }
    }

    /// The built-in role of this name, if any.
    pub fn named(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.name() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for p in Permission::ALL {
            assert_eq!(Permission::parse(p.as_str()), Some(*p));
        }
        assert_eq!(Permission::ALL.len(), 19);
    }

    #[test]
    fn built_in_roles_grant_what_the_spec_says() {
        let op = BuiltinRole::Operator.permissions();
        assert!(op.contains(Permission::SyncWrite) && op.contains(Permission::UsersRead));
        assert!(!op.contains(Permission::UsersWrite) && !op.contains(Permission::OauthWrite));
        let viewer = BuiltinRole::Viewer.permissions();
        assert!(viewer.contains(Permission::SyncRead));
        assert!(!viewer.contains(Permission::UsersRead) && !viewer.contains(Permission::AuditRead));
        assert!(!viewer.contains(Permission::SyncWrite));
        assert_eq!(BuiltinRole::Admin.permissions(), PermissionSet::all());
    }
}
