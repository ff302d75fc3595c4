//! `metadeck import gateway`: the legacy tools gateway's pickle files, written by CPython
//! (`tests/fixtures/pickle/make_fixtures.py`, protocols 2 to 5), imported through the real
//! binary into the test database: dry run, real run, second run, `--strict`, and every
//! hostile pickle of R12 refused with its file and byte offset, nothing written, files
//! untouched, and the marker file a `__reduce__` would create never created.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use crate::helpers::{TEST_SECRET_KEY, TestApp, metadeck_bin, spawn_app};

/// The fixtures written into a fresh directory, with the path a hostile `__reduce__` would
/// create; `None` (the test says why it is skipped) when the machine has no python3.
fn fixtures() -> Option<(tempfile::TempDir, PathBuf)> {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("MARKER");
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/fixtures/pickle/make_fixtures.py"
    );
    match Command::new("python3")
        .arg(script)
        .arg(dir.path())
        .arg(&marker)
        .output()
    {
        Ok(out) if out.status.success() => Some((dir, marker)),
        Ok(out) => panic!(
            "the fixture script fails: {}",
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(e) => {
            eprintln!("skipped: python3 cannot be run ({e}); it writes the pickle fixtures");
            None
        }
    }
}

fn import(app: &TestApp, dir: &Path, flags: &[&str]) -> Output {
    metadeck_bin()
        .env("DATABASE_URL", &app.database.url)
        .args(["import", "gateway", "--dir"])
        .arg(dir)
        .args(flags)
        .output()
        .expect("metadeck runs")
}

fn report(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("the report is JSON")
}

/// Every file of `dir` with its content.
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .map(|e| {
            (
                e.file_name().to_string_lossy().to_string(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

const TABLES: [&str; 7] = [
    "rbac_roles",
    "local_users",
    "user_roles",
    "ad_group_mappings",
    "mcp_servers",
    "oauth_providers",
    "gateway_config",
];

/// Rows per table, and the `gateway.imported` audit rows.
async fn counts(app: &TestApp) -> Vec<i64> {
    let mut out = Vec::new();
    for table in TABLES {
        out.push(app.scalar(&format!("SELECT COUNT(*) FROM {table}")).await);
    }
    out.push(
        app.scalar("SELECT COUNT(*) FROM audit WHERE action = 'gateway.imported'")
            .await,
    );
    out
}

fn expected_imported() -> Value {
    json!({
        "roles": 2, "users": 3, "user_roles": 3, "ad_group_mappings": 2,
        "mcp_servers": 3, "oauth_providers": 1, "gateway_config": 6,
    })
}

#[tokio::test]
async fn every_protocol_is_read_the_import_writes_everything_once_and_a_second_run_does_nothing() {
    let Some((fx, marker)) = fixtures() else {
        return;
    };
    let app = spawn_app().await;
    let before = counts(&app).await;

    // Dry runs of the files written with protocols 2, 3 and 5: the counts, nothing written.
    for protocol in [2, 3, 5] {
        let dir = fx.path().join(format!("good-p{protocol}"));
        let files = snapshot(&dir);
        let dry = report(&import(&app, &dir, &["--dry-run", "--json"]));
        assert_eq!(dry["dry_run"], true);
        assert_eq!(dry["imported"], expected_imported(), "protocol {protocol}");
        assert_eq!(dry["files"].as_array().unwrap().len(), 5);
        assert_eq!(
            snapshot(&dir),
            files,
            "a dry run leaves the files as they were"
        );
        assert_eq!(counts(&app).await, before, "a dry run writes nothing");
    }

    // The real run, protocol 4.
    let dir = fx.path().join("good-p4");
    let originals = snapshot(&dir);
    let done = report(&import(&app, &dir, &["--json"]));
    assert_eq!(done["dry_run"], false);
    assert_eq!(done["imported"], expected_imported());
    let mut skipped: Vec<String> =
        serde_json::from_value(done["skipped_permissions"].clone()).unwrap();
    skipped.sort();
    assert_eq!(
        skipped,
        ["admin:all (admin)", "tools:execute (gateway-operators)"]
    );
    assert_eq!(done["existing"]["roles"], json!(["admin"]));
    let after = counts(&app).await;
    let added: Vec<i64> = after.iter().zip(&before).map(|(a, b)| a - b).collect();
    assert_eq!(added, [2, 3, 3, 2, 3, 1, 6, 1]);

    // Each file renamed to .migrated, with a .bak copy of the same bytes.
    let now = snapshot(&dir);
    for (name, bytes) in &originals {
        assert!(!now.contains_key(name), "{name} is renamed");
        assert_eq!(now.get(&format!("{name}.migrated")), Some(bytes));
        let backups: Vec<_> = now
            .iter()
            .filter(|(n, _)| n.starts_with(&format!("{name}.bak-")))
            .collect();
        assert_eq!(backups.len(), 1, "one backup of {name}");
        assert_eq!(backups[0].1, bytes);
    }

    // Roles, users and mappings linked through the legacy ids.
    let role = |name: &'static str| {
        let db = app.db.clone();
        async move {
            entity::rbac_roles::Entity::find()
                .filter(entity::rbac_roles::Column::Name.eq(name))
                .one(&db)
                .await
                .unwrap()
                .unwrap()
        }
    };
    let ops = role("gateway-operators").await;
    assert_eq!(ops.permissions, json!(["gateway:read", "gateway:write"]));
    assert!(!ops.is_system);
    let auditors = role("auditors").await;
    let alice_roles: Vec<i64> = {
        let alice = entity::local_users::Entity::find()
            .filter(entity::local_users::Column::Username.eq("alice"))
            .one(&app.db)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(alice.email.as_deref(), Some("alice@example.com"));
        let mut ids: Vec<i64> = entity::user_roles::Entity::find()
            .filter(entity::user_roles::Column::UserId.eq(alice.id))
            .all(&app.db)
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.role_id)
            .collect();
        ids.sort();
        ids
    };
    let mut want = vec![ops.id, auditors.id];
    want.sort();
    assert_eq!(alice_roles, want);
    let bob_active: bool = app
        .scalar("SELECT is_active FROM local_users WHERE username = 'bob@example.com'")
        .await;
    assert!(!bob_active, "a disabled legacy user stays disabled");
    let mapping = entity::ad_group_mappings::Entity::find()
        .filter(
            entity::ad_group_mappings::Column::AdGroup
                .eq("CN=Gateway Ops,OU=Groups,DC=example,DC=com"),
        )
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(mapping.role_id, ops.id);

    // Imported users have no usable password.
    let no_password: i64 = app
        .scalar(
            "SELECT COUNT(*) FROM local_users WHERE password_hash IS NULL \
             AND username IN ('alice', 'bob@example.com', 'carol')",
        )
        .await;
    assert_eq!(no_password, 3);
    for password in ["", "alice", "legacy-mcp-token-123"] {
        let client = crate::helpers::new_client();
        let res = app.login_with(&client, "alice", password).await;
        assert_ne!(res.status(), 303, "alice cannot sign in with {password:?}");
    }

    // Header values and the provider's secret are sealed; the names are kept.
    let config = service::gateway::GatewayConfig::new(
        TEST_SECRET_KEY.as_bytes(),
        false,
        std::time::Duration::from_secs(300),
    )
    .unwrap();
    let server = entity::mcp_servers::Entity::find()
        .filter(entity::mcp_servers::Column::Name.eq("search tools"))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let stored = server.headers.to_string();
    assert!(!stored.contains("legacy-mcp-token-123"), "{stored}");
    let sealed = server.headers["authorization"].as_str().unwrap();
    assert_eq!(
        config
            .cipher
            .open_text(&format!("mcp_server:{}:authorization", server.id), sealed)
            .unwrap(),
        "Bearer legacy-mcp-token-123"
    );
    assert_eq!(server.transport, "streamable-http");
    let provider = entity::oauth_providers::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(provider.name, "corporate-sso");
    assert_eq!(provider.display_name, "Corporate SSO");
    assert_eq!(provider.scopes, r#"["openid","profile","email","groups"]"#);
    let secret = provider.client_secret.clone().unwrap();
    assert!(!secret.contains("legacy-provider-secret-xyz"));
    let opened = config
        .provider_cipher
        .open_text(
            &service::gateway::provider_secret_context(provider.id),
            &secret,
        )
        .unwrap();
    assert_eq!(opened, "legacy-provider-secret-xyz");

    let rate = entity::gateway_config::Entity::find_by_id("rate_limit")
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(rate.value, json!({"per_minute": 120, "burst": 1.5}));
    assert_eq!(rate.updated_by.as_deref(), Some("cli"));

    // A second run finds no .pkl file and does nothing.
    let again = report(&import(&app, &dir, &["--json"]));
    assert_eq!(again["files"], json!([]));
    assert_eq!(counts(&app).await, after);
    assert_eq!(snapshot(&dir), now);
    assert!(!marker.exists());
}

#[tokio::test]
async fn strict_refuses_a_permission_outside_the_catalog_and_writes_nothing() {
    let Some((fx, _)) = fixtures() else {
        return;
    };
    let app = spawn_app().await;
    let before = counts(&app).await;
    let dir = fx.path().join("strict");
    let files = snapshot(&dir);

    let out = import(&app, &dir, &["--strict"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("rbac.pkl, role 1 (gateway-operators)") && err.contains("tools:execute"),
        "{err}"
    );
    assert_eq!(counts(&app).await, before);
    assert_eq!(snapshot(&dir), files, "no backup, no rename");

    // Without --strict the same file imports, the permission listed and left out.
    let done = report(&import(&app, &dir, &["--json"]));
    assert_eq!(done["imported"]["roles"], 2);
    assert!(
        done["skipped_permissions"]
            .as_array()
            .unwrap()
            .contains(&json!("tools:execute (gateway-operators)"))
    );
}

#[tokio::test]
async fn a_bad_entry_is_named_and_nothing_is_written_or_renamed() {
    let Some((fx, _)) = fixtures() else {
        return;
    };
    let app = spawn_app().await;
    let before = counts(&app).await;
    let dir = fx.path().join("bad-entry");
    let files = snapshot(&dir);
    for flags in [&["--dry-run"][..], &[]] {
        let out = import(&app, &dir, flags);
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("ad_mappings.pkl, mapping m2: role 9 is not one of rbac.pkl's roles"),
            "{err}"
        );
        assert_eq!(counts(&app).await, before);
        assert_eq!(snapshot(&dir), files, "no backup, no rename");
    }
}

#[tokio::test]
async fn hostile_pickles_are_refused_with_file_and_offset_and_nothing_is_written() {
    let Some((fx, marker)) = fixtures() else {
        return;
    };
    let app = spawn_app().await;
    let before = counts(&app).await;
    let cases = [
        ("reduce", "mcp_servers.pkl", "GLOBAL"),
        ("open", "oauth_providers.pkl", "GLOBAL"),
        ("instance", "rbac.pkl", "GLOBAL"),
        ("nested", "config.pkl", "nested deeper than 100"),
        ("huge", "rbac.pkl", "1073741824 bytes"),
        ("truncated", "mcp_servers.pkl", "truncated"),
        ("memo", "ad_mappings.pkl", "memo entry 7"),
    ];
    // All at once, as an attacker would: each must be refused on its own.
    let runs: Vec<_> = cases
        .iter()
        .map(|(case, _, _)| {
            let dir = fx.path().join(format!("hostile-{case}"));
            let files = snapshot(&dir);
            let url = app.database.url.clone();
            let child = metadeck_bin()
                .env("DATABASE_URL", url)
                .args(["import", "gateway", "--dir"])
                .arg(&dir)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("metadeck runs");
            (dir, files, child)
        })
        .collect();
    for ((case, file, why), (dir, files, child)) in cases.iter().zip(runs) {
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{case} is refused");
        assert!(
            err.contains(&format!("{file}: refused at byte ")) && err.contains(why),
            "{case}: {err}"
        );
        assert_eq!(snapshot(&dir), files, "{case}: files untouched, no backup");
    }
    assert_eq!(counts(&app).await, before, "nothing was written");
    assert!(!marker.exists(), "no pickle ran code");

    // A file over 64 MiB is refused before it is read (a sparse file: no disk is used).
    let big = tempfile::tempdir().unwrap();
    let file = std::fs::File::create(big.path().join("config.pkl")).unwrap();
    file.set_len(64 * 1024 * 1024 + 1).unwrap();
    let out = import(&app, big.path(), &[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("config.pkl: refused at byte 0") && err.contains("over the limit"),
        "{err}"
    );
    assert_eq!(counts(&app).await, before);

    // The offset is the opcode's own: the GLOBAL that would import os.system.
    let dir = fx.path().join("hostile-reduce");
    let bytes = std::fs::read(dir.join("mcp_servers.pkl")).unwrap();
    let global = bytes
        .windows(7)
        .position(|w| w.starts_with(b"cposix\n") || w.starts_with(b"cos\n"))
        .unwrap();
    let err = String::from_utf8_lossy(&import(&app, &dir, &[]).stderr).to_string();
    assert!(err.contains(&format!("refused at byte {global}:")), "{err}");
}
