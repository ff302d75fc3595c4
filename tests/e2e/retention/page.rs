//! `/system/retention`: policies with where they come from, a change audited with old and
//! new values, `422` with the error under the field, `403` without `system:write`; and the
//! purge button's `POST /system/purge`.

use crate::helpers::{csrf_in, spawn_app, spawn_app_with};

#[tokio::test]
async fn the_page_shows_each_policy_and_where_it_comes_from() {
    let app = spawn_app_with(|env| {
        env.insert("METADECK_RETENTION_EVENTS_DAYS".into(), "14".into());
    })
    .await;
    app.login_as_admin().await;

    let html = app.text_of(&app.client, "/system/retention").await;

    assert!(
        html.contains(r#"data-testid="keeps-events">14 days<"#),
        "{html}"
    );
    assert!(html.contains(r#"data-testid="source-events">environment<"#));
    assert!(html.contains(r#"data-testid="keeps-audit">365 days<"#));
    assert!(html.contains(r#"data-testid="source-audit">default<"#));
    assert!(
        html.contains(r#"href="/system/retention""#),
        "the sidebar links the page"
    );
    assert!(html.contains("The sweeper has not run yet."));
}

#[tokio::test]
async fn a_change_wins_over_the_environment_and_is_audited_with_old_and_new() {
    let app = spawn_app_with(|env| {
        env.insert("METADECK_RETENTION_EVENTS_DAYS".into(), "14".into());
    })
    .await;
    app.login_as_admin().await;
    let html = app.text_of(&app.client, "/system/retention").await;
    let token = csrf_in(&html).unwrap();

    let res = app
        .client
        .post(app.url("/system/retention"))
        .form(&[
            ("csrf_token", token.as_str()),
            ("sync_history", "365"),
            ("webhook_deliveries", "30"),
            ("webhook_payloads", "7"),
            ("events", "0"),
            ("oauth_audit_logs", "365"),
            ("audit", "400"),
        ])
        .send()
        .await
        .unwrap();

    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/system/retention");
    let html = app.text_of(&app.client, "/system/retention").await;
    assert!(
        html.contains(r#"data-testid="keeps-events">forever<"#),
        "{html}"
    );
    assert!(html.contains(r#"data-testid="source-events">set on this page<"#));
    assert!(html.contains(r#"data-testid="keeps-audit">400 days<"#));
    let details: String = app
        .scalar("SELECT CAST(details AS TEXT) FROM audit WHERE action = 'retention.updated'")
        .await;
    let details: serde_json::Value = serde_json::from_str(&details).unwrap();
    assert_eq!(
        details,
        serde_json::json!({"old": {"events": 14, "audit": 365}, "new": {"events": 0, "audit": 400}})
    );
}

#[tokio::test]
async fn bad_days_are_a_422_with_the_error_under_the_field_and_the_input_kept() {
    let app = spawn_app().await;
    app.login_as_admin().await;
    let html = app.text_of(&app.client, "/system/retention").await;
    let token = csrf_in(&html).unwrap();

    let res = app
        .client
        .post(app.url("/system/retention"))
        .form(&[
            ("csrf_token", token.as_str()),
            ("sync_history", "365"),
            ("webhook_deliveries", "30"),
            ("webhook_payloads", "7"),
            ("events", "soon"),
            ("oauth_audit_logs", "-3"),
            ("audit", "365"),
        ])
        .send()
        .await
        .unwrap();

    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains(r#"data-field-error="events""#), "{html}");
    assert!(html.contains(r#"data-field-error="oauth_audit_logs""#));
    assert!(html.contains(r#"value="soon""#), "the input is kept");
    let changed: i64 = app.scalar("SELECT COUNT(*) FROM retention_policies").await;
    assert_eq!(changed, 0);
}

#[tokio::test]
async fn a_viewer_sees_the_policies_but_may_not_change_them_or_purge() {
    let app = spawn_app().await;
    let viewer = app.client_with_role("viewer").await;
    let html = app.text_of(&viewer, "/system/retention").await;
    assert!(html.contains(r#"data-testid="retention-policies""#));
    assert!(
        !html.contains(r#"action="/system/retention""#),
        "no form for a viewer"
    );
    let token = app.csrf_token(&viewer).await;

    for path in ["/system/retention", "/system/purge"] {
        let res = viewer
            .post(app.url(path))
            .form(&[("csrf_token", token.as_str()), ("events", "1")])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403, "{path}");
    }
    let changed: i64 = app.scalar("SELECT COUNT(*) FROM retention_policies").await;
    assert_eq!(changed, 0);
}

#[tokio::test]
async fn the_purge_button_purges_and_reports_the_counts_on_the_system_page() {
    let app = spawn_app().await;
    app.login_as_admin().await;
    let token = app.csrf_token(&app.client).await;

    let res = app
        .client
        .post(app.url("/system/purge"))
        .form(&[("csrf_token", token.as_str())])
        .send()
        .await
        .unwrap();

    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/system");
    let flash = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .any(|c| c.to_str().unwrap_or_default().contains("flash"));
    assert!(flash, "the counts travel as a flash message");
}
