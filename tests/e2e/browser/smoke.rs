//! The console's pages as a browser shows them.

use crate::browser::Browser;
use crate::helpers::{ADMIN_PASSWORD, spawn_app};

#[tokio::test]
async fn sign_in_dashboard_and_404_render_styled_and_self_contained() {
    let app = spawn_app().await;
    let Some(browser) = Browser::launch().await else {
        return;
    };

    // Signed out, the start page leads to the sign-in form.
    browser.goto(&app.url("/")).await;
    assert!(browser.current_url().await.starts_with(&app.url("/login")));
    assert_eq!(browser.text("h1").await, "Sign in");
    assert!(browser.text(".topbar .brand").await.contains("Metadeck"));
    let title = browser.client().title().await.unwrap();
    assert!(title.ends_with("· Metadeck"), "title {title:?}");
    // The stylesheet applied: the top bar's rule and the page background come from it.
    assert_eq!(
        browser
            .computed_style(".topbar", "border-bottom-style")
            .await,
        "solid"
    );
    assert_eq!(
        browser
            .computed_style(".topbar", "border-bottom-width")
            .await,
        "1px"
    );
    assert_ne!(
        browser.computed_style("body", "background-color").await,
        "rgba(0, 0, 0, 0)",
        "the body has the stylesheet's background"
    );
    browser.assert_clean(&app.address).await;

    // Signing in through the form leads back to the start page: the dashboard.
    browser.fill("#field-username", "admin").await;
    browser.fill("#field-password", ADMIN_PASSWORD).await;
    browser.submit("form.form").await;
    assert_eq!(browser.current_url().await, app.url("/"));
    assert_eq!(browser.text("h1").await, "Overview");
    assert_eq!(browser.text("[data-testid=current-user]").await, "admin");
    assert!(browser.text(".topbar .brand").await.contains("Metadeck"));
    browser
        .screenshot(std::env::temp_dir().join("metadeck-home.png"))
        .await;
    browser.assert_clean(&app.address).await;

    // An unknown page is the styled 404 page, with the way back.
    let missing = app.url("/no/such/page");
    browser.goto(&missing).await;
    assert_eq!(browser.text(".error-status").await, "404");
    assert!(browser.text(".topbar .brand").await.contains("Metadeck"));
    assert_eq!(
        browser
            .computed_style(".topbar", "border-bottom-style")
            .await,
        "solid"
    );
    assert!(browser.foreign_requests(&app.address).await.is_empty());
    // The browser logs the page's own 404 as a failed load; nothing else may be logged.
    let errors = browser.console_errors_besides_status(&missing, 404).await;
    assert!(errors.is_empty(), "console errors: {errors:#?}");

    browser.click(".error-page a.button").await;
    assert_eq!(browser.current_url().await, app.url("/"));
    assert_eq!(browser.text("h1").await, "Overview");
    browser.close().await;
}
