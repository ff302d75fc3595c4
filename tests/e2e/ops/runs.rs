//! Runs and plan units: atomic creation with the DAG check, the state machines, server-set
//! times, and `run.succeeded` / `run.failed` announced and audited with the change.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::json;

use super::{Engine, HOSTILE};
use crate::webhook_receiver::Receiver;

#[tokio::test]
async fn a_run_and_its_units_are_created_together_and_read_back() {
    let e = Engine::start().await;
    let run = e
        .run_with_units("run-001", &[("a", &[]), ("b", &["a"]), ("c", &["a", "b"])])
        .await;
    assert_eq!(run["status"], "pending");
    assert_eq!(run["plan_units"].as_array().unwrap().len(), 3);
    assert!(run["started_at"].is_null());
    let read = e.get("/api/ops/runs/run-001").await;
    assert_eq!(read["id"], "run-001");
    assert_eq!(read["plan_units"][2]["dependencies"], json!(["a", "b"]));
    assert_eq!(read["plan_units"][0]["status"], "pending");
    assert_eq!(read["events"], json!([]));
}

#[tokio::test]
async fn a_cycle_or_an_unknown_dependency_is_named_and_nothing_is_written() {
    let e = Engine::start().await;
    let (status, body) = e
        .call(
            Method::POST,
            "/api/ops/runs",
            Some(json!({"id": "r", "plan_path": "p", "plan_units": [
                {"id": "a", "resource_type": "t", "resource_name": "a", "action": "create", "dependencies": ["c"]},
                {"id": "b", "resource_type": "t", "resource_name": "b", "action": "create", "dependencies": ["a"]},
                {"id": "c", "resource_type": "t", "resource_name": "c", "action": "create", "dependencies": ["b"]},
            ]})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let message = body["error"]["details"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("cycle") && message.contains("a → c → b → a"),
        "{message}"
    );

    let (status, body) = e
        .call(
            Method::POST,
            "/api/ops/runs",
            Some(json!({"id": "r", "plan_path": "p", "plan_units": [
                {"id": "a", "resource_type": "t", "resource_name": "a", "action": "create", "dependencies": ["ghost"]},
            ]})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["details"][0]["index"], 0);
    assert!(
        body["error"]["details"][0]["message"]
            .as_str()
            .unwrap()
            .contains("ghost")
    );

    let runs: i64 = e.app.scalar("SELECT COUNT(*) FROM runs").await;
    let units: i64 = e.app.scalar("SELECT COUNT(*) FROM plan_units").await;
    assert_eq!((runs, units), (0, 0), "nothing was written");
}

#[tokio::test]
async fn a_taken_unit_id_rolls_the_whole_run_back() {
    let e = Engine::start().await;
    e.run_with_units("first", &[("shared", &[])]).await;
    let (status, body) = e
        .call(
            Method::POST,
            "/api/ops/runs",
            Some(json!({"id": "second", "plan_path": "p", "plan_units": [
                {"id": "fresh", "resource_type": "t", "resource_name": "n", "action": "noop"},
                {"id": "shared", "resource_type": "t", "resource_name": "n", "action": "noop"},
            ]})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let (status, _) = e.call(Method::GET, "/api/ops/runs/second", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "the run went with its units");
    let (status, _) = e
        .call(
            Method::POST,
            "/api/ops/runs",
            Some(json!({"id": "first", "plan_path": "p"})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "a taken run id");
}

#[tokio::test]
async fn every_illegal_run_transition_is_a_conflict() {
    let e = Engine::start().await;
    let all = ["pending", "running", "succeeded", "failed", "canceled"];
    let legal = [
        ("pending", "running"),
        ("pending", "canceled"),
        ("running", "succeeded"),
        ("running", "failed"),
        ("running", "canceled"),
    ];
    // A run brought to each status, then asked to move to every status.
    let paths: [(&str, &[&str]); 5] = [
        ("pending", &[]),
        ("running", &["running"]),
        ("succeeded", &["running", "succeeded"]),
        ("failed", &["running", "failed"]),
        ("canceled", &["canceled"]),
    ];
    for (from, steps) in paths {
        for to in all {
            let id = format!("{from}-{to}");
            e.run_with_units(&id, &[]).await;
            for step in steps {
                e.move_run(&id, step).await;
            }
            let (status, body) = e
                .call(
                    Method::PATCH,
                    &format!("/api/ops/runs/{id}"),
                    Some(json!({"status": to})),
                )
                .await;
            if legal.contains(&(from, to)) {
                assert_eq!(status, StatusCode::OK, "{from} → {to}: {body}");
            } else {
                assert_eq!(status, StatusCode::CONFLICT, "{from} → {to}: {body}");
            }
        }
    }
}

#[tokio::test]
async fn every_illegal_unit_transition_is_a_conflict_and_times_are_the_servers() {
    let e = Engine::start().await;
    let all = ["pending", "running", "succeeded", "failed", "skipped"];
    let legal = [
        ("pending", "running"),
        ("pending", "skipped"),
        ("running", "succeeded"),
        ("running", "failed"),
    ];
    let paths: [(&str, &[&str]); 5] = [
        ("pending", &[]),
        ("running", &["running"]),
        ("succeeded", &["running", "succeeded"]),
        ("failed", &["running", "failed"]),
        ("skipped", &["skipped"]),
    ];
    let ids: Vec<String> = paths
        .iter()
        .flat_map(|(from, _)| all.iter().map(move |to| format!("{from}-{to}")))
        .collect();
    let units: Vec<(&str, &[&str])> = ids.iter().map(|i| (i.as_str(), &[][..])).collect();
    e.run_with_units("r", &units).await;
    for (from, steps) in paths {
        for to in all {
            let path = format!("/api/ops/plan-units/{from}-{to}");
            for step in steps {
                let (s, b) = e
                    .call(Method::PATCH, &path, Some(json!({"status": step})))
                    .await;
                assert_eq!(s, StatusCode::OK, "{b}");
            }
            let (status, body) = e
                .call(
                    Method::PATCH,
                    &path,
                    Some(json!({"status": to, "error": "boom"})),
                )
                .await;
            if legal.contains(&(from, to)) {
                assert_eq!(status, StatusCode::OK, "{from} → {to}: {body}");
                if to == "running" {
                    assert!(body["started_at"].is_string());
                    assert!(body["finished_at"].is_null());
                } else {
                    assert!(body["finished_at"].is_string(), "{body}");
                }
                assert_eq!(body["error"].is_string(), to == "failed", "{body}");
            } else {
                assert_eq!(status, StatusCode::CONFLICT, "{from} → {to}: {body}");
            }
        }
    }
    let (status, _) = e
        .call(
            Method::PATCH,
            "/api/ops/plan-units/nobody",
            Some(json!({"status": "running"})),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = e
        .call(
            Method::PATCH,
            "/api/ops/plan-units/r",
            Some(json!({"status": "exploded"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn a_run_that_ends_is_announced_and_audited() {
    let e = Engine::start().await;
    e.run_with_units("ok", &[]).await;
    e.move_run("ok", "running").await;
    let done = e.move_run("ok", "succeeded").await;
    assert!(done["started_at"].is_string() && done["finished_at"].is_string());
    let audited: i64 = e
        .app
        .scalar("SELECT COUNT(*) FROM audit WHERE action = 'run.succeeded' AND target_id = 'ok'")
        .await;
    assert_eq!(audited, 1);
}

#[tokio::test]
async fn a_webhook_receives_run_failed_signed() {
    let e = Engine::start_with(|env| {
        env.insert(
            "METADECK_WEBHOOK_ALLOW_PRIVATE_NETWORKS".into(),
            "true".into(),
        );
    })
    .await;
    let receiver = Receiver::start(204).await;
    let csrf = e.app.csrf_token(&e.app.client).await;
    let created: serde_json::Value = e
        .app
        .client
        .post(e.app.url("/api/webhooks"))
        .header("X-CSRF-Token", csrf)
        .json(&json!({"url": receiver.url(), "events": ["run.*"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let secret = created["secret"].as_str().unwrap().to_string();
    e.run_with_units("doomed", &[]).await;
    e.move_run("doomed", "running").await;
    let (status, failed) = e
        .call(
            Method::PATCH,
            "/api/ops/runs/doomed",
            Some(json!({"status": "failed", "error": "apply failed"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(failed["error"], "apply failed");
    let got = receiver.wait_for(1, Duration::from_secs(10)).await;
    let body = got[0].json();
    assert_eq!(body["type"], "run.failed");
    assert_eq!(body["data"]["id"], "doomed");
    assert_eq!(body["data"]["error"], "apply failed");
    assert!(
        got[0].verifies_with(&secret),
        "signed with the webhook's secret"
    );
}

#[tokio::test]
async fn runs_are_listed_newest_first_by_status_with_cursors() {
    let e = Engine::start().await;
    for i in 0..5 {
        e.run_with_units(&format!("r{i}"), &[]).await;
    }
    e.move_run("r1", "running").await;
    e.move_run("r3", "running").await;
    let page = e.get("/api/ops/runs?limit=2").await;
    let ids: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["r4", "r3"]);
    let next = e
        .get(&format!(
            "/api/ops/runs?limit=2&cursor={}",
            page["next_cursor"].as_str().unwrap()
        ))
        .await;
    let ids: Vec<&str> = next["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["r2", "r1"]);
    let running = e.get("/api/ops/runs?status=running").await;
    let ids: Vec<&str> = running["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["r3", "r1"]);
    let (status, _) = e
        .call(Method::GET, "/api/ops/runs?status=bogus", None)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn hostile_text_in_a_run_is_stored_verbatim() {
    let e = Engine::start().await;
    let (status, body) = e
        .call(
            Method::POST,
            "/api/ops/runs",
            Some(json!({"id": HOSTILE, "plan_path": HOSTILE, "metadata": {"note": HOSTILE},
                "plan_units": [{"id": "u", "resource_type": HOSTILE, "resource_name": HOSTILE, "action": "create"}]})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let runs: i64 = e.app.scalar("SELECT COUNT(*) FROM runs").await;
    assert_eq!(runs, 1, "the table is still there");
    let page = e.get("/api/ops/runs").await;
    assert_eq!(page["items"][0]["id"], HOSTILE);
    assert_eq!(page["items"][0]["metadata"]["note"], HOSTILE);
}
