//! The console's lists in a real browser: a header sorts and reverses, "Next" then
//! "Previous" comes back to the first row with the position shown, a filter ignores case, a
//! bad filter is shown under its field with the others kept, and a wide audit trail fits a
//! 1280 px window.

use std::time::Duration;

use serde_json::{Value, json};

use crate::browser::Browser;
use crate::helpers::{ADMIN_PASSWORD, TestApp, spawn_app};

const WAIT: Duration = Duration::from_secs(10);

async fn sign_in(app: &TestApp, browser: &Browser) {
    browser.goto(&app.url("/login")).await;
    browser.fill("#field-username", "admin").await;
    browser.fill("#field-password", ADMIN_PASSWORD).await;
    browser.submit("form.form").await;
}

/// Seven devices, four of them made by IKEA.
async fn seven_devices(app: &TestApp) {
    app.login_as_admin().await;
    let token = app.csrf_token(&app.client).await;
    let items: Vec<Value> = (0..7)
        .map(|i| {
            json!({"device_id": format!("dev{i}"), "name": format!("Lamp {}", (i * 3) % 7),
                   "manufacturer": if i % 2 == 0 { "IKEA" } else { "Shelly" }})
        })
        .collect();
    app.bulk_upsert("devices", &token, items).await;
}

async fn first_row(browser: &Browser) -> String {
    browser.text("tbody tr:first-child").await
}

#[tokio::test]
async fn a_list_sorts_by_its_header_pages_both_ways_and_filters_without_regard_to_case() {
    let app = spawn_app().await;
    let Some(browser) = Browser::launch().await else {
        return;
    };
    seven_devices(&app).await;
    sign_in(&app, &browser).await;

    // Sort by name, then reverse it.
    browser.goto(&app.url("/registry/devices?limit=3")).await;
    browser.click("th a.sort[href*='sort=name']").await;
    browser
        .wait_for("th[aria-sort=ascending] a[href*='sort=-name']", WAIT)
        .await;
    assert!(
        first_row(&browser).await.contains("Lamp 0"),
        "{}",
        first_row(&browser).await
    );
    let arrow = browser
        .eval("return getComputedStyle(document.querySelector('th[aria-sort=ascending] a.sort'), '::after').content")
        .await;
    assert_eq!(arrow, json!("\" ▲\""));
    browser.click("th[aria-sort=ascending] a.sort").await;
    browser
        .wait_for("th[aria-sort=descending] a[href*='sort=name']", WAIT)
        .await;
    assert!(first_row(&browser).await.contains("Lamp 6"));
    browser.assert_clean(&app.address).await;

    // Next, then Previous: back on the first row, the position said each time.
    let top = first_row(&browser).await;
    browser
        .wait_for_text("[data-testid=position]", "Rows 1–3", WAIT)
        .await;
    browser.click("a[rel=next]").await;
    browser
        .wait_for_text("[data-testid=position]", "Rows 4–6", WAIT)
        .await;
    assert_ne!(first_row(&browser).await, top);
    browser.click("a[rel=prev]").await;
    browser
        .wait_for_text("[data-testid=position]", "Rows 1–3", WAIT)
        .await;
    assert_eq!(first_row(&browser).await, top);
    assert!(
        !browser.exists("a[rel=prev]").await,
        "the first page has no Previous"
    );
    browser.assert_clean(&app.address).await;

    // "ikea" finds IKEA's devices, and the box offers the known values.
    browser.goto(&app.url("/registry/devices")).await;
    assert_eq!(
        browser.eval("return [...document.querySelectorAll('#known-manufacturer option')].map(o => o.value)").await,
        json!(["IKEA", "Shelly"])
    );
    browser.fill("#filter-manufacturer", "ikea").await;
    browser.submit("form.filters").await;
    browser
        .wait_for_text("[data-testid=list-note]", "4 devices match.", WAIT)
        .await;
    let rows = browser
        .eval("return [...document.querySelectorAll('tbody tr')].map(r => r.textContent)")
        .await;
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 4);
    assert!(
        rows.iter().all(|r| r.as_str().unwrap().contains("IKEA")),
        "{rows:?}"
    );
    browser.assert_clean(&app.address).await;

    // A bad date is said under its field; the actor stays as typed.
    let bad = app.url("/audit?since=2026-13-01&actor=cli");
    browser.goto(&bad).await;
    assert!(
        browser.text("#filter-since-error").await.contains("date"),
        "the error is under the field"
    );
    assert_eq!(
        browser
            .eval("return document.querySelector('#filter-actor').value")
            .await,
        json!("cli")
    );
    assert!(
        browser.exists("nav a[href='/audit']").await || browser.exists("a[href='/audit']").await
    );
    let errors = browser.console_errors_besides_status(&bad, 400).await;
    assert!(errors.is_empty(), "{errors:#?}");
}

#[tokio::test]
async fn the_audit_trail_with_long_details_fits_a_1280_px_window() {
    let app = spawn_app().await;
    let Some(browser) = Browser::launch().await else {
        return;
    };
    app.login_as_admin().await;
    crate::list_toolkit::put_long_device(&app).await;
    sign_in(&app, &browser).await;
    browser.goto(&app.url("/audit")).await;
    browser.wait_for("tbody tr", WAIT).await;
    let fits = browser
        .eval(
            "const page = document.documentElement;
             const wrap = document.querySelector('.table-wrap');
             return [page.scrollWidth, page.clientWidth, wrap.scrollWidth, wrap.clientWidth];",
        )
        .await;
    let w: Vec<u64> = serde_json::from_value(fits).unwrap();
    assert!(w[0] <= w[1], "the page does not scroll sideways: {w:?}");
    assert!(
        w[2] <= w[3],
        "no column is pushed out of the table's view: {w:?}"
    );
    let time_height = browser
        .eval(
            "return document.querySelector('tbody td.nowrap span').getBoundingClientRect().height",
        )
        .await;
    let row_text = browser
        .eval("return parseFloat(getComputedStyle(document.querySelector('tbody td')).lineHeight) || 24")
        .await;
    assert!(
        time_height.as_f64().unwrap() < row_text.as_f64().unwrap() * 1.5,
        "the time stays on one line: {time_height} vs line {row_text}"
    );
    assert!(
        browser.exists("td[title]").await,
        "a shortened value keeps its full text on hover"
    );
    browser.assert_clean(&app.address).await;
}

#[tokio::test]
async fn a_bulk_delete_ticks_the_page_asks_first_and_deletes() {
    let app = spawn_app().await;
    let Some(browser) = Browser::launch().await else {
        return;
    };
    seven_devices(&app).await;
    sign_in(&app, &browser).await;
    browser
        .goto(&app.url("/registry/devices?manufacturer=ikea"))
        .await;
    browser.click("input[data-select-all]").await;
    let ticked = browser
        .eval("return document.querySelectorAll('input[name=ids]:checked').length")
        .await;
    assert_eq!(ticked, json!(4), "the header box ticks the page");
    browser.submit("#bulk-form").await;
    browser.wait_for("[data-testid=confirmation]", WAIT).await;
    assert_eq!(browser.text("h1").await, "Delete 4 devices?");
    assert_eq!(
        browser
            .eval("return document.querySelectorAll('[data-testid=affected-name]').length")
            .await,
        json!(4)
    );
    assert!(
        browser
            .exists("button.danger[data-testid=confirm-submit]")
            .await
    );
    browser.assert_clean(&app.address).await;
    browser.submit("form.confirm-form").await;
    browser
        .wait_for_text(".flash", "4 devices were deleted.", WAIT)
        .await;
    assert!(
        browser.current_url().await.contains("manufacturer=ikea"),
        "back on the list as it was"
    );
    browser.goto(&app.url("/registry/devices")).await;
    browser
        .wait_for_text("[data-testid=list-note]", "3 devices match.", WAIT)
        .await;
    browser.assert_clean(&app.address).await;
}

#[tokio::test]
async fn entities_are_disabled_in_bulk_by_their_button_after_the_question() {
    let app = spawn_app().await;
    let Some(browser) = Browser::launch().await else {
        return;
    };
    app.login_as_admin().await;
    let token = app.csrf_token(&app.client).await;
    let items: Vec<Value> = ["light.a", "light.b", "switch.c"]
        .iter()
        .map(|id| json!({"entity_id": id}))
        .collect();
    app.bulk_upsert("entities", &token, items).await;
    sign_in(&app, &browser).await;
    browser
        .goto(&app.url("/registry/entities?domain=light"))
        .await;
    browser.click("input[data-select-all]").await;
    let ticked = browser
        .eval("return document.querySelectorAll('input[name=ids]:checked').length")
        .await;
    assert_eq!(ticked, json!(2), "the header box ticks the page");
    browser.click("button[data-testid=bulk-disable]").await;
    browser.wait_for("[data-testid=confirmation]", WAIT).await;
    assert_eq!(browser.text("h1").await, "Disable 2 entities?");
    browser.assert_clean(&app.address).await;
    browser.submit("form.confirm-form").await;
    browser
        .wait_for_text(".flash", "2 entities were disabled.", WAIT)
        .await;
    assert!(
        browser.current_url().await.contains("domain=light"),
        "back on the list as it was"
    );
    let disabled: i64 = app
        .scalar("SELECT COUNT(*) FROM entities WHERE disabled = TRUE")
        .await;
    assert_eq!(disabled, 2);
    browser.assert_clean(&app.address).await;
}
