//! Services with client-credentials tokens doing their real jobs: an orchestrator runs the
//! seed's whole sync sequence, a discovery service upserts and reads devices.

use serde_json::{Value, json};

use super::{service_client, token_for};
use crate::helpers::{TestApp, spawn_app};

async fn call(
    app: &TestApp,
    token: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = reqwest::Client::new()
        .request(method, app.url(path))
        .bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn an_orchestrator_token_runs_a_whole_sync() {
    let app = spawn_app().await;
    app.login_as_admin().await;
    let orchestrator = service_client(&app, &["sync:read", "sync:write"]).await;
    let token = token_for(&app, &orchestrator, None).await;
    use reqwest::Method as M;

    let (status, run) = call(
        &app,
        &token,
        M::POST,
        "/api/sync/runs",
        Some(json!({"tenant_id": "acme", "sync_type": "sqlite"})),
    )
    .await;
    assert_eq!(status, 201, "{run}");
    let id = run["id"].as_i64().unwrap();
    let path = format!("/api/sync/runs/{id}");
    let (status, _) = call(
        &app,
        &token,
        M::PATCH,
        &path,
        Some(json!({"progress_percentage": 40, "users_count": 1500})),
    )
    .await;
    assert_eq!(status, 200);
    let (status, done) = call(
        &app,
        &token,
        M::PATCH,
        &path,
        Some(json!({"status": "completed", "progress_percentage": 100})),
    )
    .await;
    assert_eq!(status, 200, "{done}");
    let (_, answer) = call(
        &app,
        &token,
        M::GET,
        "/api/sync/status?tenant_id=acme",
        None,
    )
    .await;
    assert_eq!(answer["status"], "completed");
    assert_eq!(answer["entity_counts"]["users"], 1500);

    let (_, trail) = call(&app, &token, M::GET, "/api/sync/runs?tenant_id=acme", None).await;
    assert_eq!(trail["items"].as_array().unwrap().len(), 1);
    let audit: Value = app.get("/api/audit?limit=50").await.json().await.unwrap();
    let actors: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["actor"].as_str())
        .collect();
    assert!(
        actors
            .iter()
            .any(|a| *a == format!("client:{}", orchestrator.id)),
        "{actors:?}"
    );

    let reader = service_client(&app, &["sync:read"]).await;
    let read_only = token_for(&app, &reader, None).await;
    let (status, _) = call(
        &app,
        &read_only,
        M::POST,
        "/api/sync/runs",
        Some(json!({"tenant_id": "other", "sync_type": "sqlite"})),
    )
    .await;
    assert_eq!(status, 403, "sync:read cannot start a sync");
}

#[tokio::test]
async fn a_discovery_token_upserts_and_reads_devices() {
    let app = spawn_app().await;
    app.login_as_admin().await;
    let discovery = service_client(&app, &["registry:read", "registry:write"]).await;
    let token = token_for(&app, &discovery, None).await;
    use reqwest::Method as M;

    let (status, body) = call(&app, &token, M::POST, "/internal/devices/bulk_upsert",
        Some(json!([{"device_id": "hue-1", "name": "Lamp"}, {"device_id": "hue-2", "name": "Strip"}]))).await;
    assert!(status == 200 || status == 201, "{status} {body}");
    let (status, device) = call(&app, &token, M::GET, "/api/devices/hue-2", None).await;
    assert_eq!(status, 200);
    assert_eq!(device["name"], "Strip");
}
