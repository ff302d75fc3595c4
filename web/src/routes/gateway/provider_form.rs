//! The identity provider form (create and edit). The client secret is write-only: the form
//! never shows it, and a save with the field left empty keeps the stored one.

use secrecy::{ExposeSecret, SecretString};
use service::gateway::provider_input::{ProviderFields, ProviderInput};
use service::gateway::providers::Provider;

use crate::pages::Field;
use crate::routes::forms::{page_form, ticked};

page_form! {
    /// The provider form as sent.
    pub struct ProviderForm {
        pub name: String,
        pub display_name: String,
        pub client_id: String,
        pub client_secret: Option<SecretString>,
        pub authorize_url: String,
        pub token_url: String,
        pub userinfo_url: String,
        pub scopes: String,
        pub groups_claim: String,
        pub enabled: String,
    }
}

impl ProviderForm {
    /// The form of a new provider: OpenID scopes, the `groups` claim, enabled.
    pub fn blank() -> Self {
        Self {
            scopes: "openid profile email".into(),
            groups_claim: "groups".into(),
            enabled: "true".into(),
            ..Self::default()
        }
    }

    /// The form holding `p` as saved (never its secret).
    pub fn current(p: &Provider) -> Self {
        Self {
            name: p.name.clone(),
            display_name: p.display_name.clone(),
            client_id: p.client_id.clone(),
            client_secret: None,
            authorize_url: p.authorize_url.clone(),
            token_url: p.token_url.clone(),
            userinfo_url: p.userinfo_url.clone(),
            scopes: p.scopes.join(" "),
            groups_claim: p.groups_claim.clone(),
            enabled: if p.enabled {
                "true".into()
            } else {
                String::new()
            },
        }
    }

    /// The provider the form describes, each error under its field.
    pub fn parse(&self) -> Result<ProviderInput, service::Error> {
        ProviderInput::parse(ProviderFields {
            name: &self.name,
            display_name: &self.display_name,
            client_id: &self.client_id,
            client_secret: self.client_secret.as_ref().map(|s| s.expose_secret()),
            authorize_url: &self.authorize_url,
            token_url: &self.token_url,
            userinfo_url: &self.userinfo_url,
            scopes: self.scopes.split_whitespace().map(str::to_string).collect(),
            groups_claim: Some(&self.groups_claim),
            enabled: ticked(&self.enabled),
        })
    }

    /// The form's fields with this input; `has_secret` says whether one is stored.
    pub fn fields(&self, has_secret: bool) -> Vec<Field> {
        vec![
            Field::new(Self::name, "Name (slug)", "text")
                .value(&self.name)
                .help("a-z, 0-9 and -: the callback is /login/sso/<name>/callback."),
            Field::new(Self::display_name, "Display name", "text").value(&self.display_name),
            Field::new(Self::client_id, "Client id", "text").value(&self.client_id),
            Field::new(Self::client_secret, "Client secret", "password")
                .autocomplete("new-password")
                .help(if has_secret {
                    "A secret is saved (hidden). Leave empty to keep it; type a new one to replace it."
                } else {
                    "Stored encrypted and never shown again."
                }),
            Field::new(Self::authorize_url, "Authorization URL", "text").value(&self.authorize_url),
            Field::new(Self::token_url, "Token URL", "text").value(&self.token_url),
            Field::new(Self::userinfo_url, "Userinfo URL", "text").value(&self.userinfo_url).help(
                "http or https. Private and loopback addresses are refused unless METADECK_WEBHOOK_ALLOW_PRIVATE_NETWORKS=true.",
            ),
            Field::new(Self::scopes, "Scopes", "text")
                .value(&self.scopes)
                .help("Separated by spaces."),
            Field::new(Self::groups_claim, "Groups claim", "text")
                .value(&self.groups_claim)
                .help("The userinfo claim holding groups; a dotted path reaches into objects (realm_access.roles)."),
            Field::new(Self::enabled, "Enabled (offered on the sign-in page)", "checkbox")
                .value(if ticked(&self.enabled) { "true" } else { "" }),
        ]
    }
}
