//! R8 and the error shape: hostile bodies and queries get a 4xx in the spec's JSON shape.

use serde_json::Value;

use crate::helpers::spawn_app;

async fn admin_with_token() -> (crate::helpers::TestApp, String) {
    let app = spawn_app().await;
    app.login_as_admin().await;
    let token = app.csrf_token(&app.client).await;
    (app, token)
}

async fn send(
    app: &crate::helpers::TestApp,
    token: &str,
    content_type: &str,
    body: Vec<u8>,
) -> (u16, Value) {
    let res = app
        .client
        .post(app.url("/api/users"))
        .header("X-CSRF-Token", token)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let ct = res.headers()["content-type"].to_str().unwrap().to_string();
    assert!(ct.starts_with("application/json"), "{status} came as {ct}");
    (status, res.json().await.unwrap())
}

#[tokio::test]
async fn hostile_bodies_are_refused_with_the_right_status_and_shape() {
    let (app, token) = admin_with_token().await;
    let json = "application/json";
    let deep = format!(
        "{{\"username\": \"x\", \"roles\": {}{}}}",
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    let cases: Vec<(&str, &str, Vec<u8>, u16, &str)> = vec![
        (
            "malformed JSON",
            json,
            br#"{"username": "#.to_vec(),
            400,
            "bad_request",
        ),
        (
            "invalid UTF-8",
            json,
            b"{\"username\": \"\xff\xfe\", \"roles\": []}".to_vec(),
            400,
            "bad_request",
        ),
        (
            "not JSON",
            "text/plain",
            br#"{"username": "x", "roles": []}"#.to_vec(),
            415,
            "unsupported_media_type",
        ),
        (
            "no content type",
            "",
            br#"{"username": "x", "roles": []}"#.to_vec(),
            415,
            "unsupported_media_type",
        ),
        (
            "over 1 MiB",
            json,
            format!(
                "{{\"username\": \"{}\", \"roles\": []}}",
                "a".repeat(1024 * 1024 + 10)
            )
            .into_bytes(),
            413,
            "payload_too_large",
        ),
        (
            "nested 10,000 deep",
            json,
            deep.into_bytes(),
            422,
            "validation_failed",
        ),
        (
            "wrong JSON type",
            json,
            b"[1, 2, 3]".to_vec(),
            422,
            "validation_failed",
        ),
        (
            "unknown field",
            json,
            br#"{"username": "x", "roles": [], "rolez": []}"#.to_vec(),
            422,
            "validation_failed",
        ),
        (
            "huge number",
            json,
            br#"{"username": 1e999999, "roles": []}"#.to_vec(),
            400,
            "bad_request",
        ),
        (
            "SQL in a field",
            json,
            br#"{"username": "x'); DROP TABLE local_users;--", "roles": []}"#.to_vec(),
            422,
            "validation_failed",
        ),
    ];
    for (what, ct, body, status, code) in cases {
        let (got, body) = send(&app, &token, ct, body).await;
        assert_eq!(
            (got, body["error"]["code"].as_str().unwrap()),
            (status, code),
            "{what}: {body}"
        );
        assert!(body["error"]["message"].is_string(), "{what}");
        assert!(body["error"]["details"].is_array(), "{what}");
    }
    let (_, unknown) = send(
        &app,
        &token,
        json,
        br#"{"username": "x", "roles": [], "rolez": []}"#.to_vec(),
    )
    .await;
    assert_eq!(unknown["error"]["details"][0]["field"], "rolez");
    let users: Value = app.get("/api/users").await.json().await.unwrap();
    assert_eq!(
        users["items"].as_array().unwrap().len(),
        1,
        "nothing was created"
    );
}

#[tokio::test]
async fn injection_strings_in_queries_are_data_and_are_rendered_escaped() {
    let (app, _) = admin_with_token().await;
    let hostile = "' OR 1=1 -- <script>alert(1)</script>";

    let api: Value = app
        .client
        .get(app.url("/api/audit"))
        .query(&[("actor", hostile)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let page = app
        .client
        .get(app.url("/audit"))
        .query(&[("actor", hostile)])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();

    assert_eq!(
        api["items"].as_array().unwrap().len(),
        0,
        "matched nothing: the string is data"
    );
    assert!(!page.contains("<script>alert(1)</script>"));
    assert!(
        page.contains("&#60;script&#62;alert(1)&#60;/script&#62;")
            || page.contains("&lt;script&gt;")
    );
}

/// R8 on the registry's routes: every hostile body, query and path answers 4xx, never 5xx.
#[tokio::test]
async fn registry_routes_answer_hostile_input_with_4xx() {
    let (app, token) = admin_with_token().await;
    let json = "application/json";
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let huge = format!(
        "[{{\"device_id\": \"{}\", \"name\": \"x\"}}]",
        "a".repeat(17 * 1024 * 1024)
    );
    let bodies: Vec<(&str, &str, Vec<u8>)> = vec![
        ("malformed", json, b"{\"name\": ".to_vec()),
        ("invalid UTF-8", json, b"{\"name\": \"\xff\xfe\"}".to_vec()),
        ("not JSON", "text/plain", b"{}".to_vec()),
        ("nested 10,000 deep", json, deep.into_bytes()),
        (
            "huge number",
            json,
            b"{\"name\": 1e999999, \"disabled\": 1e999999}".to_vec(),
        ),
        ("wrong type", json, b"\"a string\"".to_vec()),
        ("null", json, b"null".to_vec()),
        ("over 16 MiB", json, huge.into_bytes()),
        (
            "NUL in a string",
            json,
            b"{\"name\": \"a\\u0000b\", \"device_id\": \"x\"}".to_vec(),
        ),
    ];
    let routes = [
        (reqwest::Method::PUT, "/api/devices/d1"),
        (reqwest::Method::PUT, "/api/entities/light.x"),
        (reqwest::Method::POST, "/internal/devices/bulk_upsert"),
        (reqwest::Method::POST, "/internal/entities/bulk_upsert"),
        (reqwest::Method::PUT, "/api/me/preferences"),
    ];
    for (method, path) in &routes {
        for (what, ct, body) in &bodies {
            let res = app
                .client
                .request(method.clone(), app.url(path))
                .header("X-CSRF-Token", &token)
                .header("content-type", *ct)
                .body(body.clone())
                .send()
                .await
                .unwrap();
            let status = res.status().as_u16();
            assert!(
                (400..500).contains(&status),
                "{method} {path} with {what}: {status}"
            );
            let body: Value = res.json().await.unwrap();
            assert!(body["error"]["code"].is_string(), "{path} {what}");
        }
    }
    for (path, body) in [
        ("/api/devices/nul", serde_json::json!({"name": "a\u{0}b"})),
        (
            "/api/devices/nul",
            serde_json::json!({"name": "n", "model": "a\u{0}b"}),
        ),
        (
            "/api/entities/light.nul",
            serde_json::json!({"platform": "a\u{0}b"}),
        ),
        (
            "/api/me/preferences",
            serde_json::json!({"notification_settings": {"k": "a\u{0}b"}}),
        ),
        (
            "/api/me/preferences",
            serde_json::json!({"ui": {"default_tenant": "a\u{0}b"}}),
        ),
    ] {
        let res = app
            .client
            .put(app.url(path))
            .header("X-CSRF-Token", &token)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 422, "{path} {body}");
    }
    let long = "a".repeat(10_000);
    for path in [
        "/api/devices?limit=1e99".to_string(),
        "/api/devices?limit=-1".to_string(),
        "/api/devices?cursor=eyJpZCI6MX0".to_string(),
        "/api/devices?q=%27%3B%20DROP%20TABLE%20devices%3B--".to_string(),
        "/api/devices?q=%25%25%25%5C".to_string(),
        "/api/entities?disabled=1%27".to_string(),
        "/api/devices/%00".to_string(),
        "/api/devices/..%2F..%2Fetc".to_string(),
        format!("/api/devices/{long}"),
        format!("/api/entities/{long}"),
        "/registry/devices?cursor=%FF".to_string(),
        "/registry/devices?limit=99999999999999999999".to_string(),
        "/registry/entities?disabled=%3Cb%3E".to_string(),
        "/registry/devices/%3Cscript%3E".to_string(),
        "/api/devices?q=%00".to_string(),
        "/api/devices?area_id=a%00b".to_string(),
        "/api/entities?domain=%00".to_string(),
        "/registry/devices?manufacturer=%00".to_string(),
        "/api/devices?cursor=eyJpZCI6Ilx1MDAwMCJ9".to_string(),
        "/api/entities?cursor=Ilx1MDAwMCI".to_string(),
    ] {
        let status = app.get(&path).await.status().as_u16();
        assert!(status < 500, "{path}: {status}");
    }
    let devices: Value = app.get("/api/devices").await.json().await.unwrap();
    assert_eq!(
        devices["items"].as_array().unwrap().len(),
        0,
        "nothing was written"
    );
}
