//! The SSRF guard: which URLs a webhook may point at, checked at save and again at every
//! delivery after name resolution.
//!
//! URLs are parsed by the WHATWG rules (the `url` crate), which turn every spelling of an
//! IPv4 address — `127.1`, `2130706433`, `0177.0.0.1`, `0x7f.1` — into its canonical form
//! before the range check, so no spelling slips through.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use url::{Host, Url};

use crate::{Error, Result};

/// The setting that lets webhooks reach private destinations.
pub const ALLOW_SETTING: &str = "METADECK_WEBHOOK_ALLOW_PRIVATE_NETWORKS";

/// Longest URL accepted.
const MAX_URL_LEN: usize = 2048;
/// How long a save waits for a name to resolve before accepting it unresolved.
const SAVE_RESOLVE_TIMEOUT: Duration = Duration::from_secs(3);

/// A webhook URL that passed the syntactic checks: `http` or `https`, a host, no credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookUrl(Url);

impl WebhookUrl {
    /// Parses and checks the form of a URL (not yet its destination).
    pub fn parse(raw: &str, field: &str) -> Result<Self> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err(Error::invalid(field, "is required"));
        }
        if raw.len() > MAX_URL_LEN {
            return Err(Error::invalid(
                field,
                format!("must be at most {MAX_URL_LEN} characters"),
            ));
        }
        let url =
            Url::parse(raw).map_err(|e| Error::invalid(field, format!("is not a URL: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Error::invalid(field, "must be an http or https URL"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(Error::invalid(
                field,
                "must not carry a user name or password",
            ));
        }
        if url.host().is_none() {
            return Err(Error::invalid(field, "must name a host"));
        }
        Ok(Self(url))
    }

    /// The normalised URL text.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The parsed URL.
    pub fn url(&self) -> &Url {
        &self.0
    }
}

/// Why a destination address is refused, e.g. `loopback`; `None` when it may be reached.
pub fn refused_range(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => refused_v4(v4),
        IpAddr::V6(v6) => refused_v6(v6),
    }
}

fn refused_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, ..] = ip.octets();
    if a == 127 {
        Some("loopback")
    } else if a == 0 {
        Some("unspecified")
    } else if a == 10 || (a == 172 && (16..=31).contains(&b)) || (a == 192 && b == 168) {
        Some("private")
    } else if a == 169 && b == 254 {
        Some("link-local")
    } else if a == 100 && (64..=127).contains(&b) {
        Some("shared")
    } else if (224..=239).contains(&a) {
        Some("multicast")
    } else if ip.is_broadcast() {
        Some("broadcast")
    } else {
        None
    }
}

fn refused_v6(ip: Ipv6Addr) -> Option<&'static str> {
    if ip.is_loopback() {
        return Some("loopback");
    }
    if ip.is_unspecified() {
        return Some("unspecified");
    }
    // IPv4-mapped (::ffff:a.b.c.d) and IPv4-compatible (::a.b.c.d) addresses reach the IPv4
    // address inside them; so do 6to4 (2002:AABB:CCDD::) and NAT64 (64:ff9b::a.b.c.d).
    if let Some(v4) = ip.to_ipv4() {
        return refused_v4(v4);
    }
    let s = ip.segments();
    if s[0] == 0x2002 {
        let v4 = Ipv4Addr::new((s[1] >> 8) as u8, s[1] as u8, (s[2] >> 8) as u8, s[2] as u8);
        return refused_v4(v4);
    }
    if s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] {
        let v4 = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
        return refused_v4(v4);
    }
    if s[0] & 0xfe00 == 0xfc00 {
        Some("private")
    } else if s[0] & 0xffc0 == 0xfe80 {
        Some("link-local")
    } else if s[0] & 0xff00 == 0xff00 {
        Some("multicast")
    } else {
        None
    }
}

/// The message of a refused destination, naming the setting that would allow it.
pub fn refusal_message(what: &str, range: &str) -> String {
    format!("{what} is a {range} address, which webhooks may not reach unless {ALLOW_SETTING}=true")
}

/// True for `localhost` and names under `.localhost` (RFC 6761: always loopback).
fn is_localhost(name: &str) -> bool {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    name == "localhost" || name.ends_with(".localhost")
}

/// The host of a URL as an address when it is one.
fn literal_ip(url: &Url) -> Option<IpAddr> {
    match url.host()? {
        Host::Ipv4(v4) => Some(IpAddr::V4(v4)),
        Host::Ipv6(v6) => Some(IpAddr::V6(v6)),
        Host::Domain(_) => None,
    }
}

/// Checks where a URL leads, at save: a literal address or a name resolving to a refused
/// address is a validation error on `field`; a name that does not resolve (yet) passes.
pub async fn check_destination(url: &WebhookUrl, allow_private: bool, field: &str) -> Result<()> {
    if allow_private {
        return Ok(());
    }
    let parsed = url.url();
    if let Some(ip) = literal_ip(parsed) {
        return match refused_range(ip) {
            Some(range) => Err(Error::invalid(
                field,
                refusal_message(&ip.to_string(), range),
            )),
            None => Ok(()),
        };
    }
    let Some(Host::Domain(name)) = parsed.host() else {
        return Ok(());
    };
    if is_localhost(name) {
        return Err(Error::invalid(field, refusal_message(name, "loopback")));
    }
    let port = parsed.port_or_known_default().unwrap_or(443);
    let lookup = tokio::net::lookup_host((name, port));
    let Ok(Ok(addrs)) = tokio::time::timeout(SAVE_RESOLVE_TIMEOUT, lookup).await else {
        return Ok(());
    };
    for addr in addrs {
        if let Some(range) = refused_range(addr.ip()) {
            return Err(Error::invalid(
                field,
                format!(
                    "{name} resolves to {}, a {range} address, which webhooks may not reach unless {ALLOW_SETTING}=true",
                    addr.ip()
                ),
            ));
        }
    }
    Ok(())
}

/// The reason a resolved destination may not be connected to, for a delivery's `last_error`.
pub fn refused_at_delivery(
    host: &str,
    addrs: &[SocketAddr],
    allow_private: bool,
) -> Option<String> {
    if allow_private {
        return None;
    }
    if is_localhost(host) {
        return Some(format!("refused: {}", refusal_message(host, "loopback")));
    }
    addrs.iter().find_map(|a| {
        refused_range(a.ip()).map(|range| {
            format!(
                "refused: {host} resolves to {}, a {range} address, which webhooks may not reach unless {ALLOW_SETTING}=true (no connection was made)",
                a.ip()
            )
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(raw: &str) -> bool {
        let url = WebhookUrl::parse(raw, "url").unwrap();
        literal_ip(url.url()).and_then(refused_range).is_some()
            || matches!(url.url().host(), Some(Host::Domain(d)) if is_localhost(d))
    }

    #[test]
    fn every_spelling_of_loopback_is_refused() {
        for raw in [
            "http://127.0.0.1/",
            "http://127.1/",
            "http://2130706433/",
            "http://0177.0.0.1/",
            "http://0x7f.0.0.1/",
            "http://127.255.255.254:8080/x",
            "http://[::1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://[::ffff:7f00:1]/",
            "http://[0:0:0:0:0:0:0:1]/",
            "http://localhost/",
            "http://LOCALHOST./",
            "http://api.localhost/",
            "http://[2002:7f00:1::]/",
        ] {
            assert!(refused(raw), "{raw} must be refused");
        }
    }

    #[test]
    fn private_link_local_shared_multicast_and_unspecified_are_refused() {
        for raw in [
            "http://10.1.2.3/",
            "http://172.16.0.1/",
            "http://172.31.255.255/",
            "http://192.168.1.1/",
            "http://169.254.169.254/latest/meta-data",
            "http://100.64.0.1/",
            "http://224.0.0.1/",
            "http://0.0.0.0/",
            "http://0/",
            "http://[::]/",
            "http://[fc00::1]/",
            "http://[fd12:3456::1]/",
            "http://[fe80::1]/",
            "http://[ff02::1]/",
            "http://[::ffff:10.0.0.1]/",
            "http://[::ffff:169.254.169.254]/",
        ] {
            assert!(refused(raw), "{raw} must be refused");
        }
    }

    #[test]
    fn public_addresses_pass() {
        for raw in [
            "https://93.184.216.34/hook",
            "http://172.32.0.1/",
            "http://100.128.0.1/",
            "https://[2606:4700::1111]/",
            "https://hooks.example.com/x",
        ] {
            assert!(!refused(raw), "{raw} must pass");
        }
    }

    #[test]
    fn the_url_form_is_checked() {
        for raw in [
            "ftp://example.com/",
            "http://user:pw@example.com/",
            "http://user@example.com/",
            "not a url",
            "",
            "file:///etc/passwd",
        ] {
            assert!(WebhookUrl::parse(raw, "url").is_err(), "{raw}");
        }
    }

    #[test]
    fn the_message_names_the_setting() {
        let msg = refusal_message("127.0.0.1", "loopback");
        assert!(msg.contains(ALLOW_SETTING));
    }
}
