//! Membership changes: removing a member or leaving, the roles a member
//! holds, and handing ownership on. The account always keeps an owner
//! ([`domain::membership::check_owner_kept`]), only owners make or unmake
//! owners ([`domain::may_remove`]) and nobody grants what they lack.

use domain::audit::AuditAction;
use domain::membership::{LastOwner, MembershipStatus, check_owner_kept};
use domain::notification::Topic;
use domain::{BuiltInRole, Permission, RoleKind, check_grant, check_role_count, may_remove};
use persistence::memberships::{self, Membership};
use persistence::roles::{self, Role};
use persistence::{DbConnection, StoreError, accounts, groups, invitations, write_transaction};
use uuid::Uuid;

use super::audit::{Event, user_label};
use super::{Ctx, Grantor, Precondition, Shared, check_precondition, entity_tag, family_error};

#[derive(Debug, thiserror::Error)]
pub enum MemberError {
    #[error(transparent)]
    LastOwner(#[from] LastOwner),
    /// Removing or demoting an owner needs `ownership:transfer`.
    #[error("only owners remove or demote owners")]
    OwnershipRequired,
    #[error("ownership is transferred to another member")]
    TransferToSelf,
    #[error("ownership goes only to a member of the account")]
    TransferToNonMember,
    #[error(transparent)]
    Precondition(#[from] Precondition),
    /// Suspending oneself would lock oneself out.
    #[error("members do not suspend themselves")]
    SuspendSelf,
    #[error(transparent)]
    Shared(Shared),
}
family_error!(MemberError);

/// The version of a member's role assignments for `ETag`/`If-Match`.
pub fn membership_tag(membership: &Membership) -> String {
    let mut parts: Vec<String> = membership
        .assignments
        .iter()
        .map(|a| format!("{}@{}", a.role.id, a.group_id.map(|g| g.to_string()).unwrap_or_default()))
        .collect();
    parts.sort();
    entity_tag(&parts.join(","))
}

/// The roles a membership holds, as an audit event shows them.
pub(super) fn assignments_of(membership: &Membership) -> Vec<serde_json::Value> {
    let mut held: Vec<serde_json::Value> = membership
        .assignments
        .iter()
        .map(|a| serde_json::json!({"role": a.role.key, "group_id": a.group_id}))
        .collect();
    held.sort_by_key(|value| value.to_string());
    held
}

/// How someone leaves an account.
#[derive(Clone, Copy)]
pub enum Removal<'a> {
    /// A member removes them; only owners remove owners.
    By(&'a Grantor),
    /// They leave.
    Leaving,
    /// A completed access review removes them, as its reviewers decided
    /// (who were held to the same rule when deciding).
    Review,
    /// The account's directory deprovisions them (SCIM `DELETE`).
    Directory,
}

/// Removes `user` from the account and revokes their pending invitations
/// to it, so no old link lets them back.
pub fn remove(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    account: Uuid,
    user: Uuid,
    how: Removal<'_>,
) -> Result<(), MemberError> {
    write_transaction(conn, |conn| {
        // The owner count and the delete must see the same state: the
        // account row lock (PostgreSQL) or the single writer (SQLite).
        accounts::lock(conn, account)?;
        let membership = memberships::find(conn, account, user)?.ok_or(MemberError::Shared(Shared::NotFound))?;
        if let Removal::By(by) = how
            && !may_remove(&by.holds_in(ctx.catalogue, None), membership.is_owner())
        {
            return Err(MemberError::OwnershipRequired);
        }
        if membership.is_owner() {
            check_owner_kept(memberships::owner_count(conn, account)?, true)?;
        }
        memberships::delete(conn, membership.id)?;
        let email = user_label(conn, user)?;
        let revoked = invitations::revoke_pending_for(conn, account, &email, ctx.now)?;
        let action = match how {
            Removal::Leaving => AuditAction::MemberLeft,
            Removal::By(_) | Removal::Review | Removal::Directory => AuditAction::MemberRemoved,
        };
        let event = Event::in_account(account, action)
            .target("user", user, &email)
            .unset("assignments", assignments_of(&membership))
            .change("pending_invitations_revoked", 0, revoked);
        ctx.record(conn, event)?;
        Ok(())
    })
}

/// Suspends `user`'s membership (`to` suspended) or restores it (`to`
/// active): while suspended they keep their roles, groups and seat on
/// record and are refused everywhere in the account; restoring gives back
/// exactly what they had. A member (`by`) suspends only others, and only
/// owners suspend owners; the account's directory (`by` none) suspends
/// whom it deactivates. The account keeps an active owner. Setting the
/// state it has already is no change.
pub fn set_status(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    account: Uuid,
    by: Option<&Grantor>,
    user: Uuid,
    to: MembershipStatus,
) -> Result<(), MemberError> {
    if by.is_some_and(|by| user == by.user_id) && to == MembershipStatus::Suspended {
        return Err(MemberError::SuspendSelf);
    }
    write_transaction(conn, |conn| {
        accounts::lock(conn, account)?;
        let membership = memberships::find(conn, account, user)?.ok_or(MemberError::Shared(Shared::NotFound))?;
        if membership.status == to {
            return Ok(());
        }
        if let Some(by) = by
            && !may_remove(&by.holds_in(ctx.catalogue, None), membership.is_owner())
        {
            return Err(MemberError::OwnershipRequired);
        }
        if membership.is_owner() && to == MembershipStatus::Suspended {
            check_owner_kept(memberships::active_owner_count(conn, account)?, true)?;
        }
        memberships::set_status(conn, membership.id, to, ctx.now)?;
        let action = match to {
            MembershipStatus::Suspended => AuditAction::MemberSuspended,
            MembershipStatus::Active => AuditAction::MemberReactivated,
        };
        let email = user_label(conn, user)?;
        let event = Event::in_account(account, action).target("user", user, &email).change(
            "status",
            membership.status.key(),
            to.key(),
        );
        ctx.record(conn, event)?;
        Ok(())
    })
}

/// A wanted assignment, as the request names it.
pub struct WantedAssignment {
    pub role_key: String,
    pub group_id: Option<Uuid>,
}

/// Replaces the roles `user` holds, if `if_match` names the current
/// version. Each changed assignment needs `roles:manage` where it applies
/// and may give only what `by` holds there; only an owner makes or unmakes
/// owners; the last owner keeps the role.
pub fn assign(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    by: &Grantor,
    user: Uuid,
    wanted: Vec<WantedAssignment>,
    if_match: Option<&str>,
) -> Result<Membership, MemberError> {
    write_transaction(conn, |conn| {
        accounts::lock(conn, by.account_id)?;
        let membership = memberships::find(conn, by.account_id, user)?.ok_or(MemberError::Shared(Shared::NotFound))?;
        let keys: Vec<&str> = wanted.iter().map(|w| w.role_key.as_str()).collect();
        let visible = roles::list_visible_by_keys(conn, by.account_id, &keys)?;
        let mut next: Vec<(Role, Option<Uuid>)> = Vec::new();
        for want in &wanted {
            let role = visible.iter().find(|role| role.key == want.role_key).ok_or_else(|| {
                MemberError::Shared(Shared::UnknownRole { field: "assignments", key: want.role_key.clone() })
            })?;
            if let Some(group) = want.group_id {
                groups::find(conn, by.account_id, group)?
                    .ok_or(MemberError::Shared(Shared::UnknownGroup { field: "assignments" }))?;
            }
            if !next.iter().any(|(r, g)| r.id == role.id && *g == want.group_id) {
                next.push((role.clone(), want.group_id));
            }
        }
        check_role_count(next.len())?;
        let current: Vec<(Uuid, Option<Uuid>)> =
            membership.assignments.iter().map(|a| (a.role.id, a.group_id)).collect();
        let manages = |scope: Option<Uuid>| {
            let holder = by.holds_in(ctx.catalogue, scope);
            if holder.contains(Permission::RolesManage) {
                Ok(holder)
            } else {
                Err(MemberError::Shared(Shared::Forbidden(Permission::RolesManage)))
            }
        };
        for (role, group) in next.iter().filter(|(role, group)| !current.contains(&(role.id, *group))) {
            check_grant(&manages(*group)?, &ctx.catalogue.role_permissions(&role.held(*group)))?;
        }
        let mut demotes_owner = false;
        for assignment in &membership.assignments {
            if !next.iter().any(|(r, g)| r.id == assignment.role.id && *g == assignment.group_id) {
                let holder = manages(assignment.group_id)?;
                let is_owner_role =
                    assignment.group_id.is_none() && assignment.role.kind == RoleKind::BuiltIn(BuiltInRole::Owner);
                if !may_remove(&holder, is_owner_role) {
                    return Err(MemberError::OwnershipRequired);
                }
                demotes_owner |= is_owner_role;
            }
        }
        // Permission first, so that a caller who may not make the change
        // learns nothing from a stale tag; then the precondition, before
        // any rule about the change itself (RFC 9110 §13.2.2).
        check_precondition(if_match, &membership_tag(&membership))?;
        if demotes_owner {
            check_owner_kept(memberships::owner_count(conn, by.account_id)?, true)?;
        }
        for group in next.iter().filter_map(|(_, group)| *group) {
            groups::add_member(conn, group, membership.id, ctx.now)?;
        }
        let assignments: Vec<(Uuid, Option<Uuid>)> = next.iter().map(|(role, group)| (role.id, *group)).collect();
        memberships::replace_assignments(conn, membership.id, &assignments, ctx.now)?;
        let updated = memberships::find(conn, by.account_id, user)?.ok_or(MemberError::Shared(Shared::NotFound))?;
        let event = Event::in_account(by.account_id, AuditAction::MemberRolesUpdated)
            .target("user", user, user_label(conn, user)?)
            .change("assignments", assignments_of(&membership), assignments_of(&updated));
        ctx.record(conn, event)?;
        Ok(updated)
    })
}

/// Makes `target` an owner and `by` an administrator instead, in one
/// transaction, so the account never lacks an owner.
/// Owners and administrators hear of every change of owner.
fn tell_about_ownership(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    account: Uuid,
    new_owner: &str,
    previous_owner: &str,
) -> Result<(), StoreError> {
    let name = super::notifications::name_in_emails(conn, account)?;
    let url = ctx.link(&format!("/v1/accounts/{account}/members"));
    let administers = super::notifications::administers;
    super::notifications::notify_holders(conn, ctx, account, Topic::SecurityNotices, administers, |recipient| {
        let said = crate::email::kinds::OwnershipTransferred {
            account_name: name.clone(),
            new_owner: new_owner.to_owned(),
            previous_owner: previous_owner.to_owned(),
            members_url: url.clone(),
        };
        crate::email::Message::OwnershipTransferred(said).to(recipient)
    })
}

pub fn transfer_ownership(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    by: &Grantor,
    target: Uuid,
) -> Result<(), MemberError> {
    if target == by.user_id {
        return Err(MemberError::TransferToSelf);
    }
    write_transaction(conn, |conn| {
        accounts::lock(conn, by.account_id)?;
        let recipient = memberships::find(conn, by.account_id, target)?.ok_or(MemberError::TransferToNonMember)?;
        let donor = memberships::find(conn, by.account_id, by.user_id)?.ok_or(MemberError::Shared(Shared::NotFound))?;
        let owner = roles::built_in_id(conn, BuiltInRole::Owner)?;
        let administrator = roles::built_in_id(conn, BuiltInRole::Administrator)?;
        let mut gained: Vec<(Uuid, Option<Uuid>)> =
            recipient.assignments.iter().map(|a| (a.role.id, a.group_id)).collect();
        if !gained.contains(&(owner, None)) {
            gained.push((owner, None));
        }
        let mut kept: Vec<(Uuid, Option<Uuid>)> =
            donor.assignments.iter().map(|a| (a.role.id, a.group_id)).filter(|a| *a != (owner, None)).collect();
        if !kept.contains(&(administrator, None)) {
            kept.push((administrator, None));
        }
        check_role_count(gained.len())?;
        memberships::replace_assignments(conn, recipient.id, &gained, ctx.now)?;
        memberships::replace_assignments(conn, donor.id, &kept, ctx.now)?;
        let (new_owner, previous_owner) = (user_label(conn, target)?, user_label(conn, by.user_id)?);
        let event = Event::in_account(by.account_id, AuditAction::AccountOwnershipTransferred)
            .target("user", target, &new_owner)
            .target("user", by.user_id, &previous_owner)
            .set("new_owner", target)
            .change("previous_owner_role", "owner", "administrator");
        ctx.record(conn, event)?;
        tell_about_ownership(conn, ctx, by.account_id, &new_owner, &previous_owner)?;
        Ok(())
    })
}
