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
