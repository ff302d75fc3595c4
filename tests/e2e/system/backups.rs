//! R6: backups taken from the command line and from the page while bulk upserts run are
//! verified, private, consistent at one point in time, and listed; a corrupted copy fails
//! `backup verify`.

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde_json::Value;

use super::{BATCH, post_system, verify, write_load};
use crate::helpers::{metadeck_bin, spawn_app};

/// The device count of the copy at `file`.
async fn devices_in(file: &std::path::Path) -> i64 {
    let copy = sea_orm::Database::connect(format!("sqlite://{}?mode=ro", file.display()))
        .await
        .unwrap();
    let n = copy
        .query_one_raw(Statement::from_string(
            DbBackend::Sqlite,
            "SELECT COUNT(*) FROM devices",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get_by_index::<i64>(0)
        .unwrap();
    copy.close().await.unwrap();
    n
}

#[tokio::test]
async fn a_cli_backup_under_bulk_upserts_verifies_and_holds_whole_batches() {
    let app = spawn_app().await;
    let Some(path) = app.database.path.clone() else {
        return; // PostgreSQL backups are pg_dump's (tests/e2e/cli.rs).
    };
    app.login_as_admin().await;
    let load = write_load(&app, 40).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let output = path.with_file_name("cli-backup.db");

    let out = tokio::task::spawn_blocking({
        let (url, output) = (app.database.url.clone(), output.clone());
        move || {
            metadeck_bin()
                .env("DATABASE_URL", url)
                .args(["backup", "--output", output.to_str().unwrap(), "--json"])
                .output()
                .unwrap()
        }
    })
    .await
    .unwrap();
    load.await.unwrap();

    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["verified"], true);
    assert_eq!(report["sha256"].as_str().unwrap().len(), 64);
    let mode = std::fs::metadata(&output).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let (code, verified, stderr) = verify(&output);
    assert_eq!(code, Some(0), "{stderr} {verified}");
    assert_eq!(verified["ok"], true);
    assert_eq!(verified["integrity"], "ok");
    assert_eq!(verified["foreign_key_violations"], 0);
    assert_eq!(verified["audit_chain"], "intact");
    assert_eq!(
        verified["schema_version"],
        verified["expected_schema_version"]
    );
    let devices = devices_in(&output).await;
    assert_eq!(verified["row_counts"]["devices"], devices);
    assert_eq!(
        devices % BATCH as i64,
        0,
        "whole batches only ({devices} devices)"
    );
    let row: (String, String, i64) = (
        app.scalar("SELECT trigger FROM backups").await,
        app.scalar("SELECT status FROM backups").await,
        app.scalar("SELECT size_bytes FROM backups").await,
    );
    assert_eq!(row.0, "cli");
    assert_eq!(row.1, "succeeded");
    assert_eq!(row.2 as u64, std::fs::metadata(&output).unwrap().len());
}

#[tokio::test]
async fn a_page_backup_under_bulk_upserts_downloads_a_verified_copy_of_whole_batches() {
    let app = spawn_app().await;
    let Some(path) = app.database.path.clone() else {
        return;
    };
    app.login_as_admin().await;
    let load = write_load(&app, 40).await;
    tokio::time::sleep(Duration::from_millis(100)).await;

    let res = post_system(&app, &app.client, "/system/backup").await;

    assert_eq!(res.status(), 200);
    let disposition = res.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_owned();
    let sha256 = res.headers()["x-backup-sha256"]
        .to_str()
        .unwrap()
        .to_owned();
    let bytes = res.bytes().await.unwrap();
    load.await.unwrap();
    assert!(disposition.starts_with("attachment"), "{disposition}");
    assert!(disposition.contains("metadeck-"), "{disposition}");
    assert!(bytes.starts_with(b"SQLite format 3\0"));
    let downloaded = path.with_file_name("downloaded.db");
    std::fs::write(&downloaded, &bytes).unwrap();
    let (code, verified, stderr) = verify(&downloaded);
    assert_eq!(code, Some(0), "{stderr} {verified}");
    assert_eq!(
        devices_in(&downloaded).await % BATCH as i64,
        0,
        "whole batches only"
    );
    let leftovers: Vec<_> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".download-"))
        .collect();
    assert!(
        leftovers.is_empty(),
        "the temporary copy is gone: {leftovers:?}"
    );

    let list: Value = app.get("/api/system/backups").await.json().await.unwrap();
    let item = &list["items"][0];
    assert_eq!(item["trigger"], "page");
    assert_eq!(item["status"], "succeeded");
    assert_eq!(item["sha256"], sha256.as_str());
    assert_eq!(item["size_bytes"], bytes.len() as u64);
    let page = app.text_of(&app.client, "/system").await;
    assert!(
        !page.contains("data-testid=\"last-verified\">—"),
        "last verified restorable is shown"
    );
    assert!(page.contains(&sha256[..12]));
}

#[tokio::test]
async fn backup_verify_names_the_finding_of_a_corrupted_copy_and_of_a_file_that_is_no_database() {
    let app = spawn_app().await;
    let Some(path) = app.database.path.clone() else {
        return;
    };
    app.login_as_admin().await;
    write_load(&app, 10).await.await.unwrap();
    let good = path.with_file_name("good.db");
    let out = metadeck_bin()
        .env("DATABASE_URL", &app.database.url)
        .args(["backup", "--output", good.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success());
    let mut bytes = std::fs::read(&good).unwrap();
    // Overwrite pages in the middle of the file (not the header): the B-tree is damaged.
    let middle = bytes.len() / 2;
    bytes[middle..middle + 8192].fill(0xA5);
    let corrupted = path.with_file_name("corrupted.db");
    std::fs::write(&corrupted, &bytes).unwrap();
    let junk = path.with_file_name("junk.db");
    std::fs::write(
        &junk,
        b"this is not a database, only text that looks long enough ".repeat(100),
    )
    .unwrap();

    let (code, report, _) = verify(&corrupted);
    let (junk_code, junk_report, junk_err) = verify(&junk);
    let text = metadeck_bin()
        .args(["backup", "verify", corrupted.to_str().unwrap()])
        .output()
        .unwrap();

    assert_eq!(code, Some(1), "{report}");
    assert_eq!(report["ok"], false);
    assert_ne!(report["integrity"], "ok", "{report}");
    assert!(
        report["findings"][0]
            .as_str()
            .unwrap()
            .starts_with("integrity"),
        "{report}"
    );
    assert_eq!(junk_code, Some(1));
    assert_eq!(junk_report["ok"], false);
    assert!(
        junk_report["integrity"]
            .as_str()
            .unwrap()
            .contains("not a database"),
        "{junk_report}"
    );
    assert!(junk_err.contains("not a restorable backup"), "{junk_err}");
    assert_eq!(text.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&text.stdout).contains("integrity"));
}

#[tokio::test]
async fn on_postgres_the_page_points_to_pg_dump_and_takes_no_copy() {
    let app = spawn_app().await;
    if app.backend() != DbBackend::Postgres {
        return;
    }
    app.login_as_admin().await;

    let page = app.text_of(&app.client, "/system").await;
    let res = post_system(&app, &app.client, "/system/backup").await;

    assert!(page.contains("pg_dump"));
    assert!(!page.contains("data-testid=\"download-backup\""));
    assert_eq!(res.status(), 303);
    let after = app.text_of(&app.client, "/system").await;
    assert!(after.contains("use pg_dump"), "the flash says so");
    let rows: i64 = app.scalar("SELECT COUNT(*) FROM backups").await;
    assert_eq!(rows, 0);
}

#[tokio::test]
async fn the_backup_list_pages_newest_first() {
    let app = spawn_app().await;
    if app.database.path.is_none() {
        return;
    }
    app.login_as_admin().await;
    for _ in 0..3 {
        assert_eq!(
            post_system(&app, &app.client, "/system/backup")
                .await
                .status(),
            200
        );
    }

    let first: Value = app
        .get("/api/system/backups?limit=2")
        .await
        .json()
        .await
        .unwrap();
    let cursor = first["next_cursor"].as_str().unwrap().to_owned();
    let second: Value = app
        .get(&format!("/api/system/backups?limit=2&cursor={cursor}"))
        .await
        .json()
        .await
        .unwrap();
    let bad = app.get("/api/system/backups?limit=0").await;

    let ids: Vec<i64> = first["items"]
        .as_array()
        .unwrap()
        .iter()
        .chain(second["items"].as_array().unwrap())
        .map(|b| b["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [3, 2, 1]);
    assert!(second["next_cursor"].is_null());
    assert_eq!(bad.status(), 400);
}
