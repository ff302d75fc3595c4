//! AD group mappings: list, create and delete, each change audited.
//!
//! Mapping a group to a role grants that role to everyone in the group at their next single
//! sign-on, so it follows the rule of spec 02: nobody maps a group to a role holding
//! permissions they do not hold themselves. Deleting a mapping takes the role from those
//! users, which acts on the role's holders just as much, so it asks the same. A mapping
//! has no other field than its group and role: changing one is deleting it and creating
//! another.

use chrono::{DateTime, Utc};
use entity::{ad_group_mappings, rbac_roles};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use crate::access::guard::role_permissions;
use crate::access::{Grantor, roles};
use crate::audit::{self, AuditEntry};
use crate::db::begin_write;
use crate::pagination::{Page, PageRequest};
use crate::{Error, FieldError, Result};

/// The longest group name or DN a mapping holds.
pub const AD_GROUP_MAX: usize = 512;

/// A mapping as reads show it: its group and the role it gives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct AdMapping {
    pub id: Uuid,
    /// A group name or a DN.
    pub ad_group: String,
    pub role_id: i64,
    pub role_name: String,
    pub created_at: DateTime<Utc>,
}

/// A validated new mapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdMappingInput {
    pub ad_group: String,
    pub role_id: i64,
}

impl AdMappingInput {
    /// Checks the group: trimmed, 1 to [`AD_GROUP_MAX`] characters, no control characters.
    /// `field` names the group's field in errors.
    pub fn parse(ad_group: &str, role_id: i64, field: &str) -> Result<Self> {
        let ad_group = ad_group.trim();
        if ad_group.is_empty()
            || ad_group.chars().count() > AD_GROUP_MAX
            || ad_group.chars().any(char::is_control)
        {
            return Err(Error::invalid(
                field,
                format!("must be a group name or DN of 1 to {AD_GROUP_MAX} characters on one line"),
            ));
        }
        Ok(Self {
            ad_group: ad_group.to_string(),
            role_id,
        })
    }
}

fn view(row: ad_group_mappings::Model, role_name: String) -> AdMapping {
    AdMapping {
        id: row.id,
        ad_group: row.ad_group,
        role_id: row.role_id,
        role_name,
        created_at: row.created_at.to_utc(),
    }
}

/// The role `id` and what it grants; an unknown role is a field error (`422`).
async fn role_of(db: &impl ConnectionTrait, id: i64) -> Result<rbac_roles::Model> {
    rbac_roles::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| Error::invalid("role_id", format!("there is no role {id}")))
}

/// Passes when `by` holds everything the role grants.
fn ensure_may_map(by: &Grantor, role: &rbac_roles::Model, action: &str) -> Result<()> {
    by.ensure_holds(
        role_permissions(&role.permissions),
        format!("{action} the role {}", role.name),
    )
}

/// The mapping `id` (text from a path); anything that is not one of its ids is not found.
async fn find(db: &impl ConnectionTrait, id: &str) -> Result<ad_group_mappings::Model> {
    let not_found = || Error::NotFound(format!("AD group mapping {id}"));
    let uuid = Uuid::parse_str(id).map_err(|_| not_found())?;
    ad_group_mappings::Entity::find_by_id(uuid)
        .one(db)
        .await?
        .ok_or_else(not_found)
}

/// One mapping.
pub async fn get(db: &impl ConnectionTrait, id: &str) -> Result<AdMapping> {
    let row = find(db, id).await?;
    let role = rbac_roles::Entity::find_by_id(row.role_id).one(db).await?;
    Ok(view(row, role.map(|r| r.name).unwrap_or_default()))
}

/// A page of mappings by group, keyed by the group (groups are unique).
pub async fn list(
    db: &impl ConnectionTrait,
    page: &PageRequest<String>,
) -> Result<Page<AdMapping>> {
    let mut cond = Condition::all();
    if let Some(group) = page.boundary() {
        if group.contains('\0') {
            return Err(Error::invalid("cursor", "is not a valid cursor"));
        }
        cond = cond.add(if page.backward() {
            ad_group_mappings::Column::AdGroup.lt(group.as_str())
        } else {
            ad_group_mappings::Column::AdGroup.gt(group.as_str())
        });
    }
    let order = if page.backward() {
        sea_orm::Order::Desc
    } else {
        sea_orm::Order::Asc
    };
    let rows = ad_group_mappings::Entity::find()
        .find_also_related(rbac_roles::Entity)
        .filter(cond)
        .order_by(ad_group_mappings::Column::AdGroup, order)
        .limit(page.limit + 1)
        .all(db)
        .await?;
    let rows: Vec<AdMapping> = rows
        .into_iter()
        .map(|(m, r)| view(m, r.map(|r| r.name).unwrap_or_default()))
        .collect();
    Ok(Page::from_request(rows, page, |m| m.ad_group.clone()))
}

/// The roles `by` may map a group to: those granting nothing beyond what `by` holds.
pub async fn grantable_roles(
    db: &impl ConnectionTrait,
    by: &Grantor,
) -> Result<Vec<roles::RoleSummary>> {
    Ok(roles::list(db)
        .await?
        .into_iter()
        .filter(|r| roles::ensure_may_change(by, r, "mapping a group to").is_ok())
        .collect())
}

/// Creates a mapping: `409` when the group is mapped already, `422` for an unknown role,
/// `403` when the role grants what `by` does not hold.
#[tracing::instrument(name = "gateway.ad_mappings.create", skip_all)]
pub async fn create(
    db: &DatabaseConnection,
    by: &Grantor,
    ip: Option<String>,
    input: AdMappingInput,
) -> Result<AdMapping> {
    let txn = begin_write(db).await?;
    let role = role_of(&txn, input.role_id).await?;
    ensure_may_map(by, &role, "mapping a group to")?;
    let row = ad_group_mappings::ActiveModel {
        id: Set(Uuid::now_v7()),
        ad_group: Set(input.ad_group.clone()),
        role_id: Set(role.id),
        created_at: Set(super::servers::now().fixed_offset()),
    }
    .insert(&txn)
    .await
    .map_err(|e| match Error::from(e) {
        Error::Conflict { .. } => Error::Conflict {
            message: format!("the group {} is mapped already", input.ad_group),
            details: vec![FieldError::new("ad_group", "is mapped already")],
        },
        e => e,
    })?;
    let entry = AuditEntry::new("ad_mapping.created", &by.actor)
        .target(row.id.to_string())
        .ip(ip)
        .details(json!({"ad_group": row.ad_group, "role_id": role.id, "role": role.name}));
    audit::commit_audited(txn, entry, &[]).await?;
    Ok(view(row, role.name))
}

/// Deletes a mapping, when `by` holds everything its role grants.
#[tracing::instrument(name = "gateway.ad_mappings.delete", skip_all)]
pub async fn delete(
    db: &DatabaseConnection,
    by: &Grantor,
    ip: Option<String>,
    id: &str,
) -> Result<AdMapping> {
    let txn = begin_write(db).await?;
    let row = find(&txn, id).await?;
    let role = rbac_roles::Entity::find_by_id(row.role_id)
        .one(&txn)
        .await?
        .ok_or_else(|| Error::NotFound(format!("AD group mapping {id}")))?;
    ensure_may_map(by, &role, "unmapping a group from")?;
    ad_group_mappings::Entity::delete_by_id(row.id)
        .exec(&txn)
        .await?;
    let entry = AuditEntry::new("ad_mapping.deleted", &by.actor)
        .target(row.id.to_string())
        .ip(ip)
        .details(json!({"ad_group": row.ad_group, "role_id": role.id, "role": role.name}));
    audit::commit_audited(txn, entry, &[]).await?;
    Ok(view(row, role.name))
}
