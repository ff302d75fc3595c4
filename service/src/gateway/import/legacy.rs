//! The legacy files' shapes, checked entry by entry into validated values (spec 08's table).

use std::collections::BTreeMap;

use secrecy::SecretString;
use serde_json::Value as Json;
use serde_pickle::{HashableValue, Value};

use super::ImportProblem;
use super::pickle;
use crate::Error;
use crate::access::{Permission, Username, users};
use crate::gateway::config::ConfigKey;
use crate::gateway::input::{self, Address, McpServerInput, Transport};

/// Longest AD group name or DN, config key, provider field.
const TEXT_MAX: usize = 1024;

/// A legacy role.
#[derive(Debug, Clone)]
pub struct LegacyRole {
    /// The legacy id, as text (links users and mappings).
    pub legacy_id: String,
    pub name: String,
    pub description: Option<String>,
    /// Catalog names only.
    pub permissions: Vec<String>,
}

/// A legacy user.
#[derive(Debug, Clone)]
pub struct LegacyUser {
    pub legacy_id: String,
    pub username: String,
    pub email: Option<String>,
    /// Legacy role ids, each one of `rbac.pkl`'s roles.
    pub roles: Vec<String>,
    pub enabled: bool,
}

/// A legacy AD group mapping.
#[derive(Debug, Clone)]
pub struct LegacyMapping {
    pub legacy_id: String,
    pub ad_group: String,
    pub role: String,
}

/// A legacy MCP server.
#[derive(Debug, Clone)]
pub struct LegacyServer {
    pub legacy_id: String,
    pub input: McpServerInput,
}

/// A legacy upstream OAuth provider.
#[derive(Debug, Clone)]
pub struct LegacyProvider {
    pub legacy_id: String,
    /// The slug.
    pub name: String,
    pub display_name: String,
    pub client_id: String,
    pub client_secret: Option<SecretString>,
    pub authorize_url: String,
    pub token_url: String,
    pub userinfo_url: String,
    pub scopes: Vec<String>,
}

/// Everything read from the files, checked.
#[derive(Debug, Clone, Default)]
pub struct LegacyData {
    pub roles: Vec<LegacyRole>,
    pub users: Vec<LegacyUser>,
    pub mappings: Vec<LegacyMapping>,
    pub servers: Vec<LegacyServer>,
    pub providers: Vec<LegacyProvider>,
    pub config: Vec<(ConfigKey, Json)>,
    /// `permission (role name)` for each permission outside the catalog.
    pub skipped_permissions: Vec<String>,
    /// Where each skipped permission was, for `--strict`'s refusal.
    pub skipped_at: Vec<ImportProblem>,
}

type Dict = BTreeMap<HashableValue, Value>;

impl LegacyData {
    /// Reads one file (`name` is one of [`super::FILES`]) into `self`. Roles are read before
    /// the users and mappings that refer to them, so `rbac.pkl` must come first.
    pub fn read(&mut self, name: &str, bytes: &[u8]) -> Result<(), ImportProblem> {
        let value = pickle::read(bytes).map_err(|r| ImportProblem::file(name, r.to_string()))?;
        let Value::Dict(root) = value else {
            return Err(ImportProblem::file(name, "must hold a dict"));
        };
        match name {
            "rbac.pkl" => self.rbac(name, &root),
            "ad_mappings.pkl" => each(name, "mapping", &root, |id, d| self.mapping(id, d)),
            "mcp_servers.pkl" => each(name, "server", &root, |id, d| self.server(id, d)),
            "oauth_providers.pkl" => each(name, "provider", &root, |id, d| self.provider(id, d)),
            "config.pkl" => self.config(name, &root),
            other => Err(ImportProblem::file(other, "is not a legacy gateway file")),
        }
    }

    fn rbac(&mut self, file: &str, root: &Dict) -> Result<(), ImportProblem> {
        match field(root, "roles") {
            Some(Value::Dict(roles)) => each(file, "role", roles, |id, d| self.role(file, id, d))?,
            None | Some(Value::None) => {}
            Some(_) => return Err(ImportProblem::file(file, "roles must be a dict")),
        }
        match field(root, "users") {
            Some(Value::Dict(users)) => each(file, "user", users, |id, d| self.user(id, d)),
            None | Some(Value::None) => Ok(()),
            Some(_) => Err(ImportProblem::file(file, "users must be a dict")),
        }
    }

    fn role(&mut self, file: &str, legacy_id: String, d: &Dict) -> Result<(), String> {
        let raw_name = required_text(d, "role_name")?;
        let name = slug(raw_name).ok_or("role_name has no letter or digit")?;
        if name.len() > 64 {
            return Err("role_name is longer than 64 characters".into());
        }
        if let Some(other) = self.roles.iter().find(|r| r.name == name) {
            return Err(format!(
                "its name {name} is also the name of role {}",
                other.legacy_id
            ));
        }
        let mut permissions = Vec::new();
        for p in strings(d, "permissions")? {
            if Permission::parse(&p).is_some() {
                if !permissions.contains(&p) {
                    permissions.push(p);
                }
            } else {
                self.skipped_at.push(ImportProblem::entry(
                    file,
                    format!("role {legacy_id} ({name})"),
                    format!("permission {p} is not in the permission catalog"),
                ));
                self.skipped_permissions.push(format!("{p} ({name})"));
            }
        }
        self.roles.push(LegacyRole {
            description: optional_text(d, "description")?,
            legacy_id,
            name,
            permissions,
        });
        Ok(())
    }

    fn role_ref(&self, raw: &str) -> Result<String, String> {
        if self.roles.iter().any(|r| r.legacy_id == raw) {
            Ok(raw.to_string())
        } else {
            Err(format!("role {raw} is not one of rbac.pkl's roles"))
        }
    }

    fn user(&mut self, legacy_id: String, d: &Dict) -> Result<(), String> {
        let email = optional_text(d, "email")?;
        let raw_username = optional_text(d, "username")?
            .or_else(|| email.clone())
            .ok_or("has neither a username nor an email")?;
        let username = Username::parse(&raw_username)
            .map_err(|e| format!("username {raw_username:?}: {}", described(e)))?;
        let email = users::parse_email(email.as_deref()).map_err(described)?;
        if self.users.iter().any(|u| u.username == username.as_str()) {
            return Err(format!(
                "its username {} is also another user's",
                username.as_str()
            ));
        }
        let mut roles = Vec::new();
        for raw in keys_list(d, "roles")? {
            let role = self.role_ref(&raw)?;
            if !roles.contains(&role) {
                roles.push(role);
            }
        }
        self.users.push(LegacyUser {
            legacy_id,
            username: username.as_str().to_string(),
            email,
            roles,
            enabled: boolean(d, "enabled", true)?,
        });
        Ok(())
    }

    fn mapping(&mut self, legacy_id: String, d: &Dict) -> Result<(), String> {
        let ad_group = one_line(required_text(d, "group_dn")?, "group_dn")?;
        if self.mappings.iter().any(|m| m.ad_group == ad_group) {
            return Err(format!("group {ad_group} is mapped twice"));
        }
        let role = match field(d, "role_id") {
            Some(v) => key_text(v).ok_or("role_id must be an id")?,
            None => return Err("role_id is missing".into()),
        };
        let role = self.role_ref(&role)?;
        self.mappings.push(LegacyMapping {
            legacy_id,
            ad_group,
            role,
        });
        Ok(())
    }

    fn server(&mut self, legacy_id: String, d: &Dict) -> Result<(), String> {
        let name = input::server_name(required_text(d, "name")?, "name").map_err(described)?;
        if self.servers.iter().any(|s| s.input.name == name) {
            return Err(format!("its name {name} is also another server's"));
        }
        let transport = match optional_text(d, "transport")? {
            Some(t) => Transport::parse(&t, "transport").map_err(described)?,
            None => Transport::StreamableHttp,
        };
        let address =
            Address::parse(required_text(d, "url")?, transport, "url").map_err(described)?;
        let description =
            input::description(optional_text(d, "description")?.as_deref(), "description")
                .map_err(described)?;
        let pairs = match field(d, "headers") {
            None | Some(Value::None) => Vec::new(),
            Some(Value::Dict(h)) => h
                .iter()
                .map(|(k, v)| match (k, v) {
                    (HashableValue::String(k), Value::String(v)) => {
                        Ok((k.clone(), Some(v.clone())))
                    }
                    _ => Err("headers must map names to text values".to_string()),
                })
                .collect::<Result<_, _>>()?,
            Some(_) => return Err("headers must be a dict".into()),
        };
        let headers = input::headers(&pairs, "headers").map_err(described)?;
        self.servers.push(LegacyServer {
            legacy_id,
            input: McpServerInput {
                name,
                transport,
                address,
                description,
                enabled: boolean(d, "enabled", true)?,
                headers: Some(headers),
            },
        });
        Ok(())
    }

    fn provider(&mut self, legacy_id: String, d: &Dict) -> Result<(), String> {
        let display_name = one_line(required_text(d, "provider_name")?, "provider_name")?;
        let name = slug(&display_name).ok_or("provider_name has no letter or digit")?;
        if name.len() > 64 {
            return Err("provider_name is longer than 64 characters".into());
        }
        if self.providers.iter().any(|p| p.name == name) {
            return Err(format!("its name {name} is also another provider's"));
        }
        let url = |key: &str| -> Result<String, String> {
            let raw = required_text(d, key)?.trim();
            match url::Url::parse(raw) {
                Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {
                    Ok(raw.to_string())
                }
                _ => Err(format!("{key} must be an http or https URL")),
            }
        };
        let scopes = match field(d, "scopes") {
            Some(Value::String(s)) => s.split_whitespace().map(str::to_string).collect(),
            _ => strings(d, "scopes")?,
        };
        if let Some(bad) = scopes
            .iter()
            .find(|s| s.is_empty() || s.chars().any(|c| c.is_whitespace() || c.is_control()))
        {
            return Err(format!("scope {bad:?} is not a scope name"));
        }
        let client_secret = optional_text(d, "client_secret")?
            .filter(|s| !s.is_empty())
            .map(SecretString::from);
        self.providers.push(LegacyProvider {
            legacy_id,
            client_id: one_line(required_text(d, "client_id")?, "client_id")?,
            client_secret,
            authorize_url: url("authorize_url")?,
            token_url: url("token_url")?,
            userinfo_url: url("userinfo_url")?,
            scopes,
            name,
            display_name,
        });
        Ok(())
    }

    fn config(&mut self, file: &str, root: &Dict) -> Result<(), ImportProblem> {
        for (key, value) in root {
            let HashableValue::String(key) = key else {
                return Err(ImportProblem::file(
                    file,
                    format!("key {} is not text", shown_key(key)),
                ));
            };
            let at = || format!("key {key:?}");
            // The key rule of the config pages, so that every imported key can be opened there.
            let key = ConfigKey::parse(key, "key").map_err(|e| {
                ImportProblem::entry(file, at(), format!("the key {}", field_message(&e)))
            })?;
            let json = to_json(value, 0).map_err(|m| ImportProblem::entry(file, at(), m))?;
            self.config.push((key, json));
        }
        Ok(())
    }
}

/// Runs `check` on every entry of a dict keyed by legacy id; a problem names the entry.
fn each(
    file: &str,
    what: &str,
    dict: &Dict,
    mut check: impl FnMut(String, &Dict) -> Result<(), String>,
) -> Result<(), ImportProblem> {
    for (key, value) in dict {
        let id = key_text_h(key);
        let at = format!("{what} {}", id.as_deref().unwrap_or("?"));
        let Some(id) = id else {
            return Err(ImportProblem::entry(
                file,
                at,
                "its id is not an integer or text",
            ));
        };
        let Value::Dict(entry) = value else {
            return Err(ImportProblem::entry(file, at, "must be a dict"));
        };
        check(id, entry).map_err(|m| ImportProblem::entry(file, at, m))?;
    }
    Ok(())
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

fn field<'a>(d: &'a Dict, name: &str) -> Option<&'a Value> {
    d.get(&HashableValue::String(name.to_string()))
}

fn required_text<'a>(d: &'a Dict, name: &str) -> Result<&'a str, String> {
    match field(d, name) {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s),
        Some(Value::String(_)) | None | Some(Value::None) => Err(format!("{name} is missing")),
        Some(_) => Err(format!("{name} must be text")),
    }
}

fn optional_text(d: &Dict, name: &str) -> Result<Option<String>, String> {
    match field(d, name) {
        None | Some(Value::None) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim().to_string()).filter(|s| !s.is_empty())),
        Some(_) => Err(format!("{name} must be text")),
    }
}

fn boolean(d: &Dict, name: &str, default: bool) -> Result<bool, String> {
    match field(d, name) {
        None | Some(Value::None) => Ok(default),
        Some(Value::Bool(b)) => Ok(*b),
        Some(Value::I64(0)) => Ok(false),
        Some(Value::I64(1)) => Ok(true),
        Some(_) => Err(format!("{name} must be True or False")),
    }
}

fn items(v: &Value) -> Option<&[Value]> {
    match v {
        Value::List(items) | Value::Tuple(items) => Some(items),
        _ => None,
    }
}

fn strings(d: &Dict, name: &str) -> Result<Vec<String>, String> {
    match field(d, name) {
        None | Some(Value::None) => Ok(Vec::new()),
        Some(v) => items(v)
            .ok_or_else(|| format!("{name} must be a list"))?
            .iter()
            .map(|i| match i {
                Value::String(s) => Ok(s.trim().to_string()),
                _ => Err(format!("{name} must hold text only")),
            })
            .collect(),
    }
}

fn keys_list(d: &Dict, name: &str) -> Result<Vec<String>, String> {
    match field(d, name) {
        None | Some(Value::None) => Ok(Vec::new()),
        Some(v) => items(v)
            .ok_or_else(|| format!("{name} must be a list"))?
            .iter()
            .map(|i| key_text(i).ok_or_else(|| format!("{name} must hold ids")))
            .collect(),
    }
}

/// A legacy id as text: an integer's digits, or the text itself.
fn key_text(v: &Value) -> Option<String> {
    match v {
        Value::I64(n) => Some(n.to_string()),
        Value::Int(n) => Some(n.to_string()),
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        _ => None,
    }
}

fn key_text_h(v: &HashableValue) -> Option<String> {
    match v {
        HashableValue::I64(n) => Some(n.to_string()),
        HashableValue::Int(n) => Some(n.to_string()),
        HashableValue::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        _ => None,
    }
}

fn shown_key(v: &HashableValue) -> String {
    key_text_h(v).unwrap_or_else(|| "of another type".into())
}

/// Trimmed text on one line, at most [`TEXT_MAX`] characters.
fn one_line(raw: &str, name: &str) -> Result<String, String> {
    let text = raw.trim();
    if text.is_empty() {
        return Err(format!("{name} is empty"));
    }
    if text.chars().count() > TEXT_MAX || text.chars().any(char::is_control) {
        return Err(format!(
            "{name} must be one line of at most {TEXT_MAX} characters"
        ));
    }
    Ok(text.to_string())
}

/// Lower case; runs of characters other than `a-z 0-9 _ -` become one `-`; `None` when
/// nothing is left.
pub fn slug(raw: &str) -> Option<String> {
    let mut out = String::new();
    for c in raw.trim().to_lowercase().chars() {
        if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let out = out.trim_matches('-').to_string();
    out.chars()
        .any(|c| c.is_ascii_alphanumeric())
        .then_some(out)
}

/// A config value as JSON; the reader has already bounded its depth.
fn to_json(v: &Value, depth: u32) -> Result<Json, String> {
    if depth > pickle::MAX_DEPTH {
        return Err("the value is nested too deeply".into());
    }
    Ok(match v {
        Value::None => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::I64(n) => Json::from(*n),
        Value::Int(n) => {
            let text = n.to_string();
            let number: serde_json::Number = text
                .parse()
                .map_err(|_| format!("the integer {text} does not fit JSON"))?;
            Json::Number(number)
        }
        Value::F64(f) => serde_json::Number::from_f64(*f)
            .map(Json::Number)
            .ok_or("NaN and infinity cannot be stored as JSON")?,
        Value::String(s) => Json::String(s.clone()),
        Value::Bytes(_) => return Err("bytes cannot be stored as JSON".into()),
        Value::List(items) | Value::Tuple(items) => Json::Array(
            items
                .iter()
                .map(|i| to_json(i, depth + 1))
                .collect::<Result<_, _>>()?,
        ),
        Value::Dict(map) => {
            let mut out = serde_json::Map::new();
            for (k, v) in map {
                let key = match k {
                    HashableValue::String(s) => s.clone(),
                    HashableValue::I64(n) => n.to_string(),
                    HashableValue::Int(n) => n.to_string(),
                    _ => return Err("a dict key is neither text nor an integer".into()),
                };
                out.insert(key, to_json(v, depth + 1)?);
            }
            Json::Object(out)
        }
        Value::Set(_) | Value::FrozenSet(_) => {
            return Err("sets cannot be stored as JSON".into());
        }
    })
}

/// The message of a field refusal (`must start with a letter or a digit`), else the error.
fn field_message(err: &Error) -> String {
    match err {
        Error::Validation(details) => details
            .iter()
            .map(|d| d.message.clone())
            .collect::<Vec<_>>()
            .join("; "),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_slugs() {
        assert_eq!(slug("Tool Admin").as_deref(), Some("tool-admin"));
        assert_eq!(
            slug("  Google Workspace! ").as_deref(),
            Some("google-workspace")
        );
        assert_eq!(slug("***"), None);
    }
}
