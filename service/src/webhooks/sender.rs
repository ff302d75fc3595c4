//! One HTTP attempt of one delivery: Standard Webhooks headers, the signature(s), the SSRF
//! check on the resolved address, and what the endpoint answered.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use chrono::Utc;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::{Host, Url};

use super::crypto::{WebhookSecret, sign};
use super::ssrf::{refusal_message, refused_at_delivery, refused_range};
use crate::{Error, Result};

/// Longest response excerpt kept in the log.
pub const SNIPPET_BYTES: usize = 1024;

/// Where and how to send: the URL and the secrets that sign (current first, then the one
/// replaced by a rotation less than 24 hours ago).
#[derive(Debug, Clone)]
pub struct Endpoint {
    pub url: String,
    pub secrets: Vec<WebhookSecret>,
}

/// The outcome of one attempt.
#[derive(Debug, Clone, Default)]
pub struct Attempt {
    pub status_code: Option<u16>,
    pub snippet: Option<String>,
    pub error: Option<String>,
}

impl Attempt {
    /// An attempt that got no answer (or was never made).
    pub fn failed(error: impl Into<String>) -> Self {
        Self {
            error: Some(error.into()),
            ..Self::default()
        }
    }

    /// Any 2xx.
    pub fn succeeded(&self) -> bool {
        self.status_code.is_some_and(|s| (200..300).contains(&s))
    }

    /// `410 Gone`: the receiver asks never to be called again.
    pub fn gone(&self) -> bool {
        self.status_code == Some(410)
    }
}

/// A destination the SSRF guard refused after resolution.
#[derive(Debug)]
struct RefusedDestination(String);

impl std::fmt::Display for RefusedDestination {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for RefusedDestination {}

/// Resolves names for the HTTP client and refuses the whole answer if any address in it is
/// refused, so the connection is only ever made to checked addresses. Every outgoing request
/// to an address an admin typed in (webhooks, MCP servers) resolves through it.
pub struct GuardedResolver {
    allow_private: bool,
}

impl GuardedResolver {
    /// A resolver that refuses private destinations unless `allow_private`.
    pub fn new(allow_private: bool) -> Self {
        Self { allow_private }
    }
}

/// The SSRF refusal behind a failed request, if that was its cause.
pub fn refusal_in(err: &reqwest::Error) -> Option<String> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = source {
        if let Some(refused) = e.downcast_ref::<RefusedDestination>() {
            return Some(refused.0.clone());
        }
        source = e.source();
    }
    None
}

/// The refusal of an address written in the URL itself (no resolution happens for it), or
/// of a `localhost` name; `None` when the URL may be connected to as far as its text says.
pub fn refused_literal(url: &Url, allow_private: bool) -> Option<String> {
    if allow_private {
        return None;
    }
    let ip = match url.host()? {
        Host::Ipv4(v4) => IpAddr::V4(v4),
        Host::Ipv6(v6) => IpAddr::V6(v6),
        Host::Domain(name) => {
            return refused_at_delivery(name, &[], false);
        }
    };
    refused_range(ip).map(|range| {
        format!(
            "refused: {} (no connection was made)",
            refusal_message(&ip.to_string(), range)
        )
    })
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        let host = name.as_str().to_string();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if let Some(reason) = refused_at_delivery(&host, &addrs, allow_private) {
                return Err(Box::new(RefusedDestination(reason)) as _);
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// Sends attempts through one pooled HTTP client.
pub struct Sender {
    client: reqwest::Client,
    allow_private: bool,
    timeout: Duration,
}

impl Sender {
    /// A client that never follows redirects, ignores proxy variables (a proxy would hide
    /// the destination from the guard) and times out after `timeout`.
    pub fn new(allow_private: bool, timeout: Duration) -> Result<Self> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .no_proxy()
            .dns_resolver(GuardedResolver::new(allow_private))
            .user_agent(concat!("Metadeck-Webhooks/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| {
                Error::internal(format!("the webhook HTTP client cannot be built: {e}"))
            })?;
        Ok(Self {
            client,
            allow_private,
            timeout,
        })
    }

    /// Makes one attempt. Never fails: every problem is an [`Attempt`] with an error.
    pub async fn send(&self, endpoint: &Endpoint, message_id: &str, body: &[u8]) -> Attempt {
        let url = match Url::parse(&endpoint.url) {
            Ok(url) => url,
            Err(e) => return Attempt::failed(format!("the URL cannot be parsed: {e}")),
        };
        if let Some(reason) = refused_literal(&url, self.allow_private) {
            return Attempt::failed(reason);
        }
        let timestamp = Utc::now().timestamp();
        let signature = endpoint
            .secrets
            .iter()
            .map(|s| sign(s, message_id, timestamp, body))
            .collect::<Vec<_>>()
            .join(" ");
        let sent = self
            .client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("webhook-id", message_id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(body.to_vec())
            .send()
            .await;
        match sent {
            Ok(mut response) => {
                let status = response.status().as_u16();
                let snippet = read_snippet(&mut response).await;
                Attempt {
                    status_code: Some(status),
                    snippet,
                    error: (!(200..300).contains(&status)).then(|| match status {
                        300..=399 => format!("HTTP {status} (redirects are not followed)"),
                        _ => format!("HTTP {status}"),
                    }),
                }
            }
            Err(err) => Attempt::failed(self.describe(&err)),
        }
    }

    /// A failure in words, naming the SSRF refusal when that is the cause.
    fn describe(&self, err: &reqwest::Error) -> String {
        if let Some(refused) = refusal_in(err) {
            return refused;
        }
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
        let mut root = err.to_string();
        while let Some(e) = source {
            root = e.to_string();
            source = e.source();
        }
        if err.is_timeout() {
            format!("timed out after {} s", self.timeout.as_secs())
        } else if err.is_connect() {
            format!("connection failed: {root}")
        } else {
            format!("request failed: {root}")
        }
    }
}

/// The first KiB of the answer's body, as text.
async fn read_snippet(response: &mut reqwest::Response) -> Option<String> {
    let mut bytes = Vec::new();
    while bytes.len() < SNIPPET_BYTES {
        match response.chunk().await {
            Ok(Some(chunk)) => bytes.extend_from_slice(&chunk),
            _ => break,
        }
    }
    if bytes.is_empty() {
        return None;
    }
    bytes.truncate(SNIPPET_BYTES);
    let mut text = String::from_utf8_lossy(&bytes).into_owned();
    while text.len() > SNIPPET_BYTES {
        text.pop();
    }
    Some(text)
}
