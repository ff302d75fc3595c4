//! Sync tracking (spec 03) over HTTP: the orchestrator API's rules, the status answer, the
//! history, events and audit rows of each transition, stale detection, the live stream and
//! the dashboard pages.

use std::time::Duration;

use chrono::Utc;
use reqwest::{Client, Response, StatusCode};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use serde_json::{Value, json};

use crate::helpers::{TestApp, new_client, spawn_app, spawn_app_with};

/// The app's admin client and its CSRF token.
async fn admin(app: &TestApp) -> (Client, String) {
    app.login_as_admin().await;
    let csrf = app.csrf_token(&app.client).await;
    (app.client.clone(), csrf)
}

async fn send(
    app: &TestApp,
    (client, csrf): &(Client, String),
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> Response {
    let mut req = client
        .request(method, app.url(path))
        .header("X-CSRF-Token", csrf);
    if let Some(body) = body {
        req = req.json(&body);
    }
    req.send().await.expect("request sent")
}

async fn start(app: &TestApp, admin: &(Client, String), tenant: &str, kind: &str) -> Value {
    let res = send(
        app,
        admin,
        reqwest::Method::POST,
        "/api/sync/runs",
        Some(json!({"tenant_id": tenant, "sync_type": kind})),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    res.json().await.unwrap()
}

async fn patch(app: &TestApp, admin: &(Client, String), id: i64, body: Value) -> Response {
    send(
        app,
        admin,
        reqwest::Method::PATCH,
        &format!("/api/sync/runs/{id}"),
        Some(body),
    )
    .await
}

async fn get_json(app: &TestApp, client: &Client, path: &str) -> (StatusCode, Value) {
    let res = client.get(app.url(path)).send().await.unwrap();
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

fn id_of(v: &Value) -> i64 {
    v["id"].as_i64().expect("an id")
}

/// The fields named by a JSON error's details.
fn fields(body: &Value) -> Vec<String> {
    body["error"]["details"]
        .as_array()
        .map(|d| {
            d.iter()
                .map(|e| e["field"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn a_started_sync_is_running_at_zero_with_every_column() {
    let app = spawn_app().await;
    let admin = admin(&app).await;
    let res = send(
        &app,
        &admin,
        reqwest::Method::POST,
        "/api/sync/runs",
        Some(json!({"tenant_id": "acme", "sync_type": "graphdb", "process_id": "pid-7"})),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let location = res.headers()["location"].to_str().unwrap().to_string();
    let sync: Value = res.json().await.unwrap();
    assert_eq!(location, format!("/api/sync/runs/{}", id_of(&sync)));
    for (key, want) in [
        ("tenant_id", json!("acme")),
        ("sync_type", json!("graphdb")),
        ("status", json!("running")),
        ("progress_percentage", json!(0)),
        ("users_count", json!(0)),
        ("devices_count", json!(0)),
        ("success", Value::Null),
        ("end_time", Value::Null),
        ("error_details", Value::Null),
        ("graphdb_version", Value::Null),
        ("process_id", json!("pid-7")),
        ("created_by", json!("user:admin")),
    ] {
        assert_eq!(sync[key], want, "{key}");
    }
    let started = sync["start_time"].as_str().unwrap();
    assert!(started.ends_with('Z'), "{started}");
    assert!(sync["updated_at"].as_str().unwrap().ends_with('Z'));

    let (status, fetched) = get_json(&app, &app.client, &location).await;
    assert_eq!(status, 200);
    assert_eq!(fetched, sync);
}

#[tokio::test]
async fn a_second_start_for_a_busy_tenant_is_a_conflict_naming_the_running_sync() {
    let app = spawn_app().await;
    let admin = admin(&app).await;
    let first = start(&app, &admin, "acme", "sqlite").await;
    let res = send(
        &app,
        &admin,
        reqwest::Method::POST,
        "/api/sync/runs",
        Some(json!({"tenant_id": "acme", "sync_type": "graphdb"})),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "conflict");
    let detail = &body["error"]["details"][0];
    assert_eq!(detail["field"], "tenant_id");
    assert_eq!(detail["sync_id"], first["id"]);
    assert!(detail["message"].as_str().is_some_and(|m| !m.is_empty()));
    // Another tenant is not affected.
    start(&app, &admin, "globex", "sqlite").await;
}

#[tokio::test]
async fn concurrent_starts_for_one_tenant_let_exactly_one_win() {
    let app = spawn_app().await;
    let admin = admin(&app).await;
    let attempts = (0..24).map(|i| {
        let (app, admin) = (&app, &admin);
        async move {
            send(
                app,
                admin,
                reqwest::Method::POST,
                "/api/sync/runs",
                Some(json!({"tenant_id": "race", "sync_type": "sqlite", "process_id": format!("p{i}")})),
            )
            .await
            .status()
        }
    });
    let statuses = futures_util::future::join_all(attempts).await;
    let created = statuses
        .iter()
        .filter(|s| **s == StatusCode::CREATED)
        .count();
    let conflicts = statuses
        .iter()
        .filter(|s| **s == StatusCode::CONFLICT)
        .count();
    assert_eq!((created, conflicts), (1, 23), "{statuses:?}");
    let running = entity::sync_history::Entity::find()
        .filter(entity::sync_history::Column::TenantId.eq("race"))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(running, 1);
}

#[tokio::test]
async fn the_database_itself_refuses_a_second_running_sync_for_a_tenant() {
    let app = spawn_app().await;
    let admin = admin(&app).await;
    let first = start(&app, &admin, "acme", "sqlite").await;
    let now = Utc::now().fixed_offset();
    let second = entity::sync_history::ActiveModel {
        tenant_id: Set("acme".into()),
        sync_type: Set("sqlite".into()),
        status: Set("running".into()),
        start_time: Set(now),
        users_count: Set(0),
        groups_count: Set(0),
        apps_count: Set(0),
        policies_count: Set(0),
        devices_count: Set(0),
        progress_percentage: Set(0),
        updated_at: Set(now),
        ..Default::default()
    };
    let err = second
        .clone()
        .insert(&app.db)
        .await
        .expect_err("the partial unique index refuses it");
    assert!(
        matches!(
            err.sql_err(),
            Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
        ),
        "{err}"
    );
    // Once the first has finished, a new running row is fine.
    let done = patch(&app, &admin, id_of(&first), json!({"status": "completed"})).await;
    assert_eq!(done.status(), 200);
    second.insert(&app.db).await.expect("a new running sync");
}

#[tokio::test]
async fn reports_update_progress_and_counts_and_move_the_stale_clock() {
    let app = spawn_app().await;
    let admin = admin(&app).await;
    let sync = start(&app, &admin, "acme", "sqlite").await;
    let res = patch(
        &app,
        &admin,
        id_of(&sync),
        json!({"progress_percentage": 50, "users_count": 1500, "groups_count": 25,
               "apps_count": 3, "policies_count": 4, "devices_count": 5}),
    )
    .await;
    assert_eq!(res.status(), 200);
    let updated: Value = res.json().await.unwrap();
    assert_eq!(updated["progress_percentage"], 50);
    assert_eq!(updated["users_count"], 1500);
    assert_eq!(updated["devices_count"], 5);
    assert_eq!(updated["status"], "running");
    assert!(updated["updated_at"].as_str() > sync["updated_at"].as_str());
    // An empty report is a heartbeat: nothing changes but the stale clock.
    let beat: Value = patch(&app, &admin, id_of(&sync), json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(beat["progress_percentage"], 50);
    assert!(beat["updated_at"].as_str() > updated["updated_at"].as_str());
    // The same progress again is fine: it does not decrease.
    assert_eq!(
        patch(
            &app,
            &admin,
            id_of(&sync),
            json!({"progress_percentage": 50})
        )
        .await
        .status(),
        200
    );
}

#[tokio::test]
async fn reports_breaking_a_rule_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    let admin = admin(&app).await;
    let sync = start(&app, &admin, "acme", "sqlite").await;
    let id = id_of(&sync);
    assert_eq!(
        patch(&app, &admin, id, json!({"progress_percentage": 60}))
            .await
            .status(),
        200
    );
    for (body, field) in [
        (json!({"progress_percentage": 59}), "progress_percentage"),
        (json!({"progress_percentage": 101}), "progress_percentage"),
        (json!({"progress_percentage": -1}), "progress_percentage"),
        (json!({"users_count": -5}), "users_count"),
        (json!({"devices_count": -1}), "devices_count"),
        (json!({"graphdb_version": 3}), "graphdb_version"),
        (json!({"graphdb_promoted": true}), "graphdb_promoted"),
        (json!({"status": "failed"}), "error_details"),
        (json!({"status": "exploded"}), "status"),
        (json!({"progress": 70}), "progress"),
        (json!({"users_count": "many"}), "users_count"),
        (json!({"users_count": 1.5}), "users_count"),
        (json!({"error_details": "nul\u{0}byte"}), "error_details"),
        (json!({"error_details": "  "}), "error_details"),
    ] {
        let res = patch(&app, &admin, id, body.clone()).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        let err: Value = res.json().await.unwrap();
        assert_eq!(err["error"]["code"], "validation_failed", "{body}");
        assert!(fields(&err).contains(&field.to_string()), "{body}: {err}");
    }
    let huge = app
        .client
        .patch(app.url(&format!("/api/sync/runs/{id}")))
        .header("X-CSRF-Token", &admin.1)
        .header("Content-Type", "application/json")
        .body(r#"{"progress_percentage": 99999999999999999999999}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(huge.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let (_, now) = get_json(&app, &app.client, &format!("/api/sync/runs/{id}")).await;
    assert_eq!(now["progress_percentage"], 60);
    assert_eq!(now["status"], "running");
    assert_eq!(now["users_count"], 0);
}

#[tokio::test]
async fn graphdb_syncs_take_their_version_and_promotion() {
    let app = spawn_app().await;
    let admin = admin(&app).await;
    let sync = start(&app, &admin, "acme", "graphdb").await;
    let res = patch(
        &app,
        &admin,
        id_of(&sync),
        json!({"status": "completed", "graphdb_version": 2, "graphdb_promoted": true, "users_count": 9}),
    )
    .await;
    assert_eq!(res.status(), 200);
    let done: Value = res.json().await.unwrap();
    assert_eq!(done["graphdb_version"], 2);
    assert_eq!(done["graphdb_promoted"], true);
    assert_eq!(done["users_count"], 9);
}

#[tokio::test]
async fn each_terminal_status_sets_its_outcome() {
    let app = spawn_app().await;
    let admin = admin(&app).await;

    let a = start(&app, &admin, "a", "sqlite").await;
    patch(&app, &admin, id_of(&a), json!({"progress_percentage": 40})).await;
    let done: Value = patch(&app, &admin, id_of(&a), json!({"status": "completed"}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(done["status"], "completed");
    assert_eq!(done["success"], true);
    assert_eq!(done["progress_percentage"], 100);
    assert!(done["end_time"].as_str().is_some_and(|t| t.ends_with('Z')));

    let b = start(&app, &admin, "b", "sqlite").await;
    let failed: Value = patch(
        &app,
        &admin,
        id_of(&b),
        json!({"status": "failed", "error_details": "Connection timeout"}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(failed["status"], "failed");
    assert_eq!(failed["success"], false);
    assert_eq!(failed["error_details"], "Connection timeout");
    assert!(failed["end_time"].is_string());

    let c = start(&app, &admin, "c", "sqlite").await;
    let res = send(
        &app,
        &admin,
        reqwest::Method::POST,
        &format!("/api/sync/runs/{}/cancel", id_of(&c)),
        None,
    )
    .await;
    assert_eq!(res.status(), 200);
    let canceled: Value = res.json().await.unwrap();
    assert_eq!(canceled["status"], "canceled");
    assert_eq!(canceled["success"], false);
    assert!(canceled["end_time"].is_string());
}

#[tokio::test]
async fn a_finished_sync_refuses_every_change_and_says_its_status() {
    let app = spawn_app().await;
    let admin = admin(&app).await;
    let sync = start(&app, &admin, "acme", "sqlite").await;
    let id = id_of(&sync);
    let cancel = format!("/api/sync/runs/{id}/cancel");
    assert_eq!(
        send(&app, &admin, reqwest::Method::POST, &cancel, None)
            .await
            .status(),
        200
    );
    for body in [
        json!({"progress_percentage": 80}),
        json!({"status": "completed"}),
        json!({}),
    ] {
        let res = patch(&app, &admin, id, body).await;
        assert_eq!(res.status(), StatusCode::CONFLICT);
        let err: Value = res.json().await.unwrap();
        assert!(
            err["error"]["message"]
                .as_str()
                .unwrap()
                .contains("canceled"),
            "{err}"
        );
        assert_eq!(err["error"]["details"][0]["field"], "status");
        assert_eq!(err["error"]["details"][0]["message"], "is canceled");
    }
    let again = send(&app, &admin, reqwest::Method::POST, &cancel, None).await;
    assert_eq!(again.status(), StatusCode::CONFLICT);
    let (_, now) = get_json(&app, &app.client, &format!("/api/sync/runs/{id}")).await;
    assert_eq!(now["status"], "canceled");
}

#[tokio::test]
async fn bodies_with_unknown_or_invalid_fields_are_refused() {
    let app = spawn_app().await;
    let admin = admin(&app).await;
    for (body, field) in [
        (
            json!({"tenant_id": "acme", "sync_type": "sqlite", "tenant": "x"}),
            "tenant",
        ),
        (
            json!({"tenant_id": "acme", "sync_type": "mysql"}),
            "sync_type",
        ),
        (json!({"tenant_id": "", "sync_type": "sqlite"}), "tenant_id"),
        (
            json!({"tenant_id": " acme", "sync_type": "sqlite"}),
            "tenant_id",
        ),
        (json!({"sync_type": "sqlite"}), "tenant_id"),
        (
            json!({"tenant_id": "acme", "sync_type": "sqlite", "process_id": ""}),
            "process_id",
        ),
        (
            json!({"tenant_id": "acme", "sync_type": "sqlite", "process_id": "a\u{0}b"}),
            "process_id",
        ),
        (
            json!({"tenant_id": "ac\u{0}me", "sync_type": "sqlite"}),
            "tenant_id",
        ),
    ] {
        let res = send(
            &app,
            &admin,
            reqwest::Method::POST,
            "/api/sync/runs",
            Some(body.clone()),
        )
        .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        let err: Value = res.json().await.unwrap();
        assert_eq!(fields(&err), vec![field.to_string()], "{body}");
    }
    let res = app
        .client
        .post(app.url("/api/sync/runs"))
        .header("X-CSRF-Token", &admin.1)
        .header("Content-Type", "text/plain")
        .body("tenant_id=acme")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    // Without the CSRF header, a cookie-authenticated write changes nothing.
    let res = app
        .client
        .post(app.url("/api/sync/runs"))
        .json(&json!({"tenant_id": "acme", "sync_type": "sqlite"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn unknown_syncs_are_404_everywhere() {
    let app = spawn_app().await;
    let admin = admin(&app).await;
    for path in [
        "/api/sync/runs/999",
        "/api/sync/runs/abc",
        "/api/sync/runs/-1",
    ] {
        let (status, body) = get_json(&app, &app.client, path).await;
        assert_eq!(status, 404, "{path}");
        assert_eq!(body["error"]["code"], "not_found");
    }
    assert_eq!(patch(&app, &admin, 999, json!({})).await.status(), 404);
    let res = send(
        &app,
        &admin,
        reqwest::Method::POST,
        "/api/sync/runs/999/cancel",
        None,
    )
    .await;
    assert_eq!(res.status(), 404);
    assert_eq!(app.get("/sync/999").await.status(), 404);
}

#[tokio::test]
async fn readers_may_read_but_not_write() {
    let app = spawn_app().await;
    let admin = admin(&app).await;
    let sync = start(&app, &admin, "acme", "sqlite").await;
    let viewer = app.client_with_role("viewer").await;
    let csrf = app.csrf_token(&viewer).await;
    let (status, _) = get_json(&app, &viewer, &format!("/api/sync/runs/{}", id_of(&sync))).await;
    assert_eq!(status, 200);
    let res = viewer
        .patch(app.url(&format!("/api/sync/runs/{}", id_of(&sync))))
        .header("X-CSRF-Token", csrf)
        .json(&json!({"progress_percentage": 10}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let anonymous = new_client();
    let res = anonymous
        .get(app.url("/api/sync/runs"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

/// Inserts a finished sync with the given start time and status, straight into the table.
async fn seed(app: &TestApp, tenant: &str, status: &str, kind: &str, start: &str) -> i64 {
    let start = chrono::DateTime::parse_from_rfc3339(start).unwrap();
    let row = entity::sync_history::ActiveModel {
        tenant_id: Set(tenant.into()),
        sync_type: Set(kind.into()),
        status: Set(status.into()),
        start_time: Set(start),
        end_time: Set((status != "running").then(|| start + chrono::Duration::minutes(5))),
        success: Set((status != "running").then_some(status == "completed")),
        error_details: Set((status == "failed").then(|| "boom".to_string())),
        users_count: Set(10),
        groups_count: Set(1),
        apps_count: Set(2),
        policies_count: Set(3),
        devices_count: Set(4),
        progress_percentage: Set(if status == "completed" { 100 } else { 30 }),
        updated_at: Set(start + chrono::Duration::minutes(5)),
        created_by: Set(Some("client:seed".into())),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .unwrap();
    row.id
}

#[tokio::test]
async fn history_is_newest_first_filtered_and_paginated_by_keyset() {
    let app = spawn_app().await;
    admin(&app).await;
    let mut ids = Vec::new();
    for (tenant, status, kind, start) in [
        ("acme", "completed", "sqlite", "2026-11-01T10:00:00Z"),
        ("acme", "failed", "graphdb", "2026-11-02T10:00:00Z"),
        ("globex", "completed", "graphdb", "2026-11-02T10:00:00Z"),
        ("acme", "completed", "sqlite", "2026-11-03T10:00:00Z"),
        ("globex", "canceled", "sqlite", "2026-11-04T10:00:00Z"),
    ] {
        ids.push(seed(&app, tenant, status, kind, start).await);
    }
    let list = |q: &str| {
        let url = format!("/api/sync/runs?{q}");
        let app = &app;
        async move { get_json(app, &app.client, &url).await }
    };
    let ids_in =
        |v: &Value| -> Vec<i64> { v["items"].as_array().unwrap().iter().map(id_of).collect() };
    let (status, all) = list("").await;
    assert_eq!(status, 200);
    // Newest first by start_time, then id (the two syncs of 2026-11-02 by id, descending).
    assert_eq!(ids_in(&all), vec![ids[4], ids[3], ids[2], ids[1], ids[0]]);
    assert!(all["next_cursor"].is_null());
    assert_eq!(
        ids_in(&list("tenant_id=acme").await.1),
        vec![ids[3], ids[1], ids[0]]
    );
    assert_eq!(ids_in(&list("status=failed").await.1), vec![ids[1]]);
    assert_eq!(
        ids_in(&list("sync_type=graphdb").await.1),
        vec![ids[2], ids[1]]
    );
    // since is inclusive, until exclusive, any offset accepted.
    assert_eq!(
        ids_in(&list("since=2026-11-02T10:00:00Z&until=2026-11-04").await.1),
        vec![ids[3], ids[2], ids[1]]
    );
    assert_eq!(
        ids_in(&list("since=2026-11-02T11:00:00%2B01:00").await.1),
        vec![ids[4], ids[3], ids[2], ids[1]]
    );

    // Pages of two walk the whole history once, in order.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let q = match &cursor {
            Some(c) => format!("limit=2&cursor={c}"),
            None => "limit=2".into(),
        };
        let (status, page) = list(&q).await;
        assert_eq!(status, 200);
        seen.extend(ids_in(&page));
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(seen, ids_in(&all));

    for bad in [
        "status=exploded",
        "sync_type=mysql",
        "since=yesterday",
        "until=2026-13-01",
        "limit=0",
        "limit=501",
        "cursor=not-a-cursor",
    ] {
        let (status, body) = list(bad).await;
        assert_eq!(status, 400, "{bad}");
        assert_eq!(body["error"]["code"], "bad_request", "{bad}");
    }
}

#[tokio::test]
async fn the_status_answer_keeps_the_seed_frontend_s_shape() {
    let app = spawn_app().await;
    let admin = admin(&app).await;
    let (status, never) = get_json(&app, &app.client, "/api/sync/status?tenant_id=nobody").await;
    assert_eq!(status, 200);
    assert_eq!(
        never,
        json!({"tenant_id": "nobody", "status": "never", "progress": 0,
               "entity_counts": {"users": 0, "groups": 0, "apps": 0, "policies": 0, "devices": 0},
               "sync": null, "last_completed": null})
    );
    let (status, body) = get_json(&app, &app.client, "/api/sync/status").await;
    assert_eq!(status, 400);
    assert_eq!(fields(&body), vec!["tenant_id"]);

    let old = seed(&app, "acme", "completed", "sqlite", "2026-11-01T10:00:00Z").await;
    let sync = start(&app, &admin, "acme", "sqlite").await;
    patch(
        &app,
        &admin,
        id_of(&sync),
        json!({"progress_percentage": 50, "users_count": 1500, "groups_count": 25}),
    )
    .await;
    let (_, running) = get_json(&app, &app.client, "/api/sync/status?tenant_id=acme").await;
    assert_eq!(running["status"], "running");
    assert_eq!(running["progress"], 50);
    assert_eq!(
        running["entity_counts"],
        json!({"users": 1500, "groups": 25, "apps": 0, "policies": 0, "devices": 0})
    );
    assert_eq!(running["sync"]["id"], sync["id"]);
    assert_eq!(running["last_completed"]["id"], old);

    patch(
        &app,
        &admin,
        id_of(&sync),
        json!({"status": "failed", "error_details": "Connection timeout"}),
    )
    .await;
    let (_, failed) = get_json(&app, &app.client, "/api/sync/status?tenant_id=acme").await;
    assert_eq!(failed["status"], "failed");
    assert_eq!(failed["sync"]["error_details"], "Connection timeout");
    assert_eq!(failed["last_completed"]["id"], old);
}

#[tokio::test]
async fn tenants_are_listed_by_id_with_their_latest_and_last_completed_sync() {
    let app = spawn_app().await;
    let admin = admin(&app).await;
    for tenant in ["delta", "alpha", "charlie", "bravo"] {
        seed(&app, tenant, "completed", "sqlite", "2026-11-01T10:00:00Z").await;
    }
    let running = start(&app, &admin, "bravo", "graphdb").await;
    let (status, first) = get_json(&app, &app.client, "/api/sync/tenants?limit=3").await;
    assert_eq!(status, 200);
    let names = |v: &Value| -> Vec<String> {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["tenant_id"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(names(&first), ["alpha", "bravo", "charlie"]);
    let bravo = &first["items"][1];
    assert_eq!(bravo["latest"]["id"], running["id"]);
    assert_eq!(bravo["last_completed"]["status"], "completed");
    let cursor = first["next_cursor"].as_str().expect("a next page");
    let (_, second) = get_json(
        &app,
        &app.client,
        &format!("/api/sync/tenants?limit=3&cursor={cursor}"),
    )
    .await;
    assert_eq!(names(&second), ["delta"]);
    assert!(second["next_cursor"].is_null());
    let (status, _) = get_json(&app, &app.client, "/api/sync/tenants?limit=0").await;
    assert_eq!(status, 400);
}

/// A webhook subscribed to every sync event, created straight in the table.
async fn subscribe_webhook(app: &TestApp, id: &str, events: Value, enabled: bool) {
    let now = Utc::now().fixed_offset();
    entity::webhooks::ActiveModel {
        webhook_id: Set(id.into()),
        url: Set("http://127.0.0.1:9/hook".into()),
        events: Set(events),
        secret: Set("whsec_test".into()),
        team: Set(None),
        created_at: Set(now),
        description: Set(None),
        is_enabled: Set(enabled),
        updated_at: Set(now),
        disabled_reason: Set(None),
        previous_secret: Set(None),
        secret_rotated_at: Set(None),
        failing_since: Set(None),
    }
    .insert(&app.db)
    .await
    .unwrap();
}

async fn deliveries(app: &TestApp) -> Vec<entity::webhook_deliveries::Model> {
    use sea_orm::QueryOrder;
    entity::webhook_deliveries::Entity::find()
        .order_by_asc(entity::webhook_deliveries::Column::Id)
        .all(&app.db)
        .await
        .unwrap()
}

async fn audit_actions(app: &TestApp) -> Vec<(String, Option<String>, String)> {
    use sea_orm::QueryOrder;
    entity::audit::Entity::find()
        .filter(entity::audit::Column::Action.starts_with("sync."))
        .order_by_asc(entity::audit::Column::Id)
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|a| (a.action, a.target_id, a.actor))
        .collect()
}

#[tokio::test]
async fn every_transition_queues_its_event_and_audit_row_and_progress_does_not() {
    // No dispatcher on this instance: the queued deliveries stay as queued, whatever the
    // test's timing, so the queue itself is what is checked.
    let app = spawn_app_with(|env| {
        env.insert("METADECK_WEBHOOK_DISPATCH".into(), "false".into());
    })
    .await;
    let admin = admin(&app).await;
    subscribe_webhook(&app, "wh_sync", json!(["sync.*"]), true).await;
    subscribe_webhook(&app, "wh_failed_only", json!(["sync.failed"]), true).await;
    subscribe_webhook(&app, "wh_off", json!(["*"]), false).await;
    subscribe_webhook(&app, "wh_devices", json!(["device.*"]), true).await;

    let a = start(&app, &admin, "acme", "sqlite").await;
    patch(&app, &admin, id_of(&a), json!({"progress_percentage": 10})).await;
    patch(&app, &admin, id_of(&a), json!({"users_count": 7})).await;
    let done: Value = patch(&app, &admin, id_of(&a), json!({"status": "completed"}))
        .await
        .json()
        .await
        .unwrap();
    let b = start(&app, &admin, "acme", "sqlite").await;
    let failed: Value = patch(
        &app,
        &admin,
        id_of(&b),
        json!({"status": "failed", "error_details": "disk full"}),
    )
    .await
    .json()
    .await
    .unwrap();
    let c = start(&app, &admin, "acme", "sqlite").await;
    let url = format!("/api/sync/runs/{}/cancel", id_of(&c));
    send(&app, &admin, reqwest::Method::POST, &url, None).await;
    // A refused change emits nothing.
    patch(&app, &admin, id_of(&c), json!({"progress_percentage": 50})).await;

    let rows = deliveries(&app).await;
    let got: Vec<(String, String)> = rows
        .iter()
        .map(|d| (d.webhook_id.clone(), d.event_type.clone()))
        .collect();
    let want: Vec<(String, String)> = [
        ("wh_sync", "sync.started"),
        ("wh_sync", "sync.completed"),
        ("wh_sync", "sync.started"),
        ("wh_sync", "sync.failed"),
        ("wh_failed_only", "sync.failed"),
        ("wh_sync", "sync.started"),
        ("wh_sync", "sync.canceled"),
    ]
    .iter()
    .map(|(w, e)| (w.to_string(), e.to_string()))
    .collect();
    let mut got_sorted = got.clone();
    let mut want_sorted = want.clone();
    got_sorted.sort();
    want_sorted.sort();
    assert_eq!(got_sorted, want_sorted);
    assert!(
        rows.iter()
            .all(|d| d.status == "pending" && d.attempts == 0)
    );

    // The payload is the sync as the JSON API renders it.
    let completed = rows
        .iter()
        .find(|d| d.event_type == "sync.completed")
        .unwrap();
    let payload = completed.payload.clone().unwrap();
    assert_eq!(payload["type"], "sync.completed");
    assert_eq!(payload["data"], done);
    let failed_rows: Vec<_> = rows
        .iter()
        .filter(|d| d.event_type == "sync.failed")
        .collect();
    assert_eq!(failed_rows[0].payload.as_ref().unwrap()["data"], failed);
    assert_eq!(
        failed_rows[0].message_id, failed_rows[1].message_id,
        "one message per event, whatever the number of subscribers"
    );

    let audit = audit_actions(&app).await;
    let id = |v: &Value| Some(id_of(v).to_string());
    assert_eq!(
        audit,
        vec![
            ("sync.started".into(), id(&a), "user:admin".into()),
            ("sync.completed".into(), id(&a), "user:admin".into()),
            ("sync.started".into(), id(&b), "user:admin".into()),
            ("sync.failed".into(), id(&b), "user:admin".into()),
            ("sync.started".into(), id(&c), "user:admin".into()),
            ("sync.canceled".into(), id(&c), "user:admin".into()),
        ]
    );
}

/// Backdates a sync's last update by `minutes`.
async fn backdate(app: &TestApp, id: i64, minutes: i64) {
    let at = (Utc::now() - chrono::Duration::minutes(minutes))
        .to_rfc3339_opts(chrono::SecondsFormat::Micros, false);
    app.exec(&format!(
        "UPDATE sync_history SET updated_at = '{at}' WHERE id = {id}"
    ))
    .await
    .unwrap();
}

#[tokio::test]
async fn a_stale_running_sync_gives_way_to_a_new_start() {
    let app = spawn_app().await;
    let admin = admin(&app).await;
    subscribe_webhook(&app, "wh", json!(["sync.*"]), true).await;
    let old = start(&app, &admin, "acme", "sqlite").await;
    backdate(&app, id_of(&old), 31).await;
    let new = start(&app, &admin, "acme", "sqlite").await;
    let (_, old_now) = get_json(
        &app,
        &app.client,
        &format!("/api/sync/runs/{}", id_of(&old)),
    )
    .await;
    assert_eq!(old_now["status"], "failed");
    assert_eq!(old_now["success"], false);
    assert!(
        old_now["error_details"]
            .as_str()
            .unwrap()
            .starts_with("stale:"),
        "{old_now}"
    );
    assert_eq!(new["status"], "running");
    let audit = audit_actions(&app).await;
    assert!(audit.contains(&(
        "sync.failed".into(),
        Some(id_of(&old).to_string()),
        "system".into()
    )));
    assert!(
        deliveries(&app)
            .await
            .iter()
            .any(|d| d.event_type == "sync.failed")
    );
}

#[tokio::test]
async fn the_sweeper_fails_syncs_that_stopped_reporting() {
    let app = spawn_app_with(|env| {
        env.insert("METADECK_SYNC_STALE_MINUTES".into(), "1".into());
        env.insert("METADECK_SYNC_SWEEP_SECONDS".into(), "1".into());
    })
    .await;
    let admin = admin(&app).await;
    let silent = start(&app, &admin, "silent", "sqlite").await;
    let chatty = start(&app, &admin, "chatty", "sqlite").await;
    backdate(&app, id_of(&silent), 2).await;
    let path = format!("/api/sync/runs/{}", id_of(&silent));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let (_, now) = get_json(&app, &app.client, &path).await;
        if now["status"] == "failed" {
            assert!(now["error_details"].as_str().unwrap().starts_with("stale:"));
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not swept within 10 s: {now}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (_, fresh) = get_json(
        &app,
        &app.client,
        &format!("/api/sync/runs/{}", id_of(&chatty)),
    )
    .await;
    assert_eq!(fresh["status"], "running", "a sync that reports stays");
}

/// Settings for another instance on the database of `app`.
fn settings_for(app: &TestApp, extra: &[(&str, &str)]) -> web::settings::Settings {
    let mut env = std::collections::HashMap::from([
        ("DATABASE_URL".to_string(), app.database.url.clone()),
        ("METADECK_BIND".to_string(), "127.0.0.1:0".to_string()),
        (
            "METADECK_SECRET_KEY".to_string(),
            crate::helpers::TEST_SECRET_KEY.to_string(),
        ),
        ("METADECK_WORKERS".to_string(), "1".to_string()),
        ("METADECK_DB_MAX_CONNECTIONS".to_string(), "4".to_string()),
    ]);
    for (k, v) in extra {
        env.insert(k.to_string(), v.to_string());
    }
    web::settings::Settings::from_lookup(|k| env.get(k).cloned()).unwrap()
}

#[tokio::test]
async fn stale_syncs_are_failed_when_an_instance_starts() {
    let app = spawn_app().await;
    let admin = admin(&app).await;
    let sync = start(&app, &admin, "acme", "sqlite").await;
    backdate(&app, id_of(&sync), 45).await;
    let _second = web::startup::Application::build(settings_for(&app, &[]))
        .await
        .expect("a second instance starts");
    let (_, now) = get_json(
        &app,
        &app.client,
        &format!("/api/sync/runs/{}", id_of(&sync)),
    )
    .await;
    assert_eq!(now["status"], "failed");
    assert!(now["error_details"].as_str().unwrap().starts_with("stale:"));
}

/// Reads server-sent events from `body` until one named `event` whose data satisfies `want`.
async fn wait_for_event(
    body: &mut Response,
    buffer: &mut String,
    event: &str,
    within: Duration,
    want: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        while let Some(end) = buffer.find("\n\n") {
            let frame: String = buffer.drain(..end + 2).collect();
            let name = frame
                .lines()
                .find_map(|l| l.strip_prefix("event: "))
                .unwrap_or("message");
            let data = frame
                .lines()
                .find_map(|l| l.strip_prefix("data: "))
                .unwrap_or("null");
            if name == event {
                let value: Value = serde_json::from_str(data).unwrap();
                if want(&value) {
                    return value;
                }
            }
        }
        let chunk = tokio::time::timeout_at(deadline, body.chunk())
            .await
            .unwrap_or_else(|_| panic!("no matching {event} event within {within:?}"))
            .expect("a chunk")
            .expect("the stream is open");
        buffer.push_str(std::str::from_utf8(&chunk).unwrap());
    }
}

fn card_of<'a>(cards: &'a Value, tenant: &str) -> Option<&'a Value> {
    cards.as_array()?.iter().find(|c| c["tenant_id"] == tenant)
}

#[tokio::test]
async fn the_event_stream_sends_every_card_then_each_change() {
    let app = spawn_app().await;
    let admin = admin(&app).await;
    let sync = start(&app, &admin, "acme", "sqlite").await;
    let res = app.get("/sync/events").await;
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let mut body = res;
    let mut buffer = String::new();
    let first = wait_for_event(
        &mut body,
        &mut buffer,
        "cards",
        Duration::from_secs(2),
        |_| true,
    )
    .await;
    assert_eq!(card_of(&first, "acme").unwrap()["status"], "running");

    patch(
        &app,
        &admin,
        id_of(&sync),
        json!({"progress_percentage": 42, "users_count": 99}),
    )
    .await;
    let changed = wait_for_event(
        &mut body,
        &mut buffer,
        "cards",
        Duration::from_secs(2),
        |c| card_of(c, "acme").is_some_and(|a| a["progress"] == 42),
    )
    .await;
    assert_eq!(
        card_of(&changed, "acme").unwrap()["entity_counts"]["users"],
        99
    );

    // A new tenant's card arrives by itself.
    start(&app, &admin, "newco", "graphdb").await;
    wait_for_event(
        &mut body,
        &mut buffer,
        "cards",
        Duration::from_secs(2),
        |c| card_of(c, "newco").is_some(),
    )
    .await;

    // A change written by something other than this instance (another instance, a script)
    // arrives too: the feed watches the database.
    app.exec(&format!(
        "UPDATE sync_history SET progress_percentage = 77, updated_at = '{}' WHERE id = {}",
        Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, false),
        id_of(&sync)
    ))
    .await
    .unwrap();
    wait_for_event(
        &mut body,
        &mut buffer,
        "cards",
        Duration::from_secs(2),
        |c| card_of(c, "acme").is_some_and(|a| a["progress"] == 77),
    )
    .await;

    // The polling fallback answers every card.
    let (status, cards) = get_json(&app, &app.client, "/sync/cards").await;
    assert_eq!(status, 200);
    assert_eq!(card_of(&cards, "acme").unwrap()["progress"], 77);
    assert!(card_of(&cards, "newco").is_some());
}

#[tokio::test]
async fn a_stream_served_by_one_instance_shows_changes_made_through_another() {
    let app = spawn_app().await;
    let admin = admin(&app).await;
    let sync = start(&app, &admin, "acme", "sqlite").await;
    let other = web::startup::Application::build(settings_for(&app, &[]))
        .await
        .unwrap();
    let other_url = format!("http://127.0.0.1:{}", other.port());
    tokio::spawn(other.run_until_stopped());
    // The session lives in the shared database, so the same cookie works on both instances.
    let res = app
        .client
        .get(format!("{other_url}/sync/events"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let mut body = res;
    let mut buffer = String::new();
    wait_for_event(
        &mut body,
        &mut buffer,
        "cards",
        Duration::from_secs(2),
        |_| true,
    )
    .await;
    patch(
        &app,
        &admin,
        id_of(&sync),
        json!({"progress_percentage": 64}),
    )
    .await;
    wait_for_event(
        &mut body,
        &mut buffer,
        "cards",
        Duration::from_secs(2),
        |c| card_of(c, "acme").is_some_and(|a| a["progress"] == 64),
    )
    .await;
}

#[tokio::test]
async fn open_streams_end_promptly_when_the_server_stops() {
    let database = crate::helpers::TestDatabase::migrated().await;
    let (mut child, base) = crate::helpers::serve_process(
        &database,
        &[("METADECK_ADMIN_PASSWORD", crate::helpers::ADMIN_PASSWORD)],
        std::process::Stdio::null(),
    )
    .await;
    let client = new_client();
    let token = crate::helpers::login_token(&client, &format!("{base}/login")).await;
    let res = client
        .post(format!("{base}/login"))
        .form(&[
            ("csrf_token", token.as_str()),
            ("username", "admin"),
            ("password", crate::helpers::ADMIN_PASSWORD),
            ("next", "/"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let res = client
        .get(format!("{base}/sync/events"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let mut body = res;
    let mut buffer = String::new();
    wait_for_event(
        &mut body,
        &mut buffer,
        "cards",
        Duration::from_secs(2),
        |_| true,
    )
    .await;

    let stopped_at = std::time::Instant::now();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    // The stream ends (rather than holding the graceful stop for its 30 s)…
    let ended = tokio::time::timeout(Duration::from_secs(5), async {
        while let Ok(Some(_)) = body.chunk().await {}
    })
    .await;
    assert!(ended.is_ok(), "the stream is still open 5 s after SIGTERM");
    // …and the process exits soon after.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the server did not exit within 10 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "{status:?}");
    assert!(stopped_at.elapsed() < Duration::from_secs(10));
}

#[tokio::test]
async fn the_dashboard_shows_a_card_per_tenant_with_its_hooks_and_a_chart() {
    let app = spawn_app().await;
    let admin = admin(&app).await;
    seed(&app, "acme", "completed", "sqlite", "2026-11-01T10:00:00Z").await;
    seed(&app, "acme", "failed", "sqlite", "2026-11-02T10:00:00Z").await;
    let sync = start(&app, &admin, "acme", "sqlite").await;
    patch(
        &app,
        &admin,
        id_of(&sync),
        json!({"progress_percentage": 50, "users_count": 1500, "groups_count": 25}),
    )
    .await;
    seed(
        &app,
        "<b>evil</b>",
        "completed",
        "graphdb",
        "2026-11-01T10:00:00Z",
    )
    .await;

    let res = app.get("/sync").await;
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    assert!(html.contains(r#"data-tenant="acme""#));
    assert!(
        html.contains(r#"<span class="badge sync-running" data-field="status">running</span>"#)
    );
    assert!(html.contains(r#"<span data-field="progress">50%</span>"#));
    assert!(html.contains(r#"<dd data-field="users_count">1500</dd>"#));
    assert!(html.contains(r#"<dd data-field="groups_count">25</dd>"#));
    assert!(html.contains("boom"), "the last error is shown");
    assert!(html.contains(&format!(r#"action="/sync/{}/cancel""#, id_of(&sync))));
    assert!(html.contains("<svg"), "a chart");
    assert!(html.contains(r#"class="bar failed""#));
    assert!(html.contains(r#"<script src="/static/sync.js" defer></script>"#));
    assert!(!html.contains("<b>evil</b>"), "tenant ids are escaped");
    assert!(html.contains("&#60;b&#62;evil&#60;/b&#62;") || html.contains("&lt;b&gt;evil"));

    // A viewer sees the cards but no cancel button.
    let viewer = app.client_with_role("viewer").await;
    let html = viewer
        .get(app.url("/sync"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains(r#"data-tenant="acme""#));
    assert!(!html.contains("/cancel\""));
    let fragment = app.get("/sync/chart?tenant_id=acme").await;
    assert_eq!(fragment.status(), 200);
    let fragment = fragment.text().await.unwrap();
    assert!(
        fragment.trim_start().starts_with("<figure") && fragment.contains(r#"class="bar running""#)
    );
    assert_eq!(app.get("/sync/chart").await.status(), 400);
    for asset in ["/static/sync.js", "/static/sync.css"] {
        assert_eq!(app.get(asset).await.status(), 200, "{asset}");
    }
}

#[tokio::test]
async fn cancelling_from_the_console_asks_first_then_cancels() {
    let app = spawn_app().await;
    let admin = admin(&app).await;
    let sync = start(&app, &admin, "acme", "sqlite").await;
    let action = app.url(&format!("/sync/{}/cancel", id_of(&sync)));
    // Unconfirmed: the question of the confirmation component, nothing canceled.
    let res = app
        .client
        .post(&action)
        .form(&[("csrf_token", admin.1.as_str()), ("confirm", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let question = res.text().await.unwrap();
    assert!(question.contains("Cancel the running sync #"), "{question}");
    assert!(question.contains(r#"data-testid="confirmation""#));
    assert!(question.contains(r#"name="confirm" value="yes""#));
    let (_, now) = get_json(
        &app,
        &app.client,
        &format!("/api/sync/runs/{}", id_of(&sync)),
    )
    .await;
    assert_eq!(now["status"], "running");
    // Without the CSRF token: refused.
    let res = app
        .client
        .post(&action)
        .form(&[("confirm", "yes")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    // Confirmed: canceled, back to the dashboard.
    let res = app
        .client
        .post(&action)
        .form(&[("csrf_token", admin.1.as_str()), ("confirm", "yes")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/sync");
    let (_, now) = get_json(
        &app,
        &app.client,
        &format!("/api/sync/runs/{}", id_of(&sync)),
    )
    .await;
    assert_eq!(now["status"], "canceled");
}

#[tokio::test]
async fn the_history_page_filters_and_pages_and_links_to_each_full_record() {
    let app = spawn_app().await;
    admin(&app).await;
    let mut ids = Vec::new();
    for day in 1..=5 {
        ids.push(
            seed(
                &app,
                "acme",
                if day == 3 { "failed" } else { "completed" },
                "sqlite",
                &format!("2026-11-0{day}T10:00:00Z"),
            )
            .await,
        );
    }
    seed(
        &app,
        "globex",
        "completed",
        "graphdb",
        "2026-11-06T10:00:00Z",
    )
    .await;
    let html = app
        .get("/sync/history?tenant_id=acme&limit=2")
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains(&format!(r#"href="/sync/{}""#, ids[4])));
    assert!(html.contains(&format!(r#"href="/sync/{}""#, ids[3])));
    assert!(!html.contains(&format!(r#"href="/sync/{}""#, ids[2])));
    // No globex row (the tenant box still offers globex as a known value).
    let rows = &html[html.find("<tbody>").unwrap()..html.find("</tbody>").unwrap()];
    assert!(!rows.contains("globex"));
    let next = html
        .split("rel=\"next\"")
        .next()
        .and_then(|before| before.rsplit("href=\"").next())
        .and_then(|h| h.split('"').next())
        .expect("a next-page link")
        .replace("&amp;", "&");
    assert!(
        next.contains("tenant_id=acme") && next.contains("cursor="),
        "{next}"
    );
    let page2 = app.get(&next).await.text().await.unwrap();
    assert!(page2.contains(&format!(r#"href="/sync/{}""#, ids[2])));
    assert!(page2.contains("boom"));

    let failed = app
        .get("/sync/history?status=failed")
        .await
        .text()
        .await
        .unwrap();
    assert!(failed.contains(&format!(r#"href="/sync/{}""#, ids[2])));
    assert!(!failed.contains(&format!(r#"href="/sync/{}""#, ids[1])));
    assert_eq!(app.get("/sync/history?status=exploded").await.status(), 400);
    assert_eq!(app.get("/sync/history?since=soon").await.status(), 400);

    let detail = app.get(&format!("/sync/{}", ids[2])).await;
    assert_eq!(detail.status(), 200);
    let detail = detail.text().await.unwrap();
    assert!(detail.contains(r#"<pre data-field="error_details">boom</pre>"#));
    assert!(detail.contains("client:seed"));
    assert!(detail.contains(r#"data-field="status">failed"#));
}

#[tokio::test]
async fn the_api_description_documents_every_sync_route() {
    let app = spawn_app().await;
    let doc: Value = app.get("/api/openapi.json").await.json().await.unwrap();
    for (path, method) in [
        ("/api/sync/runs", "get"),
        ("/api/sync/runs", "post"),
        ("/api/sync/runs/{id}", "get"),
        ("/api/sync/runs/{id}", "patch"),
        ("/api/sync/runs/{id}/cancel", "post"),
        ("/api/sync/status", "get"),
        ("/api/sync/tenants", "get"),
    ] {
        assert!(
            doc["paths"][path][method].is_object(),
            "{method} {path} is documented"
        );
    }
    assert!(doc["components"]["schemas"]["SyncRecord"].is_object());
}

#[tokio::test]
async fn the_default_tenant_and_page_size_of_the_preferences_shape_the_pages() {
    let app = spawn_app().await;
    let admin = admin(&app).await;
    for tenant in ["alpha", "zulu"] {
        let run = start(&app, &admin, tenant, "sqlite").await;
        let res = patch(&app, &admin, id_of(&run), json!({"status": "completed"})).await;
        assert_eq!(res.status(), StatusCode::OK);
    }
    start(&app, &admin, "zulu", "sqlite").await;
    let res = send(
        &app,
        &admin,
        reqwest::Method::PUT,
        "/api/me/preferences",
        Some(json!({"selected_teams": [], "notification_settings": {},
                    "ui": {"theme": "auto", "default_tenant": "zulu", "page_size": 1}})),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);

    let html = app.get("/sync").await.text().await.unwrap();
    let zulu = html.find("data-tenant=\"zulu\"").expect("zulu's card");
    let alpha = html.find("data-tenant=\"alpha\"").expect("alpha's card");
    assert!(zulu < alpha, "the default tenant's card comes first");

    let html = app.get("/sync/history").await.text().await.unwrap();
    assert!(
        html.contains("value=\"zulu\""),
        "the tenant filter starts on the default tenant"
    );
    assert!(!html.contains(">alpha<"), "only the default tenant's syncs");
    assert!(html.contains("cursor="), "one row per page: a next link");
    let all = app
        .get("/sync/history?tenant_id=")
        .await
        .text()
        .await
        .unwrap();
    assert!(all.contains("cursor="));
}
