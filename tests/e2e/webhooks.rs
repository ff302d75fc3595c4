//! Webhooks: the subscriptions API, the SSRF guard, encrypted secrets, and signed delivery to
//! a local receiver verified by an independent Standard Webhooks implementation.

use std::collections::HashSet;
use std::time::Duration;

use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde_json::{Value, json};
use service::webhooks::{Event, EventType};

use crate::helpers::{TestApp, spawn_app, spawn_app_with};
use crate::webhook_receiver::Receiver;

/// An app whose webhooks may reach 127.0.0.1 and retry after 1 s, 1 s.
async fn delivering_app() -> TestApp {
    let app = spawn_app_with(|env| {
        env.insert(
            "METADECK_WEBHOOK_ALLOW_PRIVATE_NETWORKS".into(),
            "true".into(),
        );
        env.insert("METADECK_WEBHOOK_RETRY_SCHEDULE".into(), "1s,1s".into());
    })
    .await;
    app.login_as_admin().await;
    app
}

/// Sends a JSON request with the admin session and its CSRF token.
async fn call(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let token = app.csrf_token(&app.client).await;
    let mut req = app
        .client
        .request(method, app.url(path))
        .header("X-CSRF-Token", token);
    if let Some(body) = body {
        req = req.json(&body);
    }
    let res = req.send().await.unwrap();
    let status = res.status();
    let text = res.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn create(app: &TestApp, body: Value) -> Value {
    let (status, created) = call(app, reqwest::Method::POST, "/api/webhooks", Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    created
}

/// Emits an event the way another area does: inside its own transaction.
async fn emit(app: &TestApp, event_type: EventType, data: Value) {
    let txn = service::db::begin_write(&app.db).await.unwrap();
    service::webhooks::emit(&txn, &[Event::new(event_type, data)])
        .await
        .unwrap();
    txn.commit().await.unwrap();
}

async fn deliveries(app: &TestApp, webhook_id: &str) -> Vec<Value> {
    let (status, page) = call(
        app,
        reqwest::Method::GET,
        &format!("/api/webhooks/{webhook_id}/deliveries"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    page["items"].as_array().cloned().unwrap_or_default()
}

/// Waits until the newest delivery of the webhook has `status`.
async fn wait_for_status(app: &TestApp, webhook_id: &str, status: &str, within: Duration) -> Value {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let list = deliveries(app, webhook_id).await;
        if let Some(first) = list.first()
            && first["status"] == status
        {
            return first.clone();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no {status} delivery in time: {list:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_new_webhook_shows_its_secret_once_and_masks_it_on_every_read() {
    let app = spawn_app().await;
    app.login_as_admin().await;

    let created = create(
        &app,
        json!({"url": "https://hooks.example.test/in", "events": ["sync.*", "device.created"], "team": "ops"}),
    )
    .await;

    let secret = created["secret"].as_str().unwrap();
    assert!(
        secret.starts_with("whsec_") && secret.len() > 40,
        "{secret}"
    );
    let id = created["webhook_id"].as_str().unwrap();
    let (status, read) = call(
        &app,
        reqwest::Method::GET,
        &format!("/api/webhooks/{id}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(read.get("secret").is_none(), "{read}");
    assert_eq!(read["secret_hint"], format!("whsec_{}…", &secret[6..10]));
    assert_eq!(read["events"], json!(["sync.*", "device.created"]));
    assert_eq!(read["is_enabled"], true);
    let (_, list) = call(&app, reqwest::Method::GET, "/api/webhooks", None).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert!(!list.to_string().contains(secret));
}

/// A chosen id that is taken answers 409 naming the field, and leaves neither a row nor an
/// audit entry behind: the trail's chain goes on from the first creation.
#[tokio::test]
async fn a_taken_webhook_id_is_refused_and_records_nothing() {
    let app = spawn_app().await;
    app.login_as_admin().await;
    let body =
        json!({"webhook_id": "wh_chosen", "url": "https://hooks.example.test/in", "events": ["*"]});
    create(&app, body.clone()).await;

    let (status, refused) = call(&app, reqwest::Method::POST, "/api/webhooks", Some(body)).await;

    assert_eq!(status, StatusCode::CONFLICT, "{refused}");
    assert_eq!(refused["error"]["details"][0]["field"], "webhook_id");
    assert_eq!(refused["error"]["details"][0]["message"], "is taken");
    let (_, audit) = call(
        &app,
        reqwest::Method::GET,
        "/api/audit?action=webhook.created",
        None,
    )
    .await;
    assert_eq!(audit["items"].as_array().unwrap().len(), 1, "{audit}");
    create(
        &app,
        json!({"url": "https://hooks.example.test/other", "events": ["*"]}),
    )
    .await;
    let page = app.get("/audit").await.text().await.unwrap();
    assert!(
        page.contains("Hash chain intact (4 rows checked)."),
        "{page}"
    );
}

#[tokio::test]
async fn event_names_and_patterns_outside_the_catalog_are_refused() {
    let app = spawn_app().await;
    app.login_as_admin().await;

    for events in [json!(["sync.exploded"]), json!(["nope.*"]), json!([])] {
        let (status, body) = call(
            &app,
            reqwest::Method::POST,
            "/api/webhooks",
            Some(json!({"url": "https://hooks.example.test/", "events": events})),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(body["error"]["details"][0]["field"], "events");
    }
    let (status, body) = call(
        &app,
        reqwest::Method::POST,
        "/api/webhooks",
        Some(json!({"url": "https://hooks.example.test/", "events": ["*"], "evnets": []})),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
}

#[tokio::test]
async fn every_spelling_of_a_private_destination_is_refused_at_save_naming_the_setting() {
    let app = spawn_app().await;
    app.login_as_admin().await;

    for url in [
        "http://127.0.0.1/",
        "http://127.1/",
        "http://2130706433/",
        "http://0177.0.0.1/",
        "http://0x7f000001/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://localhost:8080/",
        "http://10.0.0.8/",
        "http://172.16.3.4/",
        "http://192.168.0.1/",
        "http://169.254.169.254/latest",
        "http://100.64.1.1/",
        "http://0.0.0.0/",
        "http://[fe80::1]/",
        "http://[fd00::1]/",
        "http://224.0.0.251/",
    ] {
        let (status, body) = call(
            &app,
            reqwest::Method::POST,
            "/api/webhooks",
            Some(json!({"url": url, "events": ["*"]})),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{url}: {body}");
        let message = body["error"]["details"][0]["message"]
            .as_str()
            .unwrap_or_default();
        assert!(
            message.contains("METADECK_WEBHOOK_ALLOW_PRIVATE_NETWORKS"),
            "{url}: {message}"
        );
    }
    for url in ["ftp://example.test/", "http://user:pw@example.test/"] {
        let (status, _) = call(
            &app,
            reqwest::Method::POST,
            "/api/webhooks",
            Some(json!({"url": url, "events": ["*"]})),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{url}");
    }
}

#[tokio::test]
async fn put_clears_omitted_fields_and_patch_changes_only_what_it_names() {
    let app = spawn_app().await;
    app.login_as_admin().await;
    let created = create(
        &app,
        json!({"url": "https://a.example.test/", "events": ["*"], "team": "ops", "description": "d"}),
    )
    .await;
    let path = format!("/api/webhooks/{}", created["webhook_id"].as_str().unwrap());

    let (status, put) = call(
        &app,
        reqwest::Method::PUT,
        &path,
        Some(json!({"url": "https://b.example.test/", "events": ["run.failed"]})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{put}");
    assert_eq!(put["team"], Value::Null);
    assert_eq!(put["description"], Value::Null);

    let (_, patched) = call(
        &app,
        reqwest::Method::PATCH,
        &path,
        Some(json!({"team": "sre", "is_enabled": false})),
    )
    .await;
    assert_eq!(patched["team"], "sre");
    assert_eq!(patched["url"], "https://b.example.test/");
    assert_eq!(patched["is_enabled"], false);
    assert!(
        patched["disabled_reason"]
            .as_str()
            .unwrap()
            .contains("admin")
    );
    let (_, enabled) = call(
        &app,
        reqwest::Method::PATCH,
        &path,
        Some(json!({"is_enabled": true})),
    )
    .await;
    assert_eq!(enabled["is_enabled"], true);
    assert_eq!(enabled["disabled_reason"], Value::Null);

    let (status, _) = call(&app, reqwest::Method::DELETE, &path, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = call(&app, reqwest::Method::GET, &path, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_secret_is_not_stored_in_plain_text() {
    let app = spawn_app().await;
    app.login_as_admin().await;
    let created = create(
        &app,
        json!({"url": "https://a.example.test/", "events": ["*"]}),
    )
    .await;
    let secret = created["secret"].as_str().unwrap().to_string();
    let id = created["webhook_id"].as_str().unwrap();
    let (_, rotated) = call(
        &app,
        reqwest::Method::POST,
        &format!("/api/webhooks/{id}/rotate-secret"),
        None,
    )
    .await;
    let new_secret = rotated["secret"].as_str().unwrap().to_string();

    let row = app
        .db
        .query_one_raw(Statement::from_string(
            app.backend(),
            "SELECT secret, previous_secret FROM webhooks",
        ))
        .await
        .unwrap()
        .unwrap();
    let stored: String = row.try_get("", "secret").unwrap();
    let previous: String = row.try_get("", "previous_secret").unwrap();
    for s in [&secret, &new_secret] {
        assert!(!stored.contains(&s[6..]) && !previous.contains(&s[6..]));
    }
    if app.backend() == DbBackend::Sqlite {
        app.exec("PRAGMA wal_checkpoint(TRUNCATE)").await.unwrap();
        let path = app.database.path.clone().unwrap();
        let mut bytes = std::fs::read(&path).unwrap();
        bytes.extend(std::fs::read(format!("{}-wal", path.display())).unwrap_or_default());
        for s in [&secret, &new_secret] {
            let needle = &s.as_bytes()[6..];
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle),
                "the plain secret is in the database file"
            );
        }
    }
}

#[tokio::test]
async fn events_are_delivered_signed_and_verify_with_an_independent_implementation() {
    let app = delivering_app().await;
    let receiver = Receiver::start(204).await;
    let other = Receiver::start(200).await;
    let created = create(&app, json!({"url": receiver.url(), "events": ["sync.*"]})).await;
    create(
        &app,
        json!({"url": other.url(), "events": ["device.created"]}),
    )
    .await;
    let secret = created["secret"].as_str().unwrap();

    emit(
        &app,
        EventType::SyncStarted,
        json!({"sync_id": 42, "status": "running"}),
    )
    .await;

    let got = receiver.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(got.len(), 1);
    let msg = &got[0];
    assert!(
        msg.verifies_with(secret),
        "signature: {}",
        msg.header("webhook-signature")
    );
    assert!(!msg.verifies_with("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"));
    assert_eq!(msg.header("content-type"), "application/json");
    assert!(msg.header("webhook-id").starts_with("msg_"));
    let body = msg.json();
    assert_eq!(body["type"], "sync.started");
    assert_eq!(body["data"]["sync_id"], 42);
    assert!(chrono::DateTime::parse_from_rfc3339(body["timestamp"].as_str().unwrap()).is_ok());
    let delivered = wait_for_status(
        &app,
        created["webhook_id"].as_str().unwrap(),
        "succeeded",
        Duration::from_secs(5),
    )
    .await;
    assert_eq!(delivered["attempts"], 1);
    assert_eq!(delivered["last_status_code"], 204);
    assert_eq!(delivered["message_id"], msg.header("webhook-id"));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        other.received().is_empty(),
        "only subscribers receive an event"
    );
    let worker = app
        .db
        .query_one_raw(Statement::from_string(
            app.backend(),
            "SELECT last_result FROM worker_runs WHERE worker = 'webhook_dispatcher'",
        ))
        .await
        .unwrap()
        .expect("the dispatcher records its state");
    assert_eq!(
        worker.try_get::<String>("", "last_result").unwrap(),
        "running"
    );
}

#[tokio::test]
async fn failures_retry_on_the_schedule_with_the_same_message_id_then_die() {
    let app = delivering_app().await;
    let receiver = Receiver::start(500).await;
    let created = create(&app, json!({"url": receiver.url(), "events": ["*"]})).await;
    let id = created["webhook_id"].as_str().unwrap();

    emit(&app, EventType::RunFailed, json!({"run_id": "r1"})).await;

    let dead = wait_for_status(&app, id, "dead", Duration::from_secs(15)).await;
    let got = receiver.received();
    assert_eq!(got.len(), 3, "1 + the schedule's 2 retries");
    let ids: HashSet<String> = got.iter().map(|r| r.header("webhook-id")).collect();
    assert_eq!(ids.len(), 1, "retries repeat the message id");
    assert!(
        got.iter()
            .all(|r| r.verifies_with(created["secret"].as_str().unwrap()))
    );
    assert_eq!(dead["attempts"], 3);
    assert_eq!(dead["last_status_code"], 500);
    assert_eq!(dead["last_response_snippet"], "received");
    let webhook = fetch_webhook(&app, id).await;
    assert_eq!(
        webhook["is_enabled"], true,
        "failures alone disable only after 5 days"
    );

    // Once the receiver is fixed, a redelivery of the dead message succeeds.
    receiver.answer(200);
    let (status, _) = call(
        &app,
        reqwest::Method::POST,
        &format!("/api/webhooks/deliveries/{}/redeliver", dead["id"]),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let ok = wait_for_status(&app, id, "succeeded", Duration::from_secs(10)).await;
    assert_eq!(ok["message_id"], dead["message_id"]);
}

#[tokio::test]
async fn a_410_kills_the_delivery_and_disables_the_endpoint_until_re_enabled() {
    let app = delivering_app().await;
    let receiver = Receiver::start(410).await;
    let created = create(&app, json!({"url": receiver.url(), "events": ["*"]})).await;
    let id = created["webhook_id"].as_str().unwrap();

    emit(&app, EventType::DeviceCreated, json!({"id": 1})).await;

    let dead = wait_for_status(&app, id, "dead", Duration::from_secs(10)).await;
    assert_eq!(dead["attempts"], 1);
    let webhook = fetch_webhook(&app, id).await;
    assert_eq!(webhook["is_enabled"], false);
    assert_eq!(webhook["disabled_reason"], "gone (410)");
    let audit = app
        .db
        .query_one_raw(Statement::from_string(
            app.backend(),
            "SELECT COUNT(*) AS n FROM audit WHERE action = 'webhook.disabled'",
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(audit.try_get::<i64>("", "n").unwrap(), 1);
    let (status, _) = call(
        &app,
        reqwest::Method::POST,
        &format!("/api/webhooks/{id}/test"),
        None,
    )
    .await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "no test to a disabled endpoint"
    );

    let (_, enabled) = call(
        &app,
        reqwest::Method::PATCH,
        &format!("/api/webhooks/{id}"),
        Some(json!({"is_enabled": true})),
    )
    .await;
    assert_eq!(enabled["is_enabled"], true);
}

#[tokio::test]
async fn a_test_event_goes_only_to_its_endpoint_and_redelivery_keeps_the_message_id() {
    let app = delivering_app().await;
    let receiver = Receiver::start(200).await;
    let bystander = Receiver::start(200).await;
    let created = create(
        &app,
        json!({"url": receiver.url(), "events": ["sync.started"]}),
    )
    .await;
    create(&app, json!({"url": bystander.url(), "events": ["*"]})).await;
    let id = created["webhook_id"].as_str().unwrap();

    let (status, queued) = call(
        &app,
        reqwest::Method::POST,
        &format!("/api/webhooks/{id}/test"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let first = receiver.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].json()["type"], "webhook.test");
    assert_eq!(
        first[0].header("webhook-id"),
        queued["message_id"].as_str().unwrap()
    );
    let delivered = wait_for_status(&app, id, "succeeded", Duration::from_secs(5)).await;

    let (status, again) = call(
        &app,
        reqwest::Method::POST,
        &format!("/api/webhooks/deliveries/{}/redeliver", delivered["id"]),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{again}");
    assert_ne!(again["id"], delivered["id"]);
    let both = receiver.wait_for(2, Duration::from_secs(10)).await;
    assert_eq!(both.len(), 2);
    assert_eq!(both[1].header("webhook-id"), both[0].header("webhook-id"));
    assert_eq!(both[1].body, both[0].body);
    assert!(
        bystander.received().is_empty(),
        "webhook.test goes to one endpoint only"
    );
    let (status, _) = call(
        &app,
        reqwest::Method::POST,
        "/api/webhooks/deliveries/999999/redeliver",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Once the retention policy has dropped a delivery's payload, there is nothing true to
    // send again under its message id.
    app.exec(&format!(
        "UPDATE webhook_deliveries SET payload = NULL WHERE id = {}",
        delivered["id"]
    ))
    .await
    .unwrap();
    let before: i64 = app.scalar("SELECT COUNT(*) FROM webhook_deliveries").await;
    let (status, body) = call(
        &app,
        reqwest::Method::POST,
        &format!("/api/webhooks/deliveries/{}/redeliver", delivered["id"]),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(body.to_string().contains("retention"), "{body}");
    let after: i64 = app.scalar("SELECT COUNT(*) FROM webhook_deliveries").await;
    assert_eq!(after, before, "nothing was queued");
}

#[tokio::test]
async fn after_a_rotation_messages_verify_with_the_old_and_the_new_secret() {
    let app = delivering_app().await;
    let receiver = Receiver::start(200).await;
    let created = create(&app, json!({"url": receiver.url(), "events": ["*"]})).await;
    let id = created["webhook_id"].as_str().unwrap();
    let old = created["secret"].as_str().unwrap();

    let (status, rotated) = call(
        &app,
        reqwest::Method::POST,
        &format!("/api/webhooks/{id}/rotate-secret"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let new = rotated["secret"].as_str().unwrap();
    assert_ne!(old, new);
    emit(&app, EventType::ClientCreated, json!({"client_id": "c1"})).await;

    let got = receiver.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].header("webhook-signature").split(' ').count(), 2);
    assert!(got[0].verifies_with(new), "the new secret verifies");
    assert!(
        got[0].verifies_with(old),
        "the old secret still verifies for 24 hours"
    );
}

#[tokio::test]
async fn a_delivery_to_a_refused_address_fails_without_a_connection() {
    let app = spawn_app_with(|env| {
        env.insert("METADECK_WEBHOOK_RETRY_SCHEDULE".into(), "1s".into());
    })
    .await;
    app.login_as_admin().await;
    let receiver = Receiver::start(200).await;
    // Saved while its name did not resolve; now it points at loopback.
    let created = create(
        &app,
        json!({"url": "http://hooks.example.test/", "events": ["*"]}),
    )
    .await;
    let id = created["webhook_id"].as_str().unwrap();
    app.exec(&format!(
        "UPDATE webhooks SET url = 'http://127.0.0.1:{}/hook' WHERE webhook_id = '{id}'",
        receiver.port
    ))
    .await
    .unwrap();

    emit(&app, EventType::SyncFailed, json!({})).await;

    let dead = wait_for_status(&app, id, "dead", Duration::from_secs(10)).await;
    let error = dead["last_error"].as_str().unwrap();
    assert!(
        error.contains("refused") && error.contains("METADECK_WEBHOOK_ALLOW_PRIVATE_NETWORKS"),
        "{error}"
    );
    assert!(receiver.received().is_empty(), "no connection was made");
}

#[tokio::test]
async fn the_pages_create_show_test_and_list_a_webhook() {
    let app = delivering_app().await;
    let receiver = Receiver::start(200).await;
    let token = app.csrf_token(&app.client).await;

    let page = app.get("/webhooks/new").await;
    assert_eq!(page.status(), StatusCode::OK);
    let created = app
        .client
        .post(app.url("/webhooks/new"))
        .form(&[
            ("csrf_token", token.as_str()),
            ("url", receiver.url().as_str()),
            ("events", "sync.*"),
            ("events", "device.created"),
            ("team", "ops"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::SEE_OTHER);
    assert_eq!(created.headers()["location"], "/shown-once");
    let html = app.get("/shown-once").await.text().await.unwrap();
    assert!(html.contains("whsec_"), "the secret is shown once");
    assert!(!html.contains("duplicate-warning"));
    let again = app.get("/shown-once").await.text().await.unwrap();
    assert!(!again.contains("whsec_") && again.contains("can no longer be shown"));
    let host = reqwest::Url::parse(&receiver.url())
        .unwrap()
        .host_str()
        .unwrap()
        .to_owned();
    let listing = app.get("/webhooks").await.text().await.unwrap();
    assert!(
        listing.contains(&format!(">{host}</a>")),
        "named after its host"
    );
    let (_, list) = call(&app, reqwest::Method::GET, "/api/webhooks", None).await;
    let id = list["items"][0]["webhook_id"].as_str().unwrap().to_string();

    let test = app
        .client
        .post(app.url(&format!("/webhooks/{id}/test")))
        .form(&[("csrf_token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(test.status(), StatusCode::SEE_OTHER);
    assert_eq!(receiver.wait_for(1, Duration::from_secs(10)).await.len(), 1);
    wait_for_status(&app, &id, "succeeded", Duration::from_secs(5)).await;

    let detail = app
        .get(&format!("/webhooks/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(detail.contains("webhook.test") && detail.contains("succeeded"));
    assert!(detail.contains("/redeliver"));
    let listing = app.get("/webhooks").await.text().await.unwrap();
    assert!(listing.contains(&id) && listing.contains("succeeded"));

    let missing_token = app
        .client
        .post(app.url(&format!("/webhooks/{id}/disable")))
        .form(&[("x", "1")])
        .send()
        .await
        .unwrap();
    assert_eq!(missing_token.status(), StatusCode::FORBIDDEN);
    let asked = app
        .client
        .post(app.url(&format!("/webhooks/{id}/disable")))
        .form(&[("csrf_token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(asked.status(), StatusCode::OK, "disabling asks first");
    assert!(
        asked
            .text()
            .await
            .unwrap()
            .contains("deliveries waiting to be sent")
    );
    assert_eq!(fetch_webhook(&app, &id).await["is_enabled"], true);
    let disabled = app
        .client
        .post(app.url(&format!("/webhooks/{id}/disable")))
        .form(&[("csrf_token", token.as_str()), ("confirm", "yes")])
        .send()
        .await
        .unwrap();
    assert_eq!(disabled.status(), StatusCode::SEE_OTHER);
    let listing = app.get("/webhooks").await.text().await.unwrap();
    assert!(listing.contains("disabled"));
    let twin = app
        .client
        .post(app.url("/webhooks/new"))
        .form(&[
            ("csrf_token", token.as_str()),
            ("url", receiver.url().as_str()),
            ("events", "sync.*"),
            ("description", "Second receiver"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(twin.status(), StatusCode::SEE_OTHER);
    let warned = app.get("/shown-once").await.text().await.unwrap();
    assert!(
        warned.contains("data-testid=\"duplicate-warning\"")
            && warned.contains("already has this URL or name"),
        "{warned}"
    );
}

#[tokio::test]
async fn an_endpoint_failing_every_attempt_for_five_days_is_disabled() {
    let app = delivering_app().await;
    let receiver = Receiver::start(503).await;
    let created = create(&app, json!({"url": receiver.url(), "events": ["*"]})).await;
    let id = created["webhook_id"].as_str().unwrap();
    let since = (chrono::Utc::now() - chrono::Duration::days(6)).fixed_offset();
    let sql = match app.backend() {
        DbBackend::Postgres => "UPDATE webhooks SET failing_since = $1",
        _ => "UPDATE webhooks SET failing_since = ?",
    };
    app.db
        .execute_raw(Statement::from_sql_and_values(
            app.backend(),
            sql,
            [since.into()],
        ))
        .await
        .unwrap();

    emit(&app, EventType::SyncCanceled, json!({})).await;

    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let webhook = fetch_webhook(&app, id).await;
        if webhook["is_enabled"] == false {
            assert!(
                webhook["disabled_reason"]
                    .as_str()
                    .unwrap()
                    .contains("5 days"),
                "{webhook}"
            );
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not disabled: {webhook}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let page = app.get("/webhooks").await.text().await.unwrap();
    assert!(page.contains("5 days"), "the list shows why");
}

/// `GET /api/webhooks/{id}` as the admin.
async fn fetch_webhook(app: &TestApp, id: &str) -> Value {
    let (status, body) = call(
        app,
        reqwest::Method::GET,
        &format!("/api/webhooks/{id}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

/// Whether the webhook's failing streak is running (its `failing_since` is set).
async fn failing(app: &TestApp, webhook_id: &str) -> bool {
    let sql = match app.backend() {
        DbBackend::Postgres => {
            "SELECT failing_since IS NOT NULL AS f FROM webhooks WHERE webhook_id = $1"
        }
        _ => "SELECT failing_since IS NOT NULL AS f FROM webhooks WHERE webhook_id = ?",
    };
    let row = app
        .db
        .query_one_raw(Statement::from_sql_and_values(
            app.backend(),
            sql,
            [webhook_id.into()],
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get::<bool>("", "f").unwrap()
}

#[tokio::test]
async fn a_failure_starts_an_endpoints_failing_streak_and_a_success_ends_it() {
    let app = delivering_app().await;
    let receiver = Receiver::start(503).await;
    let created = create(&app, json!({"url": receiver.url(), "events": ["*"]})).await;
    let id = created["webhook_id"].as_str().unwrap();
    assert!(!failing(&app, id).await);

    emit(&app, EventType::SyncCanceled, json!({})).await;
    receiver.wait_for(1, Duration::from_secs(10)).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !failing(&app, id).await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no streak after a 503"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // The retry (1 s later) succeeds.
    receiver.answer(200);
    receiver.wait_for(2, Duration::from_secs(10)).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while failing(&app, id).await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the streak outlived a success"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let webhook = fetch_webhook(&app, id).await;
    assert_eq!(webhook["is_enabled"], true, "{webhook}");
}

#[tokio::test]
async fn several_dispatchers_on_one_database_send_each_message_once() {
    use service::webhooks::dispatcher::{self, DispatcherOptions};
    let app = delivering_app().await;
    let receiver = Receiver::start(200).await;
    create(&app, json!({"url": receiver.url(), "events": ["*"]})).await;
    let config = std::sync::Arc::new(service::webhooks::WebhookConfig {
        cipher: service::webhooks::SecretCipher::from_secret_key(
            crate::helpers::TEST_SECRET_KEY.as_bytes(),
        ),
        allow_private_networks: true,
        retry_schedule: vec![Duration::from_secs(1)],
    });
    // Two more instances beside the application's own dispatcher.
    let others = [
        dispatcher::start(app.db.clone(), config.clone(), DispatcherOptions::default()).unwrap(),
        dispatcher::start(app.db.clone(), config.clone(), DispatcherOptions::default()).unwrap(),
    ];
    let events: Vec<Event> = (0..200)
        .map(|i| Event::new(EventType::DeviceUpdated, json!({"id": i})))
        .collect();
    let txn = service::db::begin_write(&app.db).await.unwrap();
    service::webhooks::emit(&txn, &events).await.unwrap();
    txn.commit().await.unwrap();

    let got = receiver.wait_for(200, Duration::from_secs(60)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let got_after = receiver.received();
    for d in others {
        d.stop().await;
    }
    assert_eq!(got.len(), 200);
    assert_eq!(got_after.len(), 200, "no attempt was sent twice");
    let ids: HashSet<String> = got_after.iter().map(|r| r.header("webhook-id")).collect();
    assert_eq!(ids.len(), 200);
}

#[tokio::test]
async fn a_slow_endpoint_holds_up_neither_other_endpoints_nor_the_api() {
    let app = delivering_app().await;
    let slow = Receiver::start(200).await;
    slow.delay(Duration::from_secs(5));
    let fast = Receiver::start(200).await;
    create(&app, json!({"url": slow.url(), "events": ["device.*"]})).await;
    create(&app, json!({"url": fast.url(), "events": ["run.*"]})).await;
    let txn = service::db::begin_write(&app.db).await.unwrap();
    let events: Vec<Event> = (0..100)
        .map(|i| Event::new(EventType::DeviceUpdated, json!({"id": i})))
        .collect();
    service::webhooks::emit(&txn, &events).await.unwrap();
    txn.commit().await.unwrap();
    slow.wait_for(16, Duration::from_secs(5)).await;

    let started = std::time::Instant::now();
    emit(&app, EventType::RunSucceeded, json!({"run_id": "r"})).await;
    let got = fast.wait_for(1, Duration::from_secs(4)).await;
    assert_eq!(
        got.len(),
        1,
        "the fast endpoint is served while the slow one hangs"
    );
    assert!(started.elapsed() < Duration::from_secs(3));
    let api = std::time::Instant::now();
    let res = app.get("/api/webhooks").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        api.elapsed() < Duration::from_secs(1),
        "the API stays responsive"
    );
    assert!(
        slow.received().len() <= 16,
        "one endpoint holds at most its share of the slots"
    );
}
