//! Roster's business rules, free of IO: values that parse instead of validate
//! (an [`Email`] is always normalised, a [`NewPassword`] always meets the
//! policy), the permission catalogue and built-in roles, and the clock that
//! every time-dependent rule reads instead of the system time.

pub mod access;
pub mod access_review;
pub mod account;
pub mod account_link;
pub mod address;
pub mod api_key;
pub mod audit;
pub mod catalogue;
pub mod clock;
pub mod contact;
pub mod email;
pub mod email_domain;
pub mod erasure;
pub mod import;
pub mod invitation;
pub mod join;
pub mod locale;
pub mod membership;
pub mod notification;
pub mod password;
pub mod permission;
pub mod person_name;
pub mod plan;
pub mod rate_limit;
pub mod role;
pub mod scim;
pub mod sso;
pub mod text;
pub mod webhook;

pub use account::{AccountName, GroupName, RoleName};
pub use catalogue::{Catalogue, HeldRole, RoleKind};
pub use clock::{Clock, ManualClock, SystemClock};
pub use email::Email;
pub use locale::{Locale, TimeZone};
pub use password::NewPassword;
pub use permission::{Permission, PermissionSet};
pub use person_name::PersonName;
pub use role::{BuiltInRole, GrantRefused, TooManyRoles, check_grant, check_role_count, may_remove};
pub use text::{Description, InvitationMessage, SearchText};

/// Why a value offered from outside was refused. The message is written for
/// the person who typed the value, so it may be shown to them as is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct InvalidValue {
    /// Stable, machine-readable reason (`too_short`, `invalid_format`, …).
    pub code: &'static str,
    pub message: String,
}

impl InvalidValue {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self { code, message: message.into() }
    }
}
