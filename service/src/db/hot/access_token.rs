//! An access token with its client, by the token's hash: what every bearer request reads.
//! (Tokens found valid are also kept for a moment by [`crate::oauth::token_cache`], above
//! this read.)

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use entity::{
    oauth_access_tokens as access, oauth_client_configs as configs, oauth_clients as clients,
    oauth_users as users,
};
use rusqlite::{Connection, OptionalExtension};
use sea_orm::sea_query::{Expr, ExprTrait, Query, SqliteQueryBuilder};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, JoinType, QueryFilter, QuerySelect, RelationTrait,
};
use serde_json::Value;
use uuid::Uuid;

use super::super::Handle;
use super::super::point_reads::{self, Timestamp};
use super::json_column;
use crate::Result;
use crate::oauth::Scope;
use crate::oauth::ceiling::stored_scopes;

/// What authenticating needs of an access token's row, its client and its user: one query
/// ([`access_token`]).
#[derive(Debug, Clone, PartialEq)]
pub struct TokenRow {
    pub id: Uuid,
    pub scope: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked: bool,
    /// The client's public identifier.
    pub client_id: String,
    pub client_enabled: bool,
    /// The client's allowed scopes as they are now (`oauth_client_configs`), read with the
    /// token so that narrowing a client narrows its live tokens without another query.
    pub client_scopes: Scope,
    /// Who registered the client (`oauth_clients.created_by`), whose permissions cap it.
    pub client_created_by: Option<String>,
    /// The user's external id, for a delegated token.
    pub external_user: Option<String>,
}

/// The access token whose hash is `hash`, with its client. Tokens are not batched on
/// PostgreSQL: the token cache above this read already spares most lookups there.
pub async fn access_token(db: &impl Handle, hash: &str) -> Result<Option<TokenRow>> {
    match db.pool() {
        Some(pool) => {
            point_reads::read_or_pool(pool, |c| token_here(c, hash), || token_alone(pool, hash))
                .await
        }
        None => token_alone(db, hash).await,
    }
}

/// The row of the access token with this hash in one query on `db`: the token joined with
/// its client, the client's settings and (for a delegated token) its user.
async fn token_alone(db: &impl ConnectionTrait, hash: &str) -> Result<Option<TokenRow>> {
    type Columns = (
        Uuid,
        String,
        chrono::DateTime<chrono::FixedOffset>,
        chrono::DateTime<chrono::FixedOffset>,
        Option<chrono::DateTime<chrono::FixedOffset>>,
        String,
        bool,
        Value,
        Option<String>,
        Option<String>,
    );
    let row: Option<Columns> = access::Entity::find()
        .select_only()
        .column(access::Column::Id)
        .column(access::Column::Scope)
        .column(access::Column::CreatedAt)
        .column(access::Column::ExpiresAt)
        .column(access::Column::RevokedAt)
        .column(clients::Column::ClientIdentifier)
        .column(clients::Column::IsEnabled)
        .column(configs::Column::AllowedScopes)
        .column(clients::Column::CreatedBy)
        .column(users::Column::ExternalId)
        .join(JoinType::InnerJoin, access::Relation::OauthClients.def())
        // Every client has its settings row (written in the transaction that creates it).
        .join(
            JoinType::InnerJoin,
            clients::Relation::OauthClientConfigs.def(),
        )
        .join(JoinType::LeftJoin, access::Relation::OauthUsers.def())
        .filter(access::Column::Token.eq(hash))
        .into_tuple()
        .one(db)
        .await?;
    Ok(row.map(
        |(id, scope, created, expires, revoked, client_id, enabled, allowed, by, external)| {
            TokenRow {
                id,
                scope,
                created_at: created.to_utc(),
                expires_at: expires.to_utc(),
                revoked: revoked.is_some(),
                client_id,
                client_enabled: enabled,
                client_scopes: stored_scopes(&allowed),
                client_created_by: by,
                external_user: external,
            }
        },
    ))
}

/// The token joined with its client, the client's settings (its allowed scopes now) and (for
/// a delegated token) its user; the token's hash is the one parameter.
static SQL: LazyLock<String> = LazyLock::new(|| {
    let token = |c: access::Column| (access::Entity, c);
    Query::select()
        .columns([
            token(access::Column::Id),
            token(access::Column::Scope),
            token(access::Column::CreatedAt),
            token(access::Column::ExpiresAt),
            token(access::Column::RevokedAt),
        ])
        .columns([
            (clients::Entity, clients::Column::ClientIdentifier),
            (clients::Entity, clients::Column::IsEnabled),
        ])
        .column((configs::Entity, configs::Column::AllowedScopes))
        .column((clients::Entity, clients::Column::CreatedBy))
        .column((users::Entity, users::Column::ExternalId))
        .from(access::Entity)
        .inner_join(
            clients::Entity,
            Expr::col((clients::Entity, clients::Column::Id))
                .equals(token(access::Column::ClientId)),
        )
        .inner_join(
            configs::Entity,
            Expr::col((configs::Entity, configs::Column::ClientId))
                .equals((clients::Entity, clients::Column::Id)),
        )
        .left_join(
            users::Entity,
            Expr::col((users::Entity, users::Column::Id)).equals(token(access::Column::UserId)),
        )
        .and_where(Expr::col(token(access::Column::Token)).eq(""))
        .build(SqliteQueryBuilder)
        .0
});

/// The access token whose hash is `hash`, read here.
fn token_here(connection: &Connection, hash: &str) -> rusqlite::Result<Option<TokenRow>> {
    connection
        .prepare_cached(&SQL)?
        .query_row([hash], |row| {
            Ok(TokenRow {
                id: row.get(0)?,
                scope: row.get(1)?,
                created_at: row.get::<_, Timestamp>(2)?.0,
                expires_at: row.get::<_, Timestamp>(3)?.0,
                revoked: row.get::<_, Option<Timestamp>>(4)?.is_some(),
                client_id: row.get(5)?,
                client_enabled: row.get(6)?,
                client_scopes: stored_scopes(&json_column(row, 7)?),
                client_created_by: row.get(8)?,
                external_user: row.get(9)?,
            })
        })
        .optional()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::Actor;
    use crate::db::migrated_file_database;
    use crate::oauth::bearer::authenticate;
    use crate::oauth::clients::{self, ClientInput, ClientSpec};
    use crate::oauth::{grants, secrets};
    use sea_orm::TransactionTrait;

    #[tokio::test]
    async fn a_read_here_answers_what_the_pool_query_answers() {
        let (_dir, path, db) = migrated_file_database().await;
        let spec = ClientSpec::new_from(ClientInput {
            name: Some("reader".into()),
            grant_types: Some(vec!["client_credentials".into()]),
            allowed_scopes: Some(vec!["registry:read".into()]),
            ..Default::default()
        })
        .unwrap();
        let created = clients::create(
            &db,
            &crate::access::Grantor::operator(Actor::System),
            None,
            spec,
        )
        .await
        .unwrap();
        let client = clients::get(&db, &created.client.client_id).await.unwrap();
        let issued = grants::client_credentials(&db, &client, None)
            .await
            .unwrap();
        let hash = secrets::hash(&issued.access_token);

        let connection = Connection::open(&path).unwrap();
        let here = token_here(&connection, &hash).unwrap();
        assert!(here.is_some());
        assert_eq!(
            here,
            access_token(&db.begin().await.unwrap(), &hash)
                .await
                .unwrap()
        );
        assert_eq!(
            token_here(&connection, &secrets::hash("unknown")).unwrap(),
            None
        );

        let grant = authenticate(&db, &issued.access_token)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(grant.client_id, created.client.client_id);
        assert!(authenticate(&db, "unknown").await.unwrap().is_none());
    }
}
