//! The run page in a browser: the plan drawn as an SVG graph, and an event appended through
//! the API appearing in the open page's log without a reload.

use std::time::Duration;

use reqwest::Method;
use serde_json::json;

use crate::browser::Browser;
use crate::helpers::ADMIN_PASSWORD;
use crate::ops::Engine;

#[tokio::test]
async fn the_run_page_draws_the_graph_and_follows_new_events() {
    let e = Engine::start().await;
    e.run_with_units("live-run", &[("net", &[]), ("vm", &["net"])])
        .await;
    e.move_run("live-run", "running").await;
    e.append(json!({"run_id": "live-run", "level": "info", "message": "planning"}))
        .await;
    let Some(browser) = Browser::launch().await else {
        return;
    };
    browser.goto(&e.app.url("/login")).await;
    browser.fill("#field-username", "admin").await;
    browser.fill("#field-password", ADMIN_PASSWORD).await;
    browser.submit("form.form").await;
    browser.goto(&e.app.url("/ops/runs/live-run")).await;
    browser
        .wait_for(
            "svg[data-testid=plan-graph] g.ops-node",
            Duration::from_secs(5),
        )
        .await;
    let boxes = browser
        .eval("return document.querySelectorAll('svg[data-testid=plan-graph] g.ops-node').length;")
        .await;
    assert_eq!(boxes, json!(2));
    assert!(
        browser
            .exists("svg[data-testid=plan-graph] path.ops-edge")
            .await
    );
    // A marker that a navigation or reload would wipe out.
    browser.eval("window.stayedOnPage = true;").await;

    let (status, _) = e
        .call(
            Method::POST,
            "/api/ops/events",
            Some(
                json!({"run_id": "live-run", "level": "warn", "message": "instance slow to boot"}),
            ),
        )
        .await;
    assert_eq!(status, 201);
    browser
        .wait_for_text(
            "#event-log tbody tr:last-child",
            "instance slow to boot",
            Duration::from_secs(5),
        )
        .await;
    assert_eq!(
        browser.eval("return window.stayedOnPage === true;").await,
        json!(true),
        "no reload"
    );
    browser.assert_clean(&e.app.address).await;
    browser.close().await;
}
