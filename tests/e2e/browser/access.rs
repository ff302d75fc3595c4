//! The newcomer's walk through the console: an admin creates a viewer in the UI; the viewer
//! signs in elsewhere, sees only what a viewer may open, gets the 403 page on the user admin,
//! and signs out.

use crate::browser::Browser;
use crate::helpers::{ADMIN_PASSWORD, spawn_app};

async fn sign_in(browser: &Browser, app: &crate::helpers::TestApp, username: &str, password: &str) {
    browser.goto(&app.url("/login")).await;
    browser.fill("#field-username", username).await;
    browser.fill("#field-password", password).await;
    browser.submit("form.form").await;
    assert_eq!(
        browser.current_url().await,
        app.url("/"),
        "{username} reaches the dashboard"
    );
}

#[tokio::test]
async fn an_admin_creates_a_viewer_who_sees_only_a_viewer_s_console() {
    let app = spawn_app().await;
    let Some(admin) = Browser::launch().await else {
        return;
    };
    sign_in(&admin, &app, "admin", ADMIN_PASSWORD).await;
    admin.goto(&app.url("/admin/users/new")).await;
    admin.fill("#field-username", "vera").await;
    admin.fill("#field-password", "vera-s-long-password").await;
    admin.click("input[name=roles][value=viewer]").await;
    admin.submit("form.form").await;
    assert!(
        admin
            .current_url()
            .await
            .starts_with(&app.url("/admin/users"))
    );
    assert!(admin.text("main").await.contains("vera"));
    admin.assert_clean(&app.address).await;

    let Some(viewer) = Browser::launch().await else {
        return;
    };
    sign_in(&viewer, &app, "vera", "vera-s-long-password").await;
    let nav = viewer.text("nav").await;
    assert!(
        nav.contains("Overview") && !nav.contains("Users") && !nav.contains("Audit"),
        "nav: {nav}"
    );
    viewer.assert_clean(&app.address).await;

    let forbidden = app.url("/admin/users");
    viewer.goto(&forbidden).await;
    assert_eq!(viewer.text(".error-status").await, "403");
    assert!(
        viewer
            .console_errors_besides_status(&forbidden, 403)
            .await
            .is_empty()
    );
    assert!(viewer.foreign_requests(&app.address).await.is_empty());

    viewer.goto(&app.url("/")).await;
    viewer.click("[data-testid=logout]").await;
    viewer
        .wait_for_text(
            ".flash",
            "You have been signed out.",
            std::time::Duration::from_secs(5),
        )
        .await;
    assert!(viewer.current_url().await.starts_with(&app.url("/login")));
    viewer.goto(&app.url("/")).await;
    assert!(
        viewer.current_url().await.starts_with(&app.url("/login")),
        "signed out for good"
    );
    // The console keeps its log across pages: only the 403 page's own status may be in it.
    assert!(
        viewer
            .console_errors_besides_status(&forbidden, 403)
            .await
            .is_empty()
    );
    assert!(viewer.foreign_requests(&app.address).await.is_empty());

    admin.goto(&app.url("/audit")).await;
    admin
        .screenshot(std::env::temp_dir().join("metadeck-audit.png"))
        .await;
    let trail = admin.text("main").await;
    assert!(
        trail.contains("user.created")
            && trail.contains("logout")
            && trail.contains("Hash chain intact")
    );
    admin.close().await;
    viewer.close().await;
}
