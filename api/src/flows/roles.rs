//! Custom roles, and resolving the roles someone hands out. Every grant is
//! held to the no-escalation rule ([`domain::check_grant`]) where it
//! applies.

use domain::audit::AuditAction;
use domain::{PermissionSet, RoleKind, check_grant};
use persistence::invitations::InvitedRole;
use persistence::roles::{self, CustomRoleChange, NewCustomRole, Role};
use persistence::{DbConnection, StoreError, accounts, groups, write_transaction};
use uuid::Uuid;

use super::audit::Event;
use super::{Ctx, Grantor, Precondition, Shared, check_precondition, entity_tag, family_error};

#[derive(Debug, thiserror::Error)]
pub enum RoleError {
    #[error("a role with the key {0:?} exists")]
    KeyTaken(String),
    #[error("built-in and template roles cannot be changed")]
    ReadOnly,
    #[error("the role is assigned or offered")]
    InUse,
    #[error("reassign_to names the role being deleted")]
    ReassignToItself,
    #[error("reassign_to names no role of the account")]
    ReassignToUnknown,
    #[error(transparent)]
    Precondition(#[from] Precondition),
    #[error(transparent)]
    Shared(Shared),
}
family_error!(RoleError);

/// The version of a role for `ETag`/`If-Match`.
pub fn role_tag(role: &Role, catalogue: &domain::Catalogue) -> String {
    let permissions: Vec<String> = catalogue.role_permissions(&role.held(None)).keys().map(str::to_owned).collect();
    entity_tag(&format!("{}\n{}\n{}", role.name, role.description, permissions.join(",")))
}

fn about(role: &Role, account: Uuid, action: AuditAction) -> Event {
    Event::in_account(account, action).target("role", role.id, &role.key)
}

fn permission_keys(ctx: &Ctx<'_>, role: &Role) -> Vec<String> {
    ctx.catalogue.role_permissions(&role.held(None)).keys().map(str::to_owned).collect()
}

pub struct RoleDraft {
    pub key: String,
    pub name: String,
    pub description: String,
    pub permissions: PermissionSet,
}

pub fn create(conn: &mut DbConnection, ctx: &Ctx<'_>, by: &Grantor, draft: RoleDraft) -> Result<Role, RoleError> {
    check_grant(&by.holds_in(ctx.catalogue, None), &draft.permissions)?;
    write_transaction(conn, |conn| {
        let taken = roles::list_visible_by_keys(conn, by.account_id, &[draft.key.as_str()])?;
        if !taken.is_empty() || ctx.catalogue.template(&draft.key).is_some() {
            return Err(RoleError::KeyTaken(draft.key.clone()));
        }
        let new = NewCustomRole {
            account_id: by.account_id,
            key: &draft.key,
            name: &draft.name,
            description: &draft.description,
            permissions: &draft.permissions,
            now: ctx.now,
        };
        let id = roles::create_custom(conn, new).map_err(|error| match error {
            StoreError::Conflict => RoleError::KeyTaken(draft.key.clone()),
            other => other.into(),
        })?;
        let role = roles::find_visible(conn, by.account_id, id)?.ok_or(RoleError::Shared(Shared::NotFound))?;
        let event = about(&role, by.account_id, AuditAction::RoleCreated)
            .set("key", &role.key)
            .set("name", &role.name)
            .set("description", &role.description)
            .set("permissions", permission_keys(ctx, &role));
        ctx.record(conn, event)?;
        Ok(role)
    })
}

pub struct RolePatch {
    pub name: Option<String>,
    pub description: Option<String>,
    pub permissions: Option<PermissionSet>,
}

/// Changes a custom role; with `if_match`, only if unchanged since read.
pub fn update(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    by: &Grantor,
    id: Uuid,
    patch: RolePatch,
    if_match: Option<&str>,
) -> Result<Role, RoleError> {
    write_transaction(conn, |conn| {
        accounts::lock(conn, by.account_id)?;
        let role = roles::find_visible(conn, by.account_id, id)?.ok_or(RoleError::Shared(Shared::NotFound))?;
        let RoleKind::Custom(current) = &role.kind else {
            return Err(RoleError::ReadOnly);
        };
        if let Some(tag) = if_match {
            check_precondition(Some(tag), &role_tag(&role, ctx.catalogue))?;
        }
        if let Some(permissions) = &patch.permissions {
            // Only what is added needs holding; taking away is always allowed.
            let added: PermissionSet = current.missing_from(permissions).into_iter().collect();
            check_grant(&by.holds_in(ctx.catalogue, None), &added)?;
        }
        let change = CustomRoleChange {
            name: patch.name.as_deref(),
            description: patch.description.as_deref(),
            permissions: patch.permissions.as_ref(),
        };
        roles::update_custom(conn, by.account_id, id, change)?;
        let updated = roles::find_visible(conn, by.account_id, id)?.ok_or(RoleError::Shared(Shared::NotFound))?;
        let event = about(&updated, by.account_id, AuditAction::RoleUpdated)
            .change("name", &role.name, &updated.name)
            .change("description", &role.description, &updated.description)
            .change("permissions", permission_keys(ctx, &role), permission_keys(ctx, &updated));
        ctx.record(conn, event)?;
        Ok(updated)
    })
}

/// Deletes a custom role; one still in use needs a role to move its
/// holders and pending invitations to.
pub fn delete(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    by: &Grantor,
    id: Uuid,
    reassign_to: Option<Uuid>,
) -> Result<(), RoleError> {
    write_transaction(conn, |conn| {
        accounts::lock(conn, by.account_id)?;
        let role = roles::find_visible(conn, by.account_id, id)?.ok_or(RoleError::Shared(Shared::NotFound))?;
        if !matches!(role.kind, RoleKind::Custom(_)) {
            return Err(RoleError::ReadOnly);
        }
        match reassign_to {
            Some(target) if target == id => return Err(RoleError::ReassignToItself),
            Some(target) => {
                let target = roles::find_visible(conn, by.account_id, target)?.ok_or(RoleError::ReassignToUnknown)?;
                check_grant(&by.holds_in(ctx.catalogue, None), &ctx.catalogue.role_permissions(&target.held(None)))?;
            }
            None if roles::usage(conn, id)? > 0 => return Err(RoleError::InUse),
            None => {}
        }
        roles::delete_custom(conn, by.account_id, id, reassign_to)?;
        let event = about(&role, by.account_id, AuditAction::RoleDeleted)
            .unset("key", &role.key)
            .unset("name", &role.name)
            .unset("permissions", permission_keys(ctx, &role))
            .set("reassigned_to", reassign_to);
        ctx.record(conn, event)?;
        Ok(())
    })
}

/// Resolves wanted assignments (role key, group: `None` account-wide) to
/// roles the account has, inside groups it has, each one the grantor may
/// give where it applies; duplicates collapse, and the result respects the
/// role cap. What invitations and join approvals offer, and what default
/// and mapped roles name; an unknown key is reported in `field`.
pub fn grantable(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    by: &Grantor,
    wanted: &[(String, Option<Uuid>)],
    field: &'static str,
) -> Result<Vec<InvitedRole>, Shared> {
    let keys: Vec<&str> = wanted.iter().map(|(key, _)| key.as_str()).collect();
    let found = roles::list_visible_by_keys(conn, by.account_id, &keys)?;
    let mut granted: Vec<InvitedRole> = Vec::new();
    for (key, group) in wanted {
        let role = found
            .iter()
            .find(|role| &role.key == key)
            .ok_or_else(|| Shared::UnknownRole { field, key: key.clone() })?;
        if let Some(group) = group {
            groups::find(conn, by.account_id, *group)?.ok_or(Shared::UnknownGroup { field: "assignments" })?;
        }
        check_grant(&by.holds_in(ctx.catalogue, *group), &ctx.catalogue.role_permissions(&role.held(*group)))?;
        let invited = InvitedRole { role_id: role.id, role_key: role.key.clone(), group_id: *group };
        if !granted.contains(&invited) {
            granted.push(invited);
        }
    }
    domain::check_role_count(granted.len())?;
    Ok(granted)
}
