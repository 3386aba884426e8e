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
    AuditRead => "audit:read", "Read the audit log and run access reviews.", admin_equivalent: false;
    WebhooksManage => "webhooks:manage", "Configure webhooks.", admin_equivalent: false;
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

/// The permissions a member holds in one scope: the union of their roles'.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PermissionSet(BTreeSet<Permission>);

impl PermissionSet {
    pub fn contains(&self, permission: Permission) -> bool {
        self.0.contains(&permission)
    }

    pub fn iter(&self) -> impl Iterator<Item = Permission> + '_ {
        self.0.iter().copied()
    }

    pub fn is_superset(&self, other: &PermissionSet) -> bool {
        self.0.is_superset(&other.0)
    }
}

impl FromIterator<Permission> for PermissionSet {
    fn from_iter<I: IntoIterator<Item = Permission>>(iter: I) -> Self {
        Self(iter.into_iter().collect())
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
    fn managing_roles_is_labelled_administrator_equivalent() {
        assert!(Permission::RolesManage.is_administrator_equivalent());
        assert!(!Permission::MembersRead.is_administrator_equivalent());
    }
}
