//! Failures produced by the framework itself answer in the spec's shapes, never text/plain.

use serde_json::Value;

use crate::helpers::spawn_app;

async fn json_error(res: reqwest::Response) -> (u16, Value) {
    let status = res.status().as_u16();
    let content_type = res.headers()["content-type"].to_str().unwrap().to_string();
    assert!(
        content_type.starts_with("application/json"),
        "content type was {content_type}"
    );
    (status, res.json().await.unwrap())
}

#[tokio::test]
async fn an_unknown_api_route_is_a_json_404() {
    let app = spawn_app().await;

    let (status, body) = json_error(app.get("/api/no-such-thing").await).await;

    assert_eq!(status, 404);
    assert_eq!(body["error"]["code"], "not_found");
    assert!(body["error"]["message"].is_string());
}

#[tokio::test]
async fn a_wrong_method_is_a_json_405_with_allow() {
    let app = spawn_app().await;

    let res = app
        .client
        .delete(app.url("/api/openapi.json"))
        .send()
        .await
        .unwrap();

    assert_eq!(res.headers()["allow"], "GET");
    let (status, body) = json_error(res).await;
    assert_eq!(status, 405);
    assert_eq!(body["error"]["code"], "method_not_allowed");
}

#[tokio::test]
async fn an_unknown_page_is_an_html_404_page() {
    let app = spawn_app().await;

    let res = app.get("/no/such/page").await;

    assert_eq!(res.status(), 404);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = res.text().await.unwrap();
    assert!(html.contains("Not found"));
    assert!(html.contains("/static/favicon.svg"));
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let app = spawn_app().await;

    for path in ["/", "/healthz", "/no/such/page"] {
        let res = app.get(path).await;
        let h = res.headers();
        assert_eq!(
            h["content-security-policy"],
            "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
            "{path}"
        );
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert_eq!(h["referrer-policy"], "same-origin");
        assert!(h.contains_key("x-request-id"));
    }
}

fn is_html(res: &reqwest::Response) -> bool {
    res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html")
}

#[tokio::test]
async fn a_wrong_method_on_a_console_page_is_an_html_405_page() {
    let app = spawn_app().await;

    for path in ["/oauth/clients", "/oauth/audit", "/oauth/device-codes"] {
        let res = app.client.delete(app.url(path)).send().await.unwrap();

        assert_eq!(res.status(), 405, "{path}");
        assert!(res.headers().contains_key("allow"), "{path}");
        assert!(is_html(&res), "{path} answers HTML");
        assert!(
            res.text()
                .await
                .unwrap()
                .contains("cannot be used that way")
        );
    }
}

#[tokio::test]
async fn a_wrong_method_on_the_oauth_clients_api_is_a_json_405() {
    let app = spawn_app().await;

    let res = app
        .client
        .delete(app.url("/api/oauth/clients"))
        .send()
        .await
        .unwrap();

    let (status, body) = json_error(res).await;
    assert_eq!(status, 405);
    assert_eq!(body["error"]["code"], "method_not_allowed");
}

#[tokio::test]
async fn a_query_the_extractor_refuses_is_an_html_400_on_a_page_and_json_on_the_api() {
    let app = spawn_app().await;
    app.login_as_admin().await;

    let page = app.get("/oauth/clients?limit=many").await;
    assert_eq!(page.status(), 400);
    assert!(is_html(&page), "the page answers HTML");

    let (status, body) = json_error(app.get("/api/oauth/clients?limit=many").await).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["code"], "bad_request");
}

#[tokio::test]
async fn an_oversize_form_is_an_html_413_on_a_page_and_json_on_a_protocol_route() {
    let app = spawn_app().await;
    let token = crate::helpers::login_token(&app.client, &app.url("/login")).await;
    // Within what a page's CSRF check reads, past the limit of the form extractor.
    let padding = "x".repeat(100 * 1024);

    let page = app
        .client
        .post(app.url("/login"))
        .form(&[
            ("csrf_token", token.as_str()),
            ("username", "admin"),
            ("password", "not-the-password"),
            ("padding", padding.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 413);
    assert!(is_html(&page), "the login page answers HTML");

    // Past the body limit of the protocol endpoints, which read their body themselves.
    let padding = "x".repeat(300 * 1024);
    let protocol = app
        .client
        .post(app.url("/oauth/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("padding", padding.as_str()),
        ])
        .send()
        .await
        .unwrap();
    let (status, body) = json_error(protocol).await;
    assert_eq!(status, 413);
    assert_eq!(body["error"]["code"], "payload_too_large");
}

/// No parsing library's wording reaches a page or a JSON error, wherever the input failed:
/// the URL parser, serde's enums and types, the integer parser of a query string.
#[tokio::test]
async fn parse_errors_read_as_plain_words_on_pages_and_in_json() {
    let app = crate::helpers::spawn_app().await;
    app.login_as_admin().await;
    let token = app.csrf_token(&app.client).await;
    let library = [
        "relative URL without a base",
        "unknown variant",
        "invalid type",
        "invalid digit",
        "deserialize error",
        "EOF while parsing",
    ];
    let mut answers = Vec::new();
    for (path, body) in [
        (
            "/api/webhooks",
            r#"{"url": "not-a-url", "events": ["*"]}"#.to_string(),
        ),
        (
            "/api/sync/runs",
            r#"{"tenant_id": "acme", "sync_type": "sqlite", "progress_percentage": "x"}"#
                .to_string(),
        ),
        ("/api/webhooks", r#"{"url": "#.to_string()),
    ] {
        let res = app
            .client
            .post(app.url(path))
            .header("X-CSRF-Token", &token)
            .header("Content-Type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert!(res.status().is_client_error(), "{path}");
        answers.push(res.text().await.unwrap());
    }
    for path in [
        "/api/webhooks?limit=abc",
        "/registry/devices?limit=abc",
        "/webhooks?limit=-1",
    ] {
        let res = app.get(path).await;
        assert_eq!(res.status(), 400, "{path}");
        answers.push(res.text().await.unwrap());
    }
    let page = app.text_of(&app.client, "/webhooks/new").await;
    let form = [
        ("csrf_token", crate::helpers::csrf_in(&page).unwrap()),
        ("url", "not-a-url".to_string()),
        ("events", "*".to_string()),
    ];
    let res = app
        .client
        .post(app.url("/webhooks/new"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let refused = res.text().await.unwrap();
    assert!(refused.contains("data-field-error=\"url\""), "{refused}");
    answers.push(refused);
    for answer in &answers {
        for phrase in library {
            assert!(!answer.contains(phrase), "{phrase} in {answer}");
        }
    }
}
