//! End-to-end tests: the real application on a fresh database per test, spoken to over HTTP.
//!
//! SQLite by default; set `METADECK_TEST_DATABASE_URL=postgres://…/postgres` (an admin URL)
//! to run every test on its own PostgreSQL database instead.

mod helpers;

mod access;
mod admin_pages;
mod authz_matrix;
mod browser;
mod bulk_actions;
mod cli;
mod console;
mod database;
mod errors;
mod escalation;
mod forms_and_cookies;
mod gateway;
mod health;
mod hostile_input;
mod list_pagination;
mod list_plans;
mod list_toolkit;
mod login_bursts;
mod migrations;
mod oauth;
mod openapi;
mod ops;
mod registry;
mod registry_import;
mod registry_pages;
mod retention;
mod second_factor;
mod static_assets;
mod sync;
mod system;
mod typed_forms;
mod webhook_receiver;
mod webhooks;
mod webhooks_import;
mod webhooks_r5;
mod webhooks_ssrf;
