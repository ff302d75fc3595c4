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
