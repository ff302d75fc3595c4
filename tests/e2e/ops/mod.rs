//! The orchestration store (spec 07), spoken to as an engine would: with a bearer token
//! holding `ops:read` and `ops:write`.

mod actions;
mod events;
mod facts;
mod pages;
mod resources;
mod runs;
mod sweeper;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app, spawn_app_with};

/// An app and an engine's token for it.
pub struct Engine {
    pub app: TestApp,
    pub token: String,
}

impl Engine {
    /// A fresh app (the admin signed in) and a token with the ops scopes.
    pub async fn start() -> Self {
        Self::on(spawn_app().await).await
    }

    /// A fresh app with extra settings.
    pub async fn start_with(
        configure: impl FnOnce(&mut std::collections::HashMap<String, String>),
    ) -> Self {
        Self::on(spawn_app_with(configure).await).await
    }

    async fn on(app: TestApp) -> Self {
        app.login_as_admin().await;
        let client = crate::oauth::service_client(&app, &["ops:read", "ops:write"]).await;
        let token = crate::oauth::token_for(&app, &client, Some("ops:read ops:write")).await;
        Self { app, token }
    }

    /// Sends `body` (if any) with the token; answers the status and the JSON body.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        self.call_with(method, path, body, &[]).await
    }

    /// [`Engine::call`] with extra headers.
    pub async fn call_with(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> (StatusCode, Value) {
        let mut req = reqwest::Client::new()
            .request(method, self.app.url(path))
            .bearer_auth(&self.token);
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        let res = req.send().await.expect("request sent");
        let status = res.status();
        let text = res.text().await.unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// `GET path`, expecting `200`.
    pub async fn get(&self, path: &str) -> Value {
        let (status, body) = self.call(Method::GET, path, None).await;
        assert_eq!(status, StatusCode::OK, "GET {path}: {body}");
        body
    }

    /// Creates a run with `units` (each `(id, dependencies)`), expecting `201`.
    pub async fn run_with_units(&self, id: &str, units: &[(&str, &[&str])]) -> Value {
        let units: Vec<Value> = units
            .iter()
            .map(|(uid, deps)| {
                json!({"id": uid, "resource_type": "aws_instance", "resource_name": uid,
                       "action": "create", "dependencies": deps})
            })
            .collect();
        let (status, body) = self
            .call(
                Method::POST,
                "/api/ops/runs",
                Some(json!({"id": id, "plan_path": "plans/main.tf", "plan_units": units})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body
    }

    /// Moves run `id` to `status`, expecting `200`.
    pub async fn move_run(&self, id: &str, status: &str) -> Value {
        let (code, body) = self
            .call(
                Method::PATCH,
                &format!("/api/ops/runs/{id}"),
                Some(json!({"status": status})),
            )
            .await;
        assert_eq!(code, StatusCode::OK, "{body}");
        body
    }

    /// Appends `events` (a JSON array or one object); answers status and body.
    pub async fn append(&self, events: Value) -> (StatusCode, Value) {
        self.call(Method::POST, "/api/ops/events", Some(events))
            .await
    }
}

/// Strings that must be stored verbatim and shown escaped.
pub const HOSTILE: &str = "<script>alert(1)</script>'; DROP TABLE runs;--";
