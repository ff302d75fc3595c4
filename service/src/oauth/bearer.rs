//! Bearer tokens at work: authenticating API calls and revocation (RFC 7009); introspection
//! (RFC 7662) is in `introspection`, the client ceiling in `ceiling`.
//!
//! A token is worth at each use what its client is allowed *now* (spec 06): the scope a
//! request gets is the token's stored scope within its client's [`ceiling`] (the client's
//! current allowed scopes, capped by whoever created the client) and, for a user's token,
//! within what that user holds now.

use chrono::Utc;
use entity::{oauth_access_tokens as access, oauth_refresh_tokens as refresh};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use serde_json::json;
use uuid::Uuid;

use super::audit_log::{self, OAuthEvent};
use super::ceiling::ceiling;
use super::clients::Client;
pub use super::introspection::{Introspection, introspect};
use super::tokens;
use super::{Scope, secrets, subjects, token_cache};
use crate::Result;
use crate::access::{Identity, identity};
pub(crate) use crate::db::hot::access_token::TokenRow;
use crate::db::hot::access_token::access_token;
use crate::db::{Handle, begin_write};

/// What a valid access token grants.
#[derive(Debug, Clone)]
pub struct BearerGrant {
    /// The token's row id.
    pub token_id: Uuid,
    /// The client's public identifier.
    pub client_id: String,
    /// The user a delegated token acts for (still active, with current permissions).
    pub user: Option<Identity>,
    /// What the token grants on this request: its scope within its client's current
    /// [`ceiling`] and, for a user token, within what the user holds today.
    pub scope: Scope,
    /// When the token was issued (Unix seconds).
    pub issued_at: i64,
    /// When the token expires (Unix seconds).
    pub expires_at: i64,
}

impl TokenRow {
    /// Neither revoked nor of a disabled client (expiry is checked at each use).
    fn is_usable(&self) -> bool {
        !self.revoked && self.client_enabled
    }
}

/// A usable token as [`token_cache`] keeps it: its row, and the most its client lets it
/// grant, resolved when the row was read (so a cache hit costs no query at all).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct CheckedToken {
    pub row: TokenRow,
    /// The client's [`ceiling`] when the row was read.
    pub ceiling: Scope,
}

/// The grant of a currently valid access token: one indexed query on the token's hash (plus,
/// on a cache miss, the creator's permissions for a client a user registered, and the user's
/// identity for delegated tokens), on SQLite read on the calling thread when it can be
/// ([`access_token`]), and not repeated for a token found valid within the last second
/// ([`super::token_cache`]). Unknown, expired, revoked tokens, tokens of a disabled client and
/// tokens of an inactive user are `None`; a token its client may no longer grant anything is
/// valid with an empty scope (every route then answers `403 insufficient_scope`).
pub async fn authenticate(db: &impl Handle, token: &str) -> Result<Option<BearerGrant>> {
    let hash = secrets::hash(token);
    // The cache answers and learns through the pool only: inside a transaction the answer
    // must see that transaction's writes, which no other request may be answered from.
    let through_pool = db.pool().is_some();
    let cached = through_pool.then(|| token_cache::get(&hash)).flatten();
    let checked = match cached {
        Some(checked) => checked,
        None => {
            // Taken before anything is read: a change committed while the row and the
            // creator are read bumps it, and the answer is then used once but not kept.
            let epoch = token_cache::epoch();
            let row = access_token(db, &hash).await?;
            let Some(row) = row.filter(TokenRow::is_usable) else {
                return Ok(None);
            };
            let ceiling = ceiling(db, row.client_scopes, row.client_created_by.as_deref()).await?;
            let checked = CheckedToken { row, ceiling };
            if through_pool {
                token_cache::keep(&hash, checked.clone(), epoch);
            }
            checked
        }
    };
    let CheckedToken { row, ceiling } = checked;
    if row.expires_at <= Utc::now() {
        return Ok(None);
    }
    let mut scope = Scope::from_stored(&row.scope).intersect(ceiling);
    let user = match row.external_user {
        None => None,
        Some(external) => {
            let user = match subjects::local_user_id(&external) {
                Some(uid) => identity(db, uid).await?,
                None => None,
            };
            let Some(user) = user else {
                return Ok(None);
            };
            scope = scope.intersect(Scope(user.permissions));
            Some(user)
        }
    };
    Ok(Some(BearerGrant {
        token_id: row.id,
        client_id: row.client_id,
        user,
        scope,
        issued_at: row.created_at.timestamp(),
        expires_at: row.expires_at.timestamp(),
    }))
}

/// Revokes `token` if it belongs to `client` (RFC 7009: unknown tokens are not an error).
/// A refresh token takes the access tokens issued from it along.
pub async fn revoke(db: &DatabaseConnection, client: &Client, token: &str) -> Result<()> {
    let hash = secrets::hash(token);
    let txn = begin_write(db).await?;
    let by = format!("client:{}", client.row.client_identifier);
    let mut revoked = None;
    if let Some(row) = refresh::Entity::find()
        .filter(refresh::Column::Token.eq(&hash))
        .filter(refresh::Column::ClientId.eq(client.row.id))
        .one(&txn)
        .await?
    {
        tokens::revoke_refresh(&txn, row.id).await?;
        revoked = Some((row.id, "refresh"));
    } else if let Some(row) = access::Entity::find()
        .filter(access::Column::Token.eq(&hash))
        .filter(access::Column::ClientId.eq(client.row.id))
        .one(&txn)
        .await?
    {
        tokens::revoke_access(&txn, &[row.id]).await?;
        revoked = Some((row.id, "access"));
    }
    if let Some((id, kind)) = revoked {
        audit_log::log(
            &txn,
            OAuthEvent::new("token.revoked", Some(client.row.id), &by)
                .subject(id.to_string())
                .metadata(json!({"kind": kind})),
        )
        .await?;
    }
    txn.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::PermissionSet;
    use crate::access::users::{self, NewUser};
    use crate::access::{BuiltinRole, Grantor, Username};
    use crate::audit::Actor;
    use crate::db::migrated_file_database;
    use crate::oauth::ceiling::ceiling_of;
    use crate::oauth::clients::{self, ClientInput, ClientSpec};

    fn scope(text: &str) -> Scope {
        Scope::from_stored(text)
    }

    /// Registers a client allowed `scopes` as `actor` (holding everything, as a client
    /// registered before the no-escalation rule could); returns its public identifier.
    async fn client_by(db: &DatabaseConnection, actor: Actor, scopes: &str) -> String {
        let spec = ClientSpec::new_from(ClientInput {
            name: Some("c".into()),
            allowed_scopes: Some(scopes.split(' ').map(str::to_owned).collect()),
            ..Default::default()
        })
        .unwrap();
        let grantor = Grantor::new(actor, PermissionSet::all());
        clients::create(db, &grantor, None, spec)
            .await
            .unwrap()
            .client
            .client_id
    }

    #[tokio::test]
    async fn a_clients_ceiling_is_its_allowed_scopes_within_what_its_creator_holds_now() {
        let (_dir, _path, db) = migrated_file_database().await;
        crate::access::roles::ensure_builtin(&db).await.unwrap();
        let viewer = NewUser {
            username: Username::parse("vera").unwrap(),
            email: None,
            password: None,
            roles: vec![BuiltinRole::Viewer.name().into()],
        };
        users::create(&db, &Grantor::operator(Actor::Cli), None, viewer)
            .await
            .unwrap();
        let wide = scope("registry:read sync:read users:read users:write");
        let at = |by: &'static str| ceiling(&db, wide, Some(by));

        for operator in ["cli", "system"] {
            assert_eq!(at(operator).await.unwrap(), wide, "{operator}");
        }
        assert_eq!(ceiling(&db, wide, None).await.unwrap(), wide);
        let viewers = scope("registry:read sync:read");
        assert_eq!(at("user:vera").await.unwrap(), viewers);
        assert_eq!(at("user:nobody").await.unwrap(), Scope::default());
        assert_eq!(at("someone").await.unwrap(), Scope::default());

        // A client registered with the token of a client a user registered: capped by both.
        let parent = client_by(&db, Actor::User("vera".into()), "registry:read users:read").await;
        let child = client_by(
            &db,
            Actor::Client(parent.clone()),
            "registry:read sync:read",
        )
        .await;
        let child = clients::get(&db, &child).await.unwrap();
        assert_eq!(
            ceiling_of(&db, &child).await.unwrap(),
            scope("registry:read")
        );
        let disable = ClientInput {
            is_enabled: Some(false),
            ..Default::default()
        };
        clients::update(&db, &Grantor::operator(Actor::Cli), None, &parent, disable)
            .await
            .unwrap();
        assert_eq!(ceiling_of(&db, &child).await.unwrap(), Scope::default());
    }
}
