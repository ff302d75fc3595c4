//! Client administration: the JSON API, the pages, the CLI, revocation and introspection.

use serde_json::{Value, json};

use super::{bearer_get, post_form, service_client, token_for};
use crate::helpers::{TestApp, csrf_in, metadeck_bin, spawn_app};

async fn api(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let csrf = app.csrf_token(&app.client).await;
    let mut req = app
        .client
        .request(method, app.url(path))
        .header("X-CSRF-Token", csrf);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn the_api_validates_shows_masks_rotates_and_deletes_with_cascade() {
    let app = spawn_app().await;
    app.login_as_admin().await;

    let (status, body) = api(
        &app,
        reqwest::Method::POST,
        "/api/oauth/clients",
        Some(json!({"name": "bad", "redirect_uris": ["http://example.com/cb", "https://x.example/cb#f"],
                    "grant_types": ["password"], "allowed_scopes": ["root:all"]})),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    let fields: Vec<&str> = body["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].as_str().unwrap())
        .collect();
    for f in ["redirect_uris", "grant_types", "allowed_scopes"] {
        assert!(fields.contains(&f), "{f} in {fields:?}");
    }
    let (status, _) = api(
        &app,
        reqwest::Method::POST,
        "/api/oauth/clients",
        Some(json!({"name": "x", "secret": "mine"})),
    )
    .await;
    assert_eq!(status, 422, "unknown fields are refused");

    let client = service_client(&app, &["users:read"]).await;
    let secret = client.secret.clone().unwrap();
    assert!(secret.len() >= 43);
    let (status, shown) = api(
        &app,
        reqwest::Method::GET,
        &format!("/api/oauth/clients/{}", client.id),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        shown["grant_types"],
        json!(["client_credentials"]),
        "confidential default"
    );
    assert!(
        !shown.to_string().contains(&secret),
        "reads never show the secret"
    );

    let token = token_for(&app, &client, None).await;
    let (_, tokens) = api(
        &app,
        reqwest::Method::GET,
        &format!("/api/oauth/clients/{}/tokens", client.id),
        None,
    )
    .await;
    assert_eq!(tokens["items"].as_array().unwrap().len(), 1);
    assert!(!tokens.to_string().contains(&token));

    let (status, rotated) = api(
        &app,
        reqwest::Method::POST,
        &format!("/api/oauth/clients/{}/rotate-secret", client.id),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let new_secret = rotated["client_secret"].as_str().unwrap();
    assert_ne!(new_secret, secret);
    let (status, _) = post_form(
        &app,
        "/oauth/token",
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &client.id),
            ("client_secret", &secret),
        ],
    )
    .await;
    assert_eq!(status, 401, "the old secret stops at once");
    let (status, _) = post_form(
        &app,
        "/oauth/token",
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &client.id),
            ("client_secret", new_secret),
        ],
    )
    .await;
    assert_eq!(status, 200);

    let id = tokens["items"][0]["id"].as_str().unwrap().to_owned();
    let (status, _) = api(
        &app,
        reqwest::Method::DELETE,
        &format!("/api/oauth/tokens/{id}"),
        None,
    )
    .await;
    assert_eq!(status, 204);
    assert_eq!(
        bearer_get(&app, "/api/users", &token).await.status(),
        401,
        "revoked by id"
    );

    let (status, _) = api(
        &app,
        reqwest::Method::DELETE,
        &format!("/api/oauth/clients/{}", client.id),
        None,
    )
    .await;
    assert_eq!(status, 204);
    let (status, _) = api(
        &app,
        reqwest::Method::GET,
        &format!("/api/oauth/clients/{}", client.id),
        None,
    )
    .await;
    assert_eq!(status, 404);
    let left: Vec<(i64,)> = {
        use sea_orm::{ConnectionTrait, Statement};
        let rows = app
            .db
            .query_all_raw(Statement::from_string(
                app.backend(),
                "SELECT COUNT(*) AS n FROM oauth_access_tokens",
            ))
            .await
            .unwrap();
        rows.iter()
            .map(|r| (r.try_get::<i64>("", "n").unwrap(),))
            .collect()
    };
    assert_eq!(left, vec![(0,)], "tokens go with their client");

    let (_, log) = api(&app, reqwest::Method::GET, "/api/oauth/audit", None).await;
    let events: Vec<&str> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event_type"].as_str().unwrap())
        .collect();
    for e in [
        "client.created",
        "token.issued",
        "client.secret_rotated",
        "token.revoked",
        "client.deleted",
    ] {
        assert!(events.contains(&e), "{e} in {events:?}");
    }
}

#[tokio::test]
async fn introspection_and_revocation_follow_the_rfcs() {
    let app = spawn_app().await;
    app.login_as_admin().await;
    let svc = service_client(&app, &["users:read"]).await;
    let inspector = service_client(&app, &["oauth:read"]).await;
    let token = token_for(&app, &svc, None).await;

    let res = reqwest::Client::new()
        .post(app.url("/oauth/introspect"))
        .form(&[("token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401, "no credentials");
    let res = reqwest::Client::new()
        .post(app.url("/oauth/introspect"))
        .basic_auth(&svc.id, svc.secret.as_deref())
        .form(&[("token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403, "credentials without oauth:read");

    let introspect = |t: String| {
        let app = &app;
        let inspector = &inspector;
        async move {
            reqwest::Client::new()
                .post(app.url("/oauth/introspect"))
                .basic_auth(&inspector.id, inspector.secret.as_deref())
                .form(&[("token", t.as_str())])
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    let info = introspect(token.clone()).await;
    assert_eq!(info["active"], true);
    assert_eq!(info["scope"], "users:read");
    assert_eq!(info["client_id"], svc.id.as_str());
    assert_eq!(info["sub"], svc.id.as_str());
    assert_eq!(info["token_type"], "Bearer");
    assert!(info["exp"].as_i64().unwrap() > info["iat"].as_i64().unwrap());
    assert_eq!(
        introspect("nonsense".into()).await,
        json!({"active": false})
    );

    let (status, _) = post_form(
        &app,
        "/oauth/revoke",
        &[
            ("token", "unknown"),
            ("client_id", &svc.id),
            ("client_secret", svc.secret.as_deref().unwrap()),
        ],
    )
    .await;
    assert_eq!(status, 200, "unknown tokens revoke fine");
    let (status, _) = post_form(
        &app,
        "/oauth/revoke",
        &[
            ("token", &token),
            ("client_id", &svc.id),
            ("client_secret", svc.secret.as_deref().unwrap()),
        ],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(introspect(token.clone()).await, json!({"active": false}));
    assert_eq!(bearer_get(&app, "/api/users", &token).await.status(), 401);
}

#[tokio::test]
async fn an_admin_registers_edits_disables_and_deletes_a_client_in_the_console() {
    let app = spawn_app().await;
    app.login_as_admin().await;
    let html = app.get("/oauth/clients/new").await.text().await.unwrap();
    let csrf = csrf_in(&html).unwrap();

    let res = app
        .client
        .post(app.url("/oauth/clients/new"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("name", "Console <b>client</b>"),
            ("client_type", "confidential"),
            ("redirect_uris", "ftp://nope"),
            ("allowed_scopes", "users:read"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422, "a bad redirect URI is shown on the form");
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("data-field-error=\"redirect_uris\"")
    );

    let res = app
        .client
        .post(app.url("/oauth/clients/new"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("name", "Console <b>client</b>"),
            ("client_type", "confidential"),
            ("redirect_uris", ""),
            ("allowed_scopes", "users:read"),
            ("access_token_ttl_seconds", "600"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303, "a create ends in a redirect");
    assert_eq!(res.headers()["location"], "/shown-once");
    let page = app.get("/shown-once").await.text().await.unwrap();
    assert!(page.contains("never shown again"));
    assert!(!page.contains("<b>client</b>"), "names are escaped");
    let secret = shown_secret(&page);
    let again = app.get("/shown-once").await.text().await.unwrap();
    assert!(
        again.contains("can no longer be shown") && !again.contains(&secret),
        "a refresh shows the secret no more"
    );
    let (_, list) = {
        let r = app.get("/api/oauth/clients").await;
        (r.status(), r.json::<Value>().await.unwrap())
    };
    let id = list["items"][0]["client_id"].as_str().unwrap().to_owned();
    assert_eq!(list["items"][0]["access_token_ttl_seconds"], 600);
    let (status, body) = post_form(
        &app,
        "/oauth/token",
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &id),
            ("client_secret", &secret),
        ],
    )
    .await;
    assert_eq!(status, 200, "the shown secret works: {body}");
    assert_eq!(body["expires_in"], 600);

    let detail = app
        .get(&format!("/oauth/clients/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(!detail.contains(&secret), "the secret is never shown again");
    assert!(detail.contains("Live tokens") && detail.contains("users:read"));
    let listing = app.get("/oauth/clients").await.text().await.unwrap();
    assert!(listing.contains(&id));

    let client_credentials = |secret: String| {
        let (app, id) = (&app, id.clone());
        async move {
            post_form(
                app,
                "/oauth/token",
                &[
                    ("grant_type", "client_credentials"),
                    ("client_id", &id),
                    ("client_secret", &secret),
                ],
            )
            .await
            .0
        }
    };
    let post = |action: &'static str, confirm: bool| {
        let (app, id, csrf) = (&app, id.clone(), csrf.clone());
        async move {
            let mut form = vec![("csrf_token", csrf.as_str())];
            if confirm {
                form.push(("confirm", "yes"));
            }
            app.client
                .post(app.url(&format!("/oauth/clients/{id}/{action}")))
                .form(&form)
                .send()
                .await
                .unwrap()
        }
    };

    // Rotating asks first: one click changes nothing.
    let asked = post("rotate-secret", false).await;
    assert_eq!(asked.status(), 200);
    let question = asked.text().await.unwrap();
    assert!(question.contains("stops the current secret at once"));
    assert!(question.contains("1 live token issued with the current secret"));
    assert_eq!(
        client_credentials(secret.clone()).await,
        200,
        "not rotated yet"
    );
    let rotated = post("rotate-secret", true).await;
    assert_eq!(rotated.status(), 303);
    assert_eq!(rotated.headers()["location"], "/shown-once");
    let new_secret = shown_secret(&app.get("/shown-once").await.text().await.unwrap());
    assert_ne!(new_secret, secret);
    assert_eq!(
        client_credentials(secret.clone()).await,
        401,
        "the old one stopped"
    );
    let secret = new_secret;
    assert_eq!(client_credentials(secret.clone()).await, 200);

    // Disabling asks first too.
    let asked = post("disable", false).await;
    assert_eq!(asked.status(), 200);
    assert!(
        asked
            .text()
            .await
            .unwrap()
            .contains("live tokens stop working now")
    );
    assert_eq!(
        client_credentials(secret.clone()).await,
        200,
        "not disabled yet"
    );
    assert_eq!(post("disable", true).await.status(), 303);
    assert_eq!(
        client_credentials(secret.clone()).await,
        401,
        "disabled in the console"
    );

    let asked = post("delete", false).await;
    assert_eq!(asked.status(), 200, "deleting asks first");
    assert!(
        asked
            .text()
            .await
            .unwrap()
            .contains(r#"data-testid="confirmation""#)
    );
    assert_eq!(app.get(&format!("/oauth/clients/{id}")).await.status(), 200);
    assert_eq!(post("delete", true).await.status(), 303);
    assert_eq!(app.get(&format!("/oauth/clients/{id}")).await.status(), 404);

    for path in [
        "/oauth/device-codes",
        "/oauth/audit?event_type=client.deleted",
        "/device",
    ] {
        assert_eq!(app.get(path).await.status(), 200, "{path}");
    }
    let log = app
        .get("/oauth/audit?event_type=client.created")
        .await
        .text()
        .await
        .unwrap();
    assert!(log.contains("client.created") && !log.contains("client.deleted</td>"));
}

#[tokio::test]
async fn the_cli_creates_a_client_whose_secret_gets_a_token() {
    let app = spawn_app().await;
    let out = metadeck_bin()
        .env("DATABASE_URL", &app.database.url)
        .env("METADECK_SECRET_KEY", crate::helpers::TEST_SECRET_KEY)
        .args([
            "client",
            "create",
            "--name",
            "orchestrator",
            "--scopes",
            "sync:read sync:write",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
    let id = printed["client_id"].as_str().unwrap();
    let secret = printed["client_secret"].as_str().unwrap();
    let res = reqwest::Client::new()
        .post(app.url("/oauth/token"))
        .basic_auth(id, Some(secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["scope"], "sync:read sync:write");

    let out = metadeck_bin()
        .env("DATABASE_URL", &app.database.url)
        .args(["client", "create", "--name", "bad", "--scopes", "nope:nope"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("allowed_scopes"));

    app.login_as_admin().await;
    let log: Value = app
        .get("/api/oauth/audit?event_type=client.created")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(log["items"][0]["created_by"], "cli");
}

/// A token just used (and so remembered as valid for a moment) stops at once when the
/// console revokes every token of its client, and when the client is deleted.
#[tokio::test]
async fn revoking_all_tokens_or_deleting_the_client_stops_a_token_in_use_at_once() {
    let app = spawn_app().await;
    app.login_as_admin().await;
    let client = service_client(&app, &["users:read"]).await;
    let csrf = app.csrf_token(&app.client).await;
    let actions = [
        ("tokens/revoke", "revoked with all of its client's tokens"),
        ("delete", "gone with its client"),
    ];
    for (action, why) in actions {
        let token = token_for(&app, &client, None).await;
        assert_eq!(bearer_get(&app, "/api/users", &token).await.status(), 200);
        let asked = app
            .client
            .post(app.url(&format!("/oauth/clients/{}/{action}", client.id)))
            .form(&[("csrf_token", csrf.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(asked.status(), 200, "{action} asks first");
        assert_eq!(
            bearer_get(&app, "/api/users", &token).await.status(),
            200,
            "{action} changed nothing yet"
        );
        let form = [("csrf_token", csrf.as_str()), ("confirm", "yes")];
        let res = app
            .client
            .post(app.url(&format!("/oauth/clients/{}/{action}", client.id)))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303, "{action}");
        assert_eq!(
            bearer_get(&app, "/api/users", &token).await.status(),
            401,
            "{why}"
        );
    }
}

/// The secret a shown-once page shows.
fn shown_secret(page: &str) -> String {
    page.split("data-testid=\"generated-password\">")
        .nth(1)
        .expect("the page shows a secret")
        .split('<')
        .next()
        .unwrap()
        .to_owned()
}
