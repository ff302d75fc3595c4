//! The addresses of the host's own network interfaces, which webhooks may not reach either:
//! a public address of this machine leads back to its own services as surely as loopback.
//!
//! The guard runs at every save and every delivery; listing the interfaces is a few system
//! calls, so the list is kept for a few seconds (an address added to the host is refused
//! within that time).

use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::ranges::embedded_v4;

/// How long one listing of the interfaces is trusted.
const FRESH_FOR: Duration = Duration::from_secs(5);

/// The last listing and when it was made.
static CACHE: Mutex<Option<(Instant, Arc<[IpAddr]>)>> = Mutex::new(None);

/// True when `ip` (or the IPv4 address it embeds) is an address of one of the host's interfaces.
pub(super) fn is_own(ip: IpAddr) -> bool {
    is_among(ip, &own_addresses())
}

/// True when `ip`, or the IPv4 address an IPv6 `ip` embeds, is in `own`.
pub(super) fn is_among(ip: IpAddr, own: &[IpAddr]) -> bool {
    let embedded = match ip {
        IpAddr::V6(v6) => embedded_v4(v6).map(IpAddr::V4),
        IpAddr::V4(_) => None,
    };
    own.iter().any(|a| *a == ip || Some(*a) == embedded)
}

/// The host's interface addresses, listed at most once every [`FRESH_FOR`].
fn own_addresses() -> Arc<[IpAddr]> {
    // A poisoned lock only means another thread panicked mid-update; the data is a plain list.
    let mut cache = CACHE.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some((at, list)) = cache.as_ref()
        && at.elapsed() < FRESH_FOR
    {
        return Arc::clone(list);
    }
    let list: Arc<[IpAddr]> = match if_addrs::get_if_addrs() {
        Ok(interfaces) => interfaces.iter().map(if_addrs::Interface::ip).collect(),
        Err(err) => {
            // Keep the previous listing rather than forget every address on a transient
            // failure; the range checks still apply either way.
            tracing::warn!(error = %err, "the host's interface addresses cannot be listed");
            cache
                .as_ref()
                .map_or_else(|| Arc::from(Vec::new()), |(_, l)| Arc::clone(l))
        }
    };
    *cache = Some((Instant::now(), Arc::clone(&list)));
    list
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_is_own_directly_or_through_its_ipv6_embedding() {
        let own: Vec<IpAddr> = vec!["93.184.216.34".parse().unwrap()];
        for ip in [
            "93.184.216.34",
            "::ffff:93.184.216.34",
            "2002:5db8:d822::1",
            "64:ff9b::93.184.216.34",
        ] {
            assert!(is_among(ip.parse().unwrap(), &own), "{ip}");
        }
        assert!(!is_among("93.184.216.35".parse().unwrap(), &own));
    }

    #[test]
    fn every_interface_address_of_this_host_is_own() {
        let listed = if_addrs::get_if_addrs().unwrap();
        assert!(!listed.is_empty(), "at least loopback is listed");
        for interface in listed {
            assert!(is_own(interface.ip()), "{}", interface.ip());
        }
    }
}
