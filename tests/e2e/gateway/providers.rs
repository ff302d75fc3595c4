//! Upstream identity providers: pages and API, the write-only secret (never shown, kept on a
//! save without one, sealed at rest), permissions, escaping, and the "test" action against a
//! discovery server started on loopback.

use reqwest::Method;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::app_reaching_loopback;
use crate::helpers::{TestApp, spawn_app};

const SECRET: &str = "very-secret-client-value-42";
const HOSTILE: &str = "<script>alert('x')</script>' OR '1'='1'; DROP TABLE oauth_providers;--";

fn provider(base: &str, name: &str) -> Value {
    json!({
        "name": name,
        "display_name": "Corp SSO",
        "client_id": "metadeck",
        "client_secret": SECRET,
        "authorize_url": format!("{base}/oauth/authorize"),
        "token_url": format!("{base}/oauth/token"),
        "userinfo_url": format!("{base}/oauth/userinfo"),
        "scopes": ["openid", "email"],
        "groups_claim": "realm_access.roles",
    })
}

async fn send(
    app: &TestApp,
    csrf: &str,
    method: Method,
    path: &str,
    body: &Value,
) -> reqwest::Response {
    app.client
        .request(method, app.url(path))
        .header("X-CSRF-Token", csrf)
        .json(body)
        .send()
        .await
        .unwrap()
}

/// A provider on loopback answering its discovery document at the origin; `token` is what
/// the document names as token endpoint.
async fn discovery_server(token_path: &'static str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let issuer = base.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let issuer = issuer.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                let n = stream.read(&mut buf).await.unwrap_or(0);
                let head = String::from_utf8_lossy(&buf[..n]).to_string();
                let path = head.split_whitespace().nth(1).unwrap_or("/").to_string();
                let (status, body) = if path == "/.well-known/openid-configuration" {
                    let doc = json!({
                        "issuer": issuer,
                        "authorization_endpoint": format!("{issuer}/oauth/authorize"),
                        "token_endpoint": format!("{issuer}{token_path}"),
                        "userinfo_endpoint": format!("{issuer}/oauth/userinfo"),
                    });
                    ("200 OK", doc.to_string())
                } else {
                    ("404 Not Found", String::new())
                };
                let answer = format!(
                    "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(answer.as_bytes()).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    base
}

#[tokio::test]
async fn the_secret_is_write_only_kept_without_a_new_one_and_sealed_at_rest() {
    let (app, csrf) = app_reaching_loopback().await;
    let created = send(
        &app,
        &csrf,
        Method::POST,
        "/api/gateway/providers",
        &provider("https://127.0.0.1:9", "corp"),
    )
    .await;
    assert_eq!(created.status(), 201);
    let text = created.text().await.unwrap();
    assert!(!text.contains(SECRET), "the secret is never returned");
    let created: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(created["has_client_secret"], true);
    assert_eq!(created["scopes"], json!(["openid", "email"]));
    assert_eq!(created["groups_claim"], "realm_access.roles");
    let id = created["id"].as_str().unwrap().to_string();

    let stored = app
        .scalar::<String>("SELECT client_secret FROM oauth_providers")
        .await;
    assert!(!stored.contains(SECRET), "the secret is sealed at rest");

    let mut changed = provider("https://127.0.0.1:9", "corp");
    changed.as_object_mut().unwrap().remove("client_secret");
    changed["display_name"] = json!("Corp single sign-on");
    let put = send(
        &app,
        &csrf,
        Method::PUT,
        &format!("/api/gateway/providers/{id}"),
        &changed,
    )
    .await;
    assert_eq!(put.status(), 200);
    assert_eq!(
        app.scalar::<String>("SELECT client_secret FROM oauth_providers")
            .await,
        stored,
        "a save without a secret keeps the stored one"
    );
    let p = service::gateway::providers::get_by_name(&app.db, "corp")
        .await
        .unwrap();
    let config = service::gateway::GatewayConfig::new(
        crate::helpers::TEST_SECRET_KEY.as_bytes(),
        true,
        std::time::Duration::from_secs(300),
    )
    .unwrap();
    use secrecy::ExposeSecret;
    assert_eq!(
        p.client_secret(&config).unwrap().unwrap().expose_secret(),
        SECRET
    );
    assert!(!format!("{p:?}").contains(SECRET));

    for path in [
        "/api/gateway/providers".to_string(),
        format!("/api/gateway/providers/{id}"),
        "/gateway/providers".into(),
        format!("/gateway/providers/{id}"),
    ] {
        let body = app.text_of(&app.client, &path).await;
        assert!(!body.contains(SECRET), "{path} never shows the secret");
    }
    let audit: String = app
        .scalar("SELECT CAST(details AS TEXT) FROM audit WHERE action = 'provider.updated'")
        .await;
    assert!(!audit.contains(SECRET) && audit.contains("Corp single sign-on"));

    // The edit form kept the secret when left empty, too.
    let form = app
        .client
        .post(app.url(&format!("/gateway/providers/{id}")))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("name", "corp"),
            ("display_name", "Corp"),
            ("client_id", "metadeck"),
            ("client_secret", ""),
            ("authorize_url", "https://127.0.0.1:9/a"),
            ("token_url", "https://127.0.0.1:9/t"),
            ("userinfo_url", "https://127.0.0.1:9/u"),
            ("scopes", "openid groups"),
            ("groups_claim", ""),
            ("enabled", "true"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), 303);
    assert_eq!(
        app.scalar::<String>("SELECT client_secret FROM oauth_providers")
            .await,
        stored
    );
    let after: Value = app
        .get(&format!("/api/gateway/providers/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(after["scopes"], json!(["openid", "groups"]));
    assert_eq!(after["groups_claim"], "groups");

    let deleted = send(
        &app,
        &csrf,
        Method::DELETE,
        &format!("/api/gateway/providers/{id}"),
        &json!({}),
    )
    .await;
    assert_eq!(deleted.status(), 204);
    assert_eq!(
        app.scalar::<i64>("SELECT COUNT(*) FROM audit WHERE action LIKE 'provider.%'")
            .await,
        4
    );
}

#[tokio::test]
async fn bad_fields_duplicates_and_private_addresses_are_refused() {
    let app = spawn_app().await;
    app.login_as_admin().await;
    let csrf = app.csrf_token(&app.client).await;
    let private = send(
        &app,
        &csrf,
        Method::POST,
        "/api/gateway/providers",
        &provider("http://127.0.0.1:9", "corp"),
    )
    .await;
    assert_eq!(
        private.status(),
        422,
        "loopback is refused without the setting"
    );
    let good = provider("https://93.184.216.34", "corp");
    assert_eq!(
        send(&app, &csrf, Method::POST, "/api/gateway/providers", &good)
            .await
            .status(),
        201
    );
    assert_eq!(
        send(&app, &csrf, Method::POST, "/api/gateway/providers", &good)
            .await
            .status(),
        409
    );
    let mut bad = provider("https://93.184.216.34", "Not A Slug");
    bad["token_url"] = json!("ftp://x");
    bad["scopes"] = json!(["a\"b"]);
    let refused = send(&app, &csrf, Method::POST, "/api/gateway/providers", &bad).await;
    assert_eq!(refused.status(), 422);
    let body = refused.text().await.unwrap();
    for field in ["name", "token_url", "scopes"] {
        assert!(body.contains(&format!("\"{field}\"")), "{field} in {body}");
    }

    // Hostile text is escaped on the pages.
    let mut hostile = provider("https://93.184.216.34", "hostile");
    hostile["display_name"] = json!(HOSTILE);
    hostile["client_id"] = json!(HOSTILE);
    let made: Value = send(
        &app,
        &csrf,
        Method::POST,
        "/api/gateway/providers",
        &hostile,
    )
    .await
    .json()
    .await
    .unwrap();
    for path in [
        "/gateway/providers".to_string(),
        format!("/gateway/providers/{}", made["id"].as_str().unwrap()),
    ] {
        let page = app.text_of(&app.client, &path).await;
        assert!(!page.contains("<script>alert"), "{path} escapes");
    }
    assert_eq!(
        app.scalar::<i64>("SELECT COUNT(*) FROM oauth_providers")
            .await,
        2
    );
}

#[tokio::test]
async fn readers_see_providers_and_only_writers_change_or_test_them() {
    let app = spawn_app().await;
    app.login_as_admin().await;
    let csrf = app.csrf_token(&app.client).await;
    let made: Value = send(
        &app,
        &csrf,
        Method::POST,
        "/api/gateway/providers",
        &provider("https://93.184.216.34", "corp"),
    )
    .await
    .json()
    .await
    .unwrap();
    let id = made["id"].as_str().unwrap();
    let operator = app.client_with_role("operator").await;
    let op_csrf = app.csrf_token(&operator).await;
    assert_eq!(
        operator
            .get(app.url("/api/gateway/providers"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let page = app
        .text_of(&operator, &format!("/gateway/providers/{id}"))
        .await;
    assert!(
        page.contains("corp")
            && !page.contains("data-testid=\"provider-test\"")
            && !page.contains("Delete identity provider")
    );
    for (method, path) in [
        (Method::POST, "/api/gateway/providers".to_string()),
        (Method::PUT, format!("/api/gateway/providers/{id}")),
        (Method::DELETE, format!("/api/gateway/providers/{id}")),
        (Method::POST, format!("/api/gateway/providers/{id}/test")),
    ] {
        let res = operator
            .request(method, app.url(&path))
            .header("X-CSRF-Token", &op_csrf)
            .json(&provider("https://93.184.216.34", "other"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403, "{path}");
    }
    for path in [
        format!("/gateway/providers/{id}/test"),
        format!("/gateway/providers/{id}/delete"),
        "/gateway/providers/new".into(),
    ] {
        let res = operator
            .post(app.url(&path))
            .form(&[("csrf_token", op_csrf.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403, "{path}");
    }
    assert_eq!(
        app.scalar::<i64>("SELECT COUNT(*) FROM oauth_providers")
            .await,
        1
    );
}

#[tokio::test]
async fn the_test_action_compares_urls_with_the_discovery_document() {
    let (app, csrf) = app_reaching_loopback().await;
    let base = discovery_server("/oauth/token").await;
    let made: Value = send(
        &app,
        &csrf,
        Method::POST,
        "/api/gateway/providers",
        &provider(&base, "good"),
    )
    .await
    .json()
    .await
    .unwrap();
    let res = send(
        &app,
        &csrf,
        Method::POST,
        &format!(
            "/api/gateway/providers/{}/test",
            made["id"].as_str().unwrap()
        ),
        &json!({}),
    )
    .await;
    assert_eq!(res.status(), 200);
    let found: Value = res.json().await.unwrap();
    assert_eq!(found["method"], "discovery");
    assert_eq!(found["ok"], true, "{found}");
    assert_eq!(found["issuer"], json!(base));

    let drifted = discovery_server("/other/token").await;
    let made: Value = send(
        &app,
        &csrf,
        Method::POST,
        "/api/gateway/providers",
        &provider(&drifted, "drifted"),
    )
    .await
    .json()
    .await
    .unwrap();
    let id = made["id"].as_str().unwrap();
    let found: Value = send(
        &app,
        &csrf,
        Method::POST,
        &format!("/api/gateway/providers/{id}/test"),
        &json!({}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(found["ok"], false);
    let token = found["urls"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["field"] == "token_url")
        .unwrap();
    assert_eq!(token["ok"], false, "the differing endpoint is named");

    // The page shows what the test found.
    let page = app
        .client
        .post(app.url(&format!("/gateway/providers/{id}/test")))
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert!(
        page.contains("data-testid=\"provider-test-result\"") && page.contains("problems found")
    );

    // URLs on different origins are each asked whether they answer.
    let mut split = provider(&base, "split");
    split["userinfo_url"] = json!(format!("{drifted}/oauth/userinfo"));
    let made: Value = send(&app, &csrf, Method::POST, "/api/gateway/providers", &split)
        .await
        .json()
        .await
        .unwrap();
    let found: Value = send(
        &app,
        &csrf,
        Method::POST,
        &format!(
            "/api/gateway/providers/{}/test",
            made["id"].as_str().unwrap()
        ),
        &json!({}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(found["method"], "reachability");
    assert_eq!(
        found["ok"], true,
        "each URL answered (404 is an answer): {found}"
    );
}

#[tokio::test]
async fn providers_are_made_through_the_pages() {
    let app = spawn_app().await;
    app.login_as_admin().await;
    let csrf = app.csrf_token(&app.client).await;
    let empty = app.text_of(&app.client, "/gateway/providers").await;
    assert!(empty.contains("New identity provider"));
    let refused = app
        .client
        .post(app.url("/gateway/providers/new"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("name", "corp"),
            ("authorize_url", "nope"),
            ("client_secret", SECRET),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 422);
    let page = refused.text().await.unwrap();
    assert!(page.contains("data-field-error=\"authorize_url\"") && page.contains("value=\"corp\""));
    assert!(
        !page.contains(SECRET),
        "a refused form does not echo the secret"
    );
    let created = app
        .client
        .post(app.url("/gateway/providers/new"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("name", "corp"),
            ("display_name", "Corp"),
            ("client_id", "metadeck"),
            ("client_secret", SECRET),
            ("authorize_url", "https://93.184.216.34/a"),
            ("token_url", "https://93.184.216.34/t"),
            ("userinfo_url", "https://93.184.216.34/u"),
            ("scopes", "openid email"),
            ("groups_claim", "groups"),
            ("enabled", "true"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 303);
    let location = created.headers()["location"].to_str().unwrap().to_string();
    let page = app.text_of(&app.client, &location).await;
    assert!(page.contains("data-testid=\"provider-secret\"") && !page.contains(SECRET));
    let asked = app
        .client
        .post(app.url(&format!("{location}/delete")))
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(asked.status(), 200, "deleting asks first");
    let done = app
        .client
        .post(app.url(&format!("{location}/delete")))
        .form(&[("csrf_token", csrf.as_str()), ("confirm", "yes")])
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), 303);
    assert_eq!(
        app.scalar::<i64>("SELECT COUNT(*) FROM oauth_providers")
            .await,
        0
    );
}
