//! The JSON shapes of the orchestration API that are not the service's own views: request
//! bodies, list queries and list pages.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;
use service::orchestration::events::EventView;
use service::orchestration::facts::FactView;
use service::orchestration::resources::ResourceView;
use service::orchestration::runs::RunView;
use service::orchestration::versions::VersionView;
use service::orchestration::{Action, RunStatus, UnitStatus};
use utoipa::{IntoParams, ToSchema};

/// Body of `POST /api/ops/runs`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRun {
    /// The client's id for the run, unique across the store (1–255 characters).
    pub id: String,
    pub plan_path: String,
    /// A JSON object.
    #[schema(value_type = Object)]
    pub metadata: Option<Value>,
    /// Created with the run, in the same transaction; dependencies must form a DAG.
    pub plan_units: Option<Vec<CreateUnit>>,
}

/// A plan unit in `POST /api/ops/runs`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUnit {
    /// Unique across the store (1–255 characters).
    pub id: String,
    pub resource_type: String,
    pub resource_name: String,
    pub action: Action,
    /// Ids of plan units of the same run.
    #[serde(default)]
    pub dependencies: Vec<String>,
    #[schema(value_type = Object)]
    pub desired_state: Option<Value>,
}

/// Body of `PATCH /api/ops/runs/{id}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchRun {
    pub status: RunStatus,
    /// Why it failed; kept only with `failed`.
    pub error: Option<String>,
}

/// Body of `PATCH /api/ops/plan-units/{id}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchUnit {
    pub status: UnitStatus,
    /// Why it failed; kept only with `failed`.
    pub error: Option<String>,
}

/// One event of `POST /api/ops/events` (the body is one event or an array of up to 10,000).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AppendEvent {
    pub run_id: Option<String>,
    pub plan_unit_id: Option<String>,
    /// `debug`, `info`, `warn` or `error`.
    pub level: String,
    pub message: String,
    /// A JSON object; default `{}`.
    #[schema(value_type = Object)]
    pub details: Option<Box<RawValue>>,
    /// Default: the time of the append.
    pub timestamp: Option<DateTime<Utc>>,
}

/// Body of `PUT /api/ops/resources/{type}/{name}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PutResource {
    /// A JSON object; its hash is computed by the server.
    #[schema(value_type = Object)]
    pub state: Value,
    /// Becomes `last_run_id`.
    pub run_id: Option<String>,
}

/// Body of `PUT /api/ops/facts/{target_id}/{namespace}/{key}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PutFact {
    /// Any JSON value.
    #[schema(value_type = Value)]
    pub value: Value,
    /// Seconds until it expires; 0 (the default) = never.
    pub ttl: Option<i64>,
}

/// Query of the run list.
#[derive(Debug, Deserialize, IntoParams)]
pub struct RunQuery {
    pub status: Option<RunStatus>,
    /// 1–500, default 50.
    pub limit: Option<u64>,
    pub cursor: Option<String>,
}

/// Query of the event tail.
#[derive(Debug, Deserialize, IntoParams)]
pub struct EventQuery {
    pub run_id: Option<String>,
    /// A plan unit's events: those of its run (`run_id`, or else the unit's own run) that
    /// name it. A unit that does not exist has none.
    pub plan_unit_id: Option<String>,
    /// Exactly this level.
    pub level: Option<String>,
    /// This level and above (`warn` → warn and error).
    pub min_level: Option<String>,
    /// Events with a larger id (default 0); a follower passes the last id it saw.
    pub after_id: Option<i64>,
    /// The newest events with a smaller id, answered oldest first (paging back).
    pub before_id: Option<i64>,
    /// 1–1000, default 100.
    pub limit: Option<u64>,
    /// The `next_cursor` of the previous page (instead of `after_id`).
    pub cursor: Option<String>,
}

/// Query of the resource list.
#[derive(Debug, Deserialize, IntoParams)]
pub struct ResourceQuery {
    /// Only resources of this type.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub resource_type: Option<String>,
    pub limit: Option<u64>,
    pub cursor: Option<String>,
}

/// Query of the fact list.
#[derive(Debug, Deserialize, IntoParams)]
pub struct FactQuery {
    pub target_id: Option<String>,
    pub namespace: Option<String>,
    pub limit: Option<u64>,
    pub cursor: Option<String>,
}

/// Query of a resource's versions.
#[derive(Debug, Deserialize, IntoParams)]
pub struct VersionQuery {
    pub limit: Option<u64>,
    pub cursor: Option<String>,
}

/// Declares a list page of `$item`.
macro_rules! page_of {
    ($(#[$doc:meta])* $name:ident, $item:ty) => {
        $(#[$doc])*
        #[derive(Debug, Serialize, ToSchema)]
        pub struct $name {
            pub items: Vec<$item>,
            /// Present exactly when another page follows.
            pub next_cursor: Option<String>,
        }

        impl From<service::pagination::Page<$item>> for $name {
            fn from(page: service::pagination::Page<$item>) -> Self {
                Self { items: page.items, next_cursor: page.next_cursor }
            }
        }
    };
}

page_of!(
    /// A page of runs, newest first.
    RunPage, RunView
);
page_of!(
    /// A page of events, oldest first.
    EventPage, EventView
);
page_of!(
    /// A page of resources by type and name.
    ResourcePage, ResourceView
);
page_of!(
    /// A page of a resource's versions, newest first.
    VersionPage, VersionView
);
page_of!(
    /// A page of unexpired facts.
    FactPage, FactView
);
