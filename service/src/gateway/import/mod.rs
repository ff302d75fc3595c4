//! The one-time import of the legacy tools gateway's pickle files (seed 004's
//! `migrate_to_sqlite.py`): `rbac.pkl`, `ad_mappings.pkl`, `mcp_servers.pkl`,
//! `oauth_providers.pkl` and `config.pkl`.
//!
//! Every file is read by the plain-data [`pickle`] reader and every entry checked
//! ([`legacy`]) before the database is touched; then everything is written in one
//! transaction ([`store`]), so any problem leaves the database as it was. How the legacy data
//! maps onto Metadeck:
//!
//! - Legacy ids (the dict keys) exist only inside the files: they link users and AD mappings
//!   to roles, and each row gets a new Metadeck id. A reference to a role id that `rbac.pkl`
//!   does not hold refuses the import, naming the entry.
//! - A name that already exists in Metadeck (a role, a username, an AD group, a server or
//!   provider name, a config key) is kept as it is and listed under `existing`: the import
//!   adds, it never overwrites or widens what an admin set up. A legacy user or AD mapping
//!   that refers to a role kept that way is linked to the existing role.
//! - Role and provider names become slugs (lower case; other characters than `a-z 0-9 _ -`
//!   become `-`); the provider's own name stays as its display name. Legacy `is_system` is
//!   ignored: Metadeck's built-in roles are defined by its code.
//! - Permission names outside the catalog are listed and left out (`--strict` refuses).
//! - Imported users have no password: they sign in through single sign-on or after an admin
//!   sets one.

pub mod legacy;
pub mod pickle;
pub mod store;

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::Serialize;

pub use legacy::LegacyData;
pub use store::import;

/// The legacy files, in the order they are read.
pub const FILES: [&str; 5] = [
    "rbac.pkl",
    "ad_mappings.pkl",
    "mcp_servers.pkl",
    "oauth_providers.pkl",
    "config.pkl",
];

/// Why the import refuses: the file, the entry when one is at fault, and the problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportProblem {
    pub file: String,
    /// E.g. `roles entry 3` or `key "site_name"`.
    pub entry: Option<String>,
    pub message: String,
}

impl ImportProblem {
    /// A problem with a whole file.
    pub fn file(file: &str, message: impl Into<String>) -> Self {
        Self {
            file: file.to_string(),
            entry: None,
            message: message.into(),
        }
    }

    /// A problem with one entry of a file.
    pub fn entry(file: &str, entry: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            file: file.to_string(),
            entry: Some(entry.into()),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for ImportProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.entry {
            Some(entry) => write!(f, "{}, {entry}: {}", self.file, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

impl std::error::Error for ImportProblem {}

/// Rows written (or, in a dry run, that would be written) per table.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportCounts {
    pub roles: u64,
    pub users: u64,
    pub user_roles: u64,
    pub ad_group_mappings: u64,
    pub mcp_servers: u64,
    pub oauth_providers: u64,
    pub gateway_config: u64,
}

/// Entries whose name Metadeck already had, kept as they were (per table).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ExistingNames {
    pub roles: Vec<String>,
    pub users: Vec<String>,
    pub ad_group_mappings: Vec<String>,
    pub mcp_servers: Vec<String>,
    pub oauth_providers: Vec<String>,
    pub gateway_config: Vec<String>,
}

/// What an import did, as `metadeck import gateway --json` prints it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    pub dry_run: bool,
    /// The files read (their paths).
    pub files: Vec<String>,
    pub imported: ImportCounts,
    /// Permission names outside the catalog, left out of their roles.
    pub skipped_permissions: Vec<String>,
    pub existing: ExistingNames,
}

/// `<file>.bak-<YYYYMMDDTHHMMSSZ>`.
pub fn backup_path(file: &Path, at: DateTime<Utc>) -> PathBuf {
    crate::webhooks::legacy_import::backup_path(file, at)
}

/// `<file>.migrated`, or `<file>.migrated.<YYYYMMDDTHHMMSSZ>` when that exists.
pub fn migrated_path(file: &Path, at: DateTime<Utc>) -> PathBuf {
    crate::webhooks::legacy_import::migrated_path(file, at)
}
