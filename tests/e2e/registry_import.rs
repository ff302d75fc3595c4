//! `metadeck import home-assistant`: Home Assistant's own registry files, one transaction.

use std::path::PathBuf;
use std::process::Output;

use serde_json::Value;

use crate::helpers::{TestApp, metadeck_bin, spawn_app};

fn fixtures(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/home-assistant")
        .join(name)
}

fn import(app: &TestApp, dir: &std::path::Path, json: bool) -> Output {
    let mut cmd = metadeck_bin();
    cmd.env("DATABASE_URL", &app.database.url)
        .args(["import", "home-assistant", "--storage-dir"])
        .arg(dir);
    if json {
        cmd.arg("--json");
    }
    cmd.output().expect("metadeck runs")
}

async fn api(app: &TestApp, path: &str) -> Value {
    app.get(path).await.json().await.unwrap()
}

#[tokio::test]
async fn home_assistant_registries_are_imported_then_updated() {
    let app = spawn_app().await;
    app.login_as_admin().await;
    let dir = fixtures("storage");

    let first = import(&app, &dir, false);
    let second = import(&app, &dir, true);

    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let text = String::from_utf8_lossy(&first.stdout);
    assert!(text.contains("devices: created 4, updated 0"), "{text}");
    assert!(text.contains("entities: created 7, updated 0"), "{text}");
    let warnings = String::from_utf8_lossy(&first.stderr);
    assert!(
        warnings.contains("light.old_lamp"),
        "a warning names the entity: {warnings}"
    );
    let report: Value = serde_json::from_slice(&second.stdout).expect("only JSON on stdout");
    assert_eq!(report["devices"]["created"], 0);
    assert_eq!(report["devices"]["updated"], 4);
    assert_eq!(report["entities"]["updated"], 7);

    let lamp = api(&app, "/api/devices/8f3c2b8a41d94d7e9c0b6a1f2e3d4c5b").await;
    assert_eq!(lamp["name"], "Sofa lamp", "name_by_user wins");
    assert_eq!(
        lamp["integration"], "hue",
        "its primary config entry's domain"
    );
    assert_eq!(lamp["area_id"], "living_room");
    assert_eq!(lamp["manufacturer"], "Signify Netherlands B.V.");
    assert_eq!(lamp["model"], "Hue color lamp");
    assert_eq!(lamp["entities"][0]["entity_id"], "light.sofa_lamp");
    let plug = api(&app, "/api/devices/c6f0e1d2a3b44c5d8e9f0a1b2c3d4e5f").await;
    assert_eq!(
        plug["name"], "c6f0e1d2a3b44c5d8e9f0a1b2c3d4e5f",
        "named by its id"
    );
    assert_eq!(plug["integration"], "mqtt");
    let forecast = api(&app, "/api/devices/5b4a39281706f5e4d3c2b1a098f7e6d5").await;
    assert_eq!(
        forecast["integration"], "met",
        "no identifiers, but a primary config entry"
    );
    let bridge_sensor = api(
        &app,
        "/api/entities/binary_sensor.hue_bridge_zigbee_connectivity",
    )
    .await;
    assert_eq!(bridge_sensor["disabled"], true);
    assert_eq!(bridge_sensor["domain"], "binary_sensor");
    assert_eq!(bridge_sensor["platform"], "hue");
    let old = api(&app, "/api/entities/light.old_lamp").await;
    assert_eq!(
        old["device_id"],
        Value::Null,
        "its device is not in the file"
    );
    assert_eq!(
        app.get("/api/devices/ffffeeeeddddccccbbbbaaaa99998888")
            .await
            .status(),
        404,
        "deleted_devices are ignored"
    );
    assert_eq!(
        app.get("/api/entities/light.hue_old").await.status(),
        404,
        "deleted_entities are ignored"
    );
}

#[tokio::test]
async fn a_file_that_is_not_a_home_assistant_registry_is_refused() {
    let app = spawn_app().await;
    app.login_as_admin().await;
    let empty = tempfile::tempdir().unwrap();

    let wrong_key = import(&app, &fixtures("not-a-registry"), false);
    let missing = import(&app, empty.path(), false);
    std::fs::write(empty.path().join("core.device_registry"), "{not json").unwrap();
    let garbage = import(&app, empty.path(), false);

    for (what, out) in [
        ("wrong key", &wrong_key),
        ("missing", &missing),
        ("garbage", &garbage),
    ] {
        assert_eq!(out.status.code(), Some(1), "{what}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("core.device_registry") && err.contains("nothing was imported"),
            "{what}: {err}"
        );
    }
    assert!(String::from_utf8_lossy(&wrong_key.stderr).contains("not a Home Assistant"));
    let devices = api(&app, "/api/devices").await;
    assert_eq!(devices["items"].as_array().unwrap().len(), 0);
}

/// A copy of the fixture's storage directory, with the plug's identifiers in `order` and
/// its config entry's domain changed (or the config entries file left out).
fn storage_copy(plug_identifiers: Value, plug_entry_domain: Option<&str>) -> tempfile::TempDir {
    const PLUG: &str = "c6f0e1d2a3b44c5d8e9f0a1b2c3d4e5f";
    const PLUG_ENTRY: &str = "01JE0B4C7M2PZ3QY8R6S9T1V5W";
    let source = fixtures("storage");
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        source.join("core.entity_registry"),
        dir.path().join("core.entity_registry"),
    )
    .unwrap();
    let mut devices: Value =
        serde_json::from_slice(&std::fs::read(source.join("core.device_registry")).unwrap())
            .unwrap();
    for device in devices["data"]["devices"].as_array_mut().unwrap() {
        if device["id"] == PLUG {
            device["identifiers"] = plug_identifiers.clone();
        }
    }
    std::fs::write(dir.path().join("core.device_registry"), devices.to_string()).unwrap();
    if let Some(domain) = plug_entry_domain {
        let mut entries: Value =
            serde_json::from_slice(&std::fs::read(source.join("core.config_entries")).unwrap())
                .unwrap();
        for entry in entries["data"]["entries"].as_array_mut().unwrap() {
            if entry["entry_id"] == PLUG_ENTRY {
                entry["domain"] = domain.into();
            }
        }
        std::fs::write(dir.path().join("core.config_entries"), entries.to_string()).unwrap();
    }
    dir
}

async fn plug_integration(app: &TestApp, dir: &std::path::Path) -> Value {
    let out = import(app, dir, true);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    api(app, "/api/devices/c6f0e1d2a3b44c5d8e9f0a1b2c3d4e5f").await["integration"].clone()
}

#[tokio::test]
async fn the_integration_does_not_follow_the_order_home_assistant_wrote_the_identifiers_in() {
    let app = spawn_app().await;
    app.login_as_admin().await;
    let written = serde_json::json!([["mqtt", "shellyplug-s-C8C9A3"], ["shelly", "C8C9A3"]]);
    let after_restart = serde_json::json!([["shelly", "C8C9A3"], ["mqtt", "shellyplug-s-C8C9A3"]]);

    let entry_first =
        plug_integration(&app, storage_copy(written.clone(), Some("shelly")).path()).await;
    let entry_restarted = plug_integration(
        &app,
        storage_copy(after_restart.clone(), Some("shelly")).path(),
    )
    .await;
    let no_entries_first = plug_integration(&app, storage_copy(written, None).path()).await;
    let no_entries_restarted =
        plug_integration(&app, storage_copy(after_restart, None).path()).await;

    assert_eq!(entry_first, "shelly", "the primary config entry's domain");
    assert_eq!(entry_restarted, "shelly", "whatever the identifiers' order");
    assert_eq!(
        no_entries_first, "mqtt",
        "without core.config_entries: the alphabetically first identifier domain"
    );
    assert_eq!(no_entries_restarted, "mqtt", "in either order");
}

#[tokio::test]
async fn a_config_entries_file_that_is_not_home_assistants_is_refused() {
    let app = spawn_app().await;
    app.login_as_admin().await;
    let dir = storage_copy(serde_json::json!([["mqtt", "shellyplug-s-C8C9A3"]]), None);
    std::fs::write(
        dir.path().join("core.config_entries"),
        r#"{"version": 1, "key": "core.restore_state", "data": {"entries": []}}"#,
    )
    .unwrap();

    let out = import(&app, dir.path(), false);

    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("core.config_entries") && err.contains("not a Home Assistant"),
        "{err}"
    );
    let devices = api(&app, "/api/devices").await;
    assert_eq!(
        devices["items"].as_array().unwrap().len(),
        0,
        "nothing imported"
    );
}
