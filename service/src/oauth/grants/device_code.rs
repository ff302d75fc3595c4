//! The device grant (RFC 8628 §3.4–3.5): polling for the token a user approves elsewhere.

use chrono::{Duration, Utc};
use entity::oauth_device_codes as devices;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};

use super::{TokenResponse, active_user, grantable, require_grant};
use crate::db::begin_write;
use crate::oauth::ceiling::ceiling_of;
use crate::oauth::clients::Client;
use crate::oauth::tokens::{self, Grant};
use crate::oauth::{OAuthError, Scope, grant_type, secrets};
use crate::{Error, Result};

/// `grant_type=urn:ietf:params:oauth:grant-type:device_code` (RFC 8628 §3.4–3.5).
pub async fn device_code(
    db: &DatabaseConnection,
    client: &Client,
    device_code: &str,
) -> Result<TokenResponse> {
    require_grant(client, grant_type::DEVICE_CODE)?;
    let txn = begin_write(db).await?;
    let Some(row) = devices::Entity::find()
        .filter(devices::Column::DeviceCode.eq(secrets::hash(device_code)))
        .one(&txn)
        .await?
    else {
        return Err(OAuthError::invalid_grant("the device code is unknown").into());
    };
    if row.client_id != client.row.id {
        return Err(
            OAuthError::invalid_grant("the device code was issued to another client").into(),
        );
    }
    let now = Utc::now().fixed_offset();
    use crate::oauth::OAuthErrorCode as C;
    let refusal = |code: C, text: &str| -> Error { OAuthError::new(code, text).into() };
    match row.state.as_str() {
        "consumed" => {
            return Err(OAuthError::invalid_grant("the device code was already used").into());
        }
        "denied" => return Err(refusal(C::AccessDenied, "the user denied the request")),
        "expired" => return Err(refusal(C::ExpiredToken, "the device code has expired")),
        _ if row.expires_at <= now => {
            set_device_state(&txn, row.id, "expired", None).await?;
            txn.commit().await?;
            return Err(refusal(C::ExpiredToken, "the device code has expired"));
        }
        "pending" => {
            let too_soon = row
                .last_polled_at
                .is_some_and(|last| now - last < Duration::seconds(row.interval_seconds));
            let interval = if too_soon {
                row.interval_seconds + 5
            } else {
                row.interval_seconds
            };
            devices::Entity::update_many()
                .col_expr(devices::Column::LastPolledAt, Some(now).into())
                .col_expr(devices::Column::IntervalSeconds, interval.into())
                .col_expr(devices::Column::UpdatedAt, now.into())
                .filter(devices::Column::Id.eq(row.id))
                .exec(&txn)
                .await?;
            txn.commit().await?;
            return Err(if too_soon {
                refusal(
                    C::SlowDown,
                    "polling too fast; the interval grew by 5 seconds",
                )
            } else {
                refusal(C::AuthorizationPending, "the user has not answered yet")
            });
        }
        _ => {}
    }
    // Approved: consume exactly once.
    let Some(user_id) = row.user_id else {
        return Err(Error::internal("approved device code without a user"));
    };
    if set_device_state(&txn, row.id, "consumed", Some("approved")).await? != 1 {
        return Err(OAuthError::invalid_grant("the device code was already used").into());
    }
    let user = active_user(&txn, user_id).await?;
    // Read here rather than before each poll: most polls end in `authorization_pending`.
    let cap = ceiling_of(&txn, client).await?;
    let scope = grantable(cap, Some(&user), Scope::from_stored(&row.scope))?;
    let answer = tokens::issue(
        &txn,
        Grant {
            client,
            user_id: Some(user_id),
            scope,
            grant_id: Some(row.id),
            authorization_code_id: None,
            parent_refresh_id: None,
            with_refresh: client.spec.allows(grant_type::REFRESH_TOKEN),
            refresh_expires_at: None,
            event: "token.issued",
        },
    )
    .await?;
    txn.commit().await?;
    Ok(answer)
}

/// Moves a device code to `state` (only from `from`, when given); returns rows changed.
async fn set_device_state(
    db: &impl sea_orm::ConnectionTrait,
    id: uuid::Uuid,
    state: &str,
    from: Option<&str>,
) -> Result<u64> {
    let now = Utc::now().fixed_offset();
    let mut update = devices::Entity::update_many()
        .col_expr(devices::Column::State, state.into())
        .col_expr(devices::Column::UpdatedAt, now.into())
        .filter(devices::Column::Id.eq(id));
    if let Some(from) = from {
        update = update.filter(devices::Column::State.eq(from));
    }
    Ok(update.exec(db).await?.rows_affected)
}
