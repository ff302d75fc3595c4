//! R9: every abuse of the protocol is refused with the RFC's error, and replays revoke.

use serde_json::{Value, json};
use service::oauth::secrets::s256;

use super::{
    Registered, bearer_get, consent, location, param, post_form, public_app, register,
    service_client,
};
use crate::helpers::{ADMIN_PASSWORD, TestApp, new_client, spawn_app};

const VERIFIER: &str = "a-verifier-of-at-least-forty-three-characters-0123456789";
const REDIRECT: &str = "http://127.0.0.1:4567/callback";

fn authorize_url(app: &TestApp, client: &Registered, extra: &[(&str, &str)]) -> String {
    let challenge = s256(VERIFIER);
    let mut params = vec![
        ("response_type", "code"),
        ("client_id", client.id.as_str()),
        ("redirect_uri", REDIRECT),
        ("state", "st-123"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    for (k, v) in extra {
        params.retain(|(name, _)| name != k);
        if !v.is_empty() {
            params.push((k, v));
        }
    }
    format!(
        "{}?{}",
        app.url("/oauth/authorize"),
        serde_urlencoded::to_string(&params).unwrap()
    )
}

async fn signed_in(app: &TestApp) -> reqwest::Client {
    let browser = new_client();
    assert_eq!(
        app.login_with(&browser, "admin", ADMIN_PASSWORD)
            .await
            .status(),
        303
    );
    browser
}

async fn code(app: &TestApp, client: &Registered) -> String {
    let browser = signed_in(app).await;
    let back = consent(app, &browser, &authorize_url(app, client, &[]), "approve").await;
    param(&back, "code").expect("a code")
}

async fn exchange(
    app: &TestApp,
    client: &Registered,
    code: &str,
    verifier: Option<&str>,
    redirect: &str,
) -> (u16, Value) {
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", redirect),
        ("client_id", client.id.as_str()),
    ];
    if let Some(v) = verifier {
        form.push(("code_verifier", v));
    }
    post_form(app, "/oauth/token", &form).await
}

async fn setup() -> (TestApp, Registered) {
    let app = spawn_app().await;
    app.login_as_admin().await;
    let client = public_app(&app, &["users:read", "sync:read"]).await;
    (app, client)
}

#[tokio::test]
async fn a_replayed_code_is_refused_and_revokes_what_it_issued() {
    let (app, client) = setup().await;
    let code = code(&app, &client).await;
    let (status, first) = exchange(&app, &client, &code, Some(VERIFIER), REDIRECT).await;
    assert_eq!(status, 200, "{first}");
    let access = first["access_token"].as_str().unwrap();
    let refresh = first["refresh_token"].as_str().unwrap();
    assert_eq!(bearer_get(&app, "/api/users", access).await.status(), 200);

    let (status, body) = exchange(&app, &client, &code, Some(VERIFIER), REDIRECT).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    assert_eq!(
        bearer_get(&app, "/api/users", access).await.status(),
        401,
        "access token revoked"
    );
    let (status, body) = post_form(
        &app,
        "/oauth/token",
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh),
            ("client_id", &client.id),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "refresh revoked"
    );
    let log: Value = app
        .get("/api/oauth/audit?event_type=code.reuse_detected")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(log["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_wrong_or_missing_verifier_is_invalid_grant() {
    let (app, client) = setup().await;
    let code = code(&app, &client).await;
    let wrong = "x".repeat(50);
    for verifier in [None, Some(wrong.as_str()), Some("short")] {
        let (status, body) = exchange(&app, &client, &code, verifier, REDIRECT).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_grant")),
            "{verifier:?}"
        );
    }
    let (status, _) = exchange(&app, &client, &code, Some(VERIFIER), REDIRECT).await;
    assert_eq!(status, 200, "failed attempts do not consume the code");
}

#[tokio::test]
async fn plain_or_missing_challenges_are_redirected_as_invalid_request() {
    let (app, client) = setup().await;
    let browser = signed_in(&app).await;
    for extra in [
        vec![
            ("code_challenge_method", "plain"),
            ("code_challenge", VERIFIER),
        ],
        vec![("code_challenge", ""), ("code_challenge_method", "")],
    ] {
        let res = browser
            .get(authorize_url(&app, &client, &extra))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 302);
        let back = location(&res);
        assert!(back.starts_with(REDIRECT), "{back}");
        assert_eq!(param(&back, "error").as_deref(), Some("invalid_request"));
        assert_eq!(param(&back, "state").as_deref(), Some("st-123"));
    }
    let res = browser
        .get(authorize_url(&app, &client, &[("response_type", "token")]))
        .send()
        .await
        .unwrap();
    assert_eq!(
        param(&location(&res), "error").as_deref(),
        Some("unsupported_response_type")
    );
}

#[tokio::test]
async fn an_anonymous_authorize_checks_the_client_and_redirect_before_the_login_step() {
    let (app, client) = setup().await;
    let anonymous = crate::helpers::new_client();

    let evil = anonymous
        .get(authorize_url(
            &app,
            &client,
            &[("redirect_uri", "https://evil.example/callback")],
        ))
        .send()
        .await
        .unwrap();
    let unknown = anonymous
        .get(authorize_url(
            &app,
            &Registered {
                id: "mdc_unknown".into(),
                secret: None,
            },
            &[],
        ))
        .send()
        .await
        .unwrap();
    let good = anonymous
        .get(authorize_url(&app, &client, &[]))
        .send()
        .await
        .unwrap();

    assert_eq!(evil.status(), 400, "unregistered redirect_uri: error page");
    assert!(evil.headers().get("location").is_none());
    assert_eq!(unknown.status(), 400, "unknown client: error page");
    assert!(unknown.headers().get("location").is_none());
    assert_eq!(good.status(), 303, "then the login step");
    assert!(
        good.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/login?next=%2Foauth%2Fauthorize%3F"),
    );
}

#[tokio::test]
async fn redirect_tampering_is_refused_at_authorize_and_at_token() {
    let (app, client) = setup().await;
    let browser = signed_in(&app).await;
    for evil in [
        "https://evil.example/callback",
        "http://127.0.0.1:4567/other",
        "http://localhost:4567/callback",
        "http://127.0.0.1:4567/callback#frag",
    ] {
        let res = browser
            .get(authorize_url(&app, &client, &[("redirect_uri", evil)]))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 400, "{evil}: an error page, never a redirect");
        assert!(res.headers().get("location").is_none());
    }
    let res = browser
        .get(authorize_url(
            &app,
            &Registered {
                id: "mdc_unknown".into(),
                secret: None,
            },
            &[],
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400, "unknown client: error page");

    let code = code(&app, &client).await;
    let (status, body) = exchange(
        &app,
        &client,
        &code,
        Some(VERIFIER),
        "http://127.0.0.1:9999/callback",
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
}

#[tokio::test]
async fn consent_denied_returns_access_denied_with_state() {
    let (app, client) = setup().await;
    let browser = signed_in(&app).await;
    let back = consent(&app, &browser, &authorize_url(&app, &client, &[]), "deny").await;
    assert_eq!(param(&back, "error").as_deref(), Some("access_denied"));
    assert_eq!(param(&back, "state").as_deref(), Some("st-123"));
    assert!(param(&back, "code").is_none());
}

#[tokio::test]
async fn a_disabled_client_is_invalid_client_and_its_tokens_stop_at_once() {
    let app = spawn_app().await;
    app.login_as_admin().await;
    let client = service_client(&app, &["users:read"]).await;
    let token = super::token_for(&app, &client, None).await;
    assert_eq!(bearer_get(&app, "/api/users", &token).await.status(), 200);

    let csrf = app.csrf_token(&app.client).await;
    let res = app
        .client
        .patch(app.url(&format!("/api/oauth/clients/{}", client.id)))
        .header("X-CSRF-Token", &csrf)
        .json(&json!({"is_enabled": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let res = bearer_get(&app, "/api/users", &token).await;
    assert_eq!(res.status(), 401);
    assert_eq!(
        res.headers()["www-authenticate"],
        "Bearer error=\"invalid_token\""
    );
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unauthorized");

    let res = reqwest::Client::new()
        .post(app.url("/oauth/token"))
        .basic_auth(&client.id, client.secret.as_deref())
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert!(
        res.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Basic")
    );
    assert_eq!(res.headers()["cache-control"], "no-store");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "invalid_client");
}

#[tokio::test]
async fn expired_denied_and_consumed_device_codes_are_refused() {
    let (app, client) = setup().await;
    let start = |scope: &'static str| {
        let app = &app;
        let id = client.id.clone();
        async move {
            let (status, body) = post_form(
                app,
                "/oauth/device_authorization",
                &[("client_id", &id), ("scope", scope)],
            )
            .await;
            assert_eq!(status, 200, "{body}");
            body
        }
    };
    let poll = |device_code: String| {
        let app = &app;
        let id = client.id.clone();
        async move {
            post_form(
                app,
                "/oauth/token",
                &[
                    ("grant_type", "device_code"),
                    ("device_code", &device_code),
                    ("client_id", &id),
                ],
            )
            .await
        }
    };

    let expired = start("sync:read").await;
    app.exec("UPDATE oauth_device_codes SET expires_at = '2000-01-01T00:00:00+00:00'")
        .await
        .unwrap();
    let (status, body) = poll(expired["device_code"].as_str().unwrap().to_owned()).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("expired_token"))
    );

    let denied = start("sync:read").await;
    let browser = signed_in(&app).await;
    let html = browser
        .get(app.url("/device"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = crate::helpers::csrf_in(&html).unwrap();
    let res = browser
        .post(app.url("/device"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("user_code", denied["user_code"].as_str().unwrap()),
            ("decision", "deny"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let (status, body) = poll(denied["device_code"].as_str().unwrap().to_owned()).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("access_denied"))
    );

    let (status, body) = poll("not-a-device-code".into()).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
}

#[tokio::test]
async fn scopes_never_exceed_the_clients_or_the_users() {
    let app = spawn_app().await;
    app.login_as_admin().await;
    let client = register(
        &app,
        json!({"name": "wide", "is_confidential": false, "redirect_uris": ["http://127.0.0.1/callback"],
               "allowed_scopes": ["users:read", "users:write", "sync:read"]}),
    )
    .await;
    // A viewer holds no users:write: a token for them cannot carry it.
    let viewer = app.client_with_role("viewer").await;
    let url = authorize_url(
        &app,
        &client,
        &[("scope", "users:write sync:read audit:read")],
    );
    let back = consent(&app, &viewer, &url, "approve").await;
    let code = param(&back, "code").expect("a code");
    let (status, body) = exchange(&app, &client, &code, Some(VERIFIER), REDIRECT).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["scope"], "sync:read",
        "audit:read is not the client's; users:write not the viewer's"
    );

    let res = viewer
        .get(authorize_url(&app, &client, &[("scope", "users:write")]))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 302);
    assert_eq!(
        param(&location(&res), "error").as_deref(),
        Some("invalid_scope")
    );

    // A service client cannot ask beyond its allowed scopes.
    let svc = service_client(&app, &["sync:read"]).await;
    let (status, body) = post_form(
        &app,
        "/oauth/token",
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &svc.id),
            ("client_secret", svc.secret.as_deref().unwrap()),
            ("scope", "sync:read sync:write"),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_scope"))
    );
    let (status, body) = post_form(
        &app,
        "/oauth/token",
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &client.id),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("unauthorized_client")),
        "public clients get no client token"
    );
    let (status, body) = post_form(
        &app,
        "/oauth/token",
        &[
            ("grant_type", "password"),
            ("client_id", &svc.id),
            ("client_secret", svc.secret.as_deref().unwrap()),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("unsupported_grant_type"))
    );
    let (status, body) = post_form(
        &app,
        "/oauth/token",
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &svc.id),
            ("client_secret", "wrong"),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );
}
