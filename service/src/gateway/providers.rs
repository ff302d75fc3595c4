//! Upstream identity providers for single sign-on: the read side.
//!
//! A [`Provider`] never shows its client secret: reads say only whether one is stored, and
//! the sign-in flow opens it through [`Provider::client_secret`], the one way to the plain
//! text. Writes are in [`super::provider_admin`].

use chrono::{DateTime, Utc};
use entity::oauth_providers::{self, Column};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use secrecy::SecretString;
use serde::Serialize;
use uuid::Uuid;

use super::{GatewayConfig, provider_secret_context};
use crate::{Error, Result};

/// A client secret as stored: sealed, and never printed.
#[derive(Clone, PartialEq, Eq)]
pub(super) struct SealedSecret(pub(super) String);

impl std::fmt::Debug for SealedSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealedSecret([sealed])")
    }
}

/// An upstream identity provider as reads show it: whether a client secret is stored, never
/// the secret itself.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Provider {
    pub id: Uuid,
    /// The slug in `/login/sso/{name}/callback`.
    pub name: String,
    /// What "Sign in with …" says.
    pub display_name: String,
    pub client_id: String,
    /// True when a client secret is stored (its value is never returned).
    pub has_client_secret: bool,
    pub authorize_url: String,
    pub token_url: String,
    pub userinfo_url: String,
    /// The scopes asked for at the authorization endpoint.
    pub scopes: Vec<String>,
    /// The userinfo claim holding the user's groups; a dotted path reaches into objects
    /// (`realm_access.roles`).
    pub groups_claim: String,
    pub enabled: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[serde(skip)]
    #[schema(ignore)]
    pub(super) sealed_secret: Option<SealedSecret>,
}

impl Provider {
    /// The client secret in plain text, `None` when none is stored (a public client). Fails
    /// when the stored secret does not open (the secret key changed, or the value was copied
    /// from another provider).
    pub fn client_secret(&self, config: &GatewayConfig) -> Result<Option<SecretString>> {
        self.sealed_secret
            .as_ref()
            .map(|sealed| {
                config
                    .provider_cipher
                    .open_text(&provider_secret_context(self.id), &sealed.0)
                    .map(SecretString::from)
            })
            .transpose()
    }
}

/// The stored scopes: a JSON array of strings, or (as older data may hold them) one
/// space-separated string.
pub(super) fn parse_stored_scopes(raw: &str) -> Vec<String> {
    serde_json::from_str::<Vec<String>>(raw)
        .unwrap_or_else(|_| raw.split_whitespace().map(str::to_string).collect())
}

impl From<oauth_providers::Model> for Provider {
    fn from(row: oauth_providers::Model) -> Self {
        Self {
            scopes: parse_stored_scopes(&row.scopes),
            has_client_secret: row.client_secret.is_some(),
            sealed_secret: row.client_secret.map(SealedSecret),
            id: row.id,
            name: row.name,
            display_name: row.display_name,
            client_id: row.client_id,
            authorize_url: row.authorize_url,
            token_url: row.token_url,
            userinfo_url: row.userinfo_url,
            groups_claim: row.groups_claim,
            enabled: row.enabled,
            created_at: row.created_at.to_utc(),
            updated_at: row.updated_at.to_utc(),
        }
    }
}

/// The provider `id` (text from a path); anything that is not one of its ids is not found.
pub(super) async fn find(db: &impl ConnectionTrait, id: &str) -> Result<oauth_providers::Model> {
    let not_found = || Error::NotFound(format!("identity provider {id}"));
    let uuid = Uuid::parse_str(id).map_err(|_| not_found())?;
    oauth_providers::Entity::find_by_id(uuid)
        .one(db)
        .await?
        .ok_or_else(not_found)
}

/// One provider by id.
pub async fn get(db: &impl ConnectionTrait, id: &str) -> Result<Provider> {
    find(db, id).await.map(Provider::from)
}

/// The provider named `name` (enabled or not): `NotFound` when there is none.
pub async fn get_by_name(db: &impl ConnectionTrait, name: &str) -> Result<Provider> {
    oauth_providers::Entity::find()
        .filter(Column::Name.eq(name))
        .one(db)
        .await?
        .map(Provider::from)
        .ok_or_else(|| Error::NotFound(format!("identity provider {name}")))
}

/// Every provider, by name.
pub async fn list(db: &impl ConnectionTrait) -> Result<Vec<Provider>> {
    Ok(oauth_providers::Entity::find()
        .order_by_asc(Column::Name)
        .all(db)
        .await?
        .into_iter()
        .map(Provider::from)
        .collect())
}

/// Every enabled provider, by name (what the sign-in page offers).
pub async fn list_enabled(db: &impl ConnectionTrait) -> Result<Vec<Provider>> {
    Ok(oauth_providers::Entity::find()
        .filter(Column::Enabled.eq(true))
        .order_by_asc(Column::Name)
        .all(db)
        .await?
        .into_iter()
        .map(Provider::from)
        .collect())
}
