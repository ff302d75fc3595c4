//! An admin's or the operator's reset of a user's second factor.

use entity::{local_users, user_recovery_codes, user_totp};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use serde_json::json;

use super::active_row;
use crate::access::Grantor;
use crate::audit::{self, AuditEntry};
use crate::db::begin_write;
use crate::{Error, Result};

/// An admin's reset of the second factor of `user_id` (a lost phone without recovery codes):
/// the credential and codes are removed, so the user signs in with the password alone and
/// enrols again (at once, when their permissions require it). `by` must hold every permission
/// the user holds. True when there was a second factor to reset.
pub async fn reset(
    db: &DatabaseConnection,
    by: &Grantor,
    ip: Option<String>,
    user_id: i64,
) -> Result<bool> {
    let txn = begin_write(db).await?;
    let user = local_users::Entity::find_by_id(user_id)
        .one(&txn)
        .await?
        .ok_or_else(|| Error::NotFound(format!("user {user_id}")))?;
    by.ensure_may_act_on(&txn, user_id, "resetting the second factor of")
        .await?;
    let was_on = active_row(&txn, user_id).await?.is_some();
    // A pending enrolment goes too: the user starts again with a new secret.
    user_totp::Entity::delete_by_id(user_id).exec(&txn).await?;
    user_recovery_codes::Entity::delete_many()
        .filter(user_recovery_codes::Column::UserId.eq(user_id))
        .exec(&txn)
        .await?;
    let entry = AuditEntry::new("totp.reset", &by.actor)
        .target(user.username)
        .ip(ip)
        .details(json!({"was_on": was_on}));
    audit::commit_audited(txn, entry, &[]).await?;
    Ok(was_on)
}
