//! The client ceiling: the most any token of a client may grant now, whoever registered it.

use sea_orm::ConnectionTrait;
use serde_json::Value;

use super::Scope;
use super::clients::Client;
use crate::Result;
use crate::access::PermissionSet;

/// Stored scope text (a JSON array of permission names, as `allowed_scopes` is kept) as a
/// scope; names the catalog no longer has are ignored.
pub(crate) fn stored_scopes(json: &Value) -> Scope {
    Scope(PermissionSet::from_names(
        json.as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str),
    ))
}

/// How many clients-created-by-clients [`ceiling`] follows before it gives up (and grants
/// nothing): a chain is only as long as clients were registered by each other's tokens.
const CREATOR_CHAIN: usize = 8;

/// The most any token of a client may grant now: its current `allowed` scopes, capped by the
/// current permissions of whoever registered it (`created_by`, as [`crate::audit::Actor`]
/// spells it), so that nobody hands out through a client more than they hold themselves
/// (spec 02, "Nobody grants what they do not hold"):
///
/// - `user:<name>`: within what that user holds now; a user since deleted or deactivated
///   leaves the client nothing to grant.
/// - `client:<id>` (registered with another client's token): within that client's own
///   ceiling, followed up the chain; a creator client deleted or disabled leaves nothing.
/// - `cli`, `system`, or no record: the operator's, not capped. A service client meant to
///   outlive the person who set it up is therefore created with `metadeck client create`.
/// - Anything else: nothing (an unknown creator is not trusted).
///
/// Reads nothing for an operator's client; otherwise one indexed query per link.
pub(super) async fn ceiling(
    db: &impl ConnectionTrait,
    allowed: Scope,
    created_by: Option<&str>,
) -> Result<Scope> {
    let mut ceiling = allowed;
    let mut creator = created_by.map(str::to_owned);
    for _ in 0..CREATOR_CHAIN {
        if ceiling.is_empty() {
            return Ok(ceiling);
        }
        let Some(by) = creator.as_deref() else {
            return Ok(ceiling);
        };
        if by == "cli" || by == "system" {
            return Ok(ceiling);
        }
        if let Some(name) = by.strip_prefix("user:") {
            let held = crate::access::users::identity_by_username(db, name)
                .await?
                .map_or(PermissionSet::EMPTY, |user| user.permissions);
            return Ok(ceiling.intersect(Scope(held)));
        }
        let Some(identifier) = by.strip_prefix("client:") else {
            return Ok(Scope::default());
        };
        match super::clients::find(db, identifier).await? {
            Some(parent) if parent.spec.is_enabled => {
                ceiling = ceiling.intersect(parent.spec.allowed_scopes);
                creator = parent.row.created_by;
            }
            _ => return Ok(Scope::default()),
        }
    }
    Ok(Scope::default())
}

/// The [`ceiling`] of a loaded client.
pub(super) async fn ceiling_of(db: &impl ConnectionTrait, client: &Client) -> Result<Scope> {
    ceiling(
        db,
        client.spec.allowed_scopes,
        client.row.created_by.as_deref(),
    )
    .await
}
