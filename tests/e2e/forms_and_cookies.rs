//! Edges of forms, query strings and cookies: the flash cookie follows the secure setting, an
//! oversize form is a `413`, and invalid UTF-8 in a query string or a form is a `400` in the
//! route's own shape (JSON for the API, the error page for pages, RFC 6749 for OAuth).

use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, COOKIE, SET_COOKIE};
use serde_json::Value;

use crate::helpers::{ADMIN_PASSWORD, TestApp, csrf_in, spawn_app, spawn_app_with};

/// The `name=value` of the cookie `name` among a response's `Set-Cookie` headers, and the
/// whole header line.
fn set_cookie(res: &reqwest::Response, name: &str) -> Option<(String, String)> {
    res.headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|line| line.starts_with(&format!("{name}=")))
        .map(|line| {
            let pair = line.split(';').next().unwrap_or_default().to_string();
            (pair, line.to_string())
        })
}

/// True when a `Set-Cookie` line carries the `Secure` attribute.
fn is_secure(line: &str) -> bool {
    line.split(';')
        .any(|attr| attr.trim().eq_ignore_ascii_case("secure"))
}

/// A client without a cookie store (a store would not send `Secure` cookies over plain
/// HTTP), so the test carries the cookies itself.
fn bare_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

#[tokio::test]
async fn the_flash_cookie_is_secure_when_cookies_are_secure() {
    let app = spawn_app_with(|env| {
        env.insert("METADECK_COOKIE_SECURE".into(), "true".into());
    })
    .await;
    let client = bare_client();
    let login_page = client.get(app.url("/login")).send().await.unwrap();
    let (pre_session, _) = set_cookie(&login_page, "metadeck_csrf").expect("a CSRF cookie");
    let token = csrf_in(&login_page.text().await.unwrap()).unwrap();
    let signed_in = client
        .post(app.url("/login"))
        .header(COOKIE, &pre_session)
        .form(&[
            ("csrf_token", token.as_str()),
            ("username", "admin"),
            ("password", ADMIN_PASSWORD),
            ("next", "/"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    let (session, line) = set_cookie(&signed_in, "metadeck_session").expect("a session");
    assert!(is_secure(&line), "the session cookie is secure: {line}");
    let home = client
        .get(app.url("/"))
        .header(COOKIE, &session)
        .send()
        .await
        .unwrap();
    let token = csrf_in(&home.text().await.unwrap()).unwrap();

    let signed_out = client
        .post(app.url("/logout"))
        .header(COOKIE, &session)
        .form(&[("csrf_token", token.as_str())])
        .send()
        .await
        .unwrap();

    assert_eq!(signed_out.status(), StatusCode::SEE_OTHER);
    let (flash, line) = set_cookie(&signed_out, "metadeck_flash").expect("a flash message");
    assert!(is_secure(&line), "the flash cookie is secure: {line}");
    let shown = client
        .get(app.url("/login"))
        .header(COOKIE, &flash)
        .send()
        .await
        .unwrap();
    let (_, removal) = set_cookie(&shown, "metadeck_flash").expect("the flash is removed");
    assert!(is_secure(&removal), "the removal is secure too: {removal}");
    assert!(
        shown
            .text()
            .await
            .unwrap()
            .contains("You have been signed out.")
    );
}

#[tokio::test]
async fn the_flash_cookie_is_not_secure_on_a_loopback_server_by_default() {
    let app = spawn_app().await;
    app.login_as_admin().await;
    let token = app.csrf_token(&app.client).await;

    let signed_out = app
        .client
        .post(app.url("/logout"))
        .form(&[("csrf_token", token.as_str())])
        .send()
        .await
        .unwrap();

    let (_, line) = set_cookie(&signed_out, "metadeck_flash").expect("a flash message");
    assert!(!is_secure(&line), "{line}");
}

/// The admin's app and a CSRF token of its session.
async fn admin() -> (TestApp, String) {
    let app = spawn_app().await;
    app.login_as_admin().await;
    let token = app.csrf_token(&app.client).await;
    (app, token)
}

/// POSTs a raw form body to a page.
async fn post_form(app: &TestApp, path: &str, body: String) -> reqwest::Response {
    app.client
        .post(app.url(path))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap()
}

fn content_type(res: &reqwest::Response) -> String {
    res.headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

#[tokio::test]
async fn an_oversize_form_with_a_valid_token_is_too_large_not_forged() {
    let (app, token) = admin().await;
    // Over the body limit (256 KiB) and between the form limit (64 KiB) and it.
    for size in [300 * 1024, 100 * 1024] {
        let body = format!(
            "csrf_token={token}&name=big&description={}",
            "a".repeat(size)
        );

        let res = post_form(&app, "/admin/roles/new", body).await;

        assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE, "{size} bytes");
        assert!(content_type(&res).starts_with("text/html"), "{size} bytes");
        assert!(
            res.text().await.unwrap().contains("too large"),
            "{size} bytes"
        );
    }
    let res = app.get("/admin/roles").await;
    assert!(
        !res.text().await.unwrap().contains(">big<"),
        "nothing was created"
    );
}

#[tokio::test]
async fn invalid_utf8_in_a_query_string_is_a_bad_request_in_the_routes_shape() {
    let (app, _) = admin().await;

    let api = app.get("/api/users?q=%FF").await;
    assert_eq!(api.status(), StatusCode::BAD_REQUEST);
    let body: Value = api.json().await.unwrap();
    assert_eq!(body["error"]["code"], "bad_request", "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("UTF-8"),
        "{body}"
    );

    for path in [
        "/admin/users?q=%FF",
        "/audit?actor=%C3%28",
        "/login?next=%E2%82",
    ] {
        let page = app.get(path).await;
        assert_eq!(page.status(), StatusCode::BAD_REQUEST, "{path}");
        assert!(content_type(&page).starts_with("text/html"), "{path}");
        assert!(page.text().await.unwrap().contains("UTF-8"), "{path}");
    }

    let valid = app.get("/api/users?q=caf%C3%A9").await;
    assert_eq!(valid.status(), StatusCode::OK, "valid UTF-8 still passes");
}

#[tokio::test]
async fn invalid_utf8_in_a_form_value_is_a_bad_request_and_stores_nothing() {
    let (app, token) = admin().await;

    for body in [
        format!("csrf_token={token}&name=auditor&description=Reads%C3%28"),
        format!("csrf_token={token}&name=aud%FFitor&description=x"),
    ] {
        let res = post_form(&app, "/admin/roles/new", body.clone()).await;

        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{body}");
        assert!(content_type(&res).starts_with("text/html"), "{body}");
        assert!(res.text().await.unwrap().contains("UTF-8"), "{body}");
    }
    let list = app.get("/admin/roles").await.text().await.unwrap();
    assert!(
        !list.contains("auditor") && !list.contains('\u{fffd}'),
        "nothing was stored"
    );

    let valid = post_form(
        &app,
        "/admin/roles/new",
        format!("csrf_token={token}&name=auditor&description=Caf%C3%A9"),
    )
    .await;
    assert_eq!(
        valid.status(),
        StatusCode::SEE_OTHER,
        "valid UTF-8 still passes"
    );
}

#[tokio::test]
async fn a_forged_form_is_refused_as_forged_whatever_its_bytes() {
    let (app, _) = admin().await;

    let res = post_form(
        &app,
        "/admin/roles/new",
        "csrf_token=wrong&name=aud%FFitor".to_string(),
    )
    .await;

    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn invalid_utf8_in_an_oauth_form_is_an_invalid_request() {
    let app = spawn_app().await;

    let res = app
        .client
        .post(app.url("/oauth/token"))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials&client_id=%C3%28")
        .send()
        .await
        .unwrap();

    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "invalid_request", "{body}");
}
