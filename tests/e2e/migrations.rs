//! Every migration is reversible: up → down to zero → up, and fresh → up, give the same schema.

use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement};

use crate::helpers::TestDatabase;

/// Every object of the schema, one line each, in a stable order.
async fn schema(db: &DatabaseConnection) -> Vec<String> {
    let queries: &[&str] = match db.get_database_backend() {
        DbBackend::Sqlite => &[
            "SELECT type || ' ' || name || ' ' || COALESCE(sql, '') FROM sqlite_master \
             WHERE name NOT LIKE 'sqlite_%' AND name <> 'seaql_migrations' ORDER BY type, name",
        ],
        _ => &[
            "SELECT concat_ws(' ', table_name, column_name, data_type, is_nullable, column_default) \
             FROM information_schema.columns WHERE table_schema = 'public' AND table_name <> 'seaql_migrations' \
             ORDER BY table_name, column_name",
            "SELECT indexname || ' ' || indexdef FROM pg_indexes WHERE schemaname = 'public' \
             AND tablename <> 'seaql_migrations' ORDER BY indexname",
            "SELECT conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint \
             WHERE connamespace = 'public'::regnamespace AND conrelid::regclass::text <> 'seaql_migrations' ORDER BY 1",
            "SELECT tgrelid::regclass::text || ' ' || tgname FROM pg_trigger WHERE NOT tgisinternal ORDER BY 1",
            "SELECT viewname || ' ' || definition FROM pg_views WHERE schemaname = 'public' ORDER BY 1",
            "SELECT proname FROM pg_proc WHERE pronamespace = 'public'::regnamespace ORDER BY 1",
        ],
    };
    let mut lines = Vec::new();
    for sql in queries {
        for row in db
            .query_all_raw(Statement::from_string(db.get_database_backend(), *sql))
            .await
            .unwrap()
        {
            lines.push(row.try_get_by_index::<String>(0).unwrap());
        }
    }
    lines
}

#[tokio::test]
async fn up_down_to_zero_and_up_again_leave_the_same_schema() {
    let database = TestDatabase::empty().await;
    let db = Database::connect(database.url.as_str()).await.unwrap();

    Migrator::up(&db, None).await.unwrap();
    let first = schema(&db).await;
    Migrator::down(&db, None).await.unwrap();
    let emptied = schema(&db).await;
    Migrator::up(&db, None).await.unwrap();
    let second = schema(&db).await;

    assert!(first.len() > 30, "the schema has every table: {first:?}");
    assert!(
        emptied.is_empty(),
        "down to zero leaves nothing behind: {emptied:?}"
    );
    assert_eq!(first, second);
    db.close().await.unwrap();
}

#[tokio::test]
async fn fresh_then_down_to_zero_then_up_leaves_the_same_schema() {
    let database = TestDatabase::empty().await;
    let db = Database::connect(database.url.as_str()).await.unwrap();
    Migrator::up(&db, None).await.unwrap();
    let reference = schema(&db).await;

    Migrator::fresh(&db).await.unwrap();
    let after_fresh = schema(&db).await;
    Migrator::down(&db, None).await.unwrap();
    Migrator::up(&db, None).await.unwrap();

    assert_eq!(after_fresh, reference);
    assert_eq!(schema(&db).await, reference);
    assert!(
        Migrator::get_pending_migrations(&db)
            .await
            .unwrap()
            .is_empty()
    );
    db.close().await.unwrap();
}

#[tokio::test]
async fn every_table_of_the_spec_exists() {
    let database = TestDatabase::empty().await;
    let db = Database::connect(database.url.as_str()).await.unwrap();
    Migrator::up(&db, None).await.unwrap();

    let tables = service::operations::table_names(&db).await.unwrap();

    for table in [
        "local_users",
        "sessions",
        "rbac_roles",
        "user_roles",
        "audit",
        "sync_history",
        "devices",
        "entities",
        "user_preferences",
        "webhooks",
        "webhook_deliveries",
        "oauth_clients",
        "oauth_client_configs",
        "oauth_users",
        "oauth_authorization_codes",
        "oauth_access_tokens",
        "oauth_refresh_tokens",
        "oauth_device_codes",
        "oauth_audit_logs",
        "runs",
        "plan_units",
        "events",
        "resource_state",
        "facts",
        "mcp_servers",
        "oauth_providers",
        "ad_group_mappings",
        "gateway_config",
    ] {
        assert!(tables.iter().any(|t| t == table), "missing table {table}");
    }
    // Seed 004's queries read users through the view.
    db.execute_unprepared("SELECT user_id, username, email, enabled FROM rbac_users")
        .await
        .unwrap();
    db.close().await.unwrap();
}
