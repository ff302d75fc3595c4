//! The caller of a request together with what its audit rows record about it.

use std::net::IpAddr;
use std::ops::Deref;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use service::access::Grantor;
use service::audit::Actor;

use super::{Caller, client_ip};
use crate::state::AppState;

/// The authenticated caller and the address its audit rows record.
///
/// Every handler that changes something needs both, and the address must honour
/// `METADECK_TRUSTED_PROXIES` the same way everywhere, so they are read together, once.
/// It dereferences to [`Caller`] for the rest (`may`, `user_id`, `session_id`).
#[derive(Debug, Clone)]
pub struct Acting {
    caller: Caller,
    ip: IpAddr,
}

impl Acting {
    /// The caller as a grantor: whatever it grants, or whoever it acts on, must lie within
    /// what it holds.
    pub fn grantor(&self) -> Grantor {
        self.caller.grantor()
    }

    /// The audit trail's name for the caller.
    pub fn actor(&self) -> Actor {
        self.caller.actor()
    }

    /// The client's address as an audit row records it (the first untrusted hop).
    pub fn ip(&self) -> Option<String> {
        Some(self.ip.to_string())
    }

    /// The client's address (the first untrusted hop).
    pub fn address(&self) -> IpAddr {
        self.ip
    }

    /// The caller itself.
    pub fn caller(&self) -> &Caller {
        &self.caller
    }
}

impl Deref for Acting {
    type Target = Caller;

    fn deref(&self) -> &Caller {
        &self.caller
    }
}

impl FromRequest for Acting {
    type Error = actix_web::Error;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        // `Caller`'s own extractor is synchronous and answers `401` when the request has
        // no caller, so its refusal stays the one it always was.
        let caller = match Caller::from_request(req, payload).into_inner() {
            Ok(caller) => caller,
            Err(e) => return std::future::ready(Err(e)),
        };
        let trusted = req
            .app_data::<web::Data<AppState>>()
            .map(|s| s.settings.trusted_proxies.as_slice())
            .unwrap_or_default();
        let ip = client_ip(req, trusted);
        std::future::ready(Ok(Self { caller, ip }))
    }
}
