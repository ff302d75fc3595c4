//! The OAuth authorization server, driven by an independent client library (`oauth2`) and
//! by hand where an exact RFC answer is checked.

mod abuse;
mod admin;
mod device_limits;
mod flows;
mod narrowing;
mod services;
mod storage;

use serde_json::{Value, json};

use crate::helpers::{TestApp, csrf_in};

/// A registered client's credentials.
pub struct Registered {
    pub id: String,
    pub secret: Option<String>,
}

/// Registers a client through the JSON API as the signed-in admin of `app.client`.
pub async fn register(app: &TestApp, body: Value) -> Registered {
    let csrf = app.csrf_token(&app.client).await;
    let res = app
        .client
        .post(app.url("/api/oauth/clients"))
        .header("X-CSRF-Token", csrf)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201, "client registered");
    let created: Value = res.json().await.unwrap();
    Registered {
        id: created["client"]["client_id"].as_str().unwrap().to_owned(),
        secret: created["client_secret"].as_str().map(str::to_owned),
    }
}

/// A confidential client-credentials client allowed `scopes`.
pub async fn service_client(app: &TestApp, scopes: &[&str]) -> Registered {
    register(app, json!({"name": "svc", "allowed_scopes": scopes})).await
}

/// A public client for the code flow on a loopback redirect, plus the device grant.
pub async fn public_app(app: &TestApp, scopes: &[&str]) -> Registered {
    register(
        app,
        json!({
            "name": "Desk app",
            "is_confidential": false,
            "redirect_uris": ["http://127.0.0.1/callback"],
            "grant_types": ["authorization_code", "refresh_token", "device_code"],
            "allowed_scopes": scopes,
            "device_poll_interval_seconds": 1,
        }),
    )
    .await
}

/// Posts a form to a protocol endpoint; returns status and JSON body.
pub async fn post_form(app: &TestApp, path: &str, form: &[(&str, &str)]) -> (u16, Value) {
    let res = reqwest::Client::new()
        .post(app.url(path))
        .form(form)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// A client-credentials token for a confidential client.
pub async fn token_for(app: &TestApp, client: &Registered, scope: Option<&str>) -> String {
    let secret = client.secret.as_deref().unwrap();
    let mut form = vec![
        ("grant_type", "client_credentials"),
        ("client_id", client.id.as_str()),
        ("client_secret", secret),
    ];
    if let Some(s) = scope {
        form.push(("scope", s));
    }
    let (status, body) = post_form(app, "/oauth/token", &form).await;
    assert_eq!(status, 200, "{body}");
    body["access_token"].as_str().unwrap().to_owned()
}

/// `GET path` with a bearer token; returns the status.
pub async fn bearer_get(app: &TestApp, path: &str, token: &str) -> reqwest::Response {
    reqwest::Client::new()
        .get(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

/// Follows an authorization URL as the signed-in `browser` and answers the consent page with
/// `decision`; returns the `Location` of the final redirect to the client.
pub async fn consent(
    app: &TestApp,
    browser: &reqwest::Client,
    authorize_url: &str,
    decision: &str,
) -> String {
    let res = browser.get(authorize_url).send().await.unwrap();
    if res.status() == 302 {
        return location(&res);
    }
    assert_eq!(res.status(), 200, "the consent page shows");
    let html = res.text().await.unwrap();
    let mut form = hidden_inputs(&html);
    form.push(("csrf_token".into(), csrf_in(&html).unwrap()));
    form.push(("decision".into(), decision.into()));
    let res = browser
        .post(app.url("/oauth/authorize"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 302, "the decision redirects to the client");
    location(&res)
}

/// The `Location` header of a redirect.
pub fn location(res: &reqwest::Response) -> String {
    res.headers()["location"].to_str().unwrap().to_owned()
}

/// The hidden inputs of the consent form, except the CSRF token.
fn hidden_inputs(html: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for chunk in html.split("<input type=\"hidden\" name=\"").skip(1) {
        let Some((name, rest)) = chunk.split_once('"') else {
            continue;
        };
        let value = rest
            .split_once("value=\"")
            .and_then(|(_, v)| v.split_once('"'))
            .map(|(v, _)| decode_html(v))
            .unwrap_or_default();
        if name != "csrf_token" {
            out.push((name.to_owned(), value));
        }
    }
    out
}

fn decode_html(s: &str) -> String {
    s.replace("&#x2f;", "/")
        .replace("&#x2F;", "/")
        .replace("&#47;", "/")
        .replace("&#x3a;", ":")
        .replace("&#58;", ":")
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// A query parameter of a URL.
pub fn param(url: &str, name: &str) -> Option<String> {
    url::Url::parse(url)
        .ok()?
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}
