//! The database as configured: pragmas, private files, append-only tables, safe concurrent writes.

use sea_orm::{ConnectionTrait, DbBackend};

use crate::helpers::{TestDatabase, metadeck_bin, spawn_app, spawn_app_with};

#[tokio::test]
async fn every_pooled_sqlite_connection_has_the_pragmas() {
    let app = spawn_app().await;
    if app.backend() != DbBackend::Sqlite {
        return;
    }
    let pool = app.db.get_sqlite_connection_pool();

    // Hold four connections at once so each is a distinct pooled connection.
    let mut conns = Vec::new();
    for _ in 0..4 {
        conns.push(pool.acquire().await.unwrap());
    }
    for conn in conns.iter_mut() {
        let get = |sql: &'static str| sea_orm::sqlx::query_scalar::<_, String>(sql);
        assert_eq!(
            get("PRAGMA journal_mode")
                .fetch_one(&mut **conn)
                .await
                .unwrap(),
            "wal"
        );
        let num = |sql: &'static str| sea_orm::sqlx::query_scalar::<_, i64>(sql);
        assert_eq!(
            num("PRAGMA synchronous")
                .fetch_one(&mut **conn)
                .await
                .unwrap(),
            1,
            "NORMAL"
        );
        assert_eq!(
            num("PRAGMA foreign_keys")
                .fetch_one(&mut **conn)
                .await
                .unwrap(),
            1
        );
        assert!(
            num("PRAGMA busy_timeout")
                .fetch_one(&mut **conn)
                .await
                .unwrap()
                >= 5000
        );
        assert_eq!(
            num("PRAGMA temp_store")
                .fetch_one(&mut **conn)
                .await
                .unwrap(),
            2,
            "MEMORY"
        );
        // The 64 MB page cache is the pool's, shared out among its connections.
        let per_connection = num("PRAGMA cache_size")
            .fetch_one(&mut **conn)
            .await
            .unwrap();
        assert_eq!(
            per_connection,
            -(64000 / i64::from(pool.options().get_max_connections()))
        );
    }
}

#[tokio::test]
async fn the_database_file_and_its_directory_are_private() {
    use std::os::unix::fs::PermissionsExt;
    if crate::helpers::pg_admin_url().is_some() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested").join("data").join("metadeck.db");
    let url = format!("sqlite://{}?mode=rwc", path.display());

    let app = spawn_app_with(|env| {
        env.insert("DATABASE_URL".into(), url);
    })
    .await;
    assert_eq!(app.get("/healthz").await.status(), 200);

    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&path), 0o600);
    assert_eq!(mode(path.parent().unwrap()), 0o700);
    let wal = path.with_extension("db-wal");
    if wal.exists() {
        assert_eq!(mode(&wal), 0o600);
    }
}

const NOW: &str = "CURRENT_TIMESTAMP";

#[tokio::test]
async fn append_only_tables_refuse_update_and_delete() {
    let app = spawn_app().await;
    let inserts = [
        (
            "audit",
            format!(
                "INSERT INTO audit (action, actor, timestamp, prev_hash, row_hash) VALUES ('x.y', 'cli', {NOW}, '0', '1')"
            ),
        ),
        (
            "events",
            format!(
                "INSERT INTO events (level, message, timestamp) VALUES ('info', 'hello', {NOW})"
            ),
        ),
        (
            "oauth_audit_logs",
            format!(
                "INSERT INTO oauth_audit_logs (event_type, created_at, updated_at) VALUES ('client.created', {NOW}, {NOW})"
            ),
        ),
    ];
    for (table, insert) in inserts {
        app.exec(&insert).await.unwrap();
        let before = count(&app, table).await;

        let update = app.exec(&format!("UPDATE {table} SET id = id + 100")).await;
        let delete = app.exec(&format!("DELETE FROM {table}")).await;

        assert!(
            update.unwrap_err().to_string().contains("append-only"),
            "{table} accepted an UPDATE"
        );
        assert!(
            delete.unwrap_err().to_string().contains("append-only"),
            "{table} accepted a DELETE"
        );
        assert!(before >= 1);
        assert_eq!(count(&app, table).await, before, "{table} lost rows");
    }
}

async fn count(app: &crate::helpers::TestApp, table: &str) -> i64 {
    app.db
        .query_one_raw(sea_orm::Statement::from_string(
            app.backend(),
            format!("SELECT COUNT(*) FROM {table}"),
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get_by_index::<i64>(0)
        .unwrap()
}

#[tokio::test]
async fn the_retention_purge_may_delete_inside_its_own_transaction_only() {
    let app = spawn_app().await;
    app.exec(&format!(
        "INSERT INTO events (level, message, timestamp) VALUES ('info', 'old', {NOW})"
    ))
    .await
    .unwrap();

    let txn = service::db::begin_write(&app.db).await.unwrap();
    txn.execute_unprepared("INSERT INTO purge_permits (table_name) VALUES ('events')")
        .await
        .unwrap();
    txn.execute_unprepared("DELETE FROM events").await.unwrap();
    txn.execute_unprepared("DELETE FROM purge_permits WHERE table_name = 'events'")
        .await
        .unwrap();
    txn.commit().await.unwrap();

    app.exec(&format!(
        "INSERT INTO events (level, message, timestamp) VALUES ('info', 'new', {NOW})"
    ))
    .await
    .unwrap();
    assert!(
        app.exec("DELETE FROM events").await.is_err(),
        "the permit must not outlive the purge"
    );
}

#[tokio::test]
async fn concurrent_read_modify_write_transactions_never_fail_with_locked() {
    let app = spawn_app().await;
    app.exec(&format!(
        "INSERT INTO gateway_config (key, value, updated_at) VALUES ('counter', '0', {NOW})"
    ))
    .await
    .unwrap();

    let mut tasks = Vec::new();
    for _ in 0..8 {
        let db = app.db.clone();
        tasks.push(tokio::spawn(async move {
            let mut failures = 0;
            for _ in 0..20 {
                let result: Result<(), sea_orm::DbErr> = async {
                    let txn = service::db::begin_write(&db).await?;
                    // SQLite's BEGIN IMMEDIATE already holds the write lock; PostgreSQL locks the row.
                    let lock = if txn.get_database_backend() == DbBackend::Postgres { " FOR UPDATE" } else { "" };
                    let row = txn
                        .query_one_raw(sea_orm::Statement::from_string(
                            txn.get_database_backend(),
                            format!("SELECT CAST(value AS TEXT) FROM gateway_config WHERE key = 'counter'{lock}"),
                        ))
                        .await?
                        .unwrap();
                    let n: i64 = row.try_get_by_index::<String>(0)?.trim_matches('"').parse().unwrap();
                    let cast = if txn.get_database_backend() == DbBackend::Postgres { "::json" } else { "" };
                    txn.execute_unprepared(&format!(
                        "UPDATE gateway_config SET value = '{}'{cast} WHERE key = 'counter'",
                        n + 1
                    ))
                    .await?;
                    txn.commit().await
                }
                .await;
                if result.is_err() {
                    failures += 1;
                }
            }
            failures
        }));
    }
    let mut failures = 0;
    for t in tasks {
        failures += t.await.unwrap();
    }

    assert_eq!(failures, 0);
    let row = app
        .db
        .query_one_raw(sea_orm::Statement::from_string(
            app.backend(),
            "SELECT CAST(value AS TEXT) FROM gateway_config WHERE key = 'counter'",
        ))
        .await
        .unwrap()
        .unwrap();
    let value: String = row.try_get_by_index(0).unwrap();
    assert_eq!(value.trim_matches('"'), "160", "no increment was lost");
}

/// The audit chain is hashed in the database as UTF-8 text, so a PostgreSQL database in
/// another encoding is refused before anything is written, saying what to do.
#[tokio::test]
async fn a_postgres_database_not_in_utf8_is_refused() {
    let Some(database) = TestDatabase::postgres_with(
        "ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0",
    )
    .await
    else {
        return;
    };

    let out = metadeck_bin()
        .env("DATABASE_URL", &database.url)
        .args(["migrate", "up"])
        .output()
        .unwrap();

    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("encoding is SQL_ASCII; Metadeck needs UTF8"),
        "{stderr}"
    );
}

/// PostgreSQL: a bulk write's transaction commits without waiting for the WAL flush and plans
/// once per connection; the settings end with it, so every other write still waits for the
/// disk.
#[tokio::test]
async fn bulk_write_settings_last_for_their_transaction_only() {
    let app = spawn_app().await;
    if app.backend() != sea_orm::DbBackend::Postgres {
        return;
    }
    let settings = async |txn: &service::db::WriteTxn| -> (String, String) {
        let row = txn
            .query_one_raw(sea_orm::Statement::from_string(
                sea_orm::DbBackend::Postgres,
                "SELECT current_setting('synchronous_commit'), current_setting('plan_cache_mode')",
            ))
            .await
            .unwrap()
            .unwrap();
        (
            row.try_get_by_index(0).unwrap(),
            row.try_get_by_index(1).unwrap(),
        )
    };

    let bulk = service::db::begin_bulk_write(&app.db).await.unwrap();
    let during = settings(&bulk).await;
    bulk.commit().await.unwrap();
    let mut after = Vec::new();
    // Every pooled connection, whichever one the bulk write ran on.
    for _ in 0..4 {
        let txn = service::db::begin_write(&app.db).await.unwrap();
        after.push(settings(&txn).await);
        txn.commit().await.unwrap();
    }

    assert_eq!(during, ("off".into(), "force_generic_plan".into()));
    for setting in after {
        assert_eq!(setting, ("on".into(), "auto".into()));
    }
}
