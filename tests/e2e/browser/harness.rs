//! The browser harness itself: it must see what it is there to catch.

use std::time::Duration;

use base64::Engine as _;

use crate::browser::Browser;
use crate::helpers::spawn_app;

#[tokio::test]
async fn console_errors_and_requests_to_other_origins_are_seen() {
    let app = spawn_app().await;
    // A second server: another port is another origin.
    let other = spawn_app().await;
    let foreign_image = other.url("/static/favicon.svg");
    let Some(browser) = Browser::launch().await else {
        return;
    };

    browser.goto(&app.url("/login")).await;
    assert_eq!(browser.console_errors().await, Vec::<String>::new());
    assert_eq!(
        browser.foreign_requests(&app.address).await,
        Vec::<String>::new()
    );

    // A console.error, an uncaught exception, a script that is not there, and an image from
    // another origin, which the page's Content-Security-Policy refuses.
    browser
        .eval(&format!(
            "console.error('deliberate console error');
             setTimeout(() => {{ throw new Error('deliberate uncaught error'); }});
             const script = document.createElement('script');
             script.src = '/static/no-such-script.js';
             document.head.append(script);
             const img = document.createElement('img');
             img.src = '{foreign_image}';
             document.body.append(img);"
        ))
        .await;
    let expected = [
        "deliberate console error",
        "deliberate uncaught error",
        "/static/no-such-script.js",
        foreign_image.as_str(),
    ];
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let errors = loop {
        let errors = browser.console_errors().await;
        let all_there = expected
            .iter()
            .all(|want| errors.iter().any(|e| e.contains(want)));
        if all_there || tokio::time::Instant::now() >= deadline {
            break errors;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    for want in expected {
        assert!(
            errors.iter().any(|e| e.contains(want)),
            "{want:?} is not among the console errors {errors:#?}"
        );
    }
    // Entries are kept: asking again loses none.
    assert_eq!(browser.console_errors().await, errors);

    // A page without that policy loads the image from the other origin, and that is seen.
    let page = format!("<!doctype html><title>foreign</title><img src='{foreign_image}'>");
    browser.goto(&data_url(&page)).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let foreign = loop {
        let foreign = browser.foreign_requests(&app.address).await;
        if !foreign.is_empty() || tokio::time::Instant::now() >= deadline {
            break foreign;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(foreign, vec![foreign_image.clone()]);
    assert_eq!(
        browser.foreign_requests(&other.address).await,
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn forms_are_filled_and_submitted() {
    let app = spawn_app().await;
    let Some(browser) = Browser::launch().await else {
        return;
    };
    let page = format!(
        "<!doctype html><title>form</title>
         <form action='{}' method='get'>
           <input name='q'>
           <select name='s'><option value='a'>Apple</option><option value='b'>Banana</option></select>
           <input name='d' type='date'>
           <button>Go</button>
         </form>",
        app.url("/no/such/page")
    );
    browser.goto(&data_url(&page)).await;
    assert!(browser.exists("form").await);
    assert!(!browser.exists("#no-such-element").await);

    browser.fill("input[name=q]", "replaced").await;
    browser.fill("input[name=q]", "hello world").await;
    browser.fill("select[name=s]", "Banana").await;
    browser.fill("input[name=d]", "2026-03-01").await;
    browser.submit("form").await;

    assert_eq!(
        browser.current_url().await,
        app.url("/no/such/page?q=hello+world&s=b&d=2026-03-01")
    );
    browser
        .wait_for_text(".error-status", "404", Duration::from_secs(5))
        .await;
    browser.close().await;
}

/// A page of its own, with no server behind it.
fn data_url(html: &str) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(html);
    format!("data:text/html;base64,{encoded}")
}
