//! Redirect URIs: what may be registered, how a request's URI matches a registered one
//! (exactly, with RFC 8252 §7.3's any-port rule for loopback IPs), and answers sent to them.

use url::{Host, Url};

/// Checks a URI for registration: absolute, no fragment, no credentials, `https` — or `http`
/// on a loopback host. Returns the problem, phrased for a person.
pub fn validate(uri: &str) -> Result<(), String> {
    let url = Url::parse(uri).map_err(|_| format!("{uri} is not an absolute URI"))?;
    if url.fragment().is_some() {
        return Err(format!("{uri} must not have a fragment"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!("{uri} must not carry credentials"));
    }
    match url.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(&url) => Ok(()),
        "http" => Err(format!(
            "{uri} must use https (http only for loopback addresses)"
        )),
        _ => Err(format!("{uri} must use https or http on loopback")),
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

fn is_loopback_ip(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        _ => false,
    }
}

/// True when `requested` may be used for a client that registered `registered`.
pub fn matches(registered: &str, requested: &str) -> bool {
    if registered == requested {
        return true;
    }
    let (Ok(reg), Ok(req)) = (Url::parse(registered), Url::parse(requested)) else {
        return false;
    };
    // RFC 8252 §7.3: a loopback IP redirect matches on any port, everything else equal.
    reg.scheme() == "http"
        && req.scheme() == "http"
        && is_loopback_ip(&reg)
        && reg.host() == req.host()
        && reg.path() == req.path()
        && reg.query() == req.query()
        && req.fragment().is_none()
        && req.username().is_empty()
        && req.password().is_none()
}

/// `requested` if it matches one of the `registered` URIs.
pub fn find<'a>(registered: &[String], requested: &'a str) -> Option<&'a str> {
    registered
        .iter()
        .any(|r| matches(r, requested))
        .then_some(requested)
}

/// The redirect URI with `params` added to its query.
pub fn with_params(uri: &str, params: &[(&str, Option<&str>)]) -> String {
    let Ok(mut url) = Url::parse(uri) else {
        return uri.to_owned();
    };
    {
        let mut query = url.query_pairs_mut();
        for (name, value) in params {
            if let Some(value) = value {
                query.append_pair(name, value);
            }
        }
    }
    url.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registration_rules() {
        assert!(validate("https://app.example.com/cb").is_ok());
        assert!(validate("http://127.0.0.1/cb").is_ok());
        assert!(validate("http://[::1]:8000/cb").is_ok());
        assert!(validate("http://app.example.com/cb").is_err());
        assert!(validate("https://app.example.com/cb#x").is_err());
        assert!(validate("/cb").is_err());
        assert!(validate("javascript:alert(1)").is_err());
    }

    #[test]
    fn loopback_ips_match_on_any_port_only() {
        assert!(matches("http://127.0.0.1/cb", "http://127.0.0.1:53127/cb"));
        assert!(matches("http://127.0.0.1:8000/cb", "http://127.0.0.1:9/cb"));
        assert!(matches("http://[::1]/cb", "http://[::1]:4000/cb"));
        assert!(!matches("http://127.0.0.1/cb", "http://127.0.0.1:5/other"));
        assert!(!matches("http://localhost/cb", "http://localhost:5/cb"));
        assert!(!matches("https://a.example/cb", "https://a.example/cb/"));
        assert!(!matches("https://a.example/cb", "https://a.example:444/cb"));
    }

    #[test]
    fn params_are_appended() {
        assert_eq!(
            with_params(
                "https://a.example/cb?x=1",
                &[("code", Some("c d")), ("state", None)]
            ),
            "https://a.example/cb?x=1&code=c+d"
        );
    }
}
