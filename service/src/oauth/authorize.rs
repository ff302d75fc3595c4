//! The authorization endpoint (RFC 6749 §4.1 with PKCE, RFC 7636): checking a request,
//! the effective scope shown on the consent page, and the code or refusal it ends in.

use chrono::{Duration, Utc};
use entity::oauth_authorization_codes as codes;
use sea_orm::{ActiveValue::Set, ConnectionTrait, DatabaseConnection, EntityTrait};
use serde_json::json;
use uuid::Uuid;

use super::audit_log::{self, OAuthEvent};
use super::clients::{self, Client};
use super::{OAuthError, Scope, grant_type, redirect, secrets, subjects};
use crate::access::Identity;
use crate::db::begin_write;
use crate::{Error, Result};

/// How long a code lives.
const CODE_TTL_SECONDS: i64 = 300;

/// The parameters of an authorization request, as sent.
#[derive(Debug, Clone, Default, serde::Deserialize, serde::Serialize)]
pub struct AuthorizeParams {
    pub response_type: Option<String>,
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub scope: Option<String>,
    pub state: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
}

/// A request whose client and redirect URI are known good: from here on, problems are
/// reported by redirecting to `redirect_uri`.
#[derive(Debug, Clone)]
pub struct Target {
    pub client: Client,
    pub redirect_uri: String,
    pub state: Option<String>,
}

/// Finds the client and checks the redirect URI. Failures here must never redirect: they are
/// shown on an error page (`OAuthError` with `invalid_request`).
pub async fn target(db: &impl ConnectionTrait, params: &AuthorizeParams) -> Result<Target> {
    let page_error = |text: &str| Error::OAuth(OAuthError::invalid_request(text));
    let client_id = params.client_id.as_deref().unwrap_or_default();
    let Some(client) = clients::find(db, client_id).await? else {
        return Err(page_error(
            "The application asking for access is not registered here.",
        ));
    };
    if !client.spec.is_enabled {
        return Err(page_error("The application asking for access is disabled."));
    }
    let Some(requested) = params.redirect_uri.as_deref().filter(|u| !u.is_empty()) else {
        return Err(page_error("The request names no redirect_uri."));
    };
    if redirect::find(&client.spec.redirect_uris, requested).is_none() {
        return Err(page_error(
            "The redirect_uri of the request is not registered for this application.",
        ));
    }
    Ok(Target {
        redirect_uri: requested.to_owned(),
        state: params.state.clone(),
        client,
    })
}

/// A checked request, ready for the user's decision.
#[derive(Debug, Clone)]
pub struct Request {
    pub target: Target,
    /// The scope asked for, within the client's allowed scopes.
    pub scope: Scope,
    pub code_challenge: Option<String>,
}

/// Checks everything but the client and redirect. A failure is answered by redirecting to
/// the client: the `Err` is that redirect's location.
pub fn check(target: Target, params: &AuthorizeParams) -> std::result::Result<Request, String> {
    let refuse = |target: &Target, e: OAuthError| error_redirect(target, &e);
    use super::error::OAuthErrorCode as C;
    if params.response_type.as_deref() != Some("code") {
        return Err(refuse(
            &target,
            OAuthError::new(
                C::UnsupportedResponseType,
                "only response_type=code is supported",
            ),
        ));
    }
    if !target.client.spec.allows(grant_type::AUTHORIZATION_CODE) {
        return Err(refuse(
            &target,
            OAuthError::unauthorized_client(
                "the client is not allowed the authorization_code grant",
            ),
        ));
    }
    let challenge = params.code_challenge.as_deref().filter(|c| !c.is_empty());
    match (challenge, params.code_challenge_method.as_deref()) {
        (Some(c), Some("S256")) if is_challenge(c) => {}
        (Some(_), Some("S256")) => {
            return Err(refuse(
                &target,
                OAuthError::invalid_request("code_challenge must be 43 base64url characters"),
            ));
        }
        (Some(_), _) => {
            return Err(refuse(
                &target,
                OAuthError::invalid_request("code_challenge_method must be S256"),
            ));
        }
        (None, _) if target.client.spec.require_pkce || !target.client.spec.is_confidential => {
            return Err(refuse(
                &target,
                OAuthError::invalid_request("code_challenge (S256) is required"),
            ));
        }
        (None, _) => {}
    }
    let allowed = target.client.spec.allowed_scopes;
    let scope = match params
        .scope
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => allowed,
        Some(text) => match Scope::parse(text) {
            Ok(s) => s.intersect(allowed),
            Err(e) => return Err(refuse(&target, e)),
        },
    };
    Ok(Request {
        code_challenge: challenge.map(str::to_owned),
        scope,
        target,
    })
}

fn is_challenge(c: &str) -> bool {
    c.len() == 43
        && c.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'))
}

/// What `user` would grant: the request's scope within the user's own permissions.
/// Empty is `invalid_scope`.
pub fn effective_scope(
    request: &Request,
    user: &Identity,
) -> std::result::Result<Scope, OAuthError> {
    let scope = request.scope.intersect(Scope(user.permissions));
    if scope.is_empty() {
        Err(OAuthError::invalid_scope(
            "none of the requested scopes can be granted",
        ))
    } else {
        Ok(scope)
    }
}

/// The user approved: issues a code and returns the redirect carrying it.
pub async fn approve(
    db: &DatabaseConnection,
    request: &Request,
    user: &Identity,
) -> Result<String> {
    let target = &request.target;
    let scope = match effective_scope(request, user) {
        Ok(s) => s,
        Err(e) => return Ok(error_redirect(target, &e)),
    };
    let code = secrets::new_credential("");
    let now = Utc::now().fixed_offset();
    let by = format!("user:{}", user.username);
    let txn = begin_write(db).await?;
    let oauth_user = subjects::ensure(&txn, user).await?;
    let id = Uuid::now_v7();
    codes::Entity::insert(codes::ActiveModel {
        id: Set(id),
        code: Set(secrets::hash(&code)),
        client_id: Set(target.client.row.id),
        user_id: Set(oauth_user),
        redirect_uri: Set(target.redirect_uri.clone()),
        scope: Set(scope.to_text()),
        code_challenge: Set(request.code_challenge.clone()),
        code_challenge_method: Set(request.code_challenge.as_ref().map(|_| "S256".to_owned())),
        expires_at: Set(now + Duration::seconds(CODE_TTL_SECONDS)),
        consumed_at: Set(None),
        created_at: Set(now),
        created_by: Set(Some(by.clone())),
        updated_at: Set(now),
        updated_by: Set(Some(by.clone())),
    })
    .exec_without_returning(&txn)
    .await?;
    let meta = json!({"scope": scope.to_text(), "redirect_uri": target.redirect_uri});
    if !target.client.spec.skip_consent {
        audit_log::log(
            &txn,
            OAuthEvent::new("consent.granted", Some(target.client.row.id), &by)
                .user(Some(oauth_user))
                .metadata(meta.clone()),
        )
        .await?;
    }
    audit_log::log(
        &txn,
        OAuthEvent::new("code.issued", Some(target.client.row.id), &by)
            .user(Some(oauth_user))
            .subject(id.to_string())
            .metadata(meta),
    )
    .await?;
    txn.commit().await?;
    Ok(redirect::with_params(
        &target.redirect_uri,
        &[("code", Some(&code)), ("state", target.state.as_deref())],
    ))
}

/// The user refused: logs it and returns the `access_denied` redirect.
pub async fn deny(db: &DatabaseConnection, request: &Request, user: &Identity) -> Result<String> {
    let target = &request.target;
    let txn = begin_write(db).await?;
    let oauth_user = subjects::ensure(&txn, user).await?;
    audit_log::log(
        &txn,
        OAuthEvent::new(
            "consent.denied",
            Some(target.client.row.id),
            format!("user:{}", user.username),
        )
        .user(Some(oauth_user))
        .metadata(json!({"scope": request.scope.to_text()})),
    )
    .await?;
    txn.commit().await?;
    Ok(error_redirect(
        target,
        &OAuthError::new(
            super::error::OAuthErrorCode::AccessDenied,
            "the user denied the request",
        ),
    ))
}

/// The redirect that reports `error` to the client, with the original `state`.
pub fn error_redirect(target: &Target, error: &OAuthError) -> String {
    redirect::with_params(
        &target.redirect_uri,
        &[
            ("error", Some(error.code.as_str())),
            ("error_description", Some(&error.description)),
            ("state", target.state.as_deref()),
        ],
    )
}
