//! The console shell in a browser: the sidebar per role, its menu button on a phone, and the
//! forced change of a generated password.

use crate::browser::Browser;
use crate::helpers::{ADMIN_PASSWORD, TestApp, spawn_app};

async fn sign_in(browser: &Browser, app: &TestApp, username: &str, password: &str) {
    browser.goto(&app.url("/login")).await;
    browser.fill("#field-username", username).await;
    browser.fill("#field-password", password).await;
    browser.submit("form.form").await;
}

/// Whether the page is wider than the window (something sticks out sideways).
async fn overflows_sideways(browser: &Browser) -> bool {
    browser
        .eval("return document.documentElement.scrollWidth > window.innerWidth;")
        .await
        .as_bool()
        .unwrap()
}

#[tokio::test]
async fn the_sidebar_shows_a_role_its_pages_and_folds_behind_a_menu_button_on_a_phone() {
    let app = spawn_app().await;
    let role =
        service::access::roles::RoleInput::parse("syncwatch", None, &["sync:read".to_string()])
            .unwrap();
    let by = service::access::Grantor::operator(service::audit::Actor::Cli);
    service::access::roles::create(&app.db, &by, None, role)
        .await
        .unwrap();
    app.create_user("watcher", "syncwatch", "watcher-password-1")
        .await;
    let Some(browser) = Browser::launch().await else {
        return;
    };

    sign_in(&browser, &app, "watcher", "watcher-password-1").await;
    assert_eq!(browser.current_url().await, app.url("/"));
    let nav = browser.text("[data-testid=sidebar]").await;
    for shown in ["Overview", "Sync status", "History"] {
        assert!(nav.contains(shown), "{shown} in {nav:?}");
    }
    for hidden in ["Devices", "Webhooks", "Users", "Sessions", "OAuth", "Audit"] {
        assert!(!nav.contains(hidden), "{hidden} in {nav:?}");
    }
    assert_eq!(
        browser
            .text("[data-testid=sidebar] [aria-current=page]")
            .await,
        "Overview"
    );
    assert_eq!(
        browser.computed_style(".menu-button", "display").await,
        "none"
    );
    browser.assert_clean(&app.address).await;

    // A phone: the sidebar folds away behind the menu button, and nothing sticks out.
    browser.resize(390, 844).await;
    browser.goto(&app.url("/sync")).await;
    assert_eq!(browser.computed_style(".sidebar", "display").await, "none");
    assert_ne!(
        browser.computed_style(".menu-button", "display").await,
        "none"
    );
    assert!(!overflows_sideways(&browser).await);
    assert!(
        browser
            .element("[data-testid=logout]")
            .await
            .is_displayed()
            .await
            .unwrap(),
        "sign-out stays in reach"
    );
    browser.click("[data-testid=menu-button]").await;
    assert_eq!(browser.computed_style(".sidebar", "display").await, "block");
    assert!(!overflows_sideways(&browser).await);
    browser
        .click("[data-testid=sidebar] a[href='/sync/history']")
        .await;
    browser
        .wait_for("h1", std::time::Duration::from_secs(5))
        .await;
    assert_eq!(browser.current_url().await, app.url("/sync/history"));
    // The new page starts with the menu folded; its current entry is History.
    assert_eq!(browser.computed_style(".sidebar", "display").await, "none");
    let current = browser
        .eval(
            "return document.querySelector('[data-testid=sidebar] [aria-current=page]')\
             .textContent;",
        )
        .await;
    assert_eq!(current.as_str(), Some("History"));
    browser.assert_clean(&app.address).await;

    // The admin's overview on the same phone.
    let Some(admin) = Browser::launch().await else {
        return;
    };
    admin.resize(390, 844).await;
    sign_in(&admin, &app, "admin", ADMIN_PASSWORD).await;
    assert_eq!(admin.text("h1").await, "Overview");
    assert!(!overflows_sideways(&admin).await);
    admin.click("[data-testid=menu-button]").await;
    let nav = admin.text("[data-testid=sidebar]").await;
    for shown in [
        "Devices",
        "Users",
        "Sessions",
        "OAuth clients",
        "Audit trail",
    ] {
        assert!(nav.contains(shown), "{shown} in {nav:?}");
    }
    admin.assert_clean(&app.address).await;
    admin.close().await;
    browser.close().await;
}

#[tokio::test]
async fn a_generated_password_is_replaced_at_the_first_sign_in_then_the_console_opens() {
    let app = spawn_app().await;
    let input = service::access::users::NewUser {
        username: service::access::Username::parse("newbie").unwrap(),
        email: None,
        password: None,
        roles: vec!["operator".into()],
    };
    let by = service::access::Grantor::operator(service::audit::Actor::Cli);
    let (_, generated) = service::access::users::create(&app.db, &by, None, input)
        .await
        .unwrap();
    let generated = generated.unwrap();
    let Some(browser) = Browser::launch().await else {
        return;
    };

    sign_in(&browser, &app, "newbie", generated.expose()).await;
    assert_eq!(browser.current_url().await, app.url("/account/password"));
    assert_eq!(browser.text("h1").await, "Set your own password");
    assert!(!browser.exists("[data-testid=sidebar]").await);
    browser.goto(&app.url("/sync")).await;
    assert_eq!(
        browser.current_url().await,
        app.url("/account/password"),
        "nothing else opens"
    );

    browser
        .fill("#field-current_password", generated.expose())
        .await;
    browser
        .fill("#field-new_password", "newbie-s-own-password")
        .await;
    browser.submit("form.form").await;
    assert_eq!(browser.current_url().await, app.url("/"));
    assert_eq!(browser.text("h1").await, "Overview");
    assert!(
        browser
            .text(".flash")
            .await
            .contains("Your password is set")
    );
    assert!(browser.exists("[data-testid=sidebar]").await);
    browser.goto(&app.url("/sync")).await;
    assert_eq!(browser.current_url().await, app.url("/sync"));
    browser.assert_clean(&app.address).await;
    browser.close().await;
}
