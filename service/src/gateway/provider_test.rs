//! The "test" action of an identity provider: does what is configured match what the
//! provider says of itself?
//!
//! When the three URLs share an origin, the provider's issuer is looked for at each path
//! prefix they share, longest first (`/realms/x/protocol/openid-connect`, then
//! `/realms/x/protocol`, `/realms/x`, …, the origin), by reading
//! `<issuer>/.well-known/openid-configuration`; a document found there is compared endpoint
//! by endpoint with the configured URLs. Otherwise each URL is asked whether it answers at
//! all (any HTTP status counts: a token endpoint answers a `GET` with `400` or `405`).
//! Every request goes through the checks' client: 10 s, no redirects, 4 MiB, the SSRF rule.

use sea_orm::ConnectionTrait;
use serde::Serialize;
use serde_json::Value;
use url::Url;

use super::GatewayConfig;
use super::providers::{Provider, get};
use crate::Result;

/// Most issuer candidates tried (path depth is rarely beyond this).
const MAX_CANDIDATES: usize = 6;

/// What the test found about one configured URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct UrlFinding {
    /// `authorize_url`, `token_url` or `userinfo_url`.
    pub field: String,
    pub configured: String,
    /// The discovery document's endpoint for this field, when one was read.
    pub discovered: Option<String>,
    pub ok: bool,
    /// What was found, for a person.
    pub outcome: String,
}

/// The outcome of a provider test.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ProviderTest {
    /// True when every URL matched the discovery document, or answered.
    pub ok: bool,
    /// `discovery` (a document was read and compared) or `reachability` (each URL asked).
    pub method: String,
    /// The discovery document's address, when one was read.
    pub discovery_url: Option<String>,
    /// The issuer the document names.
    pub issuer: Option<String>,
    pub urls: Vec<UrlFinding>,
    /// Discovery addresses tried without finding a document, and why.
    pub notes: Vec<String>,
}

/// Tests the provider `id`.
#[tracing::instrument(name = "gateway.providers.test", skip_all)]
pub async fn test(
    db: &impl ConnectionTrait,
    config: &GatewayConfig,
    id: &str,
) -> Result<ProviderTest> {
    let provider = get(db, id).await?;
    Ok(run(config, &provider).await)
}

fn configured(p: &Provider) -> [(&'static str, &str, &'static str); 3] {
    [
        (
            "authorize_url",
            p.authorize_url.as_str(),
            "authorization_endpoint",
        ),
        ("token_url", p.token_url.as_str(), "token_endpoint"),
        ("userinfo_url", p.userinfo_url.as_str(), "userinfo_endpoint"),
    ]
}

async fn run(config: &GatewayConfig, p: &Provider) -> ProviderTest {
    let mut notes = Vec::new();
    for candidate in issuer_candidates(p) {
        let discovery = format!(
            "{}/.well-known/openid-configuration",
            candidate.trim_end_matches('/')
        );
        match config.client.get(&discovery).await {
            Ok(f) if f.status == 200 => match serde_json::from_slice::<Value>(&f.body) {
                Ok(doc) if doc.is_object() => return compared(p, discovery, &doc, notes),
                _ => notes.push(format!("{discovery}: the answer is not a JSON object")),
            },
            Ok(f) => notes.push(format!("{discovery}: HTTP {}", f.status)),
            Err(e) => notes.push(format!("{discovery}: {}", e.reason)),
        }
    }
    let mut urls = Vec::new();
    for (field, url, _) in configured(p) {
        let (ok, outcome) = match config.client.get(url).await {
            Ok(f) => (
                true,
                match f.location {
                    Some(to) if (300..400).contains(&f.status) => format!(
                        "answered HTTP {} redirecting to {to} (not followed)",
                        f.status
                    ),
                    _ => format!("answered HTTP {}", f.status),
                },
            ),
            Err(e) => (false, e.reason),
        };
        urls.push(UrlFinding {
            field: field.into(),
            configured: url.into(),
            discovered: None,
            ok,
            outcome,
        });
    }
    ProviderTest {
        ok: urls.iter().all(|u| u.ok),
        method: "reachability".into(),
        discovery_url: None,
        issuer: None,
        urls,
        notes,
    }
}

/// The configured URLs compared with the discovery document `doc` read at `discovery`.
fn compared(p: &Provider, discovery: String, doc: &Value, notes: Vec<String>) -> ProviderTest {
    let urls: Vec<UrlFinding> = configured(p)
        .into_iter()
        .map(|(field, url, key)| {
            let discovered = doc.get(key).and_then(Value::as_str).map(str::to_string);
            let (ok, outcome) = match &discovered {
                Some(d) if same_url(d, url) => (true, format!("matches the document's {key}")),
                Some(d) => (false, format!("differs from the document's {key} ({d})")),
                None => (false, format!("the document names no {key}")),
            };
            UrlFinding {
                field: field.into(),
                configured: url.into(),
                discovered,
                ok,
                outcome,
            }
        })
        .collect();
    ProviderTest {
        ok: urls.iter().all(|u| u.ok),
        method: "discovery".into(),
        discovery_url: Some(discovery),
        issuer: doc
            .get("issuer")
            .and_then(Value::as_str)
            .map(str::to_string),
        urls,
        notes,
    }
}

fn same_url(a: &str, b: &str) -> bool {
    match (Url::parse(a), Url::parse(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// The issuers the URLs may share, longest first; none when their origins differ.
fn issuer_candidates(p: &Provider) -> Vec<String> {
    let parsed: Vec<Url> = configured(p)
        .iter()
        .filter_map(|(_, u, _)| Url::parse(u).ok())
        .collect();
    let Some(first) = parsed.first() else {
        return Vec::new();
    };
    if parsed.len() != 3 || parsed.iter().any(|u| u.origin() != first.origin()) {
        return Vec::new();
    }
    let segments: Vec<Vec<&str>> = parsed
        .iter()
        .map(|u| u.path().split('/').filter(|s| !s.is_empty()).collect())
        .collect();
    let mut shared = 0;
    while segments
        .iter()
        .all(|s| s.len() > shared + 1 && s[shared] == segments[0][shared])
    {
        shared += 1;
    }
    let origin = first.origin().ascii_serialization();
    (0..=shared)
        .rev()
        .take(MAX_CANDIDATES)
        .map(|n| {
            let path = segments[0][..n].join("/");
            if path.is_empty() {
                origin.clone()
            } else {
                format!("{origin}/{path}")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn provider(a: &str, t: &str, u: &str) -> Provider {
        let now = chrono::Utc::now();
        Provider {
            id: uuid::Uuid::now_v7(),
            name: "p".into(),
            display_name: "P".into(),
            client_id: "c".into(),
            has_client_secret: false,
            authorize_url: a.into(),
            token_url: t.into(),
            userinfo_url: u.into(),
            scopes: vec![],
            groups_claim: "groups".into(),
            enabled: true,
            created_at: now,
            updated_at: now,
            sealed_secret: None,
        }
    }

    #[test]
    fn issuers_are_the_shared_path_prefixes_longest_first() {
        let kc = "https://id.example.com/realms/x/protocol/openid-connect";
        let p = provider(
            &format!("{kc}/auth"),
            &format!("{kc}/token"),
            &format!("{kc}/userinfo"),
        );
        assert_eq!(
            issuer_candidates(&p),
            [
                kc.to_string(),
                "https://id.example.com/realms/x/protocol".into(),
                "https://id.example.com/realms/x".into(),
                "https://id.example.com/realms".into(),
                "https://id.example.com".into(),
            ]
        );
    }

    #[test]
    fn urls_on_different_origins_share_no_issuer() {
        let p = provider(
            "https://a.example.com/authorize",
            "https://b.example.com/token",
            "https://a.example.com/userinfo",
        );
        assert!(issuer_candidates(&p).is_empty());
    }
}
