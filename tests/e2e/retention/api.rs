//! The retention API and `metadeck purge --json` over the same purge.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::spawn_app;
use crate::ops::Engine;

/// A token with `system:read` and `system:write`.
async fn system_token(app: &crate::helpers::TestApp) -> String {
    let client = crate::oauth::service_client(app, &["system:read", "system:write"]).await;
    crate::oauth::token_for(app, &client, Some("system:read system:write")).await
}

async fn call(
    app: &crate::helpers::TestApp,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = reqwest::Client::new()
        .request(method, app.url(path))
        .bearer_auth(token);
    if let Some(body) = body {
        req = req.json(&body);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn policies_are_read_and_changed_over_json() {
    let app = spawn_app().await;
    app.login_as_admin().await;
    let token = system_token(&app).await;

    let (status, body) = call(&app, &token, Method::GET, "/api/system/retention", None).await;
    assert_eq!(status, 200);
    let events = body["policies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["policy"] == "events")
        .unwrap()
        .clone();
    assert_eq!(events["keep_days"], 90);
    assert_eq!(events["source"], "default");

    let (status, body) = call(
        &app,
        &token,
        Method::PUT,
        "/api/system/retention",
        Some(json!({"events": 10})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let events = body["policies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["policy"] == "events")
        .unwrap()
        .clone();
    assert_eq!(events["keep_days"], 10);
    assert_eq!(events["source"], "page");

    let (status, body) = call(
        &app,
        &token,
        Method::PUT,
        "/api/system/retention",
        Some(json!({"events": 99999})),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["details"][0]["field"], "events");
}

#[tokio::test]
async fn a_purge_over_json_reports_every_kind() {
    let app = spawn_app().await;
    app.login_as_admin().await;
    let token = system_token(&app).await;

    let (status, body) = call(&app, &token, Method::POST, "/api/system/purge", None).await;

    assert_eq!(status, 200, "{body}");
    let kinds: Vec<&String> = body["removed"].as_object().unwrap().keys().collect();
    assert_eq!(kinds.len(), 12, "{body}");
}

#[tokio::test]
async fn purge_json_prints_every_kind_zero_included() {
    let e = Engine::start().await;
    let out = crate::helpers::metadeck_bin()
        .env("DATABASE_URL", &e.app.database.url)
        .env("METADECK_SECRET_KEY", crate::helpers::TEST_SECRET_KEY)
        .args(["purge", "--json"])
        .output()
        .expect("metadeck runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).expect("a JSON report");
    let mut kinds: Vec<&str> = report["removed"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    kinds.sort_unstable();
    let mut expected = vec![
        "sessions",
        "access_tokens",
        "refresh_tokens",
        "authorization_codes",
        "device_codes",
        "facts",
        "sync_history",
        "webhook_deliveries",
        "webhook_payloads",
        "events",
        "oauth_audit_logs",
        "audit",
    ];
    expected.sort_unstable();
    assert_eq!(kinds, expected);
    assert_eq!(
        report.as_object().unwrap().len(),
        1,
        "only `removed`: {report}"
    );
}

#[tokio::test]
async fn the_sweeper_records_its_runs() {
    let app = crate::helpers::spawn_app_with(|env| {
        env.insert("METADECK_SWEEP_SECONDS".into(), "1".into());
    })
    .await;
    for _ in 0..100 {
        let runs: i64 = app
            .scalar(
                "SELECT COUNT(*) FROM worker_runs WHERE worker = 'sweeper' AND last_result = 'ok'",
            )
            .await;
        if runs == 1 {
            let details: String = app
                .scalar(
                    "SELECT CAST(last_details AS TEXT) FROM worker_runs WHERE worker = 'sweeper'",
                )
                .await;
            let details: Value = serde_json::from_str(&details).unwrap();
            assert_eq!(details.as_object().unwrap().len(), 12, "{details}");
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the sweeper never recorded a run");
}
