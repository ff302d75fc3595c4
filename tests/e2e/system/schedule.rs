//! Scheduled backups of `metadeck serve`: files appear, rotation keeps the newest N, and a
//! failure is a failed row, the worker's error and a `system.backup_failed` webhook event.

use std::time::Duration;

use serde_json::json;

use super::eventually;
use crate::helpers::{TestApp, metadeck_bin, pg_admin_url, spawn_app_with};

/// The scheduled files in `dir`.
fn scheduled_files(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("metadeck-") && n.ends_with(".db"))
        .collect();
    names.sort();
    names
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    app.scalar::<i64>(sql).await
}

#[tokio::test]
async fn scheduled_backups_appear_every_second_and_rotation_keeps_the_newest_two() {
    if pg_admin_url().is_some() {
        return; // Refused at start on PostgreSQL (the last test).
    }
    let dir = tempfile::tempdir().unwrap();
    let backups = dir.path().to_path_buf();
    let app = spawn_app_with(|env| {
        env.insert("METADECK_BACKUP_DIR".into(), backups.display().to_string());
        env.insert("METADECK_BACKUP_EVERY".into(), "1s".into());
        env.insert("METADECK_BACKUP_KEEP".into(), "2".into());
    })
    .await;

    eventually(
        Duration::from_secs(30),
        "four scheduled backups",
        || async {
            count(
                &app,
                "SELECT COUNT(*) FROM backups WHERE trigger = 'schedule' AND status = 'succeeded'",
            )
            .await
                >= 4
        },
    )
    .await;
    eventually(
        Duration::from_secs(10),
        "the worker's run recorded",
        || async {
            count(
                &app,
                "SELECT COUNT(*) FROM worker_runs WHERE worker = 'backup' AND last_result = 'ok'",
            )
            .await
                == 1
        },
    )
    .await;

    let files = scheduled_files(dir.path());
    assert_eq!(files.len(), 2, "rotation keeps 2: {files:?}");
    let newest: String = app
        .scalar("SELECT file FROM backups WHERE status = 'succeeded' ORDER BY id DESC LIMIT 1")
        .await;
    assert!(
        newest.ends_with(files.last().unwrap()),
        "{newest} {files:?}"
    );
    let (code, report, _) = super::verify(&dir.path().join(files.last().unwrap()));
    assert_eq!(code, Some(0), "{report}");
    app.login_as_admin().await;
    let page = app.text_of(&app.client, "/system").await;
    assert!(page.contains("data-worker=\"backup\""));
    assert!(page.contains("the newest 2 files are kept"));
}

#[tokio::test]
async fn an_unwritable_backup_directory_records_a_failure_and_announces_it_to_webhooks() {
    if pg_admin_url().is_some() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("a-file");
    std::fs::write(&blocker, b"not a directory").unwrap();
    let unwritable = blocker.join("backups");
    let app = spawn_app_with(|env| {
        env.insert(
            "METADECK_BACKUP_DIR".into(),
            unwritable.display().to_string(),
        );
        env.insert("METADECK_BACKUP_EVERY".into(), "1s".into());
    })
    .await;
    app.login_as_admin().await;
    let csrf = app.csrf_token(&app.client).await;
    let res = app
        .client
        .post(app.url("/api/webhooks"))
        .header("X-CSRF-Token", csrf)
        .json(&json!({"url": "https://hooks.example.test/ops", "events": ["system.*"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);

    eventually(Duration::from_secs(30), "a failure announced", || async {
        count(
            &app,
            "SELECT COUNT(*) FROM webhook_deliveries WHERE event_type = 'system.backup_failed'",
        )
        .await
            >= 1
    })
    .await;

    let error: String = app
        .scalar("SELECT error FROM backups WHERE status = 'failed' ORDER BY id DESC LIMIT 1")
        .await;
    assert!(error.contains("does not exist"), "{error}");
    let payload: String = app
        .scalar("SELECT CAST(payload AS TEXT) FROM webhook_deliveries WHERE event_type = 'system.backup_failed' ORDER BY id LIMIT 1")
        .await;
    let payload: serde_json::Value = serde_json::from_str(&payload).unwrap();
    assert_eq!(payload["type"], "system.backup_failed");
    assert_eq!(payload["data"]["status"], "failed");
    assert_eq!(payload["data"]["trigger"], "schedule");
    eventually(Duration::from_secs(10), "the worker's error recorded", || async {
        count(&app, "SELECT COUNT(*) FROM worker_runs WHERE worker = 'backup' AND last_result = 'error'").await == 1
    })
    .await;
    let page = app.text_of(&app.client, "/system").await;
    assert!(page.contains("badge bad"), "the failure shows on /system");
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM backups WHERE status = 'succeeded'"
        )
        .await,
        0
    );
}

#[test]
fn a_bad_interval_is_a_start_up_error_naming_the_setting() {
    for (every, dir) in [("0s", "/tmp"), ("1w", "/tmp"), ("soon", "/tmp")] {
        let out = metadeck_bin()
            .env("METADECK_BACKUP_DIR", dir)
            .env("METADECK_BACKUP_EVERY", every)
            .arg("check")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{every}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("METADECK_BACKUP_EVERY"), "{err}");
    }
    let keep = metadeck_bin()
        .env("METADECK_BACKUP_KEEP", "0")
        .arg("check")
        .output()
        .unwrap();
    assert_eq!(keep.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&keep.stderr).contains("METADECK_BACKUP_KEEP"));
    let postgres = metadeck_bin()
        .env(
            "DATABASE_URL",
            "postgres://postgres@127.0.0.1:5432/postgres",
        )
        .env("METADECK_BACKUP_DIR", "/tmp")
        .arg("check")
        .output()
        .unwrap();
    assert_eq!(postgres.status.code(), Some(2));
    let err = String::from_utf8_lossy(&postgres.stderr);
    assert!(
        err.contains("METADECK_BACKUP_DIR") && err.contains("pg_dump"),
        "{err}"
    );
}
