//! The company's contacts (primary, billing, technical, security, legal),
//! with no IO. A phone number is parsed by `phonenumber` (libphonenumber's
//! metadata) and kept in E.164; at most one contact is the primary one.

use crate::InvalidValue;

/// What a contact is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContactKind {
    Primary,
    Billing,
    Technical,
    Security,
    Legal,
}

impl ContactKind {
    pub const ALL: [ContactKind; 5] =
        [ContactKind::Primary, ContactKind::Billing, ContactKind::Technical, ContactKind::Security, ContactKind::Legal];

    pub fn key(self) -> &'static str {
        match self {
            ContactKind::Primary => "primary",
            ContactKind::Billing => "billing",
            ContactKind::Technical => "technical",
            ContactKind::Security => "security",
            ContactKind::Legal => "legal",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        Self::ALL
            .into_iter()
            .find(|kind| kind.key() == raw)
            .ok_or_else(|| InvalidValue::new("unknown_kind", "Use primary, billing, technical, security or legal."))
    }
}

/// A phone number in E.164 (`+4930123456`): the only form stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneNumber(String);

impl PhoneNumber {
    /// Accepts any international notation (`+49 30 123456`, `+1 (415)
    /// 555-2671`) of a number valid in its country's numbering plan.
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        let invalid = || {
            InvalidValue::new(
                "invalid_phone",
                "Give a valid phone number in international form, starting with + and the country code (+49 30 1234567).",
            )
        };
        // The characters the contract's pattern allows, checked here so
        // that nothing else reaches the numbering plan's parser.
        let Some(rest) = raw.strip_prefix('+') else { return Err(invalid()) };
        let allowed = |c: char| c.is_ascii_digit() || " ().-".contains(c);
        let ends_in_digits =
            rest.starts_with(|c: char| c.is_ascii_digit()) && rest.ends_with(|c: char| c.is_ascii_digit());
        if raw.len() > 40 || !ends_in_digits || !rest.chars().all(allowed) {
            return Err(invalid());
        }
        let number = phonenumber::parse(None, raw).map_err(|_| invalid())?;
        if !phonenumber::is_valid(&number) {
            return Err(invalid());
        }
        Ok(Self(number.format().mode(phonenumber::Mode::E164).to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One primary contact per account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("The account has a primary contact already; change that one, or give this contact another kind.")]
pub struct PrimaryTaken;

/// Whether a contact of `kind` may be added (or changed to `kind`) when
/// `primary_exists` says the account has another primary contact.
pub fn check_kind(kind: ContactKind, primary_exists: bool) -> Result<(), PrimaryTaken> {
    if kind == ContactKind::Primary && primary_exists { Err(PrimaryTaken) } else { Ok(()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_numbers_are_checked_against_the_numbering_plans_and_kept_in_e164() {
        assert_eq!(PhoneNumber::parse("+49 30 901820").unwrap().as_str(), "+4930901820");
        assert_eq!(PhoneNumber::parse("+1 (415) 555-2671").unwrap().as_str(), "+14155552671");
        let outside_the_pattern =
            [" +49 30 901820", "+49 30 901820 ", "+49 30 901820 x12", "+1 800 FLOWERS", "+(49) 30"];
        let invalid = ["030 901820", "+1 555", "+999 123456", "call me", "", "+49 30 9018201234567890123"];
        for bad in outside_the_pattern.into_iter().chain(invalid) {
            assert_eq!(PhoneNumber::parse(bad).unwrap_err().code, "invalid_phone", "{bad}");
        }
    }

    #[test]
    fn one_primary_contact_at_most() {
        assert!(check_kind(ContactKind::Primary, false).is_ok());
        assert_eq!(check_kind(ContactKind::Primary, true), Err(PrimaryTaken));
        assert!(check_kind(ContactKind::Billing, true).is_ok());
        assert_eq!(ContactKind::parse("legal"), Ok(ContactKind::Legal));
        assert!(ContactKind::parse("sales").is_err());
    }
}
