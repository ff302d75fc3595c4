//! `GET /metrics`: Prometheus text that promtool accepts, every family of spec 09 with its
//! type and labels, route labels as patterns, and a bearer token with `system:read` required.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::helpers::{TestApp, spawn_app};

/// Every family, with its type.
const FAMILIES: [(&str, &str); 12] = [
    ("metadeck_http_requests_total", "counter"),
    ("metadeck_http_request_duration_seconds", "histogram"),
    ("metadeck_db_pool_connections", "gauge"),
    ("metadeck_db_pool_wait_seconds", "histogram"),
    ("metadeck_webhook_deliveries_total", "counter"),
    ("metadeck_webhook_queue_depth", "gauge"),
    ("metadeck_sessions_active", "gauge"),
    ("metadeck_syncs_running", "gauge"),
    ("metadeck_sweeper_removed_total", "counter"),
    ("metadeck_backup_last_success_timestamp_seconds", "gauge"),
    ("metadeck_database_size_bytes", "gauge"),
    ("metadeck_build_info", "gauge"),
];

async fn token_with(app: &TestApp, scope: &str) -> String {
    let client = crate::oauth::service_client(app, &[scope]).await;
    crate::oauth::token_for(app, &client, Some(scope)).await
}

async fn scrape(app: &TestApp, token: &str) -> String {
    let res = crate::oauth::bearer_get(app, "/metrics", token).await;
    assert_eq!(res.status(), 200);
    let content_type = res.headers()["content-type"].to_str().unwrap().to_string();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    res.text().await.unwrap()
}

/// `promtool check metrics` on `text`: `None` when promtool is not installed.
fn promtool(text: &str) -> Option<(bool, String)> {
    let mut child = match Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(child) => child,
        Err(_) => return None,
    };
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Some((out.status.success(), said))
}

#[tokio::test]
async fn every_family_is_there_from_the_first_scrape_and_promtool_accepts_it() {
    let app = spawn_app().await;
    app.login_as_admin().await;
    let token = token_with(&app, "system:read").await;
    let device = uuid::Uuid::new_v4().simple().to_string();
    let _ = crate::oauth::bearer_get(&app, &format!("/api/devices/{device}"), &token).await;
    let _ = crate::oauth::bearer_get(&app, &format!("/no/such/{device}"), &token).await;

    let text = scrape(&app, &token).await;

    for (name, kind) in FAMILIES {
        assert!(
            text.contains(&format!("# HELP {name} ")),
            "no HELP for {name}:\n{text}"
        );
        assert!(
            text.contains(&format!("# TYPE {name} {kind}\n")),
            "no TYPE {kind} for {name}:\n{text}"
        );
    }
    assert!(
        text.contains(
            r#"metadeck_http_requests_total{route="/api/devices/{device_id}",method="GET",status="#
        ),
        "the route label is the pattern:\n{text}"
    );
    assert!(text.contains(r#"metadeck_http_request_duration_seconds_bucket{route="/api/devices/{device_id}",le="0.0005"}"#));
    assert!(text.contains(r#"route="unmatched""#));
    assert!(!text.contains(&device), "no raw path in any label");
    assert!(text.contains(r#"metadeck_db_pool_connections{state="idle"}"#));
    assert!(text.contains(&format!(
        r#"metadeck_build_info{{version="{}"}} 1"#,
        env!("CARGO_PKG_VERSION")
    )));
    match promtool(&text) {
        Some((ok, said)) => assert!(ok && said.trim().is_empty(), "promtool: {said}\n{text}"),
        None => eprintln!("promtool is not installed: the text format was not checked by it"),
    }
}

#[tokio::test]
async fn metrics_need_a_token_with_system_read() {
    let app = spawn_app().await;
    app.login_as_admin().await;
    let res = reqwest::Client::new()
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let token = token_with(&app, "registry:read").await;
    let res = crate::oauth::bearer_get(&app, "/metrics", &token).await;
    assert_eq!(res.status(), 403);
}
