//! The one guard every account-scoped endpoint goes through. Each route
//! declares its [`Requirement`] once, beside its handler, as the
//! `x-authorization` extension of its OpenAPI operation:
//!
//! ```text
//! #[utoipa::path(..., extensions(("x-authorization" = json!(Requirement::account(Permission::MembersRead)))))]
//! ```
//!
//! At start-up [`RouteRequirements`] reads those declarations back from the
//! document, and the extractors here enforce the requirement of the route
//! that matched: the published contract and the check are the same value.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::Method;
use actix_web::{FromRequest, HttpRequest, web};
use domain::access::{Requirement, Scope, Target};
use domain::{Catalogue, HeldRole, PermissionSet};
use persistence::memberships;
use uuid::Uuid;

use crate::flows::Grantor;
use crate::http::problem::ApiError;
use crate::state::AppState;

/// The name of the OpenAPI extension that carries a route's requirement.
pub const EXTENSION: &str = "x-authorization";

/// Every account-scoped route's requirement, by method and path template.
#[derive(Debug, Default)]
pub struct RouteRequirements(HashMap<(Method, String), Requirement>);

impl RouteRequirements {
    /// Reads the declarations from the document; an account-scoped route
    /// without one is a build error caught at start-up.
    pub fn from_document(document: &utoipa::openapi::OpenApi) -> Result<Self, String> {
        let document = serde_json::to_value(document).map_err(|e| e.to_string())?;
        let mut found = HashMap::new();
        for (path, item) in document["paths"].as_object().into_iter().flatten() {
            for (method, operation) in item.as_object().into_iter().flatten() {
                let Ok(method) = Method::from_bytes(method.to_uppercase().as_bytes()) else { continue };
                match operation.get(EXTENSION) {
                    Some(declared) => {
                        let requirement: Requirement = serde_json::from_value(declared.clone())
                            .map_err(|e| format!("{method} {path}: invalid {EXTENSION}: {e}"))?;
                        found.insert((method, path.clone()), requirement);
                    }
                    None if path.contains("{account_id}") && !path.starts_with("/v1/me/") => {
                        return Err(format!("{method} {path} declares no {EXTENSION}"));
                    }
                    None => {}
                }
            }
        }
        Ok(Self(found))
    }

    fn of(&self, req: &HttpRequest) -> Option<Requirement> {
        let pattern = req.match_pattern()?;
        self.0.get(&(req.method().clone(), pattern)).copied()
    }

    pub fn get(&self, method: &Method, path: &str) -> Option<Requirement> {
        self.0.get(&(method.clone(), path.to_owned())).copied()
    }
}

/// A signed-in member of the account named by the `{account_id}` path
/// segment who meets the route's requirement. Non-members get 404, whether
/// or not the account exists, so that account ids cannot be probed; members
/// lacking the permission get 403.
#[derive(Debug, Clone)]
pub struct AccountMember {
    pub account_id: Uuid,
    pub user_id: Uuid,
    /// Every role held, with its scope.
    pub roles: Vec<HeldRole>,
    /// Effective permissions account-wide (group-scoped roles excluded).
    pub permissions: PermissionSet,
}

impl AccountMember {
    /// The membership of `user` in `account`, on a connection the caller
    /// already holds. 404 for non-members.
    pub fn resolve(
        conn: &mut persistence::DbConnection,
        catalogue: &Catalogue,
        account_id: Uuid,
        user_id: Uuid,
    ) -> Result<AccountMember, ApiError> {
        let membership = memberships::find(conn, account_id, user_id)?.ok_or(ApiError::NotFound)?;
        Ok(Self::of(catalogue, membership))
    }

    /// The member for a membership already loaded.
    pub fn of(catalogue: &Catalogue, membership: memberships::Membership) -> AccountMember {
        let (account_id, user_id) = (membership.account_id, membership.user_id);
        let roles = membership.held_roles();
        let permissions = catalogue.effective(&roles, None);
        AccountMember { account_id, user_id, roles, permissions }
    }

    /// The member as the flows see someone who grants and administers.
    pub fn grantor(&self) -> Grantor {
        Grantor { account_id: self.account_id, user_id: self.user_id, roles: self.roles.clone() }
    }
}

/// The signed-in caller, the account named in the path and the route's
/// requirement, not yet looked up: for handlers that resolve the membership
/// in the same database hop as the rest of their work, and then call
/// [`AccountCaller::authorize`].
#[derive(Debug, Clone, Copy)]
pub struct AccountCaller {
    pub account_id: Uuid,
    pub user_id: Uuid,
    pub requirement: Requirement,
}

impl AccountCaller {
    fn from_request(req: &HttpRequest) -> Result<Self, ApiError> {
        let user = crate::auth::authenticate(req)?;
        let account_id = path_id(req, "account_id")?
            .ok_or_else(|| ApiError::internal("an account guard used on a route without {account_id}"))?;
        let requirement = req
            .app_data::<web::Data<AppState>>()
            .and_then(|state| state.requirements.of(req))
            .ok_or_else(|| ApiError::internal("an account-scoped route declares no requirement"))?;
        Ok(AccountCaller { account_id, user_id: user.id, requirement })
    }

    /// 403 unless a member holding `roles` meets the route's requirement
    /// about `target`.
    pub fn authorize(&self, catalogue: &Catalogue, roles: &[HeldRole], target: &Target) -> Result<(), ApiError> {
        if self.requirement.allows(catalogue, roles, target) {
            Ok(())
        } else {
            let permission = self.requirement.permission.map(|p| p.key().to_owned()).unwrap_or_default();
            Err(ApiError::Forbidden(permission))
        }
    }
}

/// A UUID path segment; a malformed one is the 400 the path extractor would
/// give.
fn path_id(req: &HttpRequest, name: &str) -> Result<Option<Uuid>, ApiError> {
    match req.match_info().get(name).map(Uuid::parse_str) {
        Some(Ok(id)) => Ok(Some(id)),
        Some(Err(_)) => Err(ApiError::InvalidPath(format!("{name} is not a UUID"))),
        None => Ok(None),
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
        let group = path_id(req, "group_id");
        let subject = path_id(req, "user_id");
        let state = req.app_data::<web::Data<AppState>>().cloned();
        Box::pin(async move {
            let (caller, group, subject) = (caller?, group?, subject?);
            let state = state.ok_or_else(|| ApiError::internal("application state is not registered"))?;
            let shared = state.clone();
            state
                .db(move |conn| {
                    let catalogue = &shared.catalogue;
                    let member = AccountMember::resolve(conn, catalogue, caller.account_id, caller.user_id)?;
                    let mut target =
                        Target { group, member_groups: Vec::new(), is_self: subject == Some(member.user_id) };
                    let holds_anyway = caller.requirement.allows(catalogue, &member.roles, &target);
                    if caller.requirement.scope == Scope::MemberGroups
                        && !holds_anyway
                        && let Some(subject) = subject
                        && let Some(membership) = memberships::find(conn, caller.account_id, subject)?
                    {
                        target.member_groups = persistence::groups::of_membership(conn, membership.id)?;
                    }
                    caller.authorize(catalogue, &member.roles, &target)?;
                    Ok(member)
                })
                .await
        })
    }
}
