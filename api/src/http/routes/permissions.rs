use actix_web::{HttpResponse, get, post, web};
use domain::access::{Requirement, Target};
use domain::{HeldRole, Permission};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::http::access::{AccountCaller, account_access};
use crate::http::caller::CurrentUser;
use crate::http::extract::JsonBody;
use crate::http::problem::{ApiError, field_error};
use crate::http::schemas::PermissionKey;
use crate::http::state::AppState;

#[derive(Serialize, ToSchema)]
#[schema(example = json!({"key": "roles:manage", "description": "Define roles and assign them to members (administrator-equivalent).", "administrator_equivalent": true, "application": false}))]
pub struct PermissionView {
    pub key: String,
    pub description: String,
    /// Holding it amounts to administering the account.
    pub administrator_equivalent: bool,
    /// Declared by this deployment for its product rather than used by Roster.
    pub application: bool,
}

#[derive(Serialize, ToSchema)]
pub struct PermissionCatalogue {
    pub permissions: Vec<PermissionView>,
}

/// The permission catalogue: Roster's own and this deployment's.
#[utoipa::path(
    tag = "permissions", operation_id = "list_permissions", security(("bearer" = [])),
    responses((status = 200, description = "Every permission a role can carry", body = PermissionCatalogue))
)]
#[get("/permissions")]
pub async fn list_permissions(state: web::Data<AppState>, _me: CurrentUser) -> HttpResponse {
    let permissions = state
        .deployment
        .catalogue
        .entries()
        .iter()
        .map(|entry| PermissionView {
            key: entry.key.clone(),
            description: entry.description.clone(),
            administrator_equivalent: entry.administrator_equivalent,
            application: entry.application,
        })
        .collect();
    HttpResponse::Ok().json(PermissionCatalogue { permissions })
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"user_id": "01937a2e-4c1d-7b6a-9f3e-2a1b0c9d8e7f", "permissions": ["certifications:apply", "members:manage"]}))]
pub struct AuthorizationCheckRequest {
    pub user_id: Uuid,
    /// 1 to 100 permission keys, all required.
    #[schema(min_items = 1, max_items = 100, value_type = Vec<PermissionKey>)]
    pub permissions: Vec<String>,
    /// Check inside this group: group-scoped roles count there.
    pub group_id: Option<Uuid>,
}

#[derive(Serialize, ToSchema)]
#[schema(example = json!({"allowed": false, "missing": ["members:manage"]}))]
pub struct AuthorizationCheckResponse {
    /// Whether the user holds every requested permission.
    pub allowed: bool,
    /// The requested permissions the user lacks.
    pub missing: Vec<String>,
}

/// What both operations here require: members may ask about themselves;
/// asking about others needs `members:read`.
const ABOUT_A_MEMBER: Requirement = Requirement::account(Permission::MembersRead).or_self();

/// The roles `target` holds in the caller's account, as the caller may see
/// them (the route's requirement): both memberships are read together, and
/// from the instance's cache when it has them. `None` when `target` is not
/// a member.
async fn roles_seen_by(
    state: &web::Data<AppState>,
    caller: &AccountCaller,
    target: Uuid,
) -> Result<Option<Vec<HeldRole>>, ApiError> {
    let catalogue = &state.deployment.catalogue;
    let Some(user) = caller.user_id() else {
        // An API key: a backend asking about its users. Never "self".
        let key = caller.member(state).await?;
        caller.authorize(catalogue, &key.roles, &Target::default())?;
        let found = account_access(state, caller.account_id, &[target]).await?;
        return Ok(found.members.get(&target).map(|member| member.roles.clone()));
    };
    let found = account_access(state, caller.account_id, &[user, target]).await?;
    let mine = &found.members.get(&user).ok_or(ApiError::NotFound)?.roles;
    let is_self = target == user;
    caller.authorize(catalogue, mine, &Target { is_self, ..Target::default() })?;
    Ok(found.members.get(&target).map(|member| member.roles.clone()))
}

/// May this person do that? Checks a member's effective permissions.
///
/// A user who is not a member holds nothing. A change of roles counts from
/// the next check: at once on the server that made it, within milliseconds
/// on the others.
#[utoipa::path(
    tag = "permissions", operation_id = "check_authorization", security(("bearer" = [])), request_body = AuthorizationCheckRequest,
    params(("account_id" = Uuid, Path, description = "The account")),
    responses((status = 200, description = "The decision", body = AuthorizationCheckResponse)),
    extensions(("x-authorization" = json!(ABOUT_A_MEMBER)))
)]
#[post("/authorization-checks")]
pub async fn check_authorization(
    state: web::Data<AppState>,
    caller: AccountCaller,
    body: JsonBody<AuthorizationCheckRequest>,
) -> Result<HttpResponse, ApiError> {
    let request = body.0;
    // The hot path of every integration: answered from memory when the
    // instance holds both members' roles.
    let roles = roles_seen_by(&state, &caller, request.user_id).await?.unwrap_or_default();
    if request.permissions.is_empty() || request.permissions.len() > 100 {
        return Err(ApiError::field("permissions", "out_of_range", "Ask about 1 to 100 permissions."));
    }
    let unknown: Vec<_> = request
        .permissions
        .iter()
        .filter(|key| !state.deployment.catalogue.contains(key))
        .map(|key| {
            field_error(
                "permissions",
                domain::InvalidValue::new("unknown_permission", format!("{key:?} is not in the catalogue.")),
            )
        })
        .collect();
    if !unknown.is_empty() {
        return Err(ApiError::Validation(unknown));
    }
    let mut missing: Vec<String> = request
        .permissions
        .into_iter()
        .filter(|key| !state.deployment.catalogue.holds(&roles, request.group_id, key))
        .collect();
    missing.sort();
    missing.dedup();
    Ok(HttpResponse::Ok().json(AuthorizationCheckResponse { allowed: missing.is_empty(), missing }))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ScopeQuery {
    /// Effective permissions inside this group.
    pub group_id: Option<Uuid>,
}

#[derive(Serialize, ToSchema)]
#[schema(example = json!({"permissions": ["badges:request", "certifications:apply", "certifications:view"]}))]
pub struct EffectivePermissions {
    pub permissions: Vec<String>,
}

/// A member's effective permissions, account-wide or inside a group.
#[utoipa::path(
    tag = "permissions", operation_id = "get_member_permissions", security(("bearer" = [])),
    params(("account_id" = Uuid, Path, description = "The account"), ("user_id" = Uuid, Path, description = "The member"), ScopeQuery),
    responses((status = 200, description = "The permissions, sorted", body = EffectivePermissions)),
    extensions(("x-authorization" = json!(ABOUT_A_MEMBER)))
)]
#[get("/members/{user_id}/permissions")]
pub async fn get_member_permissions(
    state: web::Data<AppState>,
    caller: AccountCaller,
    path: web::Path<(Uuid, Uuid)>,
    scope: web::Query<ScopeQuery>,
) -> Result<HttpResponse, ApiError> {
    let (_, user) = path.into_inner();
    // Unlike a check, a listing names a member: 404 for anyone else.
    let roles = roles_seen_by(&state, &caller, user).await?.ok_or(ApiError::NotFound)?;
    let held = state.deployment.catalogue.effective(&roles, scope.group_id);
    Ok(HttpResponse::Ok().json(EffectivePermissions { permissions: held.keys().map(str::to_owned).collect() }))
}
