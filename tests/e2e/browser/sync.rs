//! The live sync dashboard in a browser: changes made through the API appear on the open page
//! within 2 s, without navigation; when the server goes away the page says so, and it
//! recovers by itself when the server returns.

use std::process::{Child, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

use crate::browser::Browser;
use crate::helpers::{
    ADMIN_PASSWORD, TestDatabase, csrf_in, free_port, login_token, metadeck_bin, new_client,
    spawn_app,
};

/// The bar of spec 03: a change shows within 2 s.
const LIVE: Duration = Duration::from_secs(2);

async fn sign_in(browser: &Browser, base: &str) {
    browser.goto(&format!("{base}/login")).await;
    browser.fill("#field-username", "admin").await;
    browser.fill("#field-password", ADMIN_PASSWORD).await;
    browser.submit("form.form").await;
    assert_eq!(browser.current_url().await, format!("{base}/"));
}

/// An API client signed in as the admin at `base`, with its CSRF token.
async fn api_client(base: &str) -> (reqwest::Client, String) {
    let client = new_client();
    let token = login_token(&client, &format!("{base}/login")).await;
    let res = client
        .post(format!("{base}/login"))
        .form(&[
            ("csrf_token", token.as_str()),
            ("username", "admin"),
            ("password", ADMIN_PASSWORD),
            ("next", "/"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let page = client.get(format!("{base}/")).send().await.unwrap();
    let csrf = csrf_in(&page.text().await.unwrap()).unwrap();
    (client, csrf)
}

async fn call(
    (client, csrf): &(reqwest::Client, String),
    method: reqwest::Method,
    url: String,
    body: Value,
) -> Value {
    let res = client
        .request(method, url)
        .header("X-CSRF-Token", csrf)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.status());
    res.json().await.unwrap()
}

fn card(tenant: &str, field: &str) -> String {
    format!(r#"[data-tenant="{tenant}"] [data-field="{field}"]"#)
}

#[tokio::test]
async fn the_dashboard_follows_changes_made_through_the_api() {
    let app = spawn_app().await;
    let api = api_client(&app.address).await;
    let sync = call(
        &api,
        reqwest::Method::POST,
        app.url("/api/sync/runs"),
        json!({"tenant_id": "acme", "sync_type": "graphdb"}),
    )
    .await;
    let Some(browser) = Browser::launch().await else {
        return;
    };
    sign_in(&browser, &app.address).await;
    browser.goto(&app.url("/sync")).await;
    browser
        .wait_for_text("[data-connection]", "Live", Duration::from_secs(5))
        .await;
    assert_eq!(browser.text(&card("acme", "status")).await, "running");
    assert_eq!(browser.text(&card("acme", "progress")).await, "0%");
    // A marker that a navigation or reload would wipe out.
    browser.eval("window.stayedOnPage = true;").await;

    let patch = app.url(&format!("/api/sync/runs/{}", sync["id"]));
    call(
        &api,
        reqwest::Method::PATCH,
        patch.clone(),
        json!({"progress_percentage": 40, "users_count": 1234, "devices_count": 7}),
    )
    .await;
    browser
        .wait_for_text(&card("acme", "progress"), "40%", LIVE)
        .await;
    browser
        .wait_for_text(&card("acme", "users_count"), "1234", LIVE)
        .await;
    assert_eq!(browser.text(&card("acme", "devices_count")).await, "7");

    call(
        &api,
        reqwest::Method::PATCH,
        patch,
        json!({"status": "failed", "error_details": "GraphDB unreachable"}),
    )
    .await;
    browser
        .wait_for_text(&card("acme", "status"), "failed", LIVE)
        .await;
    browser
        .wait_for_text(&card("acme", "last_error"), "GraphDB unreachable", LIVE)
        .await;
    // Its chart is redrawn by the server with the failed run.
    browser
        .wait_for(r#"[data-chart="acme"] rect.bar.failed"#, LIVE)
        .await;
    // A finished sync offers no cancel button.
    assert_eq!(
        browser
            .computed_style(
                r#"[data-tenant="acme"] form[data-field="cancel"]"#,
                "display"
            )
            .await,
        "none"
    );

    // A tenant that did not exist when the page loaded gets its card by itself.
    call(
        &api,
        reqwest::Method::POST,
        app.url("/api/sync/runs"),
        json!({"tenant_id": "newco", "sync_type": "sqlite"}),
    )
    .await;
    browser
        .wait_for_text(&card("newco", "status"), "running", LIVE)
        .await;
    assert!(
        browser
            .exists(r#"[data-tenant="newco"] form[data-field="cancel"]:not([hidden])"#)
            .await
    );
    browser
        .wait_for(r#"[data-chart="newco"] rect.bar.running"#, LIVE)
        .await;

    assert_eq!(
        browser.eval("return window.stayedOnPage === true;").await,
        json!(true)
    );
    assert_eq!(browser.current_url().await, app.url("/sync"));
    browser
        .screenshot(std::env::temp_dir().join("metadeck-sync.png"))
        .await;
    browser.assert_clean(&app.address).await;
    browser.close().await;
}

/// `metadeck serve` on `port` with `database`.
fn serve_on(database: &TestDatabase, port: u16) -> Child {
    metadeck_bin()
        .env("DATABASE_URL", &database.url)
        .env("METADECK_BIND", format!("127.0.0.1:{port}"))
        .env("METADECK_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .stderr(Stdio::null())
        .spawn()
        .expect("metadeck starts")
}

async fn wait_healthy(base: &str) {
    let client = reqwest::Client::new();
    for _ in 0..200 {
        if client
            .get(format!("{base}/healthz"))
            .send()
            .await
            .is_ok_and(|r| r.status() == 200)
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{base} did not become healthy within 10 s");
}

/// Stops the server with SIGTERM and waits for it to exit.
async fn stop(child: &mut Child) {
    let sent = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    for _ in 0..200 {
        if child.try_wait().unwrap().is_some() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = child.kill();
    panic!("the server did not stop within 10 s of SIGTERM, with a dashboard open");
}

#[tokio::test]
async fn the_dashboard_says_the_connection_is_lost_and_recovers_by_itself() {
    let database = TestDatabase::migrated().await;
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut server = serve_on(&database, port);
    wait_healthy(&base).await;
    let Some(browser) = Browser::launch().await else {
        let _ = server.kill();
        let _ = server.wait();
        return;
    };
    sign_in(&browser, &base).await;
    browser.goto(&format!("{base}/sync")).await;
    browser
        .wait_for_text("[data-connection]", "Live", Duration::from_secs(5))
        .await;
    browser.assert_clean(&base).await;
    browser.eval("window.stayedOnPage = true;").await;

    stop(&mut server).await;
    browser
        .wait_for_text(
            "[data-connection]",
            "Connection lost — retrying",
            Duration::from_secs(10),
        )
        .await;

    // The same database on the same port: the page reconnects without being touched.
    let mut server = serve_on(&database, port);
    wait_healthy(&base).await;
    browser
        .wait_for_text("[data-connection]", "Live", Duration::from_secs(10))
        .await;
    assert_eq!(
        browser.eval("return window.stayedOnPage === true;").await,
        json!(true)
    );

    // And it is live again: a sync started now shows.
    let api = api_client(&base).await;
    call(
        &api,
        reqwest::Method::POST,
        format!("{base}/api/sync/runs"),
        json!({"tenant_id": "after-restart", "sync_type": "sqlite"}),
    )
    .await;
    browser
        .wait_for_text(&card("after-restart", "status"), "running", LIVE)
        .await;
    browser.close().await;
    stop(&mut server).await;
}
