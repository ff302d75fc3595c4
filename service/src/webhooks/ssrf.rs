//! The SSRF guard: which URLs a webhook may point at, checked at save and again at every
//! delivery after name resolution.
//!
//! URLs are parsed by the WHATWG rules (the `url` crate), which turn every spelling of an
//! IPv4 address — `127.1`, `2130706433`, `0177.0.0.1`, `0x7f.1` — into its canonical form
//! before the range check, so no spelling slips through. The ranges are in `ranges`; the
//! host's own interface addresses, refused too, in `interfaces`.

mod interfaces;
mod ranges;

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use url::{Host, Url};

use crate::{Error, Result};

/// The setting that lets webhooks reach private destinations.
pub const ALLOW_SETTING: &str = "METADECK_WEBHOOK_ALLOW_PRIVATE_NETWORKS";

/// The name of the range of the host's own interface addresses.
const OWN_INTERFACE: &str = "local interface";
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
///
/// Refused: IANA's special-purpose blocks that are not globally reachable, the IPv6
/// embeddings of a refused IPv4 address (and IPv4-translated ones whatever they carry), and
/// any address of the host's own interfaces.
pub fn refused_range(ip: IpAddr) -> Option<&'static str> {
    let range = match ip {
        IpAddr::V4(v4) => ranges::refused_v4(v4),
        IpAddr::V6(v6) => ranges::refused_v6(v6),
    };
    range.or_else(|| interfaces::is_own(ip).then_some(OWN_INTERFACE))
}

/// `range` with its indefinite article: `a loopback`, `an IPv4-translated`.
fn with_article(range: &str) -> String {
    let vowel = range
        .chars()
        .next()
        .is_some_and(|c| "aeiouAEIOU".contains(c));
    format!("{} {range}", if vowel { "an" } else { "a" })
}

/// The message of a refused destination, naming the setting that would allow it.
pub fn refusal_message(what: &str, range: &str) -> String {
    format!(
        "{what} is {} address, which webhooks may not reach unless {ALLOW_SETTING}=true",
        with_article(range)
    )
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
                    "{name} resolves to {}, {} address, which webhooks may not reach unless {ALLOW_SETTING}=true",
                    addr.ip(),
                    with_article(range)
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
                "refused: {host} resolves to {}, {} address, which webhooks may not reach unless {ALLOW_SETTING}=true (no connection was made)",
                a.ip(),
                with_article(range)
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
    fn every_other_non_global_range_is_refused() {
        for raw in [
            "http://192.0.0.1/",
            "http://192.0.0.170/",
            "http://192.0.2.1/",
            "http://198.51.100.7/",
            "http://203.0.113.9/",
            "http://198.18.0.1/",
            "http://198.19.255.255/",
            "http://240.0.0.1/",
            "http://255.255.255.254/",
            "http://255.255.255.255/",
            "http://[2001:db8::1]/",
            "http://[3fff::1]/",
            "http://[fec0::1]/",
            "http://[feff::1]/",
            "http://[100::1]/",
            "http://[2001:2::1]/",
            "http://[2001:10::1]/",
            "http://[2001:1::4]/",
            "http://[5f00::1]/",
        ] {
            assert!(refused(raw), "{raw} must be refused");
        }
    }

    #[test]
    fn every_ipv6_embedding_of_a_refused_ipv4_address_is_refused() {
        for raw in [
            // IPv4-translated (SIIT): refused whatever it carries.
            "http://[::ffff:0:127.0.0.1]/",
            "http://[::ffff:0:7f00:1]/",
            "http://[::ffff:0:93.184.216.34]/",
            // IPv4-compatible.
            "http://[::127.0.0.1]/",
            "http://[::10.0.0.1]/",
            "http://[::198.18.0.1]/",
            // IPv4-mapped, carrying the new ranges.
            "http://[::ffff:240.0.0.1]/",
            "http://[::ffff:192.0.2.1]/",
            // 6to4.
            "http://[2002:c0a8:1::1]/",
            "http://[2002:c000:0201::]/",
            // NAT64, well-known prefix and local use.
            "http://[64:ff9b::7f00:1]/",
            "http://[64:ff9b::192.0.2.1]/",
            "http://[64:ff9b::a9fe:a9fe]/",
            "http://[64:ff9b:1::1]/",
            "http://[64:ff9b:1::5db8:d822]/",
            // Teredo.
            "http://[2001::1]/",
            "http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/",
        ] {
            assert!(refused(raw), "{raw} must be refused");
        }
    }

    #[test]
    fn each_refusal_names_its_range() {
        for (ip, range) in [
            ("192.0.0.8", "IETF protocol assignment"),
            ("192.0.2.1", "documentation"),
            ("198.18.0.1", "benchmarking"),
            ("240.0.0.1", "reserved"),
            ("255.255.255.255", "broadcast"),
            ("2001:db8::1", "documentation"),
            ("fec0::1", "site-local"),
            ("::ffff:0:127.0.0.1", "IPv4-translated"),
            ("::ffff:0:93.184.216.34", "IPv4-translated"),
            ("64:ff9b:1::1", "local-use NAT64"),
            ("2001::1", "Teredo"),
            ("64:ff9b::7f00:1", "loopback"),
            ("2002:0a00:0001::", "private"),
        ] {
            assert_eq!(refused_range(ip.parse().unwrap()), Some(range), "{ip}");
        }
        assert!(
            refusal_message("::ffff:0:127.0.0.1", "IPv4-translated")
                .starts_with("::ffff:0:127.0.0.1 is an IPv4-translated address")
        );
    }

    #[test]
    fn public_addresses_pass() {
        for raw in [
            "https://93.184.216.34/hook",
            "http://172.32.0.1/",
            "http://100.128.0.1/",
            "http://192.0.1.1/",
            "http://198.20.0.1/",
            "http://203.0.114.1/",
            "https://[2606:4700::1111]/",
            "https://[2001:4860:4860::8888]/",
            "https://[2001:20::1]/",
            "https://[::ffff:93.184.216.34]/",
            "https://[64:ff9b::93.184.216.34]/",
            "https://[2002:5db8:d822::1]/",
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
