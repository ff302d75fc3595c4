//! Who may see `/system` and press its buttons, over the page and the JSON API.

use reqwest::StatusCode;
use serde_json::Value;

use super::post_system;
use crate::helpers::{TestApp, spawn_app};
use crate::oauth::{service_client, token_for};

/// A signed-in client of a new user whose one role grants `permissions`.
async fn holding(app: &TestApp, role: &str, permissions: &[&str]) -> reqwest::Client {
    let permissions: Vec<String> = permissions.iter().map(|p| p.to_string()).collect();
    let input = service::access::roles::RoleInput::parse(role, None, &permissions).unwrap();
    service::access::roles::create(
        &app.db,
        &service::access::Grantor::operator(service::audit::Actor::Cli),
        None,
        input,
    )
    .await
    .unwrap();
    app.client_with_role(role).await
}

#[tokio::test]
async fn system_is_refused_without_a_system_permission_on_every_route() {
    let app = spawn_app().await;
    let outsider = holding(&app, "registry-only", &["registry:read"]).await;

    for path in ["/system", "/api/system", "/api/system/backups"] {
        let res = outsider.get(app.url(path)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "GET {path}");
    }
    for path in ["/system/check", "/system/backup"] {
        let res = post_system(&app, &outsider, path).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "POST {path}");
    }
    let home = app.text_of(&outsider, "/").await;
    assert!(
        !home.contains("href=\"/system\""),
        "no System entry in the menu"
    );
    let backups: i64 = app.scalar("SELECT COUNT(*) FROM backups").await;
    assert_eq!(backups, 0, "nothing was backed up");
}

#[tokio::test]
async fn a_reader_sees_the_page_without_buttons_and_the_server_refuses_them_anyway() {
    let app = spawn_app().await;
    let reader = holding(&app, "system-reader", &["system:read"]).await;

    let page = reader.get(app.url("/system")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("data-testid=\"database-facts\""), "{html}");
    assert!(
        html.contains("m20261207_000002_backups"),
        "the migrations are listed"
    );
    assert!(html.contains("href=\"/system\""), "the menu has System");
    assert!(!html.contains("data-testid=\"check-now\""));
    assert!(!html.contains("data-testid=\"download-backup\""));
    assert!(!html.contains("data-testid=\"purge-now\""));
    assert_eq!(
        post_system(&app, &reader, "/system/check").await.status(),
        403
    );
    assert_eq!(
        post_system(&app, &reader, "/system/backup").await.status(),
        403
    );
    let csrf = app.csrf_token(&reader).await;
    let api = reader
        .post(app.url("/api/system/check"))
        .header("X-CSRF-Token", csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), 403);
    let checks: i64 = app
        .scalar("SELECT COUNT(*) FROM worker_runs WHERE worker = 'check'")
        .await;
    assert_eq!(checks, 0, "no check ran");
}

#[tokio::test]
async fn the_api_reports_the_database_and_checks_it_for_a_token_with_the_scope() {
    let app = spawn_app().await;
    app.login_as_admin().await;
    let reader = service_client(&app, &["system:read"]).await;
    let writer = service_client(&app, &["system:read", "system:write"]).await;
    let other = service_client(&app, &["registry:read"]).await;
    let (read, write, none) = (
        token_for(&app, &reader, None).await,
        token_for(&app, &writer, None).await,
        token_for(&app, &other, None).await,
    );
    let api = reqwest::Client::new();

    let status: Value = api
        .get(app.url("/api/system"))
        .bearer_auth(&read)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let refused = api
        .get(app.url("/api/system"))
        .bearer_auth(&none)
        .send()
        .await
        .unwrap();
    let by_reader = api
        .post(app.url("/api/system/check"))
        .bearer_auth(&read)
        .send()
        .await
        .unwrap();
    let checked = api
        .post(app.url("/api/system/check"))
        .bearer_auth(&write)
        .send()
        .await
        .unwrap();

    let backend = match app.backend() {
        sea_orm::DbBackend::Postgres => "postgres",
        _ => "sqlite",
    };
    assert_eq!(status["backend"], backend);
    assert!(status["database_bytes"].as_i64().unwrap() > 0);
    let newest = {
        use migration::MigratorTrait;
        migration::Migrator::migrations()
            .last()
            .map(|m| m.name().to_owned())
            .unwrap()
    };
    assert_eq!(status["schema_version"], newest.as_str());
    let migrations = status["migrations"].as_array().unwrap();
    assert!(
        migrations.iter().all(|m| m["applied_at"].is_string()),
        "{migrations:?}"
    );
    let tables = status["tables"].as_array().unwrap();
    assert!(tables.iter().any(|t| t["table"] == "backups"), "{tables:?}");
    if backend == "sqlite" {
        assert!(status["page_count"].as_i64().unwrap() > 0);
        assert!(status["freelist_count"].as_i64().is_some());
        assert!(status["files"]["database_bytes"].as_u64().is_some());
        let users = tables.iter().find(|t| t["table"] == "local_users").unwrap();
        assert_eq!(users["rows"], 1, "the first admin");
        assert_eq!(users["exact"], true);
    } else {
        assert!(status["page_count"].is_null());
        assert!(
            tables.iter().all(|t| t["exact"] == false),
            "estimates on PostgreSQL"
        );
    }
    assert_eq!(refused.status(), 403);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["code"], "insufficient_scope");
    assert_eq!(by_reader.status(), 403);
    assert_eq!(checked.status(), 200);
    let report: Value = checked.json().await.unwrap();
    assert_eq!(report["problems"].as_array().unwrap().len(), 0, "{report}");
    assert!(
        report["checks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == "audit_chain")
    );
    let after: Value = api
        .get(app.url("/api/system"))
        .bearer_auth(&read)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let workers = after["workers"].as_array().unwrap();
    let check = workers
        .iter()
        .find(|w| w["worker"] == "check")
        .expect("the check is recorded");
    assert_eq!(check["last_result"], "ok");
}

#[tokio::test]
async fn check_now_shows_its_result_on_the_page_after_the_redirect() {
    let app = spawn_app().await;
    app.login_as_admin().await;
    let before = app.text_of(&app.client, "/system").await;

    let res = post_system(&app, &app.client, "/system/check").await;

    assert!(before.contains("data-testid=\"check-now\""));
    assert!(before.contains("No check has been run"));
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/system");
    let after = app.text_of(&app.client, "/system").await;
    assert!(
        after.contains("The check found no problem"),
        "the flash message"
    );
    assert!(after.contains("no problem found"), "the last check");
    assert!(after.contains("data-worker=\"check\""), "among the workers");
    let again = app.text_of(&app.client, "/system").await;
    assert!(
        !again.contains("The check found no problem"),
        "the flash shows once"
    );
}
