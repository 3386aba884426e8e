use std::fmt;

use serde::Serialize;
use validator::ValidateEmail;

use crate::InvalidValue;

/// A syntactically valid email address in its canonical form: trimmed and
/// lower-cased, so that equality is the case-insensitive comparison users
/// expect ("Ada@Example.com" and "ada@example.com " are one person).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    /// RFC 5321 limits a forward path to 254 characters.
    pub const MAX_LEN: usize = 254;

    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        let normalised = raw.trim().to_lowercase();
        if normalised.is_empty() {
            return Err(InvalidValue::new("required", "Enter an email address."));
        }
        if normalised.chars().count() > Self::MAX_LEN {
            return Err(InvalidValue::new(
                "too_long",
                format!("An email address has at most {} characters.", Self::MAX_LEN),
            ));
        }
        if !normalised.validate_email() {
            return Err(InvalidValue::new("invalid_format", "Enter an email address like name@example.com."));
        }
        Ok(Self(normalised))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn normalises_case_and_whitespace() {
        let email = Email::parse("  Ada.Lovelace@Example.COM \n").unwrap();
        assert_eq!(email.as_str(), "ada.lovelace@example.com");
    }

    #[test]
    fn refuses_malformed_addresses() {
        for raw in ["", "   ", "ada", "ada@", "@example.com", "a b@example.com"] {
            assert!(Email::parse(raw).is_err(), "{raw:?} was accepted");
        }
    }

    #[test]
    fn refuses_overlong_addresses() {
        let raw = format!("{}@example.com", "a".repeat(250));
        assert_eq!(Email::parse(&raw).unwrap_err().code, "too_long");
    }

    proptest! {
        #[test]
        fn parsing_is_idempotent(local in "[a-zA-Z0-9._%+-]{1,30}", domain in "[a-zA-Z0-9-]{1,20}\\.[a-zA-Z]{2,6}") {
            let raw = format!("{local}@{domain}");
            if let Ok(email) = Email::parse(&raw) {
                prop_assert_eq!(Email::parse(email.as_str()).unwrap(), email.clone());
                prop_assert_eq!(email.as_str(), email.as_str().to_lowercase());
            }
        }

        #[test]
        fn case_and_padding_never_change_identity(local in "[a-z0-9]{1,20}", domain in "[a-z]{1,20}\\.com") {
            let raw = format!("{local}@{domain}");
            let shouted = format!("  {}\t", raw.to_uppercase());
            prop_assert_eq!(Email::parse(&raw).unwrap(), Email::parse(&shouted).unwrap());
        }
    }
}
