//! Destructive and disruptive actions in the console ask first, naming what else they reach,
//! and change nothing until the danger button of the question is pressed.

use service::access::Grantor;
use service::access::roles::{self, RoleInput};
use service::audit::Actor;

use crate::browser::Browser;
use crate::helpers::{ADMIN_PASSWORD, TestApp, spawn_app};

async fn sign_in(browser: &Browser, app: &TestApp) {
    browser.goto(&app.url("/login")).await;
    browser.fill("#field-username", "admin").await;
    browser.fill("#field-password", ADMIN_PASSWORD).await;
    browser.submit("form.form").await;
    assert_eq!(browser.current_url().await, app.url("/"));
}

#[tokio::test]
async fn a_role_delete_names_its_holders_and_deletes_only_when_confirmed() {
    let app = spawn_app().await;
    let input = RoleInput::parse("auditor", None, &["audit:read".to_string()]).unwrap();
    let role = roles::create(&app.db, &Grantor::operator(Actor::Cli), None, input)
        .await
        .unwrap();
    app.create_user("dora", "auditor", "dora-password-1234")
        .await;
    app.create_user("erin", "auditor", "erin-password-1234")
        .await;
    let Some(browser) = Browser::launch().await else {
        return;
    };
    sign_in(&browser, &app).await;
    let page = app.url(&format!("/admin/roles/{}", role.id));
    browser.goto(&page).await;

    browser.submit("[data-testid=delete-role] form.form").await;

    let question = browser.text("[data-testid=confirmation]").await;
    assert!(
        question.contains("The role auditor is held by 2 users:")
            && question.contains("dora")
            && question.contains("erin"),
        "{question}"
    );
    browser.assert_clean(&app.address).await;
    browser.click("[data-testid=confirm-cancel]").await;
    assert_eq!(browser.current_url().await, page);
    assert!(
        roles::get(&app.db, role.id).await.is_ok(),
        "nothing deleted"
    );

    browser.submit("[data-testid=delete-role] form.form").await;
    browser.submit("form.confirm-form").await;

    assert_eq!(browser.current_url().await, app.url("/admin/roles"));
    assert!(roles::get(&app.db, role.id).await.is_err(), "deleted");
    browser.close().await;
}

/// Whether `secret` gets a token for `client_id` right now.
async fn secret_works(app: &TestApp, client_id: &str, secret: &str) -> bool {
    reqwest::Client::new()
        .post(app.url("/oauth/token"))
        .basic_auth(client_id, Some(secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap()
        .status()
        == 200
}

#[tokio::test]
async fn rotate_and_disable_ask_first_and_a_refresh_creates_nothing_twice() {
    let app = spawn_app().await;
    let Some(browser) = Browser::launch().await else {
        return;
    };
    sign_in(&browser, &app).await;
    browser.goto(&app.url("/oauth/clients/new")).await;
    browser.fill("#field-name", "Reporter").await;
    browser
        .click("input[name=allowed_scopes][value='users:read']")
        .await;
    browser.submit("form.form").await;
    assert_eq!(browser.current_url().await, app.url("/shown-once"));
    let secret = browser.text("[data-testid=generated-password]").await;
    browser.assert_clean(&app.address).await;

    // A refresh of the result page registers nothing again and shows the secret no more.
    browser.goto(&browser.current_url().await).await;
    assert!(browser.exists("[data-testid=secret-gone]").await);
    assert!(!browser.text("main").await.contains(&secret));
    let clients: i64 = app.scalar("SELECT COUNT(*) FROM oauth_clients").await;
    assert_eq!(clients, 1, "one client after the refresh");

    browser.click("main a.button").await;
    browser.goto(&app.url("/oauth/clients")).await;
    browser.click("main a[href^='/oauth/clients/mdc_']").await;
    let page = browser.current_url().await;
    let client_id = browser.text("[data-testid=client-id]").await;
    assert_eq!(
        browser
            .computed_style("[data-testid=rotate-secret] button", "background-color")
            .await,
        browser
            .computed_style("[data-testid=delete-client] button", "background-color")
            .await,
        "rotating is styled as danger, like deleting"
    );

    browser.submit("[data-testid=rotate-secret] form").await;
    assert!(
        browser
            .text("[data-testid=confirmation]")
            .await
            .contains("stops the current secret at once")
    );
    assert!(
        secret_works(&app, &client_id, &secret).await,
        "one click rotates nothing"
    );
    browser.assert_clean(&app.address).await;
    browser.click("[data-testid=confirm-cancel]").await;
    assert_eq!(browser.current_url().await, page);

    browser.submit("[data-testid=toggle-client] form").await;
    assert!(browser.exists("[data-testid=confirmation]").await);
    assert!(
        secret_works(&app, &client_id, &secret).await,
        "one click disables nothing"
    );
    browser.submit("form.confirm-form").await;
    assert_eq!(browser.current_url().await, page);
    assert!(
        !secret_works(&app, &client_id, &secret).await,
        "disabled once confirmed"
    );
    browser.close().await;
}
