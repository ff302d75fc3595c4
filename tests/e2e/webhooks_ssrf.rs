//! The SSRF guard's non-global ranges beyond private networks (documentation, benchmarking,
//! reserved, site-local, the IPv6 embeddings of IPv4) and the host's own interface
//! addresses: refused at save with `422` naming the setting, and at delivery without a
//! connection.
//!
//! No test here sends traffic anywhere: each address is first checked against the guard in
//! this process (the one the app runs in), so a regression fails the test before a delivery
//! could try to connect.

use std::net::IpAddr;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use service::webhooks::ssrf::{ALLOW_SETTING, refused_range};
use service::webhooks::{Event, EventType};

use crate::helpers::{TestApp, spawn_app, spawn_app_with};
use crate::webhook_receiver::Receiver;

/// Addresses in every newly refused range, as a URL's host spells them; the IPv6 ones carry
/// 127.0.0.1 where the range embeds an IPv4 address.
const NEW_SPELLINGS: &[&str] = &[
    "192.0.0.1",
    "192.0.2.1",
    "198.51.100.7",
    "203.0.113.9",
    "198.18.0.1",
    "240.0.0.1",
    "255.255.255.255",
    "[2001:db8::1]",
    "[fec0::1]",
    "[::ffff:0:127.0.0.1]",
    "[::127.0.0.1]",
    "[2002:7f00:1::1]",
    "[64:ff9b::127.0.0.1]",
    "[64:ff9b:1::7f00:1]",
    "[2001::7f00:1]",
];

/// The host's own interface addresses outside loopback, as URL hosts.
fn own_addresses() -> Vec<String> {
    if_addrs::get_if_addrs()
        .expect("the interfaces can be listed")
        .into_iter()
        .map(|i| i.ip())
        .filter(|ip| !ip.is_loopback())
        .map(|ip| match ip {
            IpAddr::V4(v4) => v4.to_string(),
            IpAddr::V6(v6) => format!("[{v6}]"),
        })
        .collect()
}

/// Every host to test, each checked to be refused by the guard before any request uses it.
fn refused_hosts() -> Vec<String> {
    let hosts: Vec<String> = NEW_SPELLINGS
        .iter()
        .map(|h| h.to_string())
        .chain(own_addresses())
        .collect();
    for host in &hosts {
        let ip: IpAddr = host
            .trim_matches(['[', ']'])
            .parse()
            .expect("an address literal");
        assert!(
            refused_range(ip).is_some(),
            "{host} is not refused by the guard; no delivery is attempted"
        );
    }
    hosts
}

/// Sends a JSON request with the admin session and its CSRF token.
async fn call(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    body: Value,
) -> (StatusCode, Value) {
    let token = app.csrf_token(&app.client).await;
    let res = app
        .client
        .request(method, app.url(path))
        .header("X-CSRF-Token", token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// The newest delivery of a webhook, read through the API.
async fn newest_delivery(app: &TestApp, webhook_id: &str) -> Option<Value> {
    let res = app
        .get(&format!("/api/webhooks/{webhook_id}/deliveries"))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let page: Value = res.json().await.unwrap();
    page["items"]
        .as_array()
        .and_then(|items| items.first().cloned())
}

#[tokio::test]
async fn the_new_ranges_and_the_hosts_own_addresses_are_refused_at_save_naming_the_setting() {
    let app = spawn_app().await;
    app.login_as_admin().await;

    for host in refused_hosts() {
        let url = format!("http://{host}:8080/hook");
        let (status, body) = call(
            &app,
            reqwest::Method::POST,
            "/api/webhooks",
            json!({"url": url, "events": ["*"]}),
        )
        .await;

        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{url}: {body}");
        assert_eq!(body["error"]["details"][0]["field"], "url", "{url}");
        let message = body["error"]["details"][0]["message"]
            .as_str()
            .unwrap_or_default();
        assert!(message.contains(ALLOW_SETTING), "{url}: {message}");
    }
}

#[tokio::test]
async fn the_new_ranges_and_the_hosts_own_addresses_are_refused_at_delivery() {
    let app = spawn_app_with(|env| {
        env.insert("METADECK_WEBHOOK_RETRY_SCHEDULE".into(), "1s".into());
    })
    .await;
    app.login_as_admin().await;
    // Were an address let through, this is where its request would be aimed.
    let receiver = Receiver::start(200).await;
    let mut ids = Vec::new();
    for (i, host) in refused_hosts().into_iter().enumerate() {
        // Saved while its name did not resolve; the row then points at the address.
        let (status, created) = call(
            &app,
            reqwest::Method::POST,
            "/api/webhooks",
            json!({"url": format!("http://hooks-{i}.example.test/"), "events": ["*"]}),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        let id = created["webhook_id"].as_str().unwrap().to_string();
        app.exec(&format!(
            "UPDATE webhooks SET url = 'http://{host}:{}/hook' WHERE webhook_id = '{id}'",
            receiver.port
        ))
        .await
        .unwrap();
        ids.push((host, id));
    }

    let txn = service::db::begin_write(&app.db).await.unwrap();
    service::webhooks::emit(&txn, &[Event::new(EventType::SyncFailed, json!({}))])
        .await
        .unwrap();
    txn.commit().await.unwrap();

    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    for (host, id) in ids {
        let dead = loop {
            match newest_delivery(&app, &id).await {
                Some(d) if d["status"] == "dead" => break d,
                other => assert!(
                    tokio::time::Instant::now() < deadline,
                    "{host}: no dead delivery in time: {other:?}"
                ),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        let error = dead["last_error"].as_str().unwrap_or_default();
        assert!(
            error.contains("refused") && error.contains(ALLOW_SETTING),
            "{host}: {error}"
        );
        assert!(error.contains("no connection was made"), "{host}: {error}");
    }
    assert!(receiver.received().is_empty(), "no connection was made");
}
