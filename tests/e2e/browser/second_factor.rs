//! An admin sets up an authenticator app in the browser, reading the secret from the page,
//! signs out, and signs in again with a code.

use crate::browser::Browser;
use crate::helpers::{ADMIN_PASSWORD, spawn_app};
use crate::second_factor::{fresh_step, rfc6238};

#[tokio::test]
async fn an_admin_enrols_signs_out_and_signs_in_with_a_code() {
    let app = spawn_app().await;
    let Some(browser) = Browser::launch().await else {
        return;
    };
    browser.goto(&app.url("/login")).await;
    browser.fill("#field-username", "admin").await;
    browser.fill("#field-password", ADMIN_PASSWORD).await;
    browser.submit("form.form").await;
    assert_eq!(browser.current_url().await, app.url("/"));

    browser.goto(&app.url("/account")).await;
    browser.click("[data-testid=enrol-second-factor]").await;
    assert_eq!(
        browser.current_url().await,
        app.url("/account/second-factor")
    );
    let drawn = browser
        .eval("const i = document.querySelector('[data-testid=totp-qr]'); return i.complete && i.naturalWidth > 0;")
        .await;
    assert_eq!(drawn, serde_json::Value::Bool(true), "the QR code is drawn");
    let secret = rfc6238::base32_decode(&browser.text("[data-testid=totp-secret]").await);
    let step = fresh_step().await;
    browser
        .fill("#field-code", &rfc6238::code(&secret, step - 1))
        .await;
    browser.submit("form.form").await;
    assert_eq!(browser.current_url().await, app.url("/shown-once"));
    let codes = browser.text("[data-testid=generated-password]").await;
    assert_eq!(codes.split_whitespace().count(), 10, "{codes}");
    browser.assert_clean(&app.address).await;

    browser.goto(&app.url("/")).await;
    browser.click("[data-testid=logout]").await;
    // A click does not wait for the page it leads to; the sign-out message does.
    browser
        .wait_for_text(
            ".flash",
            "You have been signed out.",
            std::time::Duration::from_secs(5),
        )
        .await;
    assert!(browser.current_url().await.starts_with(&app.url("/login")));
    browser.fill("#field-username", "admin").await;
    browser.fill("#field-password", ADMIN_PASSWORD).await;
    browser.submit("form.form").await;
    assert_eq!(browser.current_url().await, app.url("/login/second-factor"));
    browser
        .fill("#field-code", &rfc6238::code(&secret, step + 1))
        .await;
    browser.submit("form.form").await;

    assert_eq!(browser.current_url().await, app.url("/"));
    assert_eq!(browser.text("[data-testid=current-user]").await, "admin");
    browser.assert_clean(&app.address).await;
    browser.close().await;
}
