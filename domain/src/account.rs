use crate::InvalidValue;
use crate::person_name::parse_label;

/// The display name of a company account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountName(String);

impl AccountName {
    pub const MAX_CHARS: usize = 200;

    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        parse_label(raw, Self::MAX_CHARS, "account name").map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_like_a_label() {
        assert_eq!(AccountName::parse(" Acme GmbH ").unwrap().as_str(), "Acme GmbH");
        assert!(AccountName::parse("").is_err());
        assert!(AccountName::parse(&"x".repeat(201)).is_err());
    }
}
