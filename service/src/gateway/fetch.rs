//! A plain `GET` through the checks' one HTTP client, under the same bounds as an MCP check
//! (at most 10 s, no redirects followed, at most 4 MiB read, the SSRF guard): what the
//! identity provider "test" action uses to read a discovery document or see a URL answer.

use reqwest::header::{ACCEPT, LOCATION};
use tokio::time::timeout;

use super::McpClient;
use super::client::{TOTAL, describe};
use super::wire::{self, Budget, Failure};
use crate::webhooks::sender::refused_literal;

/// What a `GET` brought back.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// The HTTP status.
    pub status: u16,
    /// Where a redirect pointed (not followed).
    pub location: Option<String>,
    /// The body of a `2xx` answer (other answers' bodies are not read).
    pub body: Vec<u8>,
}

impl McpClient {
    /// `GET url` asking for JSON; any HTTP answer is a [`Fetched`], a refused destination,
    /// a failed connection, a body over the budget or the time running out a [`Failure`].
    pub async fn get(&self, url: &str) -> Result<Fetched, Failure> {
        let url = url::Url::parse(url)
            .map_err(|e| Failure::error(format!("the URL cannot be parsed: {e}")))?;
        if let Some(reason) = refused_literal(&url, self.allow_private) {
            return Err(Failure::error(reason));
        }
        match timeout(TOTAL, self.get_within(url)).await {
            Ok(answer) => answer,
            Err(_) => Err(Failure::unreachable(format!(
                "no complete answer within {} s",
                TOTAL.as_secs()
            ))),
        }
    }

    async fn get_within(&self, url: url::Url) -> Result<Fetched, Failure> {
        let mut response = self
            .http
            .get(url)
            .header(ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| describe(&e, "GET"))?;
        let status = response.status();
        let location = response
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(wire::clip);
        let mut body = Vec::new();
        if status.is_success() {
            let mut budget = Budget::default();
            while let Some(chunk) = response
                .chunk()
                .await
                .map_err(|e| describe(&e, "reading"))?
            {
                budget.take(chunk.len())?;
                body.extend_from_slice(&chunk);
            }
        }
        Ok(Fetched {
            status: status.as_u16(),
            location,
            body,
        })
    }
}
