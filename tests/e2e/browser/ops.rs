//! The run page in a browser: the plan drawn as an SVG graph, an event appended through the
//! API appearing in the open page's log without a reload, and a plan of 200 units drawn
//! readably inside the page.

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

/// A plan of `layers` × `width` units: each unit past the first layer depends on two units of
/// the layer before it, and every resource name is longer than a box holds.
fn layered_plan(layers: usize, width: usize) -> Vec<serde_json::Value> {
    let mut units = Vec::new();
    for l in 0..layers {
        for i in 0..width {
            let deps: Vec<String> = if l == 0 {
                Vec::new()
            } else {
                vec![
                    format!("u{}-{i}", l - 1),
                    format!("u{}-{}", l - 1, (i + 3) % width),
                ]
            };
            units.push(json!({
                "id": format!("u{l}-{i}"),
                "resource_type": "aws_instance",
                "resource_name": format!("application_server_layer_{l:02}_number_{i:02}"),
                "action": "create",
                "dependencies": deps,
            }));
        }
    }
    units
}

#[tokio::test]
async fn a_plan_of_200_units_stays_readable_inside_the_page() {
    let (layers, width) = (10, 20);
    let e = Engine::start().await;
    let (status, body) = e
        .call(
            Method::POST,
            "/api/ops/runs",
            Some(json!({"id": "big-run", "plan_path": "plans/fleet.tf",
                        "plan_units": layered_plan(layers, width)})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    // The page answers, and the drawing's size follows the plan's layers and widest layer,
    // not the number of units or dependencies.
    let html = e.app.text_of(&e.app.client, "/ops/runs/big-run").await;
    let attr = |name: &str| -> i64 {
        let start = html.find("data-testid=\"plan-graph\"").expect("the graph");
        let rest = &html[start..];
        let at = rest.find(&format!(" {name}=\"")).expect("the attribute") + name.len() + 3;
        rest[at..].split('"').next().unwrap().parse().unwrap()
    };
    let (svg_w, svg_h) = (attr("width"), attr("height"));
    assert!(
        svg_w <= 20 + layers as i64 * 230 && svg_h <= 20 + width as i64 * 42,
        "the SVG is {svg_w} × {svg_h}"
    );

    let Some(browser) = Browser::launch().await else {
        return;
    };
    browser.goto(&e.app.url("/login")).await;
    browser.fill("#field-username", "admin").await;
    browser.fill("#field-password", ADMIN_PASSWORD).await;
    browser.submit("form.form").await;
    browser.goto(&e.app.url("/ops/runs/big-run")).await;
    browser
        .wait_for(
            "svg[data-testid=plan-graph] g.ops-node",
            Duration::from_secs(5),
        )
        .await;
    let facts = browser
        .eval(
            r#"
            const svg = document.querySelector('svg[data-testid=plan-graph]');
            const wrap = svg.closest('.ops-graph-wrap');
            const boxes = [...svg.querySelectorAll('g.ops-node')].map(g => {
                const r = g.querySelector('rect').getBoundingClientRect();
                const t = g.querySelector('text');
                return {x: r.left, y: r.top, w: r.width, h: r.height,
                        text: t.getComputedTextLength(),
                        font: parseFloat(getComputedStyle(t).fontSize),
                        title: g.querySelector('title').textContent};
            });
            let overlaps = 0;
            for (let i = 0; i < boxes.length; i++) {
                for (let j = i + 1; j < boxes.length; j++) {
                    const a = boxes[i], b = boxes[j];
                    if (a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h) {
                        overlaps++;
                    }
                }
            }
            return {
                nodes: boxes.length,
                edges: svg.querySelectorAll('path.ops-edge').length,
                overlaps,
                narrowest: Math.min(...boxes.map(b => b.w)),
                lowest: Math.min(...boxes.map(b => b.h)),
                smallest_font: Math.min(...boxes.map(b => b.font)),
                labels_fit: boxes.every(b => b.text <= b.w - 8),
                titles_whole: boxes.every(b => b.title.includes('application_server_layer_')
                    && b.title.includes('_number_')),
                page_overflow: document.documentElement.scrollWidth - window.innerWidth,
                wrap_fits: wrap.getBoundingClientRect().right <= window.innerWidth,
                wrap_scrolls: wrap.scrollWidth > wrap.clientWidth,
            };
            "#,
        )
        .await;
    assert_eq!(facts["nodes"], json!(layers * width), "{facts}");
    assert_eq!(facts["edges"], json!(2 * (layers - 1) * width), "{facts}");
    assert_eq!(
        facts["overlaps"],
        json!(0),
        "no box covers another: {facts}"
    );
    assert!(
        facts["narrowest"].as_f64().unwrap() >= 150.0 && facts["lowest"].as_f64().unwrap() >= 24.0,
        "boxes keep their size instead of shrinking to fit: {facts}"
    );
    assert!(facts["smallest_font"].as_f64().unwrap() >= 11.0, "{facts}");
    assert_eq!(
        facts["labels_fit"],
        json!(true),
        "labels are cut to their box: {facts}"
    );
    assert_eq!(
        facts["titles_whole"],
        json!(true),
        "hover shows the whole name: {facts}"
    );
    assert!(
        facts["page_overflow"].as_f64().unwrap() <= 0.0 && facts["wrap_fits"] == json!(true),
        "the page itself does not scroll sideways: {facts}"
    );
    assert_eq!(
        facts["wrap_scrolls"],
        json!(true),
        "the graph scrolls in its frame: {facts}"
    );
    browser.assert_clean(&e.app.address).await;
    browser.close().await;
}
