//! Each purge rule with rows just inside and just outside its window.

use chrono::{DateTime, Utc};
use entity::{
    events, oauth_access_tokens, oauth_audit_logs, oauth_authorization_codes, oauth_device_codes,
    oauth_refresh_tokens, sessions, sync_history, webhook_deliveries, webhooks,
};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use serde_json::json;
use service::operations::purge::purge_at;
use service::operations::retention::RetentionSettings;
use uuid::Uuid;

use super::{count, days_before, oauth_owner};
use crate::helpers::{TestApp, spawn_app};

/// Just outside a window: five minutes older than its edge; just inside: five minutes newer.
const OUTSIDE: i64 = -5;
const INSIDE: i64 = 5;

async fn session(app: &TestApp, expires_at: DateTime<Utc>) {
    let user = entity::local_users::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .expect("the first admin exists");
    let at = expires_at.fixed_offset();
    sessions::ActiveModel {
        session_id: Set(Uuid::new_v4().to_string()),
        user_id: Set(user.id),
        created_at: Set(at),
        expires_at: Set(at),
        data: Set("{}".into()),
        last_seen_at: Set(at),
        ip: Set(None),
        user_agent: Set(None),
    }
    .insert(&app.db)
    .await
    .unwrap();
}

async fn tokens_and_codes(app: &TestApp, client: Uuid, user: Uuid, expires_at: DateTime<Utc>) {
    let at = expires_at.fixed_offset();
    let id = Uuid::new_v4;
    oauth_access_tokens::ActiveModel {
        id: Set(id()),
        token: Set(id().to_string()),
        client_id: Set(client),
        user_id: Set(Some(user)),
        scope: Set("x".into()),
        expires_at: Set(at),
        revoked_at: Set(None),
        grant_id: Set(None),
        refresh_token_id: Set(None),
        authorization_code_id: Set(None),
        created_at: Set(at),
        created_by: Set(None),
        updated_at: Set(at),
        updated_by: Set(None),
    }
    .insert(&app.db)
    .await
    .unwrap();
    oauth_refresh_tokens::ActiveModel {
        id: Set(id()),
        token: Set(id().to_string()),
        client_id: Set(client),
        user_id: Set(Some(user)),
        scope: Set("x".into()),
        expires_at: Set(at),
        revoked_at: Set(None),
        rotated_at: Set(None),
        parent_id: Set(None),
        grant_id: Set(id()),
        created_at: Set(at),
        created_by: Set(None),
        updated_at: Set(at),
        updated_by: Set(None),
    }
    .insert(&app.db)
    .await
    .unwrap();
    oauth_authorization_codes::ActiveModel {
        id: Set(id()),
        code: Set(id().to_string()),
        client_id: Set(client),
        user_id: Set(user),
        redirect_uri: Set("http://127.0.0.1/cb".into()),
        scope: Set("x".into()),
        code_challenge: Set(None),
        code_challenge_method: Set(None),
        expires_at: Set(at),
        consumed_at: Set(None),
        created_at: Set(at),
        created_by: Set(None),
        updated_at: Set(at),
        updated_by: Set(None),
    }
    .insert(&app.db)
    .await
    .unwrap();
    oauth_device_codes::ActiveModel {
        id: Set(id()),
        device_code: Set(id().to_string()),
        user_code: Set(id().simple().to_string()[..9].to_string()),
        client_id: Set(client),
        user_id: Set(None),
        scope: Set("x".into()),
        state: Set("pending".into()),
        expires_at: Set(at),
        interval_seconds: Set(5),
        last_polled_at: Set(None),
        created_at: Set(at),
        created_by: Set(None),
        updated_at: Set(at),
        updated_by: Set(None),
    }
    .insert(&app.db)
    .await
    .unwrap();
}

async fn event(app: &TestApp, at: DateTime<Utc>) {
    events::ActiveModel {
        run_id: Set(None),
        plan_unit_id: Set(None),
        level: Set("info".into()),
        message: Set("m".into()),
        details: Set(None),
        timestamp: Set(at.fixed_offset()),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .unwrap();
}

async fn oauth_log(app: &TestApp, at: DateTime<Utc>) {
    let at = at.fixed_offset();
    oauth_audit_logs::ActiveModel {
        event_type: Set("token_issued".into()),
        subject: Set(None),
        client_id: Set(None),
        user_id: Set(None),
        metadata: Set(None),
        created_at: Set(at),
        created_by: Set(None),
        updated_at: Set(at),
        updated_by: Set(None),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .unwrap();
}

async fn webhook(app: &TestApp) -> String {
    let now = Utc::now().fixed_offset();
    let id = format!("wh_{}", Uuid::new_v4().simple());
    webhooks::ActiveModel {
        webhook_id: Set(id.clone()),
        url: Set("http://127.0.0.1:9/hook".into()),
        events: Set(json!(["*"])),
        secret: Set("sealed".into()),
        team: Set(None),
        created_at: Set(now),
        description: Set(None),
        is_enabled: Set(false),
        updated_at: Set(now),
        disabled_reason: Set(Some("test".into())),
        previous_secret: Set(None),
        secret_rotated_at: Set(None),
        failing_since: Set(None),
    }
    .insert(&app.db)
    .await
    .unwrap();
    id
}

async fn delivery(app: &TestApp, webhook_id: &str, status: &str, at: DateTime<Utc>) -> i64 {
    webhook_deliveries::ActiveModel {
        webhook_id: Set(webhook_id.into()),
        message_id: Set(format!("msg_{}", Uuid::new_v4().simple())),
        event_type: Set("device.updated".into()),
        payload: Set(Some(json!({"n": 1}))),
        status: Set(status.into()),
        attempts: Set(1),
        next_attempt_at: Set(None),
        claimed_until: Set(None),
        last_status_code: Set(None),
        last_error: Set(None),
        last_response_snippet: Set(None),
        created_at: Set(at.fixed_offset()),
        delivered_at: Set(None),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .unwrap()
    .id
}

#[tokio::test]
async fn each_rule_removes_rows_just_outside_its_window_and_keeps_those_just_inside() {
    let app = spawn_app().await;
    let now = Utc::now();
    // Sessions go once expired; tokens and codes a day after expiry.
    session(&app, days_before(now, 0, OUTSIDE)).await;
    session(&app, days_before(now, 0, INSIDE)).await;
    let (client, user) = oauth_owner(&app).await;
    tokens_and_codes(&app, client, user, days_before(now, 1, OUTSIDE)).await;
    tokens_and_codes(&app, client, user, days_before(now, 1, INSIDE)).await;
    // Events keep 90 days, the OAuth log 365, deliveries 30 (the defaults).
    event(&app, days_before(now, 90, OUTSIDE)).await;
    event(&app, days_before(now, 90, INSIDE)).await;
    oauth_log(&app, days_before(now, 365, OUTSIDE)).await;
    oauth_log(&app, days_before(now, 365, INSIDE)).await;
    let hook = webhook(&app).await;
    delivery(&app, &hook, "dead", days_before(now, 30, OUTSIDE)).await;
    let kept_delivery = delivery(&app, &hook, "dead", days_before(now, 30, INSIDE)).await;
    let sessions_before = count::<sessions::Entity>(&app).await;

    let report = purge_at(&app.db, &RetentionSettings::default(), now)
        .await
        .expect("the purge runs");

    let removed = report.removed;
    assert_eq!(removed.sessions, 1);
    assert_eq!(count::<sessions::Entity>(&app).await, sessions_before - 1);
    assert_eq!(removed.access_tokens, 1);
    assert_eq!(removed.refresh_tokens, 1);
    assert_eq!(removed.authorization_codes, 1);
    assert_eq!(removed.device_codes, 1);
    assert_eq!(count::<oauth_access_tokens::Entity>(&app).await, 1);
    assert_eq!(count::<oauth_refresh_tokens::Entity>(&app).await, 1);
    assert_eq!(count::<oauth_authorization_codes::Entity>(&app).await, 1);
    assert_eq!(count::<oauth_device_codes::Entity>(&app).await, 1);
    assert_eq!(removed.events, 1);
    assert_eq!(count::<events::Entity>(&app).await, 1);
    assert_eq!(removed.oauth_audit_logs, 1);
    assert_eq!(count::<oauth_audit_logs::Entity>(&app).await, 1);
    assert_eq!(removed.webhook_deliveries, 1);
    let left: Vec<i64> = webhook_deliveries::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.id)
        .collect();
    assert_eq!(left, [kept_delivery]);
    // The append-only tables took their permits back.
    assert_eq!(count::<entity::purge_permits::Entity>(&app).await, 0);
}

#[tokio::test]
async fn a_used_code_goes_a_day_after_its_use() {
    let app = spawn_app().await;
    let now = Utc::now();
    let (client, user) = oauth_owner(&app).await;
    // Codes that expire in the future, one used a day and five minutes ago, one just now.
    tokens_and_codes(&app, client, user, now + chrono::Duration::hours(1)).await;
    tokens_and_codes(&app, client, user, now + chrono::Duration::hours(1)).await;
    let codes = oauth_authorization_codes::Entity::find()
        .all(&app.db)
        .await
        .unwrap();
    for (code, used) in codes.into_iter().zip([OUTSIDE, INSIDE]) {
        let mut active: oauth_authorization_codes::ActiveModel = code.into();
        active.consumed_at = Set(Some(days_before(now, 1, used).fixed_offset()));
        active.update(&app.db).await.unwrap();
    }

    let report = purge_at(&app.db, &RetentionSettings::default(), now)
        .await
        .unwrap();

    assert_eq!(report.removed.authorization_codes, 1);
    assert_eq!(count::<oauth_authorization_codes::Entity>(&app).await, 1);
    assert_eq!(report.removed.access_tokens, 0, "live tokens stay");
}

#[tokio::test]
async fn sync_history_keeps_the_newest_hundred_of_each_tenant_however_old() {
    let app = spawn_app().await;
    // Microseconds, as both backends keep them, so that a row read back compares equal.
    let now = chrono::SubsecRound::trunc_subsecs(Utc::now(), 6);
    let row = |tenant: &str, age_days: i64, minute: i64| {
        let at = days_before(now, age_days, minute).fixed_offset();
        sync_history::ActiveModel {
            tenant_id: Set(tenant.into()),
            sync_type: Set("sqlite".into()),
            status: Set("completed".into()),
            start_time: Set(at),
            end_time: Set(Some(at)),
            success: Set(Some(true)),
            error_details: Set(None),
            users_count: Set(0),
            groups_count: Set(0),
            apps_count: Set(0),
            policies_count: Set(0),
            devices_count: Set(0),
            progress_percentage: Set(100),
            process_id: Set(None),
            graphdb_version: Set(None),
            graphdb_promoted: Set(None),
            updated_at: Set(at),
            created_by: Set(None),
            ..Default::default()
        }
    };
    // "busy": 105 runs, all older than a year; "quiet": 3 old runs and one recent one.
    let mut rows: Vec<_> = (0..105).map(|i| row("busy", 400, i)).collect();
    rows.extend((0..3).map(|i| row("quiet", 400, i)));
    rows.push(row("quiet", 1, 0));
    sync_history::Entity::insert_many(rows)
        .exec_without_returning(&app.db)
        .await
        .unwrap();

    let report = purge_at(&app.db, &RetentionSettings::default(), now)
        .await
        .unwrap();

    assert_eq!(report.removed.sync_history, 5);
    let of = |tenant: &'static str| {
        sync_history::Entity::find().filter(sync_history::Column::TenantId.eq(tenant))
    };
    use sea_orm::PaginatorTrait;
    assert_eq!(of("busy").count(&app.db).await.unwrap(), 100);
    assert_eq!(of("quiet").count(&app.db).await.unwrap(), 4);
    // The five oldest went.
    let oldest_left = of("busy")
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.start_time)
        .min()
        .unwrap();
    assert_eq!(oldest_left, days_before(now, 400, 5).fixed_offset());
}

#[tokio::test]
async fn payloads_of_succeeded_deliveries_go_after_seven_days_while_the_rows_stay() {
    let app = spawn_app().await;
    let now = Utc::now();
    let hook = webhook(&app).await;
    let old_success = delivery(&app, &hook, "succeeded", days_before(now, 7, OUTSIDE)).await;
    let new_success = delivery(&app, &hook, "succeeded", days_before(now, 7, INSIDE)).await;
    let old_dead = delivery(&app, &hook, "dead", days_before(now, 7, OUTSIDE)).await;

    let report = purge_at(&app.db, &RetentionSettings::default(), now)
        .await
        .unwrap();

    assert_eq!(report.removed.webhook_payloads, 1);
    assert_eq!(report.removed.webhook_deliveries, 0);
    let payload = |id: i64| {
        let db = app.db.clone();
        async move {
            webhook_deliveries::Entity::find_by_id(id)
                .one(&db)
                .await
                .unwrap()
                .expect("the delivery row stays")
                .payload
        }
    };
    assert_eq!(payload(old_success).await, None);
    assert!(payload(new_success).await.is_some());
    assert!(
        payload(old_dead).await.is_some(),
        "a failed delivery keeps its payload for a redelivery"
    );
}

#[tokio::test]
async fn zero_days_keeps_forever() {
    let app = spawn_app().await;
    let now = Utc::now();
    event(&app, days_before(now, 4000, 0)).await;
    let mut settings = RetentionSettings::default();
    settings.set_from_env(
        service::operations::retention::Policy::Events,
        service::operations::retention::KeepDays::new(0).unwrap(),
    );

    let report = purge_at(&app.db, &settings, now).await.unwrap();

    assert_eq!(report.removed.events, 0);
    assert_eq!(count::<events::Entity>(&app).await, 1);
}

#[tokio::test]
async fn a_large_purge_leaves_room_for_a_concurrent_write() {
    let app = spawn_app().await;
    let now = Utc::now();
    let old = days_before(now, 100, 0).fixed_offset();
    for chunk in 0..10 {
        let rows = (0..2_000).map(|i| events::ActiveModel {
            run_id: Set(None),
            plan_unit_id: Set(None),
            level: Set("info".into()),
            message: Set(format!("{chunk}-{i}")),
            details: Set(None),
            timestamp: Set(old),
            ..Default::default()
        });
        events::Entity::insert_many(rows)
            .exec_without_returning(&app.db)
            .await
            .unwrap();
    }
    let db = app.db.clone();
    let purge =
        tokio::spawn(async move { purge_at(&db, &RetentionSettings::default(), now).await });
    // A write through the API while the purge runs: it takes its turn between batches.
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    app.login_as_admin().await;
    let token = app.csrf_token(&app.client).await;
    let res = app
        .client
        .put(app.url("/api/me/preferences"))
        .header("X-CSRF-Token", token)
        .json(&json!({"ui": {"page_size": 25}}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "the concurrent write succeeded");
    let report = purge.await.unwrap().expect("the purge finishes");
    assert_eq!(report.removed.events, 20_000);
    assert_eq!(count::<events::Entity>(&app).await, 0);
}
