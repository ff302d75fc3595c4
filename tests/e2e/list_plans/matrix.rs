//! The plan of every list the console and the API offer, under each filter and each sort
//! they offer: every page reads a range of an index (or the table in its own key order) and
//! stops after its rows, so a page costs the same at ten times the rows.
//!
//! Each case names the index SQLite must use; PostgreSQL must read an index and sort nothing
//! (see [`super::plan`] for how its cost-based choice is made to mean something on a small
//! table).

use service::pagination::Sort;

use super::{Recorder, first, plan_problem};
use crate::helpers::spawn_app;

/// The plans found wrong, all reported at the end of a test rather than only the first.
#[derive(Default)]
struct Findings(Vec<String>);

impl Findings {
    /// Notes what is wrong with the plan of `table`'s page query among `statements`.
    async fn check(
        &mut self,
        db: &sea_orm::DatabaseConnection,
        statements: &[sea_orm::Statement],
        what: &str,
        table: &str,
        index: &str,
    ) {
        if let Some(problem) = plan_problem(db, statements, what, table, index, false).await {
            self.0.push(problem);
        }
    }

    /// Like [`Findings::check`], for a range filter under another order: the rows of the
    /// range may be sorted, but they must be read through `index`.
    async fn check_range(
        &mut self,
        db: &sea_orm::DatabaseConnection,
        statements: &[sea_orm::Statement],
        what: &str,
        table: &str,
        index: &str,
    ) {
        if let Some(problem) = plan_problem(db, statements, what, table, index, true).await {
            self.0.push(problem);
        }
    }

    /// Fails the test with every wrong plan.
    fn assert_none(self) {
        assert!(
            self.0.is_empty(),
            "{} wrong plans:\n\n{}",
            self.0.len(),
            self.0.join("\n\n")
        );
    }
}

/// A moment every backend reads as a timestamp.
const AT: &str = "2026-01-01T00:00:00+00:00";

#[tokio::test]
async fn registry_lists_walk_an_index_under_every_filter_and_sort() {
    use service::registry::{DeviceFilter, DeviceSort, EntityFilter, EntitySortField};
    let app = spawn_app().await;
    let rec = Recorder::connect(&app.database.url).await;
    let mut found = Findings::default();

    let filters = [
        ("all", DeviceFilter::default(), None),
        (
            "of an area",
            DeviceFilter {
                area_id: Some("Kitchen".into()),
                ..Default::default()
            },
            Some("idx_devices_area_lower"),
        ),
        (
            "of a manufacturer",
            DeviceFilter {
                manufacturer: Some("IKEA".into()),
                ..Default::default()
            },
            Some("idx_devices_manufacturer_lower"),
        ),
        (
            "of an integration",
            DeviceFilter {
                integration: Some("zha".into()),
                ..Default::default()
            },
            Some("idx_devices_integration_lower"),
        ),
    ];
    for (which, filter, filter_index) in filters {
        for (sort, sort_index) in [
            (DeviceSort::IdAsc, "sqlite_autoindex_devices"),
            (DeviceSort::IdDesc, "sqlite_autoindex_devices"),
            (DeviceSort::NameAsc, "idx_devices_name"),
            (DeviceSort::NameDesc, "idx_devices_name"),
        ] {
            service::registry::devices::list(&rec.db, &filter, sort, &first())
                .await
                .unwrap();
            let what = format!("devices {which}, sorted {}", sort.as_str());
            let by_name = matches!(sort, DeviceSort::NameAsc | DeviceSort::NameDesc);
            match filter_index {
                // A filter's devices sorted by name: the filter's range, then sorted (an index
                // per filter and name cost every device write three random B-tree inserts).
                Some(index) if by_name => {
                    found
                        .check_range(&rec.db, &rec.take(), &what, "devices", index)
                        .await
                }
                Some(index) => {
                    found
                        .check(&rec.db, &rec.take(), &what, "devices", index)
                        .await
                }
                None => {
                    found
                        .check(&rec.db, &rec.take(), &what, "devices", sort_index)
                        .await
                }
            }
        }
    }

    let filters = [
        ("all", EntityFilter::default(), None),
        (
            "of a device",
            EntityFilter {
                device_id: Some("dev-1".into()),
                ..Default::default()
            },
            Some(("idx_entities_device", "idx_entities_device_domain")),
        ),
        (
            "of a domain",
            EntityFilter {
                domain: Some("light".into()),
                ..Default::default()
            },
            Some(("idx_entities_domain", "idx_entities_domain")),
        ),
        (
            "of a platform",
            EntityFilter {
                platform: Some("zha".into()),
                ..Default::default()
            },
            Some(("idx_entities_platform", "idx_entities_platform_domain")),
        ),
        (
            "disabled",
            EntityFilter {
                disabled: Some(true),
                ..Default::default()
            },
            Some(("idx_entities_disabled", "idx_entities_disabled_domain")),
        ),
    ];
    for (which, filter, filter_index) in filters {
        for (sort, sort_index) in [
            (
                Sort::asc(EntitySortField::EntityId),
                "sqlite_autoindex_entities",
            ),
            (
                Sort::desc(EntitySortField::EntityId),
                "sqlite_autoindex_entities",
            ),
            (Sort::asc(EntitySortField::Domain), "idx_entities_domain"),
            (Sort::desc(EntitySortField::Domain), "idx_entities_domain"),
        ] {
            service::registry::entities::list(&rec.db, &filter, sort, &first())
                .await
                .unwrap();
            let what = format!("entities {which}, sorted {}", sort.param());
            let index = match filter_index {
                Some((by_id, by_domain)) => match sort.field {
                    EntitySortField::Domain => by_domain,
                    EntitySortField::EntityId => by_id,
                },
                None => sort_index,
            };
            found
                .check(&rec.db, &rec.take(), &what, "entities", index)
                .await;
        }
    }
    found.assert_none();
}

#[tokio::test]
async fn audit_and_sync_lists_walk_an_index_under_every_filter_and_sort() {
    use service::audit::{AuditFilter, AuditSortField};
    use service::sync::{HistoryFilter, HistorySortField, SyncStatus, SyncType, TenantId};
    let app = spawn_app().await;
    let rec = Recorder::connect(&app.database.url).await;
    let mut found = Findings::default();
    let since = chrono::Utc::now() - chrono::Duration::days(1);

    // Two actions under the prefix `user.`, so that its pages in time order are read one
    // action at a time (a query per action, each planned below through the first).
    for action in ["user.created", "user.updated"] {
        let txn = service::db::begin_write(&app.db).await.unwrap();
        let entry = service::audit::AuditEntry::new(action, &service::audit::Actor::Cli);
        service::audit::commit_audited(txn, entry, &[])
            .await
            .unwrap();
    }

    // For each filter, the index of each order: newest first, oldest first, by actor, by
    // action (reversed). A time window is read in key order, which time follows, so the
    // default newest-first page stops at its first rows; an action prefix in time order reads
    // each of its actions' newest rows from `(action, id)`; by actor, it sorts the rows of its
    // range (`None` marks those).
    let filters = [
        (
            "all",
            AuditFilter::default(),
            [
                Some("SCAN audit"),
                Some("SCAN audit"),
                Some("idx_audit_actor"),
                Some("idx_audit_action"),
            ],
        ),
        (
            "of an actor",
            AuditFilter {
                actor: Some("cli".into()),
                ..Default::default()
            },
            [
                Some("idx_audit_actor"),
                Some("idx_audit_actor"),
                Some("idx_audit_actor"),
                Some("idx_audit_actor_action"),
            ],
        ),
        (
            "of an action prefix",
            AuditFilter {
                action_prefix: Some("user.".into()),
                ..Default::default()
            },
            [
                Some("idx_audit_action"),
                Some("idx_audit_action"),
                None,
                Some("idx_audit_action"),
            ],
        ),
        (
            "of a target",
            AuditFilter {
                target_id: Some("dev-1".into()),
                ..Default::default()
            },
            [
                Some("idx_audit_target"),
                Some("idx_audit_target"),
                Some("idx_audit_target_actor"),
                Some("idx_audit_target_action"),
            ],
        ),
        (
            "since a day",
            AuditFilter {
                since: Some(since),
                ..Default::default()
            },
            [
                Some("SCAN audit"),
                Some("SCAN audit"),
                Some("idx_audit_actor"),
                Some("idx_audit_action"),
            ],
        ),
    ];
    for (which, filter, indexes) in filters {
        let sorts = [
            service::audit::NEWEST_FIRST,
            Sort::asc(AuditSortField::Time),
            Sort::asc(AuditSortField::Actor),
            Sort::desc(AuditSortField::Action),
        ];
        for (sort, index) in sorts.into_iter().zip(indexes) {
            service::audit::list(&rec.db, &filter, sort, &first())
                .await
                .unwrap();
            let what = format!("audit {which}, sorted {}", sort.param());
            let statements = rec.take();
            match index {
                Some(index) => {
                    found
                        .check(&rec.db, &statements, &what, "audit", index)
                        .await
                }
                None => {
                    let index = "idx_audit_action";
                    found
                        .check_range(&rec.db, &statements, &what, "audit", index)
                        .await
                }
            }
        }
    }

    let filters = [
        ("all", HistoryFilter::default(), "idx_sync_history_start"),
        (
            "of a tenant",
            HistoryFilter {
                tenant_id: Some(TenantId::parse("acme", "tenant_id").unwrap()),
                ..Default::default()
            },
            "idx_sync_history_tenant_lower",
        ),
        (
            "of a status",
            HistoryFilter {
                status: Some(SyncStatus::Failed),
                ..Default::default()
            },
            "idx_sync_history_status_start",
        ),
        (
            "of a type",
            HistoryFilter {
                sync_type: Some(SyncType::Graphdb),
                ..Default::default()
            },
            "idx_sync_history_type_start",
        ),
        (
            "since a day",
            HistoryFilter {
                since: Some(since),
                ..Default::default()
            },
            "idx_sync_history_start",
        ),
    ];
    for (which, filter, index) in filters {
        for sort in [
            service::sync::NEWEST_SYNC_FIRST,
            Sort::asc(HistorySortField::Started),
        ] {
            service::sync::query::history(&rec.db, &filter, sort, &first())
                .await
                .unwrap();
            let what = format!("sync history {which}, sorted {}", sort.param());
            found
                .check(&rec.db, &rec.take(), &what, "sync_history", index)
                .await;
        }
    }
    found.assert_none();
}

#[tokio::test]
async fn access_and_oauth_lists_walk_an_index_under_every_filter_and_sort() {
    use service::access::users::{UserFilter, UserSortField};
    use service::oauth::audit_log::{LogFilter, LogSortField, NEWEST_EVENTS_FIRST};
    let app = spawn_app().await;
    let rec = Recorder::connect(&app.database.url).await;
    let mut found = Findings::default();

    for (which, filter) in [
        ("all", UserFilter::default()),
        (
            "active",
            UserFilter {
                active: Some(true),
                ..Default::default()
            },
        ),
        (
            "holding a role",
            UserFilter {
                role: Some("admin".into()),
                ..Default::default()
            },
        ),
    ] {
        for sort in [
            Sort::asc(UserSortField::Username),
            Sort::desc(UserSortField::Username),
        ] {
            service::access::users::list(&rec.db, &filter, sort, &first())
                .await
                .unwrap();
            let what = format!("users {which}, sorted {}", sort.param());
            let statements = rec.take();
            if filter.role.is_some() {
                // A role's holders are found through the role's index and sorted by name.
                let index = "idx_user_roles_role";
                found
                    .check_range(&rec.db, &statements, &what, "local_users", index)
                    .await;
            } else {
                let index = "sqlite_autoindex_local_users";
                found
                    .check(&rec.db, &statements, &what, "local_users", index)
                    .await;
            }
        }
    }

    // Everyone's sessions and one user's, most recently seen first.
    for (which, user) in [("everyone's", None), ("one user's", Some(1))] {
        service::access::sessions::list(&rec.db, user)
            .await
            .unwrap();
        let what = format!("{which} sessions");
        let index = if user.is_some() {
            "idx_sessions_user_seen"
        } else {
            "idx_sessions_seen"
        };
        found
            .check(&rec.db, &rec.take(), &what, "sessions", index)
            .await;
    }

    let someone = uuid::Uuid::new_v4();
    let from = chrono::NaiveDate::from_ymd_opt(2026, 1, 1);
    for (which, filter, index) in [
        ("all", LogFilter::default(), "SCAN oauth_audit_logs"),
        (
            "of an event type",
            LogFilter {
                event_type: Some("token_issued".into()),
                ..Default::default()
            },
            "idx_oauth_audit_logs_event",
        ),
        (
            "of a client",
            LogFilter {
                client_id: Some(someone),
                ..Default::default()
            },
            "idx_oauth_audit_logs_client",
        ),
        (
            "of a user",
            LogFilter {
                user_id: Some(someone),
                ..Default::default()
            },
            "idx_oauth_audit_logs_user",
        ),
        (
            "from a day",
            LogFilter {
                from,
                ..Default::default()
            },
            // A time window is read in key order, which time follows.
            "SCAN oauth_audit_logs",
        ),
    ] {
        for sort in [NEWEST_EVENTS_FIRST, Sort::asc(LogSortField::Time)] {
            service::oauth::audit_log::list(&rec.db, &filter, sort, &first())
                .await
                .unwrap();
            let what = format!("the OAuth log {which}, sorted {}", sort.param());
            found
                .check(&rec.db, &rec.take(), &what, "oauth_audit_logs", index)
                .await;
        }
    }

    // A client's live tokens, newest first: a range of the client's tokens by creation.
    app.login_as_admin().await;
    let client = crate::oauth::service_client(&app, &["users:read"]).await;
    rec.take();
    service::oauth::clients::live_tokens(&rec.db, &client.id)
        .await
        .unwrap();
    let statements = rec.take();
    for table in ["oauth_access_tokens", "oauth_refresh_tokens"] {
        let index = format!("idx_{table}_client_created");
        let what = format!("a client's live {table}");
        found
            .check(&rec.db, &statements, &what, table, &index)
            .await;
    }
    found.assert_none();
}

#[tokio::test]
async fn webhook_lists_walk_an_index_under_every_filter_and_sort() {
    use service::webhooks::deliveries::{
        DeliverySortField, DeliveryStatus, NEWEST_DELIVERIES_FIRST,
    };
    use service::webhooks::subscriptions::{self, WebhookFilter, WebhookSortField};
    let app = spawn_app().await;
    let rec = Recorder::connect(&app.database.url).await;
    let mut found = Findings::default();
    let config = service::webhooks::WebhookConfig {
        cipher: service::webhooks::SecretCipher::from_secret_key(
            crate::helpers::TEST_SECRET_KEY.as_bytes(),
        ),
        allow_private_networks: false,
        retry_schedule: vec![std::time::Duration::from_secs(1)],
    };

    for (which, filter, filter_index) in [
        ("all", WebhookFilter::default(), None),
        (
            "of a team",
            WebhookFilter {
                team: Some("ops".into()),
                ..Default::default()
            },
            Some(("idx_webhooks_team_id", "idx_webhooks_team_url")),
        ),
        (
            "disabled",
            WebhookFilter {
                is_enabled: Some(false),
                ..Default::default()
            },
            Some(("idx_webhooks_enabled", "idx_webhooks_enabled_url")),
        ),
    ] {
        for (sort, sort_index) in [
            (
                Sort::asc(WebhookSortField::WebhookId),
                "sqlite_autoindex_webhooks",
            ),
            (Sort::desc(WebhookSortField::Url), "idx_webhooks_url"),
        ] {
            subscriptions::list(&rec.db, &config, &filter, sort, &first())
                .await
                .unwrap();
            let what = format!("webhooks {which}, sorted {}", sort.param());
            let index = match filter_index {
                Some((by_id, by_url)) => match sort.field {
                    WebhookSortField::Url => by_url,
                    WebhookSortField::WebhookId => by_id,
                },
                None => sort_index,
            };
            found
                .check(&rec.db, &rec.take(), &what, "webhooks", index)
                .await;
        }
    }

    app.exec(&format!(
        "INSERT INTO webhooks (webhook_id, url, events, secret, team, created_at, description, \
         is_enabled, updated_at) VALUES ('wh_plans', 'https://example.com/h', '[\"sync.*\"]', \
         'placeholder', 'ops', '{AT}', 'plans', {}, '{AT}')",
        if app.db.get_database_backend() == sea_orm::DbBackend::Postgres {
            "true"
        } else {
            "1"
        }
    ))
    .await
    .unwrap();
    for (which, status, index) in [
        ("all", None, "idx_webhook_deliveries_webhook"),
        (
            "dead",
            Some(DeliveryStatus::Dead),
            "idx_webhook_deliveries_webhook_status",
        ),
    ] {
        for sort in [
            NEWEST_DELIVERIES_FIRST,
            Sort::asc(DeliverySortField::Created),
        ] {
            rec.take();
            service::webhooks::deliveries::list(&rec.db, "wh_plans", status, sort, &first())
                .await
                .unwrap();
            let what = format!("a webhook's deliveries, {which}, sorted {}", sort.param());
            found
                .check(&rec.db, &rec.take(), &what, "webhook_deliveries", index)
                .await;
        }
    }

    // The webhook list's figures of the last day read only that day's deliveries, grouped in
    // the index's order.
    service::webhooks::deliveries::stats(&rec.db, &["wh_plans".to_string()])
        .await
        .unwrap();
    let index = "idx_webhook_deliveries_webhook_created";
    let what = "a webhook's deliveries of the last day";
    found
        .check(&rec.db, &rec.take(), what, "webhook_deliveries", index)
        .await;
    found.assert_none();
}

#[tokio::test]
async fn orchestration_and_system_lists_walk_an_index_under_every_filter() {
    use service::orchestration::events::{EventFilter, Start};
    use service::orchestration::{Level, RunStatus};
    let app = spawn_app().await;
    let rec = Recorder::connect(&app.database.url).await;
    let mut found = Findings::default();

    for (which, status, index) in [
        ("all", None, "idx_runs_created"),
        ("failed", Some(RunStatus::Failed), "idx_runs_status_created"),
    ] {
        service::orchestration::runs::list(&rec.db, status, &first())
            .await
            .unwrap();
        found
            .check(
                &rec.db,
                &rec.take(),
                &format!("runs, {which}"),
                "runs",
                index,
            )
            .await;
    }

    // The plan unit the unit filter names, in its run: without `run_id`, the tail reads the
    // unit's own run.
    app.exec(&format!(
        "INSERT INTO runs (id, plan_path, status, created_at, updated_at) \
         VALUES ('run-1', 'main.tf', 'running', '{AT}', '{AT}')"
    ))
    .await
    .unwrap();
    app.exec(&format!(
        "INSERT INTO plan_units (id, run_id, resource_type, resource_name, action, status, \
         dependencies, created_at, updated_at) \
         VALUES ('u-1', 'run-1', 'aws_instance', 'web', 'create', 'pending', '[]', '{AT}', '{AT}')"
    ))
    .await
    .unwrap();
    let run = || Some("run-1".to_string());
    for (which, filter, index) in [
        ("the tail", EventFilter::default(), "INTEGER PRIMARY KEY"),
        (
            "of a run",
            EventFilter {
                run_id: run(),
                ..Default::default()
            },
            "idx_events_run",
        ),
        (
            "errors only",
            EventFilter {
                level: Some(Level::Error),
                ..Default::default()
            },
            "idx_events_level",
        ),
        (
            "of a run, errors only",
            EventFilter {
                run_id: run(),
                level: Some(Level::Error),
                ..Default::default()
            },
            "idx_events_run_serious",
        ),
        (
            "of a run, warnings and up",
            EventFilter {
                run_id: run(),
                min_level: Some(Level::Warn),
                ..Default::default()
            },
            "idx_events_run_serious",
        ),
        (
            "of a run, errors and up",
            EventFilter {
                run_id: run(),
                min_level: Some(Level::Error),
                ..Default::default()
            },
            "idx_events_run_serious",
        ),
        (
            "of a plan unit",
            EventFilter {
                plan_unit_id: Some("u-1".into()),
                ..Default::default()
            },
            "idx_events_run",
        ),
        (
            "of a plan unit of a run, warnings and up",
            EventFilter {
                run_id: run(),
                plan_unit_id: Some("u-1".into()),
                min_level: Some(Level::Warn),
                ..Default::default()
            },
            "idx_events_run_serious",
        ),
    ] {
        for (start, direction) in [
            (Start::Before(i64::MAX), "newest"),
            (Start::After(0), "following"),
        ] {
            service::orchestration::events::tail(&rec.db, &filter, start, 50)
                .await
                .unwrap();
            let what = format!("events {which}, {direction}");
            found
                .check(&rec.db, &rec.take(), &what, "events", index)
                .await;
        }
    }

    for (which, ty) in [("all", None), ("of a type", Some("aws_instance"))] {
        service::orchestration::resources::list(&rec.db, ty, &first())
            .await
            .unwrap();
        let what = format!("resources, {which}");
        let index = "uq_resource_state_type_name";
        found
            .check(&rec.db, &rec.take(), &what, "resource_state", index)
            .await;
    }

    let key = service::orchestration::resources::ResourceKey::parse("aws_instance", "web").unwrap();
    // An unknown resource is a 404 after the query ran: the plan is what matters here.
    let _ = service::orchestration::versions::list(&rec.db, &key, &first()).await;
    let index = "uq_resource_state_versions_serial";
    found
        .check(
            &rec.db,
            &rec.take(),
            "a resource's versions",
            "resource_state_versions",
            index,
        )
        .await;

    use service::orchestration::facts::FactFilter;
    for (which, filter) in [
        ("all", FactFilter::default()),
        (
            "of a target",
            FactFilter {
                target_id: Some("host-1".into()),
                ..Default::default()
            },
        ),
    ] {
        service::orchestration::facts::list(&rec.db, &filter, &first())
            .await
            .unwrap();
        let what = format!("facts, {which}");
        let index = "uq_facts_target_namespace_key";
        found
            .check(&rec.db, &rec.take(), &what, "facts", index)
            .await;
    }

    use service::gateway::servers::{BY_NAME, McpSortField};
    for (which, filter) in [
        ("all", service::gateway::McpServerFilter::default()),
        (
            "unreachable",
            service::gateway::McpServerFilter {
                status: Some("unreachable".into()),
                ..Default::default()
            },
        ),
    ] {
        for sort in [BY_NAME, Sort::desc(McpSortField::Name)] {
            service::gateway::servers::list(&rec.db, &filter, sort, &first())
                .await
                .unwrap();
            let what = format!("MCP servers, {which}, sorted {}", sort.param());
            let index = "sqlite_autoindex_mcp_servers";
            found
                .check(&rec.db, &rec.take(), &what, "mcp_servers", index)
                .await;
        }
    }

    service::operations::backup::list(&rec.db, &first())
        .await
        .unwrap();
    found
        .check(&rec.db, &rec.take(), "backups", "backups", "SCAN backups")
        .await;
    found.assert_none();
}
