//! The address ranges webhooks may not reach: every block of IANA's IPv4 and IPv6
//! special-purpose registries that is not globally reachable, plus the IPv6 embeddings of
//! IPv4, judged by the IPv4 address inside them where there is one.

use std::net::{Ipv4Addr, Ipv6Addr};

/// Why an IPv4 destination is refused (the range's name), or `None` for a global address.
pub(super) fn refused_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    match (a, b, c) {
        (127, ..) => Some("loopback"),
        (0, ..) => Some("unspecified"),
        (10, ..) | (172, 16..=31, _) | (192, 168, _) => Some("private"),
        (169, 254, _) => Some("link-local"),
        (100, 64..=127, _) => Some("shared"),
        (224..=239, ..) => Some("multicast"),
        // 255.255.255.255 lies inside 240/4; name it for what it is.
        _ if ip.is_broadcast() => Some("broadcast"),
        (240..=255, ..) => Some("reserved"),
        // 192.0.0/24 as a whole: the two anycast addresses in it that are global (.9, .10)
        // are no webhook receiver's address.
        (192, 0, 0) => Some("IETF protocol assignment"),
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => Some("documentation"),
        (198, 18..=19, _) => Some("benchmarking"),
        _ => None,
    }
}

/// Why an IPv6 destination is refused (the range's name), or `None` for a global address.
pub(super) fn refused_v6(ip: Ipv6Addr) -> Option<&'static str> {
    if ip.is_loopback() {
        return Some("loopback");
    }
    if ip.is_unspecified() {
        return Some("unspecified");
    }
    // An address that carries an IPv4 address reaches (or is translated to) that address.
    if let Some(v4) = embedded_v4(ip) {
        return refused_v4(v4);
    }
    match ip.segments() {
        // IPv4-translated (SIIT, ::ffff:0:a.b.c.d): translated to IPv4 by a gateway nearby.
        [0, 0, 0, 0, 0xffff, 0, _, _] => Some("IPv4-translated"),
        // NAT64 for local use (RFC 8215): translated inside the local network.
        [0x64, 0xff9b, 1, ..] => Some("local-use NAT64"),
        [0x100, 0, 0, 0, ..] => Some("discard-only"),
        // Teredo tunnels through a relay to an obfuscated IPv4 client: no receiver's home.
        [0x2001, 0, ..] => Some("Teredo"),
        [0x2001, 2, 0, ..] => Some("benchmarking"),
        [0x2001, 0xdb8, ..] => Some("documentation"),
        [0x3fff, b, ..] if b < 0x1000 => Some("documentation"),
        [0x2001, b, ..] if b < 0x200 && !global_protocol_assignment(ip) => {
            Some("IETF protocol assignment")
        }
        [0x5f00, ..] => Some("segment-routing"),
        [s, ..] if s & 0xfe00 == 0xfc00 => Some("private"),
        [s, ..] if s & 0xffc0 == 0xfe80 => Some("link-local"),
        [s, ..] if s & 0xffc0 == 0xfec0 => Some("site-local"),
        [s, ..] if s & 0xff00 == 0xff00 => Some("multicast"),
        _ => None,
    }
}

/// The blocks inside 2001::/23 that IANA marks globally reachable (anycast services, AMT,
/// AS112, ORCHIDv2, drone remote ID).
fn global_protocol_assignment(ip: Ipv6Addr) -> bool {
    match ip.segments() {
        [0x2001, 1, 0, 0, 0, 0, 0, last] => (1..=3).contains(&last),
        [0x2001, 3, ..] | [0x2001, 4, 0x112, ..] => true,
        [0x2001, b, ..] => (0x20..=0x3f).contains(&b),
        _ => false,
    }
}

/// The IPv4 address an IPv6 address carries and leads to: IPv4-mapped (`::ffff:a.b.c.d`),
/// IPv4-compatible (`::a.b.c.d`), 6to4 (`2002:AABB:CCDD::/48`) and NAT64 (`64:ff9b::a.b.c.d`).
pub(super) fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let v4 = |hi: u16, lo: u16| Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
    match ip.segments() {
        [0, 0, 0, 0, 0, 0xffff, hi, lo] | [0, 0, 0, 0, 0, 0, hi, lo] => Some(v4(hi, lo)),
        [0x2002, hi, lo, ..] => Some(v4(hi, lo)),
        [0x64, 0xff9b, 0, 0, 0, 0, hi, lo] => Some(v4(hi, lo)),
        _ => None,
    }
}
