//! R13: hostile MCP servers written here. Each check ends within 10 s with a reason, reads
//! no more than 4 MiB, and never follows a redirect; a well-behaved one that pages its tools
//! and keeps a session is followed to the end.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;

use super::fake::{self, Handler, Request};
use super::{app_reaching_loopback, check, create_server, server_at};

/// A handler from an async closure.
fn handler<F, Fut>(f: F) -> Handler
where
    F: Fn(Request, tokio::net::TcpStream) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    Arc::new(move |req, stream| Box::pin(f(req, stream)))
}

/// Answers `initialize` well and hands every other request to `rest`.
fn after_initialize<F, Fut>(rest: F) -> Handler
where
    F: Fn(Request, tokio::net::TcpStream) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let rest = Arc::new(rest);
    handler(move |req, stream| {
        let rest = rest.clone();
        async move {
            match req.method() {
                "initialize" => fake::reply(stream, &req, fake::initialize_result(), &[]).await,
                "notifications/initialized" => {
                    fake::respond(stream, "202 Accepted", &[], b"").await
                }
                _ => rest(req, stream).await,
            }
        }
    })
}

/// Never answers.
fn silent() -> Handler {
    handler(|_req, stream| async move {
        tokio::time::sleep(Duration::from_secs(60)).await;
        drop(stream);
    })
}

/// Sends a JSON answer one byte every half second.
fn byte_by_byte() -> Handler {
    handler(|_req, mut stream| async move {
        if fake::stream_head(&mut stream, "application/json")
            .await
            .is_err()
        {
            return;
        }
        for b in br#"{"jsonrpc":"2.0","id":1,"result":{}}"#.iter().cycle() {
            if stream.write_all(&[*b]).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    })
}

/// Writes 64 KiB of a JSON string for ever.
fn endless_body() -> Handler {
    handler(|_req, mut stream| async move {
        if fake::stream_head(&mut stream, "application/json")
            .await
            .is_err()
        {
            return;
        }
        let _ = stream
            .write_all(br#"{"jsonrpc":"2.0","id":1,"result":{"x":""#)
            .await;
        let chunk = vec![b'a'; 64 * 1024];
        while stream.write_all(&chunk).await.is_ok() {}
    })
}

/// An event stream of keep-alive comments that never carries the reply.
fn endless_events() -> Handler {
    handler(|_req, mut stream| async move {
        if fake::stream_head(&mut stream, "text/event-stream")
            .await
            .is_err()
        {
            return;
        }
        let ping = b": keep-alive\n\n".repeat(4096);
        while stream.write_all(&ping).await.is_ok() {}
    })
}

/// Redirects to the cloud metadata address.
fn redirect() -> Handler {
    handler(|_req, stream| async move {
        fake::respond(
            stream,
            "307 Temporary Redirect",
            &[("location", "http://169.254.169.254/latest/meta-data")],
            b"",
        )
        .await;
    })
}

/// A tools list of 5 MiB.
fn huge_tools() -> Handler {
    after_initialize(|req, stream| async move {
        let tools: Vec<Value> = (0..5 * 1024)
            .map(|i| json!({"name": format!("t{i}"), "description": "d".repeat(1024), "inputSchema": {"type": "object"}}))
            .collect();
        fake::reply(stream, &req, json!({"tools": tools}), &[]).await;
    })
}

/// Answers `initialize` with text that is not JSON.
fn malformed() -> Handler {
    handler(|_req, stream| async move {
        fake::respond(
            stream,
            "200 OK",
            &[("content-type", "application/json")],
            b"{\"jsonrpc\": \"2.0\", \"id\": 1, \"result\": {",
        )
        .await;
    })
}

/// Answers `tools/list` with a JSON-RPC error.
fn rpc_error() -> Handler {
    after_initialize(|req, stream| async move {
        let body = json!({"jsonrpc": "2.0", "id": req.body["id"], "error": {"code": -32603, "message": "tools are on fire"}});
        fake::respond(
            stream,
            "200 OK",
            &[("content-type", "application/json")],
            body.to_string().as_bytes(),
        )
        .await;
    })
}

#[tokio::test]
async fn every_hostile_server_check_ends_within_ten_seconds_with_a_reason() {
    let (app, csrf) = app_reaching_loopback().await;
    let cases: Vec<(&str, Handler, &str, &str)> = vec![
        ("no answer", silent(), "unreachable", "within 10 s"),
        ("byte by byte", byte_by_byte(), "unreachable", "within 10 s"),
        ("endless body", endless_body(), "error", "more than 4 MiB"),
        (
            "endless event stream",
            endless_events(),
            "error",
            "more than 4 MiB",
        ),
        (
            "redirect",
            redirect(),
            "error",
            "redirects are not followed",
        ),
        ("huge tools list", huge_tools(), "error", "more than 4 MiB"),
        ("malformed JSON", malformed(), "error", "not valid JSON"),
        ("JSON-RPC error", rpc_error(), "error", "tools are on fire"),
    ];
    let mut runs = Vec::new();
    for (case, handler, status, reason) in cases {
        let url = fake::serve(handler).await;
        let server = create_server(&app, &csrf, server_at(&url)).await;
        let id = server["id"].as_str().unwrap().to_string();
        let (app, csrf) = (&app, &csrf);
        runs.push(async move {
            let started = Instant::now();
            let checked = check(app, csrf, &id).await;
            (case, started.elapsed(), checked, status, reason)
        });
    }
    for (case, took, checked, status, reason) in futures_util::future::join_all(runs).await {
        assert!(
            took < Duration::from_secs(12),
            "{case}: the check took {took:?}"
        );
        assert_eq!(checked["last_status"], status, "{case}: {checked}");
        let error = checked["last_error"].as_str().unwrap_or_default();
        assert!(
            error.contains(reason),
            "{case}: {error:?} should say {reason:?}"
        );
        assert_eq!(
            checked["tool_count"],
            Value::Null,
            "{case}: nothing was pinned"
        );
    }
}

#[tokio::test]
async fn the_check_follows_every_cursor_and_carries_the_session_and_headers() {
    let (app, csrf) = app_reaching_loopback().await;
    let url = fake::serve(handler(|req, stream| async move {
        let authorised = req.header("x-api-key") == Some("k-123");
        match req.method() {
            "initialize" if authorised => {
                fake::reply(
                    stream,
                    &req,
                    fake::initialize_result(),
                    &[("mcp-session-id", "s-42")],
                )
                .await
            }
            _ if !authorised || req.header("mcp-session-id") != Some("s-42") => {
                fake::respond(stream, "400 Bad Request", &[], b"no session").await
            }
            "notifications/initialized" => fake::respond(stream, "202 Accepted", &[], b"").await,
            "tools/list" => {
                let page = match req.body["params"]["cursor"].as_str() {
                    None => {
                        json!({"tools": [{"name": "a", "inputSchema": {}}], "nextCursor": "p2"})
                    }
                    Some("p2") => {
                        json!({"tools": [{"name": "b", "inputSchema": {}}], "nextCursor": "p3"})
                    }
                    _ => json!({"tools": [{"name": "c", "inputSchema": {}}]}),
                };
                fake::reply(stream, &req, page, &[]).await
            }
            _ => fake::respond(stream, "404 Not Found", &[], b"").await,
        }
    }))
    .await;
    let mut body = server_at(&url);
    body["headers"] = json!({"X-Api-Key": "k-123"});
    let server = create_server(&app, &csrf, body).await;
    let checked = check(&app, &csrf, server["id"].as_str().unwrap()).await;
    assert_eq!(checked["last_status"], "reachable", "{checked}");
    assert_eq!(checked["tool_count"], 3, "every page of tools/list is read");
    assert_eq!(checked["server_info"]["name"], "fake");
}

#[tokio::test]
async fn a_loopback_server_is_refused_at_save_and_at_check_without_the_setting() {
    let app = crate::helpers::spawn_app().await;
    app.login_as_admin().await;
    let csrf = app.csrf_token(&app.client).await;
    let refused = app
        .client
        .post(app.url("/api/gateway/mcp-servers"))
        .header("X-CSRF-Token", &csrf)
        .json(&server_at("http://127.0.0.1:1/mcp"))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 422);
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .contains("METADECK_WEBHOOK_ALLOW_PRIVATE_NETWORKS")
    );
    // Saved while public, moved to loopback behind the console's back: refused at the check.
    let mut body = server_at("https://93.184.216.34/mcp");
    body["name"] = json!("moved");
    let server = create_server(&app, &csrf, body).await;
    let id = server["id"].as_str().unwrap();
    app.exec("UPDATE mcp_servers SET url = 'http://127.0.0.1:1/mcp' WHERE name = 'moved'")
        .await
        .unwrap();
    let checked = check(&app, &csrf, id).await;
    assert_eq!(checked["last_status"], "error");
    assert!(
        checked["last_error"]
            .as_str()
            .unwrap()
            .contains("no connection was made"),
        "{checked}"
    );
}
