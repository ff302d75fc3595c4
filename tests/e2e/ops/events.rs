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
    e.run_with_units("r1", &[("u1", &[]), ("u2", &[])]).await;
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
    assert_eq!(
        messages(&u1),
        ["1", "4"],
        "a unit's events, read in its run"
    );
    let u1_serious = e
        .get("/api/ops/events?plan_unit_id=u1&min_level=warn")
        .await;
    assert_eq!(messages(&u1_serious), ["4"]);
    let r1_errors = e.get("/api/ops/events?run_id=r1&level=error").await;
    assert_eq!(messages(&r1_errors), ["4"]);
    let r1_warnings = e.get("/api/ops/events?run_id=r1&level=warn").await;
    assert_eq!(messages(&r1_warnings), ["5"]);
    let unknown_unit = e.get("/api/ops/events?plan_unit_id=nowhere").await;
    assert_eq!(messages(&unknown_unit), Vec::<&str>::new());
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

/// Appends `body` with `client` (one client shared by many requests in flight: making one per
/// request takes long enough to hold the test's thread up).
async fn append_with(client: &reqwest::Client, e: &Engine, body: Value) -> (StatusCode, Value) {
    let res = client
        .post(e.app.url("/api/ops/events"))
        .bearer_auth(&e.token)
        .json(&body)
        .send()
        .await
        .expect("request sent");
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// Appends sent at once by many clients are all kept, each with the id it was answered, and
/// each client's events in the order it sent them.
#[tokio::test]
async fn concurrent_single_appends_are_all_kept_in_order_per_client() {
    const CLIENTS: usize = 16;
    const EACH: usize = 25;
    let e = std::sync::Arc::new(Engine::start().await);
    let client = reqwest::Client::new();
    let clients = (0..CLIENTS).map(|c| {
        let (e, client) = (std::sync::Arc::clone(&e), client.clone());
        tokio::spawn(async move {
            let mut acked = Vec::new();
            for i in 0..EACH {
                let event = json!({"run_id": format!("c{c}"), "level": "info", "message": format!("{c}:{i}")});
                let (status, body) = append_with(&client, &e, event).await;
                assert_eq!(status, StatusCode::CREATED, "{body}");
                assert_eq!(body["appended"], 1);
                assert_eq!(body["first_id"], body["last_id"]);
                acked.push(body["first_id"].as_i64().unwrap());
            }
            acked
        })
    });
    let acked: Vec<Vec<i64>> = futures_util::future::join_all(clients)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let count: i64 = e.app.scalar("SELECT COUNT(*) FROM events").await;
    assert_eq!(count, (CLIENTS * EACH) as i64);
    let mut every_id: Vec<i64> = acked.iter().flatten().copied().collect();
    every_id.sort_unstable();
    every_id.dedup();
    assert_eq!(every_id.len(), CLIENTS * EACH, "each append has its own id");
    for (c, ids_acked) in acked.iter().enumerate() {
        let page = e
            .get(&format!("/api/ops/events?run_id=c{c}&limit=100"))
            .await;
        let expected: Vec<String> = (0..EACH).map(|i| format!("{c}:{i}")).collect();
        assert_eq!(
            messages(&page),
            expected,
            "client {c}'s events in its order"
        );
        assert_eq!(&ids(&page), ids_acked, "client {c}'s events under its ids");
    }
}

/// The largest batch goes in one request, its rows spread over several statements, and the
/// ids answered are those of its first and last events.
#[tokio::test]
async fn ten_thousand_events_in_one_request_are_written_with_their_ids() {
    let e = Engine::start().await;
    let batch: Vec<Value> = (0..10_000)
        .map(|i| json!({"run_id": "big", "level": "info", "message": format!("m{i}"), "details": {"i": i}}))
        .collect();
    let (status, body) = e.append(Value::Array(batch)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["appended"], 10_000);
    let (first, last) = (
        body["first_id"].as_i64().unwrap(),
        body["last_id"].as_i64().unwrap(),
    );
    assert_eq!(last - first, 9_999);
    let count: i64 = e.app.scalar("SELECT COUNT(*) FROM events").await;
    assert_eq!(count, 10_000);
    let head = e.get("/api/ops/events?limit=1").await;
    assert_eq!(ids(&head), [first]);
    assert_eq!(messages(&head), ["m0"]);
    let tail = e
        .get(&format!("/api/ops/events?before_id={}&limit=3", last + 1))
        .await;
    assert_eq!(ids(&tail), [last - 2, last - 1, last]);
    assert_eq!(messages(&tail), ["m9997", "m9998", "m9999"]);
    assert_eq!(tail["items"][2]["details"]["i"], 9_999);
}

/// A batch the database refuses (here a guard installed for the test refuses one of its
/// events) writes nothing, and the appends sent at the same moment are written all the same.
#[tokio::test]
async fn a_batch_the_database_refuses_writes_nothing_and_spares_its_neighbours() {
    let e = std::sync::Arc::new(Engine::start().await);
    let guard = match e.app.backend() {
        sea_orm::DbBackend::Postgres => vec![
            "CREATE FUNCTION refuse_poison() RETURNS trigger AS $$ BEGIN \
             IF NEW.message = 'poison' THEN RAISE EXCEPTION 'refused'; END IF; RETURN NEW; END \
             $$ LANGUAGE plpgsql",
            "CREATE TRIGGER refuse_poison BEFORE INSERT ON events FOR EACH ROW \
             EXECUTE FUNCTION refuse_poison()",
        ],
        _ => vec![
            "CREATE TRIGGER refuse_poison BEFORE INSERT ON events \
             WHEN NEW.message = 'poison' BEGIN SELECT RAISE(ABORT, 'refused'); END",
        ],
    };
    for sql in guard {
        e.app.exec(sql).await.unwrap();
    }
    let poisoned = |n: usize| {
        let mut batch: Vec<Value> = (0..50)
            .map(|i| json!({"run_id": format!("bad{n}"), "level": "info", "message": format!("{i}")}))
            .collect();
        batch[25] = json!({"run_id": format!("bad{n}"), "level": "info", "message": "poison"});
        Value::Array(batch)
    };
    let client = reqwest::Client::new();
    let mut calls = Vec::new();
    for n in 0..40 {
        let e = std::sync::Arc::clone(&e);
        let body = if n % 10 == 0 {
            poisoned(n)
        } else {
            json!({"run_id": "good", "level": "info", "message": format!("{n}")})
        };
        let client = client.clone();
        calls.push(tokio::spawn(async move {
            (n, append_with(&client, &e, body).await)
        }));
    }
    let mut good = 0;
    for call in futures_util::future::join_all(calls).await {
        let (n, (status, body)) = call.unwrap();
        if n % 10 == 0 {
            assert!(status.is_server_error(), "{n}: {status} {body}");
        } else {
            assert_eq!(status, StatusCode::CREATED, "{n}: {body}");
            good += 1;
        }
    }
    let bad: i64 = e
        .app
        .scalar("SELECT COUNT(*) FROM events WHERE run_id LIKE 'bad%'")
        .await;
    assert_eq!(bad, 0, "nothing of a refused batch is written");
    let kept: i64 = e
        .app
        .scalar("SELECT COUNT(*) FROM events WHERE run_id = 'good'")
        .await;
    assert_eq!(kept, good);
}
