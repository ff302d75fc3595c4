//! The device grant's limits (spec 06): user codes are guessed no faster than passwords, and
//! device authorization requests are rate-limited per client and per address.

use serde_json::Value;

use super::{Registered, public_app};
use crate::helpers::{TestApp, csrf_in, new_client, spawn_app};

async fn setup() -> (TestApp, Registered) {
    let app = spawn_app().await;
    app.login_as_admin().await;
    let client = public_app(&app, &["sync:read"]).await;
    (app, client)
}

/// A signed-in browser of a new user holding `role`, with its session's CSRF token.
async fn user_browser(app: &TestApp, role: &str) -> (reqwest::Client, String) {
    let browser = app.client_with_role(role).await;
    let html = app.text_of(&browser, "/device").await;
    let csrf = csrf_in(&html).expect("the device page has a CSRF token");
    (browser, csrf)
}

/// Types `code` on `/device`; returns the status and the `Retry-After` header.
async fn type_code(
    app: &TestApp,
    browser: &reqwest::Client,
    csrf: &str,
    code: &str,
) -> (u16, Option<String>) {
    let res = browser
        .post(app.url("/device"))
        .form(&[("csrf_token", csrf), ("user_code", code)])
        .send()
        .await
        .unwrap();
    let retry = res
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    (res.status().as_u16(), retry)
}

/// Wrong codes: eight letters of the user-code alphabet that no device was given.
fn wrong_code(i: usize) -> String {
    const LETTERS: &[u8] = b"BCDFGHJKLMNPQRSTVWXZ";
    (0..8)
        .map(|k| LETTERS[(i * 7 + k * 3) % LETTERS.len()] as char)
        .collect()
}

async fn start_device(app: &TestApp, client: &Registered) -> (u16, Value) {
    super::post_form(
        app,
        "/oauth/device_authorization",
        &[("client_id", &client.id), ("scope", "sync:read")],
    )
    .await
}

#[tokio::test]
async fn a_burst_of_wrong_user_codes_gets_five_looked_up_and_then_even_a_right_one_is_refused() {
    let (app, client) = setup().await;
    let (status, started) = start_device(&app, &client).await;
    assert_eq!(status, 200, "{started}");
    let (browser, csrf) = user_browser(&app, "viewer").await;

    let guesses = (0..20).map(|i| {
        let (app, browser, csrf) = (&app, &browser, &csrf);
        async move { type_code(app, browser, csrf, &wrong_code(i)).await }
    });
    let answers = futures_util::future::join_all(guesses).await;

    let statuses: Vec<u16> = answers.iter().map(|(s, _)| *s).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 422).count(),
        5,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 429).count(),
        15,
        "{statuses:?}"
    );
    let right = started["user_code"].as_str().unwrap();
    let (status, retry) = type_code(&app, &browser, &csrf, right).await;
    assert_eq!(status, 429, "the user is locked, even for a right code");
    let retry: u64 = retry.expect("Retry-After").parse().unwrap();
    assert!(retry > 800 && retry <= 900, "{retry}");
}

#[tokio::test]
async fn a_right_user_code_does_not_use_up_a_guess() {
    let (app, client) = setup().await;
    let (browser, csrf) = user_browser(&app, "viewer").await;
    for i in 0..4 {
        assert_eq!(
            type_code(&app, &browser, &csrf, &wrong_code(i)).await.0,
            422
        );
    }
    for _ in 0..3 {
        let (_, started) = start_device(&app, &client).await;
        let right = started["user_code"].as_str().unwrap();
        assert_eq!(
            type_code(&app, &browser, &csrf, right).await.0,
            200,
            "the consent page"
        );
    }
    assert_eq!(
        type_code(&app, &browser, &csrf, &wrong_code(9)).await.0,
        422,
        "the fifth wrong code is still looked up"
    );
    assert_eq!(
        type_code(&app, &browser, &csrf, &wrong_code(10)).await.0,
        429
    );
}

#[tokio::test]
async fn twenty_wrong_user_codes_from_one_address_block_it_for_every_user() {
    let (app, _) = setup().await;
    let mut browsers = Vec::new();
    for _ in 0..5 {
        browsers.push(user_browser(&app, "viewer").await);
    }
    let guesses = browsers
        .iter()
        .enumerate()
        .flat_map(|(u, (browser, csrf))| {
            let app = &app;
            (0..4).map(move |i| async move {
                type_code(app, browser, csrf, &wrong_code(u * 4 + i))
                    .await
                    .0
            })
        });
    let statuses = futures_util::future::join_all(guesses).await;
    assert!(statuses.iter().all(|s| *s == 422), "{statuses:?}");

    let (browser, csrf) = user_browser(&app, "viewer").await;
    assert_eq!(
        type_code(&app, &browser, &csrf, &wrong_code(99)).await.0,
        429,
        "the address has used its 20 guesses"
    );
}

#[tokio::test]
async fn a_flood_of_device_authorization_requests_is_cut_off_with_429_and_writes_nothing_more() {
    let (app, client) = setup().await;

    // Waves of 20 at once over one connection pool: a flood, without opening 100 sockets
    // at once on a test machine that is busy with other tests.
    let mut answers = Vec::with_capacity(100);
    for _ in 0..5 {
        let wave = (0..20).map(|_| start_device(&app, &client));
        answers.extend(futures_util::future::join_all(wave).await);
    }

    let granted = answers.iter().filter(|(s, _)| *s == 200).count();
    let refused: Vec<&Value> = answers
        .iter()
        .filter(|(s, _)| *s == 429)
        .map(|(_, b)| b)
        .collect();
    assert_eq!(granted + refused.len(), 100);
    assert_eq!(granted, 30, "one address gets 30 a minute");
    assert!(
        refused.iter().all(|b| b["error"] == "slow_down"),
        "{refused:?}"
    );
    let res = new_client()
        .post(app.url("/oauth/device_authorization"))
        .form(&[("client_id", client.id.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 429);
    assert!(res.headers().contains_key("retry-after"));
    let rows: i64 = app.scalar("SELECT COUNT(*) FROM oauth_device_codes").await;
    assert_eq!(rows, 30, "no device code beyond the limit was stored");
}
