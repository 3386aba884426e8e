//! Who gets which non-transactional emails: members' own choices and the
//! account's defaults. A topic without a row has not been chosen.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use domain::notification::{Choices, Topic};
use uuid::Uuid;

use crate::db::insert_all;
use crate::schema::{memberships, notification_defaults, notification_preferences, role_assignments, users};
use crate::{DbConnection, StoreError, ids, time};

/// A member an email may go to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    pub membership_id: Uuid,
    pub user_id: Uuid,
    pub email: String,
}

/// The account's members holding any of `roles` account-wide.
pub fn holding(conn: &mut DbConnection, account: Uuid, roles: &[Uuid]) -> Result<Vec<Recipient>, StoreError> {
    let roles: Vec<String> = roles.iter().copied().map(ids::to_db).collect();
    let rows: Vec<(String, String, String)> = role_assignments::table
        .inner_join(memberships::table.inner_join(users::table))
        .filter(memberships::account_id.eq(ids::to_db(account)))
        .filter(role_assignments::group_id.is_null())
        .filter(role_assignments::role_id.eq_any(&roles))
        .select((memberships::id, memberships::user_id, users::email))
        .distinct()
        .order(users::email.asc())
        .load(conn)?;
    rows.into_iter().map(recipient).collect()
}

/// Every member of the account, whatever they hold.
pub fn every_member(conn: &mut DbConnection, account: Uuid) -> Result<Vec<Recipient>, StoreError> {
    let rows: Vec<(String, String, String)> = memberships::table
        .inner_join(users::table)
        .filter(memberships::account_id.eq(ids::to_db(account)))
        .select((memberships::id, memberships::user_id, users::email))
        .order(users::email.asc())
        .load(conn)?;
    rows.into_iter().map(recipient).collect()
}

/// One user as a member of the account, if they are one.
pub fn member(conn: &mut DbConnection, account: Uuid, user: Uuid) -> Result<Option<Recipient>, StoreError> {
    Ok(members(conn, account, &[user])?.pop())
}

/// Those of `users` who are members of the account.
pub fn members(conn: &mut DbConnection, account: Uuid, users: &[Uuid]) -> Result<Vec<Recipient>, StoreError> {
    let users: Vec<String> = users.iter().copied().map(ids::to_db).collect();
    let rows: Vec<(String, String, String)> = memberships::table
        .inner_join(users::table)
        .filter(memberships::account_id.eq(ids::to_db(account)))
        .filter(memberships::user_id.eq_any(&users))
        .select((memberships::id, memberships::user_id, users::email))
        .order(users::email.asc())
        .load(conn)?;
    rows.into_iter().map(recipient).collect()
}

/// A membership by id, with the account it belongs to.
pub fn membership(conn: &mut DbConnection, id: Uuid) -> Result<Option<(Uuid, Recipient)>, StoreError> {
    let row: Option<(String, String, String, String)> = memberships::table
        .inner_join(users::table)
        .filter(memberships::id.eq(ids::to_db(id)))
        .select((memberships::account_id, memberships::id, memberships::user_id, users::email))
        .first(conn)
        .optional()?;
    row.map(|(account, id, user, email)| Ok((ids::from_db(&account)?, recipient((id, user, email))?))).transpose()
}

fn recipient((membership, user, email): (String, String, String)) -> Result<Recipient, StoreError> {
    Ok(Recipient { membership_id: ids::from_db(&membership)?, user_id: ids::from_db(&user)?, email })
}

fn choices(rows: Vec<(String, bool)>) -> Choices {
    // A topic this version does not know (written by a newer one) is skipped.
    rows.into_iter().filter_map(|(topic, enabled)| Topic::parse(&topic).ok().map(|t| (t, enabled))).collect()
}

/// The account's defaults as chosen.
pub fn account_defaults(conn: &mut DbConnection, account: Uuid) -> Result<Choices, StoreError> {
    let rows = notification_defaults::table
        .filter(notification_defaults::account_id.eq(ids::to_db(account)))
        .select((notification_defaults::topic, notification_defaults::enabled))
        .load(conn)?;
    Ok(choices(rows))
}

/// The choices of several members, by membership (absent: chose nothing).
pub fn member_choices(conn: &mut DbConnection, memberships: &[Uuid]) -> Result<HashMap<Uuid, Choices>, StoreError> {
    let ids: Vec<String> = memberships.iter().copied().map(ids::to_db).collect();
    let rows: Vec<(String, String, bool)> = notification_preferences::table
        .filter(notification_preferences::membership_id.eq_any(&ids))
        .select((
            notification_preferences::membership_id,
            notification_preferences::topic,
            notification_preferences::enabled,
        ))
        .load(conn)?;
    let mut by_membership: HashMap<Uuid, Vec<(String, bool)>> = HashMap::new();
    for (membership, topic, enabled) in rows {
        by_membership.entry(ids::from_db(&membership)?).or_default().push((topic, enabled));
    }
    Ok(by_membership.into_iter().map(|(membership, rows)| (membership, choices(rows))).collect())
}

#[derive(Insertable)]
#[diesel(table_name = notification_preferences, treat_none_as_default_value = false)]
struct PreferenceRow<'a> {
    membership_id: &'a str,
    topic: &'a str,
    enabled: bool,
    updated_at: NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = notification_defaults, treat_none_as_default_value = false)]
struct DefaultRow<'a> {
    account_id: &'a str,
    topic: &'a str,
    enabled: bool,
    updated_at: NaiveDateTime,
}

/// Records a member's choices, replacing earlier ones for the same topics.
pub fn set_member_choices(
    conn: &mut DbConnection,
    membership: Uuid,
    chosen: &Choices,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let membership = ids::to_db(membership);
    let topics: Vec<&str> = chosen.keys().map(|topic| topic.key()).collect();
    diesel::delete(notification_preferences::table)
        .filter(notification_preferences::membership_id.eq(&membership))
        .filter(notification_preferences::topic.eq_any(&topics))
        .execute(conn)?;
    let rows: Vec<PreferenceRow<'_>> = chosen
        .iter()
        .map(|(topic, enabled)| PreferenceRow {
            membership_id: &membership,
            topic: topic.key(),
            enabled: *enabled,
            updated_at: time::to_db(now),
        })
        .collect();
    insert_all!(conn, notification_preferences::table, rows)?;
    Ok(())
}

/// Records the account's defaults, replacing earlier ones for the same topics.
pub fn set_account_defaults(
    conn: &mut DbConnection,
    account: Uuid,
    chosen: &Choices,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let account = ids::to_db(account);
    let topics: Vec<&str> = chosen.keys().map(|topic| topic.key()).collect();
    diesel::delete(notification_defaults::table)
        .filter(notification_defaults::account_id.eq(&account))
        .filter(notification_defaults::topic.eq_any(&topics))
        .execute(conn)?;
    let rows: Vec<DefaultRow<'_>> = chosen
        .iter()
        .map(|(topic, enabled)| DefaultRow {
            account_id: &account,
            topic: topic.key(),
            enabled: *enabled,
            updated_at: time::to_db(now),
        })
        .collect();
    insert_all!(conn, notification_defaults::table, rows)?;
    Ok(())
}
