use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use domain::membership::MembershipStatus;
use domain::{BuiltInRole, HeldRole, RoleKind};

use crate::roles::{Role, RoleRow};
use uuid::Uuid;

use crate::db::planned_per_call;
use crate::schema::{memberships, role_assignments, roles, users};
use crate::{DbConnection, StoreError, ids, search, time};

/// A user's membership of an account and the roles it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    pub id: Uuid,
    pub account_id: Uuid,
    pub user_id: Uuid,
    pub assignments: Vec<Assignment>,
    /// When the member last made an authenticated request in the account.
    pub last_active_at: Option<DateTime<Utc>>,
    pub status: MembershipStatus,
}

/// One role held by a member, account-wide or inside one group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    pub role: Role,
    pub group_id: Option<Uuid>,
}

impl Membership {
    /// The roles as the catalogue resolves them.
    pub fn held_roles(&self) -> Vec<HeldRole> {
        self.assignments.iter().map(|assignment| assignment.role.held(assignment.group_id)).collect()
    }

    /// Keys of the roles held account-wide, sorted.
    pub fn account_role_keys(&self) -> Vec<String> {
        let mut keys: Vec<String> =
            self.assignments.iter().filter(|a| a.group_id.is_none()).map(|a| a.role.key.clone()).collect();
        keys.sort();
        keys
    }

    pub fn is_owner(&self) -> bool {
        self.assignments.iter().any(|a| a.group_id.is_none() && a.role.kind == RoleKind::BuiltIn(BuiltInRole::Owner))
    }
}

/// Adds `user` to `account` holding the given roles account-wide.
/// [`StoreError::Conflict`] when they are already a member.
pub fn add(
    conn: &mut DbConnection,
    account: Uuid,
    user: Uuid,
    role_ids: &[Uuid],
    now: DateTime<Utc>,
) -> Result<Uuid, StoreError> {
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
    let account_wide: Vec<(Uuid, Option<Uuid>)> = role_ids.iter().map(|role| (*role, None)).collect();
    insert_assignments(conn, membership_id, &account_wide, now)?;
    Ok(membership_id)
}

/// Of `emails` (normalised), those of users who are members of `account`.
pub fn member_emails_among(
    conn: &mut DbConnection,
    account: Uuid,
    emails: &[&str],
) -> Result<std::collections::HashSet<String>, StoreError> {
    let found: Vec<String> = memberships::table
        .inner_join(users::table)
        .filter(memberships::account_id.eq(ids::to_db(account)))
        .filter(users::email.eq_any(emails))
        .filter(planned_per_call())
        .select(users::email)
        .load(conn)?;
    Ok(found.into_iter().collect())
}

/// The caller's membership of an account, or `None` when they are not a
/// member (or the account does not exist: the two are indistinguishable on
/// purpose).
pub fn find(conn: &mut DbConnection, account: Uuid, user: Uuid) -> Result<Option<Membership>, StoreError> {
    Ok(find_many(conn, account, &[user])?.remove(&user))
}

/// The memberships of several users of one account, by user. One round
/// trip when each of them holds a role (the usual case: this runs on every
/// account-scoped request); a second only to tell members without roles
/// from non-members.
pub fn find_many(
    conn: &mut DbConnection,
    account: Uuid,
    users: &[Uuid],
) -> Result<HashMap<Uuid, Membership>, StoreError> {
    Ok(access_of(conn, account, users, false)?
        .into_iter()
        .filter_map(|(user, access)| Some((user, access.membership?)))
        .collect())
}

/// What a user holds in an account: their membership, and the roles of a
/// parent account that apply there through an active link.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Access {
    pub membership: Option<Membership>,
    pub inherited: Vec<Role>,
}

/// What each of `users` holds in `account`, members or not, in the same
/// single round trip as [`find_many`]: the parent's extended roles come
/// from the same query. Users holding nothing are left out.
pub fn access_in(conn: &mut DbConnection, account: Uuid, users: &[Uuid]) -> Result<HashMap<Uuid, Access>, StoreError> {
    access_of(conn, account, users, true)
}

fn access_of(
    conn: &mut DbConnection,
    account: Uuid,
    users: &[Uuid],
    with_inherited: bool,
) -> Result<HashMap<Uuid, Access>, StoreError> {
    use crate::schema::account_links;
    let account_id = ids::to_db(account);
    let user_ids: Vec<String> = users.iter().copied().map(ids::to_db).collect();
    // Whether `account` is a linked child, asked in the same round trip
    // (and always false without inherited roles wanted, so no lookup).
    let is_child = diesel::dsl::exists(
        account_links::table
            .filter(account_links::child_id.eq(account_id.clone()))
            .filter(account_links::status.eq(domain::account_link::LinkStatus::Active.key()))
            .filter(with_inherited.into_sql::<diesel::sql_types::Bool>()),
    );
    type Row = (String, String, Option<chrono::NaiveDateTime>, String, Option<String>, RoleRow, bool);
    let rows: Vec<Row> = role_assignments::table
        .inner_join(memberships::table)
        .inner_join(roles::table)
        .filter(memberships::account_id.eq(&account_id))
        .filter(memberships::user_id.eq_any(&user_ids))
        .select((
            memberships::id,
            memberships::user_id,
            memberships::last_active_at,
            memberships::status,
            role_assignments::group_id,
            RoleRow::as_select(),
            is_child,
        ))
        .load(conn)?;
    let status_of = |raw: &str| {
        MembershipStatus::parse(raw).ok_or_else(|| StoreError::Corrupt(format!("membership status {raw:?}")))
    };
    let mut linked_child = false;
    let mut found: HashMap<Uuid, Access> = HashMap::new();
    let mut holders = Vec::with_capacity(rows.len());
    let mut role_rows = Vec::with_capacity(rows.len());
    for (membership, user, last_active_at, status, group, role, is_child) in rows {
        linked_child |= is_child;
        let user = ids::from_db(&user)?;
        let access = found.entry(user).or_default();
        if access.membership.is_none() {
            access.membership = Some(Membership {
                id: ids::from_db(&membership)?,
                account_id: account,
                user_id: user,
                assignments: Vec::new(),
                last_active_at: last_active_at.map(time::from_db),
                status: status_of(&status)?,
            });
        }
        holders.push((user, group.as_deref().map(ids::from_db).transpose()?));
        role_rows.push(role);
    }
    for (role, (user, group_id)) in crate::roles::hydrate(conn, role_rows)?.into_iter().zip(holders) {
        if let Some(membership) = found.get_mut(&user).and_then(|access| access.membership.as_mut()) {
            membership.assignments.push(Assignment { role, group_id });
        }
    }
    let without_roles: Vec<&String> =
        user_ids.iter().zip(users).filter(|(_, user)| !found.contains_key(user)).map(|(id, _)| id).collect();
    if !without_roles.is_empty() {
        let bare: Vec<(String, String, Option<chrono::NaiveDateTime>, String)> = memberships::table
            .filter(memberships::account_id.eq(&account_id))
            .filter(memberships::user_id.eq_any(without_roles))
            .select((memberships::id, memberships::user_id, memberships::last_active_at, memberships::status))
            .load(conn)?;
        for (membership, user, last_active_at, status) in bare {
            let user = ids::from_db(&user)?;
            found.entry(user).or_default().membership = Some(Membership {
                id: ids::from_db(&membership)?,
                account_id: account,
                user_id: user,
                assignments: Vec::new(),
                last_active_at: last_active_at.map(time::from_db),
                status: status_of(&status)?,
            });
        }
    }
    // The parent's roles: looked up only for a linked child, or for users
    // the account itself does not know (who may hold nothing but those).
    if with_inherited && (linked_child || users.iter().any(|user| !found.contains_key(user))) {
        for (user, roles) in crate::account_links::inherited_roles(conn, account, users)? {
            found.entry(user).or_default().inherited = roles;
        }
    }
    Ok(found)
}

/// A role held, named by its key, with its scope: how members are listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldAssignment {
    pub role_key: String,
    /// `None`: account-wide.
    pub group_id: Option<Uuid>,
}

/// Keys of the roles held account-wide, in the order listed.
pub fn account_role_keys(assignments: &[HeldAssignment]) -> Vec<String> {
    assignments.iter().filter(|a| a.group_id.is_none()).map(|a| a.role_key.clone()).collect()
}

/// Every role held, account-wide first, per membership id, in one query.
pub(crate) fn assignments_of(
    conn: &mut DbConnection,
    membership_ids: &[&str],
) -> Result<HashMap<String, Vec<HeldAssignment>>, StoreError> {
    if membership_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(String, String, Option<String>)> = role_assignments::table
        .inner_join(roles::table)
        .filter(role_assignments::membership_id.eq_any(membership_ids))
        .select((role_assignments::membership_id, roles::key, role_assignments::group_id))
        .load(conn)?;
    let mut by_membership: HashMap<String, Vec<HeldAssignment>> = HashMap::new();
    for (membership_id, role_key, group) in rows {
        let group_id = group.as_deref().map(ids::from_db).transpose()?;
        by_membership.entry(membership_id).or_default().push(HeldAssignment { role_key, group_id });
    }
    for assignments in by_membership.values_mut() {
        // `None` sorts first: account-wide roles, then each group's.
        assignments.sort_by(|a, b| (a.group_id, &a.role_key).cmp(&(b.group_id, &b.role_key)));
    }
    Ok(by_membership)
}

/// A member as listed to administrators.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub user_id: Uuid,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    /// Every role held, account-wide first. For someone whose access is
    /// inherited: the parent's roles that apply here.
    pub assignments: Vec<HeldAssignment>,
    pub joined_at: DateTime<Utc>,
    /// When they last made an authenticated request in the account (`None`
    /// for someone whose access is inherited: that is the parent's).
    pub last_active_at: Option<DateTime<Utc>>,
    /// When an access review last decided on their access here.
    pub last_reviewed_at: Option<DateTime<Utc>>,
    /// The parent account whose member this is, when the access here is
    /// inherited through a link rather than a membership.
    pub inherited_from: Option<Uuid>,
    pub status: MembershipStatus,
}

type MemberRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    chrono::NaiveDateTime,
    Option<chrono::NaiveDateTime>,
    Option<chrono::NaiveDateTime>,
    String,
);

fn members_from_rows(
    conn: &mut DbConnection,
    account: Uuid,
    rows: Vec<MemberRow>,
) -> Result<Vec<(String, Member)>, StoreError> {
    let membership_ids: Vec<&str> = rows.iter().map(|row| row.0.as_str()).collect();
    let mut roles = assignments_of(conn, &membership_ids)?;
    let own_account = ids::to_db(account);
    let inherited: Vec<&str> = rows.iter().filter(|row| row.1 != own_account).map(|row| row.0.as_str()).collect();
    let linked = crate::account_links::linked_role_keys(conn, &inherited)?;
    rows.into_iter()
        .map(
            |(
                membership_id,
                account_id,
                user_id,
                email,
                first_name,
                last_name,
                joined_at,
                last_active_at,
                reviewed,
                status,
            )| {
                let mut assignments = roles.remove(&membership_id).unwrap_or_default();
                let inherited_from = if account_id == own_account {
                    None
                } else {
                    let keys = linked.get(&membership_id);
                    assignments.retain(|a| a.group_id.is_none() && keys.is_some_and(|keys| keys.contains(&a.role_key)));
                    Some(ids::from_db(&account_id)?)
                };
                let member = Member {
                    user_id: ids::from_db(&user_id)?,
                    email,
                    first_name,
                    last_name,
                    assignments,
                    joined_at: time::from_db(joined_at),
                    last_active_at: last_active_at.filter(|_| inherited_from.is_none()).map(time::from_db),
                    last_reviewed_at: reviewed.filter(|_| inherited_from.is_none()).map(time::from_db),
                    inherited_from,
                    status: MembershipStatus::parse(&status)
                        .ok_or_else(|| StoreError::Corrupt(format!("membership {membership_id}: status {status:?}")))?,
                };
                Ok((membership_id, member))
            },
        )
        .collect()
}

/// One member of the account, as listed.
pub fn find_member(conn: &mut DbConnection, account: Uuid, user: Uuid) -> Result<Option<Member>, StoreError> {
    let filter = MemberFilter {
        user: Some(user),
        search: None,
        after: None,
        limit: 1,
        role: None,
        group: None,
        inactive_since: None,
        status: None,
    };
    Ok(load_members(conn, account, filter)?.pop().map(|(_, member)| member))
}

pub struct MemberFilter<'a> {
    pub user: Option<Uuid>,
    pub search: Option<&'a str>,
    pub after: Option<&'a str>,
    pub limit: i64,
    /// Only members holding the role with this key (in any scope).
    pub role: Option<&'a str>,
    /// Only members of this group.
    pub group: Option<Uuid>,
    /// Only members not active since then (or never recorded active).
    pub inactive_since: Option<DateTime<Utc>>,
    /// Only members in this state.
    pub status: Option<MembershipStatus>,
}

/// Members in join order (membership ids are UUIDv7), filtered; the cursor
/// is the membership id of the last member of the previous page.
pub fn load_members(
    conn: &mut DbConnection,
    account: Uuid,
    filter: MemberFilter<'_>,
) -> Result<Vec<(String, Member)>, StoreError> {
    use crate::schema::{linked_roles, users};
    let own = ids::to_db(account);
    // Besides the members: the parent's members with roles that apply here
    // (unless they are members here too). Their membership ids are UUIDv7
    // like the others', so one order and one cursor serve both.
    let parent = crate::account_links::active_parent(conn, account)?;
    let mut query = memberships::table
        .inner_join(users::table)
        .select((
            memberships::id,
            memberships::account_id,
            users::id,
            users::email,
            users::first_name,
            users::last_name,
            memberships::created_at,
            memberships::last_active_at,
            memberships::last_reviewed_at,
            memberships::status,
        ))
        .order(memberships::id.asc())
        .limit(filter.limit)
        .into_boxed();
    // Besides the members: the parent's members with roles that apply here
    // (unless they are members here too). Their membership ids are UUIDv7
    // like the others', so one order and one cursor serve both.
    match parent {
        Some(parent) => {
            // The same table as the outer query's, so under another name.
            let here = diesel::alias!(memberships as members_here);
            let members_here = here
                .filter(here.field(memberships::account_id).eq(own.clone()))
                .select(here.field(memberships::user_id));
            // Any role, or only the role filtered on.
            let any_role = filter.role.is_none().into_sql::<diesel::sql_types::Bool>();
            let role_key = filter.role.unwrap_or_default().to_owned();
            let inherited =
                linked_roles::table
                    .filter(linked_roles::account_id.eq(ids::to_db(parent)))
                    .filter(any_role.or(
                        linked_roles::role_id.eq_any(roles::table.filter(roles::key.eq(role_key)).select(roles::id)),
                    ))
                    .select(linked_roles::membership_id);
            query = query.filter(
                memberships::account_id
                    .eq(own.clone())
                    .or(memberships::id.eq_any(inherited).and(memberships::user_id.ne_all(members_here))),
            );
        }
        None => query = query.filter(memberships::account_id.eq(own.clone())),
    }
    if let Some(user) = filter.user {
        query = query.filter(memberships::user_id.eq(ids::to_db(user)));
    }
    if let Some(status) = filter.status {
        query = query.filter(memberships::status.eq(status.key()));
    }
    if let Some(group) = filter.group {
        use crate::schema::group_members;
        let in_group = group_members::table
            .filter(group_members::group_id.eq(ids::to_db(group)))
            .select(group_members::membership_id);
        query = query.filter(memberships::id.eq_any(in_group));
    }
    if let Some(role) = filter.role {
        let holders = role_assignments::table
            .inner_join(roles::table)
            .filter(roles::key.eq(role.to_owned()))
            // The account's roles, and for inherited people the parent's.
            .filter(
                roles::account_id.is_null().or(roles::account_id
                    .eq_any([Some(account), parent].into_iter().flatten().map(ids::to_db).collect::<Vec<_>>())),
            )
            .select(role_assignments::membership_id);
        query = query.filter(memberships::id.eq_any(holders));
    }
    if let Some(phrase) = filter.search.filter(|_| matches!(conn, DbConnection::Sqlite(_))).and_then(search::fts_phrase)
    {
        // SQLite: the trigram index names the few candidates; the LIKE
        // below keeps the result exactly PostgreSQL's.
        use crate::schema::users_search;
        use diesel::sql_types::{Bool, Text};
        let matching = users_search::table
            .filter(diesel::dsl::sql::<Bool>("users_search MATCH ").bind::<Text, _>(phrase))
            .select(users_search::user_id);
        query = query.filter(memberships::user_id.eq_any(matching));
    }
    if let Some(pattern) = filter.search.and_then(search::contains_pattern) {
        query = query.filter(planned_per_call());
        query = query.filter(
            users::email
                .like(pattern.clone())
                .escape(search::ESCAPE)
                .or(search::lower(users::first_name).like(pattern.clone()).escape(search::ESCAPE))
                .or(search::lower(users::last_name).like(pattern).escape(search::ESCAPE)),
        );
    }
    if let Some(since) = filter.inactive_since {
        query =
            query.filter(memberships::last_active_at.is_null().or(memberships::last_active_at.lt(time::to_db(since))));
    }
    if let Some(after) = filter.after {
        query = query.filter(memberships::id.gt(after.to_owned()));
    }
    let rows: Vec<MemberRow> = query.load(conn)?;
    members_from_rows(conn, account, rows)
}

/// Records that the member acted in the account at `now`, unless a later
/// time is recorded already.
pub fn record_activity(conn: &mut DbConnection, membership: Uuid, now: DateTime<Utc>) -> Result<(), StoreError> {
    let now = time::to_db(now);
    diesel::update(
        memberships::table
            .find(ids::to_db(membership))
            .filter(memberships::last_active_at.is_null().or(memberships::last_active_at.lt(now))),
    )
    .set(memberships::last_active_at.eq(now))
    .execute(conn)?;
    Ok(())
}

/// Deletes a membership (its role assignments and group memberships go
/// with it). Call inside the write transaction that checked it may go.
pub fn delete(conn: &mut DbConnection, membership: Uuid) -> Result<(), StoreError> {
    diesel::delete(memberships::table.find(ids::to_db(membership))).execute(conn)?;
    Ok(())
}

/// Makes `user` a member of `account` holding `assignments` (role, group:
/// `None` account-wide) and in `groups`; a group-scoped role also puts them
/// in its group. [`StoreError::Conflict`] when they are a member already.
/// Whether they may be admitted is [`domain::membership::check_admission`]'s
/// business, decided before.
pub fn admit(
    conn: &mut DbConnection,
    account: Uuid,
    user: Uuid,
    assignments: &[(Uuid, Option<Uuid>)],
    groups: &[Uuid],
    now: DateTime<Utc>,
) -> Result<Uuid, StoreError> {
    let membership = add(conn, account, user, &[], now)?;
    grant_on_joining(conn, membership, assignments, groups, now)?;
    Ok(membership)
}

/// Gives a membership made a moment ago its roles (`assignments`) and its
/// `groups`. A new membership holds nothing yet: no roles to replace, none
/// to prune.
pub fn grant_on_joining(
    conn: &mut DbConnection,
    membership: Uuid,
    assignments: &[(Uuid, Option<Uuid>)],
    groups: &[Uuid],
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    insert_assignments(conn, membership, assignments, now)?;
    let scoped = assignments.iter().filter_map(|(_, group)| *group);
    for group in scoped.chain(groups.iter().copied()) {
        crate::groups::add_member(conn, group, membership, now)?;
    }
    Ok(())
}

/// Suspends or restores a membership; its roles and groups stay on record.
pub fn set_status(
    conn: &mut DbConnection,
    membership: Uuid,
    status: MembershipStatus,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let suspended_at = (status == MembershipStatus::Suspended).then(|| time::to_db(now));
    diesel::update(memberships::table.find(ids::to_db(membership)))
        .set((memberships::status.eq(status.key()), memberships::suspended_at.eq(suspended_at)))
        .execute(conn)?;
    Ok(())
}

/// Owners of the account who are not suspended.
pub fn active_owner_count(conn: &mut DbConnection, account: Uuid) -> Result<i64, StoreError> {
    Ok(role_assignments::table
        .inner_join(memberships::table)
        .inner_join(roles::table)
        .filter(memberships::account_id.eq(ids::to_db(account)))
        .filter(memberships::status.eq(MembershipStatus::Active.key()))
        .filter(roles::key.eq(BuiltInRole::Owner.key()))
        .filter(roles::account_id.is_null())
        .filter(role_assignments::group_id.is_null())
        .count()
        .get_result(conn)?)
}

pub fn owner_count(conn: &mut DbConnection, account: Uuid) -> Result<i64, StoreError> {
    Ok(role_assignments::table
        .inner_join(memberships::table)
        .inner_join(roles::table)
        .filter(memberships::account_id.eq(ids::to_db(account)))
        .filter(roles::key.eq(BuiltInRole::Owner.key()))
        .filter(roles::account_id.is_null())
        .filter(role_assignments::group_id.is_null())
        .count()
        .get_result(conn)?)
}

/// Makes `assignments` every role `membership` holds: the others are
/// removed, the missing ones added; those it keeps stay as they were
/// (since when, and whether a single sign-on mapping gave them). Call
/// inside a transaction that also checked the version of the role set the
/// caller saw.
pub fn replace_assignments(
    conn: &mut DbConnection,
    membership: Uuid,
    assignments: &[(Uuid, Option<Uuid>)],
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let held: Vec<(String, String, Option<String>)> = role_assignments::table
        .filter(role_assignments::membership_id.eq(ids::to_db(membership)))
        .select((role_assignments::id, role_assignments::role_id, role_assignments::group_id))
        .load(conn)?;
    let wanted: Vec<(String, Option<String>)> =
        assignments.iter().map(|(role, group)| (ids::to_db(*role), group.map(ids::to_db))).collect();
    for (id, role, group) in &held {
        if !wanted.iter().any(|(r, g)| r == role && g == group) {
            diesel::delete(role_assignments::table.find(id)).execute(conn)?;
        }
    }
    let missing: Vec<(Uuid, Option<Uuid>)> = assignments
        .iter()
        .zip(&wanted)
        .filter(|(_, (role, group))| !held.iter().any(|(_, r, g)| r == role && g == group))
        .map(|(assignment, _)| *assignment)
        .collect();
    insert_assignments(conn, membership, &missing, now)?;
    let account_wide: Vec<Uuid> =
        assignments.iter().filter(|(_, group)| group.is_none()).map(|(role, _)| *role).collect();
    crate::account_links::prune_linked_roles(conn, membership, &account_wide)?;
    Ok(())
}

fn insert_assignments(
    conn: &mut DbConnection,
    membership: Uuid,
    assignments: &[(Uuid, Option<Uuid>)],
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    for (role, group) in assignments {
        diesel::insert_into(role_assignments::table)
            .values((
                role_assignments::id.eq(ids::to_db(Uuid::now_v7())),
                role_assignments::membership_id.eq(ids::to_db(membership)),
                role_assignments::role_id.eq(ids::to_db(*role)),
                role_assignments::group_id.eq(group.map(ids::to_db)),
                role_assignments::created_at.eq(time::to_db(now)),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// The accounts `user` is a member of themselves (not through a link).
pub fn accounts_of(conn: &mut DbConnection, user: Uuid) -> Result<Vec<Uuid>, StoreError> {
    let found: Vec<String> = memberships::table
        .filter(memberships::user_id.eq(ids::to_db(user)))
        .select(memberships::account_id)
        .load(conn)?;
    found.iter().map(|id| ids::from_db(id)).collect()
}
