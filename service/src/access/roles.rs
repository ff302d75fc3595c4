//! Roles: the three built-in ones and custom roles built from the permission catalog.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, JoinType,
    ModelTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, RelationTrait, Set,
};
use serde::Serialize;
use serde_json::json;

use super::guard::{ensure_a_user_admin_remains, role_permissions};
use super::{BuiltinRole, Grantor, PermissionSet};
use crate::affected::{self, Affected};
use crate::audit::{self, AuditEntry};
use crate::db::begin_write;
use crate::{Error, FieldError, Result};

use entity::rbac_roles::{self, Column};

/// A role as pages show it.
#[derive(Debug, Clone, Serialize)]
pub struct RoleSummary {
    pub id: i64,
    pub name: String,
    pub description: Option<String>,
    pub permissions: Vec<&'static str>,
    pub is_system: bool,
}

/// A validated role definition.
#[derive(Debug, Clone)]
pub struct RoleInput {
    pub name: String,
    pub description: Option<String>,
    pub permissions: PermissionSet,
}

impl RoleInput {
    /// Checks the name (1–64 characters of `a-z 0-9 _ -`) and the permission names.
    pub fn parse(name: &str, description: Option<&str>, permissions: &[String]) -> Result<Self> {
        let name = name.trim().to_lowercase();
        let mut errors = Vec::new();
        if name.is_empty()
            || name.len() > 64
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            errors.push(FieldError::new(
                "name",
                "must be 1 to 64 characters of a-z, 0-9, _ and -",
            ));
        }
        let mut set = PermissionSet::EMPTY;
        for p in permissions {
            match super::Permission::parse(p) {
                Some(p) => set.insert(p),
                None => errors.push(FieldError::new(
                    "permissions",
                    format!("{p} is not in the permission catalog"),
                )),
            }
        }
        if !errors.is_empty() {
            return Err(Error::Validation(errors));
        }
        let description = description
            .map(str::trim)
            .filter(|d| !d.is_empty())
            .map(str::to_string);
        Ok(Self {
            name,
            description,
            permissions: set,
        })
    }
}

fn summary(role: rbac_roles::Model) -> RoleSummary {
    RoleSummary {
        id: role.id,
        permissions: role_permissions(&role.permissions).names(),
        name: role.name,
        description: role.description,
        is_system: role.is_system,
    }
}

/// Creates the built-in roles that are missing and keeps their permissions as the code defines them.
pub async fn ensure_builtin(db: &DatabaseConnection) -> Result<()> {
    let txn = begin_write(db).await?;
    let now = Utc::now().fixed_offset();
    for role in BuiltinRole::ALL {
        let permissions = json!(role.permissions().names());
        match rbac_roles::Entity::find()
            .filter(Column::Name.eq(role.name()))
            .one(&txn)
            .await?
        {
            Some(existing) if existing.permissions == permissions && existing.is_system => {}
            Some(existing) => {
                let mut row: rbac_roles::ActiveModel = existing.into();
                row.permissions = Set(permissions);
                row.is_system = Set(true);
                row.updated_at = Set(now);
                row.update(&txn).await?;
            }
            None => {
                rbac_roles::ActiveModel {
                    name: Set(role.name().into()),
                    description: Set(Some(role.description().into())),
                    permissions: Set(permissions),
                    is_system: Set(true),
                    created_at: Set(now),
                    updated_at: Set(now),
                    ..Default::default()
                }
                .insert(&txn)
                .await?;
            }
        }
    }
    txn.commit().await?;
    Ok(())
}

/// Every role, built-in first.
pub async fn list(db: &impl ConnectionTrait) -> Result<Vec<RoleSummary>> {
    let roles = rbac_roles::Entity::find()
        .order_by_desc(Column::IsSystem)
        .order_by_asc(Column::Name)
        .all(db)
        .await?;
    Ok(roles.into_iter().map(summary).collect())
}

/// One role.
pub async fn get(db: &impl ConnectionTrait, id: i64) -> Result<RoleSummary> {
    Ok(summary(find(db, id).await?))
}

/// Passes when `by` may change or delete `role` (`action` reads "changing", "deleting"): it
/// must hold everything the role grants. The console asks this before it offers either, or
/// asks about a deletion, so nobody is shown a form or a question the change would refuse.
pub fn ensure_may_change(by: &Grantor, role: &RoleSummary, action: &str) -> Result<()> {
    by.ensure_holds(
        PermissionSet::from_names(role.permissions.iter().copied()),
        format!("{action} the role {}", role.name),
    )
}

/// The users holding the role `id`, by name: what deleting it, or taking a permission from
/// it, acts on.
pub async fn holders(db: &impl ConnectionTrait, id: i64) -> Result<Affected> {
    let total = entity::user_roles::Entity::find()
        .filter(entity::user_roles::Column::RoleId.eq(id))
        .count(db)
        .await?;
    let names = entity::user_roles::Entity::find()
        .join(
            JoinType::InnerJoin,
            entity::user_roles::Relation::LocalUsers.def(),
        )
        .filter(entity::user_roles::Column::RoleId.eq(id))
        .order_by_asc(entity::local_users::Column::Username)
        .limit(affected::SHOWN)
        .select_only()
        .column(entity::local_users::Column::Username)
        .into_tuple::<String>()
        .all(db)
        .await?;
    Ok(Affected { total, names })
}

async fn find(db: &impl ConnectionTrait, id: i64) -> Result<rbac_roles::Model> {
    rbac_roles::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| Error::NotFound(format!("role {id}")))
}

fn refuse_builtin(role: &rbac_roles::Model) -> Result<()> {
    if role.is_system {
        return Err(Error::Forbidden(format!(
            "the built-in role {} cannot be changed",
            role.name
        )));
    }
    Ok(())
}

/// Creates a custom role granting nothing beyond what `by` holds.
#[tracing::instrument(name = "access.roles.create", skip_all)]
pub async fn create(
    db: &DatabaseConnection,
    by: &Grantor,
    ip: Option<String>,
    input: RoleInput,
) -> Result<RoleSummary> {
    by.ensure_holds(
        input.permissions,
        format!("creating the role {}", input.name),
    )?;
    let txn = begin_write(db).await?;
    if rbac_roles::Entity::find()
        .filter(Column::Name.eq(input.name.as_str()))
        .one(&txn)
        .await?
        .is_some()
    {
        return Err(Error::Conflict {
            message: format!("a role named {} exists", input.name),
            details: vec![FieldError::new("name", "is taken")],
        });
    }
    let now = Utc::now().fixed_offset();
    let role = rbac_roles::ActiveModel {
        name: Set(input.name.clone()),
        description: Set(input.description.clone()),
        permissions: Set(json!(input.permissions.names())),
        is_system: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    audit::commit_audited(
        txn,
        AuditEntry::new("role.created", &by.actor)
            .target(role.name.clone())
            .ip(ip)
            .details(json!({"permissions": input.permissions.names()})),
        &[],
    )
    .await?;
    Ok(summary(role))
}

/// Changes a custom role's description and permissions. `by` must hold every permission the
/// role grants before and after: adding one grants it to the role's holders, and taking one
/// away acts on them.
#[tracing::instrument(name = "access.roles.update", skip_all, fields(role_id = id))]
pub async fn update(
    db: &DatabaseConnection,
    by: &Grantor,
    ip: Option<String>,
    id: i64,
    input: RoleInput,
) -> Result<RoleSummary> {
    let txn = begin_write(db).await?;
    let role = find(&txn, id).await?;
    refuse_builtin(&role)?;
    let old_set = role_permissions(&role.permissions);
    by.ensure_holds(
        old_set.union(input.permissions),
        format!("changing the role {}", role.name),
    )?;
    txn.after_commit(crate::oauth::token_cache::forget_all);
    let old = old_set.names();
    let name = role.name.clone();
    let mut row: rbac_roles::ActiveModel = role.into();
    row.description = Set(input.description.clone());
    row.permissions = Set(json!(input.permissions.names()));
    row.updated_at = Set(Utc::now().fixed_offset());
    let role = row.update(&txn).await?;
    ensure_a_user_admin_remains(&txn).await?;
    audit::commit_audited(
        txn,
        AuditEntry::new("role.updated", &by.actor).target(name).ip(ip).details(json!({
            "old": {"permissions": old}, "new": {"permissions": input.permissions.names(), "description": input.description},
        })),
        &[],
    )
    .await?;
    Ok(summary(role))
}

/// Deletes a custom role (its assignments go with it); `by` must hold every permission it
/// grants, since deleting it takes them from its holders.
#[tracing::instrument(name = "access.roles.delete", skip_all, fields(role_id = id))]
pub async fn delete(
    db: &DatabaseConnection,
    by: &Grantor,
    ip: Option<String>,
    id: i64,
) -> Result<()> {
    let txn = begin_write(db).await?;
    let role = find(&txn, id).await?;
    refuse_builtin(&role)?;
    by.ensure_holds(
        role_permissions(&role.permissions),
        format!("deleting the role {}", role.name),
    )?;
    txn.after_commit(crate::oauth::token_cache::forget_all);
    let name = role.name.clone();
    role.delete(&txn).await?;
    ensure_a_user_admin_remains(&txn).await?;
    audit::commit_audited(
        txn,
        AuditEntry::new("role.deleted", &by.actor)
            .target(name)
            .ip(ip),
        &[],
    )
    .await?;
    Ok(())
}
