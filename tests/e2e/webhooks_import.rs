//! `metadeck import webhooks`: both file shapes, the backup and the rename, all-or-nothing
//! validation, and idempotent re-runs, while a server keeps serving the same database.

use std::path::Path;
use std::process::Output;

use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

use crate::helpers::{TestApp, metadeck_bin, spawn_app};

fn import(app: &TestApp, file: &Path, json: bool) -> Output {
    let mut cmd = metadeck_bin();
    cmd.env("DATABASE_URL", &app.database.url)
        .args(["import", "webhooks", "--file"])
        .arg(file);
    if json {
        cmd.arg("--json");
    }
    cmd.output().expect("metadeck runs")
}

async fn count(app: &TestApp) -> i64 {
    let row = app
        .db
        .query_one_raw(Statement::from_string(
            app.backend(),
            "SELECT COUNT(*) AS n FROM webhooks",
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get("", "n").unwrap()
}

fn files_named(dir: &Path, prefix: &str) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with(prefix))
        .collect()
}

fn legacy_array() -> Value {
    json!([
        {"url": "https://hooks.example.test/a", "events": ["sync.completed", "sync.failed"],
         "secret": "legacy-plain-secret", "team": "ops", "created_at": "2024-03-01T10:00:00"},
        {"webhook_id": "wh_custom", "url": "https://hooks.example.test/b", "events": ["device.*"],
         "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "created_at": "2024-03-02T11:00:00Z"},
    ])
}

#[tokio::test]
async fn an_array_file_is_imported_backed_up_renamed_and_a_re_run_changes_nothing() {
    let app = spawn_app().await;
    app.login_as_admin().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("webhooks.json");
    std::fs::write(&file, legacy_array().to_string()).unwrap();

    let out = import(&app, &file, true);

    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["created"], 2);
    assert_eq!(report["updated"], 0);
    assert_eq!(report["unchanged"], 0);
    assert!(!file.exists(), "the file is renamed");
    assert!(Path::new(report["migrated"].as_str().unwrap()).exists());
    assert!(
        report["migrated"]
            .as_str()
            .unwrap()
            .ends_with("webhooks.json.migrated")
    );
    let backup = report["backup"].as_str().unwrap();
    assert!(backup.contains("webhooks.json.bak-"));
    assert_eq!(
        std::fs::read_to_string(backup).unwrap(),
        legacy_array().to_string()
    );
    // Deterministic ids, the team and created_at kept; served by the running server.
    let id = service::webhooks::legacy_import::derived_id("https://hooks.example.test/a");
    let res = app.get(&format!("/api/webhooks/{id}")).await;
    assert_eq!(res.status(), 200);
    let read: Value = res.json().await.unwrap();
    assert_eq!(read["team"], "ops");
    assert_eq!(read["created_at"], "2024-03-01T10:00:00Z");
    assert_eq!(read["secret_hint"], "lega…");

    // A second run of the same file changes nothing and does not overwrite the .migrated file.
    std::fs::write(&file, legacy_array().to_string()).unwrap();
    let again = import(&app, &file, false);
    assert!(
        again.status.success(),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&again.stdout).trim(),
        "created 0, updated 0, unchanged 2"
    );
    assert_eq!(files_named(dir.path(), "webhooks.json.migrated").len(), 2);
    assert_eq!(count(&app).await, 2);
}

#[tokio::test]
async fn an_object_keyed_by_id_is_accepted_and_changes_are_counted_as_updates() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("webhooks.json");
    let mut doc = json!({
        "wh_1": {"url": "https://hooks.example.test/one", "events": ["*"], "secret": "s1"},
        "wh_2": {"url": "https://hooks.example.test/two", "events": ["run.failed"], "secret": "s2", "team": "data"},
    });
    std::fs::write(&file, doc.to_string()).unwrap();
    let out = import(&app, &file, true);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        serde_json::from_slice::<Value>(&out.stdout).unwrap()["created"],
        2
    );

    doc["wh_2"]["events"] = json!(["run.*"]);
    std::fs::write(&file, doc.to_string()).unwrap();
    let out = import(&app, &file, true);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (
            report["created"].clone(),
            report["updated"].clone(),
            report["unchanged"].clone()
        ),
        (json!(0), json!(1), json!(1))
    );
}

#[tokio::test]
async fn one_bad_entry_aborts_the_import_and_leaves_nothing_behind() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("webhooks.json");
    let doc = json!([
        {"url": "https://hooks.example.test/ok", "events": ["*"], "secret": "s"},
        {"webhook_id": "wh_bad", "url": "https://hooks.example.test/x", "events": ["sync.exploded"], "secret": "s"},
        {"url": "not a url", "events": ["*"], "secret": "s"},
    ]);
    std::fs::write(&file, doc.to_string()).unwrap();

    let out = import(&app, &file, false);

    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("entry 1 (webhook_id wh_bad)") && err.contains("sync.exploded"),
        "{err}"
    );
    assert!(err.contains("entry 2"), "{err}");
    assert_eq!(count(&app).await, 0, "nothing was written");
    assert!(file.exists(), "the file is not renamed");
    assert_eq!(
        files_named(dir.path(), "webhooks.json.bak-").len(),
        1,
        "the backup is kept"
    );
}
