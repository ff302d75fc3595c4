//! Browser tests: real pages in headless Chromium, driven over WebDriver.
//!
//! Each test launches its own [`Browser`]: a chromedriver on a port of its own, a Chromium with
//! a fresh, empty profile, and one session. Tests run in parallel threads and share nothing.
//!
//! ```ignore
//! let app = spawn_app().await;
//! let Some(browser) = Browser::launch().await else { return };
//! browser.goto(&app.url("/login")).await;
//! assert_eq!(browser.text("h1").await, "Sign in");
//! browser.assert_clean(&app.address).await; // no console errors, nothing from other origins
//! ```
//!
//! Where no browser is installed, [`Browser::launch`] prints a `skipped: …` line and returns
//! `None`, and the test passes without running; with `CI=true` a missing browser fails the test.
//! Chromium and chromedriver are found on `PATH` (Debian: `chromium`, `chromium-driver`), or
//! at `METADECK_TEST_CHROMIUM` / `METADECK_TEST_CHROMEDRIVER`. When a test fails, a screenshot
//! and the console log are written to its output (`$TMPDIR/metadeck-browser-failures/`).
//!
//! The client is `fantoccini` without any TLS feature: chromedriver listens on the loopback
//! interface over plain HTTP, so no TLS stack (native-tls, OpenSSL, aws-lc) is built, only
//! hyper's HTTP/1 client, which the dependency tree already has; its one sizeable addition is
//! the `webdriver` protocol crate. W3C WebDriver is a stable, browser-neutral protocol that
//! chromedriver implements in full; the CDP clients (`chromiumoxide`, `headless_chrome`) are
//! heavier to build (generated protocol bindings, WebSocket stacks) and follow Chrome's
//! DevTools versions. The one Chromium-specific call, reading the console log, is a custom
//! command on the same connection.

mod access;
mod actions;
mod console;
mod driver;

mod harness;
mod lists;
mod oauth;
mod ops;
mod second_factor;
mod smoke;
mod sso;
mod sync;
mod system;
mod webhooks;

use std::io::Write;
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use fantoccini::elements::Element;
use fantoccini::wd::{TimeoutConfiguration, WebDriverCompatibleCommand};
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};

use driver::{Binaries, Driver};

/// The viewport of every page, and so the size of every screenshot.
pub const VIEWPORT: (u32, u32) = (1280, 900);

/// How long helpers that act on an element wait for it to appear.
pub const ELEMENT_WAIT: Duration = Duration::from_secs(5);

/// How long a page may take to load.
const PAGE_LOAD: Duration = Duration::from_secs(30);

/// How often waiting helpers look again.
const POLL: Duration = Duration::from_millis(50);

/// Chromium's flags. Without the background-networking ones Chromium reaches out to Google
/// hosts at start, which fails on machines without internet access and is noise elsewhere.
const CHROMIUM_FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--disable-extensions",
    "--password-store=basic",
    "--lang=en-US",
];

/// One headless Chromium session, with the chromedriver behind it.
///
/// Dropping it kills chromedriver and Chromium (and saves a screenshot first when the test is
/// panicking); [`Browser::close`] ends the session politely instead.
pub struct Browser {
    client: Client,
    session_id: String,
    /// Browser log entries read so far: chromedriver hands out each entry once.
    log: Mutex<Vec<LogEntry>>,
    closed: bool,
    driver: Driver,
    _profile: tempfile::TempDir,
}

/// One entry of the browser's console log.
#[derive(Clone, Debug)]
pub struct LogEntry {
    /// `SEVERE`, `WARNING`, `INFO` or `DEBUG`.
    pub level: String,
    /// `console-api`, `javascript`, `network`, …
    pub source: String,
    pub message: String,
}

impl Browser {
    /// Starts chromedriver and a headless Chromium session.
    ///
    /// `None`, after a visible `skipped: …` line on stderr, when Chromium or chromedriver is not
    /// installed; with `CI=true` that is a failure instead. A browser that is installed but
    /// cannot be started always fails the test: that is never a reason to skip.
    pub async fn launch() -> Option<Self> {
        let binaries = match Binaries::find() {
            Ok(binaries) => binaries,
            Err(missing) if in_ci() => panic!(
                "CI=true, but no chromium/chromedriver found ({missing}): browser tests must run \
                 in CI; install the Debian packages chromium and chromium-driver"
            ),
            Err(missing) => {
                // Straight to stderr: the test harness would swallow `eprintln!` of a passing test.
                let _ = writeln!(
                    std::io::stderr(),
                    "{}: skipped: no chromium/chromedriver found ({missing}); install the Debian \
                     packages chromium and chromium-driver to run browser tests",
                    current_test()
                );
                return None;
            }
        };
        match Self::start(binaries).await {
            Ok(browser) => Some(browser),
            Err(error) => panic!("the browser does not start: {error}"),
        }
    }

    async fn start(binaries: Binaries) -> Result<Self, String> {
        let chromedriver = binaries.chromedriver.clone();
        let driver = tokio::task::spawn_blocking(move || Driver::start(&chromedriver))
            .await
            .map_err(|e| format!("starting chromedriver panicked: {e}"))??;
        let profile = tempfile::Builder::new()
            .prefix("metadeck-chromium-")
            .tempdir()
            .map_err(|e| format!("no temporary profile directory: {e}"))?;

        let mut args: Vec<String> = CHROMIUM_FLAGS.iter().map(|f| f.to_string()).collect();
        args.push(format!("--user-data-dir={}", profile.path().display()));
        args.push(format!("--window-size={},{}", VIEWPORT.0, VIEWPORT.1));
        let capabilities = json!({
            "browserName": "chrome",
            "pageLoadStrategy": "normal",
            "goog:chromeOptions": {
                "binary": binaries.chromium,
                "args": args,
            },
            "goog:loggingPrefs": { "browser": "ALL" },
        });
        let Value::Object(capabilities) = capabilities else {
            unreachable!("capabilities are an object")
        };

        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&driver.url())
            .await
            .map_err(|e| {
                format!(
                    "no WebDriver session with {} and {}: {e}\nchromedriver printed:\n{}",
                    binaries.chromium.display(),
                    binaries.chromedriver.display(),
                    driver.output()
                )
            })?;
        let session_id = client
            .session_id()
            .await
            .ok()
            .flatten()
            .ok_or("chromedriver returned no session id")?;
        client
            .update_timeouts(TimeoutConfiguration::new(
                Some(Duration::from_secs(10)),
                Some(PAGE_LOAD),
                Some(Duration::ZERO),
            ))
            .await
            .map_err(|e| format!("cannot set timeouts: {e}"))?;
        size_viewport(&client)
            .await
            .map_err(|e| format!("cannot size the window: {e}"))?;

        Ok(Self {
            client,
            session_id,
            log: Mutex::new(Vec::new()),
            closed: false,
            driver,
            _profile: profile,
        })
    }

    /// Resizes the viewport to `width` × `height` (a phone is 390 × 844).
    pub async fn resize(&self, width: u32, height: u32) {
        size_viewport_to(&self.client, (width, height))
            .await
            .expect("the window resizes");
    }

    /// The WebDriver client, for anything the helpers do not cover.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Loads `url` and waits until the page has loaded.
    pub async fn goto(&self, url: &str) {
        self.client
            .goto(url)
            .await
            .unwrap_or_else(|e| panic!("cannot load {url}: {e}"));
    }

    /// The address of the current page.
    pub async fn current_url(&self) -> String {
        self.client
            .current_url()
            .await
            .expect("the current URL")
            .to_string()
    }

    /// The first element matching `css`, waiting up to [`ELEMENT_WAIT`] for it.
    pub async fn element(&self, css: &str) -> Element {
        self.wait_for(css, ELEMENT_WAIT).await
    }

    /// Types `value` into the field matching `css`, replacing what it held; chooses the option
    /// with that value (or else that label) of a `<select>`. Date, time, colour and range inputs
    /// are set directly, as their typed forms depend on the locale.
    pub async fn fill(&self, css: &str, value: &str) {
        let field = self.element(css).await;
        let tag = field.tag_name().await.unwrap_or_default().to_lowercase();
        let kind = field.attr("type").await.ok().flatten().unwrap_or_default();
        let result = if tag == "select" {
            match field.select_by_value(value).await {
                Ok(()) => Ok(()),
                Err(_) => field.select_by_label(value).await,
            }
        } else if matches!(
            kind.to_lowercase().as_str(),
            "date" | "time" | "datetime-local" | "month" | "week" | "color" | "range"
        ) {
            self.client
                .execute(
                    "const el = document.querySelector(arguments[0]);
                     el.value = arguments[1];
                     el.dispatchEvent(new Event('input', { bubbles: true }));
                     el.dispatchEvent(new Event('change', { bubbles: true }));",
                    vec![json!(css), json!(value)],
                )
                .await
                .map(|_| ())
        } else {
            match field.clear().await {
                Ok(()) => field.send_keys(value).await,
                Err(e) => Err(e),
            }
        };
        result.unwrap_or_else(|e| panic!("cannot fill {css:?} with {value:?}: {e}"));
    }

    /// Clicks the element matching `css`, as a person would (it must be visible and enabled).
    pub async fn click(&self, css: &str) {
        self.element(css)
            .await
            .click()
            .await
            .unwrap_or_else(|e| panic!("cannot click {css:?}: {e}"));
    }

    /// Submits the form matching `css` and waits for the page it leads to.
    ///
    /// Clicks the form's first submit button, as a person would, or calls `requestSubmit()` when
    /// it has none; either way the browser's own validation runs first. Use [`Browser::click`]
    /// for a submission that is expected to stay on the page.
    pub async fn submit(&self, css: &str) {
        let form = self.element(css).await;
        self.client
            .execute("window.__metadeckOldPage = true;", vec![])
            .await
            .expect("marking the page");
        let buttons = form
            .find_all(Locator::Css(
                "button:not([type]), button[type=submit], input[type=submit], input[type=image]",
            ))
            .await
            .unwrap_or_default();
        let sent = match buttons.first() {
            Some(button) => button.click().await,
            None => self
                .client
                .execute(
                    "document.querySelector(arguments[0]).requestSubmit();",
                    vec![json!(css)],
                )
                .await
                .map(|_| ()),
        };
        sent.unwrap_or_else(|e| panic!("cannot submit {css:?}: {e}"));

        let deadline = tokio::time::Instant::now() + PAGE_LOAD;
        loop {
            let loaded = self
                .client
                .execute(
                    "return document.readyState === 'complete' && !window.__metadeckOldPage;",
                    vec![],
                )
                .await;
            // While the old page goes away a script may fail: that is "not yet".
            if matches!(loaded, Ok(Value::Bool(true))) {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "submitting {css:?} led to no new page within {PAGE_LOAD:?}; still at {}",
                self.current_url().await
            );
            tokio::time::sleep(POLL).await;
        }
    }

    /// The rendered text of the first element matching `css`.
    pub async fn text(&self, css: &str) -> String {
        self.element(css)
            .await
            .text()
            .await
            .unwrap_or_else(|e| panic!("no text of {css:?}: {e}"))
    }

    /// Whether an element matches `css` now (no waiting).
    pub async fn exists(&self, css: &str) -> bool {
        self.client
            .find_all(Locator::Css(css))
            .await
            .is_ok_and(|found| !found.is_empty())
    }

    /// Waits up to `timeout` for an element matching `css`, and returns the first.
    pub async fn wait_for(&self, css: &str, timeout: Duration) -> Element {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if let Some(found) = self
                .client
                .find_all(Locator::Css(css))
                .await
                .ok()
                .and_then(|found| found.into_iter().next())
            {
                return found;
            }
            if tokio::time::Instant::now() >= deadline {
                panic!(
                    "no element matches {css:?} after {timeout:?} on {}",
                    self.current_url().await
                );
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Waits up to `timeout` until an element matching `css` shows `text` (a substring).
    pub async fn wait_for_text(&self, css: &str, text: &str, timeout: Duration) {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut seen = Vec::new();
        loop {
            seen.clear();
            for element in self
                .client
                .find_all(Locator::Css(css))
                .await
                .unwrap_or_default()
            {
                if let Ok(shown) = element.text().await {
                    if shown.contains(text) {
                        return;
                    }
                    seen.push(shown);
                }
            }
            if tokio::time::Instant::now() >= deadline {
                panic!(
                    "no {css:?} shows {text:?} after {timeout:?} on {}; they show {seen:?}",
                    self.current_url().await
                );
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// The computed value of CSS `property` of the first element matching `css`.
    pub async fn computed_style(&self, css: &str, property: &str) -> String {
        self.element(css)
            .await
            .css_value(property)
            .await
            .unwrap_or_else(|e| panic!("no {property} of {css:?}: {e}"))
    }

    /// Runs `script` (a function body; `return` gives the value) in the page.
    pub async fn eval(&self, script: &str) -> Value {
        self.client
            .execute(script, vec![])
            .await
            .unwrap_or_else(|e| panic!("the script failed: {e}\n{script}"))
    }

    /// Saves a PNG of the viewport to `path`.
    pub async fn screenshot(&self, path: impl AsRef<Path>) {
        let path = path.as_ref();
        let png = self.client.screenshot().await.expect("a screenshot");
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).expect("the screenshot's directory");
        }
        std::fs::write(path, png)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    }

    /// Every entry of the browser's console log since launch: `console.*` calls, uncaught
    /// exceptions, failed loads (`source: network`), CSP reports…
    pub async fn console_log(&self) -> Vec<LogEntry> {
        let fresh = self
            .client
            .issue_cmd(BrowserLog)
            .await
            .expect("the browser's console log");
        let mut log = self.log.lock().expect("the log lock");
        log.extend(parse_log(&fresh));
        log.clone()
    }

    /// The messages of every `SEVERE` console entry since launch: `console.error`, uncaught
    /// exceptions, resources that failed to load.
    pub async fn console_errors(&self) -> Vec<String> {
        self.console_log()
            .await
            .into_iter()
            .filter(|entry| entry.level == "SEVERE")
            .map(|entry| format!("[{}] {}", entry.source, entry.message))
            .collect()
    }

    /// [`Browser::console_errors`] without the one entry a browser logs for a page answered with
    /// an error status (`<url> - Failed to load resource: … status of 404 …`), which is what an
    /// error page means; any other error is the page's fault.
    pub async fn console_errors_besides_status(&self, url: &str, status: u16) -> Vec<String> {
        let expected = format!(
            "{url} - Failed to load resource: the server responded with a status of {status} "
        );
        self.console_errors()
            .await
            .into_iter()
            .filter(|e| !e.contains(&expected))
            .collect()
    }

    /// Every URL the current page loaded (the document itself, and each resource: styles,
    /// scripts, images, fonts, fetches) whose origin is not `origin`'s. `data:`, `blob:` and
    /// `about:` URLs load nothing from anywhere and are left out. Resources of earlier pages are
    /// not seen: check each page.
    pub async fn foreign_requests(&self, origin: &str) -> Vec<String> {
        let found = self
            .client
            .execute(
                "const own = new URL(arguments[0]).origin;
                 const urls = [document.URL]
                   .concat(performance.getEntriesByType('navigation').map(e => e.name))
                   .concat(performance.getEntriesByType('resource').map(e => e.name));
                 return [...new Set(urls)].filter(u => {
                   let url;
                   try { url = new URL(u, document.baseURI); } catch (e) { return true; }
                   if (['data:', 'blob:', 'about:', 'javascript:'].includes(url.protocol)) {
                     return false;
                   }
                   return url.origin !== own;
                 });",
                vec![json!(origin)],
            )
            .await
            .expect("the page's resource list");
        serde_json::from_value(found).expect("a list of URLs")
    }

    /// Asserts that the browser logged no error since launch and that the current page loaded
    /// nothing from any origin but `origin`.
    pub async fn assert_clean(&self, origin: &str) {
        let errors = self.console_errors().await;
        assert!(errors.is_empty(), "console errors: {errors:#?}");
        let foreign = self.foreign_requests(origin).await;
        assert!(
            foreign.is_empty(),
            "{} loaded from other origins than {origin}: {foreign:#?}",
            self.current_url().await
        );
    }

    /// Ends the session, closing Chromium, and stops chromedriver.
    pub async fn close(mut self) {
        self.closed = true;
        if let Err(e) = self.client.clone().close().await {
            let _ = writeln!(std::io::stderr(), "closing the browser session: {e}");
        }
    }

    /// Saves a screenshot and prints the console log: called while a test panics.
    fn save_failure_evidence(&self) {
        let test = current_test();
        let timeout = Duration::from_secs(10);
        let session = format!("/session/{}", self.session_id);
        if let Ok((200, body)) =
            self.driver
                .blocking_request("GET", &format!("{session}/screenshot"), None, timeout)
        {
            use base64::Engine as _;
            let png = serde_json::from_slice::<Value>(&body)
                .ok()
                .and_then(|v| v["value"].as_str().map(str::to_owned))
                .and_then(|b64| base64::engine::general_purpose::STANDARD.decode(b64).ok());
            if let Some(png) = png {
                let name: String = test
                    .chars()
                    .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                    .collect();
                let path = std::env::temp_dir()
                    .join("metadeck-browser-failures")
                    .join(format!("{name}.png"));
                let saved = std::fs::create_dir_all(path.parent().expect("a parent"))
                    .and_then(|()| std::fs::write(&path, png));
                if saved.is_ok() {
                    eprintln!("{test}: screenshot at failure: {}", path.display());
                }
            }
        }
        let mut log = self.log.lock().map(|l| l.clone()).unwrap_or_default();
        if let Ok((200, body)) = self.driver.blocking_request(
            "POST",
            &format!("{session}/se/log"),
            Some(r#"{"type":"browser"}"#),
            timeout,
        ) && let Ok(value) = serde_json::from_slice::<Value>(&body)
        {
            log.extend(parse_log(&value["value"]));
        }
        if !log.is_empty() {
            eprintln!("{test}: browser console log:");
            for entry in log {
                eprintln!("  {} [{}] {}", entry.level, entry.source, entry.message);
            }
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.closed && std::thread::panicking() {
            self.save_failure_evidence();
        }
        // Then `driver` is dropped, which kills chromedriver and Chromium with it.
    }
}

/// Sizes the window so that the viewport (what pages and screenshots see) is [`VIEWPORT`]:
/// even headless, Chromium keeps room for browser controls out of the window's height.
async fn size_viewport(client: &Client) -> Result<(), fantoccini::error::CmdError> {
    size_viewport_to(client, VIEWPORT).await
}

/// Sizes the window so that the viewport is `width` × `height`.
async fn size_viewport_to(
    client: &Client,
    (width, height): (u32, u32),
) -> Result<(), fantoccini::error::CmdError> {
    client.set_window_size(width, height).await?;
    let inner = client
        .execute("return [window.innerWidth, window.innerHeight];", vec![])
        .await?;
    let inner = |i: usize| inner[i].as_u64().map_or(0, |v| v as u32);
    let (inner_width, inner_height) = (inner(0), inner(1));
    if (inner_width, inner_height) != (width, height) && inner_width > 0 && inner_height > 0 {
        client
            .set_window_size(width * 2 - inner_width, height * 2 - inner_height)
            .await?;
    }
    Ok(())
}

/// chromedriver's `POST /session/{id}/se/log {"type": "browser"}`: the browser log entries
/// recorded since the last call (so each is returned once).
#[derive(Debug)]
struct BrowserLog;

impl WebDriverCompatibleCommand for BrowserLog {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/se/log",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _request_url: &url::Url) -> (http::Method, Option<String>) {
        (
            http::Method::POST,
            Some(r#"{"type":"browser"}"#.to_string()),
        )
    }
}

fn parse_log(value: &Value) -> Vec<LogEntry> {
    let field = |entry: &Value, key: &str| entry[key].as_str().unwrap_or_default().to_string();
    value
        .as_array()
        .map(|entries| {
            entries
                .iter()
                .map(|entry| LogEntry {
                    level: field(entry, "level"),
                    source: field(entry, "source"),
                    message: field(entry, "message"),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Whether this is a CI run, where browser tests must not be skipped.
fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v.eq_ignore_ascii_case("true") || v == "1")
}

/// The running test's name (the test harness names each test's thread after it).
fn current_test() -> String {
    std::thread::current()
        .name()
        .unwrap_or("browser test")
        .to_string()
}
