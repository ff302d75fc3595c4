//! A signed-in caller: the session row under its key's hash, and the identity of its user
//! (roles and permissions), which every authenticated request reads.

use std::collections::HashMap;
use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use entity::{local_users, rbac_roles, sessions, user_roles};
use rusqlite::{Connection, OptionalExtension};
use sea_orm::sea_query::extension::postgres::PgFunc;
use sea_orm::sea_query::{Expr, ExprTrait, Order, Query, SqliteQueryBuilder};
use sea_orm::{DatabaseConnection, EntityTrait, QueryFilter};

use super::super::Handle;
use super::super::coalesced::Coalesced;
use super::super::per_pool::PerPool;
use super::super::point_reads::Timestamp;
use crate::Result;
use crate::access::guard::role_permissions;
use crate::access::{Identity, PermissionSet};

/// The session row stored under `id` (the key's hash). Through the pool, each answer is read
/// after the request arrived, so a revoked session is refused on its very next request.
pub async fn session(db: &impl Handle, id: &str) -> Result<Option<SessionRow>> {
    super::read(
        db,
        &SESSIONS,
        id.to_owned(),
        |c| session_here(c, id),
        sessions_batch,
        || async {
            Ok(sessions::Entity::find_by_id(id)
                .one(db)
                .await?
                .map(SessionRow::from))
        },
    )
    .await
}

/// The session rows read together on each PostgreSQL pool.
static SESSIONS: PerPool<Coalesced<String, SessionRow>> = PerPool::new();

/// The rows of those of `ids` that exist, in one query (PostgreSQL).
async fn sessions_batch(
    db: DatabaseConnection,
    ids: Vec<String>,
) -> Result<HashMap<String, SessionRow>> {
    Ok(sessions::Entity::find()
        .filter(Expr::col(sessions::Column::SessionId).eq(PgFunc::any(ids)))
        .all(&db)
        .await?
        .into_iter()
        .map(|row| (row.session_id.clone(), SessionRow::from(row)))
        .collect())
}

impl From<sessions::Model> for SessionRow {
    fn from(row: sessions::Model) -> Self {
        Self {
            data: row.data,
            expires_at: row.expires_at.to_utc(),
            last_seen_at: row.last_seen_at.to_utc(),
        }
    }
}

/// The identity of an active user (roles by name); `None` for unknown or inactive users.
/// Through the pool, each answer is read after its request arrived, so a deactivated user or
/// a removed role counts on the very next request.
pub async fn identity(db: &impl Handle, user_id: i64) -> Result<Option<Identity>> {
    super::read(
        db,
        &IDENTITIES,
        user_id,
        |c| identity_here(c, user_id),
        identities,
        || async {
            // One query: the user joined with its roles.
            Ok(local_users::Entity::find_by_id(user_id)
                .find_with_related(rbac_roles::Entity)
                .all(db)
                .await?
                .pop()
                .and_then(|(user, roles)| identity_of(user, roles)))
        },
    )
    .await
}

/// The identities read together on each PostgreSQL pool.
static IDENTITIES: PerPool<Coalesced<i64, Identity>> = PerPool::new();

/// The identities of those of `user_ids` that are active users, in one query (`= ANY($1)`,
/// one statement whatever the number of users; PostgreSQL only).
pub async fn identities(
    db: DatabaseConnection,
    user_ids: Vec<i64>,
) -> Result<HashMap<i64, Identity>> {
    Ok(local_users::Entity::find()
        // Qualified: the roles joined in have an `id` too.
        .filter(Expr::col((local_users::Entity, local_users::Column::Id)).eq(PgFunc::any(user_ids)))
        .find_with_related(rbac_roles::Entity)
        .all(&db)
        .await?
        .into_iter()
        .filter_map(|(user, roles)| Some((user.id, identity_of(user, roles)?)))
        .collect())
}

/// The identity of `user` with its `roles`; `None` for an inactive user.
pub(crate) fn identity_of(
    user: local_users::Model,
    mut roles: Vec<rbac_roles::Model>,
) -> Option<Identity> {
    if !user.is_active {
        return None;
    }
    roles.sort_by(|a, b| a.name.cmp(&b.name));
    let permissions = roles.iter().fold(PermissionSet::EMPTY, |acc, r| {
        acc.union(role_permissions(&r.permissions))
    });
    Some(Identity {
        user_id: user.id,
        must_change_password: crate::access::users::must_change_password(&user),
        username: user.username,
        email: user.email,
        roles: roles.into_iter().map(|r| r.name).collect(),
        permissions,
    })
}

/// What a request needs of its session row.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionRow {
    pub data: String,
    pub expires_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
}

static SESSION_SQL: LazyLock<String> = LazyLock::new(|| {
    Query::select()
        .columns([
            sessions::Column::Data,
            sessions::Column::ExpiresAt,
            sessions::Column::LastSeenAt,
        ])
        .from(sessions::Entity)
        .and_where(Expr::col(sessions::Column::SessionId).eq(""))
        .build(SqliteQueryBuilder)
        .0
});

/// The session stored under `session_id` (the key's hash), read here.
fn session_here(connection: &Connection, session_id: &str) -> rusqlite::Result<Option<SessionRow>> {
    connection
        .prepare_cached(&SESSION_SQL)?
        .query_row([session_id], |row| {
            Ok(SessionRow {
                data: row.get(0)?,
                expires_at: row.get::<_, Timestamp>(1)?.0,
                last_seen_at: row.get::<_, Timestamp>(2)?.0,
            })
        })
        .optional()
}

/// The user with each of its roles (one row with empty role columns for a user without any),
/// roles by name.
static IDENTITY_SQL: LazyLock<String> = LazyLock::new(|| {
    let user = |c: local_users::Column| (local_users::Entity, c);
    Query::select()
        .columns([
            user(local_users::Column::Id),
            user(local_users::Column::Username),
            user(local_users::Column::Email),
            user(local_users::Column::IsActive),
        ])
        .expr(
            // A generated password not yet replaced (`users::must_change_password`).
            Expr::col(user(local_users::Column::PasswordHash))
                .is_not_null()
                .and(Expr::col(user(local_users::Column::PasswordChangedAt)).is_null()),
        )
        .columns([
            (rbac_roles::Entity, rbac_roles::Column::Name),
            (rbac_roles::Entity, rbac_roles::Column::Permissions),
        ])
        .from(local_users::Entity)
        .left_join(
            user_roles::Entity,
            Expr::col((user_roles::Entity, user_roles::Column::UserId))
                .equals(user(local_users::Column::Id)),
        )
        .left_join(
            rbac_roles::Entity,
            Expr::col((rbac_roles::Entity, rbac_roles::Column::Id))
                .equals((user_roles::Entity, user_roles::Column::RoleId)),
        )
        .and_where(Expr::col(user(local_users::Column::Id)).eq(0))
        .order_by((rbac_roles::Entity, rbac_roles::Column::Name), Order::Asc)
        .build(SqliteQueryBuilder)
        .0
});

/// The identity of an active user, read here; `None` for unknown or inactive users.
fn identity_here(connection: &Connection, user_id: i64) -> rusqlite::Result<Option<Identity>> {
    let mut statement = connection.prepare_cached(&IDENTITY_SQL)?;
    let mut rows = statement.query([user_id])?;
    let mut identity: Option<Identity> = None;
    while let Some(row) = rows.next()? {
        if !row.get::<_, bool>(3)? {
            return Ok(None);
        }
        let found = match &mut identity {
            Some(found) => found,
            None => identity.insert(Identity {
                user_id: row.get(0)?,
                username: row.get(1)?,
                email: row.get(2)?,
                roles: Vec::new(),
                permissions: PermissionSet::EMPTY,
                must_change_password: row.get(4)?,
            }),
        };
        if let Some(role) = row.get::<_, Option<String>>(5)? {
            let permissions: String = row.get(6)?;
            let permissions = serde_json::from_str(&permissions).map_err(|err| {
                rusqlite::Error::FromSqlConversionFailure(
                    6,
                    rusqlite::types::Type::Text,
                    Box::new(err),
                )
            })?;
            found.permissions = found.permissions.union(role_permissions(&permissions));
            found.roles.push(role);
        }
    }
    Ok(identity)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::sessions::{self, NewSession, SessionLimits};
    use crate::access::users::{self, NewUser, Username};
    use crate::audit::Actor;
    use crate::db::migrated_file_database;
    use crate::db::point_reads;
    use sea_orm::TransactionTrait;

    #[tokio::test]
    async fn reads_here_answer_what_the_pool_queries_answer() {
        let (_dir, path, db) = migrated_file_database().await;
        crate::access::roles::ensure_builtin(&db).await.unwrap();
        let mut ids = Vec::new();
        for (name, roles) in [("ops", vec!["viewer", "operator"]), ("nobody", vec![])] {
            let (user, _) = users::create(
                &db,
                &crate::access::Grantor::operator(Actor::System),
                None,
                NewUser {
                    username: Username::parse(name).unwrap(),
                    email: Some(format!("{name}@example.com")),
                    password: None,
                    roles: roles.into_iter().map(String::from).collect(),
                },
            )
            .await
            .unwrap();
            ids.push(user.id);
        }
        let limits = SessionLimits {
            idle: std::time::Duration::from_secs(600),
            absolute: std::time::Duration::from_secs(3600),
        };
        let new = NewSession {
            user_id: ids[0],
            data: r#"{"user_id":"1"}"#.into(),
            ip: None,
            user_agent: None,
        };
        sessions::create(&db, "the-key", new, limits).await.unwrap();

        let connection = Connection::open(&path).unwrap();
        for id in [ids[0], ids[1], 999] {
            let here = identity_here(&connection, id).unwrap();
            assert_eq!(
                here,
                identity(&db.begin().await.unwrap(), id).await.unwrap(),
                "user {id}"
            );
        }
        let ops = identity_here(&connection, ids[0]).unwrap().unwrap();
        assert_eq!(ops.roles, ["operator", "viewer"]);
        assert_ne!(ops.permissions, PermissionSet::EMPTY);

        let here = session_here(&connection, &sessions::key_hash("the-key")).unwrap();
        assert_eq!(here.map(|s| s.data), Some(r#"{"user_id":"1"}"#.to_string()));
        assert_eq!(
            session_here(&connection, &sessions::key_hash("other")).unwrap(),
            None
        );
        let loaded = sessions::load(&db, "the-key", limits).await.unwrap();
        assert_eq!(
            loaded,
            sessions::Loaded::Active(r#"{"user_id":"1"}"#.to_string())
        );

        // The pool of a file database answers through this thread's connection.
        let read = point_reads::read(&db, |c| identity_here(c, ids[0])).unwrap();
        assert_eq!(read.unwrap().username, "ops");
    }
}
