//! `oauth_users`: one row per resource owner who authorized a client.

use chrono::Utc;
use entity::oauth_users::{self, Column};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::Result;
use crate::access::Identity;

/// The `external_id` of a Metadeck user: `local:<local_users.id>`.
pub fn external_id(user_id: i64) -> String {
    format!("local:{user_id}")
}

/// The local user id behind an `external_id`.
pub fn local_user_id(external_id: &str) -> Option<i64> {
    external_id.strip_prefix("local:")?.parse().ok()
}

/// The `oauth_users.id` of `user`, creating (or refreshing) the row.
pub async fn ensure(db: &impl ConnectionTrait, user: &Identity) -> Result<Uuid> {
    let external = external_id(user.user_id);
    let now = Utc::now().fixed_offset();
    if let Some(row) = oauth_users::Entity::find()
        .filter(Column::ExternalId.eq(&external))
        .one(db)
        .await?
    {
        if row.username.as_deref() != Some(user.username.as_str()) || row.email != user.email {
            oauth_users::Entity::update_many()
                .col_expr(Column::Username, user.username.clone().into())
                .col_expr(Column::Email, user.email.clone().into())
                .col_expr(Column::UpdatedAt, now.into())
                .filter(Column::Id.eq(row.id))
                .exec(db)
                .await?;
        }
        return Ok(row.id);
    }
    let id = Uuid::now_v7();
    oauth_users::Entity::insert(oauth_users::ActiveModel {
        id: Set(id),
        external_id: Set(external),
        username: Set(Some(user.username.clone())),
        email: Set(user.email.clone()),
        created_at: Set(now),
        created_by: Set(Some(format!("user:{}", user.username))),
        updated_at: Set(now),
        updated_by: Set(Some(format!("user:{}", user.username))),
    })
    .exec_without_returning(db)
    .await?;
    Ok(id)
}

/// The external id of an `oauth_users` row.
pub async fn external_of(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<String>> {
    Ok(oauth_users::Entity::find_by_id(id)
        .one(db)
        .await?
        .map(|u| u.external_id))
}
