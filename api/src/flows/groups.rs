//! Groups. Group administrators (members whose administrative role is
//! scoped to a group) manage that group's membership only; creating,
//! renaming and deleting groups needs `groups:manage` account-wide (the
//! route's declared requirement).

use domain::audit::AuditAction;
use domain::{BuiltInRole, check_grant};
use persistence::groups::{self, Group};
use persistence::{DbConnection, StoreError, memberships, roles, write_transaction};
use uuid::Uuid;

use super::audit::{Event, user_label};
use super::{Ctx, Grantor, Shared, family_error};

#[derive(Debug, thiserror::Error)]
pub enum GroupError {
    #[error("the account has a group named {0:?}")]
    NameTaken(String),
    #[error("only members of the account join its groups")]
    NotAMember,
    /// A group never makes owners.
    #[error("a group cannot give the owner role")]
    OwnerNotGiven,
    #[error(transparent)]
    Shared(Shared),
}
family_error!(GroupError);

/// The group, when it belongs to the account.
pub fn existing(conn: &mut DbConnection, account: Uuid, group: Uuid) -> Result<Group, GroupError> {
    groups::find(conn, account, group)?.ok_or(GroupError::Shared(Shared::NotFound))
}

fn name_taken(name: &str) -> impl Fn(StoreError) -> GroupError + '_ {
    move |error| match error {
        StoreError::Conflict => GroupError::NameTaken(name.to_owned()),
        other => other.into(),
    }
}

pub fn create(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    account: Uuid,
    name: &str,
    description: &str,
) -> Result<Group, GroupError> {
    write_transaction(conn, |conn| {
        let group = groups::create(conn, account, name, description, ctx.now).map_err(name_taken(name))?;
        let event = about(&group, account, AuditAction::GroupCreated)
            .set("name", &group.name)
            .set("description", &group.description);
        ctx.record(conn, event)?;
        Ok(group)
    })
}

fn about(group: &Group, account: Uuid, action: AuditAction) -> Event {
    Event::in_account(account, action).target("group", group.id, &group.name)
}

pub fn update(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    account: Uuid,
    group: Uuid,
    name: Option<&str>,
    description: Option<&str>,
) -> Result<Group, GroupError> {
    write_transaction(conn, |conn| {
        let before = existing(conn, account, group)?;
        let after = groups::update(conn, account, group, name, description, ctx.now)
            .map_err(name_taken(name.unwrap_or_default()))?
            .ok_or(GroupError::Shared(Shared::NotFound))?;
        let event = about(&after, account, AuditAction::GroupUpdated).change("name", &before.name, &after.name).change(
            "description",
            &before.description,
            &after.description,
        );
        ctx.record(conn, event)?;
        Ok(after)
    })
}

/// Deletes a group and the roles held inside it; its members stay members
/// of the account.
pub fn delete(conn: &mut DbConnection, ctx: &Ctx<'_>, account: Uuid, group: Uuid) -> Result<(), GroupError> {
    write_transaction(conn, |conn| {
        let before = existing(conn, account, group)?;
        if !groups::delete(conn, account, group)? {
            return Err(GroupError::Shared(Shared::NotFound));
        }
        let event = about(&before, account, AuditAction::GroupDeleted)
            .unset("name", &before.name)
            .unset("description", &before.description);
        ctx.record(conn, event)?;
        Ok(())
    })
}

/// The roles `group` gives its members, with their keys: (role, key,
/// held inside the group), by key.
pub fn roles_given(
    conn: &mut DbConnection,
    account: Uuid,
    group: Uuid,
) -> Result<Vec<(Uuid, String, bool)>, StoreError> {
    let visible = roles::list_visible(conn, account)?;
    let mut given: Vec<(Uuid, String, bool)> = groups::roles(conn, group)?
        .into_iter()
        .filter_map(|(id, in_group)| visible.iter().find(|r| r.id == id).map(|r| (id, r.key.clone(), in_group)))
        .collect();
    given.sort_by(|a, b| (&a.1, a.2).cmp(&(&b.1, b.2)));
    Ok(given)
}

/// Refuses unless `by` may give every role `group` gives, where it applies:
/// putting someone in the group gives them those roles.
fn check_gives(conn: &mut DbConnection, ctx: &Ctx<'_>, by: &Grantor, group: Uuid) -> Result<(), GroupError> {
    let visible = roles::list_visible(conn, by.account_id)?;
    for (role, in_group) in groups::roles(conn, group)? {
        let Some(role) = visible.iter().find(|r| r.id == role) else { continue };
        let scope = in_group.then_some(group);
        check_grant(&by.holds_in(ctx.catalogue, scope), &ctx.catalogue.role_permissions(&role.held(scope)))?;
    }
    Ok(())
}

/// Makes the roles `group` gives its members (role key, held inside the
/// group) `wanted`, for its members now and those who join it later: each
/// one `by` may give where it applies, never owner.
pub fn set_roles(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    by: &Grantor,
    group: Uuid,
    wanted: &[(String, bool)],
) -> Result<Vec<(Uuid, String, bool)>, GroupError> {
    if wanted.iter().any(|(key, _)| key == BuiltInRole::Owner.key()) {
        return Err(GroupError::OwnerNotGiven);
    }
    write_transaction(conn, |conn| {
        let found = existing(conn, by.account_id, group)?;
        let scoped: Vec<(String, Option<Uuid>)> =
            wanted.iter().map(|(key, in_group)| (key.clone(), in_group.then_some(group))).collect();
        let granted = super::roles::grantable(conn, ctx, by, &scoped, "roles")?;
        let before = roles_given(conn, by.account_id, group)?;
        let rows: Vec<(Uuid, bool)> = granted.iter().map(|role| (role.role_id, role.group_id.is_some())).collect();
        groups::set_roles(conn, group, &rows, ctx.now)?;
        let after = roles_given(conn, by.account_id, group)?;
        let shown = |given: &[(Uuid, String, bool)]| -> Vec<serde_json::Value> {
            given.iter().map(|(_, key, in_group)| serde_json::json!({"role": key, "in_group": in_group})).collect()
        };
        if before != after {
            let event = about(&found, by.account_id, AuditAction::GroupRolesUpdated).change(
                "roles",
                shown(&before),
                shown(&after),
            );
            ctx.record(conn, event)?;
        }
        Ok(after)
    })
}

/// Puts `user` in the group; a member adding them (`by`) must be able to
/// give the roles the group gives.
pub fn add_member(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    account: Uuid,
    group: Uuid,
    user: Uuid,
    by: Option<&Grantor>,
) -> Result<(), GroupError> {
    write_transaction(conn, |conn| {
        let found = existing(conn, account, group)?;
        if let Some(by) = by {
            check_gives(conn, ctx, by, group)?;
        }
        let membership = memberships::find(conn, account, user)?.ok_or(GroupError::NotAMember)?;
        groups::add_member(conn, group, membership.id, ctx.now)?;
        let event = about(&found, account, AuditAction::GroupMemberAdded).target("user", user, user_label(conn, user)?);
        ctx.record(conn, event)?;
        Ok(())
    })
}

/// Takes someone out of a group (and the roles they held in it); they stay
/// a member of the account.
pub fn remove_member(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    account: Uuid,
    group: Uuid,
    user: Uuid,
) -> Result<(), GroupError> {
    write_transaction(conn, |conn| {
        let found = existing(conn, account, group)?;
        let membership = memberships::find(conn, account, user)?.ok_or(GroupError::Shared(Shared::NotFound))?;
        if !groups::remove_member(conn, group, membership.id, ctx.now)? {
            return Err(GroupError::Shared(Shared::NotFound));
        }
        let dropped: Vec<&str> =
            membership.assignments.iter().filter(|a| a.group_id == Some(group)).map(|a| a.role.key.as_str()).collect();
        let event = about(&found, account, AuditAction::GroupMemberRemoved)
            .target("user", user, user_label(conn, user)?)
            .unset("roles_in_group", dropped);
        ctx.record(conn, event)?;
        Ok(())
    })
}
