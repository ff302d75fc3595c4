//! The `metadeck` binary as an operator uses it: exit codes, reports, backup, shutdown.

use std::os::unix::fs::PermissionsExt;
use std::process::Output;
use std::time::Duration;

use sea_orm::{ConnectionTrait, Database, DbBackend};
use serde_json::Value;

use crate::helpers::{TestDatabase, metadeck_bin, pg_admin_url, spawn_app};

fn run(database_url: &str, args: &[&str]) -> Output {
    metadeck_bin()
        .env("DATABASE_URL", database_url)
        .args(args)
        .output()
        .expect("metadeck runs")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).to_string()
}

#[test]
fn an_invalid_setting_exits_2_with_one_line_naming_the_variable() {
    let out = metadeck_bin()
        .env("METADECK_COOKIE_SECURE", "sometimes")
        .arg("check")
        .output()
        .unwrap();

    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(
        err.contains("METADECK_COOKIE_SECURE") && err.contains("true, false, auto"),
        "{err}"
    );
}

#[test]
fn a_database_url_of_another_scheme_exits_2() {
    let out = run("mysql://localhost/metadeck", &["check"]);

    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("DATABASE_URL"));
}

#[test]
fn an_unreachable_database_exits_1_with_the_reason() {
    let out = run("postgres://nobody@127.0.0.1:1/metadeck", &["check"]);

    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("cannot open the database"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_usage_error_exits_2() {
    let out = metadeck_bin().arg("no-such-command").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let help = metadeck_bin().args(["backup", "--help"]).output().unwrap();
    assert_eq!(help.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&help.stdout).contains("--output"));
}

#[tokio::test]
async fn client_create_without_scopes_is_a_usage_error_and_creates_nothing() {
    let app = spawn_app().await;

    let out = run(
        &app.database.url,
        &["client", "create", "--name", "no-scopes", "--json"],
    );

    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--scopes"), "{}", stderr(&out));
    assert!(out.stdout.is_empty(), "no client is reported");
    app.login_as_admin().await;
    let clients: Value = app.get("/api/oauth/clients").await.json().await.unwrap();
    assert!(
        !clients.to_string().contains("no-scopes"),
        "no client is created: {clients}"
    );
}

#[tokio::test]
async fn migrate_status_and_check_report_as_json() {
    let database = TestDatabase::empty().await;

    let up = run(&database.url, &["migrate", "up"]);
    let status = run(&database.url, &["migrate", "status", "--json"]);
    let check = run(&database.url, &["check", "--json"]);

    assert!(up.status.success(), "{}", stderr(&up));
    let status: Value = serde_json::from_slice(&status.stdout).expect("stdout holds only JSON");
    assert_eq!(status["pending"].as_array().unwrap().len(), 0);
    assert!(status["applied"].as_array().unwrap().len() >= 9);
    assert_eq!(check.status.code(), Some(0), "{}", stderr(&check));
    let report: Value = serde_json::from_slice(&check.stdout).expect("stdout holds only JSON");
    assert_eq!(report["problems"].as_array().unwrap().len(), 0);
}

/// Runs a command with the default `info` log level.
fn run_at_info(database_url: &str, args: &[&str]) -> Output {
    metadeck_bin()
        .env("DATABASE_URL", database_url)
        .env("METADECK_LOG", "info")
        .args(args)
        .output()
        .expect("metadeck runs")
}

#[tokio::test]
async fn commands_on_a_migrated_database_log_nothing_about_migrations() {
    let database = TestDatabase::empty().await;
    let first = run_at_info(
        &database.url,
        &[
            "user",
            "create",
            "--username",
            "first",
            "--role",
            "admin",
            "--json",
        ],
    );

    let status = run_at_info(&database.url, &["migrate", "status", "--json"]);
    let up = run_at_info(&database.url, &["migrate", "up"]);
    let user = run_at_info(
        &database.url,
        &[
            "user",
            "create",
            "--username",
            "second",
            "--role",
            "admin",
            "--json",
        ],
    );

    assert!(first.status.success(), "{}", stderr(&first));
    assert!(
        stderr(&first).contains("Applying migration"),
        "a migration that runs is logged: {}",
        stderr(&first)
    );
    for out in [&status, &up, &user] {
        assert!(out.status.success(), "{}", stderr(out));
        assert!(
            !stderr(out).to_lowercase().contains("migration"),
            "nothing about migrations: {}",
            stderr(out)
        );
    }
    let printed: Value = serde_json::from_slice(&user.stdout).expect("stdout holds only JSON");
    assert_eq!(printed["username"], "second");
}

#[tokio::test]
async fn check_finds_a_broken_foreign_key_and_exits_1() {
    if pg_admin_url().is_some() {
        return; // PostgreSQL never lets a foreign key break.
    }
    let database = TestDatabase::empty().await;
    assert!(run(&database.url, &["migrate", "up"]).status.success());
    let mut opt = sea_orm::ConnectOptions::new(database.url.clone());
    opt.max_connections(1);
    let db = Database::connect(opt).await.unwrap();
    db.execute_unprepared("PRAGMA foreign_keys = OFF")
        .await
        .unwrap();
    db.execute_unprepared(
        "INSERT INTO entities (entity_id, device_id, domain, disabled, created_at, updated_at) \
         VALUES ('light.orphan', 'no-such-device', 'light', 0, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
    )
    .await
    .unwrap();
    db.close().await.unwrap();

    let out = run(&database.url, &["check"]);

    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("entities"),
        "the finding names the table"
    );
}

#[tokio::test]
async fn a_backup_taken_under_write_load_is_verified_private_and_consistent() {
    let app = spawn_app().await;
    let Some(path) = app.database.path.clone() else {
        return; // SQLite only; PostgreSQL is covered by the next test.
    };
    let url = app.database.url.clone();
    // Each write inserts a pair of rows in one transaction: a consistent copy holds whole pairs.
    let db = app.db.clone();
    let writer = tokio::spawn(async move {
        for i in 0..400 {
            let txn = service::db::begin_write(&db).await.unwrap();
            for side in ["a", "b"] {
                txn.execute_unprepared(&format!(
                    "INSERT INTO gateway_config (key, value, updated_at) VALUES ('k{i}{side}', '1', CURRENT_TIMESTAMP)"
                ))
                .await
                .unwrap();
            }
            txn.commit().await.unwrap();
        }
    });
    tokio::time::sleep(Duration::from_millis(30)).await;
    let output = path.with_file_name("backup.db");

    let out = tokio::task::spawn_blocking({
        let output = output.clone();
        move || {
            run(
                &url,
                &["backup", "--output", output.to_str().unwrap(), "--json"],
            )
        }
    })
    .await
    .unwrap();
    writer.await.unwrap();

    assert!(out.status.success(), "{}", stderr(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["verified"], true);
    assert_eq!(
        std::fs::metadata(&output).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let copy = Database::connect(format!("sqlite://{}?mode=ro", output.display()))
        .await
        .unwrap();
    let check = service::operations::check_database(&copy).await.unwrap();
    assert!(check.ok(), "{:?}", check.problems);
    let rows = copy
        .query_one_raw(sea_orm::Statement::from_string(
            DbBackend::Sqlite,
            "SELECT COUNT(*) FROM gateway_config",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get_by_index::<i64>(0)
        .unwrap();
    assert_eq!(
        rows % 2,
        0,
        "the copy holds whole transactions only ({rows} rows)"
    );

    let again = run(
        &app.database.url,
        &["backup", "--output", output.to_str().unwrap()],
    );
    assert_eq!(
        again.status.code(),
        Some(1),
        "an existing file is never overwritten"
    );
}

#[tokio::test]
async fn backup_on_postgres_points_to_pg_dump() {
    if pg_admin_url().is_none() {
        return;
    }
    let database = TestDatabase::migrated().await;

    let out = run(
        &database.url,
        &["backup", "--output", "/tmp/never-written.db"],
    );

    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("pg_dump"));
}

#[tokio::test]
async fn vacuum_reports_sizes() {
    let database = TestDatabase::migrated().await;
    if database.path.is_some() {
        assert!(run(&database.url, &["migrate", "up"]).status.success());
    }

    let out = run(&database.url, &["vacuum", "--json"]);

    assert!(out.status.success(), "{}", stderr(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(report["bytes_after"].as_i64().unwrap() > 0);
}

#[tokio::test]
async fn sigterm_stops_the_server_gracefully_with_exit_0() {
    let database = TestDatabase::migrated().await;
    let (mut child, _) = crate::helpers::serve_process(
        &database,
        &[("METADECK_ADMIN_PASSWORD", "a-long-enough-password")],
        std::process::Stdio::inherit(),
    )
    .await;

    let killed = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let mut status = None;
    for _ in 0..100 {
        if let Some(s) = child.try_wait().unwrap() {
            status = Some(s);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let status = status.expect("the server stopped within 5 s");
    assert!(status.success(), "exit status {status:?}");
    let _ = database; // dropped (and, on PostgreSQL, removed) after the server is gone
}

#[tokio::test]
async fn request_logs_are_json_lines_without_secrets() {
    let database = TestDatabase::migrated().await;
    let (child, base) = crate::helpers::serve_process(
        &database,
        &[
            ("METADECK_ADMIN_PASSWORD", "the-admin-password-1"),
            ("METADECK_LOG", "info"),
            ("METADECK_LOG_FORMAT", "json"),
        ],
        std::process::Stdio::piped(),
    )
    .await;
    let client = crate::helpers::new_client();
    let token = crate::helpers::login_token(&client, &format!("{base}/login")).await;
    let res = client
        .post(format!("{base}/login"))
        .form(&[
            ("csrf_token", token.as_str()),
            ("username", "admin"),
            ("password", "the-admin-password-1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let session = res.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    client
        .get(format!("{base}/api/audit?actor=secret-in-query"))
        .send()
        .await
        .unwrap();

    std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    let logs = String::from_utf8_lossy(&out.stderr);

    let requests: Vec<Value> = logs
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["message"] == "request")
        .collect();
    let login = requests
        .iter()
        .find(|r| r["method"] == "POST" && r["route"] == "/login")
        .expect("a line for POST /login");
    assert_eq!(login["status"], 303);
    assert!(login["latency_ms"].is_number() && login["request_id"].is_string());
    assert!(requests.iter().any(|r| r["route"] == "/api/audit"));
    for secret in [
        "the-admin-password-1",
        session.split('=').nth(1).unwrap(),
        &token,
        "secret-in-query",
    ] {
        assert!(!logs.contains(secret), "the logs leak {secret}");
    }
}

#[tokio::test]
async fn a_line_logged_by_the_service_during_a_request_carries_its_request_id() {
    let database = TestDatabase::migrated().await;
    let (child, base) = crate::helpers::serve_process(
        &database,
        &[
            ("METADECK_ADMIN_PASSWORD", "the-admin-password-1"),
            // Request lines filtered out: the request's span must still reach the warning
            // level and below.
            ("METADECK_LOG", "info,metadeck::http=warn"),
            ("METADECK_LOG_FORMAT", "json"),
        ],
        std::process::Stdio::piped(),
    )
    .await;
    let client = crate::helpers::new_client();
    let token = crate::helpers::login_token(&client, &format!("{base}/login")).await;
    let res = client
        .post(format!("{base}/login"))
        .form(&[
            ("csrf_token", token.as_str()),
            ("username", "admin"),
            ("password", "a-wrong-password-7"),
        ])
        .send()
        .await
        .unwrap();
    assert_ne!(res.status(), 303, "the wrong password is refused");
    let request_id = res.headers()["x-request-id"].to_str().unwrap().to_string();

    std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    let logs = String::from_utf8_lossy(&out.stderr);

    let refusal = logs
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|v| v["message"] == "sign-in refused")
        .unwrap_or_else(|| panic!("a line for the refused sign-in in {logs}"));
    let spans = refusal["spans"]
        .as_array()
        .expect("the line lists its spans");
    let request = spans
        .iter()
        .find(|s| s["name"] == "request")
        .expect("the line is inside the request's span");
    assert_eq!(request["request_id"], request_id.as_str());
    assert_eq!(request["route"], "/login");
    assert!(spans.iter().any(|s| s["name"] == "access.login"));
    for secret in ["a-wrong-password-7", "the-admin-password-1", &token] {
        assert!(!logs.contains(secret), "the logs leak {secret}");
    }
}
