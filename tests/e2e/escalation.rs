//! Nobody grants what they do not hold (spec 02): every grant path and every action on
//! another user, through the pages and the JSON API, for a caller who holds what it grants
//! (allowed) and one who does not (`403` naming what is missing).

use serde_json::{Value, json};
use service::access::{Grantor, PermissionSet, roles::RoleInput};
use service::audit::Actor;

use crate::helpers::{TestApp, csrf_in, new_client, spawn_app};

const PASSWORD: &str = "a-password-for-tests";

/// Creates a custom role as the operator (the CLI's standing).
async fn role(app: &TestApp, name: &str, permissions: &[&str]) -> i64 {
    let names: Vec<String> = permissions.iter().map(|p| (*p).to_owned()).collect();
    let input = RoleInput::parse(name, None, &names).unwrap();
    service::access::roles::create(&app.db, &Grantor::operator(Actor::Cli), None, input)
        .await
        .unwrap()
        .id
}

/// A user holding `role`, signed in; returns their browser, its CSRF token and the user's id.
async fn signed_in(app: &TestApp, username: &str, role: &str) -> (reqwest::Client, String, i64) {
    app.create_user(username, role, PASSWORD).await;
    let browser = new_client();
    assert_eq!(
        app.login_with(&browser, username, PASSWORD).await.status(),
        303
    );
    let csrf = app.csrf_token(&browser).await;
    let id = user_id(app, username).await;
    (browser, csrf, id)
}

async fn user_id(app: &TestApp, username: &str) -> i64 {
    app.scalar(&format!(
        "SELECT id FROM local_users WHERE username = '{username}'"
    ))
    .await
}

/// A signed-in browser of a test app, with its session's CSRF token.
#[derive(Clone, Copy)]
struct Signed<'a> {
    app: &'a TestApp,
    browser: &'a reqwest::Client,
    csrf: &'a str,
}

/// Posts a page form with the session's CSRF token; returns status and body.
async fn post_page(who: &Signed<'_>, path: &str, fields: &[(&str, &str)]) -> (u16, String) {
    let mut form = vec![("csrf_token", who.csrf)];
    form.extend_from_slice(fields);
    let res = who
        .browser
        .post(who.app.url(path))
        .form(&form)
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

/// The page a secret is shown on once, as `who` reaches it after the redirect.
async fn shown_once(who: &Signed<'_>) -> String {
    let res = who
        .browser
        .get(who.app.url("/shown-once"))
        .send()
        .await
        .unwrap();
    res.text().await.unwrap()
}

/// Sends JSON with the session cookie and CSRF header; returns status and body.
async fn send_json(
    who: &Signed<'_>,
    method: reqwest::Method,
    path: &str,
    body: Value,
) -> (u16, Value) {
    let res = who
        .browser
        .request(method, who.app.url(path))
        .header("X-CSRF-Token", who.csrf)
        .json(&body)
        .send()
        .await
        .unwrap();
    (
        res.status().as_u16(),
        res.json().await.unwrap_or(Value::Null),
    )
}

/// The permissions a `403` names as missing.
fn missing(body: &Value) -> Vec<String> {
    assert_eq!(body["error"]["code"], "forbidden", "{body}");
    body["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            d["message"]
                .as_str()
                .unwrap()
                .trim_start_matches("you do not hold ")
                .to_owned()
        })
        .collect()
}

/// A user with users:* and sessions:* alone, and a reader they may act on.
async fn user_manager_setup() -> (TestApp, reqwest::Client, String, i64) {
    let app = spawn_app().await;
    role(
        &app,
        "usermgr",
        &[
            "users:read",
            "users:write",
            "sessions:read",
            "sessions:write",
        ],
    )
    .await;
    role(&app, "reader", &["users:read"]).await;
    app.create_user("low", "reader", PASSWORD).await;
    let (browser, csrf, id) = signed_in(&app, "manager", "usermgr").await;
    (app, browser, csrf, id)
}

#[tokio::test]
async fn a_user_manager_cannot_give_themselves_or_anyone_a_role_beyond_their_own() {
    let (app, browser, csrf, me) = user_manager_setup().await;
    let who = Signed {
        app: &app,
        browser: &browser,
        csrf: &csrf,
    };
    let path = format!("/admin/users/{me}");

    let (status, page) = post_page(
        &who,
        &path,
        &[("email", ""), ("is_active", "on"), ("roles", "admin")],
    )
    .await;
    assert_eq!(status, 403, "{page}");
    assert!(
        page.contains("you do not hold") && page.contains("oauth:write"),
        "{page}"
    );
    let (status, _) = post_page(
        &who,
        &path,
        &[
            ("email", "m@example.com"),
            ("is_active", "on"),
            ("roles", "usermgr"),
        ],
    )
    .await;
    assert_eq!(
        status, 303,
        "keeping one's own roles is within what one holds"
    );

    let (status, page) = post_page(
        &who,
        "/admin/users/new",
        &[
            ("username", "eve"),
            ("email", ""),
            ("password", ""),
            ("roles", "admin"),
        ],
    )
    .await;
    assert_eq!(status, 403, "{page}");
    let (status, _) = post_page(
        &who,
        "/admin/users/new",
        &[
            ("username", "eve"),
            ("email", ""),
            ("password", ""),
            ("roles", "reader"),
        ],
    )
    .await;
    assert_eq!(status, 303, "on to the one-time password page");
    assert!(
        shown_once(&who)
            .await
            .contains("data-testid=\"generated-password\"")
    );

    let (status, body) = send_json(
        &who,
        reqwest::Method::POST,
        "/api/users",
        json!({"username": "mallory", "roles": ["admin"]}),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    let lacking = missing(&body);
    assert!(lacking.contains(&"oauth:write".to_owned()), "{lacking:?}");
    assert!(!lacking.contains(&"users:write".to_owned()), "{lacking:?}");
    let (status, body) = send_json(
        &who,
        reqwest::Method::POST,
        "/api/users",
        json!({"username": "mallory", "roles": ["reader"]}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(
        user_id(&app, "manager").await,
        me,
        "and the manager is still only a manager:"
    );
    let page = app.text_of(&browser, &path).await;
    assert!(!page.contains(">admin<"), "{page}");
}

#[tokio::test]
async fn a_user_manager_cannot_put_a_permission_they_lack_into_a_role() {
    let (app, browser, csrf, _) = user_manager_setup().await;
    let who = Signed {
        app: &app,
        browser: &browser,
        csrf: &csrf,
    };
    let own_role = role_id(&app, "usermgr").await;
    let own = format!("/admin/roles/{own_role}");

    let held = [
        ("description", "managers"),
        ("permissions", "users:read"),
        ("permissions", "users:write"),
        ("permissions", "sessions:read"),
        ("permissions", "sessions:write"),
    ];
    let mut more = held.to_vec();
    more.push(("permissions", "audit:read"));
    let (status, page) = post_page(&who, &own, &more).await;
    assert_eq!(status, 403, "{page}");
    assert!(
        page.contains("audit:read"),
        "the page names what is missing"
    );
    let (status, _) = post_page(&who, &own, &held).await;
    assert_eq!(status, 303);

    let (status, page) = post_page(
        &who,
        "/admin/roles/new",
        &[
            ("name", "superuser"),
            ("description", ""),
            ("permissions", "oauth:write"),
        ],
    )
    .await;
    assert_eq!(status, 403, "{page}");
    let (status, _) = post_page(
        &who,
        "/admin/roles/new",
        &[
            ("name", "readers2"),
            ("description", ""),
            ("permissions", "users:read"),
        ],
    )
    .await;
    assert_eq!(status, 303);

    // A role holding more than the manager can be neither changed nor deleted by them.
    let big = role(&app, "auditors", &["audit:read"]).await;
    let (status, _) = post_page(
        &who,
        &format!("/admin/roles/{big}"),
        &[("description", "trimmed")],
    )
    .await;
    assert_eq!(status, 403);
    let (status, _) = post_page(
        &who,
        &format!("/admin/roles/{big}/delete"),
        &[("confirm", "yes")],
    )
    .await;
    assert_eq!(status, 403);
}

async fn role_id(app: &TestApp, name: &str) -> i64 {
    app.scalar(&format!("SELECT id FROM rbac_roles WHERE name = '{name}'"))
        .await
}

/// The stored id of one of `username`'s sessions.
async fn a_session_of(app: &TestApp, username: &str) -> String {
    let browser = new_client();
    assert_eq!(
        app.login_with(&browser, username, PASSWORD).await.status(),
        303
    );
    let uid = user_id(app, username).await;
    app.scalar(&format!(
        "SELECT session_id FROM sessions WHERE user_id = {uid}"
    ))
    .await
}

#[tokio::test]
async fn acting_on_a_user_needs_every_permission_that_user_holds() {
    let (app, browser, csrf, _) = user_manager_setup().await;
    let who = Signed {
        app: &app,
        browser: &browser,
        csrf: &csrf,
    };
    app.create_user("boss", "admin", PASSWORD).await;
    let (boss, low) = (user_id(&app, "boss").await, user_id(&app, "low").await);
    let boss_session = a_session_of(&app, "boss").await;
    let low_session = a_session_of(&app, "low").await;

    // Lacking: reset the password, deactivate, end a session, delete.
    for (path, fields) in [
        (
            format!("/admin/users/{boss}/reset-password"),
            vec![("password", "")],
        ),
        (
            format!("/admin/users/{boss}"),
            vec![("email", ""), ("roles", "admin")],
        ),
        (
            format!("/admin/sessions/{boss_session}/revoke"),
            vec![("confirm", "yes")],
        ),
        (
            format!("/admin/users/{boss}/delete"),
            vec![("confirm", "yes")],
        ),
    ] {
        let (status, page) = post_page(&who, &path, &fields).await;
        assert_eq!(status, 403, "{path}: {page}");
        assert!(page.contains("you do not hold"), "{path}: {page}");
    }
    assert_eq!(
        app.login_with(&new_client(), "boss", PASSWORD)
            .await
            .status(),
        303,
        "the admin's password, active flag and account are untouched"
    );

    // Holding: the same four on the reader.
    let (status, _) = post_page(
        &who,
        &format!("/admin/sessions/{low_session}/revoke"),
        &[("confirm", "yes")],
    )
    .await;
    assert_eq!(status, 303);
    let (status, page) = post_page(
        &who,
        &format!("/admin/users/{low}/reset-password"),
        &[("password", "")],
    )
    .await;
    assert_eq!(status, 303, "on to the new password: {page}");
    assert!(
        shown_once(&who)
            .await
            .contains("data-testid=\"generated-password\"")
    );
    let (status, _) = post_page(
        &who,
        &format!("/admin/users/{low}"),
        &[("email", ""), ("roles", "reader"), ("confirm", "yes")],
    )
    .await;
    assert_eq!(status, 303, "deactivated");
    let (status, _) = post_page(
        &who,
        &format!("/admin/users/{low}/delete"),
        &[("confirm", "yes")],
    )
    .await;
    assert_eq!(status, 303, "deleted");
}

/// An OAuth manager: `oauth:read oauth:write` and nothing else.
async fn oauth_manager_setup() -> (TestApp, reqwest::Client, String) {
    let app = spawn_app().await;
    role(&app, "oauthmgr", &["oauth:read", "oauth:write"]).await;
    let (browser, csrf, _) = signed_in(&app, "oscar", "oauthmgr").await;
    (app, browser, csrf)
}

#[tokio::test]
async fn an_oauth_manager_cannot_allow_a_client_scopes_they_lack() {
    let (app, browser, csrf) = oauth_manager_setup().await;
    let who = Signed {
        app: &app,
        browser: &browser,
        csrf: &csrf,
    };

    let every: Vec<&str> = PermissionSet::all().names();
    let (status, body) = send_json(
        &who,
        reqwest::Method::POST,
        "/api/oauth/clients",
        json!({"name": "backdoor", "allowed_scopes": every}),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    let lacking = missing(&body);
    assert_eq!(lacking.len(), every.len() - 2, "{lacking:?}");
    assert!(lacking.contains(&"users:write".to_owned()));

    let (status, page) = post_page(
        &who,
        "/oauth/clients/new",
        &[
            ("name", "backdoor"),
            ("client_type", "confidential"),
            ("redirect_uris", ""),
            ("grant_types", "client_credentials"),
            ("allowed_scopes", "users:write"),
            ("access_token_ttl_seconds", "3600"),
            ("refresh_token_ttl_seconds", "2592000"),
            ("device_code_ttl_seconds", "600"),
            ("device_poll_interval_seconds", "5"),
        ],
    )
    .await;
    assert_eq!(status, 403, "{page}");
    assert!(page.contains("users:write"), "{page}");

    let (status, body) = send_json(
        &who,
        reqwest::Method::POST,
        "/api/oauth/clients",
        json!({"name": "auditor", "allowed_scopes": ["oauth:read"]}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let own = body["client"]["client_id"].as_str().unwrap().to_owned();
    let (status, body) = send_json(
        &who,
        reqwest::Method::PATCH,
        &format!("/api/oauth/clients/{own}"),
        json!({"allowed_scopes": ["oauth:read", "users:read"]}),
    )
    .await;
    assert_eq!(
        (status, missing(&body)),
        (403, vec!["users:read".to_owned()])
    );
    let (status, body) = send_json(
        &who,
        reqwest::Method::PATCH,
        &format!("/api/oauth/clients/{own}"),
        json!({"skip_consent": true}),
    )
    .await;
    assert_eq!(
        status, 200,
        "skip_consent on a client within what one holds: {body}"
    );
}

#[tokio::test]
async fn an_oauth_manager_cannot_take_over_a_client_allowed_more_than_they_hold() {
    let (app, browser, csrf) = oauth_manager_setup().await;
    let who = Signed {
        app: &app,
        browser: &browser,
        csrf: &csrf,
    };
    app.login_as_admin().await;
    let admins = super::oauth::register(
        &app,
        json!({
            "name": "admin tool",
            "redirect_uris": ["https://tool.example.test/callback"],
            "grant_types": ["authorization_code", "client_credentials"],
            "allowed_scopes": ["users:read", "users:write"],
        }),
    )
    .await;
    let path = format!("/api/oauth/clients/{}", admins.id);

    for change in [
        json!({"skip_consent": true}),
        json!({"redirect_uris": ["https://evil.example.test/steal"]}),
        json!({"name": "renamed"}),
    ] {
        let (status, body) = send_json(&who, reqwest::Method::PATCH, &path, change.clone()).await;
        assert_eq!(status, 403, "{change}: {body}");
        assert_eq!(missing(&body), vec!["users:read", "users:write"]);
    }
    let (status, body) = send_json(
        &who,
        reqwest::Method::POST,
        &format!("{path}/rotate-secret"),
        json!({}),
    )
    .await;
    assert_eq!(status, 403, "rotating would hand over the secret: {body}");
    let (status, body) = send_json(&who, reqwest::Method::DELETE, &path, json!({})).await;
    assert_eq!(status, 403, "{body}");
    let html = app
        .text_of(&browser, &format!("/oauth/clients/{}", admins.id))
        .await;
    let page_csrf = csrf_in(&html).unwrap();
    let (status, _) = post_page(
        &Signed {
            csrf: &page_csrf,
            ..who
        },
        &format!("/oauth/clients/{}/rotate-secret", admins.id),
        &[("confirm", "yes")],
    )
    .await;
    assert_eq!(status, 403, "the page refuses as the API does");
}

#[tokio::test]
async fn a_token_with_users_write_cannot_create_an_admin() {
    let app = spawn_app().await;
    role(&app, "reader", &["users:read"]).await;
    let spec =
        service::oauth::clients::ClientSpec::new_from(service::oauth::clients::ClientInput {
            name: Some("provisioner".into()),
            allowed_scopes: Some(vec!["users:read".into(), "users:write".into()]),
            ..Default::default()
        })
        .unwrap();
    let created =
        service::oauth::clients::create(&app.db, &Grantor::operator(Actor::Cli), None, spec)
            .await
            .unwrap();
    let client = super::oauth::Registered {
        id: created.client.client_id,
        secret: created
            .secret
            .map(|s| secrecy::ExposeSecret::expose_secret(&s).to_owned()),
    };
    let token = super::oauth::token_for(&app, &client, None).await;
    let create = |roles: Value| {
        reqwest::Client::new()
            .post(app.url("/api/users"))
            .bearer_auth(&token)
            .json(&json!({"username": format!("u{}", roles.to_string().len()), "roles": roles}))
            .send()
    };

    let res = create(json!(["admin"])).await.unwrap();
    assert_eq!(res.status(), 403);
    let body: Value = res.json().await.unwrap();
    assert!(
        missing(&body).contains(&"sessions:write".to_owned()),
        "{body}"
    );
    let res = create(json!(["reader"])).await.unwrap();
    assert_eq!(res.status(), 201, "a role within the token's scope");
}
