//! Linked accounts: an owner of a parent asks to link a child, an owner of
//! the child accepts, either side ends it; a parent's owner extends members'
//! account-wide roles to every linked child. Every step is recorded in both
//! accounts' audit logs.

use domain::Permission;
use domain::account_link::{LinkRefused, LinkStatus, NotInheritable, check_inheritable, check_link};
use domain::audit::AuditAction;
use domain::notification::Topic;
use persistence::account_links::{self, AccountLink};
use persistence::{DbConnection, StoreError, accounts, memberships, write_transaction};
use uuid::Uuid;

use super::audit::{Event, user_label};
use super::{Ctx, Grantor, Shared, family_error};

#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    #[error(transparent)]
    Refused(#[from] LinkRefused),
    /// The account to link does not exist.
    #[error("no such account")]
    UnknownAccount,
    /// Only the child's side accepts, and only a pending link.
    #[error("the link is not waiting for this account's acceptance")]
    NotAwaitingAcceptance,
    #[error(transparent)]
    NotInheritable(#[from] NotInheritable),
    /// A role the member does not hold account-wide.
    #[error("the member does not hold {0:?} account-wide")]
    RoleNotHeld(String),
    #[error(transparent)]
    Shared(Shared),
}
family_error!(LinkError);

/// Locks both accounts of a link, in one order, so that two requests
/// cannot each pass the one-level rule against the other.
fn lock_both(conn: &mut DbConnection, one: Uuid, other: Uuid) -> Result<(), StoreError> {
    let (first, second) = if one < other { (one, other) } else { (other, one) };
    accounts::lock(conn, first)?;
    accounts::lock(conn, second)
}

/// The same event in the parent's and the child's logs.
fn record_in_both(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    link: &AccountLink,
    action: AuditAction,
) -> Result<(), StoreError> {
    for account in [link.parent_id, link.child_id] {
        let event = Event::in_account(account, action)
            .target("account_link", link.id, format!("{} → {}", link.parent_name, link.child_name))
            .target("account", link.parent_id, &link.parent_name)
            .target("account", link.child_id, &link.child_name)
            .set("status", link.status.key());
        ctx.record(conn, event)?;
    }
    Ok(())
}

/// Ends every link `account` is part of (as parent or child), recorded in
/// both accounts: what erasing an account does first.
pub(crate) fn unlink_all(conn: &mut DbConnection, ctx: &Ctx<'_>, account: Uuid) -> Result<usize, StoreError> {
    let links = account_links::of_account(conn, account)?;
    for link in &links {
        account_links::delete(conn, link.id)?;
        record_in_both(conn, ctx, link, AuditAction::AccountUnlinked)?;
    }
    Ok(links.len())
}

/// Asks to link `child` under the caller's account, and tells the child's
/// owners.
pub fn request(conn: &mut DbConnection, ctx: &Ctx<'_>, by: &Grantor, child: Uuid) -> Result<AccountLink, LinkError> {
    let parent = by.account_id;
    write_transaction(conn, |conn| {
        if parent != child && accounts::find(conn, child)?.is_none() {
            return Err(LinkError::UnknownAccount);
        }
        lock_both(conn, parent, child)?;
        check_link(account_links::facts(conn, parent, child)?)?;
        let link = account_links::insert(conn, parent, child, by.user_id, ctx.now).map_err(|error| match error {
            StoreError::Conflict => LinkError::Refused(LinkRefused::ChildAlreadyLinked),
            other => other.into(),
        })?;
        let url = ctx.link(&format!("/v1/accounts/{child}/linked-accounts"));
        let links =
            |role: &domain::HeldRole| ctx.catalogue.role_permissions(role).contains(Permission::LinkedAccountsManage);
        super::notifications::notify_holders(conn, ctx, child, Topic::SecurityNotices, links, |owner| {
            let said = crate::email::kinds::AccountLinkRequested {
                parent_name: link.parent_name.clone(),
                child_name: link.child_name.clone(),
                links_url: url.clone(),
            };
            crate::email::Message::AccountLinkRequested(said).to(owner)
        })?;
        record_in_both(conn, ctx, &link, AuditAction::AccountLinkRequested)?;
        Ok(link)
    })
}

/// The child's owner accepts a pending link: from now on the parent's
/// extended roles apply in the child.
pub fn accept(conn: &mut DbConnection, ctx: &Ctx<'_>, by: &Grantor, id: Uuid) -> Result<AccountLink, LinkError> {
    write_transaction(conn, |conn| {
        let link = find_involving(conn, by.account_id, id)?;
        if link.child_id != by.account_id || link.status != LinkStatus::Pending {
            return Err(LinkError::NotAwaitingAcceptance);
        }
        lock_both(conn, link.parent_id, link.child_id)?;
        // Either side may have gained links of its own since the request.
        let facts = account_links::facts(conn, link.parent_id, link.child_id)?;
        check_link(domain::account_link::LinkFacts { child_has_parent: false, ..facts })?;
        if !account_links::accept(conn, id, by.user_id, ctx.now)? {
            return Err(LinkError::NotAwaitingAcceptance);
        }
        let accepted = find_involving(conn, by.account_id, id)?;
        record_in_both(conn, ctx, &accepted, AuditAction::AccountLinkAccepted)?;
        Ok(accepted)
    })
}

/// Ends a link from either side (or withdraws or declines a request): the
/// parent's extended roles stop applying in the child at once.
pub fn unlink(conn: &mut DbConnection, ctx: &Ctx<'_>, by: &Grantor, id: Uuid) -> Result<(), LinkError> {
    write_transaction(conn, |conn| {
        let link = find_involving(conn, by.account_id, id)?;
        if !account_links::delete(conn, id)? {
            return Err(LinkError::Shared(Shared::NotFound));
        }
        record_in_both(conn, ctx, &link, AuditAction::AccountUnlinked)?;
        Ok(())
    })
}

/// A link the account is part of; 404 for any other.
fn find_involving(conn: &mut DbConnection, account: Uuid, id: Uuid) -> Result<AccountLink, LinkError> {
    account_links::find(conn, id)?
        .filter(|link| link.parent_id == account || link.child_id == account)
        .ok_or(LinkError::Shared(Shared::NotFound))
}

/// Which of `user`'s account-wide roles apply in every linked account.
pub fn linked_roles(conn: &mut DbConnection, account: Uuid, user: Uuid) -> Result<Vec<String>, LinkError> {
    let membership = memberships::find(conn, account, user)?.ok_or(LinkError::Shared(Shared::NotFound))?;
    let ids = account_links::linked_role_ids(conn, membership.id)?;
    Ok(account_wide_keys(&membership, &ids))
}

/// The keys of the roles among `role_ids` that `membership` holds
/// account-wide, sorted.
fn account_wide_keys(membership: &memberships::Membership, role_ids: &[Uuid]) -> Vec<String> {
    let mut keys: Vec<String> = membership
        .assignments
        .iter()
        .filter(|a| a.group_id.is_none() && role_ids.contains(&a.role.id))
        .map(|a| a.role.key.clone())
        .collect();
    keys.sort();
    keys
}

/// Replaces which of `user`'s account-wide roles apply in every linked
/// account. Owner never does; each role must be held account-wide.
pub fn set_linked_roles(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    by: &Grantor,
    user: Uuid,
    keys: &[String],
) -> Result<Vec<String>, LinkError> {
    write_transaction(conn, |conn| {
        let membership = memberships::find(conn, by.account_id, user)?.ok_or(LinkError::Shared(Shared::NotFound))?;
        let before = account_wide_keys(&membership, &account_links::linked_role_ids(conn, membership.id)?);
        let mut role_ids = Vec::with_capacity(keys.len());
        for key in keys {
            let assignment = membership
                .assignments
                .iter()
                .find(|a| a.group_id.is_none() && &a.role.key == key)
                .ok_or_else(|| LinkError::RoleNotHeld(key.clone()))?;
            check_inheritable(key, &assignment.role.kind)?;
            if !role_ids.contains(&assignment.role.id) {
                role_ids.push(assignment.role.id);
            }
        }
        account_links::set_linked_roles(conn, by.account_id, membership.id, &role_ids, ctx.now)?;
        let after = account_wide_keys(&membership, &role_ids);
        let event = Event::in_account(by.account_id, AuditAction::MemberLinkedRolesUpdated)
            .target("user", user, user_label(conn, user)?)
            .change("linked_roles", &before, &after);
        ctx.record(conn, event)?;
        Ok(after)
    })
}
