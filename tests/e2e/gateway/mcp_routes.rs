//! The MCP server pages and API as people and clients use them: forms with kept input and
//! errors, masked headers, permissions, escaping, stdio servers and the background checker.

use serde_json::{Value, json};

use super::{check, create_server, server_at};
use crate::helpers::{spawn_app, spawn_app_with};

const HOSTILE: &str = "<script>alert('x')</script>' OR '1'='1'; DROP TABLE mcp_servers;--";

#[tokio::test]
async fn servers_are_made_edited_and_deleted_through_the_pages() {
    let app = spawn_app().await;
    app.login_as_admin().await;
    let csrf = app.csrf_token(&app.client).await;
    let home = app.text_of(&app.client, "/").await;
    assert!(
        home.contains("href=\"/gateway/mcp-servers\""),
        "the sidebar offers MCP servers"
    );
    let empty = app.text_of(&app.client, "/gateway/mcp-servers").await;
    assert!(
        empty.contains("New MCP server"),
        "an empty list says how to add one"
    );

    // A refused form keeps what was typed and puts each error under its field.
    let refused = app
        .client
        .post(app.url("/gateway/mcp-servers/new"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("name", "docs"),
            ("transport", "streamable-http"),
            ("url", "not a url"),
            ("headers", "Authorization: Bearer abc\nbroken line"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 422);
    let page = refused.text().await.unwrap();
    assert!(
        page.contains("data-field-error=\"url\"") && page.contains("data-field-error=\"headers\"")
    );
    assert!(page.contains("value=\"docs\""), "input is kept");

    let created = app
        .client
        .post(app.url("/gateway/mcp-servers/new"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("name", HOSTILE),
            ("transport", "streamable-http"),
            ("url", "https://93.184.216.34/mcp"),
            ("description", HOSTILE),
            ("enabled", "true"),
            ("headers", "Authorization: Bearer top-secret-1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 303);
    let page_url = created.headers()["location"].to_str().unwrap().to_string();
    let list = app.text_of(&app.client, "/gateway/mcp-servers").await;
    assert!(
        !list.contains("<script>alert"),
        "names are escaped in the list"
    );
    assert!(list.contains("&#60;script&#62;") || list.contains("&lt;script&gt;"));
    let page = app.text_of(&app.client, &page_url).await;
    assert!(!page.contains("<script>alert") && !page.contains("top-secret-1"));
    assert!(
        page.contains("authorization: (saved, hidden)"),
        "the saved header is masked"
    );
    let api: Value = app
        .get("/api/gateway/mcp-servers")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        api["items"][0]["name"], HOSTILE,
        "the name is stored as typed"
    );
    assert_eq!(
        app.scalar::<i64>("SELECT COUNT(*) FROM mcp_servers").await,
        1
    );

    // Saved with the mask left as it is, the header keeps its stored value.
    let sealed_before: String = app
        .scalar("SELECT CAST(headers AS TEXT) FROM mcp_servers")
        .await;
    let saved = app
        .client
        .post(app.url(&page_url))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("name", "renamed"),
            ("transport", "streamable-http"),
            ("url", "https://93.184.216.34/mcp"),
            ("headers", "authorization: (saved, hidden)\nX-Team: blue"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(saved.status(), 303);
    let sealed_after: String = app
        .scalar("SELECT CAST(headers AS TEXT) FROM mcp_servers")
        .await;
    let before: Value = serde_json::from_str(&sealed_before).unwrap();
    let after: Value = serde_json::from_str(&sealed_after).unwrap();
    assert_eq!(before["authorization"], after["authorization"]);
    assert!(after["x-team"].as_str().unwrap().starts_with("enc:v1:"));
    assert!(
        !app.scalar::<bool>("SELECT enabled FROM mcp_servers").await,
        "an unticked box disables the background checks"
    );

    // Deleting asks first, naming what goes.
    let delete = format!("{page_url}/delete");
    let asked = app
        .client
        .post(app.url(&delete))
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(asked.status(), 200);
    assert!(asked.text().await.unwrap().contains("Delete MCP server"));
    assert_eq!(
        app.scalar::<i64>("SELECT COUNT(*) FROM mcp_servers").await,
        1
    );
    let done = app
        .client
        .post(app.url(&delete))
        .form(&[("csrf_token", csrf.as_str()), ("confirm", "yes")])
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), 303);
    assert_eq!(
        app.scalar::<i64>("SELECT COUNT(*) FROM mcp_servers").await,
        0
    );
    let audited: i64 = app
        .scalar("SELECT COUNT(*) FROM audit WHERE action IN ('mcp_server.created', 'mcp_server.updated', 'mcp_server.deleted')")
        .await;
    assert_eq!(audited, 3);
    let trail: String = app
        .scalar("SELECT CAST(details AS TEXT) FROM audit WHERE action = 'mcp_server.created'")
        .await;
    assert!(
        !trail.contains("top-secret-1"),
        "no header value reaches the audit trail"
    );
}

#[tokio::test]
async fn the_api_checks_its_input_and_answers_the_spec_shapes() {
    let app = spawn_app().await;
    app.login_as_admin().await;
    let csrf = app.csrf_token(&app.client).await;
    let post = |body: Value| {
        app.client
            .post(app.url("/api/gateway/mcp-servers"))
            .header("X-CSRF-Token", &csrf)
            .json(&body)
            .send()
    };
    let bad = post(json!({"name": "", "url": "ftp://x", "transport": "carrier-pigeon"}))
        .await
        .unwrap();
    assert_eq!(bad.status(), 422);
    let bad: Value = bad.json().await.unwrap();
    let fields: Vec<&str> = bad["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].as_str().unwrap())
        .collect();
    assert!(
        fields.contains(&"name") && fields.contains(&"transport"),
        "{bad}"
    );
    let reserved = post(
        json!({"name": "a", "url": "https://93.184.216.34/", "headers": {"Mcp-Session-Id": "x"}}),
    )
    .await
    .unwrap();
    assert_eq!(reserved.status(), 422);

    let stdio = create_server(
        &app,
        &csrf,
        json!({"name": "local", "url": "npx -y @modelcontextprotocol/server-everything", "transport": "stdio"}),
    )
    .await;
    for key in [
        "id",
        "name",
        "url",
        "transport",
        "description",
        "enabled",
        "header_names",
        "last_checked_at",
        "last_status",
        "last_error",
        "last_latency_ms",
        "protocol_version",
        "server_info",
        "tool_count",
        "tools_drift",
        "created_at",
        "updated_at",
    ] {
        assert!(stdio.get(key).is_some(), "{key} is part of a server's JSON");
    }
    let id = stdio["id"].as_str().unwrap();
    let checked = check(&app, &csrf, id).await;
    assert_eq!(checked["last_status"], "not_checkable");
    let taken = post(json!({"name": "local", "url": "https://93.184.216.34/"}))
        .await
        .unwrap();
    assert_eq!(taken.status(), 409);
    let approve = app
        .client
        .post(app.url(&format!("/api/gateway/mcp-servers/{id}/approve")))
        .header("X-CSRF-Token", &csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(approve.status(), 409, "nothing drifted, nothing to approve");

    // A PUT without headers keeps them; with `{}` removes them.
    let with = create_server(
        &app,
        &csrf,
        json!({"name": "h", "url": "https://93.184.216.34/", "headers": {"X-A": "1"}}),
    )
    .await;
    let hid = with["id"].as_str().unwrap();
    let put = |body: Value| {
        app.client
            .put(app.url(&format!("/api/gateway/mcp-servers/{hid}")))
            .header("X-CSRF-Token", &csrf)
            .json(&body)
            .send()
    };
    let kept: Value = put(json!({"name": "h", "url": "https://93.184.216.34/"}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(kept["header_names"], json!(["x-a"]));
    let cleared: Value = put(json!({"name": "h", "url": "https://93.184.216.34/", "headers": {}}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(cleared["header_names"], json!([]));
    assert_eq!(
        app.get("/api/gateway/mcp-servers/not-a-uuid")
            .await
            .status(),
        404
    );
    let sorted: Value = app
        .get("/api/gateway/mcp-servers?sort=-name&limit=1")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(sorted["items"][0]["name"], "local");
    assert!(sorted["next_cursor"].is_string());
    assert_eq!(
        app.get("/api/gateway/mcp-servers?sort=url").await.status(),
        400
    );
}

#[tokio::test]
async fn readers_see_servers_and_only_writers_change_them() {
    let app = spawn_app().await;
    app.login_as_admin().await;
    let csrf = app.csrf_token(&app.client).await;
    let server = create_server(&app, &csrf, server_at("https://93.184.216.34/mcp")).await;
    let id = server["id"].as_str().unwrap();
    let operator = app.client_with_role("operator").await;
    let op_csrf = app.csrf_token(&operator).await;
    let list = operator
        .get(app.url("/api/gateway/mcp-servers"))
        .send()
        .await
        .unwrap();
    assert_eq!(list.status(), 200);
    let page = app
        .text_of(&operator, &format!("/gateway/mcp-servers/{id}"))
        .await;
    assert!(!page.contains("Check now") && !page.contains("Delete MCP server"));
    for (method, path) in [
        (
            reqwest::Method::POST,
            "/api/gateway/mcp-servers".to_string(),
        ),
        (
            reqwest::Method::POST,
            format!("/api/gateway/mcp-servers/{id}/check"),
        ),
        (
            reqwest::Method::POST,
            format!("/api/gateway/mcp-servers/{id}/approve"),
        ),
        (
            reqwest::Method::DELETE,
            format!("/api/gateway/mcp-servers/{id}"),
        ),
    ] {
        let res = operator
            .request(method, app.url(&path))
            .header("X-CSRF-Token", &op_csrf)
            .json(&server_at("https://93.184.216.34/"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403, "{path}");
    }
    let check_page = operator
        .post(app.url(&format!("/gateway/mcp-servers/{id}/check")))
        .form(&[("csrf_token", op_csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(check_page.status(), 403);
    assert_eq!(
        app.scalar::<i64>("SELECT COUNT(*) FROM mcp_servers WHERE last_checked_at IS NULL")
            .await,
        1
    );
}

#[tokio::test]
async fn the_background_checker_visits_enabled_servers() {
    let app = spawn_app_with(|env| {
        env.insert("METADECK_MCP_CHECK_SECONDS".into(), "1".into());
    })
    .await;
    app.login_as_admin().await;
    let csrf = app.csrf_token(&app.client).await;
    create_server(
        &app,
        &csrf,
        json!({"name": "on", "url": "run-me", "transport": "stdio"}),
    )
    .await;
    create_server(
        &app,
        &csrf,
        json!({"name": "off", "url": "run-me", "transport": "stdio", "enabled": false}),
    )
    .await;
    let mut status = None;
    for _ in 0..100 {
        let server: Value = app
            .get("/api/gateway/mcp-servers?sort=-name&limit=1")
            .await
            .json()
            .await
            .unwrap();
        status = server["items"][0]["last_status"]
            .as_str()
            .map(str::to_string);
        if status.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        status.as_deref(),
        Some("not_checkable"),
        "the checker reached the enabled server"
    );
    let off: Value = app
        .get("/api/gateway/mcp-servers?limit=1")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(off["items"][0]["name"], "off");
    assert_eq!(
        off["items"][0]["last_status"],
        Value::Null,
        "a disabled server is left alone"
    );
}
