//! The operations area: `/system`, its JSON twin, verified backups (R6) and scheduled ones.

mod access;
mod backups;
mod schedule;

use std::path::Path;
use std::process::Output;
use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{TestApp, csrf_in, metadeck_bin};

/// Devices per bulk batch in the write load: a consistent copy holds a multiple of it.
pub const BATCH: usize = 50;

/// `metadeck backup verify FILE --json`: its exit code and report.
pub fn verify(file: &Path) -> (Option<i32>, Value, String) {
    let out: Output = metadeck_bin()
        .args(["backup", "verify", file.to_str().unwrap(), "--json"])
        .output()
        .expect("metadeck runs");
    let report = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (
        out.status.code(),
        report,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Starts `batches` bulk upserts of [`BATCH`] new devices each, one after another, through
/// the signed-in admin's session; the task ends when all are stored.
pub async fn write_load(app: &TestApp, batches: usize) -> tokio::task::JoinHandle<()> {
    let client = app.client.clone();
    let url = app.url("/internal/devices/bulk_upsert");
    let token = app.csrf_token(&app.client).await;
    tokio::spawn(async move {
        for b in 0..batches {
            let items: Vec<Value> = (0..BATCH)
                .map(|i| json!({"device_id": format!("load-{b}-{i}"), "name": format!("Load {b}.{i}")}))
                .collect();
            let res = client
                .post(&url)
                .header("X-CSRF-Token", &token)
                .json(&items)
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 200, "batch {b} is stored");
        }
    })
}

/// Posts `/system/…` as `client` with the CSRF token of its `/system` page.
pub async fn post_system(app: &TestApp, client: &reqwest::Client, path: &str) -> reqwest::Response {
    let page = app.text_of(client, "/").await;
    let token = csrf_in(&page).expect("a CSRF token");
    client
        .post(app.url(path))
        .form(&[("csrf_token", token.as_str())])
        .send()
        .await
        .unwrap()
}

/// Waits up to `limit` for `done` to hold, looking every 100 ms.
pub async fn eventually<F, Fut>(limit: Duration, what: &str, mut done: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + limit;
    while !done().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what} within {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
