//! The shared gateway config: pages, API, permissions, the audit trail with old and new
//! values, escaping, and a change made through one instance reaching another instance's
//! cache within 5 s, on one SQLite file or one PostgreSQL database.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::{KillOnDrop, TestApp, serve_process, spawn_app};
use crate::oauth::{service_client, token_for};

const HOSTILE: &str = "<script>alert('x')</script>' OR '1'='1'; DROP TABLE gateway_config;--";

/// `PUT /api/gateway/config/{key}` with a bearer token at `base`; answers status and body.
async fn put(base: &str, token: &str, key: &str, body: Value) -> (u16, Value) {
    let res = reqwest::Client::new()
        .put(format!("{base}/api/gateway/config/{key}"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// `GET` or `DELETE` of `path` with a bearer token at `base`; answers status and body.
async fn call(method: reqwest::Method, base: &str, token: &str, path: &str) -> (u16, Value) {
    let res = reqwest::Client::new()
        .request(method, format!("{base}{path}"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// A token holding `scopes`, from a client the signed-in admin registers.
async fn token(app: &TestApp, scopes: &[&str]) -> String {
    let client = service_client(app, scopes).await;
    token_for(app, &client, None).await
}

/// The audit rows of `key`'s changes, through the audit API.
async fn audit_of(app: &TestApp, key: &str) -> Vec<Value> {
    let res = app
        .get(&format!(
            "/api/audit?action=config.&target_id={key}&limit=50"
        ))
        .await;
    assert_eq!(res.status(), 200);
    let page: Value = res.json().await.unwrap();
    page["items"].as_array().unwrap().clone()
}

#[tokio::test]
async fn keys_are_created_edited_and_deleted_through_the_pages() {
    let app = spawn_app().await;
    app.login_as_admin().await;
    let csrf = app.csrf_token(&app.client).await;
    let home = app.text_of(&app.client, "/").await;
    assert!(
        home.contains("href=\"/gateway/config\""),
        "the sidebar offers the config"
    );
    let empty = app.text_of(&app.client, "/gateway/config").await;
    assert!(empty.contains("No config keys yet") && empty.contains("Create key"));

    // Invalid JSON: the error names the line, the column and the text there, under the
    // field, and the input is kept; a bad key is refused in the same answer.
    let typed = "{\n  \"limit\": 10,\n  retries: 3\n}";
    let refused = app
        .client
        .post(app.url("/gateway/config"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("key", "bad key/"),
            ("value", typed),
            ("description", "kept too"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 422);
    let page = refused.text().await.unwrap();
    assert!(page.contains("data-field-error=\"key\""), "the key's error");
    let value_error = page
        .split("data-field-error=\"value\">")
        .nth(1)
        .expect("an error under the value")
        .split("</p>")
        .next()
        .unwrap();
    assert!(
        value_error.contains("line 3, column 3") && value_error.contains("near “retries: 3”"),
        "{value_error}"
    );
    assert!(
        page.contains("retries: 3\n}</textarea>"),
        "the value is kept"
    );
    assert!(
        page.contains("value=\"kept too\""),
        "the description is kept"
    );

    // Hostile text in a value and a description is shown escaped everywhere.
    let created = app
        .client
        .post(app.url("/gateway/config"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("key", "feature.search_v2"),
            ("value", &json!({"banner": HOSTILE}).to_string()),
            ("description", HOSTILE),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 303);
    let key_page = created.headers()["location"].to_str().unwrap().to_string();
    assert_eq!(key_page, "/gateway/config/feature.search_v2");
    for path in ["/gateway/config", key_page.as_str()] {
        let html = app.text_of(&app.client, path).await;
        assert!(html.contains("feature.search_v2"), "{path}");
        assert!(!html.contains("<script>alert"), "{path} escapes");
        assert!(html.contains("&#60;script&#62;") || html.contains("&lt;script&gt;"));
    }
    let again = app
        .client
        .post(app.url("/gateway/config"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("key", "feature.search_v2"),
            ("value", "1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 422, "the new-key form never overwrites");
    assert!(again.text().await.unwrap().contains("exists already"));

    // Editing: invalid JSON is refused with its position, a valid value is saved.
    let refused = app
        .client
        .post(app.url(&key_page))
        .form(&[("csrf_token", csrf.as_str()), ("value", "[1, 2,]")])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 422);
    let page = refused.text().await.unwrap();
    assert!(page.contains("line 1, column 7"), "the position is shown");
    assert!(page.contains("[1, 2,]</textarea>"), "the input is kept");
    let saved = app
        .client
        .post(app.url(&key_page))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("value", "{\"enabled\": true, \"rollout\": 25}"),
            ("description", "search v2 rollout"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(saved.status(), 303);
    let api: Value = app
        .get("/api/gateway/config/feature.search_v2")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(api["value"], json!({"enabled": true, "rollout": 25}));
    assert_eq!(api["description"], "search v2 rollout");
    assert_eq!(api["updated_by"], "user:admin");

    // The history shows both changes, each with the value before and after.
    let html = app.text_of(&app.client, &key_page).await;
    assert_eq!(html.matches("data-testid=\"history-row\"").count(), 2);
    assert!(html.contains("&#34;rollout&#34;: 25") || html.contains("&quot;rollout&quot;: 25"));
    assert!(html.contains("(none)"), "the creation has no old value");

    // Deleting asks first, then deletes; the history stays.
    let asked = app
        .client
        .post(app.url(&format!("{key_page}/delete")))
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(asked.status(), 200);
    assert!(
        asked
            .text()
            .await
            .unwrap()
            .contains("Delete the config key feature.search_v2?")
    );
    assert_eq!(
        app.get("/api/gateway/config/feature.search_v2")
            .await
            .status(),
        200
    );
    let deleted = app
        .client
        .post(app.url(&format!("{key_page}/delete")))
        .form(&[("csrf_token", csrf.as_str()), ("confirm", "yes")])
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 303);
    assert_eq!(
        app.get("/api/gateway/config/feature.search_v2")
            .await
            .status(),
        404
    );
    let html = app.text_of(&app.client, &key_page).await;
    assert!(html.contains("data-testid=\"config-deleted\""));
    assert_eq!(html.matches("data-testid=\"history-row\"").count(), 3);
    assert!(
        !html.contains("data-testid=\"edit-config\""),
        "nothing to edit"
    );
    assert_eq!(app.get("/gateway/config/never-written").await.status(), 404);
    assert_eq!(app.get("/gateway/config/..").await.status(), 404);
}

#[tokio::test]
async fn the_api_checks_permissions_values_and_audits_old_and_new() {
    let app = spawn_app().await;
    app.login_as_admin().await;
    let base = app.address.clone();
    let reader = token(&app, &["gateway:read"]).await;
    let writer = token(&app, &["gateway:write"]).await;
    let both = token(&app, &["gateway:read", "gateway:write"]).await;

    let (status, body) = put(&base, &writer, "limits.rate", json!({"value": {"rps": 10}})).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["key"], "limits.rate");
    assert!(body["updated_by"].as_str().unwrap().starts_with("client:"));
    let (status, _) = put(
        &base,
        &writer,
        "limits.rate",
        json!({"value": {"rps": 20}, "description": "per client"}),
    )
    .await;
    assert_eq!(status, 200, "a second PUT replaces");

    // Reads need gateway:read, writes gateway:write; no token is 401.
    let (status, item) = call(
        reqwest::Method::GET,
        &base,
        &reader,
        "/api/gateway/config/limits.rate",
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(item["value"], json!({"rps": 20}));
    assert_eq!(item["description"], "per client");
    let (status, page) = call(reqwest::Method::GET, &base, &reader, "/api/gateway/config").await;
    assert_eq!(status, 200);
    assert_eq!(page["items"][0]["key"], "limits.rate");
    assert_eq!(
        call(
            reqwest::Method::GET,
            &base,
            &writer,
            "/api/gateway/config/limits.rate"
        )
        .await
        .0,
        403,
        "gateway:write alone does not read"
    );
    assert_eq!(
        put(&base, &reader, "limits.rate", json!({"value": 1}))
            .await
            .0,
        403
    );
    assert_eq!(
        call(
            reqwest::Method::DELETE,
            &base,
            &reader,
            "/api/gateway/config/limits.rate"
        )
        .await
        .0,
        403
    );
    let anonymous = reqwest::get(format!("{base}/api/gateway/config/limits.rate"))
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    let operator = app.client_with_role("operator").await;
    let op_csrf = app.csrf_token(&operator).await;
    let op_read = operator
        .get(app.url("/api/gateway/config/limits.rate"))
        .send()
        .await
        .unwrap();
    assert_eq!(op_read.status(), 200, "an operator reads");
    let op_write = operator
        .put(app.url("/api/gateway/config/limits.rate"))
        .header("X-CSRF-Token", &op_csrf)
        .json(&json!({"value": 0}))
        .send()
        .await
        .unwrap();
    assert_eq!(op_write.status(), 403, "an operator does not write");
    let op_form = operator
        .post(app.url("/gateway/config"))
        .form(&[
            ("csrf_token", op_csrf.as_str()),
            ("key", "x"),
            ("value", "1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(op_form.status(), 403);
    let op_page = app.text_of(&operator, "/gateway/config").await;
    assert!(op_page.contains("limits.rate") && !op_page.contains("Create key"));

    // value_text is parsed here, and its errors name the position.
    let (status, body) = put(
        &base,
        &both,
        "limits.burst",
        json!({"value_text": "{\"burst\": 5,, }"}),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    let detail = &body["error"]["details"][0];
    assert_eq!(detail["field"], "value_text");
    assert!(
        detail["message"]
            .as_str()
            .unwrap()
            .contains("line 1, column 13"),
        "{detail}"
    );
    let (status, body) = put(&base, &both, "limits.burst", json!({"value_text": "[5]"})).await;
    assert_eq!((status, &body["value"]), (201, &json!([5])));
    for (key, body) in [
        ("limits.burst", json!({"value": 1, "value_text": "1"})),
        ("limits.burst", json!({"description": "no value"})),
        (
            "limits.burst",
            json!({"value": 1, "description": "x".repeat(1001)}),
        ),
        ("-starts-badly", json!({"value": 1})),
        (&"k".repeat(129), json!({"value": 1})),
    ] {
        assert_eq!(
            put(&base, &both, key, body.clone()).await.0,
            422,
            "{key} {body}"
        );
    }
    let (status, _) = call(
        reqwest::Method::GET,
        &base,
        &both,
        "/api/gateway/config/no-such-key",
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = call(
        reqwest::Method::GET,
        &base,
        &both,
        "/api/gateway/config/%3Cscript%3E",
    )
    .await;
    assert_eq!(status, 404, "a path that cannot be a key is not found");

    // Hostile text round-trips as data.
    let (status, _) = put(
        &base,
        &both,
        "hostile",
        json!({"value": HOSTILE, "description": HOSTILE}),
    )
    .await;
    assert_eq!(status, 201);
    let (_, item) = call(
        reqwest::Method::GET,
        &base,
        &both,
        "/api/gateway/config/hostile",
    )
    .await;
    assert_eq!(
        (item["value"].as_str(), item["description"].as_str()),
        (Some(HOSTILE), Some(HOSTILE))
    );

    // Deleting answers 204, then the key is gone.
    let (status, _) = call(
        reqwest::Method::DELETE,
        &base,
        &writer,
        "/api/gateway/config/limits.rate",
    )
    .await;
    assert_eq!(status, 204);
    assert_eq!(
        call(
            reqwest::Method::GET,
            &base,
            &both,
            "/api/gateway/config/limits.rate"
        )
        .await
        .0,
        404
    );
    assert_eq!(
        call(
            reqwest::Method::DELETE,
            &base,
            &both,
            "/api/gateway/config/limits.rate"
        )
        .await
        .0,
        404
    );

    // Every change is audited with the old and the new value.
    let rows = audit_of(&app, "limits.rate").await;
    let by_action = |action: &str| {
        rows.iter()
            .filter(|r| r["action"] == action)
            .map(|r| (r["details"]["old"].clone(), r["details"]["new"].clone()))
            .collect::<Vec<_>>()
    };
    let mut updated = by_action("config.updated");
    updated.sort_by_key(|(old, _)| old.to_string());
    assert_eq!(
        updated,
        vec![
            (
                Value::Null,
                json!({"value": {"rps": 10}, "description": null})
            ),
            (
                json!({"value": {"rps": 10}, "description": null}),
                json!({"value": {"rps": 20}, "description": "per client"})
            ),
        ]
    );
    assert_eq!(
        by_action("config.deleted"),
        vec![(
            json!({"value": {"rps": 20}, "description": "per client"}),
            Value::Null
        )]
    );
    assert!(
        rows.iter()
            .all(|r| r["actor"].as_str().unwrap().starts_with("client:"))
    );
}

/// Polls `GET key` at `base` until `wanted` says yes, for at most 5 s; answers whether it did.
async fn within_five_seconds(
    base: &str,
    token: &str,
    key: &str,
    wanted: impl Fn(u16, &Value) -> bool,
) -> bool {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let (status, body) = call(
            reqwest::Method::GET,
            base,
            token,
            &format!("/api/gateway/config/{key}"),
        )
        .await;
        if wanted(status, &body) {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_change_through_one_instance_reaches_the_other_within_five_seconds() {
    // A runs in the test, B is a second `metadeck` process on the same database (the same
    // SQLite file, or the same PostgreSQL database in the PostgreSQL pass).
    let a = spawn_app().await;
    a.login_as_admin().await;
    let token = token(&a, &["gateway:read", "gateway:write"]).await;
    let (child, b) = serve_process(
        &a.database,
        &[("METADECK_CONFIG_POLL_MS", "200")],
        std::process::Stdio::null(),
    )
    .await;
    let _b = KillOnDrop(child);
    let a_url = a.address.clone();

    assert_eq!(
        put(&a_url, &token, "rollout", json!({"value": 1})).await.0,
        201
    );
    assert!(
        within_five_seconds(&b, &token, "rollout", |s, v| s == 200 && v["value"] == 1).await,
        "B sees the key"
    );
    // B answers from its cache: a change made behind every instance's back (no clock tick)
    // is not seen. (B's poller may drop the copy B read first when it sees the creation's
    // tick; after a few of its turns, the copy read again stays.)
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (_, fresh) = call(
        reqwest::Method::GET,
        &b,
        &token,
        "/api/gateway/config/rollout",
    )
    .await;
    assert_eq!(fresh["value"], 1);
    a.exec("UPDATE gateway_config SET description = 'behind their backs' WHERE key = 'rollout'")
        .await
        .unwrap();
    let (_, cached) = call(
        reqwest::Method::GET,
        &b,
        &token,
        "/api/gateway/config/rollout",
    )
    .await;
    assert_eq!(
        cached["description"],
        Value::Null,
        "B served its cached copy"
    );

    // A write through A reaches B; one through B reaches A; a deletion too.
    for n in 2..5 {
        assert_eq!(
            put(&a_url, &token, "rollout", json!({"value": n})).await.0,
            200
        );
        assert!(
            within_five_seconds(&b, &token, "rollout", |s, v| s == 200 && v["value"] == n).await,
            "B serves value {n} within 5 s"
        );
    }
    assert_eq!(
        put(&b, &token, "rollout", json!({"value": 100})).await.0,
        200
    );
    assert!(
        within_five_seconds(&a_url, &token, "rollout", |s, v| s == 200
            && v["value"] == 100)
        .await,
        "A serves B's write within 5 s"
    );
    // A key B knows as absent appears on B once created through A.
    assert_eq!(
        call(reqwest::Method::GET, &b, &token, "/api/gateway/config/late")
            .await
            .0,
        404
    );
    assert_eq!(
        put(&a_url, &token, "late", json!({"value": "here"}))
            .await
            .0,
        201
    );
    assert!(within_five_seconds(&b, &token, "late", |s, v| s == 200 && v["value"] == "here").await);
    let (status, _) = call(
        reqwest::Method::DELETE,
        &a_url,
        &token,
        "/api/gateway/config/rollout",
    )
    .await;
    assert_eq!(status, 204);
    assert!(
        within_five_seconds(&b, &token, "rollout", |s, _| s == 404).await,
        "B stops serving a key deleted through A within 5 s"
    );
}
