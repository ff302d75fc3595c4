//! Resetting a user's second factor: by an admin through the user page (asked first; only for
//! users within the admin's own permissions) and by the operator with `metadeck user reset-2fa`.

use serde_json::Value;
use service::access::{Grantor, roles::RoleInput};
use service::audit::Actor;

use super::{PASSWORD, audited, enrol, page, post, user};
use crate::helpers::{TestApp, metadeck_bin, spawn_app};

async fn user_id(app: &TestApp, username: &str) -> i64 {
    app.scalar(&format!(
        "SELECT id FROM local_users WHERE username = '{username}'"
    ))
    .await
}

async fn second_factor_on(app: &TestApp, username: &str) -> bool {
    let n: i64 = app
        .scalar(&format!(
            "SELECT COUNT(*) FROM user_totp t JOIN local_users u ON u.id = t.user_id \
             WHERE u.username = '{username}' AND t.confirmed_at IS NOT NULL"
        ))
        .await;
    n == 1
}

#[tokio::test]
async fn an_admin_resets_a_second_factor_only_for_users_within_their_own_permissions() {
    let app = spawn_app().await;
    let otto = user(&app, "otto", "operator").await;
    enrol(&app, &otto).await;
    let id = user_id(&app, "otto").await;
    let reset = format!("/admin/users/{id}/reset-2fa");

    // A user admin lacking the operator's permissions may not act on otto.
    let input = RoleInput::parse(
        "user-admin",
        None,
        &["users:read".into(), "users:write".into()],
    )
    .unwrap();
    service::access::roles::create(&app.db, &Grantor::operator(Actor::Cli), None, input)
        .await
        .unwrap();
    let uma = user(&app, "uma", "user-admin").await;
    let res = post(&app, &uma, &reset, &[("confirm", "yes")]).await;
    assert_eq!(res.status(), 403);
    assert!(second_factor_on(&app, "otto").await);

    app.login_as_admin().await;
    let (_, user_page) = page(&app, &app.client, &format!("/admin/users/{id}")).await;
    assert!(user_page.contains("data-testid=\"reset-second-factor\""));
    let res = post(&app, &app.client, &reset, &[]).await;
    assert_eq!(res.status(), 200, "asked first");
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Reset the second factor of otto?")
    );
    assert!(second_factor_on(&app, "otto").await);

    let res = post(&app, &app.client, &reset, &[("confirm", "yes")]).await;
    assert_eq!(res.status(), 303);
    assert!(!second_factor_on(&app, "otto").await);
    let target: String = app
        .scalar("SELECT target_id FROM audit WHERE action = 'totp.reset'")
        .await;
    assert_eq!(target, "otto");
    let client = crate::helpers::new_client();
    let res = app.login_with(&client, "otto", PASSWORD).await;
    assert_eq!(
        res.headers()["location"],
        "/",
        "the password alone signs otto in"
    );
}

#[tokio::test]
async fn the_cli_resets_a_second_factor() {
    let app = spawn_app().await;
    let otto = user(&app, "otto", "operator").await;
    enrol(&app, &otto).await;

    let out = metadeck_bin()
        .env("DATABASE_URL", &app.database.url)
        .args(["user", "reset-2fa", "--username", "otto", "--json"])
        .output()
        .unwrap();

    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["username"], "otto");
    assert_eq!(report["reset"], true);
    assert!(!second_factor_on(&app, "otto").await);
    assert_eq!(audited(&app, "totp.reset").await, 1);
    let actor: String = app
        .scalar("SELECT actor FROM audit WHERE action = 'totp.reset'")
        .await;
    assert_eq!(actor, "cli");
}
