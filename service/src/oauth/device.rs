//! The device authorization grant (RFC 8628): issuing device and user codes, and the user's
//! decision on the `/device` page.

use std::net::IpAddr;

use chrono::{DateTime, Duration, Utc};
use entity::oauth_device_codes as devices;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use super::audit_log::{self, OAuthEvent};
use super::clients::{self, Client};
use super::{OAuthError, Scope, grant_type, secrets, subjects};
use crate::access::Identity;
use crate::access::throttle::{self, Counter, Limit};
use crate::db::begin_write;
use crate::pagination::{Page, PageRequest, Sort, SortField, past_key};
use crate::{Error, Result};

/// The answer of the device authorization endpoint (RFC 8628 §3.2).
#[derive(Debug, Clone, Serialize)]
pub struct DeviceAuthorization {
    pub device_code: String,
    pub user_code: String,
    pub verification_uri: String,
    pub verification_uri_complete: String,
    pub expires_in: i64,
    pub interval: i64,
}

/// Device authorization requests one client may make in a minute: a device fleet starting
/// at once fits; a flood filling the table and the append-only OAuth log does not.
const STARTS_PER_CLIENT: Limit = Limit::per_minute(60);
/// Device authorization requests one address may make in a minute.
const STARTS_PER_ADDRESS: Limit = Limit::per_minute(30);
/// Wrong user codes one user may type in 15 minutes, as for passwords (spec 06).
const GUESSES_PER_USER: Limit = Limit::per_quarter_hour(5);
/// Wrong user codes one address may send in 15 minutes.
const GUESSES_PER_ADDRESS: Limit = Limit::per_quarter_hour(20);

/// Starts a device grant for `client`, asked for from `from`; `verification_uri` is the
/// absolute `/device` URL. Requests are rate-limited per client and per address.
pub async fn start(
    db: &DatabaseConnection,
    client: &Client,
    from: IpAddr,
    scope: Option<&str>,
    verification_uri: &str,
) -> Result<DeviceAuthorization> {
    if !client.spec.allows(grant_type::DEVICE_CODE) {
        return Err(
            OAuthError::unauthorized_client("the client is not allowed the device grant").into(),
        );
    }
    throttle::take(
        db,
        &[
            Counter::new("device_start_client", client.row.id, STARTS_PER_CLIENT),
            Counter::new("device_start_ip", from, STARTS_PER_ADDRESS),
        ],
    )
    .await?;
    let allowed = client.spec.allowed_scopes;
    let scope = match scope.map(str::trim).filter(|s| !s.is_empty()) {
        None => allowed,
        Some(text) => Scope::parse(text)?.intersect(allowed),
    };
    if scope.is_empty() {
        return Err(OAuthError::invalid_scope(
            "none of the requested scopes is allowed for the client",
        )
        .into());
    }
    let device_code = secrets::new_credential("");
    let now = Utc::now().fixed_offset();
    let ttl = client.spec.device_code_ttl_seconds;
    let interval = client.spec.device_poll_interval_seconds;
    let by = format!("client:{}", client.row.client_identifier);
    let txn = begin_write(db).await?;
    // User codes carry ~34 bits; a collision with a live code is retried, not fatal.
    let mut user_code = secrets::new_user_code();
    for _ in 0..5 {
        let taken = devices::Entity::find()
            .filter(devices::Column::UserCode.eq(&user_code))
            .one(&txn)
            .await?
            .is_some();
        if !taken {
            break;
        }
        user_code = secrets::new_user_code();
    }
    let id = Uuid::now_v7();
    devices::Entity::insert(devices::ActiveModel {
        id: Set(id),
        device_code: Set(secrets::hash(&device_code)),
        user_code: Set(user_code.clone()),
        client_id: Set(client.row.id),
        user_id: Set(None),
        scope: Set(scope.to_text()),
        state: Set("pending".into()),
        expires_at: Set(now + Duration::seconds(ttl)),
        interval_seconds: Set(interval),
        last_polled_at: Set(None),
        created_at: Set(now),
        created_by: Set(Some(by.clone())),
        updated_at: Set(now),
        updated_by: Set(Some(by.clone())),
    })
    .exec_without_returning(&txn)
    .await?;
    audit_log::log(
        &txn,
        OAuthEvent::new("device_code.issued", Some(client.row.id), &by)
            .subject(id.to_string())
            .metadata(json!({"scope": scope.to_text()})),
    )
    .await?;
    txn.commit().await?;
    let shown = secrets::display_user_code(&user_code);
    Ok(DeviceAuthorization {
        device_code,
        verification_uri_complete: format!("{verification_uri}?user_code={shown}"),
        verification_uri: verification_uri.to_owned(),
        user_code: shown,
        expires_in: ttl,
        interval,
    })
}

/// A pending device request as the `/device` page shows it.
#[derive(Debug, Clone)]
pub struct PendingDevice {
    pub user_code: String,
    pub client: Client,
    pub scope: Scope,
}

/// Who types a user code on `/device`: the signed-in user, from an address. Wrong codes are
/// limited like passwords, per user and per address.
#[derive(Debug, Clone)]
pub struct CodeTyper {
    pub username: String,
    pub ip: IpAddr,
}

impl CodeTyper {
    fn counters(&self) -> [Counter; 2] {
        [
            Counter::new("device_code_user", &self.username, GUESSES_PER_USER),
            Counter::new("device_code_ip", self.ip, GUESSES_PER_ADDRESS),
        ]
    }
}

/// The pending request behind a code `typer` typed. The guess is counted before the code is
/// looked up (`RateLimited` once the limits are used up) and given back when it was right.
pub async fn lookup(
    db: &DatabaseConnection,
    typed: &str,
    typer: &CodeTyper,
) -> Result<PendingDevice> {
    let counters = typer.counters();
    throttle::take(db, &counters).await?;
    let found = pending(db, typed).await?;
    let txn = begin_write(db).await?;
    for counter in &counters {
        throttle::give_back(&txn, &counter.key).await?;
    }
    txn.commit().await?;
    Ok(found)
}

/// The pending request behind a typed user code; unknown, used or expired codes are
/// `NotFound` (the page asks again). Not limited: [`lookup`] is the way in for people.
async fn pending(db: &impl ConnectionTrait, typed: &str) -> Result<PendingDevice> {
    let not_found = || Error::NotFound("user code".into());
    let code = secrets::normalize_user_code(typed).ok_or_else(not_found)?;
    let row = devices::Entity::find()
        .filter(devices::Column::UserCode.eq(&code))
        .one(db)
        .await?
        .ok_or_else(not_found)?;
    if row.state != "pending" || row.expires_at <= Utc::now().fixed_offset() {
        return Err(not_found());
    }
    let client = client_by_uuid(db, row.client_id)
        .await?
        .ok_or_else(not_found)?;
    Ok(PendingDevice {
        user_code: code,
        scope: Scope::from_stored(&row.scope),
        client,
    })
}

async fn client_by_uuid(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<Client>> {
    let identifier: Option<String> = entity::oauth_clients::Entity::find_by_id(id)
        .select_only()
        .column(entity::oauth_clients::Column::ClientIdentifier)
        .into_tuple()
        .one(db)
        .await?;
    match identifier {
        Some(ident) => clients::find(db, &ident).await,
        None => Ok(None),
    }
}

/// Records the user's answer. On approval the grant's scope becomes what the user holds of
/// the requested scope; holding none of it is refused. The code is looked up as by
/// [`lookup`], limits included.
pub async fn decide(
    db: &DatabaseConnection,
    typed: &str,
    user: &Identity,
    ip: IpAddr,
    approve: bool,
) -> Result<()> {
    let typer = CodeTyper {
        username: user.username.clone(),
        ip,
    };
    let request = lookup(db, typed, &typer).await?;
    let scope = request.scope.intersect(Scope(user.permissions));
    if approve && scope.is_empty() {
        return Err(Error::Forbidden(
            "you hold none of the permissions this device asks for".into(),
        ));
    }
    let by = format!("user:{}", user.username);
    let now = Utc::now().fixed_offset();
    let txn = begin_write(db).await?;
    let oauth_user = subjects::ensure(&txn, user).await?;
    let row = devices::Entity::find()
        .filter(devices::Column::UserCode.eq(&request.user_code))
        .filter(devices::Column::State.eq("pending"))
        .one(&txn)
        .await?
        .ok_or_else(|| Error::NotFound("user code".into()))?;
    let state = if approve { "approved" } else { "denied" };
    let changed = devices::Entity::update_many()
        .col_expr(devices::Column::State, state.into())
        .col_expr(devices::Column::UserId, Some(oauth_user).into())
        .col_expr(devices::Column::Scope, scope.to_text().into())
        .col_expr(devices::Column::UpdatedAt, now.into())
        .col_expr(devices::Column::UpdatedBy, Some(by.clone()).into())
        .filter(devices::Column::Id.eq(row.id))
        .filter(devices::Column::State.eq("pending"))
        .exec(&txn)
        .await?
        .rows_affected;
    if changed != 1 {
        return Err(Error::conflict("the request was answered already"));
    }
    let event = if approve {
        "device_code.approved"
    } else {
        "device_code.denied"
    };
    audit_log::log(
        &txn,
        OAuthEvent::new(event, Some(row.client_id), &by)
            .user(Some(oauth_user))
            .subject(row.id.to_string())
            .metadata(json!({"scope": scope.to_text()})),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// A device code as the admin list shows it.
#[derive(Debug, Clone, Serialize)]
pub struct DeviceCodeView {
    pub user_code: String,
    pub client_id: String,
    pub client_name: String,
    pub scope: String,
    pub state: String,
    pub username: Option<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// Where a page of device codes starts or ends: creation time, then the code's id.
pub type DeviceCodeKey = (DateTime<Utc>, Uuid);

/// The sortable columns of the device-code list, each on an index ending in the id; both
/// are times, so one key shape serves both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceCodeSortField {
    Created,
    Expires,
}

impl SortField for DeviceCodeSortField {
    const ALL: &'static [Self] = &[Self::Created, Self::Expires];

    fn name(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Expires => "expires",
        }
    }
}

/// The device-code list's order.
pub type DeviceCodeSort = Sort<DeviceCodeSortField>;

/// The default order: newest first.
pub const NEWEST_CODES_FIRST: DeviceCodeSort = Sort {
    field: DeviceCodeSortField::Created,
    descending: true,
};

/// A page of device codes in `sort` order (indexes `(created_at, id)` and
/// `(expires_at, id)`). Pending codes past their expiry are shown as `expired`.
pub async fn list(
    db: &impl ConnectionTrait,
    sort: DeviceCodeSort,
    page: &PageRequest<DeviceCodeKey>,
) -> Result<Page<DeviceCodeView>> {
    // Reading backward walks the same index the other way.
    let order = sort.order(page);
    let descending = order == sea_orm::Order::Desc;
    let column = match sort.field {
        DeviceCodeSortField::Created => devices::Column::CreatedAt,
        DeviceCodeSortField::Expires => devices::Column::ExpiresAt,
    };
    let mut query = devices::Entity::find()
        .order_by(column, order.clone())
        .order_by(devices::Column::Id, order)
        .limit(page.limit + 1);
    if let Some(&(at, id)) = page.boundary() {
        query = query.filter(past_key(
            column,
            at.fixed_offset(),
            devices::Column::Id,
            id,
            descending,
        ));
    }
    let rows = query.all(db).await?;
    let found = Page::from_request(rows, page, |d| {
        let at = match sort.field {
            DeviceCodeSortField::Created => d.created_at,
            DeviceCodeSortField::Expires => d.expires_at,
        };
        (at.to_utc(), d.id)
    });
    let names = clients::names_by_id(db).await?;
    let user_ids: Vec<Uuid> = found.items.iter().filter_map(|d| d.user_id).collect();
    let users: std::collections::HashMap<Uuid, Option<String>> =
        entity::oauth_users::Entity::find()
            .filter(entity::oauth_users::Column::Id.is_in(user_ids))
            .all(db)
            .await?
            .into_iter()
            .map(|u| (u.id, u.username))
            .collect();
    let now = Utc::now().fixed_offset();
    Ok(found.map(|d| {
        let (client_id, client_name) = names.get(&d.client_id).cloned().unwrap_or_default();
        let state = if d.state == "pending" && d.expires_at <= now {
            "expired".to_owned()
        } else {
            d.state
        };
        DeviceCodeView {
            user_code: secrets::display_user_code(&d.user_code),
            client_id,
            client_name,
            scope: d.scope,
            state,
            username: d.user_id.and_then(|u| users.get(&u).cloned().flatten()),
            created_at: d.created_at.to_utc(),
            expires_at: d.expires_at.to_utc(),
        }
    }))
}
