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
