//! The second factor (spec 02, R14): enrolment, the sign-in's second step, codes that work once,
//! recovery codes, management, enforcement by permission and the resets. Every code is made by
//! [`rfc6238`], the tests' own implementation, never by the product's.

mod enforcement;
mod enrolment;
mod management;
mod resets;
pub mod rfc6238;
mod sign_in;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::helpers::{TestApp, csrf_in};

/// The password of every user these tests make.
pub const PASSWORD: &str = "a-password-for-tests";

/// The current time step, once at least 10 seconds of it are left (waiting for the next one
/// otherwise), so that a test's codes for "this step" and its neighbours keep their meaning
/// on the server while the test sends them.
pub async fn fresh_step() -> u64 {
    loop {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
        let into = now.as_secs() % rfc6238::STEP_SECS;
        if into < rfc6238::STEP_SECS - 10 {
            return now.as_secs() / rfc6238::STEP_SECS;
        }
        tokio::time::sleep(Duration::from_secs(rfc6238::STEP_SECS - into)).await;
    }
}

/// What an enrolment leaves the user with.
pub struct Enrolled {
    /// The shared secret, as read from the enrolment page.
    pub secret: Vec<u8>,
    /// The ten recovery codes, as shown once.
    pub recovery_codes: Vec<String>,
    /// The step the confirming code was for (used up).
    pub step: u64,
}

/// `client`'s page at `path`.
pub async fn page(app: &TestApp, client: &reqwest::Client, path: &str) -> (u16, String) {
    let res = client.get(app.url(path)).send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

/// The text of the element carrying `data-testid="{testid}"` (up to the next tag).
pub fn testid_text(html: &str, testid: &str) -> Option<String> {
    let marker = format!("data-testid=\"{testid}\"");
    let rest = &html[html.find(&marker)? + marker.len()..];
    let rest = &rest[rest.find('>')? + 1..];
    Some(rest[..rest.find('<')?].trim().to_owned())
}

/// Posts a page form as the signed-in `client`, with its session's CSRF token.
pub async fn post(
    app: &TestApp,
    client: &reqwest::Client,
    path: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    // Read where a user held until enrolment can read it too.
    let (status, html) = page(app, client, "/account/second-factor").await;
    let csrf = match csrf_in(&html) {
        Some(token) if status == 200 => token,
        _ => app.csrf_token(client).await,
    };
    let mut form = vec![("csrf_token", csrf.as_str())];
    form.extend_from_slice(fields);
    client.post(app.url(path)).form(&form).send().await.unwrap()
}

/// The secret the enrolment page shows `client`.
pub async fn secret_on_page(app: &TestApp, client: &reqwest::Client) -> Vec<u8> {
    let (status, html) = page(app, client, "/account/second-factor").await;
    assert_eq!(status, 200, "{html}");
    rfc6238::base32_decode(&testid_text(&html, "totp-secret").expect("the secret in text"))
}

/// Enrols the signed-in `client`: reads the secret, confirms with the previous step's code (so
/// the current and next steps stay free for signing in) and reads the recovery codes.
pub async fn enrol(app: &TestApp, client: &reqwest::Client) -> Enrolled {
    let secret = secret_on_page(app, client).await;
    let step = fresh_step().await - 1;
    let res = post(
        app,
        client,
        "/account/second-factor",
        &[("code", &rfc6238::code(&secret, step))],
    )
    .await;
    assert_eq!(res.status(), 303, "the confirming code is taken");
    assert_eq!(res.headers()["location"], "/shown-once");
    let (_, shown) = page(app, client, "/shown-once").await;
    let recovery_codes = recovery_codes_in(&shown);
    assert_eq!(recovery_codes.len(), 10, "{shown}");
    Enrolled {
        secret,
        recovery_codes,
        step,
    }
}

/// The recovery codes a `/shown-once` page shows.
pub fn recovery_codes_in(html: &str) -> Vec<String> {
    testid_text(html, "generated-password")
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_owned)
        .collect()
}

/// The sign-in's second step: sends `code` as `client`, whose password step is pending.
pub async fn send_code(app: &TestApp, client: &reqwest::Client, code: &str) -> reqwest::Response {
    let (_, html) = page(app, client, "/login/second-factor").await;
    let csrf = csrf_in(&html).expect("the code form carries a CSRF token");
    client
        .post(app.url("/login/second-factor"))
        .form(&[("csrf_token", csrf.as_str()), ("code", code)])
        .send()
        .await
        .unwrap()
}

/// A new client past the password step of `username`, asked for the code.
pub async fn password_step(app: &TestApp, username: &str) -> reqwest::Client {
    let client = crate::helpers::new_client();
    let res = app.login_with(&client, username, PASSWORD).await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        res.headers()["location"],
        "/login/second-factor",
        "the password alone does not sign in"
    );
    client
}

/// How many audit rows of `action` there are.
pub async fn audited(app: &TestApp, action: &str) -> i64 {
    app.scalar(&format!(
        "SELECT COUNT(*) FROM audit WHERE action = '{action}'"
    ))
    .await
}

/// Makes a user holding `role`, signed in on a new client.
pub async fn user(app: &TestApp, username: &str, role: &str) -> reqwest::Client {
    app.create_user(username, role, PASSWORD).await;
    let client = crate::helpers::new_client();
    let res = app.login_with(&client, username, PASSWORD).await;
    assert_eq!(res.status(), 303, "{username} signs in");
    client
}
