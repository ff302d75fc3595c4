//! An identity provider's settings, parsed once at the edge into [`ProviderInput`].

use secrecy::SecretString;

use crate::webhooks::ssrf::WebhookUrl;
use crate::{Error, Result};

/// The claim holding groups when none is named.
pub const DEFAULT_GROUPS_CLAIM: &str = "groups";
/// Most scopes a provider asks for.
const MAX_SCOPES: usize = 50;

/// Validated provider settings (create and replace).
#[derive(Debug, Clone)]
pub struct ProviderInput {
    pub name: String,
    pub display_name: String,
    pub client_id: String,
    /// `None` keeps the stored secret (a new provider then has none).
    pub client_secret: Option<SecretString>,
    pub authorize_url: WebhookUrl,
    pub token_url: WebhookUrl,
    pub userinfo_url: WebhookUrl,
    pub scopes: Vec<String>,
    pub groups_claim: String,
    pub enabled: bool,
}

/// The provider's fields as given (from JSON or a form), before checking.
#[derive(Debug, Clone, Default)]
pub struct ProviderFields<'a> {
    pub name: &'a str,
    pub display_name: &'a str,
    pub client_id: &'a str,
    /// Empty or `None`: keep the stored secret.
    pub client_secret: Option<&'a str>,
    pub authorize_url: &'a str,
    pub token_url: &'a str,
    pub userinfo_url: &'a str,
    pub scopes: Vec<String>,
    /// Empty or `None`: [`DEFAULT_GROUPS_CLAIM`].
    pub groups_claim: Option<&'a str>,
    pub enabled: bool,
}

impl ProviderInput {
    /// Checks every field, reporting every bad one at once under its name.
    pub fn parse(f: ProviderFields<'_>) -> Result<Self> {
        let mut errors = Vec::new();
        let name = keep(slug(f.name), &mut errors);
        let display_name = keep(line(f.display_name, "display_name", 100), &mut errors);
        let client_id = keep(line(f.client_id, "client_id", 255), &mut errors);
        let client_secret = match f.client_secret.filter(|s| !s.is_empty()) {
            Some(s) if s.chars().count() > 1024 || s.chars().any(char::is_control) => {
                errors.push(Error::invalid(
                    "client_secret",
                    "must be at most 1024 characters on one line",
                ));
                None
            }
            Some(s) => Some(SecretString::from(s.to_string())),
            None => None,
        };
        let groups_claim = keep(claim_path(f.groups_claim), &mut errors);
        let scopes = match scopes(&f.scopes) {
            Ok(s) => s,
            Err(e) => {
                errors.push(e);
                Vec::new()
            }
        };
        let urls = [
            WebhookUrl::parse(f.authorize_url, "authorize_url"),
            WebhookUrl::parse(f.token_url, "token_url"),
            WebhookUrl::parse(f.userinfo_url, "userinfo_url"),
        ];
        let mut parsed = Vec::new();
        for url in urls {
            match url {
                Ok(u) => parsed.push(u),
                Err(e) => errors.push(e),
            }
        }
        if let Some(err) = merged(errors) {
            return Err(err);
        }
        let [authorize_url, token_url, userinfo_url]: [WebhookUrl; 3] = parsed
            .try_into()
            .map_err(|_| Error::internal("three URLs were parsed"))?;
        Ok(Self {
            name,
            display_name,
            client_id,
            client_secret,
            authorize_url,
            token_url,
            userinfo_url,
            scopes,
            groups_claim,
            enabled: f.enabled,
        })
    }
}

/// The value of `r`, or an empty text with its error kept in `errors`.
fn keep(r: Result<String>, errors: &mut Vec<Error>) -> String {
    r.unwrap_or_else(|e| {
        errors.push(e);
        String::new()
    })
}

/// One validation error holding every field error of `errors`.
fn merged(errors: Vec<Error>) -> Option<Error> {
    let mut details = Vec::new();
    for err in errors {
        match err {
            Error::Validation(mut fields) => details.append(&mut fields),
            other => return Some(other),
        }
    }
    (!details.is_empty()).then_some(Error::Validation(details))
}

/// A provider name: 1–63 characters of `a-z`, `0-9` and `-`, starting with a letter or
/// digit (it is a path segment of the callback URL).
fn slug(raw: &str) -> Result<String> {
    let name = raw.trim();
    let ok = !name.is_empty()
        && name.len() <= 63
        && name.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if ok {
        Ok(name.to_string())
    } else {
        Err(Error::invalid(
            "name",
            "must be 1 to 63 characters of a-z, 0-9 and -, starting with a letter or digit",
        ))
    }
}

/// A required one-line text of at most `max` characters.
fn line(raw: &str, field: &str, max: usize) -> Result<String> {
    let text = raw.trim();
    if text.is_empty() || text.chars().count() > max || text.chars().any(char::is_control) {
        return Err(Error::invalid(
            field,
            format!("must be 1 to {max} characters on one line"),
        ));
    }
    Ok(text.to_string())
}

/// The groups claim: names joined by dots (`realm_access.roles`), no spaces.
fn claim_path(raw: Option<&str>) -> Result<String> {
    let path = raw.map(str::trim).filter(|s| !s.is_empty());
    let Some(path) = path else {
        return Ok(DEFAULT_GROUPS_CLAIM.to_string());
    };
    let ok = path.len() <= 200
        && path.split('.').all(|segment| {
            !segment.is_empty()
                && segment
                    .chars()
                    .all(|c| !c.is_whitespace() && !c.is_control())
        });
    if ok {
        Ok(path.to_string())
    } else {
        Err(Error::invalid(
            "groups_claim",
            "must be a claim name, or names joined by dots (realm_access.roles), without spaces",
        ))
    }
}

/// The scopes, each an OAuth scope token (printable ASCII but space, `"` and `\`), each once.
fn scopes(raw: &[String]) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for scope in raw {
        let ok = !scope.is_empty()
            && scope.len() <= 200
            && scope
                .bytes()
                .all(|b| b == 0x21 || (0x23..=0x5b).contains(&b) || (0x5d..=0x7e).contains(&b));
        if !ok {
            return Err(Error::invalid(
                "scopes",
                "each scope must be printable ASCII without spaces, quotes or backslashes",
            ));
        }
        if !out.contains(scope) {
            out.push(scope.clone());
        }
    }
    if out.len() > MAX_SCOPES {
        return Err(Error::invalid(
            "scopes",
            format!("at most {MAX_SCOPES} scopes"),
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields() -> ProviderFields<'static> {
        ProviderFields {
            name: "corp-sso",
            display_name: "Corp",
            client_id: "metadeck",
            client_secret: Some("s3cret"),
            authorize_url: "https://id.example.com/authorize",
            token_url: "https://id.example.com/token",
            userinfo_url: "https://id.example.com/userinfo",
            scopes: vec!["openid".into(), "email".into(), "openid".into()],
            groups_claim: None,
            enabled: true,
        }
    }

    #[test]
    fn good_fields_parse_with_defaults() {
        let p = ProviderInput::parse(fields()).unwrap();
        assert_eq!(p.groups_claim, "groups");
        assert_eq!(p.scopes, ["openid", "email"]);
    }

    #[test]
    fn every_bad_field_is_reported() {
        let f = ProviderFields {
            name: "Corp SSO",
            authorize_url: "ftp://x",
            groups_claim: Some("realm access..roles"),
            scopes: vec!["a\"b".into()],
            ..fields()
        };
        let Error::Validation(errs) = ProviderInput::parse(f).unwrap_err() else {
            panic!("a validation error")
        };
        let names: Vec<_> = errs.iter().map(|e| e.field.as_str()).collect();
        for field in ["name", "authorize_url", "groups_claim", "scopes"] {
            assert!(names.contains(&field), "{field} in {names:?}");
        }
    }
}
