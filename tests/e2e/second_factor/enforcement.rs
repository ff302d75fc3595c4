//! `METADECK_REQUIRE_2FA_FOR`: holders of a listed permission open nothing but enrolment until
//! they have a second factor; JSON calls with their session cookie are refused; bearer tokens
//! and users without the permission are untouched.

use serde_json::{Value, json};

use super::{enrol, page, user};
use crate::helpers::spawn_app_with;

#[tokio::test]
async fn a_required_second_factor_holds_pages_and_session_json_until_enrolled_but_not_bearer_tokens()
 {
    let app = spawn_app_with(|env| {
        env.insert(
            "METADECK_REQUIRE_2FA_FOR".into(),
            "users:write, oauth:write".into(),
        );
    })
    .await;
    app.login_as_admin().await;
    for path in ["/", "/admin/users", "/account"] {
        let res = app.get(path).await;
        assert_eq!(res.status(), 303, "{path}");
        assert_eq!(
            res.headers()["location"],
            "/account/second-factor",
            "{path}"
        );
    }
    let res = app.get("/api/audit").await;
    assert_eq!(res.status(), 403);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "second_factor_required");
    let (status, html) = page(&app, &app.client, "/account/second-factor").await;
    assert_eq!(status, 200);
    assert!(html.contains("data-testid=\"second-factor-required\""));

    enrol(&app, &app.client).await;
    assert_eq!(
        app.get("/").await.status(),
        200,
        "enrolled: the console opens"
    );
    assert_eq!(app.get("/api/audit").await.status(), 200);

    // A token of a client is no session: untouched while an unenrolled admin is held.
    let client = crate::oauth::register(
        &app,
        json!({"name": "svc", "allowed_scopes": ["audit:read"]}),
    )
    .await;
    let token = crate::oauth::token_for(&app, &client, None).await;
    let uma = user(&app, "uma", "admin").await;
    assert_eq!(page(&app, &uma, "/").await.0, 303);
    let held = uma.get(app.url("/api/audit")).send().await.unwrap();
    assert_eq!(held.status(), 403);
    assert_eq!(
        crate::oauth::bearer_get(&app, "/api/audit", &token)
            .await
            .status(),
        200
    );

    // Without a listed permission nothing is required.
    let vera = user(&app, "vera", "viewer").await;
    assert_eq!(page(&app, &vera, "/").await.0, 200);
}
