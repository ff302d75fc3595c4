//! The live feed of one process: a poller that watches the database's [`ChangeMark`] and
//! publishes the changed tenants' cards to every subscriber (the dashboard's event streams).
//!
//! Watching the database rather than this process's own writes means any instance can serve
//! a stream: a report handled by another instance shows up here within one poll interval. A
//! write made here pokes the poller so that it looks at once. The poller sleeps while no one
//! subscribes. Subscribers see a shutdown signal and end their streams, so a graceful stop
//! does not wait for open dashboards.

use std::sync::Arc;
use std::time::Duration;

use sea_orm::DatabaseConnection;
use tokio::sync::{Notify, watch};
use tokio::time::Instant;

use super::live::{ChangeMark, TenantCard, cards, cards_of, change_mark, changed_tenants};
use crate::Result;

/// One publication: the cards that changed since the previous version.
#[derive(Debug, Default)]
pub struct LiveUpdate {
    pub version: u64,
    pub cards: Vec<TenantCard>,
}

/// The process's live feed.
pub struct LiveHub {
    updates: watch::Sender<Arc<LiveUpdate>>,
    wake: Notify,
    shutdown: watch::Receiver<bool>,
}

/// What a subscriber receives next.
#[derive(Debug)]
pub enum LiveEvent {
    /// Cards to show (changed ones, or all after a gap).
    Cards(Vec<TenantCard>),
    /// Nothing changed for a while: the stream is alive.
    Ping,
    /// The server is stopping: end the stream.
    End,
}

/// One subscriber's position in the feed.
pub struct LiveSubscription {
    updates: watch::Receiver<Arc<LiveUpdate>>,
    shutdown: watch::Receiver<bool>,
    seen: u64,
}

/// Shortest pause between two polls, even when writes poke the poller continuously.
const MIN_GAP: Duration = Duration::from_millis(50);

impl LiveHub {
    /// A hub whose subscribers end when `shutdown` turns true.
    pub fn new(shutdown: watch::Receiver<bool>) -> Arc<Self> {
        let (updates, _) = watch::channel(Arc::new(LiveUpdate::default()));
        Arc::new(Self {
            updates,
            wake: Notify::new(),
            shutdown,
        })
    }

    /// Subscribes to changes published from now on.
    pub fn subscribe(&self) -> LiveSubscription {
        let mut updates = self.updates.subscribe();
        let seen = updates.borrow_and_update().version;
        self.wake.notify_one();
        LiveSubscription {
            updates,
            shutdown: self.shutdown.clone(),
            seen,
        }
    }

    /// A change was committed by this process: poll now rather than at the next tick.
    pub fn poke(&self) {
        if self.updates.receiver_count() > 0 {
            self.wake.notify_one();
        }
    }

    /// True once the server is stopping.
    pub fn stopping(&self) -> bool {
        *self.shutdown.borrow()
    }

    /// Polls the database every `every` while anyone subscribes, until shutdown.
    pub async fn run(self: Arc<Self>, db: DatabaseConnection, every: Duration) {
        let mut shutdown = self.shutdown.clone();
        // Starting from an empty mark, the first poll publishes every card: a subscriber whose
        // snapshot predates this task's first look can then never miss a change made between.
        let mut mark = ChangeMark::default();
        let mut version = 0;
        let mut last_poll = Instant::now();
        let mut failing = false;
        loop {
            if self.updates.receiver_count() == 0 {
                tokio::select! {
                    _ = self.wake.notified() => {}
                    _ = shutdown.wait_for(|stop| *stop) => return,
                }
            } else {
                tokio::select! {
                    _ = tokio::time::sleep(every) => {}
                    _ = self.wake.notified() => {}
                    _ = shutdown.wait_for(|stop| *stop) => return,
                }
            }
            let since = last_poll.elapsed();
            if since < MIN_GAP {
                tokio::time::sleep(MIN_GAP - since).await;
            }
            last_poll = Instant::now();
            match poll(&db, &mark).await {
                Ok((new_mark, changed)) => {
                    failing = false;
                    mark = new_mark;
                    if let Some(cards) = changed {
                        version += 1;
                        self.updates
                            .send_replace(Arc::new(LiveUpdate { version, cards }));
                    }
                }
                Err(err) => {
                    if !failing {
                        tracing::warn!(error = %err, "the live feed cannot read the sync table");
                    }
                    failing = true;
                }
            }
        }
    }
}

/// Reads the mark; when it moved, the cards of the tenants that changed.
async fn poll(
    db: &DatabaseConnection,
    old: &ChangeMark,
) -> Result<(ChangeMark, Option<Vec<TenantCard>>)> {
    let new = change_mark(db).await?;
    if new == *old {
        return Ok((new, None));
    }
    let cards = if new.shrank_since(old) {
        // Rows were purged: every card may have changed.
        cards(db).await?
    } else {
        cards_of(db, &changed_tenants(db, old, &new).await?).await?
    };
    Ok((new, Some(cards)))
}

impl LiveSubscription {
    /// Waits for the next thing to send: changed cards, a ping after `idle` without change,
    /// or the end. After missing a version (a slow reader), reloads every card instead.
    pub async fn next(&mut self, db: &DatabaseConnection, idle: Duration) -> LiveEvent {
        tokio::select! {
            changed = self.updates.changed() => {
                if changed.is_err() {
                    return LiveEvent::End;
                }
                let update = self.updates.borrow_and_update().clone();
                let gap = update.version != self.seen + 1;
                self.seen = update.version;
                if !gap {
                    return LiveEvent::Cards(update.cards.clone());
                }
                match cards(db).await {
                    Ok(all) => LiveEvent::Cards(all),
                    Err(err) => {
                        tracing::warn!(error = %err, "a live stream cannot reload the cards");
                        LiveEvent::End
                    }
                }
            }
            _ = tokio::time::sleep(idle) => LiveEvent::Ping,
            _ = self.shutdown.wait_for(|stop| *stop) => LiveEvent::End,
        }
    }
}
