//! Every list query the console runs walks an index, on both backends: each list function is
//! called on a connection that records its statements, and the database's own plan of the
//! page query (`EXPLAIN QUERY PLAN` on SQLite, `EXPLAIN` on PostgreSQL) is read back.
//!
//! SQLite's plan must name the index the list was given and sort nothing itself (no temporary
//! B-tree). PostgreSQL's planner weighs costs, and on a near-empty table any plan is cheap (a
//! sort of the few rows it expects beats an index walk), so rather than filling each table
//! until its choice means something, its sequential and bitmap scans (which read in table
//! order) and its sorts are priced out for the check: the plan must then read an index and
//! sort nothing, which it can only do when an index serves the filter and the order.

use std::sync::{Arc, Mutex};

use sea_orm::{ConnectionTrait, Database, DbBackend, Statement, TransactionTrait};
use service::pagination::{PageRequest, Sort};
use service::registry::{DeviceFilter, DeviceSort, EntityFilter, EntitySortField};

use crate::helpers::spawn_app;

mod matrix;

/// A connection of its own to the test database that records every statement it runs, so a
/// test plans exactly the SQL a list function built.
struct Recorder {
    db: sea_orm::DatabaseConnection,
    seen: Arc<Mutex<Vec<Statement>>>,
}

impl Recorder {
    /// Connects to `url` and starts recording.
    async fn connect(url: &str) -> Self {
        let mut db = Database::connect(url).await.unwrap();
        let seen: Arc<Mutex<Vec<Statement>>> = Arc::default();
        let sink = seen.clone();
        db.set_metric_callback(move |info| sink.lock().unwrap().push(info.statement.clone()));
        Self { db, seen }
    }

    /// The statements run since the last look, the plans read meanwhile left out.
    fn take(&self) -> Vec<Statement> {
        std::mem::take(&mut *self.seen.lock().unwrap())
            .into_iter()
            .filter(|s| {
                !s.sql.starts_with("EXPLAIN")
                    && !s.sql.starts_with("SET")
                    && !s.sql.starts_with("BEGIN")
                    && !s.sql.starts_with("ROLLBACK")
            })
            .collect()
    }
}

/// The first page of fifty, keyed as `K`.
fn first<K: serde::de::DeserializeOwned>() -> PageRequest<K> {
    PageRequest::parse(Some(50), None).unwrap()
}

/// The plan of `statement`, one line per node.
async fn plan(db: &sea_orm::DatabaseConnection, statement: &Statement) -> String {
    let backend = db.get_database_backend();
    let explain = match backend {
        DbBackend::Postgres => "EXPLAIN",
        _ => "EXPLAIN QUERY PLAN",
    };
    let txn = db.begin().await.unwrap();
    if backend == DbBackend::Postgres {
        txn.execute_unprepared(
            "SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off; \
             SET LOCAL enable_sort = off",
        )
        .await
        .unwrap();
    }
    let rows = txn
        .query_all_raw(Statement {
            sql: format!("{explain} {}", statement.sql),
            ..statement.clone()
        })
        .await
        .unwrap();
    txn.rollback().await.unwrap();
    rows.iter()
        .map(|r| {
            let column = if backend == DbBackend::Postgres {
                "QUERY PLAN"
            } else {
                "detail"
            };
            r.try_get::<String>("", column).unwrap()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Asserts that the plan of a page query (the first statement whose text starts with
/// `SELECT` and reads `table`) uses `index` (SQLite) or an index (PostgreSQL), sorting nothing.
async fn assert_indexed(
    db: &sea_orm::DatabaseConnection,
    statements: &[Statement],
    what: &str,
    table: &str,
    index: &str,
) {
    if let Some(problem) = plan_problem(db, statements, what, table, index, false).await {
        panic!("{problem}");
    }
}

/// What is wrong with the plan of the page query of `table` among `statements`, if anything:
/// SQLite's plan must name `index` and build no temporary B-tree; PostgreSQL's must read an
/// index, scan no table in full and sort nothing. With `sorts_range`, the page may sort the
/// rows of the index range it reads (a range filter meeting another order, which no one
/// index can serve), but must still read them through `index`.
async fn plan_problem(
    db: &sea_orm::DatabaseConnection,
    statements: &[Statement],
    what: &str,
    table: &str,
    index: &str,
    sorts_range: bool,
) -> Option<String> {
    let Some(statement) = statements
        .iter()
        .find(|s| s.sql.starts_with("SELECT") && s.sql.contains(&format!("FROM \"{table}\"")))
    else {
        return Some(format!("{what}: no query of {table} in {statements:#?}"));
    };
    let plan = plan(db, statement).await;
    let fine = match db.get_database_backend() {
        DbBackend::Postgres => {
            plan.contains("Index")
                && !plan.contains("Seq Scan")
                && (sorts_range || !plan.contains("Sort Key"))
        }
        _ => plan.contains(index) && (sorts_range || !plan.contains("TEMP B-TREE")),
    };
    (!fine).then(|| format!("{what} (expected {index}):\n{plan}\n{}", statement.sql))
}

#[tokio::test]
async fn each_list_query_walks_an_index_under_each_sort_and_filter() {
    let app = spawn_app().await;
    let mut db = Database::connect(&app.database.url).await.unwrap();
    let seen: Arc<Mutex<Vec<Statement>>> = Arc::default();
    let sink = seen.clone();
    db.set_metric_callback(move |info| sink.lock().unwrap().push(info.statement.clone()));
    // The statements run since the last look, the plans read meanwhile left out.
    let take = || {
        std::mem::take(&mut *seen.lock().unwrap())
            .into_iter()
            .filter(|s| !s.sql.starts_with("EXPLAIN") && !s.sql.starts_with("SET"))
            .collect::<Vec<_>>()
    };

    let by_manufacturer = DeviceFilter {
        manufacturer: Some("ikea".into()),
        ..Default::default()
    };
    let by_area = DeviceFilter {
        area_id: Some("Kitchen".into()),
        ..Default::default()
    };
    for (what, filter, sort, index) in [
        (
            "devices by id",
            DeviceFilter::default(),
            DeviceSort::IdAsc,
            "sqlite_autoindex_devices",
        ),
        (
            "devices by name, reversed",
            DeviceFilter::default(),
            DeviceSort::NameDesc,
            "idx_devices_name",
        ),
        (
            "devices of a manufacturer, any case",
            by_manufacturer,
            DeviceSort::IdAsc,
            "idx_devices_manufacturer_lower",
        ),
        (
            "devices of an area, any case",
            by_area,
            DeviceSort::IdDesc,
            "idx_devices_area_lower",
        ),
    ] {
        service::registry::devices::list(&db, &filter, sort, &first())
            .await
            .unwrap();
        assert_indexed(&db, &take(), what, "devices", index).await;
    }

    let of_domain = EntityFilter {
        domain: Some("light".into()),
        ..Default::default()
    };
    for (what, filter, sort, index) in [
        (
            "entities by id",
            EntityFilter::default(),
            Sort::asc(EntitySortField::EntityId),
            "sqlite_autoindex_entities",
        ),
        (
            "entities by domain, reversed",
            EntityFilter::default(),
            Sort::desc(EntitySortField::Domain),
            "idx_entities_domain",
        ),
        (
            "entities of a domain",
            of_domain,
            Sort::asc(EntitySortField::EntityId),
            "idx_entities_domain",
        ),
    ] {
        service::registry::entities::list(&db, &filter, sort, &first())
            .await
            .unwrap();
        assert_indexed(&db, &take(), what, "entities", index).await;
    }

    let by_cli = service::audit::AuditFilter {
        actor: Some("cli".into()),
        ..Default::default()
    };
    for (what, filter, sort, index) in [
        (
            "audit by actor",
            service::audit::AuditFilter::default(),
            Sort::asc(service::audit::AuditSortField::Actor),
            "idx_audit_actor",
        ),
        (
            "audit by action, reversed",
            service::audit::AuditFilter::default(),
            Sort::desc(service::audit::AuditSortField::Action),
            "idx_audit_action",
        ),
        (
            "audit of an actor",
            by_cli,
            service::audit::NEWEST_FIRST,
            "idx_audit_actor",
        ),
    ] {
        service::audit::list(&db, &filter, sort, &first())
            .await
            .unwrap();
        assert_indexed(&db, &take(), what, "audit", index).await;
    }
    service::audit::list(
        &db,
        &Default::default(),
        service::audit::NEWEST_FIRST,
        &first(),
    )
    .await
    .unwrap();
    let newest = plan(&db, &take()[0]).await;
    assert!(
        !newest.contains("TEMP B-TREE") && !newest.contains("Sort Key"),
        "{newest}"
    );

    let of_tenant = service::sync::HistoryFilter {
        tenant_id: Some(service::sync::TenantId::parse("ACME", "tenant_id").unwrap()),
        ..Default::default()
    };
    for (what, filter, sort, index) in [
        (
            "history, newest first",
            service::sync::HistoryFilter::default(),
            service::sync::NEWEST_SYNC_FIRST,
            "idx_sync_history_start",
        ),
        (
            "history, oldest first",
            service::sync::HistoryFilter::default(),
            Sort::asc(service::sync::HistorySortField::Started),
            "idx_sync_history_start",
        ),
        (
            "history of a tenant, any case",
            of_tenant,
            service::sync::NEWEST_SYNC_FIRST,
            "idx_sync_history_tenant_lower",
        ),
    ] {
        service::sync::query::history(&db, &filter, sort, &first())
            .await
            .unwrap();
        assert_indexed(&db, &take(), what, "sync_history", index).await;
    }

    service::access::users::list(
        &db,
        &Default::default(),
        Sort::desc(service::access::users::UserSortField::Username),
        &first(),
    )
    .await
    .unwrap();
    assert_indexed(
        &db,
        &take(),
        "users by name, reversed",
        "local_users",
        "sqlite_autoindex_local_users",
    )
    .await;

    service::oauth::clients::list(
        &db,
        Sort::desc(service::oauth::clients::ClientSortField::Name),
        &first(),
    )
    .await
    .unwrap();
    assert_indexed(
        &db,
        &take(),
        "clients by name, reversed",
        "oauth_clients",
        "idx_oauth_clients_name",
    )
    .await;

    use service::oauth::device::{DeviceCodeSortField, NEWEST_CODES_FIRST};
    for (what, sort, index) in [
        (
            "device codes, newest first",
            NEWEST_CODES_FIRST,
            "idx_oauth_device_codes_created",
        ),
        (
            "device codes by expiry",
            Sort::asc(DeviceCodeSortField::Expires),
            "idx_oauth_device_codes_expires",
        ),
        (
            "device codes by expiry, reversed",
            Sort::desc(DeviceCodeSortField::Expires),
            "idx_oauth_device_codes_expires",
        ),
    ] {
        service::oauth::device::list(&db, sort, &first())
            .await
            .unwrap();
        assert_indexed(&db, &take(), what, "oauth_device_codes", index).await;
    }

    use service::webhooks::subscriptions::{self, WebhookFilter, WebhookSortField};
    let config = service::webhooks::WebhookConfig {
        cipher: service::webhooks::SecretCipher::from_secret_key(
            crate::helpers::TEST_SECRET_KEY.as_bytes(),
        ),
        allow_private_networks: false,
        retry_schedule: vec![std::time::Duration::from_secs(1)],
    };
    for (what, sort, index) in [
        (
            "webhooks by id, reversed",
            Sort::desc(WebhookSortField::WebhookId),
            "sqlite_autoindex_webhooks",
        ),
        (
            "webhooks by URL",
            Sort::asc(WebhookSortField::Url),
            "idx_webhooks_url",
        ),
        (
            "webhooks by URL, reversed",
            Sort::desc(WebhookSortField::Url),
            "idx_webhooks_url",
        ),
    ] {
        subscriptions::list(&db, &config, &WebhookFilter::default(), sort, &first())
            .await
            .unwrap();
        assert_indexed(&db, &take(), what, "webhooks", index).await;
    }

    for sort in [
        service::oauth::audit_log::NEWEST_EVENTS_FIRST,
        Sort::asc(service::oauth::audit_log::LogSortField::Time),
    ] {
        let filter = service::oauth::audit_log::LogFilter::default();
        service::oauth::audit_log::list(&db, &filter, sort, &first())
            .await
            .unwrap();
        // The log's id is SQLite's rowid: the table itself is the index it walks.
        let rowid = "SCAN oauth_audit_logs";
        assert_indexed(&db, &take(), "the OAuth log", "oauth_audit_logs", rowid).await;
    }

    // The known values hop through the lowered column's index rather than reading the table.
    service::vocabulary::known_values(&db, "devices", "manufacturer", 200)
        .await
        .unwrap();
    let known = plan(&db, &take()[0]).await;
    match db.get_database_backend() {
        DbBackend::Postgres => assert!(!known.contains("Seq Scan"), "{known}"),
        _ => assert!(
            known.contains("idx_devices_manufacturer_lower") && !known.contains("SCAN t"),
            "{known}"
        ),
    }
}
