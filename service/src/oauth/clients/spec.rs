//! Client settings: the raw input and its validation into a [`ClientSpec`].

use entity::{oauth_client_configs as configs, oauth_clients as clients};
use serde_json::Value;

use crate::access::PermissionSet;
use crate::oauth::{Scope, grant_type, redirect};
use crate::{Error, FieldError, Result};

/// Lifetime bounds, in seconds, for the configurable TTLs.
const TTL_BOUNDS: [(&str, i64, i64); 4] = [
    ("access_token_ttl_seconds", 60, 86_400),
    ("refresh_token_ttl_seconds", 300, 31_536_000),
    ("device_code_ttl_seconds", 60, 3_600),
    ("device_poll_interval_seconds", 1, 60),
];

/// Raw client settings as a form, the JSON API or the CLI send them; `None` keeps the
/// current value (or the default, on creation).
#[derive(Debug, Clone, Default)]
pub struct ClientInput {
    pub name: Option<String>,
    pub is_confidential: Option<bool>,
    pub is_enabled: Option<bool>,
    pub redirect_uris: Option<Vec<String>>,
    pub grant_types: Option<Vec<String>>,
    pub allowed_scopes: Option<Vec<String>>,
    pub access_token_ttl_seconds: Option<i64>,
    pub refresh_token_ttl_seconds: Option<i64>,
    pub device_code_ttl_seconds: Option<i64>,
    pub device_poll_interval_seconds: Option<i64>,
    pub require_pkce: Option<bool>,
    pub skip_consent: Option<bool>,
}

/// Validated client settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientSpec {
    pub name: String,
    pub is_confidential: bool,
    pub is_enabled: bool,
    pub redirect_uris: Vec<String>,
    pub grant_types: Vec<&'static str>,
    pub allowed_scopes: Scope,
    pub access_token_ttl_seconds: i64,
    pub refresh_token_ttl_seconds: i64,
    pub device_code_ttl_seconds: i64,
    pub device_poll_interval_seconds: i64,
    pub require_pkce: bool,
    pub skip_consent: bool,
}

impl ClientSpec {
    /// Settings of a new client: the input over the defaults.
    pub fn new_from(input: ClientInput) -> Result<Self> {
        let base = Self::defaults(input.is_confidential.unwrap_or(true));
        if input.name.is_none() {
            return Err(Error::invalid("name", "is required"));
        }
        base.with(input)
    }

    /// What a new client of the given type gets for every setting it is not given (the
    /// registration form starts from these too); the name is empty.
    pub fn defaults(confidential: bool) -> Self {
        Self {
            name: String::new(),
            is_confidential: confidential,
            is_enabled: true,
            redirect_uris: Vec::new(),
            grant_types: if confidential {
                vec![grant_type::CLIENT_CREDENTIALS]
            } else {
                vec![grant_type::AUTHORIZATION_CODE, grant_type::REFRESH_TOKEN]
            },
            allowed_scopes: Scope::default(),
            access_token_ttl_seconds: 3_600,
            refresh_token_ttl_seconds: 2_592_000,
            device_code_ttl_seconds: 600,
            device_poll_interval_seconds: 5,
            require_pkce: true,
            skip_consent: false,
        }
    }

    /// These settings changed by `input`, validated as a whole.
    pub fn with(mut self, input: ClientInput) -> Result<Self> {
        let mut errors = Vec::new();
        if let Some(name) = input.name {
            let name = name.trim().to_owned();
            if name.is_empty() || name.chars().count() > 200 {
                errors.push(FieldError::new("name", "must be 1–200 characters"));
            }
            self.name = name;
        }
        if let Some(c) = input.is_confidential {
            if c != self.is_confidential && !self.name.is_empty() && input.grant_types.is_none() {
                // A type change without explicit grants takes the new type's defaults.
                self.grant_types = if c {
                    vec![grant_type::CLIENT_CREDENTIALS]
                } else {
                    vec![grant_type::AUTHORIZATION_CODE, grant_type::REFRESH_TOKEN]
                };
            }
            self.is_confidential = c;
        }
        if let Some(e) = input.is_enabled {
            self.is_enabled = e;
        }
        if let Some(uris) = input.redirect_uris {
            let uris: Vec<String> = uris
                .into_iter()
                .map(|u| u.trim().to_owned())
                .filter(|u| !u.is_empty())
                .collect();
            for uri in &uris {
                if let Err(problem) = redirect::validate(uri) {
                    errors.push(FieldError::new("redirect_uris", problem));
                }
            }
            self.redirect_uris = dedup(uris);
        }
        if let Some(grants) = input.grant_types {
            let mut parsed = Vec::new();
            for g in grants.iter().filter(|g| !g.trim().is_empty()) {
                match grant_type::parse(g) {
                    Some(g) if !parsed.contains(&g) => parsed.push(g),
                    Some(_) => {}
                    None => errors.push(FieldError::new(
                        "grant_types",
                        format!("{g} is not a supported grant type"),
                    )),
                }
            }
            self.grant_types = parsed;
        }
        if let Some(scopes) = input.allowed_scopes {
            match Scope::parse(&scopes.join(" ")) {
                Ok(s) => self.allowed_scopes = s,
                Err(e) => errors.push(FieldError::new("allowed_scopes", e.description)),
            }
        }
        let ttls = [
            (
                input.access_token_ttl_seconds,
                &mut self.access_token_ttl_seconds,
            ),
            (
                input.refresh_token_ttl_seconds,
                &mut self.refresh_token_ttl_seconds,
            ),
            (
                input.device_code_ttl_seconds,
                &mut self.device_code_ttl_seconds,
            ),
            (
                input.device_poll_interval_seconds,
                &mut self.device_poll_interval_seconds,
            ),
        ];
        for ((value, slot), (field, min, max)) in ttls.into_iter().zip(TTL_BOUNDS) {
            if let Some(v) = value {
                if !(min..=max).contains(&v) {
                    errors.push(FieldError::new(
                        field,
                        format!("must be between {min} and {max}"),
                    ));
                }
                *slot = v;
            }
        }
        if let Some(p) = input.require_pkce {
            self.require_pkce = p;
        }
        if let Some(s) = input.skip_consent {
            self.skip_consent = s;
        }
        if !self.is_confidential {
            // Public clients cannot keep a verifier secret from the network: PKCE always.
            self.require_pkce = true;
            if self.grant_types.contains(&grant_type::CLIENT_CREDENTIALS) {
                errors.push(FieldError::new(
                    "grant_types",
                    "client_credentials needs a confidential client",
                ));
            }
        }
        if self.grant_types.is_empty() {
            errors.push(FieldError::new(
                "grant_types",
                "choose at least one grant type",
            ));
        }
        if self.grant_types.contains(&grant_type::AUTHORIZATION_CODE)
            && self.redirect_uris.is_empty()
        {
            errors.push(FieldError::new(
                "redirect_uris",
                "authorization_code needs at least one redirect URI",
            ));
        }
        if errors.is_empty() {
            Ok(self)
        } else {
            Err(Error::Validation(errors))
        }
    }

    /// True when the client may use `grant` (an RFC grant type name).
    pub fn allows(&self, grant: &str) -> bool {
        self.grant_types.contains(&grant)
    }

    /// The settings of a stored client and its configuration row.
    pub(super) fn from_rows(client: &clients::Model, config: &configs::Model) -> Self {
        Self {
            name: client.name.clone(),
            is_confidential: client.is_confidential,
            is_enabled: client.is_enabled,
            redirect_uris: strings(&client.redirect_uris),
            grant_types: strings(&client.grant_types)
                .iter()
                .filter_map(|g| grant_type::parse(g))
                .collect(),
            allowed_scopes: Scope(PermissionSet::from_names(
                strings(&config.allowed_scopes).iter().map(String::as_str),
            )),
            access_token_ttl_seconds: config.access_token_ttl_seconds,
            refresh_token_ttl_seconds: config.refresh_token_ttl_seconds,
            device_code_ttl_seconds: config.device_code_ttl_seconds,
            device_poll_interval_seconds: config.device_poll_interval_seconds,
            require_pkce: config.require_pkce,
            skip_consent: config.skip_consent,
        }
    }
}

fn dedup(items: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(items.len());
    for item in items {
        if !out.contains(&item) {
            out.push(item);
        }
    }
    out
}

/// The strings of a stored JSON array.
fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}
