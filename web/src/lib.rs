//! Metadeck's HTTP layer and command line: routing, extractors, permission checks,
//! JSON and pages. It calls `service` for every rule and maps its errors to HTTP once.

pub mod auth;
pub mod cli;
pub mod error;
pub mod flash;
pub mod gateway_tasks;
pub mod json;
pub mod middleware;
pub mod ops_tasks;
pub mod pages;
pub mod routes;
pub mod settings;
pub mod signing;
pub mod startup;
pub mod state;
pub mod sync_tasks;
pub mod system_tasks;
pub mod telemetry;
pub mod wording;
