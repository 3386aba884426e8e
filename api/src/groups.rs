//! Group flows. Group administrators (members whose administrative role is
//! scoped to a group) manage that group's membership only; creating,
//! renaming and deleting groups needs `groups:manage` account-wide.

use chrono::{DateTime, Utc};
use persistence::groups::{self, Group};
use persistence::{DbConnection, StoreError, memberships, write_transaction};
use uuid::Uuid;

use crate::error::ApiError;

/// The group, when it belongs to the account (404 otherwise).
pub fn existing(conn: &mut DbConnection, account: Uuid, group: Uuid) -> Result<Group, ApiError> {
    groups::find(conn, account, group)?.ok_or(ApiError::NotFound)
}

/// Puts a membership into a group of the same account (used when a role is
/// assigned inside a group the member is not yet in).
pub fn ensure_member(
    conn: &mut DbConnection,
    account: Uuid,
    group: Uuid,
    membership: Uuid,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    groups::find(conn, account, group)?
        .ok_or_else(|| ApiError::field("assignments", "unknown_group", "There is no such group in this account."))?;
    groups::add_member(conn, group, membership, now)?;
    Ok(())
}

pub fn create(
    conn: &mut DbConnection,
    account: Uuid,
    name: &str,
    description: &str,
    now: DateTime<Utc>,
) -> Result<Group, ApiError> {
    groups::create(conn, account, name, description, now).map_err(|error| match error {
        StoreError::Conflict => {
            ApiError::Conflict { code: "group_name_taken", detail: format!("The account has a group named {name:?}.") }
        }
        other => other.into(),
    })
}

pub fn add_user(
    conn: &mut DbConnection,
    account: Uuid,
    group: Uuid,
    user: Uuid,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    write_transaction(conn, |conn| {
        existing(conn, account, group)?;
        let membership = memberships::find(conn, account, user)?.ok_or_else(|| {
            ApiError::field("user_id", "not_a_member", "Only members of the account can join its groups.")
        })?;
        groups::add_member(conn, group, membership.id, now)?;
        Ok(())
    })
}

/// Takes someone out of a group (and the roles they held in it); they stay
/// a member of the account.
pub fn remove_user(conn: &mut DbConnection, account: Uuid, group: Uuid, user: Uuid) -> Result<(), ApiError> {
    write_transaction(conn, |conn| {
        existing(conn, account, group)?;
        let membership = memberships::find(conn, account, user)?.ok_or(ApiError::NotFound)?;
        if !groups::remove_member(conn, group, membership.id)? {
            return Err(ApiError::NotFound);
        }
        Ok(())
    })
}
