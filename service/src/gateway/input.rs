//! The validated inputs of an MCP server: its name, transport, address, description and
//! headers, each checked once at the edge.

use reqwest::header::{HeaderName, HeaderValue};

use crate::webhooks::WebhookUrl;
use crate::{Error, FieldError, Result};

/// Longest server name.
pub const NAME_MAX: usize = 100;
/// Longest description.
pub const DESCRIPTION_MAX: usize = 2000;
/// Longest `stdio` command line.
const COMMAND_MAX: usize = 2048;
/// Most headers one server may be given.
pub const HEADERS_MAX: usize = 32;
/// Longest header value.
const HEADER_VALUE_MAX: usize = 8192;
/// Headers the check sets itself (or HTTP owns), which a server's configuration may not.
const RESERVED_HEADERS: &[&str] = &[
    "accept",
    "connection",
    "content-length",
    "content-type",
    "host",
    "mcp-protocol-version",
    "mcp-session-id",
    "transfer-encoding",
];

/// How Metadeck would talk to the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    StreamableHttp,
    Sse,
    Stdio,
}

impl Transport {
    /// Every transport, in the order forms offer them.
    pub const ALL: [Self; 3] = [Self::StreamableHttp, Self::Sse, Self::Stdio];

    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::StreamableHttp => "streamable-http",
            Self::Sse => "sse",
            Self::Stdio => "stdio",
        }
    }

    /// Parses the wire name.
    pub fn parse(raw: &str, field: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|t| t.as_str() == raw.trim())
            .ok_or_else(|| Error::invalid(field, "must be streamable-http, sse or stdio"))
    }

    /// True when its address is a URL (every transport but `stdio`).
    pub fn is_http(self) -> bool {
        self != Self::Stdio
    }
}

/// Where the server is: an HTTP URL, or for `stdio` the command line that starts it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Address {
    Url(WebhookUrl),
    Command(String),
}

impl Address {
    /// Checks `raw` as the address of a server of `transport`.
    pub fn parse(raw: &str, transport: Transport, field: &str) -> Result<Self> {
        if transport.is_http() {
            return WebhookUrl::parse(raw, field).map(Self::Url);
        }
        let command = raw.trim();
        if command.is_empty() {
            return Err(Error::invalid(
                field,
                "is required (the command that starts the server)",
            ));
        }
        if command.chars().count() > COMMAND_MAX || command.chars().any(char::is_control) {
            return Err(Error::invalid(
                field,
                format!("must be one line of at most {COMMAND_MAX} characters"),
            ));
        }
        Ok(Self::Command(command.to_string()))
    }

    /// The stored text.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Url(url) => url.as_str(),
            Self::Command(command) => command,
        }
    }
}

/// Checks a server name: 1–100 characters on one line.
pub fn server_name(raw: &str, field: &str) -> Result<String> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(Error::invalid(field, "is required"));
    }
    if name.chars().count() > NAME_MAX || name.chars().any(char::is_control) {
        return Err(Error::invalid(
            field,
            format!("must be one line of at most {NAME_MAX} characters"),
        ));
    }
    Ok(name.to_string())
}

/// Checks an optional description; empty is none.
pub fn description(raw: Option<&str>, field: &str) -> Result<Option<String>> {
    let Some(text) = raw.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    if text.chars().count() > DESCRIPTION_MAX {
        return Err(Error::invalid(
            field,
            format!("must be at most {DESCRIPTION_MAX} characters"),
        ));
    }
    Ok(Some(text.to_string()))
}

/// One configured header; a value of `None` keeps the value stored under that name.
#[derive(Clone, PartialEq, Eq)]
pub struct HeaderEntry {
    /// Lower case, as HTTP compares names.
    pub name: String,
    pub value: Option<String>,
}

impl std::fmt::Debug for HeaderEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "HeaderEntry({}: …)", self.name)
    }
}

/// Checks headers given as (name, value) pairs: valid HTTP names and values, none the check
/// sets itself, no name twice, at most 32.
pub fn headers(pairs: &[(String, Option<String>)], field: &str) -> Result<Vec<HeaderEntry>> {
    if pairs.len() > HEADERS_MAX {
        return Err(Error::invalid(
            field,
            format!("may hold at most {HEADERS_MAX} headers"),
        ));
    }
    let mut out: Vec<HeaderEntry> = Vec::new();
    let mut errors = Vec::new();
    for (raw_name, value) in pairs {
        let name = raw_name.trim().to_ascii_lowercase();
        let shown: String = raw_name.chars().take(60).collect();
        if HeaderName::from_bytes(name.as_bytes()).is_err() {
            errors.push(FieldError::new(
                field,
                format!("{shown:?} is not a header name"),
            ));
        } else if RESERVED_HEADERS.contains(&name.as_str()) {
            errors.push(FieldError::new(
                field,
                format!("{name} is set by the check itself and cannot be configured"),
            ));
        } else if out.iter().any(|h| h.name == name) {
            errors.push(FieldError::new(field, format!("{name} is given twice")));
        } else if let Some(v) = value
            && (v.len() > HEADER_VALUE_MAX || HeaderValue::from_str(v).is_err())
        {
            errors.push(FieldError::new(
                field,
                format!(
                    "the value of {name} must be at most {HEADER_VALUE_MAX} visible ASCII characters"
                ),
            ));
        } else {
            out.push(HeaderEntry {
                name,
                value: value.clone(),
            });
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(Error::Validation(errors))
    }
}

/// A whole server as created or replaced.
#[derive(Debug, Clone)]
pub struct McpServerInput {
    pub name: String,
    pub transport: Transport,
    pub address: Address,
    pub description: Option<String>,
    pub enabled: bool,
    /// `None` keeps the stored headers (a replace that leaves them out).
    pub headers: Option<Vec<HeaderEntry>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(n: &str, v: &str) -> (String, Option<String>) {
        (n.to_string(), Some(v.to_string()))
    }

    #[test]
    fn headers_are_checked_by_name_and_value() {
        let ok = headers(
            &[pair("Authorization", "Bearer x"), pair("X-Team", "a")],
            "headers",
        )
        .unwrap();
        assert_eq!(ok[0].name, "authorization");
        for bad in [
            vec![pair("bad name", "x")],
            vec![pair("Mcp-Session-Id", "x")],
            vec![pair("x-a", "1"), pair("X-A", "2")],
            vec![pair("x-a", "line\nbreak")],
        ] {
            assert!(headers(&bad, "headers").is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_stdio_address_is_a_command_and_others_are_urls() {
        assert!(Address::parse("npx server --flag", Transport::Stdio, "url").is_ok());
        assert!(Address::parse("npx server", Transport::StreamableHttp, "url").is_err());
        assert!(Address::parse("ftp://x/", Transport::Sse, "url").is_err());
        assert!(
            Address::parse(
                "https://mcp.example.com/mcp",
                Transport::StreamableHttp,
                "url"
            )
            .is_ok()
        );
    }
}
