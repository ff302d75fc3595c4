//! Single sign-on against a real OpenID provider (oidc-provider, `tests/fixtures/oidc/`):
//! the sign-in through the provider's own pages, roles recomputed from the groups at every
//! sign-in, the refusal of unmapped groups, and every abuse of R11.

use std::sync::Arc;

use reqwest::cookie::{CookieStore, Jar};

use super::oidc::{OidcProvider, add_provider, authorize, map_group, roles_of, set_enabled};
use crate::helpers::{TestApp, new_client, spawn_app_with};

/// An app that may reach the loopback provider, asks holders of `sync:read` for a second
/// factor (SSO sessions are exempt), and knows the provider `corp` with the mappings
/// `ops` → operator and `readers` → viewer; alice starts in `groups`.
async fn setup(groups: &[&str]) -> Option<(TestApp, OidcProvider, String)> {
    if !OidcProvider::available() {
        return None;
    }
    let app = spawn_app_with(|env| {
        env.insert(
            "METADECK_WEBHOOK_ALLOW_PRIVATE_NETWORKS".into(),
            "true".into(),
        );
        env.insert("METADECK_REQUIRE_2FA_FOR".into(), "sync:read".into());
    })
    .await;
    app.login_as_admin().await;
    // The admin holds sync:read too, so it sets up its second factor before anything else.
    crate::second_factor::enrol(&app, &app.client).await;
    let provider = OidcProvider::start(&[app.url("/login/sso/corp/callback")], groups).await;
    let id = add_provider(&app, &provider.as_provider("corp")).await;
    map_group(&app, "ops", "operator").await;
    map_group(&app, "readers", "viewer").await;
    Some((app, provider, id))
}

async fn sessions(app: &TestApp) -> i64 {
    app.scalar("SELECT COUNT(*) FROM sessions").await
}

async fn audited(app: &TestApp, action: &str, reason: &str) -> i64 {
    app.scalar(&format!(
        "SELECT COUNT(*) FROM audit WHERE action = '{action}' \
         AND CAST(details AS TEXT) LIKE '%{reason}%'"
    ))
    .await
}

/// Asserts that `res` is the refusal page with `reason`, that it was audited, and answers
/// the page.
async fn assert_refused(app: &TestApp, res: reqwest::Response, reason: &str) -> String {
    let status = if reason == "no_mapped_role" { 403 } else { 400 };
    assert_eq!(res.status(), status, "refused: {reason}");
    let html = res.text().await.unwrap();
    assert!(
        html.contains(&format!("data-reason=\"{reason}\"")),
        "the page names the reason {reason}: {html}"
    );
    assert_eq!(
        audited(app, "sso.login_refused", reason).await,
        1,
        "one audit row for {reason}"
    );
    html
}

/// A browser whose cookies the test can read.
fn browser_with_jar() -> (reqwest::Client, Arc<Jar>) {
    let jar = Arc::new(Jar::default());
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_provider(jar.clone())
        .build()
        .unwrap();
    (client, jar)
}

#[tokio::test]
async fn signing_in_through_a_real_provider_gives_exactly_the_mapped_roles_at_every_sign_in() {
    let Some((app, provider, _)) = setup(&["ops", "readers", "unrelated"]).await else {
        return;
    };

    let login = app.text_of(&new_client(), "/login").await;
    assert!(login.contains("Sign in with Corp corp"), "{login}");

    let browser = new_client();
    let callback = authorize(&app, &browser, "corp", "alice").await;
    let res = browser.get(&callback).send().await.unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/");
    assert_eq!(roles_of(&app, "alice").await, ["operator", "viewer"]);
    let no_password: i64 = app
        .scalar(
            "SELECT COUNT(*) FROM local_users WHERE username = 'alice' AND password_hash IS NULL",
        )
        .await;
    assert_eq!(no_password, 1, "an SSO user has no password");
    // Signed in, and not sent to set up a second factor although sync:read requires one.
    let home = browser.get(app.url("/")).send().await.unwrap();
    assert_eq!(home.status(), 200, "the SSO session opens the console");
    assert_eq!(audited(&app, "sso.login_succeeded", "alice").await, 1);

    // The group is removed at the provider: the role goes at the next sign-in.
    provider.set_groups("alice", &["readers"]);
    let again = new_client();
    let callback = authorize(&app, &again, "corp", "alice").await;
    let res = again.get(&callback).send().await.unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(roles_of(&app, "alice").await, ["viewer"]);
    let users: i64 = app.scalar("SELECT COUNT(*) FROM sso_identities").await;
    assert_eq!(users, 1, "the same identity signs in as the same user");
}

#[tokio::test]
async fn a_user_whose_groups_map_to_no_role_is_refused_with_a_page_naming_them() {
    let Some((app, _provider, _)) = setup(&["contractors", "<b>guests</b>"]).await else {
        return;
    };
    let before = sessions(&app).await;

    let browser = new_client();
    let callback = authorize(&app, &browser, "corp", "alice").await;
    let res = browser.get(&callback).send().await.unwrap();

    let html = assert_refused(&app, res, "no_mapped_role").await;
    assert!(html.contains("contractors"), "{html}");
    assert!(
        html.contains("&#60;b&#62;guests&#60;/b&#62;"),
        "escaped: {html}"
    );
    assert!(!html.contains("<b>guests"), "never raw HTML");
    assert_eq!(sessions(&app).await, before, "no session");
    let users: i64 = app
        .scalar("SELECT COUNT(*) FROM local_users WHERE username = 'alice'")
        .await;
    assert_eq!(users, 0, "nobody is created without a role");
    let home = browser.get(app.url("/")).send().await.unwrap();
    assert_eq!(home.status(), 303, "still signed out");
}

#[tokio::test]
async fn every_sso_abuse_is_refused_with_a_page_an_audit_row_and_no_session() {
    let Some((app, provider, id)) = setup(&["ops"]).await else {
        return;
    };
    let before = sessions(&app).await;

    // A callback whose state is not the one this browser's flow sent.
    let browser = new_client();
    let callback = authorize(&app, &browser, "corp", "alice").await;
    let forged = url::Url::parse(&callback).unwrap();
    let pairs: Vec<(String, String)> = forged
        .query_pairs()
        .map(|(k, v)| {
            let v = if k == "state" {
                "forged".into()
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect();
    let mut forged = forged.clone();
    forged.query_pairs_mut().clear().extend_pairs(pairs);
    let res = browser.get(forged.as_str()).send().await.unwrap();
    assert_refused(&app, res, "wrong_state").await;
    // A callback without any flow in the browser (another browser's answer).
    let res = new_client().get(&callback).send().await.unwrap();
    assert_eq!(res.status(), 400);

    // An ID token whose nonce is not the one sent.
    provider.tamper("nonce");
    let browser = new_client();
    let callback = authorize(&app, &browser, "corp", "alice").await;
    let res = browser.get(&callback).send().await.unwrap();
    assert_refused(&app, res, "wrong_nonce").await;

    // A userinfo answer about someone else than the ID token.
    provider.set_groups("alice", &["ops"]);
    provider.tamper("userinfo_sub");
    let browser = new_client();
    let callback = authorize(&app, &browser, "corp", "alice").await;
    let res = browser.get(&callback).send().await.unwrap();
    assert_refused(&app, res, "subject_mismatch").await;
    provider.set_groups("alice", &["ops"]);

    // The provider is disabled while the browser is at the provider.
    let browser = new_client();
    let callback = authorize(&app, &browser, "corp", "alice").await;
    set_enabled(&app, &id, &provider.as_provider("corp"), false).await;
    let res = browser.get(&callback).send().await.unwrap();
    assert_refused(&app, res, "provider_disabled").await;
    set_enabled(&app, &id, &provider.as_provider("corp"), true).await;
    assert_eq!(sessions(&app).await, before, "no refusal created a session");

    // One callback, replayed at once by several holders of its URL and cookie: one sign-in.
    let (browser, jar) = browser_with_jar();
    let callback = authorize(&app, &browser, "corp", "alice").await;
    let cookie = jar
        .cookies(&url::Url::parse(&callback).unwrap())
        .expect("the flow cookie");
    let attempts = (0..4).map(|_| {
        let (callback, cookie) = (callback.clone(), cookie.clone());
        async move {
            reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap()
                .get(&callback)
                .header("cookie", cookie)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    });
    let mut statuses = futures_util::future::join_all(attempts).await;
    statuses.sort();
    assert_eq!(statuses, [303, 400, 400, 400], "the callback is taken once");
    assert_eq!(
        audited(&app, "sso.login_refused", "replayed_callback").await,
        3
    );
    assert_eq!(sessions(&app).await, before + 1, "one session, the first's");
}

#[tokio::test]
async fn an_sso_user_whose_username_is_taken_gets_it_suffixed_with_the_provider() {
    let Some((app, _provider, _)) = setup(&["ops"]).await else {
        return;
    };
    app.create_user("alice", "viewer", "a-password-for-tests")
        .await;

    let browser = new_client();
    let callback = authorize(&app, &browser, "corp", "alice").await;
    let res = browser.get(&callback).send().await.unwrap();

    assert_eq!(res.status(), 303);
    assert_eq!(roles_of(&app, "alice@corp").await, ["operator"]);
    assert_eq!(
        roles_of(&app, "alice").await,
        ["viewer"],
        "the local alice is untouched"
    );
}
