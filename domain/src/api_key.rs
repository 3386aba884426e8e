//! Partner API keys with no IO: the secret's format (so that secret scanners
//! can match a leaked key and a mistyped one is refused without a database
//! read), what a key may carry, and how long it lives.
//!
//! A key reads `roster_` + 30 random base62 characters + a 6-character
//! base62 checksum of them (the first 32 bits of their SHA-256).

use std::net::IpAddr;

use chrono::{DateTime, Duration, Utc};
use sha2::{Digest, Sha256};

use crate::{InvalidValue, Permission, PermissionSet};

pub const PREFIX: &str = "roster_";
/// Random characters: 30 base62 digits carry 178 bits.
pub const RANDOM_CHARS: usize = 30;
pub const CHECKSUM_CHARS: usize = 6;
/// The whole key's length.
pub const LEN: usize = PREFIX.len() + RANDOM_CHARS + CHECKSUM_CHARS;
/// What lists show of a key: the prefix and the first random characters.
pub const SHOWN_CHARS: usize = PREFIX.len() + 6;

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Whether a bearer token is meant as an API key rather than an access
/// token (which never starts with the prefix: JWTs start with `ey`).
pub fn looks_like_key(token: &str) -> bool {
    token.starts_with(PREFIX)
}

/// A key from random base62 characters: the prefix, them and their
/// checksum. `random` comes from the caller's CSPRNG ([`random_char`]).
pub fn compose(random: &str) -> String {
    format!("{PREFIX}{random}{}", checksum(random))
}

/// Maps a random byte to a base62 character without bias: bytes of 248 and
/// above are rejected (`None`), the caller draws again.
pub fn random_char(byte: u8) -> Option<char> {
    (byte < 248).then(|| char::from(BASE62[usize::from(byte % 62)]))
}

/// Checks a presented key's shape and checksum: a typo, a truncated copy or
/// a made-up key is refused here, before any lookup.
pub fn check(presented: &str) -> Result<(), InvalidValue> {
    let refused = || InvalidValue::new("invalid_api_key", "This is not a Roster API key (roster_…).");
    let body = presented.strip_prefix(PREFIX).ok_or_else(refused)?;
    if presented.len() != LEN || !body.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(refused());
    }
    let (random, sum) = body.split_at(RANDOM_CHARS);
    if checksum(random) == sum { Ok(()) } else { Err(refused()) }
}

/// What a list shows of a key.
pub fn shown(key: &str) -> String {
    key.chars().take(SHOWN_CHARS).collect()
}

fn checksum(random: &str) -> String {
    let digest = Sha256::digest(random.as_bytes());
    let mut value = u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]);
    let mut out = [b'0'; CHECKSUM_CHARS];
    for slot in out.iter_mut().rev() {
        *slot = BASE62[(value % 62) as usize];
        value /= 62;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Permissions no key may carry, whoever creates it: a key must not hand
/// the account away, delete it, link it, or mint further keys or webhooks.
pub const NEVER_ON_A_KEY: [Permission; 5] = [
    Permission::AccountDelete,
    Permission::OwnershipTransfer,
    Permission::LinkedAccountsManage,
    Permission::PartnersManage,
    Permission::WebhooksManage,
];

/// Why a key cannot carry the permissions asked for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyPermissionsRefused {
    #[error("a key carries at least one permission")]
    Empty,
    #[error("no key may carry {0}")]
    Reserved(String),
    #[error("you do not hold {0}")]
    NotHeld(String),
}

/// A key carries a non-empty subset of its creator's permissions, never
/// one of [`NEVER_ON_A_KEY`] (no escalation through a key).
pub fn check_permissions(requested: &PermissionSet, creator: &PermissionSet) -> Result<(), KeyPermissionsRefused> {
    if requested.is_empty() {
        return Err(KeyPermissionsRefused::Empty);
    }
    if let Some(reserved) = NEVER_ON_A_KEY.iter().find(|p| requested.contains(**p)) {
        return Err(KeyPermissionsRefused::Reserved(reserved.key().to_owned()));
    }
    match requested.keys().find(|key| !creator.contains_key(key)) {
        Some(missing) => Err(KeyPermissionsRefused::NotHeld(missing.to_owned())),
        None => Ok(()),
    }
}

/// Keys live 90 days unless asked otherwise.
pub const DEFAULT_LIFETIME_DAYS: i64 = 90;
/// And at most a year.
pub const MAX_LIFETIME_DAYS: i64 = 365;

/// When a key created at `now` expires: `requested`, or 90 days; it must
/// lie in the future and at most a year away.
pub fn expiry(now: DateTime<Utc>, requested: Option<DateTime<Utc>>) -> Result<DateTime<Utc>, InvalidValue> {
    let Some(at) = requested else { return Ok(now + Duration::days(DEFAULT_LIFETIME_DAYS)) };
    if at <= now {
        Err(InvalidValue::new("in_the_past", "A key must expire in the future."))
    } else if at > now + Duration::days(MAX_LIFETIME_DAYS) {
        Err(InvalidValue::new("too_far", format!("A key expires within {MAX_LIFETIME_DAYS} days.")))
    } else {
        Ok(at)
    }
}

/// Longest overlap during which a rotated-out secret still works.
pub const MAX_ROTATION_OVERLAP_HOURS: i64 = 7 * 24;

/// Client addresses a key may be used from: none listed, any.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IpAllowList(Vec<(IpAddr, u8)>);

impl IpAllowList {
    /// At most this many entries.
    pub const MAX_ENTRIES: usize = 50;

    /// Parses addresses and CIDR blocks (`203.0.113.7`, `203.0.113.0/24`,
    /// `2001:db8::/32`).
    pub fn parse(entries: &[String]) -> Result<Self, InvalidValue> {
        if entries.len() > Self::MAX_ENTRIES {
            return Err(InvalidValue::new("too_many", format!("At most {} entries.", Self::MAX_ENTRIES)));
        }
        let parse_one = |entry: &str| -> Option<(IpAddr, u8)> {
            let (address, bits) = match entry.split_once('/') {
                Some((address, bits)) => (address, Some(bits)),
                None => (entry, None),
            };
            let address: IpAddr = address.parse().ok()?;
            let max = if address.is_ipv4() { 32 } else { 128 };
            let bits = match bits {
                // Digits without a leading zero, as the contract's pattern says.
                Some(bits) if bits.bytes().all(|b| b.is_ascii_digit()) && (bits == "0" || !bits.starts_with('0')) => {
                    bits.parse().ok()?
                }
                Some(_) => return None,
                None => max,
            };
            (bits <= max).then_some((address, bits))
        };
        entries
            .iter()
            .map(|entry| {
                parse_one(entry).ok_or_else(|| {
                    InvalidValue::new("invalid_ip", format!("{entry:?} is not an IP address or CIDR block."))
                })
            })
            .collect::<Result<_, _>>()
            .map(Self)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `client` may use the key: any client when the list is empty;
    /// an unknown client address only then.
    pub fn allows(&self, client: Option<IpAddr>) -> bool {
        if self.0.is_empty() {
            return true;
        }
        let Some(client) = client.map(canonical) else { return false };
        self.0.iter().any(|&(network, bits)| within(client, canonical(network), bits))
    }

    /// The entries in their canonical text form, for storage and display.
    pub fn entries(&self) -> Vec<String> {
        self.0
            .iter()
            .map(|&(address, bits)| {
                let max = if address.is_ipv4() { 32 } else { 128 };
                if bits == max { address.to_string() } else { format!("{address}/{bits}") }
            })
            .collect()
    }
}

/// IPv4 addresses written inside IPv6 (`::ffff:203.0.113.7`) as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

fn within(client: IpAddr, network: IpAddr, bits: u8) -> bool {
    match (client, network) {
        (IpAddr::V4(c), IpAddr::V4(n)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(bits)).unwrap_or(0);
            u32::from(c) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(c), IpAddr::V6(n)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(bits)).unwrap_or(0);
            u128::from(c) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn key_from(seed: &[u8]) -> String {
        let random: String = seed.iter().filter_map(|b| random_char(*b)).take(RANDOM_CHARS).collect();
        compose(&random)
    }

    proptest! {
        #[test]
        fn composed_keys_pass_their_check(seed in proptest::collection::vec(0u8..248, RANDOM_CHARS)) {
            let key = key_from(&seed);
            prop_assert_eq!(key.len(), LEN);
            prop_assert!(check(&key).is_ok(), "{}", key);
            prop_assert!(looks_like_key(&key));
        }

        #[test]
        fn one_changed_character_is_caught(
            seed in proptest::collection::vec(0u8..248, RANDOM_CHARS),
            at in PREFIX.len()..LEN,
            by in 1usize..62,
        ) {
            let key = key_from(&seed);
            let mut bytes = key.into_bytes();
            let index = BASE62.iter().position(|&c| c == bytes[at]).unwrap();
            bytes[at] = BASE62[(index + by) % 62];
            let typo = String::from_utf8(bytes).unwrap();
            prop_assert!(check(&typo).is_err(), "{}", typo);
        }
    }

    #[test]
    fn malformed_keys_are_refused() {
        let key = key_from(&[7; RANDOM_CHARS]);
        for bad in
            ["", "roster_", "ey.jwt.token", &key[..LEN - 1], &format!("{key}0"), &key.replace("roster_", "Roster_")]
        {
            assert!(check(bad).is_err(), "{bad}");
        }
        assert_eq!(shown(&key).len(), SHOWN_CHARS);
        assert!(random_char(248).is_none() && random_char(247).is_some());
    }

    #[test]
    fn a_key_carries_a_subset_of_its_creator_s_permissions_and_never_reserved_ones() {
        let creator: PermissionSet = ["members:read", "members:manage", "webhooks:manage"].into_iter().collect();
        let asked = |keys: &[&str]| keys.iter().copied().collect::<PermissionSet>();
        assert_eq!(check_permissions(&asked(&["members:read"]), &creator), Ok(()));
        assert_eq!(check_permissions(&asked(&[]), &creator), Err(KeyPermissionsRefused::Empty));
        assert_eq!(
            check_permissions(&asked(&["roles:manage"]), &creator),
            Err(KeyPermissionsRefused::NotHeld("roles:manage".into()))
        );
        assert_eq!(
            check_permissions(&asked(&["webhooks:manage"]), &creator),
            Err(KeyPermissionsRefused::Reserved("webhooks:manage".into()))
        );
    }

    #[test]
    fn keys_expire_within_a_year() {
        let now = DateTime::parse_from_rfc3339("2026-11-23T10:00:00Z").unwrap().with_timezone(&Utc);
        assert_eq!(expiry(now, None).unwrap(), now + Duration::days(90));
        assert_eq!(expiry(now, Some(now + Duration::days(365))).unwrap(), now + Duration::days(365));
        assert_eq!(expiry(now, Some(now + Duration::days(366))).unwrap_err().code, "too_far");
        assert_eq!(expiry(now, Some(now)).unwrap_err().code, "in_the_past");
    }

    #[test]
    fn allow_lists_match_addresses_and_blocks() {
        let list = IpAllowList::parse(&["203.0.113.0/24".into(), "2001:db8::1".into()]).unwrap();
        let ip = |text: &str| Some(text.parse::<IpAddr>().unwrap());
        assert!(list.allows(ip("203.0.113.77")));
        assert!(list.allows(ip("::ffff:203.0.113.5")));
        assert!(list.allows(ip("2001:db8::1")));
        assert!(!list.allows(ip("2001:db8::2")));
        assert!(!list.allows(ip("198.51.100.1")));
        assert!(!list.allows(None));
        assert!(IpAllowList::default().allows(None));
        assert_eq!(list.entries(), ["203.0.113.0/24", "2001:db8::1"]);
        let zero = IpAllowList::parse(&["0.0.0.0/0".into()]).unwrap();
        assert!(zero.allows(ip("8.8.8.8")));
        for bad in
            ["nope", "10.0.0.0/33", "10.0.0.0/", "10.0.0.0/-1", "::/129", " 10.0.0.1", "10.0.0.0/024", "010.0.0.1"]
        {
            assert!(IpAllowList::parse(&[bad.into()]).is_err(), "{bad}");
        }
    }
}
