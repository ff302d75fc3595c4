//! What Metadeck checks of an ID token.
//!
//! The ID token arrives in the token endpoint's answer, on a connection Metadeck opened to
//! the configured token URL and authenticated with the client secret; OpenID Connect Core
//! §3.1.3.7 lets a client of the code flow rely on that channel instead of the token's
//! signature, and Metadeck does so (it holds no provider keys). It checks the claims that
//! bind the token to this sign-in: `nonce` equals the one sent, `aud` names this client, and
//! `exp`, when present, has not passed. Its `sub` must equal the userinfo answer's, which is
//! authoritative for the user and its groups.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use serde_json::Value;

use super::Refusal;

/// The claims of an ID token that passed the checks.
#[derive(Debug, Clone)]
pub struct IdClaims {
    pub sub: Option<String>,
}

/// Reads `token` and checks it against this sign-in's `nonce` and `client_id`.
pub fn check(token: &str, nonce: Option<&str>, client_id: &str) -> Result<IdClaims, Refusal> {
    let invalid = |why: &str| Refusal::InvalidIdToken(why.to_string());
    let mut parts = token.split('.');
    let (Some(_header), Some(payload), Some(_signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(invalid("it is not a signed JWT"));
    };
    let bytes = URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|_| invalid("its payload is not base64url"))?;
    let claims: serde_json::Map<String, Value> =
        serde_json::from_slice(&bytes).map_err(|_| invalid("its payload is not a JSON object"))?;
    let sent = nonce.unwrap_or_default();
    let got = claims
        .get("nonce")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if nonce.is_some() && got != sent {
        return Err(Refusal::WrongNonce);
    }
    let for_us = match claims.get("aud") {
        Some(Value::String(aud)) => aud == client_id,
        Some(Value::Array(auds)) => auds.iter().any(|a| a.as_str() == Some(client_id)),
        _ => false,
    };
    if !for_us {
        return Err(invalid("it is not addressed to this client"));
    }
    if let Some(exp) = claims.get("exp").and_then(Value::as_i64)
        && exp <= Utc::now().timestamp()
    {
        return Err(invalid("it has expired"));
    }
    Ok(IdClaims {
        sub: claims
            .get("sub")
            .and_then(Value::as_str)
            .map(str::to_string),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn token(claims: Value) -> String {
        format!(
            "eyJhbGciOiJSUzI1NiJ9.{}.c2ln",
            URL_SAFE_NO_PAD.encode(claims.to_string())
        )
    }

    #[test]
    fn a_token_for_this_sign_in_passes() {
        let t = token(json!({"sub": "u1", "aud": ["other", "metadeck"], "nonce": "n1"}));
        let claims = check(&t, Some("n1"), "metadeck").unwrap();
        assert_eq!(claims.sub.as_deref(), Some("u1"));
    }

    #[test]
    fn a_wrong_or_missing_nonce_is_refused() {
        let wrong = token(json!({"sub": "u1", "aud": "metadeck", "nonce": "n2"}));
        assert_eq!(
            check(&wrong, Some("n1"), "metadeck").unwrap_err(),
            Refusal::WrongNonce
        );
        let missing = token(json!({"sub": "u1", "aud": "metadeck"}));
        assert_eq!(
            check(&missing, Some("n1"), "metadeck").unwrap_err(),
            Refusal::WrongNonce
        );
    }

    #[test]
    fn a_token_for_another_client_or_garbage_is_refused() {
        let other = token(json!({"sub": "u1", "aud": "someone", "nonce": "n1"}));
        assert!(matches!(
            check(&other, Some("n1"), "metadeck"),
            Err(Refusal::InvalidIdToken(_))
        ));
        assert!(matches!(
            check("not-a-jwt", None, "metadeck"),
            Err(Refusal::InvalidIdToken(_))
        ));
    }
}
