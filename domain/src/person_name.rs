use crate::InvalidValue;

/// Parses a human-entered label: trimmed, non-empty, bounded, and free of
/// control characters (which break emails, CSV exports and logs).
/// `what` names the value with its article ("an account name"), as the
/// messages use it.
pub(crate) fn parse_label(raw: &str, max_chars: usize, what: &str) -> Result<String, InvalidValue> {
    let trimmed = raw.trim();
    let sentence_start = || {
        let mut chars = what.chars();
        chars.next().map(|first| first.to_uppercase().chain(chars).collect::<String>()).unwrap_or_default()
    };
    if trimmed.is_empty() {
        return Err(InvalidValue::new("required", format!("Enter {what}.")));
    }
    if trimmed.chars().count() > max_chars {
        return Err(InvalidValue::new("too_long", format!("{} has at most {max_chars} characters.", sentence_start())));
    }
    // Checked on the raw text, before trimming: a tab or line break at
    // either end is a control character the contract refuses too.
    if raw.chars().any(char::is_control) {
        return Err(InvalidValue::new(
            "invalid_characters",
            format!("{} cannot contain control characters.", sentence_start()),
        ));
    }
    Ok(trimmed.to_owned())
}

/// Defines a newtype for a human-entered label parsed by [`parse_label`].
macro_rules! label {
    ($(#[$doc:meta])* $name:ident, max_chars: $max:literal, what: $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $name(String);

        impl $name {
            pub const MAX_CHARS: usize = $max;

            pub fn parse(raw: &str) -> Result<Self, $crate::InvalidValue> {
                $crate::person_name::parse_label(raw, Self::MAX_CHARS, $what).map(Self)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_inner(self) -> String {
                self.0
            }
        }
    };
}
pub(crate) use label;

label!(
    /// A first or last name.
    PersonName, max_chars: 100, what: "a name"
);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn trims_and_refuses_blank_or_control_characters() {
        assert_eq!(PersonName::parse("  Ada ").unwrap().as_str(), "Ada");
        assert_eq!(PersonName::parse("  ").unwrap_err().code, "required");
        assert_eq!(PersonName::parse(" \t").unwrap_err().code, "required");
        assert_eq!(PersonName::parse("Ada\n").unwrap_err().code, "invalid_characters");
        assert_eq!(PersonName::parse("Ada\u{0}").unwrap_err().code, "invalid_characters");
        assert_eq!(PersonName::parse(&"a".repeat(101)).unwrap_err().code, "too_long");
        assert_eq!(PersonName::parse("").unwrap_err().message, "Enter a name.");
        assert_eq!(PersonName::parse(&"a".repeat(101)).unwrap_err().message, "A name has at most 100 characters.");
    }

    proptest! {
        #[test]
        fn parsed_names_are_trimmed_and_bounded(raw in "\\PC{0,120}") {
            if let Ok(name) = PersonName::parse(&raw) {
                prop_assert_eq!(name.as_str(), name.as_str().trim());
                prop_assert!(!name.as_str().is_empty());
                prop_assert!(name.as_str().chars().count() <= PersonName::MAX_CHARS);
            }
        }
    }
}
