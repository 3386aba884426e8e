use crate::person_name::label;

label!(
    /// The display name of a company account.
    AccountName, max_chars: 200, what: "account name"
);

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
