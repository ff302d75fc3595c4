//! The calls Metadeck makes to an identity provider: the code exchange at the token endpoint
//! (`client_secret_basic`, RFC 6749 §2.3.1) and the userinfo request.
//!
//! They go through the gateway's one outbound client ([`McpClient`]), so they obey the rules
//! of MCP checks and webhooks: names resolve through the SSRF guard (private destinations only
//! when `METADECK_WEBHOOK_ALLOW_PRIVATE_NETWORKS` allows them), redirects are never followed,
//! each call ends within 10 s, and an answer is read up to the checks' 4 MiB budget.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

use crate::gateway::McpClient;
use crate::gateway::client::describe;
use crate::gateway::wire::Budget;
use crate::webhooks::sender::refused_literal;

/// What the token endpoint answered.
pub struct Tokens {
    pub access_token: SecretString,
    /// The ID token, when the provider sent one.
    pub id_token: Option<String>,
}

impl McpClient {
    /// Exchanges `code` at `token_url`. The error is a sentence for the refusal.
    pub async fn exchange_code(
        &self,
        token_url: &str,
        client_id: &str,
        client_secret: Option<&SecretString>,
        code: &str,
        redirect_uri: &str,
        verifier: &SecretString,
    ) -> std::result::Result<Tokens, String> {
        let url = self.checked(token_url)?;
        let mut form = url::form_urlencoded::Serializer::new(String::new());
        form.append_pair("grant_type", "authorization_code")
            .append_pair("code", code)
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("code_verifier", verifier.expose_secret());
        let mut request = self
            .http
            .post(url)
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(ACCEPT, "application/json");
        match client_secret {
            Some(secret) => {
                // RFC 6749 §2.3.1: both halves are form-encoded before the Basic encoding.
                let pair = format!(
                    "{}:{}",
                    form_encode(client_id),
                    form_encode(secret.expose_secret())
                );
                request = request.header(AUTHORIZATION, format!("Basic {}", STANDARD.encode(pair)));
            }
            // A public client names itself in the body.
            None => {
                form.append_pair("client_id", client_id);
            }
        }
        let answer = self
            .json(request.body(form.finish()), "the token endpoint")
            .await?;
        let access_token = answer
            .get("access_token")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .ok_or("the token endpoint answered no access token")?;
        Ok(Tokens {
            access_token: access_token.to_string().into(),
            id_token: answer
                .get("id_token")
                .and_then(Value::as_str)
                .map(str::to_string),
        })
    }

    /// The userinfo answer for `access_token`: a JSON object.
    pub async fn userinfo(
        &self,
        userinfo_url: &str,
        access_token: &SecretString,
    ) -> std::result::Result<serde_json::Map<String, Value>, String> {
        let url = self.checked(userinfo_url)?;
        let request = self
            .http
            .get(url)
            .header(ACCEPT, "application/json")
            .header(
                AUTHORIZATION,
                format!("Bearer {}", access_token.expose_secret()),
            );
        match self.json(request, "the userinfo endpoint").await? {
            Value::Object(map) => Ok(map),
            _ => Err("the userinfo endpoint answered something other than a JSON object".into()),
        }
    }

    /// A configured URL, refused before any connection when it names a forbidden address.
    fn checked(&self, raw: &str) -> std::result::Result<url::Url, String> {
        let url = url::Url::parse(raw).map_err(|e| format!("its URL cannot be parsed: {e}"))?;
        match refused_literal(&url, self.allow_private) {
            Some(reason) => Err(reason),
            None => Ok(url),
        }
    }

    /// Sends `request` and reads a JSON answer within the checks' budget.
    async fn json(
        &self,
        request: reqwest::RequestBuilder,
        what: &str,
    ) -> std::result::Result<Value, String> {
        let mut response = request
            .send()
            .await
            .map_err(|e| describe(&e, what).reason)?;
        let status = response.status();
        if status.is_redirection() {
            return Err(format!(
                "{what} answered HTTP {}, a redirect, which is not followed",
                status.as_u16()
            ));
        }
        let mut body = Vec::new();
        let mut budget = Budget::default();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| describe(&e, what).reason)?
        {
            budget.take(chunk.len()).map_err(|f| f.reason)?;
            body.extend_from_slice(&chunk);
        }
        let parsed: Option<Value> = serde_json::from_slice(&body).ok();
        if !status.is_success() {
            // An OAuth error answer names its error code; say it, clipped.
            let code = parsed
                .as_ref()
                .and_then(|v| v.get("error"))
                .and_then(Value::as_str)
                .map(clip)
                .unwrap_or_default();
            return Err(format!("{what} answered HTTP {} {code}", status.as_u16())
                .trim_end()
                .to_string());
        }
        parsed.ok_or_else(|| format!("{what} answered something that is not JSON"))
    }
}

fn form_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// At most 100 characters of a provider's text, for a page or an audit row.
pub(super) fn clip(s: &str) -> String {
    s.chars().take(100).collect()
}
