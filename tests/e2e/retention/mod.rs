//! Purge and retention (spec 09): every rule either side of its window, the sync history
//! floor, payloads dropped while deliveries stay, the audit chain verifying after a purge,
//! a large purge beside a concurrent write, the retention page and API, and `/metrics`.

mod api;
mod audit_chain;
mod metrics;
mod page;
mod rules;

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ActiveModelTrait, EntityTrait, Set};
use uuid::Uuid;

use crate::helpers::TestApp;

/// A moment `days` before `now`, shifted by `minutes` (negative: further back).
pub fn days_before(now: DateTime<Utc>, days: i64, minutes: i64) -> DateTime<Utc> {
    now - Duration::days(days) + Duration::minutes(minutes)
}

/// The id of an OAuth client and of an OAuth user, made for rows that need them.
pub async fn oauth_owner(app: &TestApp) -> (Uuid, Uuid) {
    let now = Utc::now().fixed_offset();
    let client = entity::oauth_clients::ActiveModel {
        id: Set(Uuid::new_v4()),
        client_identifier: Set(format!("purge-{}", Uuid::new_v4().simple())),
        client_secret: Set(None),
        name: Set("purge test".into()),
        is_confidential: Set(false),
        is_enabled: Set(true),
        redirect_uris: Set(serde_json::json!([])),
        grant_types: Set(serde_json::json!([])),
        last_used_at: Set(None),
        created_at: Set(now),
        created_by: Set(None),
        updated_at: Set(now),
        updated_by: Set(None),
    }
    .insert(&app.db)
    .await
    .expect("the client is stored");
    let user = entity::oauth_users::ActiveModel {
        id: Set(Uuid::new_v4()),
        external_id: Set(format!("ext-{}", Uuid::new_v4().simple())),
        username: Set(None),
        email: Set(None),
        created_at: Set(now),
        created_by: Set(None),
        updated_at: Set(now),
        updated_by: Set(None),
    }
    .insert(&app.db)
    .await
    .expect("the user is stored");
    (client.id, user.id)
}

/// How many rows `E` holds.
pub async fn count<E: EntityTrait>(app: &TestApp) -> u64
where
    E::Model: Sync,
{
    use sea_orm::PaginatorTrait;
    E::find().count(&app.db).await.expect("the count runs")
}
