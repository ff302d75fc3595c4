//! Resource state: the server's hash of the canonical JSON, `If-Match` both ways, the no-op
//! write, versions, restore and deletion.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::{Engine, HOSTILE};

const PATH: &str = "/api/ops/resources/aws_instance/web-1";

async fn put(e: &Engine, body: Value, if_match: Option<&str>) -> (StatusCode, Value) {
    let headers: Vec<(&str, &str)> = if_match.map(|h| vec![("If-Match", h)]).unwrap_or_default();
    e.call_with(Method::PUT, PATH, Some(body), &headers).await
}

#[tokio::test]
async fn a_write_answers_the_hash_of_the_canonical_json_and_an_unchanged_one_is_a_no_op() {
    let e = Engine::start().await;
    let (status, created) = put(
        &e,
        json!({"state": {"b": 1, "a": [1.0, "x"]}, "run_id": "r1"}),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["changed"], true);
    assert_eq!(created["serial"], 1);
    assert_eq!(created["last_run_id"], "r1");
    let hash = created["hash"].as_str().unwrap();
    // SHA-256 of {"a":[1,"x"],"b":1}
    let expected = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(br#"{"a":[1,"x"],"b":1}"#))
    };
    assert_eq!(hash, expected);
    let (status, same) = put(&e, json!({"state": {"a": [1, "x"], "b": 1}}), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(same["changed"], false);
    assert_eq!(same["serial"], 1);
    assert_eq!(same["last_run_id"], "r1", "nothing was written");
    let versions: i64 = e
        .app
        .scalar("SELECT COUNT(*) FROM resource_state_versions")
        .await;
    assert_eq!(versions, 1);
    let read = e.get(PATH).await;
    assert_eq!(read["hash"], hash);
    assert_eq!(read["state"], json!({"a": [1.0, "x"], "b": 1}));
}

#[tokio::test]
async fn if_match_lets_the_current_hash_through_and_refuses_another() {
    let e = Engine::start().await;
    let (_, v1) = put(&e, json!({"state": {"n": 1}}), None).await;
    let h1 = v1["hash"].as_str().unwrap().to_string();
    let (status, v2) = put(&e, json!({"state": {"n": 2}}), Some(&h1)).await;
    assert_eq!(status, StatusCode::OK, "{v2}");
    assert_eq!(v2["serial"], 2);
    // A second engine still holding h1 is refused and changes nothing.
    let (status, body) = put(&e, json!({"state": {"n": 3}}), Some(&format!("\"{h1}\""))).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(e.get(PATH).await["state"], json!({"n": 2}));
    let (status, _) = e
        .call_with(
            Method::PUT,
            "/api/ops/resources/t/none",
            Some(json!({"state": {}})),
            &[("If-Match", "abc")],
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "no current hash matches");
}

#[tokio::test]
async fn versions_are_kept_listed_read_and_restored() {
    let e = Engine::start().await;
    for n in 1..=3 {
        put(&e, json!({"state": {"n": n}}), None).await;
    }
    let list = e.get(&format!("{PATH}/versions?limit=2")).await;
    let serials: Vec<i64> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["serial"].as_i64().unwrap())
        .collect();
    assert_eq!(serials, [3, 2]);
    let older = e
        .get(&format!(
            "{PATH}/versions?limit=2&cursor={}",
            list["next_cursor"].as_str().unwrap()
        ))
        .await;
    assert_eq!(older["items"][0]["serial"], 1);
    let v1 = e.get(&format!("{PATH}/versions/1")).await;
    assert_eq!(v1["state"], json!({"n": 1}));
    assert!(v1["actor"].as_str().unwrap().starts_with("client:"));

    let current = e.get(PATH).await["hash"].as_str().unwrap().to_string();
    let (status, _) = e
        .call_with(
            Method::POST,
            &format!("{PATH}/versions/1/restore"),
            None,
            &[("If-Match", "stale")],
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, restored) = e
        .call_with(
            Method::POST,
            &format!("{PATH}/versions/1/restore"),
            None,
            &[("If-Match", &current)],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{restored}");
    assert_eq!(restored["state"], json!({"n": 1}));
    assert_eq!(restored["serial"], 4);
    assert_eq!(restored["hash"], v1["hash"]);
    let (status, _) = e
        .call(Method::GET, &format!("{PATH}/versions/9"), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        e.app
            .exec("UPDATE resource_state_versions SET serial = 99")
            .await
            .is_err(),
        "versions are immutable"
    );
}

#[tokio::test]
async fn a_delete_writes_a_null_version_and_a_later_write_continues_the_serial() {
    let e = Engine::start().await;
    put(&e, json!({"state": {"n": 1}}), None).await;
    let (status, _) = e.call(Method::DELETE, PATH, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = e.call(Method::GET, PATH, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = e.call(Method::DELETE, PATH, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let gone = e.get(&format!("{PATH}/versions/2")).await;
    assert!(gone["state"].is_null() && gone["hash"].is_null());
    let (status, _) = e
        .call(Method::POST, &format!("{PATH}/versions/2/restore"), None)
        .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a deletion has no state"
    );
    let (status, again) = put(&e, json!({"state": {"n": 2}}), None).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(again["serial"], 3);
}

#[tokio::test]
async fn resources_are_listed_by_type_and_name() {
    let e = Engine::start().await;
    for (t, n) in [("b", "1"), ("a", "2"), ("a", "1"), ("c", "1")] {
        let (status, _) = e
            .call(
                Method::PUT,
                &format!("/api/ops/resources/{t}/{n}"),
                Some(json!({"state": {}})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let page = e.get("/api/ops/resources?limit=3").await;
    let keys: Vec<String> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            format!(
                "{}/{}",
                r["resource_type"].as_str().unwrap(),
                r["resource_name"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(keys, ["a/1", "a/2", "b/1"]);
    let rest = e
        .get(&format!(
            "/api/ops/resources?limit=3&cursor={}",
            page["next_cursor"].as_str().unwrap()
        ))
        .await;
    assert_eq!(rest["items"][0]["resource_type"], "c");
    let only_a = e.get("/api/ops/resources?type=a").await;
    assert_eq!(only_a["items"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn a_state_that_is_not_an_object_is_refused_and_hostile_state_is_kept_verbatim() {
    let e = Engine::start().await;
    let (status, _) = put(&e, json!({"state": [1, 2]}), None).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = put(&e, json!({"state": {"x": HOSTILE}}), None).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(e.get(PATH).await["state"]["x"], HOSTILE);
}

/// A read answers the state as written, every field of it, right after each write (from
/// many readers at once, too), and nothing once the resource is deleted; a token without
/// `ops:read` reads nothing.
#[tokio::test]
async fn a_read_answers_each_write_at_once_and_needs_ops_read() {
    let e = std::sync::Arc::new(Engine::start().await);
    let client = reqwest::Client::new();
    for n in 1..=3 {
        let (_, written) = put(
            &e,
            json!({"state": {"n": n, "text": HOSTILE}, "run_id": format!("r{n}")}),
            None,
        )
        .await;
        let reads = (0..8).map(|_| {
            let (e, client) = (std::sync::Arc::clone(&e), client.clone());
            tokio::spawn(async move {
                let res = client
                    .get(e.app.url(PATH))
                    .bearer_auth(&e.token)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(res.status(), StatusCode::OK);
                res.json::<Value>().await.unwrap()
            })
        });
        for read in futures_util::future::join_all(reads).await {
            let mut read = read.unwrap();
            let mut expected = written.clone();
            expected.as_object_mut().unwrap().remove("changed");
            read.as_object_mut().unwrap().remove("changed");
            assert_eq!(read, expected, "write {n}");
            assert_eq!(read["serial"], n);
            assert_eq!(read["state"]["text"], HOSTILE);
        }
    }
    let (status, _) = e.call(Method::DELETE, PATH, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = e.call(Method::GET, PATH, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let writer = crate::oauth::service_client(&e.app, &["ops:write"]).await;
    let token = crate::oauth::token_for(&e.app, &writer, Some("ops:write")).await;
    put(&e, json!({"state": {"n": 9}}), None).await;
    let status = reqwest::Client::new()
        .get(e.app.url(PATH))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, StatusCode::FORBIDDEN);
}
