//! Home Assistant import: its own `.storage/core.device_registry` and
//! `.storage/core.entity_registry` files, upserted in one transaction.
//!
//! Mapping (spec 04): `name_by_user` wins over `name`, a device with neither is named by its
//! id; `integration` is the domain of the device's primary config entry when
//! `core.config_entries` names it, else the alphabetically first identifier domain (Home
//! Assistant rewrites identifiers in another order on restarts); `disabled` is `disabled_by != null`;
//! `domain` is the entity id's prefix; `deleted_devices` / `deleted_entities` and unknown
//! fields are ignored; an entity whose device is not in the file keeps no device. Devices
//! keep the `last_seen` a discovery service reported, since Home Assistant has none.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use sea_orm::DatabaseConnection;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::bulk::{self, UpsertCounts};
use super::input::{RawDevice, RawEntity};
use crate::audit::{self, Actor, AuditEntry};
use crate::db::begin_bulk_write;
use crate::{Error, FieldError, Result};

/// The file names inside the storage directory.
pub const DEVICE_FILE: &str = "core.device_registry";
pub const ENTITY_FILE: &str = "core.entity_registry";
/// The optional file that names each config entry's integration domain.
pub const CONFIG_ENTRIES_FILE: &str = "core.config_entries";

#[derive(Debug, Deserialize)]
struct StorageFile<T> {
    key: String,
    #[allow(dead_code)]
    version: Value,
    data: T,
}

#[derive(Debug, Deserialize)]
struct DeviceData {
    devices: Vec<HaDevice>,
}

#[derive(Debug, Deserialize)]
struct EntityData {
    entities: Vec<HaEntity>,
}

#[derive(Debug, Deserialize)]
struct ConfigEntryData {
    entries: Vec<HaConfigEntry>,
}

#[derive(Debug, Deserialize)]
struct HaConfigEntry {
    entry_id: String,
    domain: String,
}

#[derive(Debug, Deserialize)]
struct HaDevice {
    id: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    name_by_user: Option<String>,
    #[serde(default)]
    manufacturer: Option<String>,
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    area_id: Option<String>,
    /// `[[domain, id], …]`, a set whose order Home Assistant does not keep.
    #[serde(default)]
    identifiers: Vec<Vec<Value>>,
    /// The config entry that created the device (Home Assistant 2024.7 and later).
    #[serde(default)]
    primary_config_entry: Option<String>,
}

#[derive(Debug, Deserialize)]
struct HaEntity {
    entity_id: String,
    #[serde(default)]
    device_id: Option<String>,
    #[serde(default)]
    platform: Option<String>,
    #[serde(default)]
    disabled_by: Option<Value>,
}

/// What an import did, per table, and what it had to leave out.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ImportReport {
    pub devices: UpsertCounts,
    pub entities: UpsertCounts,
    /// Entities whose device was not in the device file (imported without a device).
    pub warnings: Vec<String>,
}

/// Reads one registry file, refusing anything that is not Home Assistant's `key`.
fn read<T: serde::de::DeserializeOwned>(dir: &Path, key: &str) -> Result<T> {
    let path = dir.join(key);
    let text = std::fs::read_to_string(&path)
        .map_err(|e| Error::invalid(key, format!("{} cannot be read: {e}", path.display())))?;
    let not_registry = |why: String| {
        Error::invalid(
            key,
            format!(
                "{} is not a Home Assistant {key} file: {why}",
                path.display()
            ),
        )
    };
    let file: StorageFile<T> =
        serde_json::from_str(&text).map_err(|e| not_registry(e.to_string()))?;
    if file.key != key {
        return Err(not_registry(format!("its key is {:?}", file.key)));
    }
    Ok(file.data)
}

/// The device's integration: its primary config entry's domain when `domains` (entry id →
/// domain) names it, otherwise the alphabetically first identifier domain, so the answer does
/// not depend on the order Home Assistant last wrote the identifiers in.
fn integration(d: &HaDevice, domains: &HashMap<String, String>) -> Option<String> {
    d.primary_config_entry
        .as_ref()
        .and_then(|entry| domains.get(entry))
        .cloned()
        .or_else(|| {
            d.identifiers
                .iter()
                .filter_map(|pair| pair.first().and_then(Value::as_str))
                .min()
                .map(str::to_owned)
        })
}

fn device(d: HaDevice, domains: &HashMap<String, String>) -> RawDevice {
    let integration = integration(&d, domains);
    let name = d
        .name_by_user
        .filter(|n| !n.trim().is_empty())
        .or(d.name.filter(|n| !n.trim().is_empty()))
        .unwrap_or_else(|| d.id.clone());
    RawDevice {
        device_id: Some(d.id),
        name: Some(name),
        manufacturer: d.manufacturer,
        model: d.model,
        area_id: d.area_id,
        integration,
        last_seen: None,
    }
}

/// Names the file in validation errors so the operator knows where to look.
fn in_file(err: Error, file: &str) -> Error {
    match err {
        Error::Validation(details) => Error::Validation(
            details
                .into_iter()
                .map(|d| FieldError {
                    field: format!("{file}: {}", d.field),
                    ..d
                })
                .collect(),
        ),
        other => other,
    }
}

/// Config entry id → integration domain, from `core.config_entries` when the directory has it.
fn config_entry_domains(dir: &Path) -> Result<HashMap<String, String>> {
    if !dir.join(CONFIG_ENTRIES_FILE).exists() {
        return Ok(HashMap::new());
    }
    let data: ConfigEntryData = read(dir, CONFIG_ENTRIES_FILE)?;
    Ok(data
        .entries
        .into_iter()
        .map(|e| (e.entry_id, e.domain))
        .collect())
}

/// Imports the two registry files of `dir` (with `core.config_entries` when present, for each
/// device's integration) in one transaction.
pub async fn import(db: &DatabaseConnection, actor: &Actor, dir: &Path) -> Result<ImportReport> {
    let device_data: DeviceData = read(dir, DEVICE_FILE)?;
    let entity_data: EntityData = read(dir, ENTITY_FILE)?;
    let domains = config_entry_domains(dir)?;
    let devices = bulk::check_devices(
        device_data
            .devices
            .into_iter()
            .map(|d| device(d, &domains))
            .collect(),
    )
    .map_err(|e| in_file(e, DEVICE_FILE))?;
    let known: HashSet<&str> = devices.iter().map(|d| d.device_id.as_str()).collect();
    let mut warnings = Vec::new();
    let raw_entities: Vec<RawEntity> = entity_data
        .entities
        .into_iter()
        .map(|e| {
            let device_id = match e.device_id {
                Some(id) if !known.contains(id.as_str()) => {
                    warnings.push(format!(
                        "{}: its device {id} is not in {DEVICE_FILE}; imported without a device",
                        e.entity_id
                    ));
                    None
                }
                other => other,
            };
            RawEntity {
                entity_id: Some(e.entity_id),
                device_id,
                domain: None,
                platform: e.platform,
                disabled: Some(e.disabled_by.is_some_and(|v| !v.is_null())),
            }
        })
        .collect();
    let entities = bulk::check_entities(raw_entities).map_err(|e| in_file(e, ENTITY_FILE))?;
    let txn = begin_bulk_write(db).await?;
    let device_counts = bulk::upsert_devices_in(&txn, &devices, true).await?;
    let entity_counts = bulk::upsert_entities_in(&txn, &entities)
        .await
        .map_err(|e| in_file(e, ENTITY_FILE))?;
    // The imported items' events are already queued by the upserts themselves.
    audit::commit_audited(
        txn,
        AuditEntry::new("registry.imported", actor)
            .target(dir.display().to_string())
            .details(json!({"source": "home-assistant", "devices": device_counts,
                "entities": entity_counts, "warnings": warnings.len()})),
        &[],
    )
    .await?;
    Ok(ImportReport {
        devices: device_counts,
        entities: entity_counts,
        warnings,
    })
}
