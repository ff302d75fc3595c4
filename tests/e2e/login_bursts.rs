//! Sign-in limits against parallel bursts (spec 02, R10): each attempt is counted before its
//! password is checked, so no burst gets more checks than the limit allows, on one instance or
//! on two sharing the database.

use crate::helpers::{ADMIN_PASSWORD, TestApp, login_token, new_client, spawn_app, spawn_app_with};

/// A sign-in form ready to post: a client holding its pre-session cookie, and its token.
struct ReadyForm {
    client: reqwest::Client,
    token: String,
}

async fn ready_forms(app: &TestApp, n: usize) -> Vec<ReadyForm> {
    let mut forms = Vec::with_capacity(n);
    for _ in 0..n {
        let client = new_client();
        let token = login_token(&client, &app.url("/login")).await;
        forms.push(ReadyForm { client, token });
    }
    forms
}

/// Posts every form at once (one per `(username, password)`), returning the statuses.
async fn burst(app: &TestApp, forms: Vec<ReadyForm>, attempts: &[(String, String)]) -> Vec<u16> {
    let posts = forms.into_iter().zip(attempts).map(|(form, (user, pw))| {
        let url = app.url("/login");
        async move {
            form.client
                .post(url)
                .form(&[
                    ("csrf_token", form.token.as_str()),
                    ("username", user.as_str()),
                    ("password", pw.as_str()),
                ])
                .send()
                .await
                .expect("the sign-in is answered")
                .status()
                .as_u16()
        }
    });
    futures_util::future::join_all(posts).await
}

fn count(statuses: &[u16], status: u16) -> usize {
    statuses.iter().filter(|s| **s == status).count()
}

/// Password checks that ran: each one that failed wrote exactly one `login.failed` row.
async fn failed_checks(app: &TestApp) -> i64 {
    app.scalar("SELECT COUNT(*) FROM audit WHERE action = 'login.failed'")
        .await
}

fn wrong_passwords_for(username: &str, n: usize) -> Vec<(String, String)> {
    (0..n)
        .map(|i| (username.to_owned(), format!("wrong-password-{i}")))
        .collect()
}

#[tokio::test]
async fn fifty_parallel_wrong_passwords_for_one_username_get_five_checks_and_then_the_right_one_is_refused()
 {
    let app = spawn_app().await;
    let forms = ready_forms(&app, 50).await;

    let statuses = burst(&app, forms, &wrong_passwords_for("admin", 50)).await;

    assert_eq!(count(&statuses, 401), 5, "{statuses:?}");
    assert_eq!(count(&statuses, 429), 45, "{statuses:?}");
    assert_eq!(
        failed_checks(&app).await,
        5,
        "only five passwords were checked"
    );
    let right = app.login_with(&new_client(), "admin", ADMIN_PASSWORD).await;
    assert_eq!(
        right.status(),
        429,
        "the username is locked, even for its password"
    );
}

#[tokio::test]
async fn fifty_parallel_wrong_sign_ins_from_one_address_across_usernames_get_twenty_checks() {
    let app = spawn_app().await;
    let forms = ready_forms(&app, 50).await;
    let attempts: Vec<(String, String)> = (0..50)
        .map(|i| (format!("nobody-{i}"), "wrong-password-x".to_owned()))
        .collect();

    let statuses = burst(&app, forms, &attempts).await;

    assert_eq!(count(&statuses, 401), 20, "{statuses:?}");
    assert_eq!(count(&statuses, 429), 30, "{statuses:?}");
    assert_eq!(failed_checks(&app).await, 20);
    let right = app.login_with(&new_client(), "admin", ADMIN_PASSWORD).await;
    assert_eq!(
        right.status(),
        429,
        "the address is blocked, even for a right password"
    );
}

#[tokio::test]
async fn a_burst_split_over_two_instances_of_one_database_still_gets_five_checks() {
    let first = spawn_app().await;
    let url = first.database.url.clone();
    let second = spawn_app_with(|env| {
        env.insert("DATABASE_URL".into(), url);
    })
    .await;
    let (forms_a, forms_b) = (
        ready_forms(&first, 25).await,
        ready_forms(&second, 25).await,
    );

    let attempts = wrong_passwords_for("admin", 25);
    let (a, b) = tokio::join!(
        burst(&first, forms_a, &attempts),
        burst(&second, forms_b, &attempts)
    );

    let statuses: Vec<u16> = a.into_iter().chain(b).collect();
    assert_eq!(count(&statuses, 401), 5, "{statuses:?}");
    assert_eq!(count(&statuses, 429), 45, "{statuses:?}");
    assert_eq!(failed_checks(&first).await, 5);
    let right = second
        .login_with(&new_client(), "admin", ADMIN_PASSWORD)
        .await;
    assert_eq!(right.status(), 429);
}

#[tokio::test]
async fn a_successful_sign_in_gives_its_attempt_back() {
    let app = spawn_app().await;
    let statuses = burst(
        &app,
        ready_forms(&app, 4).await,
        &wrong_passwords_for("admin", 4),
    )
    .await;
    assert_eq!(count(&statuses, 401), 4);

    assert_eq!(
        app.login_with(&new_client(), "admin", ADMIN_PASSWORD)
            .await
            .status(),
        303,
        "the fifth attempt is checked, and it is right"
    );
    let statuses = burst(
        &app,
        ready_forms(&app, 4).await,
        &wrong_passwords_for("admin", 4),
    )
    .await;
    assert_eq!(
        count(&statuses, 401),
        4,
        "the success started the username's count over"
    );

    // The address has 8 failures and one success: the success was given back, so 12 more
    // failures are checked before it is blocked.
    let attempts: Vec<(String, String)> = (0..13)
        .map(|i| (format!("nobody-{i}"), "wrong-password-x".to_owned()))
        .collect();
    let mut statuses = Vec::new();
    for (form, attempt) in ready_forms(&app, 13).await.into_iter().zip(&attempts) {
        statuses.extend(burst(&app, vec![form], std::slice::from_ref(attempt)).await);
    }
    assert_eq!(count(&statuses, 401), 12, "{statuses:?}");
    assert_eq!(statuses.last(), Some(&429));
}
