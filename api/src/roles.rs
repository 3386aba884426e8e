//! Role administration: custom roles and who holds which role. Every change
//! is checked against the no-escalation rule (nobody hands out a permission
//! they lack) and the last-owner rule, inside one transaction.

use chrono::{DateTime, Utc};
use domain::{Catalogue, Permission, PermissionSet, RoleKind, may_grant, may_remove};
use persistence::memberships::{self, Membership};
use persistence::roles::{self, CustomRoleChange, NewCustomRole, Role};
use persistence::{DbConnection, StoreError, accounts, write_transaction};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::access::AccountMember;
use crate::error::ApiError;

fn conflict(code: &'static str, detail: impl Into<String>) -> ApiError {
    ApiError::Conflict { code, detail: detail.into() }
}

/// An opaque version of a value for `ETag`/`If-Match`: a digest of its
/// canonical text.
pub fn entity_tag(canonical: &str) -> String {
    let digest = Sha256::digest(canonical.as_bytes());
    format!("\"{}\"", digest.iter().take(10).map(|b| format!("{b:02x}")).collect::<String>())
}

pub fn membership_tag(membership: &Membership) -> String {
    let mut parts: Vec<String> = membership
        .assignments
        .iter()
        .map(|a| format!("{}@{}", a.role.id, a.group_id.map(|g| g.to_string()).unwrap_or_default()))
        .collect();
    parts.sort();
    entity_tag(&parts.join(","))
}

pub fn role_tag(role: &Role, catalogue: &Catalogue) -> String {
    let permissions: Vec<String> = catalogue.role_permissions(&role.held(None)).keys().map(str::to_owned).collect();
    entity_tag(&format!("{}\n{}\n{}", role.name, role.description, permissions.join(",")))
}

/// `If-Match` handling: a stale tag is 412; none at all is 428, so that no
/// client overwrites a change it never saw.
pub fn check_precondition(if_match: Option<&str>, current: &str) -> Result<(), ApiError> {
    match if_match {
        None => Err(ApiError::PreconditionRequired),
        Some(tags) if tags.split(',').map(str::trim).any(|tag| tag == current || tag == "*") => Ok(()),
        Some(_) => Err(ApiError::PreconditionFailed),
    }
}

fn refuse_escalation(grantor: &PermissionSet, granted: &PermissionSet) -> Result<(), ApiError> {
    if may_grant(grantor, granted) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(grantor.missing_from(granted).first().map(|k| (*k).to_owned()).unwrap_or_default()))
    }
}

pub struct RoleDraft {
    pub key: String,
    pub name: String,
    pub description: String,
    pub permissions: PermissionSet,
}

pub fn create(
    conn: &mut DbConnection,
    catalogue: &Catalogue,
    caller: &AccountMember,
    draft: RoleDraft,
    now: DateTime<Utc>,
) -> Result<Role, ApiError> {
    refuse_escalation(&caller.permissions, &draft.permissions)?;
    write_transaction(conn, |conn| {
        let taken = roles::list_visible_by_keys(conn, caller.account_id, &[draft.key.as_str()])?;
        if !taken.is_empty() || catalogue.template(&draft.key).is_some() {
            return Err(conflict("role_key_taken", format!("A role with the key {:?} exists.", draft.key)));
        }
        let new = NewCustomRole {
            account_id: caller.account_id,
            key: &draft.key,
            name: &draft.name,
            description: &draft.description,
            permissions: &draft.permissions,
            now,
        };
        let id = roles::create_custom(conn, new).map_err(|error| match error {
            StoreError::Conflict => conflict("role_key_taken", format!("A role with the key {:?} exists.", draft.key)),
            other => other.into(),
        })?;
        roles::find_visible(conn, caller.account_id, id)?.ok_or(ApiError::NotFound)
    })
}

pub struct RolePatch {
    pub name: Option<String>,
    pub description: Option<String>,
    pub permissions: Option<PermissionSet>,
}

pub fn update(
    conn: &mut DbConnection,
    catalogue: &Catalogue,
    caller: &AccountMember,
    id: Uuid,
    patch: RolePatch,
    if_match: Option<&str>,
) -> Result<Role, ApiError> {
    write_transaction(conn, |conn| {
        accounts::lock(conn, caller.account_id)?;
        let role = roles::find_visible(conn, caller.account_id, id)?.ok_or(ApiError::NotFound)?;
        let RoleKind::Custom(current) = &role.kind else {
            return Err(conflict("role_read_only", "Built-in and template roles cannot be changed."));
        };
        if let Some(tag) = if_match {
            check_precondition(Some(tag), &role_tag(&role, catalogue))?;
        }
        if let Some(permissions) = &patch.permissions {
            // Only what is added needs holding; taking away is always allowed.
            let added: PermissionSet = current.missing_from(permissions).into_iter().collect();
            refuse_escalation(&caller.permissions, &added)?;
        }
        let change = CustomRoleChange {
            name: patch.name.as_deref(),
            description: patch.description.as_deref(),
            permissions: patch.permissions.as_ref(),
        };
        roles::update_custom(conn, caller.account_id, id, change)?;
        roles::find_visible(conn, caller.account_id, id)?.ok_or(ApiError::NotFound)
    })
}

pub fn delete(
    conn: &mut DbConnection,
    catalogue: &Catalogue,
    caller: &AccountMember,
    id: Uuid,
    reassign_to: Option<Uuid>,
) -> Result<(), ApiError> {
    write_transaction(conn, |conn| {
        accounts::lock(conn, caller.account_id)?;
        let role = roles::find_visible(conn, caller.account_id, id)?.ok_or(ApiError::NotFound)?;
        if !matches!(role.kind, RoleKind::Custom(_)) {
            return Err(conflict("role_read_only", "Built-in and template roles cannot be deleted."));
        }
        match reassign_to {
            Some(target) => {
                if target == id {
                    return Err(ApiError::field(
                        "reassign_to",
                        "same_role",
                        "Reassign to another role than the one deleted.",
                    ));
                }
                let target = roles::find_visible(conn, caller.account_id, target)?.ok_or_else(|| {
                    ApiError::field("reassign_to", "unknown_role", "There is no such role in this account.")
                })?;
                refuse_escalation(&caller.permissions, &catalogue.role_permissions(&target.held(None)))?;
            }
            None if roles::usage(conn, id)? > 0 => {
                return Err(conflict(
                    "role_in_use",
                    "The role is still assigned or offered in pending invitations; name a role to reassign them to (reassign_to).",
                ));
            }
            None => {}
        }
        roles::delete_custom(conn, caller.account_id, id, reassign_to)?;
        Ok(())
    })
}

/// A wanted assignment, as the request names it.
pub struct WantedAssignment {
    pub role_key: String,
    pub group_id: Option<Uuid>,
}

/// Replaces the roles a member holds, if `if_match` names the current
/// version. The caller needs `roles:manage` where each changed assignment
/// applies, may give only roles whose permissions they hold, and only an
/// owner may make or unmake owners; the last owner keeps the role.
pub fn assign(
    conn: &mut DbConnection,
    catalogue: &Catalogue,
    caller: &AccountMember,
    user: Uuid,
    wanted: Vec<WantedAssignment>,
    if_match: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Membership, ApiError> {
    write_transaction(conn, |conn| {
        accounts::lock(conn, caller.account_id)?;
        let membership = memberships::find(conn, caller.account_id, user)?.ok_or(ApiError::NotFound)?;
        let keys: Vec<&str> = wanted.iter().map(|w| w.role_key.as_str()).collect();
        let visible = roles::list_visible_by_keys(conn, caller.account_id, &keys)?;
        let mut next: Vec<(Role, Option<Uuid>)> = Vec::new();
        for want in &wanted {
            let role = visible.iter().find(|role| role.key == want.role_key).ok_or_else(|| {
                ApiError::field(
                    "assignments",
                    "unknown_role",
                    format!("There is no role {:?} in this account.", want.role_key),
                )
            })?;
            if let Some(group) = want.group_id {
                crate::groups::ensure_member(conn, caller.account_id, group, membership.id, now)?;
            }
            if !next.iter().any(|(r, g)| r.id == role.id && *g == want.group_id) {
                next.push((role.clone(), want.group_id));
            }
        }
        let current: Vec<(Uuid, Option<Uuid>)> =
            membership.assignments.iter().map(|a| (a.role.id, a.group_id)).collect();
        let scope_permissions = |scope: Option<Uuid>| catalogue.effective(&caller.roles, scope);
        for (role, group) in &next {
            if !current.contains(&(role.id, *group)) {
                let holder = scope_permissions(*group);
                if !holder.contains(Permission::RolesManage) {
                    return Err(ApiError::Forbidden(Permission::RolesManage.key().to_owned()));
                }
                refuse_escalation(&holder, &catalogue.role_permissions(&role.held(*group)))?;
            }
        }
        for assignment in &membership.assignments {
            if !next.iter().any(|(r, g)| r.id == assignment.role.id && *g == assignment.group_id) {
                let holder = scope_permissions(assignment.group_id);
                if !holder.contains(Permission::RolesManage) {
                    return Err(ApiError::Forbidden(Permission::RolesManage.key().to_owned()));
                }
                let is_owner_role = assignment.group_id.is_none()
                    && assignment.role.kind == RoleKind::BuiltIn(domain::BuiltInRole::Owner);
                if !may_remove(&holder, is_owner_role) {
                    return Err(ApiError::Forbidden(Permission::OwnershipTransfer.key().to_owned()));
                }
                if is_owner_role && memberships::owner_count(conn, caller.account_id)? <= 1 {
                    return Err(conflict(
                        "last_owner",
                        "The account's last owner cannot be demoted; transfer ownership first.",
                    ));
                }
            }
        }
        // Permission first, version second: a caller who may not make the
        // change learns nothing from a stale tag.
        check_precondition(if_match, &membership_tag(&membership))?;
        let assignments: Vec<(Uuid, Option<Uuid>)> = next.iter().map(|(role, group)| (role.id, *group)).collect();
        memberships::replace_assignments(conn, membership.id, &assignments, now)?;
        memberships::find(conn, caller.account_id, user)?.ok_or(ApiError::NotFound)
    })
}

/// Makes `target` an owner and the caller an administrator instead, in one
/// transaction, so the account never lacks an owner.
pub fn transfer_ownership(
    conn: &mut DbConnection,
    caller: &AccountMember,
    target: Uuid,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    if target == caller.user_id {
        return Err(ApiError::field("user_id", "same_user", "You are an owner already; name another member."));
    }
    write_transaction(conn, |conn| {
        accounts::lock(conn, caller.account_id)?;
        let recipient = memberships::find(conn, caller.account_id, target)?.ok_or_else(|| {
            ApiError::field("user_id", "not_a_member", "Only members of the account can become owners.")
        })?;
        let donor = memberships::find(conn, caller.account_id, caller.user_id)?.ok_or(ApiError::NotFound)?;
        let owner = roles::built_in_id(conn, domain::BuiltInRole::Owner)?;
        let administrator = roles::built_in_id(conn, domain::BuiltInRole::Administrator)?;
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
        memberships::replace_assignments(conn, recipient.id, &gained, now)?;
        memberships::replace_assignments(conn, donor.id, &kept, now)?;
        Ok(())
    })
}
