//! The registry's JSON API and bulk upserts (spec 04), on whichever backend the run uses.

use std::collections::HashSet;

use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app, spawn_app_with};

/// The app with its admin signed in, and the session's CSRF token.
async fn admin() -> (TestApp, String) {
    let app = spawn_app().await;
    app.login_as_admin().await;
    let token = app.csrf_token(&app.client).await;
    (app, token)
}

async fn send(
    app: &TestApp,
    token: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = app
        .client
        .request(method, app.url(path))
        .header("X-CSRF-Token", token);
    if let Some(body) = body {
        req = req.json(&body);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn put(app: &TestApp, token: &str, path: &str, body: Value) -> (u16, Value) {
    send(app, token, reqwest::Method::PUT, path, Some(body)).await
}

async fn post(app: &TestApp, token: &str, path: &str, body: Value) -> (u16, Value) {
    send(app, token, reqwest::Method::POST, path, Some(body)).await
}

/// Posts a bulk upsert that must be accepted whole.
async fn upsert_all(app: &TestApp, token: &str, path: &str, items: Value) {
    let (status, body) = post(app, token, path, items).await;
    assert_eq!(status, 200, "{path}: {body}");
}

async fn get(app: &TestApp, path: &str) -> (u16, Value) {
    let res = app.get(path).await;
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn delete(app: &TestApp, token: &str, path: &str) -> u16 {
    send(app, token, reqwest::Method::DELETE, path, None)
        .await
        .0
}

fn device(id: &str, name: &str) -> Value {
    json!({"device_id": id, "name": name})
}

async fn count(app: &TestApp, table: &str) -> i64 {
    use sea_orm::{ConnectionTrait, Statement};
    let row = app
        .db
        .query_one_raw(Statement::from_string(
            app.backend(),
            format!("SELECT COUNT(*) AS n FROM {table}"),
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get::<i64>("", "n").unwrap()
}

#[tokio::test]
async fn put_creates_with_201_then_replaces_with_200_nulling_omitted_fields() {
    let (app, token) = admin().await;

    let (created, body) = put(
        &app,
        &token,
        "/api/devices/hue-1",
        json!({"name": "Lamp", "manufacturer": "Signify", "area_id": "kitchen",
               "last_seen": "2026-01-01T10:00:00+02:00"}),
    )
    .await;
    let (replaced, again) = put(
        &app,
        &token,
        "/api/devices/hue-1",
        json!({"name": "Lamp 2"}),
    )
    .await;

    assert_eq!(created, 201, "{body}");
    assert_eq!(body["device_id"], "hue-1");
    assert_eq!(
        body["last_seen"], "2026-01-01T08:00:00Z",
        "normalised to UTC"
    );
    assert!(body["created_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(replaced, 200);
    assert_eq!(again["name"], "Lamp 2");
    assert_eq!(again["manufacturer"], Value::Null, "PUT replaces");
    assert_eq!(again["last_seen"], Value::Null);
}

#[tokio::test]
async fn put_refuses_each_broken_rule_naming_the_field() {
    let (app, token) = admin().await;
    let future = (chrono::Utc::now() + chrono::Duration::minutes(10)).to_rfc3339();
    let cases = [
        ("/api/devices/a%20b", json!({"name": "x"}), "device_id"),
        (
            "/api/devices/ok",
            json!({"device_id": "other", "name": "x"}),
            "device_id",
        ),
        ("/api/devices/ok", json!({}), "name"),
        ("/api/devices/ok", json!({"name": ""}), "name"),
        ("/api/devices/ok", json!({"name": "x".repeat(256)}), "name"),
        (
            "/api/devices/ok",
            json!({"name": "x", "model": "m".repeat(256)}),
            "model",
        ),
        (
            "/api/devices/ok",
            json!({"name": "x", "last_seen": "yesterday"}),
            "last_seen",
        ),
        (
            "/api/devices/ok",
            json!({"name": "x", "last_seen": future}),
            "last_seen",
        ),
        (
            "/api/devices/ok",
            json!({"name": "x", "colour": "red"}),
            "colour",
        ),
        ("/api/devices/ok", json!({"name": 5}), "name"),
    ];
    for (path, body, field) in cases {
        let (status, err) = put(&app, &token, path, body.clone()).await;
        assert_eq!(status, 422, "{body}: {err}");
        assert_eq!(err["error"]["code"], "validation_failed");
        assert_eq!(err["error"]["details"][0]["field"], field, "{body}: {err}");
    }
    assert_eq!(count(&app, "devices").await, 0);
}

#[tokio::test]
async fn entity_rules_domain_prefix_and_existing_device() {
    let (app, token) = admin().await;
    put(&app, &token, "/api/devices/d1", json!({"name": "D"})).await;

    let (created, e) = put(
        &app,
        &token,
        "/api/entities/light.kitchen",
        json!({"device_id": "d1", "platform": "hue"}),
    )
    .await;
    let (orphan, o) = put(&app, &token, "/api/entities/sensor.free", json!({})).await;
    let bad = [
        (
            "/api/entities/light.kitchen",
            json!({"domain": "switch"}),
            "domain",
        ),
        ("/api/entities/Light.x", json!({}), "entity_id"),
        ("/api/entities/light", json!({}), "entity_id"),
        (
            "/api/entities/light.x",
            json!({"device_id": "nope"}),
            "device_id",
        ),
        (
            "/api/entities/light.x",
            json!({"entity_id": "light.y"}),
            "entity_id",
        ),
    ];

    assert_eq!(created, 201, "{e}");
    assert_eq!(e["domain"], "light", "the domain comes from the id");
    assert_eq!(e["disabled"], false);
    assert_eq!(orphan, 201, "an entity may have no device: {o}");
    assert_eq!(o["device_id"], Value::Null);
    for (path, body, field) in bad {
        let (status, err) = put(&app, &token, path, body.clone()).await;
        assert_eq!(status, 422, "{path} {body}: {err}");
        assert_eq!(err["error"]["details"][0]["field"], field, "{path}: {err}");
    }
    let (again, _) = put(
        &app,
        &token,
        "/api/entities/light.kitchen",
        json!({"device_id": "d1", "disabled": true}),
    )
    .await;
    assert_eq!(again, 200);
}

#[tokio::test]
async fn get_shows_a_device_with_its_entities_and_delete_cascades() {
    let (app, token) = admin().await;
    put(&app, &token, "/api/devices/d1", json!({"name": "D"})).await;
    put(
        &app,
        &token,
        "/api/entities/sensor.b",
        json!({"device_id": "d1"}),
    )
    .await;
    put(
        &app,
        &token,
        "/api/entities/light.a",
        json!({"device_id": "d1"}),
    )
    .await;
    put(&app, &token, "/api/entities/light.other", json!({})).await;

    let (status, detail) = get(&app, "/api/devices/d1").await;
    let gone = delete(&app, &token, "/api/devices/d1").await;

    assert_eq!(status, 200);
    let ids: Vec<&str> = detail["entities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["entity_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec!["light.a", "sensor.b"]);
    assert_eq!(gone, 204);
    assert_eq!(get(&app, "/api/devices/d1").await.0, 404);
    assert_eq!(get(&app, "/api/entities/light.a").await.0, 404, "cascaded");
    assert_eq!(get(&app, "/api/entities/light.other").await.0, 200, "kept");
    assert_eq!(delete(&app, &token, "/api/devices/d1").await, 404);
    assert_eq!(delete(&app, &token, "/api/entities/light.other").await, 204);
    assert_eq!(delete(&app, &token, "/api/entities/light.other").await, 404);
    assert_eq!(get(&app, "/api/entities/nope.x").await.0, 404);
}

/// Lookups made at the same time (on PostgreSQL they go out together in one query) each
/// answer their own device, with its own entities, or 404; a change is seen by the next one.
#[tokio::test]
async fn concurrent_lookups_each_answer_their_own_device() {
    let (app, token) = admin().await;
    let devices: Vec<Value> = (0..40)
        .map(|n| device(&format!("dev-{n:02}"), &format!("Device {n}")))
        .collect();
    let entities: Vec<Value> = (0..40)
        .flat_map(|n| {
            (0..n % 3).map(move |e| json!({"entity_id": format!("sensor.d{n}_{e}"), "device_id": format!("dev-{n:02}")}))
        })
        .collect();
    upsert_all(
        &app,
        &token,
        "/internal/devices/bulk_upsert",
        json!(devices),
    )
    .await;
    upsert_all(
        &app,
        &token,
        "/internal/entities/bulk_upsert",
        json!(entities),
    )
    .await;

    // Every device three times over, and ids of no device, all in flight at once.
    let ids: Vec<String> = (0..120)
        .map(|i| format!("dev-{:02}", i % 40))
        .chain((0..20).map(|i| format!("missing-{i}")))
        .collect();
    let paths: Vec<String> = ids.iter().map(|id| format!("/api/devices/{id}")).collect();
    let answers = futures_util::future::join_all(paths.iter().map(|path| get(&app, path))).await;

    for (id, (status, body)) in ids.iter().zip(answers) {
        if let Some(n) = id.strip_prefix("dev-") {
            let n: usize = n.parse().unwrap();
            assert_eq!(status, 200, "{id}");
            assert_eq!(body["device_id"], *id);
            assert_eq!(body["name"], format!("Device {n}"));
            let entities: Vec<&str> = body["entities"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["entity_id"].as_str().unwrap())
                .collect();
            let expected: Vec<String> = (0..n % 3).map(|e| format!("sensor.d{n}_{e}")).collect();
            assert_eq!(entities, expected, "{id}");
        } else {
            assert_eq!(status, 404, "{id}: {body}");
        }
    }
    put(
        &app,
        &token,
        "/api/devices/dev-07",
        json!({"name": "Renamed"}),
    )
    .await;
    assert_eq!(get(&app, "/api/devices/dev-07").await.1["name"], "Renamed");
}

#[tokio::test]
async fn device_filters_and_case_insensitive_search() {
    let (app, token) = admin().await;
    let batch = json!([
        {"device_id": "a1", "name": "Kitchen Lamp", "area_id": "kitchen", "manufacturer": "Signify", "integration": "hue"},
        {"device_id": "a2", "name": "Hall Lamp", "area_id": "hall", "manufacturer": "Signify", "integration": "hue"},
        {"device_id": "KITCHEN-plug", "name": "Plug", "area_id": "hall", "manufacturer": "Shelly", "integration": "shelly"},
        {"device_id": "pct", "name": "100%_off", "area_id": "hall"},
        {"device_id": "b-light", "name": "Éclairage Étage", "area_id": "attic"},
    ]);
    upsert_all(&app, &token, "/internal/devices/bulk_upsert", batch).await;

    let ids = |v: Value| -> Vec<String> {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["device_id"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        ids(get(&app, "/api/devices?area_id=hall").await.1),
        vec!["KITCHEN-plug", "a2", "pct"]
    );
    assert_eq!(
        ids(get(&app, "/api/devices?manufacturer=Signify&area_id=hall")
            .await
            .1),
        vec!["a2"]
    );
    assert_eq!(
        ids(get(&app, "/api/devices?integration=shelly").await.1),
        vec!["KITCHEN-plug"]
    );
    assert_eq!(
        ids(get(&app, "/api/devices?q=kitchen").await.1),
        vec!["KITCHEN-plug", "a1"]
    );
    assert_eq!(
        ids(get(&app, "/api/devices?q=%25_").await.1),
        vec!["pct"],
        "wildcards are literal"
    );
    assert_eq!(
        ids(get(&app, "/api/devices?q=LAMP&area_id=kitchen").await.1),
        vec!["a1"]
    );
    assert_eq!(
        ids(get(&app, "/api/devices?q=%C3%89tage").await.1),
        vec!["b-light"],
        "the same case"
    );
    if app.backend() == sea_orm::DbBackend::Postgres {
        // Sorting is by bytes, yet searching folds every letter's case on PostgreSQL.
        assert_eq!(
            ids(get(&app, "/api/devices?q=%C3%89CLAIRAGE%20%C3%A9TAGE")
                .await
                .1),
            vec!["b-light"]
        );
    }
}

#[tokio::test]
async fn entity_filters() {
    let (app, token) = admin().await;
    post(
        &app,
        &token,
        "/internal/devices/bulk_upsert",
        json!([device("d1", "D1"), device("d2", "D2")]),
    )
    .await;
    let batch = json!([
        {"entity_id": "light.a", "device_id": "d1", "platform": "hue"},
        {"entity_id": "light.b", "device_id": "d2", "platform": "hue", "disabled": true},
        {"entity_id": "sensor.c", "device_id": "d1", "platform": "zha"},
    ]);
    let (status, body) = post(&app, &token, "/internal/entities/bulk_upsert", batch).await;
    assert_eq!((status, body["upserted"].as_u64()), (200, Some(3)));

    let ids = |v: Value| -> Vec<String> {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["entity_id"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        ids(get(&app, "/api/entities?device_id=d1").await.1),
        vec!["light.a", "sensor.c"]
    );
    assert_eq!(
        ids(get(&app, "/api/entities?domain=light").await.1),
        vec!["light.a", "light.b"]
    );
    assert_eq!(
        ids(get(&app, "/api/entities?platform=zha").await.1),
        vec!["sensor.c"]
    );
    assert_eq!(
        ids(get(&app, "/api/entities?disabled=true").await.1),
        vec!["light.b"]
    );
    assert_eq!(
        ids(get(&app, "/api/entities?disabled=false&domain=light")
            .await
            .1),
        vec!["light.a"]
    );
    assert_eq!(get(&app, "/api/entities?disabled=maybe").await.0, 400);
}

#[tokio::test]
async fn bad_limits_and_cursors_are_bad_requests() {
    let (app, _) = admin().await;
    for path in [
        "/api/devices?limit=0",
        "/api/devices?limit=501",
        "/api/devices?limit=ten",
        "/api/devices?cursor=garbage*",
        "/api/entities?limit=0",
        "/api/entities?cursor=%7B",
    ] {
        let (status, body) = get(&app, path).await;
        assert_eq!(status, 400, "{path}: {body}");
        assert_eq!(body["error"]["code"], "bad_request", "{path}");
    }
}

#[tokio::test]
async fn an_invalid_item_in_the_middle_of_a_batch_leaves_nothing_behind() {
    let (app, token) = admin().await;
    let audit_before = count(&app, "audit").await;
    let mut items: Vec<Value> = (0..500)
        .map(|i| device(&format!("d{i:04}"), "ok"))
        .collect();
    items[250] = json!({"device_id": "bad id", "name": ""});
    items[400] = json!({"device_id": "d0400"});

    let (status, body) = post(
        &app,
        &token,
        "/internal/devices/bulk_upsert",
        Value::Array(items),
    )
    .await;

    assert_eq!(status, 422, "{body}");
    let details: Vec<(u64, &str)> = body["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["index"].as_u64().unwrap(), d["field"].as_str().unwrap()))
        .collect();
    assert_eq!(
        details,
        vec![(250, "device_id"), (250, "name"), (400, "name")]
    );
    assert_eq!(count(&app, "devices").await, 0);
    assert_eq!(
        count(&app, "audit").await,
        audit_before,
        "no audit row for a refused batch"
    );
}

#[tokio::test]
async fn an_entity_batch_naming_a_missing_device_writes_nothing() {
    let (app, token) = admin().await;
    post(
        &app,
        &token,
        "/internal/devices/bulk_upsert",
        json!([device("d1", "D")]),
    )
    .await;
    let batch = json!([
        {"entity_id": "light.a", "device_id": "d1"},
        {"entity_id": "light.b", "device_id": "ghost"},
        {"entity_id": "light.c", "domain": "switch"},
        {"entity_id": "light.d", "colour": 1},
    ]);

    let (status, body) = post(
        &app,
        &token,
        "/internal/entities/bulk_upsert",
        batch.clone(),
    )
    .await;
    let fixed = json!([{"entity_id": "light.a", "device_id": "d1"}, {"entity_id": "light.b", "device_id": "ghost"}]);
    let (status2, body2) = post(&app, &token, "/internal/entities/bulk_upsert", fixed).await;

    assert_eq!(status, 422);
    assert_eq!(
        body["error"]["details"][0]["index"], 3,
        "an unknown field is named with its index: {body}"
    );
    assert_eq!(body["error"]["details"][0]["field"], "colour");
    assert_eq!(status2, 422);
    assert_eq!(body2["error"]["details"][0]["index"], 1, "{body2}");
    assert_eq!(body2["error"]["details"][0]["field"], "device_id");
    assert_eq!(count(&app, "entities").await, 0);
}

#[tokio::test]
async fn the_last_duplicate_wins_and_upserted_counts_distinct_ids() {
    let (app, token) = admin().await;
    let batch = json!([device("a", "first"), device("b", "b"), device("a", "last")]);

    let (status, body) = post(&app, &token, "/internal/devices/bulk_upsert", batch).await;
    let (_, a) = get(&app, "/api/devices/a").await;
    let (again, body2) = post(
        &app,
        &token,
        "/internal/devices/bulk_upsert",
        json!([device("a", "again"), device("c", "c")]),
    )
    .await;

    assert_eq!((status, body), (200, json!({"upserted": 2})));
    assert_eq!(a["name"], "last");
    assert_eq!((again, body2), (200, json!({"upserted": 2})));
    assert_eq!(count(&app, "devices").await, 3);
}

#[tokio::test]
async fn a_batch_over_the_limit_is_413_and_an_empty_one_is_fine() {
    let app = spawn_app_with(|env| {
        env.insert("METADECK_BULK_MAX".into(), "3".into());
    })
    .await;
    app.login_as_admin().await;
    let token = app.csrf_token(&app.client).await;
    let four: Vec<Value> = (0..4).map(|i| device(&format!("d{i}"), "n")).collect();

    let (status, body) = post(
        &app,
        &token,
        "/internal/devices/bulk_upsert",
        Value::Array(four),
    )
    .await;
    let (entities, _) = post(
        &app,
        &token,
        "/internal/entities/bulk_upsert",
        json!([{}, {}, {}, {}]),
    )
    .await;
    let (empty, empty_body) = post(&app, &token, "/internal/devices/bulk_upsert", json!([])).await;
    let (object, _) = post(
        &app,
        &token,
        "/internal/devices/bulk_upsert",
        json!({"device_id": "x"}),
    )
    .await;

    assert_eq!(status, 413);
    assert_eq!(body["error"]["code"], "payload_too_large");
    assert_eq!(entities, 413);
    assert_eq!((empty, empty_body), (200, json!({"upserted": 0})));
    assert_eq!(object, 422, "an object where an array is expected");
    assert_eq!(count(&app, "devices").await, 0);
}

#[tokio::test]
async fn a_large_batch_is_written_in_chunks_with_one_audit_row() {
    let (app, token) = admin().await;
    let audit_before = count(&app, "audit").await;
    let items: Vec<Value> = (0..10_000)
        .map(|i| {
            json!({"device_id": format!("dev-{i:05}"), "name": format!("Device {i}"),
                        "manufacturer": "Acme", "area_id": format!("area-{}", i % 7)})
        })
        .collect();

    let (status, body) = post(
        &app,
        &token,
        "/internal/devices/bulk_upsert",
        Value::Array(items.clone()),
    )
    .await;
    let (status2, _) = post(
        &app,
        &token,
        "/internal/devices/bulk_upsert",
        Value::Array(items),
    )
    .await;

    assert_eq!((status, body), (200, json!({"upserted": 10_000})));
    assert_eq!(status2, 200);
    assert_eq!(count(&app, "devices").await, 10_000);
    assert_eq!(
        count(&app, "audit").await - audit_before,
        2,
        "one audit row per batch"
    );
    let details = bulk_audit_details(&app).await;
    let counts: Vec<(&Value, &Value)> = details
        .iter()
        .map(|d| (&d["created"], &d["updated"]))
        .collect();
    assert_eq!(
        counts,
        [(&json!(10_000), &json!(0)), (&json!(0), &json!(10_000))],
        "the first batch created every device, the second replaced them"
    );
}

/// The `details` of the bulk device upserts' audit rows, oldest first.
async fn bulk_audit_details(app: &TestApp) -> Vec<Value> {
    use sea_orm::{ConnectionTrait, Statement};
    app.db
        .query_all_raw(Statement::from_string(
            app.backend(),
            "SELECT details FROM audit WHERE action = 'device.bulk_upserted' ORDER BY id",
        ))
        .await
        .unwrap()
        .iter()
        .map(|row| row.try_get::<Value>("", "details").unwrap())
        .collect()
}

#[tokio::test]
async fn bulk_changes_emit_one_event_per_device_only_to_subscribers() {
    let (app, token) = admin().await;
    let now = "2026-11-22T00:00:00Z";
    app.exec(&format!(
        "INSERT INTO webhooks (webhook_id, url, events, secret, is_enabled, created_at, updated_at) \
         VALUES ('wh1', 'http://127.0.0.1:9/hook', '[\"device.*\"]', 'c2VjcmV0', true, '{now}', '{now}')"
    ))
    .await
    .expect("a subscriber");

    post(
        &app,
        &token,
        "/internal/devices/bulk_upsert",
        json!([device("a", "1"), device("a", "2"), device("b", "b")]),
    )
    .await;
    post(
        &app,
        &token,
        "/internal/devices/bulk_upsert",
        json!([device("a", "3")]),
    )
    .await;
    delete(&app, &token, "/api/devices/b").await;

    use sea_orm::{ConnectionTrait, Statement};
    let rows = app
        .db
        .query_all_raw(Statement::from_string(
            app.backend(),
            "SELECT event_type FROM webhook_deliveries ORDER BY id",
        ))
        .await
        .unwrap();
    let types: Vec<String> = rows
        .iter()
        .map(|r| r.try_get("", "event_type").unwrap())
        .collect();
    assert_eq!(
        types,
        vec![
            "device.created",
            "device.created",
            "device.updated",
            "device.deleted"
        ]
    );
}

#[tokio::test]
async fn pagination_over_1000_devices_has_no_gaps_or_repeats_under_every_filter() {
    let (app, token) = admin().await;
    let items: Vec<Value> = (0..1_000)
        .map(|i| {
            json!({"device_id": format!("d-{i:04}"), "name": format!("Name {}", 999 - i),
            "area_id": format!("area-{}", i % 3), "manufacturer": format!("m{}", i % 2),
            "integration": if i % 5 == 0 { Value::Null } else { json!("zigbee") }})
        })
        .collect();
    upsert_all(
        &app,
        &token,
        "/internal/devices/bulk_upsert",
        Value::Array(items.clone()),
    )
    .await;

    let expect = |pred: &dyn Fn(&Value) -> bool| -> Vec<String> {
        let mut ids: Vec<String> = items
            .iter()
            .filter(|d| pred(d))
            .map(|d| d["device_id"].as_str().unwrap().to_string())
            .collect();
        ids.sort();
        ids
    };
    let filters: Vec<(&str, Vec<String>)> = vec![
        ("", expect(&|_| true)),
        ("area_id=area-1", expect(&|d| d["area_id"] == "area-1")),
        ("manufacturer=m0", expect(&|d| d["manufacturer"] == "m0")),
        (
            "integration=zigbee",
            expect(&|d| d["integration"] == "zigbee"),
        ),
        (
            "q=name%201",
            expect(&|d| {
                d["name"]
                    .as_str()
                    .unwrap()
                    .to_lowercase()
                    .contains("name 1")
            }),
        ),
        (
            "q=D-00&area_id=area-2",
            expect(&|d| {
                d["device_id"].as_str().unwrap().contains("d-00") && d["area_id"] == "area-2"
            }),
        ),
    ];
    for (filter, expected) in filters {
        for limit in [7, 500] {
            let mut seen = Vec::new();
            let mut cursor: Option<String> = None;
            loop {
                let mut path = format!("/api/devices?limit={limit}&{filter}");
                if let Some(c) = &cursor {
                    path.push_str(&format!("&cursor={c}"));
                }
                let (status, page) = get(&app, &path).await;
                assert_eq!(status, 200, "{path}");
                let items = page["items"].as_array().unwrap();
                seen.extend(
                    items
                        .iter()
                        .map(|d| d["device_id"].as_str().unwrap().to_string()),
                );
                match page["next_cursor"].as_str() {
                    Some(c) => {
                        assert!(!items.is_empty());
                        cursor = Some(c.to_string());
                    }
                    None => break,
                }
            }
            let unique: HashSet<&String> = seen.iter().collect();
            assert_eq!(unique.len(), seen.len(), "no repeats under {filter}");
            assert_eq!(
                seen, expected,
                "no gaps under {filter:?} with limit {limit}"
            );
        }
    }
}

#[tokio::test]
async fn entity_pagination_walks_every_entity_once() {
    let (app, token) = admin().await;
    let entities: Vec<Value> = (0..300)
        .map(|i| json!({"entity_id": format!("sensor.e_{i:03}"), "disabled": i % 4 == 0}))
        .collect();
    upsert_all(
        &app,
        &token,
        "/internal/entities/bulk_upsert",
        Value::Array(entities),
    )
    .await;

    for (filter, n) in [("", 300), ("disabled=true", 75), ("disabled=false", 225)] {
        let mut seen = HashSet::new();
        let mut cursor = String::new();
        loop {
            let (_, page) = get(
                &app,
                &format!("/api/entities?limit=40&{filter}&cursor={cursor}"),
            )
            .await;
            for e in page["items"].as_array().unwrap() {
                assert!(
                    seen.insert(e["entity_id"].as_str().unwrap().to_string()),
                    "no repeats"
                );
            }
            match page["next_cursor"].as_str() {
                Some(c) => cursor = c.to_string(),
                None => break,
            }
        }
        assert_eq!(seen.len(), n, "{filter}");
    }
}

#[tokio::test]
async fn html_and_sql_injection_strings_are_stored_verbatim() {
    let (app, token) = admin().await;
    let hostile = "Robert'); DROP TABLE devices;-- <script>alert(1)</script> \"&";

    let (status, body) = put(
        &app,
        &token,
        "/api/devices/evil",
        json!({"name": hostile, "manufacturer": hostile, "area_id": "' OR 1=1 --"}),
    )
    .await;
    let (_, fetched) = get(&app, "/api/devices/evil").await;
    let (_, by_area) = get(&app, "/api/devices?area_id=%27%20OR%201%3D1%20--").await;
    let (_, none) = get(&app, "/api/devices?area_id=%27%20OR%20%271%27%3D%271").await;

    assert_eq!(status, 201, "{body}");
    assert_eq!(fetched["name"], hostile);
    assert_eq!(fetched["manufacturer"], hostile);
    assert_eq!(by_area["items"].as_array().unwrap().len(), 1);
    assert_eq!(
        none["items"].as_array().unwrap().len(),
        0,
        "the filter is data"
    );
    assert_eq!(count(&app, "devices").await, 1);
}

/// Bulk upserts carry each column as one array (PostgreSQL's text form), so the characters
/// that form gives meaning to must come back as sent, and a missing field as null.
#[tokio::test]
async fn bulk_upserted_text_comes_back_verbatim_whatever_it_holds() {
    let (app, token) = admin().await;
    let awkward = [
        "NULL",
        "",
        " padded ",
        "{braces},commas",
        "quote \" and backslash \\ and \\\"",
        "tab\tnew\nline",
        "é 東京 🚀",
    ];
    let batch: Vec<Value> = awkward
        .iter()
        .enumerate()
        .map(|(n, text)| {
            json!({"device_id": format!("odd-{n}"), "name": format!("name {text}"),
                   "manufacturer": text, "model": text, "area_id": text, "integration": text})
        })
        .chain([json!({"device_id": "odd-null", "name": "only a name"})])
        .collect();

    let (status, body) = post(
        &app,
        &token,
        "/internal/devices/bulk_upsert",
        Value::Array(batch),
    )
    .await;

    assert_eq!(status, 200, "{body}");
    for (n, text) in awkward.iter().enumerate() {
        let (_, d) = get(&app, &format!("/api/devices/odd-{n}")).await;
        assert_eq!(d["name"], format!("name {text}"));
        for field in ["manufacturer", "model", "area_id", "integration"] {
            assert_eq!(d[field], *text, "{field} of {text:?}");
        }
    }
    let (_, d) = get(&app, "/api/devices/odd-null").await;
    for field in [
        "manufacturer",
        "model",
        "area_id",
        "integration",
        "last_seen",
    ] {
        assert_eq!(d[field], Value::Null, "{field}");
    }
}

#[tokio::test]
async fn preferences_have_defaults_and_are_replaced() {
    let (app, token) = admin().await;

    let (status, defaults) = get(&app, "/api/me/preferences").await;
    let body = json!({"selected_teams": ["ops"], "notification_settings": {"email": true},
                      "ui": {"theme": "dark", "default_tenant": "acme", "page_size": 25}});
    let (saved, stored) = put(&app, &token, "/api/me/preferences", body.clone()).await;
    let (_, read) = get(&app, "/api/me/preferences").await;
    let (partial, p) = put(
        &app,
        &token,
        "/api/me/preferences",
        json!({"ui": {"theme": "light"}}),
    )
    .await;

    assert_eq!(status, 200);
    assert_eq!(
        defaults,
        json!({"selected_teams": [], "notification_settings": {},
               "ui": {"theme": "auto", "default_tenant": null, "page_size": 50}})
    );
    assert_eq!((saved, &stored), (200, &body));
    assert_eq!(read, body);
    assert_eq!(partial, 200);
    assert_eq!(
        p["ui"]["page_size"], 50,
        "PUT replaces: omitted parts take their defaults"
    );
    for (bad, field) in [
        (json!({"ui": {"theme": "pink"}}), "ui.theme"),
        (json!({"ui": {"page_size": 0}}), "ui.page_size"),
        (json!({"ui": {"page_size": 501}}), "ui.page_size"),
        (json!({"ui": {"colour": 1}}), "ui.colour"),
        (
            json!({"notification_settings": []}),
            "notification_settings",
        ),
        (json!({"selected_teams": [""]}), "selected_teams"),
    ] {
        let (status, err) = put(&app, &token, "/api/me/preferences", bad.clone()).await;
        assert_eq!(status, 422, "{bad}: {err}");
        assert_eq!(err["error"]["details"][0]["field"], field, "{bad}: {err}");
    }
    let anonymous = crate::helpers::new_client();
    let res = anonymous
        .get(app.url("/api/me/preferences"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
}

#[tokio::test]
async fn a_viewer_reads_but_does_not_write() {
    let (app, token) = admin().await;
    put(&app, &token, "/api/devices/d1", json!({"name": "D"})).await;
    let viewer = app.client_with_role("viewer").await;
    let viewer_token = app.csrf_token(&viewer).await;

    let read = viewer.get(app.url("/api/devices/d1")).send().await.unwrap();
    let write = viewer
        .put(app.url("/api/devices/d2"))
        .header("X-CSRF-Token", viewer_token)
        .json(&json!({"name": "x"}))
        .send()
        .await
        .unwrap();

    assert_eq!(read.status(), 200);
    assert_eq!(write.status(), 403);
    let no_csrf = app
        .client
        .put(app.url("/api/devices/d3"))
        .json(&json!({"name": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        no_csrf.status(),
        403,
        "a session write needs its CSRF token"
    );
}
