//! The settings form of an OAuth client: what it shows and how what it sends is parsed.

use service::access::Permission;
use service::oauth::clients::{ClientInput, ClientSpec, ClientView};
use service::oauth::grant_type;

use crate::pages::{Choice, Field, FormView};
use crate::routes::forms::{FieldErrors, distinct, page_form, ticked};

fn checks(values: &[&str], selected: &[String]) -> Vec<Choice> {
    values
        .iter()
        .map(|v| Choice {
            value: v.to_string(),
            label: v.to_string(),
            checked: selected.iter().any(|s| s == v),
        })
        .collect()
}

page_form! {
    /// The settings form of an OAuth client, as sent. On the client's page every field but
    /// `client_type` is present, so every setting is given.
    pub(super) struct ClientForm {
        name: String,
        /// `confidential` or `public`; only on the registration form.
        client_type: String,
        /// One redirect URI per line.
        redirect_uris: String,
        grant_types: Vec<String>,
        allowed_scopes: Vec<String>,
        access_token_ttl_seconds: String,
        refresh_token_ttl_seconds: String,
        device_code_ttl_seconds: String,
        device_poll_interval_seconds: String,
        require_pkce: String,
        skip_consent: String,
    }
}

impl ClientForm {
    /// A client's settings as the form shows them.
    pub(super) fn current(c: &ClientView) -> Self {
        Self {
            name: c.name.clone(),
            client_type: String::new(),
            redirect_uris: c.redirect_uris.join("\n"),
            grant_types: c.grant_types.clone(),
            allowed_scopes: c.allowed_scopes.clone(),
            access_token_ttl_seconds: c.access_token_ttl_seconds.to_string(),
            refresh_token_ttl_seconds: c.refresh_token_ttl_seconds.to_string(),
            device_code_ttl_seconds: c.device_code_ttl_seconds.to_string(),
            device_poll_interval_seconds: c.device_poll_interval_seconds.to_string(),
            require_pkce: c.require_pkce.to_string(),
            skip_consent: c.skip_consent.to_string(),
        }
    }

    /// What the registration form starts with: the service's defaults for a new
    /// (confidential) client, with no grant type ticked so that the type decides them.
    pub(super) fn defaults() -> Self {
        let spec = ClientSpec::defaults(true);
        Self {
            access_token_ttl_seconds: spec.access_token_ttl_seconds.to_string(),
            refresh_token_ttl_seconds: spec.refresh_token_ttl_seconds.to_string(),
            device_code_ttl_seconds: spec.device_code_ttl_seconds.to_string(),
            device_poll_interval_seconds: spec.device_poll_interval_seconds.to_string(),
            require_pkce: spec.require_pkce.to_string(),
            ..Self::default()
        }
    }

    /// The settings sent; a lifetime that is not a whole number is an error under its field.
    pub(super) fn parse(&self, creating: bool) -> Result<ClientInput, service::Error> {
        let mut errors = FieldErrors::new();
        let grants = distinct(&self.grant_types);
        let parsed = ClientInput {
            name: Some(self.name.clone()),
            is_confidential: creating.then(|| self.client_type != "public"),
            is_enabled: None,
            redirect_uris: Some(self.redirect_uris.lines().map(str::to_owned).collect()),
            grant_types: (!grants.is_empty() || !creating).then_some(grants),
            allowed_scopes: Some(distinct(&self.allowed_scopes)),
            access_token_ttl_seconds: errors.whole_number(
                Self::access_token_ttl_seconds,
                &self.access_token_ttl_seconds,
            ),
            refresh_token_ttl_seconds: errors.whole_number(
                Self::refresh_token_ttl_seconds,
                &self.refresh_token_ttl_seconds,
            ),
            device_code_ttl_seconds: errors
                .whole_number(Self::device_code_ttl_seconds, &self.device_code_ttl_seconds),
            device_poll_interval_seconds: errors.whole_number(
                Self::device_poll_interval_seconds,
                &self.device_poll_interval_seconds,
            ),
            require_pkce: Some(ticked(&self.require_pkce)),
            skip_consent: Some(ticked(&self.skip_consent)),
        };
        errors.or_value(parsed)
    }

    /// The form's fields, filled from these values.
    pub(super) fn fields(&self, creating: bool) -> Vec<Field> {
        let scopes: Vec<Choice> = Permission::ALL
            .iter()
            .map(|p| Choice {
                value: p.as_str().into(),
                label: format!("{} — {}", p.as_str(), p.meaning()),
                checked: self.allowed_scopes.iter().any(|s| s == p.as_str()),
            })
            .collect();
        let mut fields = vec![Field::new(Self::name, "Name", "text").value(&self.name)];
        if creating {
            let public = self.client_type == "public";
            fields.push(
                Field::new(Self::client_type, "Type", "select").choices(vec![
                    Choice {
                        value: "confidential".into(),
                        label: "Confidential — a service that keeps a secret".into(),
                        checked: !public,
                    },
                    Choice {
                        value: "public".into(),
                        label: "Public — a browser or native app (no secret, PKCE)".into(),
                        checked: public,
                    },
                ]),
            );
        }
        let checkbox = |on: &str| if ticked(on) { "true" } else { "" };
        fields.extend([
            Field::new(Self::redirect_uris, "Redirect URIs", "textarea")
                .value(&self.redirect_uris)
                .help("One per line: https, or http on 127.0.0.1 / [::1] / localhost. Needed for the authorization-code grant."),
            Field::new(Self::grant_types, "Grant types", "checkboxes")
                .choices(checks(grant_type::ALL, &self.grant_types))
                .help("None ticked: client_credentials for a confidential client, authorization_code and refresh_token for a public one."),
            Field::new(Self::allowed_scopes, "Allowed scopes", "checkboxes").choices(scopes),
            Field::new(Self::access_token_ttl_seconds, "Access token lifetime (seconds)", "number")
                .value(&self.access_token_ttl_seconds),
            Field::new(Self::refresh_token_ttl_seconds, "Refresh token lifetime (seconds)", "number")
                .value(&self.refresh_token_ttl_seconds),
            Field::new(Self::device_code_ttl_seconds, "Device code lifetime (seconds)", "number")
                .value(&self.device_code_ttl_seconds),
            Field::new(Self::device_poll_interval_seconds, "Device poll interval (seconds)", "number")
                .value(&self.device_poll_interval_seconds),
            Field::new(Self::require_pkce, "Require PKCE (always on for public clients)", "checkbox")
                .value(checkbox(&self.require_pkce)),
            Field::new(Self::skip_consent, "Skip the consent page (first-party apps only)", "checkbox")
                .value(checkbox(&self.skip_consent)),
        ]);
        fields
    }

    /// The registration form.
    pub(super) fn new_form(&self) -> FormView {
        FormView::new("/oauth/clients/new", "Register client", self.fields(true))
    }
}
