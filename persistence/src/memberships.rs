use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use domain::BuiltInRole;
use uuid::Uuid;

use crate::schema::{memberships, role_assignments, roles};
use crate::{DbConnection, StoreError, ids, time};

/// A user's membership of an account and the account-wide roles it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    pub id: Uuid,
    pub account_id: Uuid,
    pub user_id: Uuid,
    pub role_keys: Vec<String>,
}

/// Adds `user` to `account` holding the given built-in roles.
/// [`StoreError::Conflict`] when they are already a member.
pub fn add(
    conn: &mut DbConnection,
    account: Uuid,
    user: Uuid,
    built_in_roles: &[BuiltInRole],
    now: DateTime<Utc>,
) -> Result<Membership, StoreError> {
    let membership_id = Uuid::now_v7();
    let created_at = time::to_db(now);
    diesel::insert_into(memberships::table)
        .values((
            memberships::id.eq(ids::to_db(membership_id)),
            memberships::account_id.eq(ids::to_db(account)),
            memberships::user_id.eq(ids::to_db(user)),
            memberships::created_at.eq(created_at),
        ))
        .execute(conn)?;
    for role in built_in_roles {
        let role_id: String = roles::table
            .filter(roles::account_id.is_null())
            .filter(roles::key.eq(role.key()))
            .select(roles::id)
            .first(conn)?;
        diesel::insert_into(role_assignments::table)
            .values((
                role_assignments::id.eq(ids::to_db(Uuid::now_v7())),
                role_assignments::membership_id.eq(ids::to_db(membership_id)),
                role_assignments::role_id.eq(role_id),
                role_assignments::created_at.eq(created_at),
            ))
            .execute(conn)?;
    }
    Ok(Membership {
        id: membership_id,
        account_id: account,
        user_id: user,
        role_keys: built_in_roles.iter().map(|role| role.key().to_owned()).collect(),
    })
}

/// The caller's membership of an account, or `None` when they are not a
/// member (or the account does not exist: the two are indistinguishable on
/// purpose).
pub fn find(conn: &mut DbConnection, account: Uuid, user: Uuid) -> Result<Option<Membership>, StoreError> {
    let Some(id) = memberships::table
        .filter(memberships::account_id.eq(ids::to_db(account)))
        .filter(memberships::user_id.eq(ids::to_db(user)))
        .select(memberships::id)
        .first::<String>(conn)
        .optional()?
    else {
        return Ok(None);
    };
    let role_keys = role_keys_of(conn, &[id.as_str()])?.remove(&id).unwrap_or_default();
    Ok(Some(Membership { id: ids::from_db(&id)?, account_id: account, user_id: user, role_keys }))
}

/// Account-wide role keys per membership id, in one query.
pub(crate) fn role_keys_of(
    conn: &mut DbConnection,
    membership_ids: &[&str],
) -> Result<HashMap<String, Vec<String>>, StoreError> {
    if membership_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let pairs: Vec<(String, String)> = role_assignments::table
        .inner_join(roles::table)
        .filter(role_assignments::membership_id.eq_any(membership_ids))
        .filter(role_assignments::group_id.is_null())
        .select((role_assignments::membership_id, roles::key))
        .order((role_assignments::membership_id, roles::key))
        .load(conn)?;
    let mut by_membership: HashMap<String, Vec<String>> = HashMap::new();
    for (membership_id, key) in pairs {
        by_membership.entry(membership_id).or_default().push(key);
    }
    Ok(by_membership)
}
