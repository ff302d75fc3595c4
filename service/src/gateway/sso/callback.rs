//! The callback of a single sign-on: every check of spec 08 in order, then the linked local
//! user, its roles set to exactly those its groups map to, and the audit row.
//!
//! The flow row is consumed first, before anything else is looked at, so a callback is taken
//! once whatever happens after it; every refusal is audited as `sso.login_refused` with its
//! reason and creates no session.

use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use serde_json::json;

use super::flow::{PendingFlow, state_hash};
use super::upstream::clip;
use super::{Refusal, accounts, claims, id_token};
use crate::access::users;
use crate::audit::{self, Actor, AuditEntry};
use crate::db::begin_write;
use crate::gateway::GatewayConfig;
use crate::gateway::ad_mappings::{self, GroupResolution};
use crate::gateway::providers::{self, Provider};
use crate::{Error, Result};

/// The query of a callback, as it arrived.
#[derive(Debug, Clone, Default)]
pub struct CallbackParams {
    pub code: Option<String>,
    pub state: Option<String>,
    /// The provider's `error`, when it refused the authorization request.
    pub error: Option<String>,
}

/// A completed sign-in.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub user_id: i64,
    pub username: String,
    /// The roles the user now holds, by name.
    pub roles: Vec<String>,
    /// Where to go (the flow's local path).
    pub next: String,
}

/// What a callback leads to.
#[derive(Debug, Clone)]
pub enum Outcome {
    SignedIn(SignedIn),
    Refused(Refusal),
}

/// Decides the callback of provider `name` for the browser's `flow`; `redirect_uri` is the
/// callback URL the flow was started with. Refusals are answered (and audited), not errors;
/// an error is a fault of Metadeck's own (its database).
#[tracing::instrument(name = "gateway.sso.finish", skip_all)]
pub async fn finish(
    db: &DatabaseConnection,
    config: &GatewayConfig,
    name: &str,
    flow: Option<PendingFlow>,
    params: CallbackParams,
    redirect_uri: &str,
    ip: Option<String>,
) -> Result<Outcome> {
    match decide(db, config, name, flow, params, redirect_uri).await? {
        Ok((provider, identity, resolution, next)) => {
            accounts::link_and_sign_in(db, &provider, identity, resolution, next, ip).await
        }
        Err((refusal, sub)) => {
            record_refusal(db, name, &refusal, sub, ip).await?;
            Ok(Outcome::Refused(refusal))
        }
    }
}

/// Who the provider vouched for.
pub(super) struct Vouched {
    pub(super) sub: String,
    pub(super) groups: Vec<String>,
    pub(super) username: String,
    pub(super) email: Option<String>,
}

type Decision =
    std::result::Result<(Provider, Vouched, GroupResolution, String), (Refusal, Option<String>)>;

async fn decide(
    db: &DatabaseConnection,
    config: &GatewayConfig,
    name: &str,
    flow: Option<PendingFlow>,
    params: CallbackParams,
    redirect_uri: &str,
) -> Result<Decision> {
    let refuse = |r: Refusal| Ok(Err((r, None)));
    // The state must be the one this browser's flow sent, for this provider.
    let Some(flow) = flow.filter(|f| f.provider == name) else {
        return refuse(Refusal::WrongState);
    };
    if params.state.as_deref() != Some(flow.state.as_str()) {
        return refuse(Refusal::WrongState);
    }
    // Taken once: the row goes now, whatever follows.
    let txn = begin_write(db).await?;
    let consumed = entity::sso_flows::Entity::delete_many()
        .filter(entity::sso_flows::Column::StateHash.eq(state_hash(&flow.state)))
        .exec(&txn)
        .await?
        .rows_affected;
    txn.commit().await?;
    if consumed == 0 || flow.expired() {
        return refuse(Refusal::Replayed);
    }
    let provider = match providers::get_by_name(db, name).await {
        Ok(p) if p.enabled => p,
        Ok(_) | Err(Error::NotFound(_)) => return refuse(Refusal::ProviderUnavailable),
        Err(e) => return Err(e),
    };
    if let Some(error) = params.error {
        return refuse(Refusal::ProviderError(clip(&error)));
    }
    let Some(code) = params.code.filter(|c| !c.is_empty()) else {
        return refuse(Refusal::ProviderError(
            "no authorization code came back".into(),
        ));
    };
    let secret = provider.client_secret(config)?;
    let tokens = match config
        .client
        .exchange_code(
            &provider.token_url,
            &provider.client_id,
            secret.as_ref(),
            &code,
            redirect_uri,
            &flow.verifier,
        )
        .await
    {
        Ok(t) => t,
        Err(why) => return refuse(Refusal::TokenExchange(why)),
    };
    let id_claims = match tokens.id_token.as_deref() {
        Some(token) => match id_token::check(token, flow.nonce.as_deref(), &provider.client_id) {
            Ok(c) => Some(c),
            Err(r) => return refuse(r),
        },
        None => None,
    };
    let userinfo = match config
        .client
        .userinfo(&provider.userinfo_url, &tokens.access_token)
        .await
    {
        Ok(u) => u,
        Err(why) => return refuse(Refusal::Userinfo(why)),
    };
    let Some(sub) = userinfo
        .get("sub")
        .and_then(serde_json::Value::as_str)
        .filter(|s| !s.is_empty() && s.len() <= 255)
        .map(str::to_string)
    else {
        return refuse(Refusal::Userinfo("it names no subject (sub)".into()));
    };
    if let Some(id_sub) = id_claims.and_then(|c| c.sub)
        && id_sub != sub
    {
        return Ok(Err((Refusal::SubjectMismatch, Some(sub))));
    }
    let groups = claims::groups_at(&userinfo, &provider.groups_claim);
    let resolution = ad_mappings::resolve(db, &groups).await?;
    if resolution.roles.is_empty() {
        return Ok(Err((Refusal::Unmapped { groups }, Some(sub))));
    }
    let vouched = Vouched {
        username: claims::base_username(&userinfo, &sub),
        email: userinfo
            .get("email")
            .and_then(serde_json::Value::as_str)
            .and_then(|e| users::parse_email(Some(e)).ok().flatten()),
        sub,
        groups,
    };
    Ok(Ok((provider, vouched, resolution, flow.next)))
}

/// The audit row of a refusal.
pub(super) async fn record_refusal(
    db: &DatabaseConnection,
    provider: &str,
    refusal: &Refusal,
    sub: Option<String>,
    ip: Option<String>,
) -> Result<()> {
    tracing::info!(reason = refusal.code(), "single sign-on refused");
    let mut details = json!({
        "provider": provider,
        "reason": refusal.code(),
        "message": refusal.message(),
    });
    if let Some(sub) = sub {
        details["sub"] = json!(sub);
    }
    if let Refusal::Unmapped { groups } = refusal {
        details["groups"] = json!(groups);
    }
    let txn = begin_write(db).await?;
    audit::commit_audited(
        txn,
        AuditEntry::new("sso.login_refused", &Actor::System)
            .target(clip(provider))
            .ip(ip)
            .details(details),
        &[],
    )
    .await
}
