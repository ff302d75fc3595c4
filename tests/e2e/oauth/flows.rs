//! Each grant completed by the `oauth2` crate, unmodified, against the running server.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use oauth2::basic::BasicClient;
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken,
    DeviceAuthorizationUrl, PkceCodeChallenge, RedirectUrl, RefreshToken, RequestTokenError, Scope,
    StandardDeviceAuthorizationResponse, TokenResponse, TokenUrl,
};
use serde_json::Value;

use super::{Registered, bearer_get, consent, param, public_app, service_client};
use crate::helpers::{TestApp, csrf_in, free_port, spawn_app};

type Boxed = Pin<Box<dyn Future<Output = Result<oauth2::HttpResponse, reqwest::Error>> + Send>>;

/// The library's HTTP transport, over the tests' reqwest (redirects not followed, as the
/// library requires).
fn transport() -> impl Fn(oauth2::HttpRequest) -> Boxed {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    move |req: oauth2::HttpRequest| {
        let client = client.clone();
        Box::pin(async move {
            let (parts, body) = req.into_parts();
            let res = client
                .request(parts.method, parts.uri.to_string())
                .headers(parts.headers)
                .body(body)
                .send()
                .await?;
            let mut out = http::Response::builder().status(res.status());
            for (k, v) in res.headers() {
                out = out.header(k, v);
            }
            Ok(out.body(res.bytes().await?.to_vec()).unwrap())
        }) as Boxed
    }
}

fn library_client(
    app: &TestApp,
    registered: &Registered,
) -> oauth2::Client<
    oauth2::basic::BasicErrorResponse,
    oauth2::basic::BasicTokenResponse,
    oauth2::basic::BasicTokenIntrospectionResponse,
    oauth2::StandardRevocableToken,
    oauth2::basic::BasicRevocationErrorResponse,
    oauth2::EndpointSet,
    oauth2::EndpointSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointSet,
> {
    let mut client = BasicClient::new(ClientId::new(registered.id.clone()))
        .set_auth_uri(AuthUrl::new(app.url("/oauth/authorize")).unwrap())
        .set_token_uri(TokenUrl::new(app.url("/oauth/token")).unwrap())
        .set_device_authorization_url(
            DeviceAuthorizationUrl::new(app.url("/oauth/device_authorization")).unwrap(),
        );
    if let Some(secret) = &registered.secret {
        client = client.set_client_secret(ClientSecret::new(secret.clone()));
    }
    client
}

fn server_error(
    err: RequestTokenError<impl std::error::Error, oauth2::basic::BasicErrorResponse>,
) -> String {
    match err {
        RequestTokenError::ServerResponse(r) => r.error().to_string(),
        other => panic!("expected an RFC error, got {other:?}"),
    }
}

#[tokio::test]
async fn client_credentials_with_basic_and_post_authentication() {
    let app = spawn_app().await;
    app.login_as_admin().await;
    let registered = service_client(&app, &["users:read", "sync:read"]).await;
    let http = transport();

    for auth in [AuthType::BasicAuth, AuthType::RequestBody] {
        let client = library_client(&app, &registered).set_auth_type(auth.clone());
        let token = client
            .exchange_client_credentials()
            .add_scope(Scope::new("users:read".into()))
            .request_async(&http)
            .await
            .unwrap_or_else(|e| panic!("{auth:?}: {e:?}"));

        assert_eq!(token.token_type().as_ref(), "bearer");
        assert!(
            token.refresh_token().is_none(),
            "no refresh token for client credentials"
        );
        assert_eq!(
            token
                .scopes()
                .map(|s| s.iter().map(|s| s.to_string()).collect::<Vec<_>>()),
            Some(vec!["users:read".to_string()])
        );
        let res = bearer_get(&app, "/api/users", token.access_token().secret()).await;
        assert_eq!(
            res.status(),
            200,
            "the token opens the API it is scoped for"
        );
    }

    let wide = library_client(&app, &registered)
        .exchange_client_credentials()
        .add_scope(Scope::new("users:write".into()))
        .request_async(&http)
        .await
        .unwrap_err();
    assert_eq!(server_error(wide), "invalid_scope");
}

#[tokio::test]
async fn a_scoped_token_is_held_to_its_scope_and_bad_tokens_are_refused() {
    let app = spawn_app().await;
    app.login_as_admin().await;
    let registered = service_client(&app, &["users:read"]).await;
    let token = super::token_for(&app, &registered, None).await;

    let res = reqwest::Client::new()
        .post(app.url("/api/users"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"username": "x", "roles": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        403,
        "a bearer write needs the write scope (and no CSRF)"
    );
    assert!(
        res.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("insufficient_scope")
    );
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "insufficient_scope");

    let res = bearer_get(&app, "/api/users", "mda_not-a-real-token").await;
    assert_eq!(res.status(), 401);
    assert_eq!(
        res.headers()["www-authenticate"],
        "Bearer error=\"invalid_token\""
    );
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unauthorized");

    let res = bearer_get(&app, "/api/audit", &token).await;
    assert_eq!(res.status(), 403, "audit:read is not in the token's scope");
}

/// Signs a fresh browser-like client in as the admin.
async fn admin_browser(app: &TestApp) -> reqwest::Client {
    let browser = crate::helpers::new_client();
    let res = app
        .login_with(&browser, "admin", crate::helpers::ADMIN_PASSWORD)
        .await;
    assert_eq!(res.status(), 303);
    browser
}

#[tokio::test]
async fn authorization_code_with_pkce_on_a_loopback_port_then_refresh_rotation() {
    let app = spawn_app().await;
    app.login_as_admin().await;
    let registered = public_app(&app, &["users:read", "sync:read"]).await;
    let port = free_port();
    let redirect = format!("http://127.0.0.1:{port}/callback");
    let client = library_client(&app, &registered)
        .set_redirect_uri(RedirectUrl::new(redirect.clone()).unwrap());
    let http = transport();

    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state) = client
        .authorize_url(CsrfToken::new_random)
        .add_scope(Scope::new("users:read".into()))
        .set_pkce_challenge(challenge)
        .url();

    // Not signed in: the login page, and back.
    let anonymous = crate::helpers::new_client();
    let res = anonymous.get(url.as_str()).send().await.unwrap();
    assert_eq!(res.status(), 303, "like every other page");
    let login = super::location(&res);
    let authorize = format!("{}?{}", url.path(), url.query().unwrap_or_default());
    assert_eq!(
        login,
        format!(
            "/login?{}",
            serde_urlencoded::to_string([("next", authorize.as_str())]).unwrap()
        )
    );

    let browser = admin_browser(&app).await;
    let back = consent(&app, &browser, url.as_str(), "approve").await;
    assert!(back.starts_with(&redirect), "{back}");
    assert_eq!(
        param(&back, "state").as_deref(),
        Some(state.secret().as_str())
    );
    let code = param(&back, "code").expect("a code");

    let token = client
        .exchange_code(AuthorizationCode::new(code))
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .expect("the code is exchanged");
    let first_refresh = token.refresh_token().expect("a refresh token").clone();

    let me: Value = bearer_get(&app, "/oauth/userinfo", token.access_token().secret())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["preferred_username"], "admin");
    assert!(me["sub"].as_str().unwrap().starts_with("local:"));
    assert!(
        me["groups"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g == "admin")
    );

    let rotated = client
        .exchange_refresh_token(&first_refresh)
        .request_async(&http)
        .await
        .expect("the refresh token is exchanged");
    let second_refresh = rotated
        .refresh_token()
        .expect("a new refresh token")
        .clone();
    assert_ne!(
        second_refresh.secret(),
        first_refresh.secret(),
        "refresh tokens rotate"
    );
    let res = bearer_get(&app, "/api/users", rotated.access_token().secret()).await;
    assert_eq!(res.status(), 200);

    // The old refresh token again: refused, and the whole family goes.
    let replay = client
        .exchange_refresh_token(&first_refresh)
        .request_async(&http)
        .await
        .unwrap_err();
    assert_eq!(server_error(replay), "invalid_grant");
    let res = bearer_get(&app, "/api/users", rotated.access_token().secret()).await;
    assert_eq!(
        res.status(),
        401,
        "tokens of the replayed family are revoked"
    );
    let again = client
        .exchange_refresh_token(&RefreshToken::new(second_refresh.secret().clone()))
        .request_async(&http)
        .await
        .unwrap_err();
    assert_eq!(server_error(again), "invalid_grant");
}

#[tokio::test]
async fn device_flow_with_pending_slow_down_and_approval() {
    let app = spawn_app().await;
    app.login_as_admin().await;
    let registered = public_app(&app, &["sync:read"]).await;
    let client = library_client(&app, &registered);
    let http = transport();

    let details: StandardDeviceAuthorizationResponse = client
        .exchange_device_code()
        .add_scope(Scope::new("sync:read".into()))
        .request_async(&http)
        .await
        .expect("device authorization");
    let user_code = details.user_code().secret().clone();
    assert_eq!(user_code.len(), 9, "XXXX-XXXX: {user_code}");
    assert!(details.verification_uri().as_str().ends_with("/device"));

    // Polling by hand first: pending, then too fast.
    let poll = [
        ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
        ("device_code", details.device_code().secret().as_str()),
        ("client_id", registered.id.as_str()),
    ];
    let (status, body) = super::post_form(&app, "/oauth/token", &poll).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("authorization_pending"))
    );
    let (status, body) = super::post_form(&app, "/oauth/token", &poll).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("slow_down")));

    // The admin approves on /device (lowercase, no dash) while the library polls.
    let browser = admin_browser(&app).await;
    let typed = user_code.replace('-', "").to_lowercase();
    let page = browser
        .get(app.url(&format!("/device?user_code={typed}")))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("Desk app") && html.contains("sync:read"));
    let res = browser
        .post(app.url("/device"))
        .form(&[
            ("csrf_token", csrf_in(&html).unwrap().as_str()),
            ("user_code", typed.as_str()),
            ("decision", "approve"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);

    let token = tokio::time::timeout(
        Duration::from_secs(60),
        client.exchange_device_access_token(&details).request_async(
            &http,
            tokio::time::sleep,
            None,
        ),
    )
    .await
    .expect("the library finishes polling")
    .expect("tokens after approval");
    let res = bearer_get(&app, "/api/audit", token.access_token().secret()).await;
    assert_eq!(res.status(), 403, "the device token holds only sync:read");

    let (status, body) = super::post_form(&app, "/oauth/token", &poll).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "consumed"
    );
}

#[tokio::test]
async fn metadata_names_every_endpoint_and_the_catalog() {
    let app = spawn_app().await;
    let meta: Value = app
        .get("/.well-known/oauth-authorization-server")
        .await
        .json()
        .await
        .unwrap();
    for key in [
        "authorization_endpoint",
        "token_endpoint",
        "device_authorization_endpoint",
        "revocation_endpoint",
        "introspection_endpoint",
        "userinfo_endpoint",
    ] {
        assert!(
            meta[key].as_str().is_some_and(|u| u.starts_with("http")),
            "{key}"
        );
    }
    assert_eq!(
        meta["code_challenge_methods_supported"],
        serde_json::json!(["S256"])
    );
    assert_eq!(
        meta["response_types_supported"],
        serde_json::json!(["code"])
    );
    let scopes = meta["scopes_supported"].as_array().unwrap();
    assert_eq!(scopes.len(), service::access::Permission::ALL.len());
    assert!(
        meta["grant_types_supported"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g == "urn:ietf:params:oauth:grant-type:device_code")
    );
}
