//! The background dispatcher: claims due delivery rows, sends them signed, records each
//! attempt, and schedules retries.
//!
//! - **Claiming.** Rows are leased (`claimed_until`) in a write transaction; on PostgreSQL
//!   the candidate SELECT takes `FOR UPDATE SKIP LOCKED`, so several instances on one
//!   database never claim the same attempt. A crash leaves the lease to expire and the row
//!   is sent again with the same `webhook-id` (at-least-once).
//! - **Isolation.** Each delivery runs in its own task under a global limit and a
//!   per-endpoint limit, so a slow or dead endpoint holds at most its own share of slots
//!   and never the API (which shares nothing with this loop but the pool).
//! - **Network.** Redirects are never followed, each attempt times out at 15 s, and every
//!   resolved address is checked by the SSRF guard before the connection is made to it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{Notify, Semaphore, mpsc, watch};
use tokio::task::JoinSet;

use super::WebhookConfig;
use super::sender::{Attempt, Sender};
use super::store::{self, Claimed};
use crate::Result;
use crate::operations::metrics::metrics;
use crate::operations::workers::{WorkerState, record_worker};

/// Name of the worker in `worker_runs`.
pub const WORKER_NAME: &str = "webhook_dispatcher";

static WAKE: Notify = Notify::const_new();

/// Asks running dispatchers to look for due rows now (after a commit that queued some).
pub fn wake() {
    WAKE.notify_waiters();
}

/// How hard the dispatcher works.
#[derive(Debug, Clone)]
pub struct DispatcherOptions {
    /// Deliveries in flight at once.
    pub concurrency: usize,
    /// Deliveries in flight at once to any one endpoint.
    pub per_endpoint: usize,
    /// How long a claim lasts before another instance may take the row.
    pub lease: Duration,
    /// How often to look for due rows when nothing wakes the loop.
    pub idle_poll: Duration,
    /// Timeout of one attempt.
    pub attempt_timeout: Duration,
}

impl Default for DispatcherOptions {
    fn default() -> Self {
        Self {
            concurrency: 64,
            per_endpoint: 16,
            lease: Duration::from_secs(30),
            idle_poll: Duration::from_millis(500),
            attempt_timeout: Duration::from_secs(15),
        }
    }
}

/// What the per-delivery tasks share.
struct Shared {
    db: sea_orm::DatabaseConnection,
    config: Arc<WebhookConfig>,
    sender: Sender,
    /// Deliveries in flight per webhook id.
    in_flight: Mutex<HashMap<String, usize>>,
}

/// A running dispatcher; [`DispatcherHandle::stop`] ends it.
pub struct DispatcherHandle {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl DispatcherHandle {
    /// Stops claiming, lets deliveries in flight finish (each is bounded by its timeout),
    /// and records the stop. Unfinished claims simply expire.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = tokio::time::timeout(Duration::from_secs(20), self.task).await;
    }
}

/// Starts the dispatcher on the current runtime.
pub fn start(
    db: sea_orm::DatabaseConnection,
    config: Arc<WebhookConfig>,
    options: DispatcherOptions,
) -> Result<DispatcherHandle> {
    let sender = Sender::new(config.allow_private_networks, options.attempt_timeout)?;
    let shared = Arc::new(Shared {
        db,
        config,
        sender,
        in_flight: Mutex::new(HashMap::new()),
    });
    let (stop, stopped) = watch::channel(false);
    let task = tokio::spawn(run(shared, options, stopped));
    Ok(DispatcherHandle { stop, task })
}

/// Most attempts recorded in one write transaction.
const RECORD_BATCH: usize = 256;

async fn run(shared: Arc<Shared>, options: DispatcherOptions, mut stopped: watch::Receiver<bool>) {
    record_worker(&shared.db, WORKER_NAME, WorkerState::Started).await;
    // Attempts are recorded by one task in batches: one write transaction for many results
    // instead of one each (SQLite has a single writer).
    let (results, inbox) = mpsc::unbounded_channel::<(Claimed, Attempt)>();
    let recorder = tokio::spawn(record_results(shared.clone(), inbox));
    let slots = Arc::new(Semaphore::new(options.concurrency.max(1)));
    let mut tasks = JoinSet::new();
    let mut sent: u64 = 0;
    let mut last_report = tokio::time::Instant::now();
    loop {
        if *stopped.borrow() {
            break;
        }
        while let Some(done) = tasks.try_join_next() {
            sent += u64::from(done.is_ok());
        }
        let free = slots.available_permits();
        let mut claimed_full = false;
        if free > 0 {
            let room = store::Room {
                in_flight: shared
                    .in_flight
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .clone(),
                per_endpoint: options.per_endpoint,
            };
            match store::claim(&shared.db, free as u64, room, options.lease).await {
                Ok(rows) => {
                    claimed_full = rows.len() == free;
                    for row in rows {
                        let Ok(permit) = slots.clone().acquire_owned().await else {
                            break;
                        };
                        enter(&shared, &row.webhook_id);
                        let (shared, results) = (shared.clone(), results.clone());
                        tasks.spawn(async move {
                            let webhook_id = row.webhook_id.clone();
                            if let Some(outcome) = deliver(&shared, row).await {
                                let _ = results.send(outcome);
                            }
                            leave(&shared, &webhook_id);
                            drop(permit);
                        });
                    }
                }
                Err(err) => tracing::warn!(error = %err, "claiming webhook deliveries failed"),
            }
        }
        if last_report.elapsed() > Duration::from_secs(60) {
            last_report = tokio::time::Instant::now();
            let details =
                serde_json::json!({"attempts_since_start": sent, "in_flight": tasks.len()});
            record_worker(&shared.db, WORKER_NAME, WorkerState::Running(details)).await;
        }
        if claimed_full {
            tokio::task::yield_now().await;
            continue;
        }
        tokio::select! {
            _ = stopped.changed() => {}
            _ = WAKE.notified() => {}
            _ = tokio::time::sleep(options.idle_poll) => {}
            Some(done) = tasks.join_next(), if !tasks.is_empty() => {
                sent += u64::from(done.is_ok());
                // Let a few more finish, so one claim refills several slots at once.
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
    }
    let drain = async { while tasks.join_next().await.is_some() {} };
    let _ = tokio::time::timeout(options.attempt_timeout + Duration::from_secs(2), drain).await;
    tasks.abort_all();
    drop(results);
    let _ = tokio::time::timeout(Duration::from_secs(10), recorder).await;
    record_worker(
        &shared.db,
        WORKER_NAME,
        WorkerState::Finished(serde_json::json!({"attempts_since_start": sent})),
    )
    .await;
}

fn enter(shared: &Shared, webhook_id: &str) {
    let mut map = shared.in_flight.lock().unwrap_or_else(|e| e.into_inner());
    *map.entry(webhook_id.to_string()).or_default() += 1;
}

fn leave(shared: &Shared, webhook_id: &str) {
    let mut map = shared.in_flight.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(n) = map.get_mut(webhook_id) {
        *n = n.saturating_sub(1);
        if *n == 0 {
            map.remove(webhook_id);
        }
    }
}

/// One attempt of one claimed row, from loading its endpoint to its outcome; `None` when
/// the row was handed back without an attempt.
async fn deliver(shared: &Shared, row: Claimed) -> Option<(Claimed, Attempt)> {
    let endpoint = match store::endpoint(&shared.db, &shared.config, &row.webhook_id).await {
        Ok(Some(endpoint)) => endpoint,
        Ok(None) => {
            // Disabled or deleted since the claim: hand the row back untouched.
            if let Err(err) = store::release(&shared.db, row.id).await {
                tracing::warn!(error = %err, delivery = row.id, "releasing a delivery failed");
            }
            return None;
        }
        Err(err) => {
            let attempt = Attempt::failed(format!("cannot prepare the delivery: {err}"));
            return Some((row, attempt));
        }
    };
    let attempt = shared
        .sender
        .send(&endpoint, &row.message_id, &row.body)
        .await;
    Some((row, attempt))
}

/// Records outcomes as they come, many per transaction, until every sender is gone.
async fn record_results(
    shared: Arc<Shared>,
    mut inbox: mpsc::UnboundedReceiver<(Claimed, Attempt)>,
) {
    while let Some(first) = inbox.recv().await {
        let mut batch = vec![first];
        while batch.len() < RECORD_BATCH {
            match inbox.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        let recorded =
            store::record_attempts(&shared.db, &shared.config.retry_schedule, &batch).await;
        if recorded.is_ok() {
            for (_, attempt) in &batch {
                metrics().delivery(attempt.succeeded());
            }
        }
        if let Err(err) = recorded {
            // The leases expire and the rows are sent again with the same message ids.
            tracing::warn!(error = %err, attempts = batch.len(), "recording delivery attempts failed");
        }
    }
}
