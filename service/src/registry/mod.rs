//! Device and entity registry, bulk upserts, the Home Assistant import and user
//! preferences (spec 04, seed 002).

pub mod bulk;
mod device_upsert;
pub mod devices;
pub mod entities;
mod events;
pub mod home_assistant;
pub mod input;
pub mod preferences;

pub use bulk::UpsertCounts;
pub use devices::{DeviceDetail, DeviceFilter, DeviceKey, DeviceSort, DeviceView};
pub use entities::{
    BY_ENTITY_ID, EntityFilter, EntityKey, EntitySort, EntitySortField, EntityView,
};
pub use input::{DeviceId, DeviceInput, EntityId, EntityInput, RawDevice, RawEntity};
pub use preferences::{Preferences, Theme, UiPreferences};
