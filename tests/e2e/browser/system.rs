//! `/system` in a browser: check now, download a backup, and the purge button, with their
//! results shown on the page.

use std::time::Duration;

use serde_json::json;

use crate::browser::Browser;
use crate::helpers::{ADMIN_PASSWORD, spawn_app};

#[tokio::test]
async fn an_operator_checks_the_database_and_downloads_a_backup_from_the_system_page() {
    let app = spawn_app().await;
    let Some(browser) = Browser::launch().await else {
        return;
    };
    browser.goto(&app.url("/login")).await;
    browser.fill("#field-username", "admin").await;
    browser.fill("#field-password", ADMIN_PASSWORD).await;
    browser.submit("form.form").await;

    browser.click("nav a[href='/system']").await;
    browser
        .wait_for("[data-testid=database-facts]", Duration::from_secs(5))
        .await;
    assert!(
        browser
            .text("[data-testid=last-check]")
            .await
            .contains("No check")
    );
    assert!(
        browser
            .exists("form[action='/system/purge'] [data-testid=purge-now]")
            .await
    );
    assert!(
        browser
            .exists("a[data-testid=retention-link][href='/system/retention']")
            .await
    );
    browser.assert_clean(&app.address).await;

    browser.submit("form[action='/system/check']").await;
    assert!(browser.current_url().await.ends_with("/system"));
    browser
        .wait_for_text(
            "[data-testid=check-result]",
            "no problem found",
            Duration::from_secs(5),
        )
        .await;
    assert!(
        browser
            .text("main")
            .await
            .contains("The check found no problem")
    );

    if app.database.path.is_some() {
        // The form as the page has it (with its CSRF token), sent as the button sends it; the
        // answer is read whole, as a browser saves a download.
        let answer = browser
            .client()
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 const form = document.querySelector(\"form[action='/system/backup']\");
                 fetch(form.action, {method: 'POST', body: new URLSearchParams(new FormData(form))})
                   .then(async r => {
                     const bytes = new Uint8Array(await r.arrayBuffer());
                     done([r.status, r.headers.get('content-disposition'), bytes.length,
                           String.fromCharCode(...bytes.slice(0, 15))]);
                   })
                   .catch(e => done(['failed', String(e)]));",
                vec![],
            )
            .await
            .expect("the download runs");
        assert_eq!(answer[0], json!(200), "{answer}");
        assert!(
            answer[1].as_str().unwrap().starts_with("attachment"),
            "{answer}"
        );
        assert!(answer[2].as_u64().unwrap() > 4096, "{answer}");
        assert_eq!(answer[3], json!("SQLite format 3"));
        browser.goto(&app.url("/system")).await;
        let backups = browser.text("[data-testid=backup-table]").await;
        assert!(
            backups.contains("page") && backups.contains("succeeded"),
            "{backups}"
        );
        assert_ne!(browser.text("[data-testid=last-verified]").await, "—");
    } else {
        assert!(
            browser
                .text("[data-testid=backups]")
                .await
                .contains("pg_dump")
        );
    }
    browser.assert_clean(&app.address).await;
}
