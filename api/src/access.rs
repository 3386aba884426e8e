//! The one guard every account-scoped endpoint goes through: it resolves
//! the caller's membership of the account in the path and the permissions
//! their roles give them.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use domain::{Catalogue, HeldRole, Permission, PermissionSet};
use persistence::memberships;
use uuid::Uuid;

use crate::auth::CurrentUser;
use crate::error::ApiError;
use crate::state::AppState;

/// A signed-in member of the account named by the `{account_id}` path
/// segment. Anyone else gets 404, whether or not the account exists, so that
/// account ids cannot be probed.
#[derive(Debug, Clone)]
pub struct AccountMember {
    pub account_id: Uuid,
    pub user_id: Uuid,
    /// Keys of the roles held account-wide.
    pub role_keys: Vec<String>,
    /// Every role held, with its scope.
    pub roles: Vec<HeldRole>,
    /// Effective permissions account-wide (group-scoped roles excluded).
    pub permissions: PermissionSet,
}

impl AccountMember {
    /// 403 unless the member holds `permission` account-wide, or inside
    /// `group` through a role scoped to it.
    pub fn require_in(
        &self,
        catalogue: &Catalogue,
        permission: Permission,
        group: Option<Uuid>,
    ) -> Result<(), ApiError> {
        if catalogue.holds(&self.roles, group, permission.key()) {
            Ok(())
        } else {
            Err(ApiError::Forbidden(permission.key().to_owned()))
        }
    }

    /// 403 unless the member holds `permission` in this account.
    pub fn require(&self, permission: Permission) -> Result<(), ApiError> {
        if self.permissions.contains(permission) {
            Ok(())
        } else {
            Err(ApiError::Forbidden(permission.key().to_owned()))
        }
    }
}

impl FromRequest for AccountMember {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let user = CurrentUser::from_request(req, payload).into_inner();
        let account_id = req.match_info().get("account_id").map(Uuid::parse_str);
        let state = req.app_data::<web::Data<AppState>>().cloned();
        Box::pin(async move {
            let user = user?;
            let account_id = match account_id {
                Some(Ok(id)) => id,
                Some(Err(_)) => return Err(ApiError::InvalidPath("account_id is not a UUID".into())),
                None => return Err(ApiError::internal("AccountMember used on a route without {account_id}")),
            };
            let state = state.ok_or_else(|| ApiError::internal("application state is not registered"))?;
            let membership = state
                .db(move |conn| Ok(memberships::find(conn, account_id, user.id)?))
                .await?
                .ok_or(ApiError::NotFound)?;
            let roles = membership.held_roles();
            let permissions = state.catalogue.effective(&roles, None);
            Ok(AccountMember {
                account_id,
                user_id: user.id,
                role_keys: membership.account_role_keys(),
                roles,
                permissions,
            })
        })
    }
}

/// What an account-scoped operation requires of its caller, published in the
/// OpenAPI document as `x-authorization` so that clients know, and so that
/// the authorization matrix test can check every handler enforces it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Requirement {
    /// `None`: any member of the account.
    pub permission: Option<Permission>,
    /// Held inside the group named by `{group_id}` is enough.
    pub group_scoped: bool,
}

const fn member() -> Requirement {
    Requirement { permission: None, group_scoped: false }
}

const fn account(permission: Permission) -> Requirement {
    Requirement { permission: Some(permission), group_scoped: false }
}

const fn in_group(permission: Permission) -> Requirement {
    Requirement { permission: Some(permission), group_scoped: true }
}

/// The requirement of each account-scoped operation, by operation id.
pub const REQUIREMENTS: &[(&str, Requirement)] = &[
    ("get_account", member()),
    ("update_account", account(Permission::SettingsManage)),
    ("get_preferences", account(Permission::SettingsManage)),
    ("update_preferences", account(Permission::SettingsManage)),
    ("create_invitations", account(Permission::InvitationsManage)),
    ("list_invitations", account(Permission::InvitationsManage)),
    ("get_invitation", account(Permission::InvitationsManage)),
    ("resend_invitation", account(Permission::InvitationsManage)),
    ("revoke_invitation", account(Permission::InvitationsManage)),
    ("list_members", account(Permission::MembersRead)),
    ("get_member", account(Permission::MembersRead)),
    ("remove_member", account(Permission::MembersManage)),
    ("set_member_roles", account(Permission::RolesManage)),
    ("get_member_permissions", account(Permission::MembersRead)),
    ("check_authorization", account(Permission::MembersRead)),
    ("transfer_ownership", account(Permission::OwnershipTransfer)),
    ("list_roles", account(Permission::MembersRead)),
    ("create_role", account(Permission::RolesManage)),
    ("get_role", account(Permission::MembersRead)),
    ("update_role", account(Permission::RolesManage)),
    ("delete_role", account(Permission::RolesManage)),
    ("list_groups", account(Permission::MembersRead)),
    ("create_group", account(Permission::GroupsManage)),
    ("get_group", in_group(Permission::MembersRead)),
    ("update_group", account(Permission::GroupsManage)),
    ("delete_group", account(Permission::GroupsManage)),
    ("list_group_members", in_group(Permission::MembersRead)),
    ("add_group_member", in_group(Permission::GroupsManage)),
    ("remove_group_member", in_group(Permission::GroupsManage)),
    ("create_invitation_import", account(Permission::ImportsManage)),
    ("list_invitation_imports", account(Permission::ImportsManage)),
    ("get_invitation_import", account(Permission::ImportsManage)),
    ("get_invitation_import_report", account(Permission::ImportsManage)),
    ("create_join_link", account(Permission::JoinLinksManage)),
    ("list_join_links", account(Permission::JoinLinksManage)),
    ("rotate_join_link", account(Permission::JoinLinksManage)),
    ("disable_join_link", account(Permission::JoinLinksManage)),
    ("list_join_requests", account(Permission::JoinRequestsReview)),
    ("approve_join_request", account(Permission::JoinRequestsReview)),
    ("deny_join_request", account(Permission::JoinRequestsReview)),
];

pub fn requirement(operation_id: &str) -> Option<Requirement> {
    REQUIREMENTS.iter().find(|(id, _)| *id == operation_id).map(|(_, requirement)| *requirement)
}
