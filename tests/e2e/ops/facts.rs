//! Facts: written with a TTL, invisible to every read once expired, listed unexpired only.

use reqwest::{Method, StatusCode};
use serde_json::json;

use super::Engine;

/// Moves a fact's expiry into the past, as time passing would.
async fn expire(e: &Engine, key: &str) {
    let past = "2000-01-01T00:00:00.000000+00:00";
    e.app
        .exec(&format!(
            "UPDATE facts SET expires_at = '{past}' WHERE key = '{key}'"
        ))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_fact_is_written_replaced_read_and_deleted() {
    let e = Engine::start().await;
    let path = "/api/ops/facts/host-1/os/kernel";
    let (status, created) = e
        .call(Method::PUT, path, Some(json!({"value": "6.1"})))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["ttl"], 0);
    assert!(created["expires_at"].is_null());
    let (status, replaced) = e
        .call(
            Method::PUT,
            path,
            Some(json!({"value": {"v": "6.2"}, "ttl": 3600})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(replaced["expires_at"].is_string());
    assert_eq!(e.get(path).await["value"], json!({"v": "6.2"}));
    let (status, _) = e.call(Method::DELETE, path, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = e.call(Method::GET, path, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = e
        .call(Method::PUT, path, Some(json!({"value": 1, "ttl": -1})))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn an_expired_fact_is_invisible_to_every_read_at_once() {
    let e = Engine::start().await;
    for key in ["old", "live"] {
        let (status, _) = e
            .call(
                Method::PUT,
                &format!("/api/ops/facts/t/ns/{key}"),
                Some(json!({"value": key, "ttl": 3600})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
    }
    expire(&e, "old").await;
    let (status, _) = e.call(Method::GET, "/api/ops/facts/t/ns/old", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let list = e.get("/api/ops/facts?target_id=t&namespace=ns").await;
    let keys: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["live"]);
    let (status, _) = e
        .call(Method::DELETE, "/api/ops/facts/t/ns/old", None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Written again, an expired fact is new.
    let (status, _) = e
        .call(
            Method::PUT,
            "/api/ops/facts/t/ns/old",
            Some(json!({"value": 2})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
}

#[tokio::test]
async fn facts_are_listed_by_target_namespace_and_key_with_cursors() {
    let e = Engine::start().await;
    for (t, n, k) in [
        ("b", "x", "1"),
        ("a", "y", "1"),
        ("a", "x", "2"),
        ("a", "x", "1"),
    ] {
        e.call(
            Method::PUT,
            &format!("/api/ops/facts/{t}/{n}/{k}"),
            Some(json!({"value": 0})),
        )
        .await;
    }
    let page = e.get("/api/ops/facts?limit=3").await;
    let keys: Vec<String> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{}/{}/{}",
                f["target_id"].as_str().unwrap(),
                f["namespace"].as_str().unwrap(),
                f["key"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(keys, ["a/x/1", "a/x/2", "a/y/1"]);
    let rest = e
        .get(&format!(
            "/api/ops/facts?limit=3&cursor={}",
            page["next_cursor"].as_str().unwrap()
        ))
        .await;
    assert_eq!(rest["items"][0]["target_id"], "b");
    assert!(rest["next_cursor"].is_null());
}
