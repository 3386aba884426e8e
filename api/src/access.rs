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

    /// The membership of `user` in `account`, on a connection the caller
    /// already holds: handlers that need more from the database resolve the
    /// caller in the same blocking hop. 404 for non-members.
    pub fn resolve(
        conn: &mut persistence::DbConnection,
        catalogue: &Catalogue,
        account_id: Uuid,
        user_id: Uuid,
    ) -> Result<AccountMember, ApiError> {
        let membership = memberships::find(conn, account_id, user_id)?.ok_or(ApiError::NotFound)?;
        Ok(Self::of(catalogue, membership))
    }

    /// The guard for a membership already loaded.
    pub fn of(catalogue: &Catalogue, membership: memberships::Membership) -> AccountMember {
        let (account_id, user_id) = (membership.account_id, membership.user_id);
        let roles = membership.held_roles();
        let permissions = catalogue.effective(&roles, None);
        AccountMember { account_id, user_id, role_keys: membership.account_role_keys(), roles, permissions }
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

/// The signed-in caller and the account named in the path, not yet looked
/// up: for handlers that resolve the membership ([`AccountMember::resolve`])
/// in the same database hop as the rest of their work.
#[derive(Debug, Clone, Copy)]
pub struct AccountCaller {
    pub account_id: Uuid,
    pub user_id: Uuid,
}

impl AccountCaller {
    fn from_request(req: &HttpRequest) -> Result<Self, ApiError> {
        let user = crate::auth::authenticate(req)?;
        let account_id = match req.match_info().get("account_id").map(Uuid::parse_str) {
            Some(Ok(id)) => id,
            Some(Err(_)) => return Err(ApiError::InvalidPath("account_id is not a UUID".into())),
            None => return Err(ApiError::internal("an account guard used on a route without {account_id}")),
        };
        Ok(AccountCaller { account_id, user_id: user.id })
    }
}

impl FromRequest for AccountCaller {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(AccountCaller::from_request(req))
    }
}

impl FromRequest for AccountMember {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let caller = AccountCaller::from_request(req);
        let state = req.app_data::<web::Data<AppState>>().cloned();
        Box::pin(async move {
            let caller = caller?;
            let state = state.ok_or_else(|| ApiError::internal("application state is not registered"))?;
            let shared = state.clone();
            state
                .db(move |conn| AccountMember::resolve(conn, &shared.catalogue, caller.account_id, caller.user_id))
                .await
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
