use serde_json::Value;

use crate::helpers::spawn_app;

#[tokio::test]
async fn healthz_reports_an_ok_database_and_its_schema_version() {
    let app = spawn_app().await;

    let res = app.get("/healthz").await;

    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(body["database"]["ok"], true);
    assert_eq!(body["database"]["pending_migrations"], 0);
    assert!(
        body["database"]["schema_version"]
            .as_str()
            .unwrap()
            .starts_with("m2026")
    );
    match app.backend() {
        sea_orm::DbBackend::Sqlite => {
            assert_eq!(body["database"]["backend"], "sqlite");
            assert_eq!(body["database"]["journal_mode"], "wal");
        }
        _ => {
            assert_eq!(body["database"]["backend"], "postgres");
            assert!(body["database"].get("journal_mode").is_none());
        }
    }
}

#[tokio::test]
async fn healthz_is_503_when_the_database_is_gone() {
    let app = spawn_app().await;

    app.db.clone().close().await.unwrap();
    let res = app.get("/healthz").await;

    assert_eq!(res.status(), 503);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], "unavailable");
    assert_eq!(body["database"]["ok"], false);
}

#[tokio::test]
async fn the_openapi_document_is_3_1_and_describes_the_error_shape() {
    let app = spawn_app().await;

    let res = app.get("/api/openapi.json").await;

    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/json");
    let doc: Value = res.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    assert!(doc["paths"]["/healthz"]["get"].is_object());
    let error = &doc["components"]["schemas"]["ErrorBody"];
    assert!(error["properties"]["error"].is_object(), "{error}");
}

#[tokio::test]
async fn full_health_details_are_for_system_readers_only() {
    let app = spawn_app().await;

    let anonymous: Value = app.get("/healthz?full=1").await.json().await.unwrap();
    let viewer = app.client_with_role("viewer").await;
    let as_viewer: Value = viewer
        .get(app.url("/healthz?full=1"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    app.login_as_admin().await;
    let as_admin: Value = app.get("/healthz?full=1").await.json().await.unwrap();

    assert!(anonymous.get("details").is_none());
    assert!(
        as_viewer.get("details").is_some(),
        "viewers hold system:read"
    );
    let details = &as_admin["details"];
    assert_eq!(details["tables"]["local_users"], 2);
    assert!(details["workers"].is_array());
    if app.backend() == sea_orm::DbBackend::Sqlite {
        assert!(details["files"]["database_bytes"].as_u64().unwrap() > 0);
    } else {
        assert!(details["files"].is_null());
    }
}
