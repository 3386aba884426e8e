//! What an account's directory (SCIM) reads and writes: the account's
//! members with the directory's profile of each (its id for them, the
//! names it sent), the account's groups with their members and the
//! directory's ids, and the roles the directory's people start with.
//! Every query is scoped to one account.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use domain::membership::MembershipStatus;
use uuid::Uuid;

use crate::schema::{directory_default_roles, group_members, groups, memberships, roles, scim_users, users};
use crate::{DbConnection, StoreError, ids, time};

/// What the directory said about a member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub external_id: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub display_name: Option<String>,
    /// The directory made the Roster user, and so keeps their names.
    pub made_user: bool,
    pub updated_at: DateTime<Utc>,
}

/// A member of the account as the directory sees them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryMember {
    pub membership_id: Uuid,
    pub user_id: Uuid,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub status: MembershipStatus,
    pub created_at: DateTime<Utc>,
    /// The latest change to the person, their membership or the profile.
    pub last_modified: DateTime<Utc>,
    pub profile: Option<Profile>,
    /// The groups they are in, with names.
    pub groups: Vec<(Uuid, String)>,
}

type MemberRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    NaiveDateTime,
    Option<NaiveDateTime>,
    NaiveDateTime,
    Option<(Option<String>, Option<String>, Option<String>, Option<String>, bool, NaiveDateTime)>,
);

/// Which members to read.
#[derive(Debug, Clone, Copy)]
pub enum Select<'a> {
    /// One, by Roster user id.
    User(Uuid),
    /// Whoever has this email (`userName eq`, through the users' index).
    Email(&'a str),
    /// Whoever the directory knows by this id (through its index).
    ExternalId(&'a str),
    /// A page, in the order they joined.
    Page { offset: i64, limit: i64 },
}

/// The account's members that `select` names, with their profiles and
/// groups, in the order they joined.
pub fn members(conn: &mut DbConnection, account: Uuid, select: Select<'_>) -> Result<Vec<DirectoryMember>, StoreError> {
    let mut query = memberships::table
        .inner_join(users::table)
        .left_join(scim_users::table)
        .filter(memberships::account_id.eq(ids::to_db(account)))
        .select((
            memberships::id,
            users::id,
            users::email,
            users::first_name,
            users::last_name,
            memberships::status,
            memberships::created_at,
            memberships::suspended_at,
            users::updated_at,
            (
                scim_users::external_id,
                scim_users::given_name,
                scim_users::family_name,
                scim_users::display_name,
                scim_users::made_user,
                scim_users::updated_at,
            )
                .nullable(),
        ))
        .order(memberships::id.asc())
        .into_boxed();
    query = match select {
        Select::User(user) => query.filter(memberships::user_id.eq(ids::to_db(user))),
        Select::Email(email) => query.filter(users::email.eq(email.to_lowercase())),
        Select::ExternalId(external) => query.filter(scim_users::external_id.eq(external.to_owned())),
        Select::Page { offset, limit } => query.offset(offset).limit(limit),
    };
    let rows: Vec<MemberRow> = query.load(conn)?;
    let membership_ids: Vec<String> = rows.iter().map(|row| row.0.clone()).collect();
    let mut groups_of = groups_of(conn, &membership_ids)?;
    rows.into_iter()
        .map(|(membership, user, email, first, last, status, created, suspended, user_updated, profile)| {
            let profile =
                profile.map(|(external_id, given_name, family_name, display_name, made_user, updated)| Profile {
                    external_id,
                    given_name,
                    family_name,
                    display_name,
                    made_user,
                    updated_at: time::from_db(updated),
                });
            let created_at = time::from_db(created);
            let last_modified = [Some(created_at), suspended.map(time::from_db), Some(time::from_db(user_updated))]
                .into_iter()
                .chain([profile.as_ref().map(|p| p.updated_at)])
                .flatten()
                .max()
                .unwrap_or(created_at);
            Ok(DirectoryMember {
                groups: groups_of.remove(&membership).unwrap_or_default(),
                membership_id: ids::from_db(&membership)?,
                user_id: ids::from_db(&user)?,
                email,
                first_name: first,
                last_name: last,
                status: MembershipStatus::parse(&status)
                    .ok_or_else(|| StoreError::Corrupt(format!("membership status {status:?}")))?,
                created_at,
                last_modified,
                profile,
            })
        })
        .collect()
}

fn groups_of(
    conn: &mut DbConnection,
    memberships: &[String],
) -> Result<HashMap<String, Vec<(Uuid, String)>>, StoreError> {
    let rows: Vec<(String, String, String)> = group_members::table
        .inner_join(groups::table)
        .filter(group_members::membership_id.eq_any(memberships))
        .select((group_members::membership_id, groups::id, groups::name))
        .order(groups::id.asc())
        .load(conn)?;
    let mut found: HashMap<String, Vec<(Uuid, String)>> = HashMap::new();
    for (membership, group, name) in rows {
        found.entry(membership).or_default().push((ids::from_db(&group)?, name));
    }
    Ok(found)
}

/// How many members the account has.
pub fn member_count(conn: &mut DbConnection, account: Uuid) -> Result<i64, StoreError> {
    Ok(memberships::table.filter(memberships::account_id.eq(ids::to_db(account))).count().get_result(conn)?)
}

/// Records what the directory says about a member (replacing what it said
/// before); `made_user` is kept once set.
pub fn save_profile(
    conn: &mut DbConnection,
    account: Uuid,
    membership: Uuid,
    profile: &Profile,
) -> Result<(), StoreError> {
    let key = ids::to_db(membership);
    let made_before: Option<bool> =
        scim_users::table.find(&key).select(scim_users::made_user).first(conn).optional()?;
    let values = (
        scim_users::external_id.eq(profile.external_id.as_deref()),
        scim_users::given_name.eq(profile.given_name.as_deref()),
        scim_users::family_name.eq(profile.family_name.as_deref()),
        scim_users::display_name.eq(profile.display_name.as_deref()),
        scim_users::updated_at.eq(time::to_db(profile.updated_at)),
    );
    match made_before {
        Some(made) => {
            diesel::update(scim_users::table.find(&key))
                .set((values, scim_users::made_user.eq(made || profile.made_user)))
                .execute(conn)?;
        }
        None => {
            diesel::insert_into(scim_users::table)
                .values((
                    scim_users::membership_id.eq(&key),
                    scim_users::account_id.eq(ids::to_db(account)),
                    values,
                    scim_users::made_user.eq(profile.made_user),
                    scim_users::created_at.eq(time::to_db(profile.updated_at)),
                ))
                .execute(conn)?;
        }
    }
    Ok(())
}

/// A group as the directory sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryGroup {
    pub id: Uuid,
    pub name: String,
    pub external_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Its members: Roster user ids with emails.
    pub members: Vec<(Uuid, String)>,
}

/// Which groups to read.
#[derive(Debug, Clone, Copy)]
pub enum GroupSelect<'a> {
    Id(Uuid),
    Name(&'a str),
    ExternalId(&'a str),
    Page { offset: i64, limit: i64 },
}

/// The account's groups `select` names, oldest first; their members only
/// when `with_members` (a directory reading groups often asks without).
pub fn groups(
    conn: &mut DbConnection,
    account: Uuid,
    select: GroupSelect<'_>,
    with_members: bool,
) -> Result<Vec<DirectoryGroup>, StoreError> {
    let mut query = groups::table
        .filter(groups::account_id.eq(ids::to_db(account)))
        .select((groups::id, groups::name, groups::external_id, groups::created_at, groups::updated_at))
        .order(groups::id.asc())
        .into_boxed();
    query = match select {
        GroupSelect::Id(id) => query.filter(groups::id.eq(ids::to_db(id))),
        // Names are unique without case; SQLite's lower() folds ASCII only,
        // so the match is made here (accounts have tens of groups).
        GroupSelect::Name(_) => query,
        GroupSelect::ExternalId(external) => query.filter(groups::external_id.eq(external.to_owned())),
        GroupSelect::Page { offset, limit } => query.offset(offset).limit(limit),
    };
    let mut rows: Vec<(String, String, Option<String>, NaiveDateTime, NaiveDateTime)> = query.load(conn)?;
    if let GroupSelect::Name(name) = select {
        let wanted = name.to_lowercase();
        rows.retain(|row| row.1.to_lowercase() == wanted);
    }
    let mut members: HashMap<String, Vec<(Uuid, String)>> = HashMap::new();
    if with_members {
        let group_ids: Vec<&String> = rows.iter().map(|row| &row.0).collect();
        let found: Vec<(String, String, String)> = group_members::table
            .inner_join(memberships::table.inner_join(users::table))
            .filter(group_members::group_id.eq_any(group_ids))
            .select((group_members::group_id, users::id, users::email))
            .order(memberships::id.asc())
            .load(conn)?;
        for (group, user, email) in found {
            members.entry(group).or_default().push((ids::from_db(&user)?, email));
        }
    }
    rows.into_iter()
        .map(|(id, name, external_id, created, updated)| {
            Ok(DirectoryGroup {
                members: members.remove(&id).unwrap_or_default(),
                id: ids::from_db(&id)?,
                name,
                external_id,
                created_at: time::from_db(created),
                updated_at: time::from_db(updated),
            })
        })
        .collect()
}

pub fn group_count(conn: &mut DbConnection, account: Uuid) -> Result<i64, StoreError> {
    Ok(groups::table.filter(groups::account_id.eq(ids::to_db(account))).count().get_result(conn)?)
}

/// Sets the directory's id for a group and marks it changed.
pub fn set_group_external_id(
    conn: &mut DbConnection,
    account: Uuid,
    group: Uuid,
    external_id: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    diesel::update(groups::table.find(ids::to_db(group)).filter(groups::account_id.eq(ids::to_db(account))))
        .set((groups::external_id.eq(external_id), groups::updated_at.eq(time::to_db(now))))
        .execute(conn)?;
    Ok(())
}

/// Marks a group changed (its members changed).
pub fn touch_group(conn: &mut DbConnection, group: Uuid, now: DateTime<Utc>) -> Result<(), StoreError> {
    diesel::update(groups::table.find(ids::to_db(group))).set(groups::updated_at.eq(time::to_db(now))).execute(conn)?;
    Ok(())
}

/// The roles the directory's people start with, as (id, key).
pub fn default_roles(conn: &mut DbConnection, account: Uuid) -> Result<Vec<(Uuid, String)>, StoreError> {
    let found: Vec<(String, String)> = directory_default_roles::table
        .inner_join(roles::table)
        .filter(directory_default_roles::account_id.eq(ids::to_db(account)))
        .select((roles::id, roles::key))
        .order(roles::key.asc())
        .load(conn)?;
    found.into_iter().map(|(id, key)| Ok((ids::from_db(&id)?, key))).collect()
}

/// The keys of [`default_roles`].
pub fn default_role_keys(conn: &mut DbConnection, account: Uuid) -> Result<Vec<String>, StoreError> {
    Ok(directory_default_roles::table
        .inner_join(roles::table)
        .filter(directory_default_roles::account_id.eq(ids::to_db(account)))
        .select(roles::key)
        .order(roles::key.asc())
        .load(conn)?)
}

/// Makes `roles` the ones the directory's people start with.
pub fn set_default_roles(conn: &mut DbConnection, account: Uuid, roles: &[Uuid]) -> Result<(), StoreError> {
    diesel::delete(directory_default_roles::table.filter(directory_default_roles::account_id.eq(ids::to_db(account))))
        .execute(conn)?;
    // One row at a time: MultiConnection has no batch insert (STACK-NOTES).
    for role in roles {
        diesel::insert_into(directory_default_roles::table)
            .values((
                directory_default_roles::account_id.eq(ids::to_db(account)),
                directory_default_roles::role_id.eq(ids::to_db(*role)),
            ))
            .execute(conn)?;
    }
    Ok(())
}
