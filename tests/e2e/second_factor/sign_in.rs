//! The sign-in's second step: the password alone opens nothing, ±1 step, each code once (also
//! when raced), recovery codes once each, and its own lock.

use super::{
    audited, enrol, fresh_step, page, password_step, rfc6238, send_code, testid_text, user,
};
use crate::helpers::spawn_app;

#[tokio::test]
async fn the_password_alone_opens_nothing_and_each_code_works_once() {
    let app = spawn_app().await;
    let dora = user(&app, "dora", "operator").await;
    let enrolled = enrol(&app, &dora).await;
    let secret = &enrolled.secret;
    let now = enrolled.step + 1;

    let pending = password_step(&app, "dora").await;
    let (status, _) = page(&app, &pending, "/").await;
    assert_eq!(status, 303, "no session before the code");
    assert_eq!(
        audited(&app, "login.succeeded").await,
        1,
        "only dora's first sign-in"
    );

    // One step ahead is accepted.
    let res = send_code(&app, &pending, &rfc6238::code(secret, now + 1)).await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/");
    assert_eq!(page(&app, &pending, "/").await.0, 200, "signed in");
    assert_eq!(audited(&app, "login.succeeded").await, 2);

    let failed_before = audited(&app, "login.second_factor_failed").await;
    for (code, why) in [
        (rfc6238::code(secret, now + 1), "the code just used"),
        (rfc6238::code(secret, now), "older than the last one used"),
        (rfc6238::code(secret, now - 3), "three steps old"),
        (rfc6238::code(secret, enrolled.step), "the enrolment's code"),
    ] {
        let again = password_step(&app, "dora").await;
        let res = send_code(&app, &again, &code).await;
        assert_eq!(res.status(), 401, "{why}");
        assert_eq!(page(&app, &again, "/").await.0, 303, "{why}: not signed in");
    }
    assert_eq!(
        audited(&app, "login.second_factor_failed").await,
        failed_before + 4
    );
}

#[tokio::test]
async fn two_concurrent_submissions_of_one_code_let_exactly_one_in() {
    let app = spawn_app().await;
    let dora = user(&app, "dora", "operator").await;
    let enrolled = enrol(&app, &dora).await;
    let first = password_step(&app, "dora").await;
    let second = password_step(&app, "dora").await;
    let code = rfc6238::code(&enrolled.secret, fresh_step().await);

    let (a, b) = tokio::join!(
        send_code(&app, &first, &code),
        send_code(&app, &second, &code)
    );

    let mut statuses = [a.status().as_u16(), b.status().as_u16()];
    statuses.sort();
    assert_eq!(statuses, [303, 401], "exactly one of them signs in");
    assert_eq!(audited(&app, "login.second_factor_failed").await, 1);
}

#[tokio::test]
async fn recovery_codes_work_once_each_tell_the_user_and_are_counted() {
    let app = spawn_app().await;
    let dora = user(&app, "dora", "operator").await;
    let enrolled = enrol(&app, &dora).await;
    let code = enrolled.recovery_codes[3].clone();

    let client = password_step(&app, "dora").await;
    let res = send_code(&app, &client, &code.to_uppercase()).await;
    assert_eq!(res.status(), 303);
    let (status, home) = page(&app, &client, "/").await;
    assert_eq!(status, 200);
    assert!(
        home.contains("You signed in with a recovery code"),
        "told at once"
    );
    assert!(home.contains("9 recovery codes are left"));
    assert_eq!(audited(&app, "login.recovery_code_used").await, 1);

    let again = password_step(&app, "dora").await;
    assert_eq!(
        send_code(&app, &again, &code).await.status(),
        401,
        "used twice"
    );
    assert_eq!(audited(&app, "login.second_factor_failed").await, 1);
    let (_, account) = page(&app, &client, "/account").await;
    assert_eq!(
        testid_text(&account, "recovery-codes-left").unwrap(),
        "9 recovery codes are left."
    );

    let other = enrolled.recovery_codes[7].clone();
    assert_eq!(
        send_code(&app, &again, &other).await.status(),
        303,
        "another code works"
    );
    assert_eq!(audited(&app, "login.recovery_code_used").await, 2);
}

#[tokio::test]
async fn five_wrong_codes_lock_the_second_step_even_for_the_right_code() {
    let app = spawn_app().await;
    let dora = user(&app, "dora", "operator").await;
    let enrolled = enrol(&app, &dora).await;
    let client = password_step(&app, "dora").await;

    for _ in 0..5 {
        assert_eq!(send_code(&app, &client, "000000").await.status(), 401);
    }
    let right = rfc6238::code(&enrolled.secret, fresh_step().await);
    let res = send_code(&app, &client, &right).await;

    assert_eq!(res.status(), 429);
    assert!(res.headers().contains_key("retry-after"));
    assert_eq!(page(&app, &client, "/").await.0, 303, "not signed in");
    assert_eq!(audited(&app, "login.second_factor_failed").await, 5);
}
