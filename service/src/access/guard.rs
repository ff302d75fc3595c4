//! The invariant that keeps an installation administrable.

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use super::{Permission, PermissionSet};
use crate::{Error, Result};

/// Fails unless at least one active user still holds `users:write`. Called inside the
/// transaction of every change to users, their roles or role permissions, before commit.
pub(crate) async fn ensure_a_user_admin_remains(db: &impl ConnectionTrait) -> Result<()> {
    let users = entity::local_users::Entity::find()
        .filter(entity::local_users::Column::IsActive.eq(true))
        .find_with_related(entity::rbac_roles::Entity)
        .all(db)
        .await?;
    let remains = users.iter().any(|(_, roles)| {
        roles
            .iter()
            .any(|r| role_permissions(&r.permissions).contains(Permission::UsersWrite))
    });
    if remains {
        Ok(())
    } else {
        Err(Error::conflict(
            "the last active user holding users:write cannot lose it",
        ))
    }
}

/// Permissions stored in a role's JSON array.
pub(crate) fn role_permissions(json: &serde_json::Value) -> PermissionSet {
    PermissionSet::from_names(
        json.as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str()),
    )
}
