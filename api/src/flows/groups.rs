//! Groups. Group administrators (members whose administrative role is
//! scoped to a group) manage that group's membership only; creating,
//! renaming and deleting groups needs `groups:manage` account-wide (the
//! route's declared requirement).

use domain::audit::AuditAction;
use persistence::groups::{self, Group};
use persistence::{DbConnection, StoreError, memberships, write_transaction};
use uuid::Uuid;

use super::audit::{Event, user_label};
use super::{Ctx, Shared, family_error};

#[derive(Debug, thiserror::Error)]
pub enum GroupError {
    #[error("the account has a group named {0:?}")]
    NameTaken(String),
    #[error("only members of the account join its groups")]
    NotAMember,
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

pub fn add_member(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    account: Uuid,
    group: Uuid,
    user: Uuid,
) -> Result<(), GroupError> {
    write_transaction(conn, |conn| {
        let found = existing(conn, account, group)?;
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
        if !groups::remove_member(conn, group, membership.id)? {
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
