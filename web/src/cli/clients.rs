//! `metadeck client create`: an OAuth client without the console, so a new install can get
//! its first machine token.

use secrecy::ExposeSecret;
use serde::Serialize;
use service::access::Grantor;
use service::audit::Actor;
use service::oauth::clients::{self, ClientInput, ClientSpec};

use super::users::{describe, open};
use super::{Outcome, emit};
use crate::settings::Settings;

/// What `client create` prints.
#[derive(Serialize)]
struct ClientReport {
    client_id: String,
    /// `null` for a public client.
    client_secret: Option<String>,
}

/// The options of `client create`.
pub(super) struct NewClient {
    pub name: String,
    /// Space-separated permission names; the CLI requires them.
    pub scopes: String,
    pub public: bool,
    pub redirect_uris: Vec<String>,
    pub grant_types: Vec<String>,
}

/// Registers a client and prints its id and (once) its secret.
pub(super) async fn create(settings: Settings, new: NewClient, json: bool) -> Outcome {
    let db = match open(&settings).await {
        Ok(db) => db,
        Err(o) => return o,
    };
    let input = ClientInput {
        name: Some(new.name),
        is_confidential: Some(!new.public),
        redirect_uris: Some(new.redirect_uris),
        grant_types: (!new.grant_types.is_empty()).then_some(new.grant_types),
        allowed_scopes: Some(new.scopes.split_whitespace().map(str::to_owned).collect()),
        ..ClientInput::default()
    };
    let created = match ClientSpec::new_from(input) {
        Ok(spec) => clients::create(&db, &Grantor::operator(Actor::Cli), None, spec).await,
        Err(e) => Err(e),
    };
    match created {
        Ok(created) => {
            let report = ClientReport {
                client_id: created.client.client_id,
                client_secret: created.secret.map(|s| s.expose_secret().to_owned()),
            };
            emit(json, &report, |r| match &r.client_secret {
                Some(secret) => format!(
                    "client_id: {}\nclient_secret: {secret}\n(the secret is shown only now)",
                    r.client_id
                ),
                None => format!("client_id: {} (public client, no secret)", r.client_id),
            });
            Outcome::Success
        }
        Err(e) => describe(e),
    }
}
