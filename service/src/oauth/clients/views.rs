//! Reading clients: one by identifier, the list, and the figures pages show beside them.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{
    oauth_access_tokens as access, oauth_client_configs as configs, oauth_clients as clients,
};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use super::ClientSpec;
use crate::pagination::{Page, PageRequest};
use crate::{Error, Result};

/// A client as pages and the API show it (never its secret).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ClientView {
    /// The public identifier.
    pub client_id: String,
    pub name: String,
    pub is_confidential: bool,
    pub is_enabled: bool,
    pub redirect_uris: Vec<String>,
    pub grant_types: Vec<String>,
    pub allowed_scopes: Vec<String>,
    pub access_token_ttl_seconds: i64,
    pub refresh_token_ttl_seconds: i64,
    pub device_code_ttl_seconds: i64,
    pub device_poll_interval_seconds: i64,
    pub require_pkce: bool,
    pub skip_consent: bool,
    /// Access tokens neither expired nor revoked.
    pub active_tokens: u64,
    /// When the client last obtained a token.
    pub last_used_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub created_by: Option<String>,
    pub updated_at: DateTime<Utc>,
}

/// A client with its settings, as stored.
#[derive(Debug, Clone)]
pub struct Client {
    pub row: clients::Model,
    pub spec: ClientSpec,
}

impl Client {
    /// The view, given the active token count.
    pub fn view(&self, active_tokens: u64) -> ClientView {
        let s = &self.spec;
        ClientView {
            client_id: self.row.client_identifier.clone(),
            name: s.name.clone(),
            is_confidential: s.is_confidential,
            is_enabled: s.is_enabled,
            redirect_uris: s.redirect_uris.clone(),
            grant_types: s.grant_types.iter().map(|g| g.to_string()).collect(),
            allowed_scopes: s
                .allowed_scopes
                .0
                .names()
                .into_iter()
                .map(String::from)
                .collect(),
            access_token_ttl_seconds: s.access_token_ttl_seconds,
            refresh_token_ttl_seconds: s.refresh_token_ttl_seconds,
            device_code_ttl_seconds: s.device_code_ttl_seconds,
            device_poll_interval_seconds: s.device_poll_interval_seconds,
            require_pkce: s.require_pkce,
            skip_consent: s.skip_consent,
            active_tokens,
            last_used_at: self.row.last_used_at.map(|t| t.to_utc()),
            created_at: self.row.created_at.to_utc(),
            created_by: self.row.created_by.clone(),
            updated_at: self.row.updated_at.to_utc(),
        }
    }

    /// The event payload: the client without secrets.
    pub(super) fn event_data(&self) -> Value {
        serde_json::to_value(self.view(0)).unwrap_or(Value::Null)
    }
}

/// Loads a client by its public identifier.
pub async fn find(db: &impl ConnectionTrait, client_id: &str) -> Result<Option<Client>> {
    let Some((row, config)) = clients::Entity::find()
        .filter(clients::Column::ClientIdentifier.eq(client_id))
        .find_also_related(configs::Entity)
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let config = config.ok_or_else(|| Error::internal("client without configuration"))?;
    let spec = ClientSpec::from_rows(&row, &config);
    Ok(Some(Client { row, spec }))
}

/// Loads a client by its public identifier, or `NotFound`.
pub async fn get(db: &impl ConnectionTrait, client_id: &str) -> Result<Client> {
    find(db, client_id)
        .await?
        .ok_or_else(|| Error::NotFound(format!("client {client_id}")))
}

/// One client's view with its active token count.
pub async fn view(db: &impl ConnectionTrait, client_id: &str) -> Result<ClientView> {
    let client = get(db, client_id).await?;
    let counts = active_token_counts(db, &[client.row.id]).await?;
    Ok(client.view(counts.get(&client.row.id).copied().unwrap_or(0)))
}

async fn active_token_counts(
    db: &impl ConnectionTrait,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, u64>> {
    let now = Utc::now().fixed_offset();
    let rows: Vec<(Uuid, i64)> = access::Entity::find()
        .select_only()
        .column(access::Column::ClientId)
        .column_as(access::Column::Id.count(), "n")
        .filter(access::Column::ClientId.is_in(ids.to_vec()))
        .filter(access::Column::RevokedAt.is_null())
        .filter(access::Column::ExpiresAt.gt(now))
        .group_by(access::Column::ClientId)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, n)| (id, n.max(0) as u64))
        .collect())
}

/// The sortable column of the client list: the name (index `(name, client_identifier)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientSortField {
    Name,
}

impl crate::pagination::SortField for ClientSortField {
    const ALL: &'static [Self] = &[Self::Name];

    fn name(self) -> &'static str {
        "name"
    }
}

/// The client list's order.
pub type ClientSort = crate::pagination::Sort<ClientSortField>;

/// The default order: by name, A to Z.
pub const BY_NAME: ClientSort = crate::pagination::Sort {
    field: ClientSortField::Name,
    descending: false,
};

/// Clients by name, then identifier, in `sort`'s direction.
pub async fn list(
    db: &impl ConnectionTrait,
    sort: ClientSort,
    page: &PageRequest<(String, String)>,
) -> Result<Page<ClientView>> {
    // Reading backward walks the same index the other way.
    let order = sort.order(page);
    let mut query = clients::Entity::find()
        .find_also_related(configs::Entity)
        .order_by(clients::Column::Name, order.clone())
        .order_by(clients::Column::ClientIdentifier, order.clone())
        .limit(page.limit + 1);
    if let Some((name, id)) = page.boundary() {
        query = query.filter(crate::pagination::past_key(
            clients::Column::Name,
            name.as_str(),
            clients::Column::ClientIdentifier,
            id.as_str(),
            order == sea_orm::Order::Desc,
        ));
    }
    let rows: Vec<Client> = query
        .all(db)
        .await?
        .into_iter()
        .filter_map(|(row, config)| {
            let spec = ClientSpec::from_rows(&row, config.as_ref()?);
            Some(Client { row, spec })
        })
        .collect();
    let page = Page::from_request(rows, page, |c| {
        (c.row.name.clone(), c.row.client_identifier.clone())
    });
    let ids: Vec<Uuid> = page.items.iter().map(|c| c.row.id).collect();
    let counts = active_token_counts(db, &ids).await?;
    Ok(page.map(|c| c.view(counts.get(&c.row.id).copied().unwrap_or(0))))
}

/// The identifier and name of each client, by `oauth_clients.id` (for log views).
pub async fn names_by_id(db: &impl ConnectionTrait) -> Result<HashMap<Uuid, (String, String)>> {
    let rows: Vec<(Uuid, String, String)> = clients::Entity::find()
        .select_only()
        .column(clients::Column::Id)
        .column(clients::Column::ClientIdentifier)
        .column(clients::Column::Name)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, ident, name)| (id, (ident, name)))
        .collect())
}

/// Number of registered clients.
pub async fn count(db: &impl ConnectionTrait) -> Result<u64> {
    Ok(clients::Entity::find().count(db).await?)
}

/// The client ids of the clients named `name`: a second client with a name already in use
/// is allowed but looks the same in every list, so the console warns.
pub async fn named(db: &impl ConnectionTrait, name: &str) -> Result<Vec<String>> {
    Ok(clients::Entity::find()
        .filter(clients::Column::Name.eq(name))
        .order_by_asc(clients::Column::ClientIdentifier)
        .select_only()
        .column(clients::Column::ClientIdentifier)
        .into_tuple::<String>()
        .all(db)
        .await?)
}
