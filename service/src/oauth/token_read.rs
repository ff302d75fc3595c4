//! An access token's row read on the calling thread ([`crate::db::point_reads`]): the lookup
//! behind every bearer request on SQLite, answering exactly what [`super::bearer::token_row`]
//! answers through the pool.

use std::sync::LazyLock;

use entity::{
    oauth_access_tokens as access, oauth_client_configs as configs, oauth_clients as clients,
    oauth_users as users,
};
use rusqlite::{Connection, OptionalExtension};
use sea_orm::sea_query::{Expr, ExprTrait, Query, SqliteQueryBuilder};

use super::bearer::TokenRow;
use super::ceiling::stored_scopes;
use crate::db::point_reads::Timestamp;

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

/// The access token whose hash is `hash`.
pub(super) fn token(connection: &Connection, hash: &str) -> rusqlite::Result<Option<TokenRow>> {
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

/// A JSON text column (SQLite keeps JSON as text); text that is not JSON is a conversion
/// error, so the read is left to the pool, which reports it.
fn json_column(row: &rusqlite::Row<'_>, index: usize) -> rusqlite::Result<serde_json::Value> {
    let text: String = row.get(index)?;
    serde_json::from_str(&text).map_err(|err| {
        rusqlite::Error::FromSqlConversionFailure(index, rusqlite::types::Type::Text, Box::new(err))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::Actor;
    use crate::db::migrated_file_database;
    use crate::oauth::bearer::{authenticate, token_row};
    use crate::oauth::clients::{self, ClientInput, ClientSpec};
    use crate::oauth::{grants, secrets};

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
        let here = token(&connection, &hash).unwrap();
        assert!(here.is_some());
        assert_eq!(here, token_row(&db, &hash).await.unwrap());
        assert_eq!(token(&connection, &secrets::hash("unknown")).unwrap(), None);

        let grant = authenticate(&db, &issued.access_token)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(grant.client_id, created.client.client_id);
        assert!(authenticate(&db, "unknown").await.unwrap().is_none());
    }
}
