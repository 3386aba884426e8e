//! Email domains an account can verify, with no IO: what a domain name is
//! (ASCII host names, IDNs in their `xn--` form), which ones are public
//! mail providers that no company owns (a maintained list, see
//! `data/public-email-domains/`), the DNS TXT record that proves control,
//! and when a verified domain whose record went missing falls back.

use std::sync::LazyLock;

use chrono::{DateTime, Duration, Utc};

use crate::{Email, InvalidValue};

/// A domain name in canonical form: lower case, without a trailing dot,
/// two labels or more of letters, digits and inner hyphens (an IDN in its
/// `xn--` form), at most 253 characters. Subdomains are domains of their
/// own.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EmailDomain(String);

impl EmailDomain {
    pub const MAX_LEN: usize = 253;

    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        let invalid = || {
            InvalidValue::new(
                "invalid_domain",
                "Give a domain name such as example.com: letters, digits and hyphens, labels separated by dots.",
            )
        };
        let name = raw.strip_suffix('.').unwrap_or(raw).to_ascii_lowercase();
        if name.is_empty() || name.len() > Self::MAX_LEN {
            return Err(invalid());
        }
        let labels: Vec<&str> = name.split('.').collect();
        let label_ok = |label: &&str| {
            (1..=63).contains(&label.len())
                && label.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        };
        // Top-level domains start with a letter (a last label of digits
        // would make an IPv4 address).
        let top_level_ok = labels.last().is_some_and(|top| top.starts_with(|c: char| c.is_ascii_lowercase()));
        if labels.len() < 2 || !labels.iter().all(label_ok) || !top_level_ok {
            return Err(invalid());
        }
        Ok(Self(name))
    }

    /// The domain of an email address.
    pub fn of(email: &Email) -> Option<Self> {
        email.as_str().rsplit_once('@').and_then(|(_, domain)| Self::parse(domain).ok())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether this is a public mail provider's domain (gmail.com,
    /// outlook.com, …), which no account may claim.
    pub fn is_public_mail_provider(&self) -> bool {
        PUBLIC_MAIL_DOMAINS.binary_search(&self.0.as_str()).is_ok()
    }

    /// Whether `email` is at this domain exactly (a subdomain is another
    /// domain).
    pub fn holds(&self, email: &Email) -> bool {
        email.as_str().rsplit_once('@').is_some_and(|(_, domain)| domain == self.0)
    }

    /// The TXT record that proves control of the domain for `token`.
    pub fn verification_record(&self, token: &VerificationToken) -> TxtRecord {
        TxtRecord { name: format!("{RECORD_PREFIX}.{}", self.0), value: format!("{VALUE_PREFIX}{}", token.0) }
    }
}

/// The public mail providers' domains, sorted (the file is kept sorted by
/// its update script; a test holds it to that).
static PUBLIC_MAIL_DOMAINS: LazyLock<Vec<&'static str>> =
    LazyLock::new(|| include_str!("../data/public-email-domains/domains.txt").lines().collect());

const RECORD_PREFIX: &str = "_roster-verification";
const VALUE_PREFIX: &str = "roster-verification=";

/// The random part of a verification record, made by the caller (32
/// URL-safe characters; this module has no randomness of its own).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerificationToken(String);

impl VerificationToken {
    pub const LEN: usize = 32;

    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        let ok = raw.len() == Self::LEN && raw.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if ok { Ok(Self(raw.to_owned())) } else { Err(InvalidValue::new("invalid_token", "Not a verification token.")) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A DNS TXT record to publish: its name and value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxtRecord {
    pub name: String,
    pub value: String,
}

impl TxtRecord {
    /// Whether the TXT strings found at the record's name hold its value.
    /// A TXT record may come in several strings of up to 255 bytes, which
    /// are one value joined; other records beside ours do not matter.
    pub fn found_in(&self, records: &[Vec<String>]) -> bool {
        records.iter().any(|strings| strings.concat().trim() == self.value)
    }
}

/// Who with a verified email at a verified domain comes into the account
/// by themselves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Enrollment {
    /// Nobody: they are invited or ask through a join link as anyone else.
    #[default]
    Manual,
    /// They see the account among their suggestions and may ask to join.
    Suggest,
    /// They become members when their email is verified or at their next
    /// sign-in, with the domain's default roles and groups.
    Automatic,
}

impl Enrollment {
    pub fn key(self) -> &'static str {
        match self {
            Enrollment::Manual => "manual",
            Enrollment::Suggest => "suggest",
            Enrollment::Automatic => "automatic",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        match raw {
            "manual" => Ok(Enrollment::Manual),
            "suggest" => Ok(Enrollment::Suggest),
            "automatic" => Ok(Enrollment::Automatic),
            _ => Err(InvalidValue::new("unknown_enrollment", "Use manual, suggest or automatic.")),
        }
    }
}

/// Whether `email` is at one of `domains` (a subdomain is another domain).
pub fn at_any(domains: &[EmailDomain], email: &Email) -> bool {
    domains.iter().any(|domain| domain.holds(email))
}

/// Whether an account that takes only emails at its `verified` domains
/// (when `restricted`) refuses `email`.
pub fn outside_allowed_domains(restricted: bool, email: &Email, verified: &[EmailDomain]) -> bool {
    restricted && !at_any(verified, email)
}

/// How long a verified domain's record may be missing before the domain
/// falls back to unverified.
pub const MISSING_GRACE: Duration = Duration::days(3);

/// What a re-check of a verified domain's record means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recheck {
    /// Still there: the domain stays verified (and forgets a past miss).
    Holds,
    /// Missing since `since`, within the grace: stays verified for now.
    MissingSince(DateTime<Utc>),
    /// Missing for longer than the grace: falls back to unverified.
    Lapsed,
}

/// What re-checking a verified domain at `now` means, given whether its
/// record was found and since when it has been missing before.
pub fn recheck(found: bool, missing_since: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Recheck {
    match (found, missing_since) {
        (true, _) => Recheck::Holds,
        (false, Some(since)) if now - since >= MISSING_GRACE => Recheck::Lapsed,
        (false, since) => Recheck::MissingSince(since.unwrap_or(now)),
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn restricted_accounts_take_emails_at_their_verified_domains_only() {
        let verified = [EmailDomain::parse("acme.example").unwrap()];
        let email = |raw: &str| Email::parse(raw).unwrap();
        assert!(!outside_allowed_domains(true, &email("ada@acme.example"), &verified));
        assert!(outside_allowed_domains(true, &email("ada@eu.acme.example"), &verified));
        assert!(outside_allowed_domains(true, &email("ada@other.example"), &verified));
        assert!(outside_allowed_domains(true, &email("ada@acme.example"), &[]));
        assert!(!outside_allowed_domains(false, &email("ada@other.example"), &verified));
    }

    #[test]
    fn enrollment_modes_round_trip() {
        for mode in [Enrollment::Manual, Enrollment::Suggest, Enrollment::Automatic] {
            assert_eq!(Enrollment::parse(mode.key()), Ok(mode));
        }
        assert!(Enrollment::parse("Automatic").is_err());
    }

    #[test]
    fn domain_names_are_canonical_host_names() {
        assert_eq!(EmailDomain::parse("Acme.Example.").unwrap().as_str(), "acme.example");
        assert_eq!(EmailDomain::parse("xn--mnchen-3ya.de").unwrap().as_str(), "xn--mnchen-3ya.de");
        assert_eq!(EmailDomain::parse("eu.acme.example").unwrap().as_str(), "eu.acme.example");
        let long_label = format!("{}.example", "a".repeat(64));
        for bad in [
            "",
            "acme",
            "-acme.example",
            "acme-.example",
            "acme..example",
            "acme.example..",
            "10.0.0.1",
            "acme.1a",
            "münchen.de",
            "acme example.com",
            " acme.example",
            long_label.as_str(),
        ] {
            assert_eq!(EmailDomain::parse(bad).unwrap_err().code, "invalid_domain", "{bad:?}");
        }
    }

    #[test]
    fn public_mail_providers_come_from_the_maintained_list() {
        for public in ["gmail.com", "outlook.com", "yahoo.com", "icloud.com", "proton.me", "gmx.de"] {
            assert!(EmailDomain::parse(public).unwrap().is_public_mail_provider(), "{public}");
        }
        for company in ["acme.example", "mail.google.com.acme.example"] {
            assert!(!EmailDomain::parse(company).unwrap().is_public_mail_provider(), "{company}");
        }
        assert!(PUBLIC_MAIL_DOMAINS.len() > 10_000);
        assert!(PUBLIC_MAIL_DOMAINS.windows(2).all(|pair| pair[0] < pair[1]), "the list is sorted, each once");
    }

    #[test]
    fn an_email_is_at_its_exact_domain_only() {
        let acme = EmailDomain::parse("acme.example").unwrap();
        assert!(acme.holds(&Email::parse("Ada@ACME.example").unwrap()));
        assert!(!acme.holds(&Email::parse("ada@eu.acme.example").unwrap()), "a subdomain is another domain");
        assert!(!acme.holds(&Email::parse("ada@notacme.example").unwrap()));
        assert_eq!(EmailDomain::of(&Email::parse("ada@eu.acme.example").unwrap()).unwrap().as_str(), "eu.acme.example");
    }

    #[test]
    fn the_record_names_the_domain_and_carries_the_token() {
        let token = VerificationToken::parse(&"k".repeat(32)).unwrap();
        let record = EmailDomain::parse("acme.example").unwrap().verification_record(&token);
        assert_eq!(record.name, "_roster-verification.acme.example");
        assert_eq!(record.value, format!("roster-verification={}", "k".repeat(32)));
        let split = vec![vec!["roster-verification=".to_owned(), "k".repeat(32)]];
        assert!(record.found_in(&split), "strings of one TXT record are one value");
        let others = vec![vec!["v=spf1 -all".to_owned()], vec![record.value.clone()]];
        assert!(record.found_in(&others));
        assert!(!record.found_in(&[vec![format!("roster-verification={}", "x".repeat(32))]]));
        assert!(!record.found_in(&[]));
        assert!(VerificationToken::parse("short").is_err());
    }

    #[test]
    fn a_missing_record_falls_back_after_three_days() {
        let t0 = Utc.with_ymd_and_hms(2026, 12, 6, 0, 0, 0).unwrap();
        assert_eq!(recheck(true, Some(t0), t0 + Duration::days(10)), Recheck::Holds);
        assert_eq!(recheck(false, None, t0), Recheck::MissingSince(t0));
        assert_eq!(recheck(false, Some(t0), t0 + Duration::days(2)), Recheck::MissingSince(t0));
        assert_eq!(recheck(false, Some(t0), t0 + MISSING_GRACE), Recheck::Lapsed);
    }
}
