//! The MCP server form (create and edit): its fields as sent, their conversion into the
//! service's input, and the fields shown again with the input kept.
//!
//! Headers are one `Name: value` per line. Saved values are never shown again: an edit form
//! shows each saved header as `Name: ` followed by [`MASK`], and a line left that way keeps
//! the stored value.

use service::gateway::McpServerSummary;
use service::gateway::input::{self, Address, McpServerInput, Transport};

use crate::pages::{Choice, Field};
use crate::routes::form_input::merge_errors;
use crate::routes::forms::{page_form, ticked};

/// What an edit form shows in place of a saved header value.
pub const MASK: &str = "(saved, hidden)";

page_form! {
    /// The MCP server form as sent.
    pub struct McpServerForm {
        pub name: String,
        pub transport: String,
        pub url: String,
        pub description: String,
        pub enabled: String,
        pub headers: String,
    }
}

impl McpServerForm {
    /// The form of a new server: streamable HTTP, enabled.
    pub fn blank() -> Self {
        Self {
            transport: Transport::StreamableHttp.as_str().into(),
            enabled: "true".into(),
            ..Self::default()
        }
    }

    /// The form holding `s` as saved, header values masked.
    pub fn current(s: &McpServerSummary) -> Self {
        Self {
            name: s.name.clone(),
            transport: s.transport.clone(),
            url: s.url.clone(),
            description: s.description.clone().unwrap_or_default(),
            enabled: if s.enabled {
                "true".into()
            } else {
                String::new()
            },
            headers: s
                .header_names
                .iter()
                .map(|n| format!("{n}: {MASK}"))
                .collect::<Vec<_>>()
                .join("\n"),
        }
    }

    /// The header lines as (name, value) pairs; a masked value is `None` (keep it).
    fn header_pairs(&self) -> Result<Vec<(String, Option<String>)>, service::Error> {
        let mut pairs = Vec::new();
        for line in self
            .headers
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
        {
            let Some((name, value)) = line.split_once(':') else {
                return Err(service::Error::invalid(
                    Self::headers,
                    "must hold one Name: value per line",
                ));
            };
            let value = value.trim();
            pairs.push((
                name.trim().to_string(),
                (value != MASK).then(|| value.to_string()),
            ));
        }
        Ok(pairs)
    }

    /// The server the form describes, each error under its field.
    pub fn parse(&self) -> Result<McpServerInput, service::Error> {
        let name = input::server_name(&self.name, Self::name);
        let transport = Transport::parse(&self.transport, Self::transport);
        let address = match &transport {
            Ok(t) => Address::parse(&self.url, *t, Self::url),
            Err(_) => Ok(Address::Command(String::new())),
        };
        let description = input::description(Some(&self.description), Self::description);
        let headers = self
            .header_pairs()
            .and_then(|pairs| input::headers(&pairs, Self::headers));
        match (name, transport, address, description, headers) {
            (Ok(name), Ok(transport), Ok(address), Ok(description), Ok(headers)) => {
                Ok(McpServerInput {
                    name,
                    transport,
                    address,
                    description,
                    enabled: ticked(&self.enabled),
                    headers: Some(headers),
                })
            }
            (n, t, a, d, h) => Err(
                merge_errors(vec![n.err(), t.err(), a.err(), d.err(), h.err()])
                    .unwrap_or_else(|| service::Error::internal("no error")),
            ),
        }
    }

    /// The form's fields with this input.
    pub fn fields(&self) -> Vec<Field> {
        let transports = Transport::ALL
            .iter()
            .map(|t| Choice {
                value: t.as_str().into(),
                label: t.as_str().into(),
                checked: t.as_str() == self.transport,
            })
            .collect();
        vec![
            Field::new(Self::name, "Name", "text").value(&self.name),
            Field::new(Self::transport, "Transport", "select")
                .choices(transports)
                .help("Checks speak streamable HTTP; stdio servers run locally and cannot be checked."),
            Field::new(Self::url, "URL", "text").value(&self.url).help(
                "http or https; for stdio, the command line. Private and loopback addresses are refused unless METADECK_WEBHOOK_ALLOW_PRIVATE_NETWORKS=true.",
            ),
            Field::new(Self::description, "Description", "text").value(&self.description),
            Field::new(Self::enabled, "Enabled (checked in the background)", "checkbox")
                .value(if ticked(&self.enabled) { "true" } else { "" }),
            Field::new(Self::headers, "Headers", "textarea")
                .value(&self.headers)
                .help("One Name: value per line, sent with every check and stored encrypted. Saved values show as (saved, hidden); leave them so to keep them."),
        ]
    }
}
