use crate::InvalidValue;

/// A password a user chose that meets the policy. It is only ever hashed;
/// `Debug` never prints it.
pub struct NewPassword(String);

impl NewPassword {
    pub const MIN_CHARS: usize = 10;
    /// An upper bound keeps hashing cost bounded against oversized input.
    pub const MAX_CHARS: usize = 256;

    /// `email` is the address the password belongs to, as typed: the
    /// password is refused when it merely repeats it, whatever the case.
    pub fn parse(raw: &str, email: &str) -> Result<Self, InvalidValue> {
        let chars = raw.chars().count();
        if chars < Self::MIN_CHARS {
            return Err(InvalidValue::new("too_short", format!("Use at least {} characters.", Self::MIN_CHARS)));
        }
        if chars > Self::MAX_CHARS {
            return Err(InvalidValue::new("too_long", format!("Use at most {} characters.", Self::MAX_CHARS)));
        }
        if raw.trim().to_lowercase() == email.trim().to_lowercase() {
            return Err(InvalidValue::new("equals_email", "The password must not be your email address."));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewPassword(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn email() -> &'static str {
        "ada@example.com"
    }

    #[test]
    fn enforces_minimum_length_in_characters() {
        assert_eq!(NewPassword::parse("short", email()).unwrap_err().code, "too_short");
        // Ten multi-byte characters are ten characters, not thirty bytes.
        assert!(NewPassword::parse("ééééééééé", email()).is_err());
        assert!(NewPassword::parse("éééééééééé", email()).is_ok());
    }

    #[test]
    fn refuses_the_email_in_any_case() {
        let err = NewPassword::parse("ADA@example.com", email()).unwrap_err();
        assert_eq!(err.code, "equals_email");
    }

    #[test]
    fn never_debug_prints_the_secret() {
        let password = NewPassword::parse("correct horse battery", email()).unwrap();
        assert!(!format!("{password:?}").contains("horse"));
    }

    proptest! {
        #[test]
        fn accepts_exactly_the_lengths_in_range(len in 0usize..300) {
            let raw = "x".repeat(len);
            let ok = NewPassword::parse(&raw, email()).is_ok();
            prop_assert_eq!(ok, (NewPassword::MIN_CHARS..=NewPassword::MAX_CHARS).contains(&len));
        }
    }
}
