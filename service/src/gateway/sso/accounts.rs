//! The local user of a single sign-on: found by (provider, `sub`) in `sso_identities` or
//! created without a password, given exactly the roles its groups map to, and the sign-in
//! audited, all in one write.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    Set,
};
use serde_json::json;

use super::callback::{Outcome, SignedIn, Vouched, record_refusal};
use super::{Refusal, claims};
use crate::access::users;
use crate::audit::{self, Actor, AuditEntry};
use crate::db::begin_write;
use crate::gateway::ad_mappings::GroupResolution;
use crate::gateway::providers::Provider;
use crate::{Error, Result};

/// Links (or creates) the user of `vouched`, gives it exactly the mapped roles and records the
/// sign-in, in one write.
pub(super) async fn link_and_sign_in(
    db: &DatabaseConnection,
    provider: &Provider,
    vouched: Vouched,
    resolution: GroupResolution,
    next: String,
    ip: Option<String>,
) -> Result<Outcome> {
    use entity::{local_users, sso_identities};
    let now = Utc::now().fixed_offset();
    let txn = begin_write(db).await?;
    let linked = sso_identities::Entity::find()
        .filter(sso_identities::Column::ProviderId.eq(provider.id))
        .filter(sso_identities::Column::Sub.eq(vouched.sub.as_str()))
        .one(&txn)
        .await?;
    let (user, created) = match linked {
        Some(link) => {
            let user = local_users::Entity::find_by_id(link.user_id)
                .one(&txn)
                .await?
                .ok_or_else(|| Error::internal("a linked user vanished"))?;
            let mut link: sso_identities::ActiveModel = link.into();
            link.last_login_at = Set(now);
            link.update(&txn).await?;
            (user, false)
        }
        None => {
            let username = free_username(&txn, &vouched.username, &provider.name).await?;
            let user = local_users::ActiveModel {
                username: Set(username),
                // No password: this user signs in only through its provider.
                password_hash: Set(None),
                email: Set(vouched.email.clone()),
                is_active: Set(true),
                failed_login_count: Set(0),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            }
            .insert(&txn)
            .await?;
            sso_identities::ActiveModel {
                provider_id: Set(provider.id),
                sub: Set(vouched.sub.clone()),
                user_id: Set(user.id),
                created_at: Set(now),
                last_login_at: Set(now),
                ..Default::default()
            }
            .insert(&txn)
            .await?;
            (user, true)
        }
    };
    if !user.is_active {
        txn.rollback().await?;
        let refusal = Refusal::UserInactive;
        record_refusal(db, &provider.name, &refusal, Some(vouched.sub), ip).await?;
        return Ok(Outcome::Refused(refusal));
    }
    let role_ids: Vec<i64> = resolution.roles.iter().map(|r| r.role_id).collect();
    users::set_roles(&txn, user.id, &role_ids).await?;
    users::forget_cached_tokens(&txn);
    let mut row: local_users::ActiveModel = user.clone().into();
    row.last_login_at = Set(Some(now));
    row.update(&txn).await?;
    let roles: Vec<String> = resolution
        .roles
        .iter()
        .map(|r| r.role_name.clone())
        .collect();
    let given: Vec<_> = resolution
        .roles
        .iter()
        .map(|r| json!({"role": r.role_name, "group": r.received, "mapping": r.ad_group}))
        .collect();
    audit::commit_audited(
        txn,
        AuditEntry::new("sso.login_succeeded", &Actor::User(user.username.clone()))
            .target(user.username.clone())
            .ip(ip)
            .details(json!({
                "provider": provider.name,
                "sub": vouched.sub,
                "created": created,
                "groups": vouched.groups,
                "roles": given,
            })),
        &[],
    )
    .await?;
    Ok(Outcome::SignedIn(SignedIn {
        user_id: user.id,
        username: user.username,
        roles,
        next,
    }))
}

/// `base` when no user has it, else `base@provider`, else that with a number.
async fn free_username(db: &impl ConnectionTrait, base: &str, provider: &str) -> Result<String> {
    let suffix = format!("@{}", claims::sanitize(provider, 40));
    let stem: String = base.chars().take(64 - suffix.len().min(60)).collect();
    let mut candidates = vec![base.to_string(), format!("{stem}{suffix}")];
    let short: String = stem.chars().take(58 - suffix.len().min(50)).collect();
    candidates.extend((2..100).map(|n| format!("{short}-{n}{suffix}")));
    for candidate in candidates {
        let taken = entity::local_users::Entity::find()
            .filter(entity::local_users::Column::Username.eq(candidate.as_str()))
            .one(db)
            .await?
            .is_some();
        if !taken {
            return Ok(candidate);
        }
    }
    Err(Error::conflict(format!("no free username for {base}")))
}
