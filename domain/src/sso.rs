//! Single sign-on through an account's own OpenID provider, with no IO:
//! what a connection's settings may be, which IdP groups give which roles
//! and groups, and whether an email an ID token asserts may be trusted.
//! The protocol itself (discovery, the code exchange, the ID token's
//! signature and claims) is the `openidconnect` crate's, in the api crate.

use std::collections::BTreeSet;

use chrono::Duration;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::email_domain::EmailDomain;
use crate::{Email, InvalidValue};

/// How long a sign-in started at the provider may take to come back.
pub const ATTEMPT_TTL: Duration = Duration::minutes(10);

/// How long the one-time code handed to the frontend stays exchangeable.
pub const GRANT_TTL: Duration = Duration::minutes(2);

/// The scopes asked of the provider: `openid` always, each an OAuth scope
/// token (RFC 6749 §3.3), at most 20, in the order given, once each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scopes(Vec<String>);

impl Scopes {
    pub const MAX: usize = 20;

    pub fn parse(raw: &[String]) -> Result<Self, InvalidValue> {
        if raw.len() > Self::MAX {
            return Err(InvalidValue::new("too_many", "At most 20 scopes."));
        }
        let token_ok = |scope: &String| {
            (1..=100).contains(&scope.len())
                && scope.bytes().all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b))
        };
        if !raw.iter().all(token_ok) {
            return Err(InvalidValue::new(
                "invalid_scope",
                "Scopes are printable ASCII words without spaces, quotes or backslashes.",
            ));
        }
        if !raw.iter().any(|scope| scope == "openid") {
            return Err(InvalidValue::new("openid_required", "The scopes must include openid."));
        }
        let mut seen = BTreeSet::new();
        if !raw.iter().all(|scope| seen.insert(scope)) {
            return Err(InvalidValue::new("duplicate_scope", "List each scope once."));
        }
        Ok(Self(raw.to_vec()))
    }

    /// `openid email profile`, what every provider understands.
    pub fn standard() -> Self {
        Self(["openid", "email", "profile"].map(String::from).to_vec())
    }

    pub fn as_slice(&self) -> &[String] {
        &self.0
    }
}

/// The name of an ID token claim: 1 to 100 printable characters without
/// spaces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimName(String);

impl ClaimName {
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        let ok = (1..=100).contains(&raw.chars().count()) && raw.chars().all(|c| c.is_ascii_graphic());
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(InvalidValue::new(
                "invalid_claim",
                "A claim name is 1 to 100 printable ASCII characters without spaces.",
            ))
        }
    }

    pub fn email() -> Self {
        Self("email".into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Members of `idp_group` at the provider get `roles` (account-wide, by
/// key) and are put in `groups`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupRule {
    pub idp_group: String,
    #[serde(default)]
    pub roles: Vec<String>,
    #[serde(default)]
    pub groups: Vec<Uuid>,
}

/// What a person signing in through a connection receives.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mapped {
    /// Role keys.
    pub roles: BTreeSet<String>,
    pub groups: BTreeSet<Uuid>,
}

/// How a connection turns the provider's groups into Roster's: each rule
/// whose IdP group the person is in applies; someone matched by no rule
/// gets the connection's default roles.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoleMapping {
    pub rules: Vec<GroupRule>,
    pub default_roles: Vec<String>,
}

impl RoleMapping {
    pub const MAX_RULES: usize = 50;

    pub fn mapped(&self, idp_groups: &[String]) -> Mapped {
        let mut mapped = Mapped::default();
        for rule in self.rules.iter().filter(|rule| idp_groups.contains(&rule.idp_group)) {
            mapped.roles.extend(rule.roles.iter().cloned());
            mapped.groups.extend(rule.groups.iter().copied());
        }
        if mapped.roles.is_empty() && mapped.groups.is_empty() {
            mapped.roles.extend(self.default_roles.iter().cloned());
        }
        mapped
    }

    /// Every role key the mapping can give.
    pub fn role_keys(&self) -> BTreeSet<&str> {
        self.rules.iter().flat_map(|rule| rule.roles.iter()).chain(&self.default_roles).map(String::as_str).collect()
    }
}

/// Whether the email an ID token asserts may identify a Roster user: the
/// provider says it verified it, or it is at a domain the account
/// verified (the account controls that domain's mail, so its provider
/// speaks for it).
pub fn email_trusted(email_verified: Option<bool>, email: &Email, verified_domains: &[EmailDomain]) -> bool {
    email_verified == Some(true) || crate::email_domain::at_any(verified_domains, email)
}

/// Whether an account requires its people to sign in through its identity
/// provider, and the owner who keeps password access (break-glass).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SsoPolicy {
    pub required: bool,
    pub break_glass_owner: Option<Uuid>,
}

/// Where a member stands under their account's policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordAccess {
    /// Their email is at one of the account's verified domains.
    pub at_verified_domain: bool,
    pub is_owner: bool,
    /// The policy's break-glass user is still an owner of the account.
    pub break_glass_is_owner: bool,
    /// The session signed in through one of the account's connections.
    pub through_account_sso: bool,
}

impl SsoPolicy {
    /// Whether `user` may act in the account in a session signed in as
    /// `access` says. One owner always may: the break-glass owner, or,
    /// when that user is no longer an owner, every owner.
    pub fn allows(&self, user: Uuid, access: PasswordAccess) -> bool {
        let break_glass = access.is_owner && (self.break_glass_owner == Some(user) || !access.break_glass_is_owner);
        !self.required || !access.at_verified_domain || access.through_account_sso || break_glass
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn strings(raw: &[&str]) -> Vec<String> {
        raw.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn scopes_include_openid_once_each() {
        assert!(Scopes::parse(&strings(&["openid", "email", "groups"])).is_ok());
        assert_eq!(Scopes::parse(&strings(&["email"])).unwrap_err().code, "openid_required");
        assert_eq!(Scopes::parse(&strings(&["openid", "openid"])).unwrap_err().code, "duplicate_scope");
        assert_eq!(Scopes::parse(&strings(&["openid", "a b"])).unwrap_err().code, "invalid_scope");
        assert_eq!(Scopes::parse(&strings(&["openid", "\"x\""])).unwrap_err().code, "invalid_scope");
        assert_eq!(Scopes::parse(&strings(&["openid", ""])).unwrap_err().code, "invalid_scope");
    }

    #[test]
    fn rules_apply_by_group_and_defaults_only_when_none_does() {
        let design = Uuid::now_v7();
        let mapping = RoleMapping {
            rules: vec![
                GroupRule { idp_group: "eng".into(), roles: strings(&["developer"]), groups: vec![] },
                GroupRule { idp_group: "design".into(), roles: strings(&["analyst"]), groups: vec![design] },
            ],
            default_roles: strings(&["marketer"]),
        };
        let both = mapping.mapped(&strings(&["eng", "design", "other"]));
        assert_eq!(both.roles, BTreeSet::from(["analyst".to_owned(), "developer".to_owned()]));
        assert_eq!(both.groups, BTreeSet::from([design]));
        let none = mapping.mapped(&strings(&["sales"]));
        assert_eq!(none.roles, BTreeSet::from(["marketer".to_owned()]));
        assert!(none.groups.is_empty());
        assert_eq!(mapping.role_keys(), BTreeSet::from(["analyst", "developer", "marketer"]));
    }

    #[test]
    fn emails_are_trusted_when_verified_or_at_a_verified_domain() {
        let acme = [EmailDomain::parse("acme.example").unwrap()];
        let at = |raw: &str| Email::parse(raw).unwrap();
        assert!(email_trusted(Some(true), &at("ada@elsewhere.example"), &acme));
        assert!(email_trusted(Some(false), &at("ada@acme.example"), &acme));
        assert!(email_trusted(None, &at("ada@acme.example"), &acme));
        assert!(!email_trusted(Some(false), &at("ada@elsewhere.example"), &acme));
        assert!(!email_trusted(None, &at("ada@eu.acme.example"), &acme));
    }

    #[test]
    fn a_required_policy_refuses_password_sessions_of_people_at_its_domains() {
        let (ada, owner) = (Uuid::now_v7(), Uuid::now_v7());
        let policy = SsoPolicy { required: true, break_glass_owner: Some(owner) };
        let member = PasswordAccess {
            at_verified_domain: true,
            is_owner: false,
            break_glass_is_owner: true,
            through_account_sso: false,
        };
        assert!(!policy.allows(ada, member));
        assert!(policy.allows(ada, PasswordAccess { through_account_sso: true, ..member }));
        assert!(policy.allows(ada, PasswordAccess { at_verified_domain: false, ..member }));
        assert!(SsoPolicy { required: false, ..policy }.allows(ada, member));
        // Owners other than the break-glass one are refused too...
        assert!(!policy.allows(ada, PasswordAccess { is_owner: true, ..member }));
        assert!(policy.allows(owner, PasswordAccess { is_owner: true, ..member }));
        // ...unless the break-glass user is no longer an owner.
        assert!(policy.allows(ada, PasswordAccess { is_owner: true, break_glass_is_owner: false, ..member }));
        assert!(!policy.allows(owner, PasswordAccess { is_owner: false, break_glass_is_owner: false, ..member }));
    }

    proptest! {
        #[test]
        fn some_owner_always_keeps_password_access(
            required: bool, named: bool, is_owner: bool, break_glass_is_owner: bool, at_domain: bool,
        ) {
            let owner = Uuid::now_v7();
            let policy = SsoPolicy { required, break_glass_owner: named.then_some(owner) };
            let access = PasswordAccess {
                at_verified_domain: at_domain, is_owner, break_glass_is_owner: break_glass_is_owner && named,
                through_account_sso: false,
            };
            // The named owner, while an owner, always may.
            if named && break_glass_is_owner {
                let as_owner = PasswordAccess { is_owner: true, ..access };
                prop_assert!(policy.allows(owner, as_owner));
            }
            // With no break-glass owner left, every owner may.
            if !(named && break_glass_is_owner) && is_owner {
                prop_assert!(policy.allows(Uuid::now_v7(), access));
            }
        }

        #[test]
        fn a_mapping_gives_only_roles_it_names(groups in proptest::collection::vec("[a-z]{1,4}", 0..6)) {
            let mapping = RoleMapping {
                rules: vec![GroupRule { idp_group: "ab".into(), roles: strings(&["developer"]), groups: vec![] }],
                default_roles: strings(&["marketer"]),
            };
            let keys = mapping.role_keys();
            let mapped = mapping.mapped(&groups);
            prop_assert!(mapped.roles.iter().all(|role| keys.contains(role.as_str())));
            prop_assert!(!mapped.roles.is_empty());
        }
    }
}
