//! A token is worth at each use what its client is allowed *now* (spec 06), and a client
//! registered by a user never hands out more than that user holds now (spec 02).

use oauth2::PkceCodeChallenge;
use serde_json::{Value, json};

use super::{
    Registered, bearer_get, consent, param, post_form, public_app, register, service_client,
};
use crate::helpers::{TestApp, metadeck_bin, new_client, spawn_app};

const CALLBACK: &str = "http://127.0.0.1/callback";

/// The access and refresh token of the signed-in admin for `client`, through the
/// authorization code flow with PKCE.
async fn user_tokens(app: &TestApp, client: &Registered, scope: &str) -> (String, String) {
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut url = url::Url::parse(&app.url("/oauth/authorize")).unwrap();
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", &client.id)
        .append_pair("redirect_uri", CALLBACK)
        .append_pair("scope", scope)
        .append_pair("state", "narrowing")
        .append_pair("code_challenge", challenge.as_str())
        .append_pair("code_challenge_method", "S256");
    let back = consent(app, &app.client, url.as_str(), "approve").await;
    let code = param(&back, "code").expect("a code");
    let (status, body) = post_form(
        app,
        "/oauth/token",
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", CALLBACK),
            ("client_id", &client.id),
            ("code_verifier", verifier.secret()),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    (
        body["access_token"].as_str().unwrap().to_owned(),
        body["refresh_token"].as_str().unwrap().to_owned(),
    )
}

/// What `inspector` (a client allowed `oauth:read`) learns of `token`.
async fn introspect(app: &TestApp, inspector: &Registered, token: &str) -> Value {
    reqwest::Client::new()
        .post(app.url("/oauth/introspect"))
        .basic_auth(&inspector.id, inspector.secret.as_deref())
        .form(&[("token", token)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Sets a client's allowed scopes through the JSON API, as the signed-in admin.
async fn allow(app: &TestApp, client: &Registered, scopes: &[&str]) {
    let csrf = app.csrf_token(&app.client).await;
    let res = app
        .client
        .patch(app.url(&format!("/api/oauth/clients/{}", client.id)))
        .header("X-CSRF-Token", csrf)
        .json(&json!({"allowed_scopes": scopes}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "the client is changed");
}

/// The status of `POST /api/users` with a bearer token.
async fn bearer_create_user(app: &TestApp, token: &str, username: &str) -> u16 {
    reqwest::Client::new()
        .post(app.url("/api/users"))
        .bearer_auth(token)
        .json(&json!({"username": username, "roles": []}))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// The set of names in a space-separated scope.
fn names(scope: &Value) -> Vec<String> {
    let mut names: Vec<String> = scope
        .as_str()
        .unwrap_or_default()
        .split_ascii_whitespace()
        .map(str::to_owned)
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn narrowing_a_client_narrows_its_live_user_tokens_and_their_refresh() {
    let app = spawn_app().await;
    app.login_as_admin().await;
    let desk = public_app(&app, &["sync:read", "registry:read"]).await;
    let inspector = service_client(&app, &["oauth:read"]).await;
    let (access, refresh) = user_tokens(&app, &desk, "sync:read registry:read").await;
    assert_eq!(
        bearer_get(&app, "/api/devices", &access).await.status(),
        200
    );
    let granted = introspect(&app, &inspector, &refresh).await;
    assert_eq!(names(&granted["scope"]), ["registry:read", "sync:read"]);
    let family_ends = granted["exp"].as_i64().unwrap();

    allow(&app, &desk, &["sync:read"]).await;

    let res = bearer_get(&app, "/api/devices", &access).await;
    assert_eq!(res.status(), 403, "the removed scope stops at once");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "insufficient_scope");
    assert_eq!(
        bearer_get(&app, "/api/sync/tenants", &access)
            .await
            .status(),
        200,
        "what remains keeps working"
    );
    assert_eq!(
        introspect(&app, &inspector, &access).await["scope"],
        "sync:read"
    );
    let narrowed = introspect(&app, &inspector, &refresh).await;
    assert_eq!(narrowed["scope"], "sync:read");
    assert_eq!(narrowed["exp"], family_ends);

    // A second later, so that an expiry renewed from the time of the refresh would show.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let (status, refreshed) = post_form(
        &app,
        "/oauth/token",
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &refresh),
            ("client_id", &desk.id),
        ],
    )
    .await;
    assert_eq!(status, 200, "{refreshed}");
    assert_eq!(
        refreshed["scope"], "sync:read",
        "a refresh issues the narrowed scope"
    );
    let new_access = refreshed["access_token"].as_str().unwrap();
    let new_refresh = refreshed["refresh_token"].as_str().unwrap();
    assert_eq!(
        bearer_get(&app, "/api/devices", new_access).await.status(),
        403
    );
    assert_eq!(
        bearer_get(&app, "/api/sync/tenants", new_access)
            .await
            .status(),
        200
    );
    let rotated = introspect(&app, &inspector, new_refresh).await;
    assert_eq!(rotated["active"], true);
    assert_eq!(rotated["scope"], "sync:read");
    assert_eq!(
        rotated["exp"], family_ends,
        "a rotation does not extend the grant's lifetime"
    );

    // Nothing left to grant: invalid_scope, and the refresh token is not used up.
    allow(&app, &desk, &["users:read"]).await;
    let refresh_form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", new_refresh),
        ("client_id", desk.id.as_str()),
    ];
    let (status, body) = post_form(&app, "/oauth/token", &refresh_form).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_scope"))
    );
    assert_eq!(
        bearer_get(&app, "/api/sync/tenants", new_access)
            .await
            .status(),
        403
    );
    allow(&app, &desk, &["sync:read", "registry:read"]).await;
    let (status, body) = post_form(&app, "/oauth/token", &refresh_form).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["scope"], "sync:read",
        "widening the client again does not widen the grant"
    );
}

#[tokio::test]
async fn narrowing_a_client_narrows_its_client_credentials_tokens_at_once() {
    let app = spawn_app().await;
    app.login_as_admin().await;
    let svc = service_client(&app, &["sync:read", "registry:read"]).await;
    let inspector = service_client(&app, &["oauth:read"]).await;
    let token = super::token_for(&app, &svc, None).await;
    // Used once, so the token is in the per-second cache when the client changes.
    assert_eq!(bearer_get(&app, "/api/devices", &token).await.status(), 200);

    allow(&app, &svc, &["sync:read"]).await;

    assert_eq!(bearer_get(&app, "/api/devices", &token).await.status(), 403);
    assert_eq!(
        bearer_get(&app, "/api/sync/tenants", &token).await.status(),
        200
    );
    assert_eq!(
        introspect(&app, &inspector, &token).await["scope"],
        "sync:read"
    );
    let secret = svc.secret.as_deref().unwrap();
    let (status, body) = post_form(
        &app,
        "/oauth/token",
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &svc.id),
            ("client_secret", secret),
            ("scope", "registry:read"),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_scope"))
    );
}

/// A client-credentials token answer of `client`, asking for `scope` when given.
async fn token_answer(app: &TestApp, client: &Registered, scope: Option<&str>) -> (u16, Value) {
    let mut form = vec![
        ("grant_type", "client_credentials"),
        ("client_id", client.id.as_str()),
        ("client_secret", client.secret.as_deref().unwrap()),
    ];
    if let Some(scope) = scope {
        form.push(("scope", scope));
    }
    post_form(app, "/oauth/token", &form).await
}

/// Creates the custom role `name` with `permissions`, as the signed-in admin.
async fn create_role(app: &TestApp, name: &str, permissions: &[&str]) {
    let csrf = app.csrf_token(&app.client).await;
    let mut form = vec![
        ("csrf_token", csrf.as_str()),
        ("name", name),
        ("description", ""),
    ];
    form.extend(permissions.iter().map(|p| ("permissions", *p)));
    let res = app
        .client
        .post(app.url("/admin/roles/new"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303, "the role {name} is created");
}

/// Sets a user's roles (and active flag) through the admin page, as the signed-in admin.
async fn set_roles(app: &TestApp, user_id: i64, active: bool, roles: &[&str]) {
    let csrf = app.csrf_token(&app.client).await;
    // Deactivating asks first: the answer rides along.
    let mut form = vec![
        ("csrf_token", csrf.as_str()),
        ("email", ""),
        ("confirm", "yes"),
    ];
    if active {
        form.push(("is_active", "true"));
    }
    form.extend(roles.iter().map(|r| ("roles", *r)));
    let res = app
        .client
        .post(app.url(&format!("/admin/users/{user_id}")))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303, "the user is changed");
}

#[tokio::test]
async fn a_client_registered_by_a_user_grants_no_more_than_that_user_holds_now() {
    let app = spawn_app().await;
    app.login_as_admin().await;
    create_role(&app, "client-maker", &["oauth:read", "oauth:write"]).await;
    create_role(&app, "user-reader", &["users:read"]).await;
    let csrf = app.csrf_token(&app.client).await;
    let password = "carol-password-for-tests";
    let res = app
        .client
        .post(app.url("/api/users"))
        .header("X-CSRF-Token", csrf)
        .json(&json!({"username": "carol", "password": password,
                      "roles": ["client-maker", "user-reader"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let carol_id = res.json::<Value>().await.unwrap()["user"]["id"]
        .as_i64()
        .unwrap();
    let carol = new_client();
    assert_eq!(
        app.login_with(&carol, "carol", password).await.status(),
        303
    );
    let csrf = app.csrf_token(&carol).await;
    let res = carol
        .post(app.url("/api/oauth/clients"))
        .header("X-CSRF-Token", csrf)
        .json(&json!({"name": "carol's service", "allowed_scopes": ["oauth:read", "users:read"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        201,
        "carol registers a client within what she holds"
    );
    let created: Value = res.json().await.unwrap();
    let svc = Registered {
        id: created["client"]["client_id"].as_str().unwrap().to_owned(),
        secret: created["client_secret"].as_str().map(str::to_owned),
    };
    let first = super::token_for(&app, &svc, None).await;
    assert_eq!(bearer_get(&app, "/api/users", &first).await.status(), 200);

    // A client allowed more than its creator, as one registered before the rule could be.
    app.exec(&format!(
        "UPDATE oauth_client_configs SET allowed_scopes = \
         '[\"oauth:read\", \"users:read\", \"users:write\", \"audit:read\"]' \
         WHERE client_id = (SELECT id FROM oauth_clients WHERE client_identifier = '{}')",
        svc.id
    ))
    .await
    .unwrap();
    let (status, answer) = token_answer(&app, &svc, None).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        names(&answer["scope"]),
        ["oauth:read", "users:read"],
        "issuance leaves out what the creator does not hold"
    );
    let (status, answer) = token_answer(&app, &svc, Some("users:write audit:read")).await;
    assert_eq!(
        (status, answer["error"].as_str()),
        (400, Some("invalid_scope"))
    );

    // A token stored with more than the creator holds, as one issued before the rule.
    let token = answer_token(&token_answer(&app, &svc, Some("users:read")).await);
    app.exec(&format!(
        "UPDATE oauth_access_tokens SET scope = 'users:read users:write oauth:read audit:read' \
         WHERE client_id = (SELECT id FROM oauth_clients WHERE client_identifier = '{}')",
        svc.id
    ))
    .await
    .unwrap();
    assert_eq!(
        bearer_create_user(&app, &token, "mallory").await,
        403,
        "the token is cut to its creator's permissions at use"
    );
    assert_eq!(bearer_get(&app, "/api/audit", &token).await.status(), 403);
    assert_eq!(bearer_get(&app, "/api/users", &token).await.status(), 200);
    assert_eq!(
        bearer_get(&app, "/api/oauth/clients", &token)
            .await
            .status(),
        200
    );

    // A role taken from the creator: the token loses it on its next request.
    set_roles(&app, carol_id, true, &["client-maker"]).await;
    assert_eq!(bearer_get(&app, "/api/users", &token).await.status(), 403);
    assert_eq!(
        bearer_get(&app, "/api/oauth/clients", &token)
            .await
            .status(),
        200
    );
    let (status, answer) = token_answer(&app, &svc, None).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["scope"], "oauth:read");

    // The creator deactivated: the client's tokens grant nothing, and no new one is issued.
    set_roles(&app, carol_id, false, &["client-maker"]).await;
    let res = bearer_get(&app, "/api/oauth/clients", &token).await;
    assert_eq!(res.status(), 403);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "insufficient_scope");
    let (status, answer) = token_answer(&app, &svc, None).await;
    assert_eq!(
        (status, answer["error"].as_str()),
        (400, Some("invalid_scope"))
    );
}

/// The access token of a successful token answer.
fn answer_token((status, body): &(u16, Value)) -> String {
    assert_eq!(*status, 200, "{body}");
    body["access_token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_client_created_with_the_cli_is_the_operators_and_not_capped() {
    let app = spawn_app().await;
    let out = metadeck_bin()
        .env("DATABASE_URL", &app.database.url)
        .args([
            "client",
            "create",
            "--name",
            "ops",
            "--scopes",
            "users:read users:write",
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
    let ops = Registered {
        id: printed["client_id"].as_str().unwrap().to_owned(),
        secret: printed["client_secret"].as_str().map(str::to_owned),
    };

    let answer = token_answer(&app, &ops, None).await;
    assert_eq!(answer.1["scope"], "users:read users:write");
    let token = answer_token(&answer);
    assert_eq!(bearer_create_user(&app, &token, "ops-made").await, 201);

    // Registered through the API by the admin instead, the same client is capped by the
    // admin; the admin holds everything, so nothing is cut either.
    app.login_as_admin().await;
    let admins = register(
        &app,
        json!({"name": "admin's", "allowed_scopes": ["users:read", "users:write"]}),
    )
    .await;
    let token = answer_token(&token_answer(&app, &admins, None).await);
    assert_eq!(bearer_create_user(&app, &token, "admin-made").await, 201);
}
