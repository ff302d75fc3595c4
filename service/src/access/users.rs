//! Admin users: create, list, change, delete, passwords, and the first admin.

use chrono::Utc;

use sea_orm::sea_query::{Expr, Func};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait,
    ModelTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use sea_orm::{ExprTrait, QueryTrait};
use serde::Serialize;
use serde_json::json;

use super::guard::{ensure_a_user_admin_remains, role_permissions};
use super::{BuiltinRole, Grantor, Password, PermissionSet, password, sessions};
use crate::audit::{self, Actor, AuditEntry};
use crate::db::begin_write;
use crate::db::hot::caller::identity_of;
use crate::pagination::{Page, PageRequest, Sort, SortField};
use crate::{Error, FieldError, Result};

use entity::local_users::{self, Column};

/// A username: 1–64 characters of `a-z 0-9 . _ @ -`, stored lowercase (unique without regard to case).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    /// Normalises and checks a username.
    pub fn parse(raw: &str) -> Result<Self> {
        let name = raw.trim().to_lowercase();
        let ok_char = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || "._@-".contains(c);
        if name.is_empty() || name.chars().count() > 64 {
            return Err(Error::invalid(
                "username",
                "must be 1 to 64 characters long",
            ));
        }
        if !name.chars().all(ok_char) {
            return Err(Error::invalid(
                "username",
                "may contain only letters, digits and . _ @ -",
            ));
        }
        Ok(Self(name))
    }

    /// The normalised name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Who a signed-in user is and what they may do.
#[derive(Debug, Clone, PartialEq)]
pub struct Identity {
    pub user_id: i64,
    pub username: String,
    pub email: Option<String>,
    pub roles: Vec<String>,
    pub permissions: PermissionSet,
    /// The password in force was generated (first admin, an admin's create or reset) and the
    /// user has not set their own yet: the console lets them do nothing else.
    pub must_change_password: bool,
}

/// The identities of a set of users in one query (PostgreSQL), as requests arriving
/// together read them ([`crate::db::hot::caller`]).
pub use crate::db::hot::caller::identities as active_identities;

/// Whether `user` signs in with a generated password they have not replaced yet.
///
/// `password_changed_at` records when a password was *chosen* (by its holder, or typed by
/// whoever created or reset it); it stays `NULL` while the password in force is a generated
/// one, which only its holder can end by choosing their own.
pub(crate) fn must_change_password(user: &local_users::Model) -> bool {
    user.password_hash.is_some() && user.password_changed_at.is_none()
}

/// A user as lists and detail pages show it.
#[derive(Debug, Clone, Serialize)]
pub struct UserSummary {
    pub id: i64,
    pub username: String,
    pub email: Option<String>,
    pub is_active: bool,
    pub roles: Vec<String>,
    pub last_login_at: Option<chrono::DateTime<Utc>>,
    pub created_at: chrono::DateTime<Utc>,
}

/// Input of "create user", already parsed.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: Username,
    pub email: Option<String>,
    /// `None` generates a password, returned once.
    pub password: Option<Password>,
    pub roles: Vec<String>,
}

/// Checks an optional email address.
pub fn parse_email(raw: Option<&str>) -> Result<Option<String>> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(e) if validator::ValidateEmail::validate_email(&e) => Ok(Some(e.to_string())),
        Some(_) => Err(Error::invalid("email", "is not an email address")),
    }
}

/// The roles named, checked to exist and to grant nothing beyond what `by` holds.
async fn grantable_roles(
    db: &impl ConnectionTrait,
    by: &Grantor,
    names: &[String],
) -> Result<Vec<i64>> {
    let mut ids = Vec::new();
    let mut granted = PermissionSet::EMPTY;
    let mut unknown = Vec::new();
    for name in names {
        match entity::rbac_roles::Entity::find()
            .filter(entity::rbac_roles::Column::Name.eq(name.as_str()))
            .one(db)
            .await?
        {
            Some(role) => {
                ids.push(role.id);
                granted = granted.union(role_permissions(&role.permissions));
            }
            None => unknown.push(FieldError::new(
                "roles",
                format!("there is no role named {name}"),
            )),
        }
    }
    if !unknown.is_empty() {
        return Err(Error::Validation(unknown));
    }
    let what = match names {
        [one] => format!("assigning the role {one}"),
        many => format!("assigning the roles {}", many.join(", ")),
    };
    by.ensure_holds(granted, what)?;
    Ok(ids)
}

/// A user's name and everything their roles grant, whether the user is active or not.
pub async fn holdings(db: &impl ConnectionTrait, user_id: i64) -> Result<(String, PermissionSet)> {
    let (user, roles) = local_users::Entity::find_by_id(user_id)
        .find_with_related(entity::rbac_roles::Entity)
        .all(db)
        .await?
        .pop()
        .ok_or_else(|| Error::NotFound(format!("user {user_id}")))?;
    let holds = roles.iter().fold(PermissionSet::EMPTY, |acc, r| {
        acc.union(role_permissions(&r.permissions))
    });
    Ok((user.username, holds))
}

/// Run after a change to what a user holds commits: client tokens capped by their creator's
/// permissions are read again rather than taken from the last second's memory.
pub(crate) fn forget_cached_tokens(txn: &crate::db::WriteTxn) {
    txn.after_commit(crate::oauth::token_cache::forget_all);
}

/// Gives `user_id` exactly `role_ids` (the ones it held before and not named are removed).
pub(crate) async fn set_roles(
    db: &impl ConnectionTrait,
    user_id: i64,
    role_ids: &[i64],
) -> Result<()> {
    entity::user_roles::Entity::delete_many()
        .filter(entity::user_roles::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    let now = Utc::now().fixed_offset();
    let rows = role_ids
        .iter()
        .map(|role_id| entity::user_roles::ActiveModel {
            user_id: Set(user_id),
            role_id: Set(*role_id),
            created_at: Set(now),
        });
    entity::user_roles::Entity::insert_many(rows)
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// Creates a user; returns it and the generated password, if one was generated. The roles
/// must grant nothing beyond what `by` holds.
#[tracing::instrument(name = "access.users.create", skip_all)]
pub async fn create(
    db: &DatabaseConnection,
    by: &Grantor,
    ip: Option<String>,
    input: NewUser,
) -> Result<(UserSummary, Option<Password>)> {
    let hashed = HashedPassword::of(&input).await?;
    let txn = begin_write(db).await?;
    let (user, entry) = create_in(&txn, by, ip, input, &hashed).await?;
    audit::commit_audited(txn, entry, &[]).await?;
    Ok((user, hashed.generated))
}

/// A new user's password, hashed before the write begins (hashing is slow on purpose, and
/// must not hold the writer's turn).
pub struct HashedPassword {
    hash: String,
    /// The password generated because none was given, to show once.
    generated: Option<Password>,
}

impl HashedPassword {
    /// Hashes the password of `input`, or a generated one when it has none.
    pub async fn of(input: &NewUser) -> Result<Self> {
        let generated = input.password.is_none().then(Password::generate);
        let password = input
            .password
            .as_ref()
            .or(generated.as_ref())
            .ok_or_else(|| Error::internal("no password"))?;
        let hash = password::hash(password).await?;
        Ok(Self { hash, generated })
    }
}

/// Creates a user inside `txn` with a password hashed beforehand, without committing:
/// answers the user and the audit row that records the creation.
pub async fn create_in(
    txn: &impl ConnectionTrait,
    by: &Grantor,
    ip: Option<String>,
    input: NewUser,
    password: &HashedPassword,
) -> Result<(UserSummary, AuditEntry)> {
    let taken = local_users::Entity::find()
        .filter(Column::Username.eq(input.username.as_str()))
        .count(txn)
        .await?;
    if taken > 0 {
        return Err(Error::Conflict {
            message: format!("the username {} is taken", input.username.as_str()),
            details: vec![FieldError::new("username", "is taken")],
        });
    }
    let ids = grantable_roles(txn, by, &input.roles).await?;
    let now = Utc::now().fixed_offset();
    let user = local_users::ActiveModel {
        username: Set(input.username.as_str().to_string()),
        password_hash: Set(Some(password.hash.clone())),
        email: Set(input.email.clone()),
        is_active: Set(true),
        failed_login_count: Set(0),
        // NULL while the password is a generated one (`must_change_password`).
        password_changed_at: Set(password.generated.is_none().then_some(now)),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    set_roles(txn, user.id, &ids).await?;
    let entry = AuditEntry::new("user.created", &by.actor)
        .target(user.username.clone())
        .details(json!({"email": input.email, "roles": input.roles}))
        .ip(ip);
    Ok((summary(user, input.roles), entry))
}

fn summary(user: local_users::Model, roles: Vec<String>) -> UserSummary {
    UserSummary {
        id: user.id,
        username: user.username,
        email: user.email,
        is_active: user.is_active,
        roles,
        last_login_at: user.last_login_at.map(|t| t.to_utc()),
        created_at: user.created_at.to_utc(),
    }
}

/// Filters of the user list.
#[derive(Debug, Clone, Default)]
pub struct UserFilter {
    /// Substring of the username or email.
    pub q: Option<String>,
    pub role: Option<String>,
    pub active: Option<bool>,
}

/// The sortable column of the user list: the username (unique, so its own index).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserSortField {
    Username,
}

impl SortField for UserSortField {
    const ALL: &'static [Self] = &[Self::Username];

    fn name(self) -> &'static str {
        "username"
    }
}

/// The user list's order.
pub type UserSort = Sort<UserSortField>;

/// The default order: by username, A to Z.
pub const BY_USERNAME: UserSort = Sort {
    field: UserSortField::Username,
    descending: false,
};

/// A page of users in `sort` order.
pub async fn list(
    db: &impl ConnectionTrait,
    filter: &UserFilter,
    sort: UserSort,
    page: &PageRequest<String>,
) -> Result<Page<UserSummary>> {
    // Reading backward walks the same index the other way.
    let mut query = local_users::Entity::find().limit(page.limit + 1);
    if sort.order(page) == sea_orm::Order::Desc {
        query = query.order_by_desc(Column::Username);
        if let Some(before) = page.boundary() {
            query = query.filter(Column::Username.lt(before.as_str()));
        }
    } else {
        query = query.order_by_asc(Column::Username);
        if let Some(after) = page.boundary() {
            query = query.filter(Column::Username.gt(after.as_str()));
        }
    }
    if let Some(q) = filter.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        let pattern = format!(
            "%{}%",
            q.to_lowercase()
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        );
        query = query.filter(
            Condition::any()
                .add(
                    Expr::col(Column::Username)
                        .like(sea_orm::sea_query::LikeExpr::new(&pattern).escape('\\')),
                )
                .add(
                    Expr::expr(Func::lower(Expr::col(Column::Email)))
                        .like(sea_orm::sea_query::LikeExpr::new(&pattern).escape('\\')),
                ),
        );
    }
    if let Some(active) = filter.active {
        query = query.filter(Column::IsActive.eq(active));
    }
    if let Some(role) = filter.role.as_deref().filter(|r| !r.is_empty()) {
        let holders = entity::user_roles::Entity::find()
            .select_only()
            .column(entity::user_roles::Column::UserId)
            .inner_join(entity::rbac_roles::Entity)
            .filter(entity::rbac_roles::Column::Name.eq(role))
            .into_query();
        query = query.filter(Column::Id.in_subquery(holders));
    }
    let users = query.all(db).await?;
    let page = Page::from_request(users, page, |u| u.username.clone());
    let ids: Vec<i64> = page.items.iter().map(|u| u.id).collect();
    let pairs = entity::user_roles::Entity::find()
        .filter(entity::user_roles::Column::UserId.is_in(ids))
        .find_also_related(entity::rbac_roles::Entity)
        .all(db)
        .await?;
    Ok(page.map(|u| {
        let mut roles: Vec<String> = pairs
            .iter()
            .filter(|(ur, _)| ur.user_id == u.id)
            .filter_map(|(_, r)| r.as_ref().map(|r| r.name.clone()))
            .collect();
        roles.sort();
        summary(u, roles)
    }))
}

/// One user by id.
pub async fn get(db: &impl ConnectionTrait, id: i64) -> Result<UserSummary> {
    let user = local_users::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| Error::NotFound(format!("user {id}")))?;
    let mut roles: Vec<String> = user
        .find_related(entity::rbac_roles::Entity)
        .all(db)
        .await?
        .into_iter()
        .map(|r| r.name)
        .collect();
    roles.sort();
    Ok(summary(user, roles))
}

/// What an admin may change on a user.
#[derive(Debug, Clone)]
pub struct UserUpdate {
    pub email: Option<String>,
    pub is_active: bool,
    pub roles: Vec<String>,
}

/// Changes email, active flag and roles. Nobody deactivates themselves; the last
/// `users:write` holder keeps it. Deactivating ends the user's sessions. `by` must hold
/// everything the user holds now and everything the new roles grant.
#[tracing::instrument(name = "access.users.update", skip_all, fields(user_id = id))]
pub async fn update(
    db: &DatabaseConnection,
    by: &Grantor,
    acting_user: i64,
    ip: Option<String>,
    id: i64,
    input: UserUpdate,
) -> Result<UserSummary> {
    if id == acting_user && !input.is_active {
        return Err(Error::Forbidden("you cannot deactivate yourself".into()));
    }
    let before = get(db, id).await?;
    let txn = begin_write(db).await?;
    by.ensure_may_act_on(&txn, id, "changing").await?;
    let ids = grantable_roles(&txn, by, &input.roles).await?;
    forget_cached_tokens(&txn);
    let mut user: local_users::ActiveModel = local_users::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or_else(|| Error::NotFound(format!("user {id}")))?
        .into();
    user.email = Set(input.email.clone());
    user.is_active = Set(input.is_active);
    user.updated_at = Set(Utc::now().fixed_offset());
    user.update(&txn).await?;
    set_roles(&txn, id, &ids).await?;
    ensure_a_user_admin_remains(&txn).await?;
    if !input.is_active {
        sessions::delete_for_user(&txn, id, None).await?;
    }
    let mut roles = input.roles.clone();
    roles.sort();
    audit::commit_audited(
        txn,
        AuditEntry::new("user.updated", &by.actor).target(before.username.clone()).ip(ip).details(json!({
            "old": {"email": before.email, "is_active": before.is_active, "roles": before.roles},
            "new": {"email": input.email, "is_active": input.is_active, "roles": roles},
        })),
        &[],
    )
    .await?;
    get(db, id).await
}

/// Deletes a user (and, by cascade, their sessions and role assignments); `by` must hold
/// everything the user holds.
#[tracing::instrument(name = "access.users.delete", skip_all, fields(user_id = id))]
pub async fn delete(
    db: &DatabaseConnection,
    by: &Grantor,
    acting_user: i64,
    ip: Option<String>,
    id: i64,
) -> Result<()> {
    if id == acting_user {
        return Err(Error::Forbidden("you cannot delete yourself".into()));
    }
    let txn = begin_write(db).await?;
    let user = local_users::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or_else(|| Error::NotFound(format!("user {id}")))?;
    let username = user.username.clone();
    by.ensure_may_act_on(&txn, id, "deleting").await?;
    forget_cached_tokens(&txn);
    user.delete(&txn).await?;
    ensure_a_user_admin_remains(&txn).await?;
    audit::commit_audited(
        txn,
        AuditEntry::new("user.deleted", &by.actor)
            .target(username)
            .ip(ip),
        &[],
    )
    .await?;
    Ok(())
}

/// Sets a new password (generated when `None`, and returned) and ends all the user's sessions
/// except `keep_session`. `by` must hold everything the user holds. A generated password must
/// be replaced by its holder at their next sign-in.
#[tracing::instrument(name = "access.users.set_password", skip_all, fields(user_id = id))]
pub async fn set_password(
    db: &DatabaseConnection,
    by: &Grantor,
    ip: Option<String>,
    id: i64,
    password: Option<Password>,
    keep_session: Option<&str>,
) -> Result<Option<Password>> {
    let generated = password.is_none().then(Password::generate);
    let chosen = password
        .as_ref()
        .or(generated.as_ref())
        .cloned()
        .ok_or_else(|| Error::internal("no password"))?;
    let change = PasswordChange {
        by,
        ip,
        id,
        generated: generated.is_some(),
        keep_session,
    };
    replace_password(db, change, &chosen, |_, ended| {
        (
            "user.password_reset",
            json!({"sessions_ended": ended, "generated": generated.is_some()}),
        )
    })
    .await?;
    Ok(generated)
}

/// A user sets their own password (checked by the caller against their current one): a
/// generated password is then replaced for good. Ends their other sessions.
#[tracing::instrument(name = "access.users.change_own_password", skip_all, fields(user_id = id))]
pub async fn change_own_password(
    db: &DatabaseConnection,
    by: &Grantor,
    ip: Option<String>,
    id: i64,
    password: &Password,
    keep_session: Option<&str>,
) -> Result<()> {
    let change = PasswordChange {
        by,
        ip,
        id,
        generated: false,
        keep_session,
    };
    replace_password(db, change, password, |before, ended| {
        (
            "user.password_changed",
            json!({"sessions_ended": ended, "replaced_generated": before.password_changed_at.is_none()}),
        )
    })
    .await
}

/// Who replaces which user's password, and how.
struct PasswordChange<'a> {
    by: &'a Grantor,
    ip: Option<String>,
    id: i64,
    /// The new password was generated: the user must replace it.
    generated: bool,
    keep_session: Option<&'a str>,
}

/// Stores `password` for the user, ends their sessions but `keep_session`, and records the
/// audit row `describe(user before, sessions ended)` names, in one transaction.
async fn replace_password(
    db: &DatabaseConnection,
    change: PasswordChange<'_>,
    password: &Password,
    describe: impl FnOnce(&local_users::Model, u64) -> (&'static str, serde_json::Value),
) -> Result<()> {
    let hash = password::hash(password).await?;
    let id = change.id;
    let txn = begin_write(db).await?;
    let before = local_users::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or_else(|| Error::NotFound(format!("user {id}")))?;
    change
        .by
        .ensure_may_act_on(&txn, id, "setting the password of")
        .await?;
    let mut user: local_users::ActiveModel = before.clone().into();
    let now = Utc::now().fixed_offset();
    user.password_hash = Set(Some(hash));
    user.password_changed_at = Set((!change.generated).then_some(now));
    user.updated_at = Set(now);
    user.update(&txn).await?;
    let ended = sessions::delete_for_user(&txn, id, change.keep_session).await?;
    let (action, details) = describe(&before, ended);
    audit::commit_audited(
        txn,
        AuditEntry::new(action, &change.by.actor)
            .target(before.username.clone())
            .ip(change.ip)
            .details(details),
        &[],
    )
    .await?;
    Ok(())
}

/// Usernames of active users whose generated password has not been replaced yet (at most
/// `limit`, by name), and how many there are: the overview's warning. `local_users` is small
/// (people, not devices), so this reads it whole.
pub async fn with_generated_password(
    db: &impl ConnectionTrait,
    limit: usize,
) -> Result<(Vec<String>, usize)> {
    let names: Vec<String> = local_users::Entity::find()
        .select_only()
        .column(Column::Username)
        .filter(Column::PasswordHash.is_not_null())
        .filter(Column::PasswordChangedAt.is_null())
        .filter(Column::IsActive.eq(true))
        .order_by_asc(Column::Username)
        .into_tuple()
        .all(db)
        .await?;
    let total = names.len();
    Ok((names.into_iter().take(limit).collect(), total))
}

/// Looks a user up by name (case-insensitive).
pub async fn find_by_username(
    db: &impl ConnectionTrait,
    username: &str,
) -> Result<Option<local_users::Model>> {
    Ok(local_users::Entity::find()
        // Usernames are stored lowercase (and a unique index on lower(username) keeps it so).
        .filter(Column::Username.eq(username.trim().to_lowercase()))
        .one(db)
        .await?)
}

/// True when `plain` is the user's current password (checked on the blocking pool; a user
/// without a password, or no such user, takes the same time and answers false).
pub async fn verify_password(db: &impl ConnectionTrait, user_id: i64, plain: &str) -> Result<bool> {
    let hash = local_users::Entity::find_by_id(user_id)
        .one(db)
        .await?
        .and_then(|u| u.password_hash);
    Ok(password::verify(plain, hash.as_deref()).await? != password::Verified::No)
}

/// On a database without users, creates the first admin. Returns the generated password
/// (to print once) when none was configured.
pub async fn ensure_first_admin(
    db: &DatabaseConnection,
    username: &str,
    password: Option<&str>,
) -> Result<Option<Password>> {
    if local_users::Entity::find().count(db).await? > 0 {
        return Ok(None);
    }
    let username = Username::parse(username)?;
    let password = password
        .map(|p| Password::parse(p, username.as_str(), "METADECK_ADMIN_PASSWORD"))
        .transpose()?;
    let input = NewUser {
        username,
        email: None,
        password,
        roles: vec![BuiltinRole::Admin.name().to_string()],
    };
    let hashed = HashedPassword::of(&input).await?;
    // Counted again in the write: of two processes starting on an empty database at once,
    // only the first creates the admin, and the other starts without one of its own.
    let txn = begin_write(db).await?;
    if local_users::Entity::find().count(&txn).await? > 0 {
        txn.rollback().await?;
        return Ok(None);
    }
    let by = Grantor::operator(Actor::System);
    let (_, entry) = create_in(&txn, &by, None, input, &hashed).await?;
    audit::commit_audited(txn, entry, &[]).await?;
    Ok(hashed.generated)
}

/// The identity of the active user named `username`, in one query on the unique
/// `local_users.username` index (names are stored lowercase, so the name is lowercased
/// first); `None` for unknown or inactive users. How a client registered by a user is capped
/// by what that user holds now ([`crate::oauth::bearer`]).
pub async fn identity_by_username(
    db: &impl ConnectionTrait,
    username: &str,
) -> Result<Option<Identity>> {
    Ok(local_users::Entity::find()
        .filter(Column::Username.eq(username.to_lowercase()))
        .find_with_related(entity::rbac_roles::Entity)
        .all(db)
        .await?
        .pop()
        .and_then(|(user, roles)| identity_of(user, roles)))
}
