//! Turning the second factor off and new recovery codes: both need the password and a current
//! code, and each refusal is audited.

use super::{
    PASSWORD, audited, enrol, page, password_step, post, recovery_codes_in, rfc6238, send_code,
    testid_text, user,
};
use crate::helpers::spawn_app;

#[tokio::test]
async fn turning_it_off_needs_the_password_and_a_current_code() {
    let app = spawn_app().await;
    let dora = user(&app, "dora", "operator").await;
    let enrolled = enrol(&app, &dora).await;
    let now = enrolled.step + 1;
    let current = rfc6238::code(&enrolled.secret, now);
    let disable = "/account/second-factor/disable";

    for (fields, wrong, why) in [
        (
            vec![
                ("password", "not-the-password-at-all"),
                ("code", current.as_str()),
            ],
            "password",
            "without the password",
        ),
        (
            vec![("password", PASSWORD), ("code", "")],
            "code",
            "without a code",
        ),
        (
            vec![("password", PASSWORD), ("code", "000000")],
            "code",
            "with a wrong code",
        ),
    ] {
        let res = post(&app, &dora, disable, &fields).await;
        assert_eq!(res.status(), 422, "{why}");
        let html = res.text().await.unwrap();
        assert!(
            html.contains(&format!("data-field-error=\"{wrong}\"")),
            "{why}: {html}"
        );
    }
    assert_eq!(
        audited(&app, "totp.change_refused").await,
        3,
        "each refusal is audited"
    );
    let (_, account) = page(&app, &dora, "/account").await;
    assert!(
        testid_text(&account, "second-factor-status")
            .unwrap()
            .starts_with("On since")
    );

    let res = post(
        &app,
        &dora,
        disable,
        &[("password", PASSWORD), ("code", &current)],
    )
    .await;
    assert_eq!(res.status(), 303);
    assert_eq!(audited(&app, "totp.disabled").await, 1);
    let (_, account) = page(&app, &dora, "/account").await;
    assert!(
        testid_text(&account, "second-factor-status")
            .unwrap()
            .starts_with("Off")
    );
    let client = crate::helpers::new_client();
    let res = app.login_with(&client, "dora", PASSWORD).await;
    assert_eq!(
        res.headers()["location"],
        "/",
        "the password alone signs in again"
    );
}

#[tokio::test]
async fn new_recovery_codes_replace_the_old_ones() {
    let app = spawn_app().await;
    let dora = user(&app, "dora", "operator").await;
    let enrolled = enrol(&app, &dora).await;
    let renew = "/account/second-factor/recovery-codes";

    let res = post(
        &app,
        &dora,
        renew,
        &[("password", PASSWORD), ("code", "000000")],
    )
    .await;
    assert_eq!(res.status(), 422);
    let current = rfc6238::code(&enrolled.secret, enrolled.step + 1);
    let res = post(
        &app,
        &dora,
        renew,
        &[("password", PASSWORD), ("code", &current)],
    )
    .await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/shown-once");
    let (_, shown) = page(&app, &dora, "/shown-once").await;
    let fresh = recovery_codes_in(&shown);
    assert_eq!(fresh.len(), 10);
    assert_eq!(audited(&app, "totp.recovery_codes_renewed").await, 1);

    let client = password_step(&app, "dora").await;
    assert_eq!(
        send_code(&app, &client, &enrolled.recovery_codes[0])
            .await
            .status(),
        401,
        "an old code"
    );
    assert_eq!(
        send_code(&app, &client, &fresh[0]).await.status(),
        303,
        "a new code"
    );
}
