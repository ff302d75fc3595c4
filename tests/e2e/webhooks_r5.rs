//! R5: the receiver is down, events are emitted, Metadeck (a real process) is killed with
//! SIGKILL and restarted, the receiver comes back — every event arrives, each signature is
//! valid, and repeats carry the same `webhook-id`.
//!
//! The receiver stays down `METADECK_R5_DOWN_SECS` seconds (default 3; the bar's own run
//! uses 60).

use std::collections::HashMap;
use std::process::Stdio;
use std::time::Duration;

use serde_json::json;
use service::audit::Actor;
use service::webhooks::ssrf::WebhookUrl;
use service::webhooks::subscriptions::{self, EventList, WebhookInput};
use service::webhooks::{Event, EventType, SecretCipher, WebhookConfig};

use crate::helpers::{TEST_SECRET_KEY, TestDatabase, free_port, serve_process};
use crate::webhook_receiver::Receiver;

const ENV: &[(&str, &str)] = &[
    ("METADECK_ADMIN_PASSWORD", "a-long-enough-password"),
    ("METADECK_WEBHOOK_ALLOW_PRIVATE_NETWORKS", "true"),
    (
        "METADECK_WEBHOOK_RETRY_SCHEDULE",
        "1s,1s,2s,2s,4s,4s,8s,8s,8s,8s,8s,8s,8s,8s,8s,8s,8s,8s,8s,8s",
    ),
];

async fn emit_batch(db: &sea_orm::DatabaseConnection, from: u32, n: u32) {
    for i in from..from + n {
        let txn = service::db::begin_write(db).await.unwrap();
        service::webhooks::emit(
            &txn,
            &[Event::new(EventType::SyncCompleted, json!({"sync_id": i}))],
        )
        .await
        .unwrap();
        txn.commit().await.unwrap();
    }
}

#[tokio::test]
async fn r5_every_event_arrives_signed_after_an_outage_and_a_sigkill() {
    let down = std::env::var("METADECK_R5_DOWN_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3u64);
    let database = TestDatabase::migrated().await;
    let port = free_port();
    let (mut first, _) = serve_process(&database, ENV, Stdio::null()).await;
    let db = service::db::connect(&service::db::DbOptions {
        url: database.url.clone(),
        max_connections: 2,
    })
    .await
    .unwrap();
    let config = WebhookConfig {
        cipher: SecretCipher::from_secret_key(TEST_SECRET_KEY.as_bytes()),
        allow_private_networks: true,
        retry_schedule: Vec::new(),
    };
    let input = WebhookInput {
        url: WebhookUrl::parse(&format!("http://127.0.0.1:{port}/hook"), "url").unwrap(),
        events: EventList::parse(&["sync.*".to_string()], "events").unwrap(),
        team: None,
        description: None,
        is_enabled: true,
    };
    let (_, secret) = subscriptions::create(&db, &config, &Actor::Cli, None, None, input, None)
        .await
        .unwrap();

    // The receiver is down: attempts fail while events keep coming.
    emit_batch(&db, 0, 10).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    first.kill().unwrap(); // SIGKILL
    first.wait().unwrap();
    emit_batch(&db, 10, 10).await;
    let (mut second, _) = serve_process(&database, ENV, Stdio::null()).await;
    tokio::time::sleep(Duration::from_secs(down)).await;
    let receiver = Receiver::start_on(port, 200).await;

    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    let mut by_id: HashMap<String, usize> = HashMap::new();
    while tokio::time::Instant::now() < deadline {
        by_id.clear();
        for r in receiver.received() {
            *by_id.entry(r.header("webhook-id")).or_default() += 1;
        }
        if by_id.len() >= 20 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let got = receiver.received();
    let _ = second.kill();
    let _ = second.wait();

    assert_eq!(
        by_id.len(),
        20,
        "every event arrived ({} requests)",
        got.len()
    );
    let mut syncs: Vec<i64> = Vec::new();
    for r in &got {
        assert!(r.verifies_with(secret.expose()), "a valid signature");
        let id = r.json()["data"]["sync_id"].as_i64().unwrap();
        if !syncs.contains(&id) {
            syncs.push(id);
        }
    }
    syncs.sort();
    assert_eq!(
        syncs,
        (0..20).collect::<Vec<_>>(),
        "each event once per message id"
    );
    // A repeat of one event always carries that event's message id.
    let mut id_of: HashMap<i64, String> = HashMap::new();
    for r in &got {
        let sync = r.json()["data"]["sync_id"].as_i64().unwrap();
        let id = r.header("webhook-id");
        assert_eq!(id_of.entry(sync).or_insert_with(|| id.clone()), &id);
    }
    let _ = db.close().await;
}
