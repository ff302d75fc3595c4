//! An admin subscribes a local receiver in the console, sees the secret once, sends a test
//! event, watches it in the delivery log, redelivers it and rotates the secret.

use std::time::Duration;

use crate::browser::Browser;
use crate::helpers::{ADMIN_PASSWORD, spawn_app_with};
use crate::webhook_receiver::Receiver;

#[tokio::test]
async fn an_admin_subscribes_tests_redelivers_and_rotates_in_the_console() {
    let app = spawn_app_with(|env| {
        env.insert(
            "METADECK_WEBHOOK_ALLOW_PRIVATE_NETWORKS".into(),
            "true".into(),
        );
    })
    .await;
    let Some(browser) = Browser::launch().await else {
        return;
    };
    let receiver = Receiver::start(200).await;
    browser.goto(&app.url("/login")).await;
    browser.fill("#field-username", "admin").await;
    browser.fill("#field-password", ADMIN_PASSWORD).await;
    browser.submit("form.form").await;

    browser.goto(&app.url("/webhooks/new")).await;
    browser.fill("#field-url", &receiver.url()).await;
    browser.click("input[name=events][value='sync.*']").await;
    browser.fill("#field-team", "ops").await;
    browser.submit("form.form").await;
    let secret = browser.text("[data-testid=generated-password]").await;
    assert!(secret.starts_with("whsec_"), "{secret}");
    browser.assert_clean(&app.address).await;

    browser.click("main a.button").await;
    browser
        .wait_for("[data-testid=webhook-events]", Duration::from_secs(10))
        .await;
    assert!(
        browser
            .text("[data-testid=webhook-events]")
            .await
            .contains("sync.*")
    );
    browser.submit("form[action$='/test']").await;
    assert_eq!(receiver.wait_for(1, Duration::from_secs(10)).await.len(), 1);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !browser
        .text("[data-testid=deliveries]")
        .await
        .contains("succeeded")
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the log shows the delivery"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
        browser.goto(&browser.current_url().await).await;
    }
    browser.submit("form[action$='/redeliver']").await;
    assert_eq!(receiver.wait_for(2, Duration::from_secs(10)).await.len(), 2);

    browser.submit("form[action$='/rotate-secret']").await;
    assert!(
        browser
            .text("[data-testid=confirmation]")
            .await
            .contains("both the old and the new secret"),
        "rotating asks first"
    );
    browser.submit("form.confirm-form").await;
    let rotated = browser.text("[data-testid=generated-password]").await;
    assert!(rotated.starts_with("whsec_") && rotated != secret);
    browser.goto(&app.url("/webhooks")).await;
    assert!(browser.text("main").await.contains("enabled"));
    browser.assert_clean(&app.address).await;
}
