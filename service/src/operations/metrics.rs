//! Prometheus metrics (spec 09): every family registered up front, so that a scrape shows
//! each one's `HELP` and `TYPE` from the first, with or without samples.
//!
//! Counters and histograms are fed where things happen (the request middleware, the
//! dispatcher, the sweeper, write transactions waiting for their connection) into one
//! process-wide set: a process serves one database, and a counter must survive the request
//! that bumped it. Gauges about the database are read at scrape time, at most every
//! [`DB_GAUGES_FOR`] per pool, with queries that use an index or read a pragma, so a scrape
//! stays cheap under load.

use std::sync::{LazyLock, Mutex, PoisonError};
use std::time::{Duration, Instant};

use entity::{sessions, sync_history, webhook_deliveries};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::prometheus_text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use sea_orm::{
    ColumnTrait, DatabaseConnection, DbBackend, EntityTrait, PaginatorTrait, QueryFilter, Select,
};

use super::purge::Removed;
use super::scalar;
use crate::Result;
use crate::db::per_pool::PerPool;

/// How long the gauges read from the database are reused.
pub const DB_GAUGES_FOR: Duration = Duration::from_secs(5);

/// Latency buckets, 0.5 ms to 10 s.
const LATENCY_BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The `route`, `method`, `status` of a request.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: String,
    method: String,
    status: u16,
}

/// A route pattern.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabel {
    route: String,
}

/// One label named `state`, `outcome`, `what` or `version`, by family.
macro_rules! one_label {
    ($name:ident, $field:ident) => {
        #[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
        struct $name {
            $field: String,
        }
    };
}
one_label!(StateLabel, state);
one_label!(OutcomeLabel, outcome);
one_label!(WhatLabel, what);
one_label!(VersionLabel, version);

/// A latency histogram with the spec's buckets.
fn latency() -> Histogram {
    Histogram::new(LATENCY_BUCKETS)
}

/// Every family Metadeck exports.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    durations: Family<RouteLabel, Histogram, fn() -> Histogram>,
    pool_connections: Family<StateLabel, Gauge>,
    pool_wait: Histogram,
    deliveries: Family<OutcomeLabel, Counter>,
    queue_depth: Gauge,
    sessions_active: Gauge,
    syncs_running: Gauge,
    sweeper_removed: Family<WhatLabel, Counter>,
    backup_last_success: Gauge,
    database_size: Gauge,
}

/// The process's metrics.
pub fn metrics() -> &'static Metrics {
    static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::new);
    &METRICS
}

impl Metrics {
    fn new() -> Self {
        let m = Self {
            registry: Registry::default(),
            requests: Family::default(),
            durations: Family::new_with_constructor(latency as fn() -> Histogram),
            pool_connections: Family::default(),
            pool_wait: latency(),
            deliveries: Family::default(),
            queue_depth: Gauge::default(),
            sessions_active: Gauge::default(),
            syncs_running: Gauge::default(),
            sweeper_removed: Family::default(),
            backup_last_success: Gauge::default(),
            database_size: Gauge::default(),
        };
        let mut registry = Registry::default();
        registry.register(
            "metadeck_http_requests",
            "HTTP requests answered, by route pattern, method and status",
            m.requests.clone(),
        );
        registry.register(
            "metadeck_http_request_duration_seconds",
            "Time to answer HTTP requests, by route pattern",
            m.durations.clone(),
        );
        registry.register(
            "metadeck_db_pool_connections",
            "Database pool connections, by state (idle, in_use)",
            m.pool_connections.clone(),
        );
        registry.register(
            "metadeck_db_pool_wait_seconds",
            "Time writes waited for their database connection (on SQLite, the writer's turn)",
            m.pool_wait.clone(),
        );
        registry.register(
            "metadeck_webhook_deliveries",
            "Webhook delivery attempts recorded, by outcome (succeeded, failed)",
            m.deliveries.clone(),
        );
        registry.register(
            "metadeck_webhook_queue_depth",
            "Webhook deliveries waiting to be sent (pending or to be retried)",
            m.queue_depth.clone(),
        );
        registry.register(
            "metadeck_sessions_active",
            "Console sessions not yet expired",
            m.sessions_active.clone(),
        );
        registry.register(
            "metadeck_syncs_running",
            "Syncs currently running",
            m.syncs_running.clone(),
        );
        registry.register(
            "metadeck_sweeper_removed",
            "Rows the sweeper's purges removed, by kind",
            m.sweeper_removed.clone(),
        );
        registry.register(
            "metadeck_backup_last_success_timestamp_seconds",
            "When the last successful backup finished (Unix time; 0: none yet)",
            m.backup_last_success.clone(),
        );
        registry.register(
            "metadeck_database_size_bytes",
            "Size of the database",
            m.database_size.clone(),
        );
        m.present_from_the_first_scrape();
        let build_info = Family::<VersionLabel, Gauge>::default();
        build_info
            .get_or_create(&VersionLabel {
                version: env!("CARGO_PKG_VERSION").to_string(),
            })
            .set(1);
        registry.register(
            "metadeck_build_info",
            "The running build; always 1",
            build_info,
        );
        Self { registry, ..m }
    }

    /// Gives each labelled family its first series at zero: the encoder leaves out a family
    /// without any, and every family must be there from the first scrape. The request
    /// families start with the scrape's own route, counted once its answer is out.
    fn present_from_the_first_scrape(&self) {
        drop(self.requests.get_or_create(&RequestLabels {
            route: "/metrics".into(),
            method: "GET".into(),
            status: 200,
        }));
        drop(self.durations.get_or_create(&RouteLabel {
            route: "/metrics".into(),
        }));
        for outcome in ["succeeded", "failed"] {
            drop(self.deliveries.get_or_create(&OutcomeLabel {
                outcome: outcome.into(),
            }));
        }
        for (what, _) in Removed::default().kinds() {
            drop(
                self.sweeper_removed
                    .get_or_create(&WhatLabel { what: what.into() }),
            );
        }
        for state in ["idle", "in_use"] {
            drop(self.pool_connections.get_or_create(&StateLabel {
                state: state.into(),
            }));
        }
    }

    /// Counts a request answered with `status` after `seconds`, under its route pattern.
    pub fn request(&self, route: &str, method: &str, status: u16, seconds: f64) {
        self.requests
            .get_or_create(&RequestLabels {
                route: route.to_string(),
                method: method.to_string(),
                status,
            })
            .inc();
        self.durations
            .get_or_create(&RouteLabel {
                route: route.to_string(),
            })
            .observe(seconds);
    }

    /// Notes how long a write waited for its connection.
    pub fn pool_wait(&self, waited: Duration) {
        self.pool_wait.observe(waited.as_secs_f64());
    }

    /// Counts a delivery attempt by its outcome.
    pub fn delivery(&self, succeeded: bool) {
        let outcome = if succeeded { "succeeded" } else { "failed" };
        self.deliveries
            .get_or_create(&OutcomeLabel {
                outcome: outcome.into(),
            })
            .inc();
    }

    /// Adds what a sweeper run removed.
    pub fn swept(&self, removed: &Removed) {
        for (what, n) in removed.kinds() {
            self.sweeper_removed
                .get_or_create(&WhatLabel { what: what.into() })
                .inc_by(n);
        }
    }

    /// The text a scrape answers (Prometheus text format 0.0.4), with the gauges of `db`.
    pub async fn scrape(&self, db: &DatabaseConnection) -> Result<String> {
        self.read_pool(db);
        let gauges = db_gauges(db).await?;
        self.queue_depth.set(gauges.queue_depth);
        self.sessions_active.set(gauges.sessions_active);
        self.syncs_running.set(gauges.syncs_running);
        self.backup_last_success.set(gauges.backup_last_success);
        self.database_size.set(gauges.database_size);
        let mut text = String::with_capacity(8 * 1024);
        encode(&mut text, &self.registry).map_err(crate::Error::internal)?;
        Ok(text)
    }

    /// The pool's connections by state, from the pool's own counts.
    fn read_pool(&self, db: &DatabaseConnection) {
        let (size, idle) = match db.get_database_backend() {
            DbBackend::Postgres => {
                let pool = db.get_postgres_connection_pool();
                (pool.size(), pool.num_idle())
            }
            _ => {
                let pool = db.get_sqlite_connection_pool();
                (pool.size(), pool.num_idle())
            }
        };
        let idle = i64::try_from(idle).unwrap_or(i64::MAX);
        for (state, n) in [("idle", idle), ("in_use", i64::from(size) - idle)] {
            self.pool_connections
                .get_or_create(&StateLabel {
                    state: state.into(),
                })
                .set(n.max(0));
        }
    }
}

/// The gauges read from the database, and when.
#[derive(Debug, Clone, Copy, Default)]
struct DbGauges {
    queue_depth: i64,
    sessions_active: i64,
    syncs_running: i64,
    backup_last_success: i64,
    database_size: i64,
}

/// Each pool's last reading.
static READINGS: PerPool<Mutex<Option<(Instant, DbGauges)>>> = PerPool::new();

/// The database's gauges, read again when the last reading is older than [`DB_GAUGES_FOR`].
async fn db_gauges(db: &DatabaseConnection) -> Result<DbGauges> {
    let entry = READINGS.of(db, || Mutex::new(None));
    if let Some((at, gauges)) = *entry.lock().unwrap_or_else(PoisonError::into_inner)
        && at.elapsed() < DB_GAUGES_FOR
    {
        return Ok(gauges);
    }
    let size_sql = match db.get_database_backend() {
        DbBackend::Postgres => "SELECT pg_database_size(current_database())::bigint",
        _ => "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()",
    };
    let now = chrono::Utc::now().fixed_offset();
    let gauges = DbGauges {
        queue_depth: count(
            webhook_deliveries::Entity::find()
                .filter(webhook_deliveries::Column::Status.is_in(["pending", "failed"])),
            db,
        )
        .await?,
        sessions_active: count(
            sessions::Entity::find().filter(sessions::Column::ExpiresAt.gt(now)),
            db,
        )
        .await?,
        syncs_running: count(
            sync_history::Entity::find().filter(sync_history::Column::Status.eq("running")),
            db,
        )
        .await?,
        backup_last_success: super::backup::last_success(db)
            .await?
            .map_or(0, |at| at.timestamp()),
        database_size: scalar::<i64>(db, size_sql).await?.unwrap_or(0),
    };
    *entry.lock().unwrap_or_else(PoisonError::into_inner) = Some((Instant::now(), gauges));
    Ok(gauges)
}

/// The number of rows `select` matches (each is served by an index).
async fn count<E: EntityTrait>(select: Select<E>, db: &DatabaseConnection) -> Result<i64>
where
    E::Model: Sync,
{
    Ok(i64::try_from(select.count(db).await?).unwrap_or(i64::MAX))
}
