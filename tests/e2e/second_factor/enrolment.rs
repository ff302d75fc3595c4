//! Enrolment: a QR code and the secret in text, active only after one valid code, ten recovery
//! codes shown once.

use super::{
    PASSWORD, audited, fresh_step, page, post, recovery_codes_in, rfc6238, secret_on_page,
    testid_text, user,
};
use crate::helpers::spawn_app;

#[tokio::test]
async fn enrolment_takes_effect_only_after_one_valid_code_and_shows_ten_recovery_codes_once() {
    let app = spawn_app().await;
    let dora = user(&app, "dora", "operator").await;
    let (_, account) = page(&app, &dora, "/account").await;
    assert!(
        testid_text(&account, "second-factor-status")
            .unwrap()
            .starts_with("Off")
    );

    let secret = secret_on_page(&app, &dora).await;
    assert_eq!(secret.len(), 20, "a 160-bit secret");
    assert_eq!(
        secret_on_page(&app, &dora).await,
        secret,
        "a reload keeps the secret"
    );
    let qr = dora
        .get(app.url("/account/second-factor/qr.svg"))
        .send()
        .await
        .unwrap();
    assert_eq!(qr.status(), 200);
    assert_eq!(qr.headers()["content-type"], "image/svg+xml");
    assert!(qr.text().await.unwrap().contains("<svg"));

    // Not yet on: the password alone still signs in.
    let other = crate::helpers::new_client();
    let res = app.login_with(&other, "dora", PASSWORD).await;
    assert_eq!(res.headers()["location"], "/");

    let step = fresh_step().await;
    for (wrong, why) in [
        (rfc6238::code(&secret, step - 3), "three steps old"),
        ("000000".to_owned(), "not the app's code"),
        ("12345".to_owned(), "too short"),
    ] {
        let res = post(&app, &dora, "/account/second-factor", &[("code", &wrong)]).await;
        assert_eq!(res.status(), 422, "{why}");
        assert!(
            res.text()
                .await
                .unwrap()
                .contains("data-field-error=\"code\""),
            "{why}"
        );
    }
    assert_eq!(audited(&app, "totp.enrolled").await, 0);

    // One step behind is accepted.
    let res = post(
        &app,
        &dora,
        "/account/second-factor",
        &[("code", &rfc6238::code(&secret, step - 1))],
    )
    .await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/shown-once");
    let (_, shown) = page(&app, &dora, "/shown-once").await;
    let codes = recovery_codes_in(&shown);
    assert_eq!(codes.len(), 10, "{shown}");
    let (_, again) = page(&app, &dora, "/shown-once").await;
    assert!(
        again.contains("data-testid=\"secret-gone\""),
        "a refresh does not show them again"
    );
    for code in &codes {
        assert!(!again.contains(code.as_str()));
    }

    let (_, account) = page(&app, &dora, "/account").await;
    assert!(
        testid_text(&account, "second-factor-status")
            .unwrap()
            .starts_with("On since")
    );
    assert_eq!(
        testid_text(&account, "recovery-codes-left").unwrap(),
        "10 recovery codes are left."
    );
    assert_eq!(audited(&app, "totp.enrolled").await, 1);
    let stored: String = app.scalar("SELECT secret_encrypted FROM user_totp").await;
    assert!(
        stored.starts_with("enc:v1:"),
        "the secret is encrypted at rest"
    );
    let hashes: i64 = app
        .scalar(&format!(
            "SELECT COUNT(*) FROM user_recovery_codes WHERE code_hash IN ('{}', '{}')",
            codes[0],
            codes[0].replace('-', "")
        ))
        .await;
    assert_eq!(hashes, 0, "recovery codes are stored hashed");

    let res = app
        .login_with(&crate::helpers::new_client(), "dora", PASSWORD)
        .await;
    assert_eq!(
        res.headers()["location"],
        "/login/second-factor",
        "now the code is asked for"
    );
}
