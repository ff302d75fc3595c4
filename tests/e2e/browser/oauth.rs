//! OAuth in the console: an admin registers a client and copies its once-shown secret, which
//! then gets a token; a user allows and denies an application on the real consent page.

use std::time::Duration;

use serde_json::json;
use service::oauth::secrets::s256;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::browser::Browser;
use crate::helpers::{ADMIN_PASSWORD, TestApp, spawn_app};

async fn sign_in(browser: &Browser, app: &TestApp) {
    browser.goto(&app.url("/login")).await;
    browser.fill("#field-username", "admin").await;
    browser.fill("#field-password", ADMIN_PASSWORD).await;
    browser.submit("form.form").await;
    assert_eq!(browser.current_url().await, app.url("/"));
}

/// A stand-in for the client application's redirect endpoint: answers every request `200`.
async fn callback_server() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = socket.read(&mut buf).await;
                let body = "<!doctype html><title>callback</title><p>back in the app</p>";
                let res = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(res.as_bytes()).await;
            });
        }
    });
    port
}

#[tokio::test]
async fn an_admin_registers_a_client_and_its_shown_secret_gets_a_token() {
    let app = spawn_app().await;
    let Some(browser) = Browser::launch().await else {
        return;
    };
    sign_in(&browser, &app).await;
    browser.goto(&app.url("/oauth/clients")).await;
    browser.click("a[href='/oauth/clients/new']").await;
    browser.fill("#field-name", "Orchestrator").await;
    browser
        .click("input[name=allowed_scopes][value='users:read']")
        .await;
    browser.submit("form.form").await;
    let secret = browser.text("[data-testid=generated-password]").await;
    assert!(secret.starts_with("mds_"), "{secret}");
    assert!(browser.text("main").await.contains("only time it is shown"));
    browser.click("[data-testid=copy-secret]").await;
    browser.assert_clean(&app.address).await;

    browser.click("a.button").await;
    let client_id = browser.text("[data-testid=client-id]").await;
    assert!(
        !browser.text("main").await.contains(&secret),
        "never shown again"
    );

    let res = reqwest::Client::new()
        .post(app.url("/oauth/token"))
        .basic_auth(&client_id, Some(&secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "the copied secret works");
    browser.close().await;
}

#[tokio::test]
async fn a_user_allows_and_denies_an_application_on_the_consent_page() {
    let app = spawn_app().await;
    app.login_as_admin().await;
    let port = callback_server().await;
    let client = crate::oauth::register(
        &app,
        json!({"name": "Desk <app>", "is_confidential": false,
               "redirect_uris": ["http://127.0.0.1/callback"], "allowed_scopes": ["sync:read", "users:read"]}),
    )
    .await;
    let Some(browser) = Browser::launch().await else {
        return;
    };
    let redirect = format!("http://127.0.0.1:{port}/callback");
    let url = |state: &str| {
        format!(
            "{}?{}",
            app.url("/oauth/authorize"),
            serde_urlencoded::to_string([
                ("response_type", "code"),
                ("client_id", client.id.as_str()),
                ("redirect_uri", redirect.as_str()),
                ("scope", "sync:read"),
                ("state", state),
                ("code_challenge", s256(&"v".repeat(43)).as_str()),
                ("code_challenge_method", "S256"),
            ])
            .unwrap()
        )
    };

    // Not signed in: the login page first, then straight on to the consent page.
    browser.goto(&url("first")).await;
    assert!(browser.current_url().await.starts_with(&app.url("/login")));
    browser.fill("#field-username", "admin").await;
    browser.fill("#field-password", ADMIN_PASSWORD).await;
    browser.submit("form.form").await;
    browser
        .wait_for("[data-testid=consent]", Duration::from_secs(5))
        .await;
    assert_eq!(
        browser.text("[data-testid=client-name]").await,
        "Desk <app>"
    );
    let scopes = browser.text("[data-testid=scopes]").await;
    assert!(
        scopes.contains("sync:read") && !scopes.contains("users:read"),
        "{scopes}"
    );
    browser.assert_clean(&app.address).await;
    browser.click("[data-testid=approve]").await;
    browser
        .wait_for_text("p", "back in the app", Duration::from_secs(5))
        .await;
    let back = browser.current_url().await;
    assert!(back.starts_with(&redirect), "{back}");
    assert!(crate::oauth::param(&back, "code").is_some());
    assert_eq!(
        crate::oauth::param(&back, "state").as_deref(),
        Some("first")
    );

    browser.goto(&url("second")).await;
    browser
        .wait_for("[data-testid=consent]", Duration::from_secs(5))
        .await;
    browser.click("[data-testid=deny]").await;
    browser
        .wait_for_text("p", "back in the app", Duration::from_secs(5))
        .await;
    let back = browser.current_url().await;
    assert_eq!(
        crate::oauth::param(&back, "error").as_deref(),
        Some("access_denied")
    );
    assert_eq!(
        crate::oauth::param(&back, "state").as_deref(),
        Some("second")
    );
    browser.close().await;
}
