//! Groups of an account's members. Every query is scoped to one account.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::schema::{group_members, group_roles, groups, role_assignments};
use crate::{DbConnection, StoreError, ids, time};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub id: Uuid,
    pub account_id: Uuid,
    pub name: String,
    pub description: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = groups)]
struct GroupRow {
    id: String,
    account_id: String,
    name: String,
    description: String,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl TryFrom<GroupRow> for Group {
    type Error = StoreError;

    fn try_from(row: GroupRow) -> Result<Self, StoreError> {
        Ok(Group {
            id: ids::from_db(&row.id)?,
            account_id: ids::from_db(&row.account_id)?,
            name: row.name,
            description: row.description,
            created_at: time::from_db(row.created_at),
            updated_at: time::from_db(row.updated_at),
        })
    }
}

/// Every group of the account by lower-cased name (lower-cased here rather
/// than in SQL, where SQLite folds ASCII only). Accounts have tens of groups.
pub fn ids_by_name(
    conn: &mut DbConnection,
    account: Uuid,
) -> Result<std::collections::HashMap<String, Uuid>, StoreError> {
    let found: Vec<(String, String)> = groups::table
        .filter(groups::account_id.eq(ids::to_db(account)))
        .select((groups::id, groups::name))
        .load(conn)?;
    found.into_iter().map(|(id, name)| Ok((name.to_lowercase(), ids::from_db(&id)?))).collect()
}

/// [`StoreError::Conflict`] when the account has a group of that name.
pub fn create(
    conn: &mut DbConnection,
    account: Uuid,
    name: &str,
    description: &str,
    now: DateTime<Utc>,
) -> Result<Group, StoreError> {
    let row = GroupRow {
        id: ids::to_db(Uuid::now_v7()),
        account_id: ids::to_db(account),
        name: name.to_owned(),
        description: description.to_owned(),
        created_at: time::to_db(now),
        updated_at: time::to_db(now),
    };
    diesel::insert_into(groups::table).values(&row).execute(conn)?;
    row.try_into()
}

pub fn find(conn: &mut DbConnection, account: Uuid, id: Uuid) -> Result<Option<Group>, StoreError> {
    groups::table
        .filter(groups::account_id.eq(ids::to_db(account)))
        .filter(groups::id.eq(ids::to_db(id)))
        .select(GroupRow::as_select())
        .first(conn)
        .optional()?
        .map(Group::try_from)
        .transpose()
}

pub fn list(conn: &mut DbConnection, account: Uuid, after: Option<Uuid>, limit: i64) -> Result<Vec<Group>, StoreError> {
    let mut query = groups::table
        .filter(groups::account_id.eq(ids::to_db(account)))
        .select(GroupRow::as_select())
        .order(groups::id.asc())
        .limit(limit)
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(groups::id.gt(ids::to_db(after)));
    }
    query.load(conn)?.into_iter().map(Group::try_from).collect()
}

pub fn update(
    conn: &mut DbConnection,
    account: Uuid,
    id: Uuid,
    name: Option<&str>,
    description: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Option<Group>, StoreError> {
    let target =
        || groups::table.filter(groups::account_id.eq(ids::to_db(account))).filter(groups::id.eq(ids::to_db(id)));
    if let Some(name) = name {
        diesel::update(target()).set(groups::name.eq(name)).execute(conn)?;
    }
    if let Some(description) = description {
        diesel::update(target()).set(groups::description.eq(description)).execute(conn)?;
    }
    diesel::update(target()).set(groups::updated_at.eq(time::to_db(now))).execute(conn)?;
    find(conn, account, id)
}

/// Deletes a group and the roles held inside it. Call inside a transaction.
pub fn delete(conn: &mut DbConnection, account: Uuid, id: Uuid) -> Result<bool, StoreError> {
    diesel::delete(role_assignments::table.filter(role_assignments::group_id.eq(ids::to_db(id)))).execute(conn)?;
    let deleted = diesel::delete(
        groups::table.filter(groups::account_id.eq(ids::to_db(account))).filter(groups::id.eq(ids::to_db(id))),
    )
    .execute(conn)?;
    Ok(deleted == 1)
}

/// Adds a membership to a group; adding twice changes nothing.
pub fn add_member(
    conn: &mut DbConnection,
    group: Uuid,
    membership: Uuid,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    if is_member(conn, group, membership)? {
        return Ok(());
    }
    grant_roles(conn, group, membership, now)?;
    match diesel::insert_into(group_members::table)
        .values((
            group_members::group_id.eq(ids::to_db(group)),
            group_members::membership_id.eq(ids::to_db(membership)),
            group_members::created_at.eq(time::to_db(now)),
        ))
        .execute(conn)
        .map_err(StoreError::from)
    {
        Ok(_) | Err(StoreError::Conflict) => Ok(()),
        Err(other) => Err(other),
    }
}

pub fn is_member(conn: &mut DbConnection, group: Uuid, membership: Uuid) -> Result<bool, StoreError> {
    let count: i64 = group_members::table
        .filter(group_members::group_id.eq(ids::to_db(group)))
        .filter(group_members::membership_id.eq(ids::to_db(membership)))
        .count()
        .get_result(conn)?;
    Ok(count > 0)
}

/// Removes a membership from a group, with the roles it held inside it
/// and those the group gave it. Returns false when it was not in the group.
pub fn remove_member(
    conn: &mut DbConnection,
    group: Uuid,
    membership: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let key = ids::to_db(group);
    diesel::delete(
        role_assignments::table
            .filter(role_assignments::group_id.eq(&key).or(role_assignments::via_group_id.eq(&key)))
            .filter(role_assignments::membership_id.eq(ids::to_db(membership))),
    )
    .execute(conn)?;
    let removed = diesel::delete(
        group_members::table
            .filter(group_members::group_id.eq(ids::to_db(group)))
            .filter(group_members::membership_id.eq(ids::to_db(membership))),
    )
    .execute(conn)?;
    // What another of its groups gives too, it keeps.
    for other in of_membership(conn, membership)?.into_iter().filter(|other| *other != group) {
        grant_roles(conn, other, membership, now)?;
    }
    Ok(removed == 1)
}

/// The groups a membership belongs to.
pub fn of_membership(conn: &mut DbConnection, membership: Uuid) -> Result<Vec<Uuid>, StoreError> {
    let groups: Vec<String> = group_members::table
        .filter(group_members::membership_id.eq(ids::to_db(membership)))
        .select(group_members::group_id)
        .load(conn)?;
    groups.iter().map(|id| ids::from_db(id)).collect()
}

/// The roles `group` gives its members: (role, held inside the group).
pub fn roles(conn: &mut DbConnection, group: Uuid) -> Result<Vec<(Uuid, bool)>, StoreError> {
    let rows: Vec<(String, bool)> = group_roles::table
        .filter(group_roles::group_id.eq(ids::to_db(group)))
        .select((group_roles::role_id, group_roles::in_group))
        .order((group_roles::role_id.asc(), group_roles::in_group.asc()))
        .load(conn)?;
    rows.into_iter().map(|(role, in_group)| Ok((ids::from_db(&role)?, in_group))).collect()
}

/// Makes `wanted` the roles `group` gives, and brings its members in line:
/// what it no longer gives is taken back (unless another of their groups
/// gives it), what it newly gives is granted.
pub fn set_roles(
    conn: &mut DbConnection,
    group: Uuid,
    wanted: &[(Uuid, bool)],
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let key = ids::to_db(group);
    diesel::delete(group_roles::table.filter(group_roles::group_id.eq(&key))).execute(conn)?;
    for (role, in_group) in wanted {
        diesel::insert_into(group_roles::table)
            .values((
                group_roles::group_id.eq(&key),
                group_roles::role_id.eq(ids::to_db(*role)),
                group_roles::in_group.eq(*in_group),
            ))
            .execute(conn)?;
    }
    let members: Vec<String> = group_members::table
        .filter(group_members::group_id.eq(&key))
        .select(group_members::membership_id)
        .load(conn)?;
    diesel::delete(role_assignments::table.filter(role_assignments::via_group_id.eq(&key))).execute(conn)?;
    for membership in &members {
        let membership = ids::from_db(membership)?;
        for other in of_membership(conn, membership)? {
            grant_roles(conn, other, membership, now)?;
        }
    }
    Ok(())
}

/// Gives `membership` the roles `group` gives that it does not hold yet,
/// marked as the group's.
fn grant_roles(conn: &mut DbConnection, group: Uuid, membership: Uuid, now: DateTime<Utc>) -> Result<(), StoreError> {
    for (role, in_group) in roles(conn, group)? {
        let scope = in_group.then(|| ids::to_db(group));
        let mut held = role_assignments::table
            .filter(role_assignments::membership_id.eq(ids::to_db(membership)))
            .filter(role_assignments::role_id.eq(ids::to_db(role)))
            .into_boxed();
        held = match &scope {
            Some(group) => held.filter(role_assignments::group_id.eq(group.clone())),
            None => held.filter(role_assignments::group_id.is_null()),
        };
        let count: i64 = held.count().get_result(conn)?;
        if count == 0 {
            diesel::insert_into(role_assignments::table)
                .values((
                    role_assignments::id.eq(ids::to_db(Uuid::now_v7())),
                    role_assignments::membership_id.eq(ids::to_db(membership)),
                    role_assignments::role_id.eq(ids::to_db(role)),
                    role_assignments::group_id.eq(scope),
                    role_assignments::via_group_id.eq(ids::to_db(group)),
                    role_assignments::created_at.eq(time::to_db(now)),
                ))
                .execute(conn)?;
        }
    }
    Ok(())
}
