//! Signing in through an identity provider in a real browser: the "Sign in with …" button,
//! the provider's own sign-in and consent pages, and back in the console with the role the
//! groups map to.

use crate::browser::Browser;
use crate::gateway::oidc::{OidcProvider, add_provider, map_group, roles_of};
use crate::helpers::spawn_app_with;

#[tokio::test]
async fn a_user_signs_in_through_the_provider_s_pages_and_lands_in_the_console() {
    if !OidcProvider::available() {
        return;
    }
    let app = spawn_app_with(|env| {
        env.insert(
            "METADECK_WEBHOOK_ALLOW_PRIVATE_NETWORKS".into(),
            "true".into(),
        );
    })
    .await;
    app.login_as_admin().await;
    let provider = OidcProvider::start(&[app.url("/login/sso/corp/callback")], &["ops"]).await;
    add_provider(&app, &provider.as_provider("corp")).await;
    map_group(&app, "ops", "operator").await;
    let Some(browser) = Browser::launch().await else {
        return;
    };

    browser.goto(&app.url("/login")).await;
    browser.click("[data-testid=sso-corp]").await;
    browser
        .wait_for("input[name=login]", std::time::Duration::from_secs(10))
        .await;
    assert!(browser.current_url().await.starts_with(&provider.base));
    browser.fill("input[name=login]", "alice").await;
    browser.fill("input[name=password]", "anything").await;
    browser.submit("form").await;
    // The provider asks for consent once.
    browser.submit("form").await;

    assert_eq!(browser.current_url().await, app.url("/"));
    assert_eq!(browser.text("[data-testid=current-user]").await, "alice");
    assert_eq!(roles_of(&app, "alice").await, ["operator"]);
    browser.assert_clean(&app.address).await;
}
