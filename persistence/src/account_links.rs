//! Links between a parent account and its children, and the parent
//! members' roles that apply in every linked child.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use domain::account_link::{LinkFacts, LinkStatus};
use uuid::Uuid;

use crate::accounts::Account;
use crate::roles::{Role, RoleRow};
use crate::schema::{account_links, accounts, linked_roles, memberships, role_assignments, roles};
use crate::{DbConnection, StoreError, ids, time};

/// A link, with both accounts' names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountLink {
    pub id: Uuid,
    pub parent_id: Uuid,
    pub parent_name: String,
    pub child_id: Uuid,
    pub child_name: String,
    pub status: LinkStatus,
    pub requested_by: Uuid,
    pub requested_at: DateTime<Utc>,
    pub accepted_by: Option<Uuid>,
    pub accepted_at: Option<DateTime<Utc>>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = account_links)]
struct LinkRow {
    id: String,
    parent_id: String,
    child_id: String,
    status: String,
    requested_by: String,
    requested_at: NaiveDateTime,
    accepted_by: Option<String>,
    accepted_at: Option<NaiveDateTime>,
}

fn hydrate(conn: &mut DbConnection, rows: Vec<LinkRow>) -> Result<Vec<AccountLink>, StoreError> {
    let account_ids: Vec<&str> = rows.iter().flat_map(|row| [row.parent_id.as_str(), row.child_id.as_str()]).collect();
    let names: HashMap<String, String> = accounts::table
        .filter(accounts::id.eq_any(&account_ids))
        .select((accounts::id, accounts::name))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect();
    rows.into_iter()
        .map(|row| {
            let status = LinkStatus::parse(&row.status)
                .ok_or_else(|| StoreError::Corrupt(format!("account link {}: status {:?}", row.id, row.status)))?;
            Ok(AccountLink {
                id: ids::from_db(&row.id)?,
                parent_name: names.get(&row.parent_id).cloned().unwrap_or_default(),
                parent_id: ids::from_db(&row.parent_id)?,
                child_name: names.get(&row.child_id).cloned().unwrap_or_default(),
                child_id: ids::from_db(&row.child_id)?,
                status,
                requested_by: ids::from_db(&row.requested_by)?,
                requested_at: time::from_db(row.requested_at),
                accepted_by: row.accepted_by.as_deref().map(ids::from_db).transpose()?,
                accepted_at: row.accepted_at.map(time::from_db),
            })
        })
        .collect()
}

/// What `check_link` needs to know about a parent and a child.
pub fn facts(conn: &mut DbConnection, parent: Uuid, child: Uuid) -> Result<LinkFacts, StoreError> {
    let (parent, child) = (ids::to_db(parent), ids::to_db(child));
    let as_child = |conn: &mut DbConnection, account: &str| -> Result<bool, StoreError> {
        let found: Option<String> = account_links::table
            .filter(account_links::child_id.eq(account))
            .select(account_links::id)
            .first(conn)
            .optional()?;
        Ok(found.is_some())
    };
    let child_has_children: Option<String> = account_links::table
        .filter(account_links::parent_id.eq(&child))
        .select(account_links::id)
        .first(conn)
        .optional()?;
    Ok(LinkFacts {
        same_account: parent == child,
        child_has_parent: as_child(conn, &child)?,
        child_has_children: child_has_children.is_some(),
        parent_has_parent: as_child(conn, &parent)?,
    })
}

/// Records a pending link. [`StoreError::Conflict`] when the child has a
/// link already (one parent per child).
pub fn insert(
    conn: &mut DbConnection,
    parent: Uuid,
    child: Uuid,
    by: Uuid,
    now: DateTime<Utc>,
) -> Result<AccountLink, StoreError> {
    let id = Uuid::now_v7();
    diesel::insert_into(account_links::table)
        .values((
            account_links::id.eq(ids::to_db(id)),
            account_links::parent_id.eq(ids::to_db(parent)),
            account_links::child_id.eq(ids::to_db(child)),
            account_links::status.eq(LinkStatus::Pending.key()),
            account_links::requested_by.eq(ids::to_db(by)),
            account_links::requested_at.eq(time::to_db(now)),
        ))
        .execute(conn)?;
    find(conn, id)?.ok_or_else(|| StoreError::Corrupt(format!("account link {id} vanished while written")))
}

pub fn find(conn: &mut DbConnection, id: Uuid) -> Result<Option<AccountLink>, StoreError> {
    let rows: Vec<LinkRow> = account_links::table.find(ids::to_db(id)).select(LinkRow::as_select()).load(conn)?;
    Ok(hydrate(conn, rows)?.pop())
}

/// The links `account` is part of, as parent or as child, oldest first.
pub fn of_account(conn: &mut DbConnection, account: Uuid) -> Result<Vec<AccountLink>, StoreError> {
    let account = ids::to_db(account);
    let rows: Vec<LinkRow> = account_links::table
        .filter(account_links::parent_id.eq(&account).or(account_links::child_id.eq(&account)))
        .order(account_links::id.asc())
        .select(LinkRow::as_select())
        .load(conn)?;
    hydrate(conn, rows)
}

/// Makes a pending link active; whether it was pending.
pub fn accept(conn: &mut DbConnection, id: Uuid, by: Uuid, now: DateTime<Utc>) -> Result<bool, StoreError> {
    let changed = diesel::update(
        account_links::table.find(ids::to_db(id)).filter(account_links::status.eq(LinkStatus::Pending.key())),
    )
    .set((
        account_links::status.eq(LinkStatus::Active.key()),
        account_links::accepted_by.eq(ids::to_db(by)),
        account_links::accepted_at.eq(time::to_db(now)),
    ))
    .execute(conn)?;
    Ok(changed > 0)
}

/// Ends a link (or withdraws or declines its request); whether it existed.
pub fn delete(conn: &mut DbConnection, id: Uuid) -> Result<bool, StoreError> {
    Ok(diesel::delete(account_links::table.find(ids::to_db(id))).execute(conn)? > 0)
}

/// The parent of `child`, when an active link joins them.
pub fn active_parent(conn: &mut DbConnection, child: Uuid) -> Result<Option<Uuid>, StoreError> {
    let parent: Option<String> = account_links::table
        .filter(account_links::child_id.eq(ids::to_db(child)))
        .filter(account_links::status.eq(LinkStatus::Active.key()))
        .select(account_links::parent_id)
        .first(conn)
        .optional()?;
    parent.as_deref().map(ids::from_db).transpose()
}

/// The roles of the parent's members among `users` that apply in `child`
/// through an active link, by user. Only roles still held account-wide
/// count.
pub(crate) fn inherited_roles(
    conn: &mut DbConnection,
    child: Uuid,
    users: &[Uuid],
) -> Result<HashMap<Uuid, Vec<Role>>, StoreError> {
    let parent = account_links::table
        .filter(account_links::child_id.eq(ids::to_db(child)))
        .filter(account_links::status.eq(LinkStatus::Active.key()))
        .select(account_links::parent_id);
    let user_ids: Vec<String> = users.iter().copied().map(ids::to_db).collect();
    let still_held = role_assignments::table
        .filter(role_assignments::membership_id.eq(linked_roles::membership_id))
        .filter(role_assignments::role_id.eq(linked_roles::role_id))
        .filter(role_assignments::group_id.is_null());
    let rows: Vec<(String, RoleRow)> = linked_roles::table
        .inner_join(memberships::table)
        .inner_join(roles::table)
        .filter(linked_roles::account_id.eq_any(parent))
        .filter(memberships::user_id.eq_any(&user_ids))
        // A member suspended in the parent holds nothing through it either.
        .filter(memberships::status.eq(domain::membership::MembershipStatus::Active.key()))
        .filter(diesel::dsl::exists(still_held))
        .select((memberships::user_id, RoleRow::as_select()))
        .load(conn)?;
    let (holders, role_rows): (Vec<String>, Vec<RoleRow>) = rows.into_iter().unzip();
    let mut found: HashMap<Uuid, Vec<Role>> = HashMap::new();
    for (role, user) in crate::roles::hydrate(conn, role_rows)?.into_iter().zip(holders) {
        found.entry(ids::from_db(&user)?).or_default().push(role);
    }
    Ok(found)
}

/// The roles of `membership` that apply in linked accounts.
pub fn linked_role_ids(conn: &mut DbConnection, membership: Uuid) -> Result<Vec<Uuid>, StoreError> {
    let found: Vec<String> = linked_roles::table
        .filter(linked_roles::membership_id.eq(ids::to_db(membership)))
        .order(linked_roles::role_id.asc())
        .select(linked_roles::role_id)
        .load(conn)?;
    found.iter().map(|id| ids::from_db(id)).collect()
}

/// The keys of the roles that apply in linked accounts, per membership id.
pub(crate) fn linked_role_keys(
    conn: &mut DbConnection,
    membership_ids: &[&str],
) -> Result<HashMap<String, Vec<String>>, StoreError> {
    if membership_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(String, String)> = linked_roles::table
        .inner_join(roles::table)
        .filter(linked_roles::membership_id.eq_any(membership_ids))
        .select((linked_roles::membership_id, roles::key))
        .load(conn)?;
    let mut found: HashMap<String, Vec<String>> = HashMap::new();
    for (membership, key) in rows {
        found.entry(membership).or_default().push(key);
    }
    Ok(found)
}

/// Replaces the roles of `membership` (of `account`) that apply in linked
/// accounts.
pub fn set_linked_roles(
    conn: &mut DbConnection,
    account: Uuid,
    membership: Uuid,
    role_ids: &[Uuid],
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    diesel::delete(linked_roles::table.filter(linked_roles::membership_id.eq(ids::to_db(membership)))).execute(conn)?;
    for role in role_ids {
        diesel::insert_into(linked_roles::table)
            .values((
                linked_roles::membership_id.eq(ids::to_db(membership)),
                linked_roles::role_id.eq(ids::to_db(*role)),
                linked_roles::account_id.eq(ids::to_db(account)),
                linked_roles::created_at.eq(time::to_db(now)),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Forgets the linked roles `membership` no longer holds account-wide, so
/// that giving a role back later does not silently extend it again.
pub(crate) fn prune_linked_roles(conn: &mut DbConnection, membership: Uuid, held: &[Uuid]) -> Result<(), StoreError> {
    let held: Vec<String> = held.iter().copied().map(ids::to_db).collect();
    diesel::delete(
        linked_roles::table
            .filter(linked_roles::membership_id.eq(ids::to_db(membership)))
            .filter(linked_roles::role_id.ne_all(held)),
    )
    .execute(conn)?;
    Ok(())
}

/// The children where `user` holds roles through the parent, after `after`
/// (an account id), with the parent and the keys of those roles.
pub fn inherited_accounts(
    conn: &mut DbConnection,
    user: Uuid,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<(Account, Uuid, Vec<String>)>, StoreError> {
    let rows: Vec<(String, String)> = linked_roles::table
        .inner_join(memberships::table)
        .inner_join(roles::table)
        .filter(memberships::user_id.eq(ids::to_db(user)))
        // Suspended in the parent: nothing through it either.
        .filter(memberships::status.eq(domain::membership::MembershipStatus::Active.key()))
        .filter(diesel::dsl::exists(
            role_assignments::table
                .filter(role_assignments::membership_id.eq(linked_roles::membership_id))
                .filter(role_assignments::role_id.eq(linked_roles::role_id))
                .filter(role_assignments::group_id.is_null()),
        ))
        .select((linked_roles::account_id, roles::key))
        .load(conn)?;
    let mut keys_by_parent: HashMap<String, Vec<String>> = HashMap::new();
    for (parent, key) in rows {
        keys_by_parent.entry(parent).or_default().push(key);
    }
    if keys_by_parent.is_empty() {
        return Ok(Vec::new());
    }
    let parents: Vec<&String> = keys_by_parent.keys().collect();
    let mut query = account_links::table
        .filter(account_links::parent_id.eq_any(parents))
        .filter(account_links::status.eq(LinkStatus::Active.key()))
        .select((account_links::child_id, account_links::parent_id))
        .order(account_links::child_id.asc())
        .limit(limit)
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(account_links::child_id.gt(ids::to_db(after)));
    }
    let children: Vec<(String, String)> = query.load(conn)?;
    let parents: HashMap<Uuid, String> = children
        .iter()
        .map(|(child, parent)| Ok((ids::from_db(child)?, parent.clone())))
        .collect::<Result<_, StoreError>>()?;
    let child_ids: Vec<Uuid> = parents.keys().copied().collect();
    crate::accounts::find_many(conn, &child_ids)?
        .into_iter()
        .map(|account| {
            let parent = &parents[&account.id];
            let mut keys = keys_by_parent.get(parent).cloned().unwrap_or_default();
            keys.sort();
            Ok((account, ids::from_db(parent)?, keys))
        })
        .collect()
}
