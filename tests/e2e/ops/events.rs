//! The event log: single and batched appends (all or nothing), append-only in the database,
//! and the tail's order and filters.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::{Engine, HOSTILE};

fn ids(page: &Value) -> Vec<i64> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_i64().unwrap())
        .collect()
}

fn messages(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["message"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn one_event_or_a_batch_is_appended_and_counted() {
    let e = Engine::start().await;
    let (status, one) = e.append(json!({"level": "info", "message": "hello"})).await;
    assert_eq!(status, StatusCode::CREATED, "{one}");
    assert_eq!(one["appended"], 1);
    assert_eq!(one["first_id"], one["last_id"]);
    let batch: Vec<Value> = (0..2500)
        .map(|i| json!({"run_id": "r", "level": "debug", "message": format!("m{i}")}))
        .collect();
    let (status, many) = e.append(Value::Array(batch)).await;
    assert_eq!(status, StatusCode::CREATED, "{many}");
    assert_eq!(many["appended"], 2500);
    assert_eq!(
        many["last_id"].as_i64().unwrap() - many["first_id"].as_i64().unwrap(),
        2499
    );
    let count: i64 = e.app.scalar("SELECT COUNT(*) FROM events").await;
    assert_eq!(count, 2501);
}

#[tokio::test]
async fn a_batch_with_bad_items_is_refused_whole_naming_each_index() {
    let e = Engine::start().await;
    let (status, body) = e
        .append(json!([
            {"level": "info", "message": "fine"},
            {"level": "fatal", "message": "bad level"},
            {"level": "info", "message": "fine"},
            {"level": "info", "message": "bad details", "details": [1]},
            {"level": "info"},
        ]))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let details = body["error"]["details"].as_array().unwrap();
    let indexes: Vec<i64> = details
        .iter()
        .map(|d| d["index"].as_i64().unwrap())
        .collect();
    assert_eq!(indexes, [1, 3, 4]);
    assert_eq!(details[0]["field"], "level");
    assert_eq!(details[2]["field"], "message");
    let count: i64 = e.app.scalar("SELECT COUNT(*) FROM events").await;
    assert_eq!(count, 0, "nothing was written");
    let too_many: Vec<Value> = (0..10_001)
        .map(|_| json!({"level": "info", "message": "x"}))
        .collect();
    let (status, _) = e.append(Value::Array(too_many)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn the_database_refuses_to_change_an_event() {
    let e = Engine::start().await;
    e.append(json!({"level": "info", "message": "kept"})).await;
    assert!(
        e.app
            .exec("UPDATE events SET message = 'changed'")
            .await
            .is_err()
    );
    assert!(e.app.exec("DELETE FROM events").await.is_err());
}

#[tokio::test]
async fn the_tail_is_oldest_first_after_an_id_and_follows_every_filter() {
    let e = Engine::start().await;
    let (_, first) = e
        .append(json!([
            {"run_id": "r1", "plan_unit_id": "u1", "level": "debug", "message": "1"},
            {"run_id": "r1", "plan_unit_id": "u2", "level": "info", "message": "2"},
            {"run_id": "r2", "level": "warn", "message": "3"},
            {"run_id": "r1", "plan_unit_id": "u1", "level": "error", "message": "4"},
            {"run_id": "r1", "level": "warn", "message": "5"},
        ]))
        .await;
    let base = first["first_id"].as_i64().unwrap();
    let all = e.get("/api/ops/events").await;
    assert_eq!(messages(&all), ["1", "2", "3", "4", "5"]);
    assert!(all["next_cursor"].is_null());
    let after = e
        .get(&format!("/api/ops/events?after_id={}", base + 1))
        .await;
    assert_eq!(messages(&after), ["3", "4", "5"]);
    let r1 = e.get("/api/ops/events?run_id=r1").await;
    assert_eq!(messages(&r1), ["1", "2", "4", "5"]);
    let u1 = e.get("/api/ops/events?plan_unit_id=u1").await;
    assert_eq!(messages(&u1), ["1", "4"]);
    let warn = e.get("/api/ops/events?level=warn").await;
    assert_eq!(messages(&warn), ["3", "5"]);
    let serious = e.get("/api/ops/events?run_id=r1&min_level=warn").await;
    assert_eq!(messages(&serious), ["4", "5"]);
    let paged = e.get("/api/ops/events?limit=2").await;
    assert_eq!(messages(&paged), ["1", "2"]);
    let rest = e
        .get(&format!(
            "/api/ops/events?limit=2&cursor={}",
            paged["next_cursor"].as_str().unwrap()
        ))
        .await;
    assert_eq!(messages(&rest), ["3", "4"]);
    let back = e
        .get(&format!("/api/ops/events?before_id={}&limit=2", base + 4))
        .await;
    assert_eq!(
        messages(&back),
        ["3", "4"],
        "paging back answers oldest first"
    );
    assert_eq!(ids(&back), [base + 2, base + 3]);
    for bad in [
        "level=fatal",
        "min_level=x",
        "limit=0",
        "limit=1001",
        "cursor=***",
    ] {
        let (status, _) = e
            .call(Method::GET, &format!("/api/ops/events?{bad}"), None)
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
    }
}

#[tokio::test]
async fn a_run_read_carries_its_last_hundred_events_oldest_first() {
    let e = Engine::start().await;
    e.run_with_units("r", &[]).await;
    let batch: Vec<Value> = (0..150)
        .map(|i| json!({"run_id": "r", "level": "info", "message": format!("{i}")}))
        .collect();
    e.append(Value::Array(batch)).await;
    let run = e.get("/api/ops/runs/r").await;
    let events = run["events"].as_array().unwrap();
    assert_eq!(events.len(), 100);
    assert_eq!(events[0]["message"], "50");
    assert_eq!(events[99]["message"], "149");
}

#[tokio::test]
async fn hostile_event_text_is_stored_verbatim() {
    let e = Engine::start().await;
    e.append(json!({"level": "error", "message": HOSTILE, "details": {"x": HOSTILE}}))
        .await;
    let page = e.get("/api/ops/events").await;
    assert_eq!(page["items"][0]["message"], HOSTILE);
    assert_eq!(page["items"][0]["details"]["x"], HOSTILE);
}
