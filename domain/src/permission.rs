use std::collections::BTreeSet;
use std::fmt;

use crate::InvalidValue;

macro_rules! catalogue {
    ($($variant:ident => $key:literal, $description:literal, admin_equivalent: $admin:literal;)+) => {
        /// One of Roster's own permissions. Keys are part of the public API
        /// (tokens, role definitions and clients use them) and never change.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Permission {
            $($variant,)+
        }

        impl Permission {
            pub const ALL: &'static [Permission] = &[$(Permission::$variant,)+];

            pub fn key(self) -> &'static str {
                match self {
                    $(Permission::$variant => $key,)+
                }
            }

            pub fn description(self) -> &'static str {
                match self {
                    $(Permission::$variant => $description,)+
                }
            }

            /// Whether holding this permission amounts to administering the
            /// account (it lets the holder change what others may do).
            pub fn is_administrator_equivalent(self) -> bool {
                match self {
                    $(Permission::$variant => $admin,)+
                }
            }

            pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
                match raw {
                    $($key => Ok(Permission::$variant),)+
                    _ => Err(InvalidValue::new("unknown_permission", format!("There is no permission called {raw:?}."))),
                }
            }
        }
    };
}

catalogue! {
    AccountDelete => "account:delete", "Delete the account and all its data.", admin_equivalent: true;
    OwnershipTransfer => "ownership:transfer", "Make another member an owner of the account.", admin_equivalent: true;
    SettingsRead => "settings:read", "See the account's contacts, addresses and settings.", admin_equivalent: false;
    SettingsManage => "settings:manage", "Change the account's name, preferences and settings.", admin_equivalent: false;
    MembersRead => "members:read", "See the account's members and their roles.", admin_equivalent: false;
    MembersManage => "members:manage", "Remove members from the account.", admin_equivalent: false;
    InvitationsManage => "invitations:manage", "Invite people and resend or revoke invitations.", admin_equivalent: false;
    RolesManage => "roles:manage", "Define roles and assign them to members (administrator-equivalent).", admin_equivalent: true;
    GroupsManage => "groups:manage", "Create groups and manage their members.", admin_equivalent: false;
    JoinLinksManage => "join_links:manage", "Publish, rotate and disable join links.", admin_equivalent: false;
    JoinRequestsReview => "join_requests:review", "Approve or deny requests to join the account.", admin_equivalent: false;
    ImportsManage => "imports:manage", "Invite people by uploading a spreadsheet.", admin_equivalent: false;
    PartnersManage => "partners:manage", "Grant and revoke API keys for authorised partners.", admin_equivalent: true;
    AuditRead => "audit:read", "Read the audit log.", admin_equivalent: false;
    AccessReviewsManage => "access_reviews:manage", "Start access reviews (of the account, or of a group where held) and decide in them which members keep their access.", admin_equivalent: true;
    WebhooksManage => "webhooks:manage", "Configure webhooks.", admin_equivalent: false;
    LinkedAccountsManage => "linked_accounts:manage", "Link the account to a parent or child account and extend members' roles to linked accounts.", admin_equivalent: true;
}

impl Permission {
    /// What only owners hold: administrators hold every other permission.
    pub const OWNER_ONLY: [Permission; 3] =
        [Permission::AccountDelete, Permission::OwnershipTransfer, Permission::LinkedAccountsManage];

    pub fn is_owner_only_key(key: &str) -> bool {
        Self::OWNER_ONLY.iter().any(|permission| permission.key() == key)
    }
}

/// Published and read as its key (`"members:read"`).
impl serde::Serialize for Permission {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.key())
    }
}

impl<'de> serde::Deserialize<'de> for Permission {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let key = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Permission::parse(&key).map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

/// A set of permission keys: Roster's own and application permissions alike.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PermissionSet(BTreeSet<String>);

impl PermissionSet {
    pub fn contains(&self, permission: Permission) -> bool {
        self.0.contains(permission.key())
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.0.contains(key)
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> + '_ {
        self.0.iter().map(String::as_str)
    }

    pub fn is_superset(&self, other: &PermissionSet) -> bool {
        self.0.is_superset(&other.0)
    }

    /// The keys of `other` this set lacks.
    pub fn missing_from<'a>(&self, other: &'a PermissionSet) -> Vec<&'a str> {
        other.0.iter().filter(|key| !self.0.contains(*key)).map(String::as_str).collect()
    }

    pub fn extend(&mut self, other: &PermissionSet) {
        self.0.extend(other.0.iter().cloned());
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl FromIterator<Permission> for PermissionSet {
    fn from_iter<I: IntoIterator<Item = Permission>>(iter: I) -> Self {
        Self(iter.into_iter().map(|p| p.key().to_owned()).collect())
    }
}

impl FromIterator<String> for PermissionSet {
    fn from_iter<I: IntoIterator<Item = String>>(iter: I) -> Self {
        Self(iter.into_iter().collect())
    }
}

impl<'a> FromIterator<&'a str> for PermissionSet {
    fn from_iter<I: IntoIterator<Item = &'a str>>(iter: I) -> Self {
        Self(iter.into_iter().map(str::to_owned).collect())
    }
}

/// Checks the shape of a permission key: `area:action`, lower-case letters,
/// digits and underscores, as in `certifications:apply`.
pub fn check_key(key: &str) -> Result<(), InvalidValue> {
    let valid_part = |part: &str| {
        !part.is_empty()
            && part.starts_with(|c: char| c.is_ascii_lowercase())
            && part.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    };
    match key.split_once(':') {
        Some((area, action)) if key.len() <= 64 && valid_part(area) && valid_part(action) => Ok(()),
        _ => Err(InvalidValue::new(
            "invalid_permission_key",
            format!("{key:?} is not a permission key like area:action."),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_and_are_unique() {
        let keys: BTreeSet<_> = Permission::ALL.iter().map(|p| p.key()).collect();
        assert_eq!(keys.len(), Permission::ALL.len());
        for permission in Permission::ALL {
            assert_eq!(Permission::parse(permission.key()).unwrap(), *permission);
        }
        assert!(Permission::parse("members:everything").is_err());
    }

    #[test]
    fn keys_have_the_area_action_shape() {
        for key in Permission::ALL.iter().map(|p| p.key()).chain(["certifications:apply", "a1:b_2"]) {
            assert!(check_key(key).is_ok(), "{key}");
        }
        for key in ["", "members", "Members:read", "members:", ":read", "a:b:c", "a-b:c", "9a:b"] {
            assert!(check_key(key).is_err(), "{key}");
        }
    }

    #[test]
    fn managing_roles_is_labelled_administrator_equivalent() {
        assert!(Permission::RolesManage.is_administrator_equivalent());
        assert!(!Permission::MembersRead.is_administrator_equivalent());
    }
}
