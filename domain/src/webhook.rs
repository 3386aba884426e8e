//! Webhook rules with no IO: which addresses a webhook may reach (the SSRF
//! guard), the retry schedule, and what a failing endpoint comes to.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use chrono::{DateTime, Duration, Utc};

use crate::InvalidValue;
use crate::audit::AuditAction;

/// Whether a webhook may connect to `ip`: not loopback, private,
/// link-local (which holds the cloud metadata address 169.254.169.254),
/// shared (CGNAT, which holds 100.100.100.200), unique-local, multicast,
/// unspecified, reserved or documentation space, IPv4 or IPv6, including
/// IPv4 addresses written inside IPv6 ones.
pub fn is_public_address(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    let refused = ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b))
        || (a == 192 && b == 0 && c == 0)
        || (a == 198 && (18..20).contains(&b))
        || a >= 240;
    !refused
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    // Every IPv4 address an IPv6 form carries is judged as itself: a
    // translator or tunnel on the way would deliver to it.
    let embedded = embedded_ipv4(ip);
    if !embedded.is_empty() {
        return embedded.into_iter().all(is_public_v4) && !ip.is_loopback() && !ip.is_unspecified();
    }
    let segments = ip.segments();
    let refused = ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || (segments[0] & 0xfe00) == 0xfc00
        || (segments[0] & 0xffc0) == 0xfe80
        || (segments[0] & 0xffc0) == 0xfec0
        || (segments[0] == 0x2001 && segments[1] == 0x0db8)
        // Local-use NAT64 (RFC 8215), discard-only (RFC 6666), ORCHID and
        // benchmarking space: none is a public destination.
        || (segments[0] == 0x64 && segments[1] == 0xff9b && segments[2] == 1)
        || segments[..4] == [0x100, 0, 0, 0]
        || (segments[0] == 0x2001 && (segments[1] & 0xfff0) == 0x10)
        || (segments[0] == 0x2001 && segments[1] == 2 && segments[2] == 0);
    !refused
}

/// The IPv4 addresses written inside `ip` by the forms that carry one:
/// IPv4-mapped (`::ffff:0:0/96`), IPv4-translated (`::ffff:0:0:0/96`),
/// IPv4-compatible (`::/96`), NAT64 (`64:ff9b::/96`), 6to4 (`2002::/16`,
/// bits 16–47) and Teredo (`2001::/32`: the server in bits 32–63, the
/// client inverted in the last 32).
fn embedded_ipv4(ip: Ipv6Addr) -> Vec<Ipv4Addr> {
    let s = ip.segments();
    let v4 = |hi: u16, lo: u16| Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
    let last = v4(s[6], s[7]);
    match s {
        [0, 0, 0, 0, 0, 0xffff, ..] | [0, 0, 0, 0, 0xffff, 0, ..] | [0, 0, 0, 0, 0, 0, ..] => vec![last],
        [0x64, 0xff9b, 0, 0, 0, 0, ..] => vec![last],
        [0x2002, hi, lo, ..] => vec![v4(hi, lo)],
        [0x2001, 0, hi, lo, ..] => vec![v4(hi, lo), Ipv4Addr::from(!u32::from(last))],
        _ => Vec::new(),
    }
}

/// When a failed delivery is tried again, by the number of attempts made:
/// the Standard Webhooks example schedule, about three days in all. `None`:
/// no more attempts.
pub fn retry_after(attempts: i32) -> Option<Duration> {
    const SCHEDULE: [i64; 9] = [5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 14 * 3600, 20 * 3600, 24 * 3600];
    usize::try_from(attempts)
        .ok()
        .and_then(|n| n.checked_sub(1))
        .and_then(|n| SCHEDULE.get(n))
        .map(|s| Duration::seconds(*s))
}

/// An endpoint failing without a success for this long is disabled.
pub const DISABLE_AFTER_FAILING_FOR: Duration = Duration::days(3);

/// Whether an endpoint that has failed since `failing_since` is disabled
/// at `now`.
pub fn failing_too_long(failing_since: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    now - failing_since >= DISABLE_AFTER_FAILING_FOR
}

/// The event types an endpoint subscribes to: known audit actions, each
/// once, at least one.
pub fn parse_event_types(raw: &[String]) -> Result<Vec<AuditAction>, InvalidValue> {
    if raw.is_empty() {
        return Err(InvalidValue::new("required", "Subscribe to at least one event type."));
    }
    let mut types = Vec::new();
    for key in raw {
        let action = AuditAction::parse(key).ok_or_else(|| {
            InvalidValue::new(
                "unknown_event_type",
                format!("There is no event type {key:?}; see the AuditAction enum."),
            )
        })?;
        if !types.contains(&action) {
            types.push(action);
        }
    }
    types.sort();
    Ok(types)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn internal_and_metadata_addresses_are_refused() {
        for refused in [
            "127.0.0.1",
            "10.0.0.1",
            "172.16.5.4",
            "192.168.1.1",
            "169.254.169.254",
            "100.100.100.200",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fc00::1",
            "fd00:ec2::254",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a9fe:a9fe",
            "::127.0.0.1",
            // 6to4 around 127.0.0.1 and 10.0.0.1.
            "2002:7f00:1::",
            "2002:a00:1::1",
            // IPv4-translated (SIIT) 127.0.0.1 and 169.254.169.254.
            "::ffff:0:7f00:1",
            "::ffff:0:a9fe:a9fe",
            // Teredo: a private server, or a client 192.168.0.1 (inverted).
            "2001:0:a00:1::1",
            "2001:0:808:808::3f57:fffe",
            // NAT64 around 10.0.0.1, and the local-use NAT64 prefix.
            "64:ff9b::a00:1",
            "64:ff9b:1::808:808",
            "100::1",
            "2001:10::1",
            "2001:2::1",
        ] {
            assert!(!is_public_address(ip(refused)), "{refused} must be refused");
        }
        for allowed in [
            "93.184.216.34",
            "8.8.8.8",
            "2606:4700:4700::1111",
            "::ffff:8.8.8.8",
            "2002:808:808::1",
            "64:ff9b::808:808",
            "2001:0:808:808::f7f7:f7f7",
        ] {
            assert!(is_public_address(ip(allowed)), "{allowed} is public");
        }
    }

    #[test]
    fn retries_span_about_three_days_then_stop() {
        assert_eq!(retry_after(1), Some(Duration::seconds(5)));
        let total: i64 = (1..=9).map(|n| retry_after(n).unwrap().num_seconds()).sum();
        assert!((3 * 86_400 - 3600..=4 * 86_400).contains(&total), "{total} s");
        assert_eq!(retry_after(10), None);
        assert_eq!(retry_after(0), None);
    }

    #[test]
    fn event_types_are_known_actions() {
        assert_eq!(parse_event_types(&["member.removed".into()]).unwrap(), [AuditAction::MemberRemoved]);
        assert_eq!(parse_event_types(&["member.exploded".into()]).unwrap_err().code, "unknown_event_type");
        assert_eq!(parse_event_types(&[]).unwrap_err().code, "required");
    }

    proptest! {
        #[test]
        fn mapped_addresses_are_judged_as_their_ipv4(octets in any::<[u8; 4]>()) {
            let v4 = Ipv4Addr::from(octets);
            prop_assert_eq!(is_public_address(IpAddr::V6(v4.to_ipv6_mapped())), is_public_address(IpAddr::V4(v4)));
        }

        #[test]
        fn every_form_that_embeds_an_ipv4_is_judged_by_it(octets in any::<[u8; 4]>(), suffix in any::<u64>()) {
            let v4 = Ipv4Addr::from(octets);
            let [hi, lo] = [(u32::from(v4) >> 16) as u16, u32::from(v4) as u16];
            let public = is_public_address(IpAddr::V4(v4));
            let tail = suffix.to_be_bytes();
            let word = |i: usize| u16::from_be_bytes([tail[i], tail[i + 1]]);
            for form in [
                Ipv6Addr::new(0, 0, 0, 0, 0xffff, 0, hi, lo),
                Ipv6Addr::new(0x64, 0xff9b, 0, 0, 0, 0, hi, lo),
                Ipv6Addr::new(0x2002, hi, lo, word(0), word(2), word(4), word(6), 1),
            ] {
                prop_assert_eq!(is_public_address(IpAddr::V6(form)), public, "{}", form);
            }
            // Teredo with a public client: judged by its server.
            let teredo = Ipv6Addr::new(0x2001, 0, hi, lo, 0, 0, !0x0808, !0x0808);
            prop_assert_eq!(is_public_address(IpAddr::V6(teredo)), public, "{}", teredo);
        }
    }
}
