use crate::person_name::label;

label!(
    /// The display name of a company account.
    AccountName, max_chars: 200, what: "an account name"
);

label!(
    /// The name of a group inside an account.
    GroupName, max_chars: 200, what: "a group name"
);

label!(
    /// The display name of a role.
    RoleName, max_chars: 200, what: "a role name"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_like_a_label() {
        assert_eq!(AccountName::parse(" Acme GmbH ").unwrap().as_str(), "Acme GmbH");
        assert_eq!(AccountName::parse("").unwrap_err().message, "Enter an account name.");
        assert!(AccountName::parse(&"x".repeat(201)).is_err());
    }
}
