//! The JSON shapes of the config API: the `PUT` body, the list query and page.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use service::gateway::config::{ConfigInput, ConfigItem, parse_json_text};
use utoipa::{IntoParams, ToSchema};

/// Body of `PUT /api/gateway/config/{key}`: the value, either as JSON (`value`) or as JSON
/// text in a string (`value_text`, whose errors name the line and column), and a description.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfigBody {
    /// The value: any JSON. Give this or `value_text`.
    pub value: Option<Value>,
    /// The value as JSON text (as typed by a person); invalid JSON is a `422` whose message
    /// names the line, the column and the text there.
    pub value_text: Option<String>,
    /// Up to 1000 characters; left out, the key has none.
    pub description: Option<String>,
}

impl ConfigBody {
    /// The value and description the body sets, each problem under its field.
    pub fn parse(self) -> Result<ConfigInput, service::Error> {
        let value = match (self.value, self.value_text) {
            (Some(value), None) => value,
            (None, Some(text)) => parse_json_text(&text, "value_text")?,
            (Some(_), Some(_)) => {
                return Err(service::Error::invalid(
                    "value_text",
                    "give either value or value_text, not both",
                ));
            }
            (None, None) => return Err(service::Error::invalid("value", "is required")),
        };
        ConfigInput::new(value, self.description.as_deref(), "value", "description")
    }
}

/// Query of the config list.
#[derive(Debug, Deserialize, IntoParams)]
pub struct ConfigQuery {
    /// `key` (default) or `-key`.
    pub sort: Option<String>,
    /// 1–500, default 50.
    pub limit: Option<u64>,
    pub cursor: Option<String>,
}

/// A page of config keys.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConfigPage {
    pub items: Vec<ConfigItem>,
    pub next_cursor: Option<String>,
}
