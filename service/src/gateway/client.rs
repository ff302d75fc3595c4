//! The network half of an MCP check, over streamable HTTP: `initialize`, the `initialized`
//! notification, then `tools/list` followed through `nextCursor` to the end, carrying the
//! session id the server sets and the headers configured for it.
//!
//! Every bound of spec 08 is here: the whole exchange ends within [`TOTAL`], redirects are
//! answered as failures and never followed, every answer is read under one [`Budget`] of
//! 4 MiB (an endless body or event stream stops there), and names resolve through the
//! webhooks' SSRF guard, so a refused address is never connected to.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue, LOCATION};
use serde_json::{Value, json};

use super::wire::{self, Budget, Failure, SseReader};
use crate::webhooks::sender::{GuardedResolver, refusal_in, refused_literal};
use crate::{Error, Result};

/// The longest a check may take, start to end.
pub const TOTAL: Duration = Duration::from_secs(10);
/// The protocol version Metadeck asks for; the server answers the one it speaks.
pub const PROTOCOL_VERSION: &str = "2025-06-18";
/// Most `tools/list` pages followed (a server paging forever is cut off here or by time).
const MAX_PAGES: usize = 1000;
const SESSION_HEADER: &str = "mcp-session-id";
const PROTOCOL_HEADER: &str = "mcp-protocol-version";

/// What a good check learned.
#[derive(Debug, Clone)]
pub struct Probe {
    pub protocol_version: String,
    pub server_name: String,
    pub server_version: String,
    /// Each tool as received.
    pub tools: Vec<Value>,
    pub latency: Duration,
}

/// The HTTP client every check uses: no redirects, no proxy, the SSRF guard on resolution.
#[derive(Clone)]
pub struct McpClient {
    pub(super) http: reqwest::Client,
    pub(super) allow_private: bool,
}

impl McpClient {
    /// A client that reaches private destinations only when `allow_private`.
    pub fn new(allow_private: bool) -> Result<Self> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(TOTAL)
            .connect_timeout(TOTAL)
            .no_proxy()
            .dns_resolver(GuardedResolver::new(allow_private))
            .user_agent(concat!("Metadeck-MCP-Check/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::internal(format!("the MCP HTTP client cannot be built: {e}")))?;
        Ok(Self {
            http,
            allow_private,
        })
    }

    /// Checks the server at `url`, sending `headers` with every request. Never takes longer
    /// than [`TOTAL`].
    pub async fn probe(&self, url: &str, headers: &[(String, String)]) -> Result<Probe, Failure> {
        let url = url::Url::parse(url)
            .map_err(|e| Failure::error(format!("the URL cannot be parsed: {e}")))?;
        if let Some(reason) = refused_literal(&url, self.allow_private) {
            return Err(Failure::error(reason));
        }
        let mut configured = HeaderMap::new();
        for (name, value) in headers {
            let (Ok(name), Ok(value)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(value),
            ) else {
                return Err(Failure::error(format!("the header {name} cannot be sent")));
            };
            configured.insert(name, value);
        }
        let started = Instant::now();
        let mut session = Session {
            client: self,
            url,
            headers: configured,
            session_id: None,
            protocol: None,
            budget: Budget::default(),
            next_id: 0,
        };
        match tokio::time::timeout(TOTAL, session.run()).await {
            Ok(Ok(mut probe)) => {
                probe.latency = started.elapsed();
                Ok(probe)
            }
            Ok(Err(failure)) => Err(failure),
            Err(_) => Err(Failure::unreachable(format!(
                "no complete answer within {} s",
                TOTAL.as_secs()
            ))),
        }
    }
}

/// One check's conversation with one server.
struct Session<'a> {
    client: &'a McpClient,
    url: url::Url,
    headers: HeaderMap,
    session_id: Option<HeaderValue>,
    protocol: Option<HeaderValue>,
    budget: Budget,
    next_id: i64,
}

impl Session<'_> {
    async fn run(&mut self) -> Result<Probe, Failure> {
        let init = self
            .call(
                "initialize",
                json!({
                    "protocolVersion": PROTOCOL_VERSION,
                    "capabilities": {},
                    "clientInfo": {"name": "metadeck", "version": env!("CARGO_PKG_VERSION")},
                }),
            )
            .await?;
        let protocol_version = init
            .get("protocolVersion")
            .and_then(Value::as_str)
            .ok_or_else(|| Failure::error("the initialize result names no protocolVersion"))?
            .to_string();
        self.protocol = HeaderValue::from_str(&protocol_version).ok();
        let info = init.get("serverInfo");
        let text = |key: &str| {
            info.and_then(|i| i.get(key))
                .and_then(Value::as_str)
                .map(wire::clip)
                .unwrap_or_default()
        };
        let (server_name, server_version) = (text("name"), text("version"));
        self.notify("notifications/initialized").await?;
        let tools = self.list_tools().await?;
        Ok(Probe {
            protocol_version: wire::clip(&protocol_version),
            server_name,
            server_version,
            tools,
            latency: Duration::ZERO,
        })
    }

    /// Every tool, page after page until a page names no `nextCursor`.
    async fn list_tools(&mut self) -> Result<Vec<Value>, Failure> {
        let mut tools = Vec::new();
        let mut names = HashSet::new();
        let mut seen_cursors = HashSet::new();
        let mut cursor: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let params = match &cursor {
                Some(c) => json!({"cursor": c}),
                None => json!({}),
            };
            let page = self.call("tools/list", params).await?;
            let Some(listed) = page.get("tools").and_then(Value::as_array) else {
                return Err(Failure::error("the tools/list result holds no tools array"));
            };
            for tool in listed {
                let Some(name) = tool.get("name").and_then(Value::as_str) else {
                    return Err(Failure::error("tools/list holds a tool without a name"));
                };
                if !names.insert(name.to_string()) {
                    return Err(Failure::error(format!(
                        "tools/list names the tool {} twice",
                        wire::clip(name)
                    )));
                }
                tools.push(tool.clone());
            }
            match page.get("nextCursor") {
                None | Some(Value::Null) => return Ok(tools),
                Some(Value::String(next)) => {
                    if !seen_cursors.insert(next.clone()) {
                        return Err(Failure::error(
                            "tools/list repeats a cursor (its pages never end)",
                        ));
                    }
                    cursor = Some(next.clone());
                }
                Some(_) => return Err(Failure::error("tools/list's nextCursor is not text")),
            }
        }
        Err(Failure::error(format!(
            "tools/list goes on for more than {MAX_PAGES} pages"
        )))
    }

    /// A request with its reply's result.
    async fn call(&mut self, method: &str, params: Value) -> Result<Value, Failure> {
        self.next_id += 1;
        let id = self.next_id;
        let body = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        let mut response = self.post(method, &body).await?;
        if method == "initialize"
            && let Some(session) = response.headers().get(SESSION_HEADER)
        {
            self.session_id = Some(session.clone());
        }
        let content_type = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_ascii_lowercase();
        let reply = if content_type.starts_with("application/json") {
            let bytes = self.read_all(&mut response).await?;
            wire::reply_from_json(&bytes, id, method)?
        } else if content_type.starts_with("text/event-stream") {
            self.read_events(&mut response, id, method).await?
        } else {
            return Err(Failure::error(format!(
                "the server answered {method} with content type {:?}, neither JSON nor an event stream",
                wire::clip(&content_type)
            )));
        };
        wire::result_of(&reply, method)
    }

    /// A notification: any 2xx is taken, whatever its body.
    async fn notify(&mut self, method: &str) -> Result<(), Failure> {
        let body = json!({"jsonrpc": "2.0", "method": method});
        self.post(method, &body).await.map(drop)
    }

    /// POSTs `body`, answering the response when it is a 2xx.
    async fn post(&self, method: &str, body: &Value) -> Result<reqwest::Response, Failure> {
        let mut request = self
            .client
            .http
            .post(self.url.clone())
            .headers(self.headers.clone())
            .header(CONTENT_TYPE, "application/json")
            .header(ACCEPT, "application/json, text/event-stream")
            .json(body);
        if let Some(session) = &self.session_id {
            request = request.header(SESSION_HEADER, session.clone());
        }
        if let Some(protocol) = &self.protocol {
            request = request.header(PROTOCOL_HEADER, protocol.clone());
        }
        let response = request.send().await.map_err(|e| describe(&e, method))?;
        let status = response.status();
        if status.is_redirection() {
            let to = response
                .headers()
                .get(LOCATION)
                .and_then(|v| v.to_str().ok())
                .map(wire::clip)
                .unwrap_or_default();
            return Err(Failure::error(format!(
                "the server answered {method} with HTTP {} redirecting to {to:?}; redirects are not followed",
                status.as_u16()
            )));
        }
        if !status.is_success() {
            return Err(Failure::error(format!(
                "the server answered {method} with HTTP {}",
                status.as_u16()
            )));
        }
        Ok(response)
    }

    /// The whole body, within the budget.
    async fn read_all(&mut self, response: &mut reqwest::Response) -> Result<Vec<u8>, Failure> {
        let mut bytes = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| describe(&e, "reading"))?
        {
            self.budget.take(chunk.len())?;
            bytes.extend_from_slice(&chunk);
        }
        Ok(bytes)
    }

    /// Events until the reply with id `id` arrives, within the budget.
    async fn read_events(
        &mut self,
        response: &mut reqwest::Response,
        id: i64,
        method: &str,
    ) -> Result<Value, Failure> {
        let mut sse = SseReader::default();
        while let Some(chunk) = response.chunk().await.map_err(|e| describe(&e, method))? {
            self.budget.take(chunk.len())?;
            if let Some(reply) = wire::reply_from_events(&sse.feed(&chunk), id, method)? {
                return Ok(reply);
            }
        }
        Err(Failure::error(format!(
            "the server's event stream ended without a reply to {method}"
        )))
    }
}

/// A failed request in words.
pub(super) fn describe(err: &reqwest::Error, method: &str) -> Failure {
    if let Some(refused) = refusal_in(err) {
        return Failure::error(refused);
    }
    let mut root = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(e) = source {
        root = e.to_string();
        source = e.source();
    }
    if err.is_timeout() {
        Failure::unreachable(format!("no complete answer within {} s", TOTAL.as_secs()))
    } else if err.is_connect() {
        Failure::unreachable(format!("connection failed: {}", wire::clip(&root)))
    } else {
        Failure::unreachable(format!("{method} failed: {}", wire::clip(&root)))
    }
}
