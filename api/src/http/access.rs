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
use std::sync::Arc;

use actix_web::dev::Payload;
use actix_web::http::Method;
use actix_web::{FromRequest, HttpRequest, web};
use domain::access::{Requirement, Scope, Target};
use domain::api_key::IpAllowList;
use domain::membership::MembershipStatus;
use domain::plan::{Feature, Plans};
use domain::{Catalogue, HeldRole};
use persistence::{api_keys, memberships};
use uuid::Uuid;

use crate::access_cache::{AccountAccess, KeyAccess, MemberAccess, ResolvedKey};
use crate::flows::{Actor, Grantor};
use crate::http::caller::Credential;
use crate::http::problem::ApiError;
use crate::http::rate_limit::Bucket;
use crate::http::state::AppState;

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
///
/// A partner's API key passes here too: it acts as its creator would,
/// limited to the key's permissions (and group), with the key as the actor
/// of what it changes.
#[derive(Debug, Clone)]
pub struct AccountMember {
    pub account_id: Uuid,
    /// The signed-in user, or the creator of the API key used.
    pub user_id: Uuid,
    /// Every role held, with its scope (for a key: as reduced to it).
    pub roles: Vec<HeldRole>,
    /// The API key used, if one was.
    pub api_key: Option<Uuid>,
}

impl AccountMember {
    /// Who the audit log names for what this caller changes.
    pub fn actor(&self) -> Actor {
        match self.api_key {
            Some(key) => Actor::ApiKey(key),
            None => Actor::User(self.user_id),
        }
    }

    /// The member as the flows see someone who grants and administers.
    pub fn grantor(&self) -> Grantor {
        Grantor { account_id: self.account_id, user_id: self.user_id, roles: self.roles.clone() }
    }
}

/// The roles of a membership, and those extended from a parent account as
/// the child sees them: without what only owners hold.
fn held_roles(catalogue: &Catalogue, access: memberships::Access) -> Vec<HeldRole> {
    let mut held = access.membership.map(|membership| membership.held_roles()).unwrap_or_default();
    held.extend(access.inherited.into_iter().map(|role| {
        let granted = domain::account_link::inherited_permissions(&catalogue.role_permissions(&role.held(None)));
        HeldRole { key: role.key, kind: domain::RoleKind::Custom(granted), group: None }
    }));
    held
}

/// What `users` hold in `account`, and the account's plan: from the
/// instance's cache when it knows them all, else read in one database hop
/// and kept ([`crate::access_cache`]). Users who hold nothing are left out.
pub async fn account_access(
    state: &web::Data<AppState>,
    account: Uuid,
    users: &[Uuid],
) -> Result<AccountAccess, ApiError> {
    if let Some(known) = state.access.account(account, users) {
        return Ok(known);
    }
    let ticket = state.access.ticket(account);
    let (asked, shared) = (users.to_vec(), state.clone());
    let read = state
        .db(move |conn| {
            let catalogue = &shared.deployment.catalogue;
            let members = memberships::access_in(conn, account, &asked)?
                .into_iter()
                // A suspended member holds nothing in the account: their
                // requests, their API keys and checks about them are
                // answered as for someone who is not a member.
                .filter(|(_, access)| {
                    access.membership.as_ref().is_none_or(|membership| membership.status == MembershipStatus::Active)
                })
                .map(|(user, access)| {
                    let membership = access.membership.as_ref().map(|m| (m.id, m.last_active_at));
                    let roles = held_roles(catalogue, access);
                    let (id, last_active_at) = membership.map_or((None, None), |(id, at)| (Some(id), at));
                    (user, Arc::new(MemberAccess::new(id, roles, last_active_at)))
                })
                .collect();
            let standing = persistence::accounts::standing(conn, account)?;
            let pending_deletion = standing.as_ref().is_some_and(|(_, pending)| *pending);
            Ok(AccountAccess { plan: standing.map(|(plan, _)| plan), pending_deletion, members })
        })
        .await?;
    state.access.keep_account(ticket, users, &read);
    Ok(read)
}

/// A member's request is their activity in the account: recorded when the
/// last record is stale (every few minutes at most), not on every request.
async fn record_activity(state: &web::Data<AppState>, member: &MemberAccess) -> Result<(), ApiError> {
    let now = state.clock.now();
    let Some(membership) = member.membership else { return Ok(()) };
    if !domain::membership::activity_stale(member.last_active_at(), now) {
        return Ok(());
    }
    // Marked first, so that the requests arriving meanwhile do not write too.
    member.set_last_active_at(now);
    state
        .db(move |conn| {
            Ok(persistence::write_transaction(conn, |conn| memberships::record_activity(conn, membership, now))?)
        })
        .await
}

/// The signed-in caller, the account named in the path and the route's
/// requirement, not yet looked up: for handlers that resolve the caller
/// together with someone else ([`account_access`] for both at once), and
/// then call [`AccountCaller::authorize`].
#[derive(Debug, Clone)]
pub struct AccountCaller {
    pub account_id: Uuid,
    pub credential: Credential,
    pub requirement: Requirement,
}

impl AccountCaller {
    fn from_request(req: &HttpRequest) -> Result<Self, ApiError> {
        let credential = crate::http::caller::credential(req)?;
        let account_id = path_id(req, "account_id")?
            .ok_or_else(|| ApiError::internal("an account guard used on a route without {account_id}"))?;
        let state = req.app_data::<web::Data<AppState>>();
        let requirement = state
            .and_then(|state| state.requirements.of(req))
            .ok_or_else(|| ApiError::internal("an account-scoped route declares no requirement"))?;
        // Decided when the token was issued: no lookup per request.
        if let Credential::User(user) = &credential
            && let Some(required) = user.sso_required.filter(|required| required.account == account_id)
        {
            let public_url = state.map(|state| state.settings.public_url.as_str()).unwrap_or_default();
            return Err(ApiError::SsoRequired {
                start_url: crate::flows::sso::start_url(public_url, required.connection),
            });
        }
        Ok(AccountCaller { account_id, credential, requirement })
    }

    /// The caller as a member of the account, before the requirement is
    /// checked: 404 for a user who is not a member or a key of another
    /// account; 401 for a key that is revoked, expired, rotated out, used
    /// from an address it does not allow, or whose creator has left.
    pub async fn member(&self, state: &web::Data<AppState>) -> Result<AccountMember, ApiError> {
        Ok(self.member_and_plan(state).await?.0)
    }

    /// [`AccountCaller::member`], with the account's plan read alongside.
    async fn member_and_plan(&self, state: &web::Data<AppState>) -> Result<(AccountMember, Standing), ApiError> {
        let catalogue = &state.deployment.catalogue;
        let Credential::ApiKey(presented) = &self.credential else {
            let user = self.user_id().ok_or(ApiError::Unauthenticated)?;
            let mut access = account_access(state, self.account_id, &[user]).await?;
            let member = access.members.remove(&user).ok_or(ApiError::NotFound)?;
            record_activity(state, &member).await?;
            let roles = member.roles.clone();
            let member = AccountMember { account_id: self.account_id, user_id: user, roles, api_key: None };
            return Ok((member, Standing { plan: access.plan, pending_deletion: access.pending_deletion }));
        };
        let now = state.clock.now();
        let key = self.presented_key(state, &presented.digest).await?;
        let (secret_ended, api_key) = (key.secret_valid_until.is_some_and(|until| until <= now), &key.key);
        if secret_ended || api_key.revoked_at.is_some() || api_key.expires_at <= now {
            return Err(ApiError::Unauthenticated);
        }
        if api_key.account_id != self.account_id {
            return Err(ApiError::NotFound);
        }
        let allowed = IpAllowList::parse(&api_key.allowed_ips).map_err(|e| ApiError::internal(e.message))?;
        if !allowed.allows(presented.client_ip) {
            return Err(ApiError::Unauthenticated);
        }
        let resolved = match key.resolved() {
            Some(resolved) => resolved,
            None => {
                let creator = api_key.created_by;
                let mut access = account_access(state, self.account_id, &[creator]).await?;
                let creator_roles = access.members.remove(&creator).ok_or(ApiError::Unauthenticated)?;
                let roles = crate::flows::api_keys::roles_of_key(catalogue, &creator_roles.roles, api_key);
                key.resolve(ResolvedKey { roles, plan: access.plan, pending_deletion: access.pending_deletion })
            }
        };
        if let Err(refused) = state.local_limits.count(&state.settings.rate_limits, now, Bucket::ApiKey, &key.subject) {
            state.metrics.count_refusal(Bucket::ApiKey.name());
            return Err(refused);
        }
        if key.last_used_at().is_none_or(|at| now - at >= chrono::Duration::minutes(1)) {
            key.set_last_used_at(now);
            let (id, ip) = (api_key.id, presented.client_ip.map(|ip| ip.to_string()));
            state.db(move |conn| Ok(api_keys::touch(conn, id, ip.as_deref(), now)?)).await?;
        }
        let member = AccountMember {
            account_id: self.account_id,
            user_id: api_key.created_by,
            roles: resolved.roles.clone(),
            api_key: Some(api_key.id),
        };
        // Keys stop while their account waits for its deletion, as if revoked.
        if resolved.pending_deletion {
            return Err(ApiError::Unauthenticated);
        }
        Ok((member, Standing { plan: resolved.plan.clone(), pending_deletion: false }))
    }

    /// The key presented with `digest`, from the cache or the database; a
    /// key of this account is kept.
    async fn presented_key(&self, state: &web::Data<AppState>, digest: &str) -> Result<Arc<KeyAccess>, ApiError> {
        if let Some(key) = state.access.key(digest) {
            return Ok(key);
        }
        let ticket = state.access.ticket(self.account_id);
        let wanted = digest.to_owned();
        let found = state.db(move |conn| Ok(api_keys::by_digest(conn, &wanted)?)).await?;
        let found = found.ok_or(ApiError::Unauthenticated)?;
        let key = Arc::new(KeyAccess::new(found.key, found.secret_valid_until));
        if key.key.account_id == self.account_id {
            state.access.keep_key(ticket, digest, key.clone());
        }
        Ok(key)
    }

    /// The signed-in user, when the caller is one (not an API key).
    pub fn user_id(&self) -> Option<Uuid> {
        match &self.credential {
            Credential::User(user) => Some(user.id),
            Credential::ApiKey(_) => None,
        }
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

/// What every request to an account is checked against besides roles.
#[derive(Debug, Clone)]
struct Standing {
    plan: Option<String>,
    pending_deletion: bool,
}

/// While an account waits for its deletion nothing in it changes: only
/// reads, and what ends the wait (restoring it; deleting it again answers
/// that it is pending), are let through.
fn check_pending_deletion(
    standing: &Standing,
    method: &actix_web::http::Method,
    route: Option<&str>,
) -> Result<(), ApiError> {
    let reading = matches!(*method, actix_web::http::Method::GET | actix_web::http::Method::HEAD);
    let ending_the_wait = matches!(route, Some("/v1/accounts/{account_id}/restore"))
        || (route == Some("/v1/accounts/{account_id}") && *method == actix_web::http::Method::DELETE);
    if standing.pending_deletion && !reading && !ending_the_wait {
        return Err(ApiError::AccountPendingDeletion);
    }
    Ok(())
}

/// 403 `plan_upgrade_required` when the route belongs to a feature the
/// account's plan (`stored`) lacks, naming the plans that include it.
fn check_plan(plans: &Plans, stored: Option<String>, requirement: Requirement) -> Result<(), ApiError> {
    match requirement.feature {
        Some(feature) => check_feature(plans, stored, feature),
        None => Ok(()),
    }
}

/// 403 `plan_upgrade_required` when the account's plan (`stored`) lacks
/// `feature`, naming the plans that include it.
pub(crate) fn check_feature(plans: &Plans, stored: Option<String>, feature: Feature) -> Result<(), ApiError> {
    if plans.of_account(&stored.unwrap_or_default()).includes(feature) {
        return Ok(());
    }
    let including = plans.including(feature).into_iter().map(|plan| plan.key.clone()).collect();
    Err(ApiError::PlanUpgradeRequired { feature: feature.key(), plans: including })
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
        let (method, route) = (req.method().clone(), req.match_pattern());
        let group = path_id(req, "group_id");
        let subject = path_id(req, "user_id");
        let state = req.app_data::<web::Data<AppState>>().cloned();
        Box::pin(async move {
            let (caller, group, subject) = (caller?, group?, subject?);
            let state = state.ok_or_else(|| ApiError::internal("application state is not registered"))?;
            let catalogue = &state.deployment.catalogue;
            let (member, standing) = caller.member_and_plan(&state).await?;
            // A key is never "the member themselves".
            let is_self = member.api_key.is_none() && subject == Some(member.user_id);
            let mut target = Target { group, member_groups: Vec::new(), is_self };
            let holds_anyway = caller.requirement.allows(catalogue, &member.roles, &target);
            if caller.requirement.scope == Scope::MemberGroups
                && !holds_anyway
                && let Some(subject) = subject
            {
                let account = caller.account_id;
                target.member_groups = state
                    .db(move |conn| match memberships::find(conn, account, subject)? {
                        Some(membership) => Ok(persistence::groups::of_membership(conn, membership.id)?),
                        None => Ok(Vec::new()),
                    })
                    .await?;
            }
            caller.authorize(catalogue, &member.roles, &target)?;
            check_plan(&state.deployment.plans, standing.plan.clone(), caller.requirement)?;
            check_pending_deletion(&standing, &method, route.as_deref())?;
            Ok(member)
        })
    }
}
