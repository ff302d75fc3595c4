//! The background sweepers and `metadeck purge`: expired facts deleted and counted (by the
//! operations sweeper and the command), lost runs failed with their running units (by the
//! orchestration sweeper).

use std::time::Duration;

use reqwest::Method;
use serde_json::json;

use super::Engine;

/// Moves a run's last sign of life `minutes` into the past.
async fn silence(e: &Engine, run: &str, minutes: i64) {
    let at = (chrono::Utc::now() - chrono::Duration::minutes(minutes))
        .to_rfc3339_opts(chrono::SecondsFormat::Micros, false);
    e.app
        .exec(&format!(
            "UPDATE runs SET updated_at = '{at}' WHERE id = '{run}'"
        ))
        .await
        .unwrap();
}

#[tokio::test]
async fn the_sweepers_delete_expired_facts_and_fail_lost_runs() {
    let e = Engine::start_with(|env| {
        env.insert("METADECK_OPS_LOST_MINUTES".into(), "1".into());
        env.insert("METADECK_OPS_SWEEP_SECONDS".into(), "1".into());
        env.insert("METADECK_SWEEP_SECONDS".into(), "1".into());
    })
    .await;
    e.call(
        Method::PUT,
        "/api/ops/facts/t/n/gone",
        Some(json!({"value": 1, "ttl": 1})),
    )
    .await;
    e.call(
        Method::PUT,
        "/api/ops/facts/t/n/kept",
        Some(json!({"value": 1})),
    )
    .await;
    e.run_with_units("silent", &[("working", &[]), ("waiting", &[])])
        .await;
    e.run_with_units("chatty", &[]).await;
    for run in ["silent", "chatty"] {
        e.move_run(run, "running").await;
    }
    e.call(
        Method::PATCH,
        "/api/ops/plan-units/working",
        Some(json!({"status": "running"})),
    )
    .await;
    silence(&e, "silent", 2).await;
    silence(&e, "chatty", 2).await;
    // An event is a sign of life.
    e.append(json!({"run_id": "chatty", "level": "info", "message": "still here"}))
        .await;

    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let run = e.get("/api/ops/runs/silent").await;
        let facts: i64 = e.app.scalar("SELECT COUNT(*) FROM facts").await;
        if run["status"] == "failed" && facts == 1 {
            assert!(run["error"].as_str().unwrap().starts_with("lost:"), "{run}");
            let status_of = |id: &str| {
                run["plan_units"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|u| u["id"] == id)
                    .map(|u| u["status"].clone())
            };
            assert_eq!(status_of("working"), Some(json!("failed")), "{run}");
            assert_eq!(status_of("waiting"), Some(json!("pending")), "{run}");
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not swept in time: {run}, {facts} facts"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(e.get("/api/ops/runs/chatty").await["status"], "running");
    let audited: i64 = e
        .app
        .scalar("SELECT COUNT(*) FROM audit WHERE action = 'run.failed' AND actor = 'system'")
        .await;
    assert_eq!(audited, 1);
}

#[tokio::test]
async fn purge_removes_expired_facts_and_reports_how_many() {
    let e = Engine::start().await;
    for key in ["a", "b", "c"] {
        e.call(
            Method::PUT,
            &format!("/api/ops/facts/t/n/{key}"),
            Some(json!({"value": 1, "ttl": 3600})),
        )
        .await;
    }
    e.app
        .exec("UPDATE facts SET expires_at = '2000-01-01T00:00:00.000000+00:00' WHERE key <> 'c'")
        .await
        .unwrap();
    let out = crate::helpers::metadeck_bin()
        .env("DATABASE_URL", &e.app.database.url)
        .env("METADECK_SECRET_KEY", crate::helpers::TEST_SECRET_KEY)
        .args(["purge", "--json"])
        .output()
        .expect("metadeck runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("a JSON report");
    assert_eq!(report["removed"]["facts"], 2);
    let left: i64 = e.app.scalar("SELECT COUNT(*) FROM facts").await;
    assert_eq!(left, 1);
}
