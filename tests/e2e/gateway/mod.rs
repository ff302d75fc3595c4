//! The gateway area: MCP servers, their checks and their tool pins; identity providers and
//! AD group mappings.

mod ad_mappings;
mod config;
mod fake;
mod import;
mod mcp_hostile;
mod mcp_routes;
mod mcp_sdk;
pub(crate) mod oidc;
mod providers;
mod sso;
mod sso_metadeck;

use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app_with};

/// An app whose checks (and webhooks) may reach loopback, as the test servers listen there.
pub async fn app_reaching_loopback() -> (TestApp, String) {
    let app = spawn_app_with(|env| {
        env.insert(
            "METADECK_WEBHOOK_ALLOW_PRIVATE_NETWORKS".into(),
            "true".into(),
        );
    })
    .await;
    app.login_as_admin().await;
    let csrf = app.csrf_token(&app.client).await;
    (app, csrf)
}

/// Creates an MCP server through the API as the signed-in admin; answers its JSON.
pub async fn create_server(app: &TestApp, csrf: &str, body: Value) -> Value {
    let res = app
        .client
        .post(app.url("/api/gateway/mcp-servers"))
        .header("X-CSRF-Token", csrf)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201, "the server is created");
    res.json().await.unwrap()
}

/// Checks the server `id` through the API; answers it as recorded.
pub async fn check(app: &TestApp, csrf: &str, id: &str) -> Value {
    let res = app
        .client
        .post(app.url(&format!("/api/gateway/mcp-servers/{id}/check")))
        .header("X-CSRF-Token", csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "a check answers the server");
    res.json().await.unwrap()
}

/// The tools answer of the server `id`.
pub async fn tools(app: &TestApp, id: &str) -> Value {
    let res = app
        .get(&format!("/api/gateway/mcp-servers/{id}/tools"))
        .await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

/// A server at `url` with a name of its own.
pub fn server_at(url: &str) -> Value {
    json!({
        "name": format!("mcp-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]),
        "url": url,
    })
}
