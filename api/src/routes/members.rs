use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, delete, get, post, put, web};
use chrono::{DateTime, Utc};
use domain::Permission;
use persistence::memberships::{self, Member, MemberFilter};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::access::AccountMember;
use crate::auth::CurrentUser;
use crate::error::{ApiError, Problem};
use crate::extract::JsonBody;
use crate::invitations as flows;
use crate::roles::{self, WantedAssignment};
use crate::routes::pagination::PageQuery;
use crate::routes::pagination::page_cursor;
use crate::routes::roles::if_match;
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
#[schema(as = Member)]
pub struct MemberView {
    pub user_id: Uuid,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    #[schema(example = json!(["administrator"]))]
    pub roles: Vec<String>,
    pub joined_at: DateTime<Utc>,
}

impl From<Member> for MemberView {
    fn from(member: Member) -> Self {
        MemberView {
            user_id: member.user_id,
            email: member.email,
            first_name: member.first_name,
            last_name: member.last_name,
            roles: member.role_keys,
            joined_at: member.joined_at,
        }
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MemberSearch {
    /// Case-insensitive search in email, first and last name.
    pub q: Option<String>,
    /// Only members holding this role (its key), in any scope.
    pub role: Option<String>,
    /// Only members of this group.
    pub group_id: Option<Uuid>,
}

#[derive(Serialize, ToSchema)]
pub struct MemberPage {
    pub items: Vec<MemberView>,
    pub next_cursor: Option<String>,
}

/// List an account's members, in the order they joined.
#[utoipa::path(
    tag = "members", operation_id = "list_members", security(("bearer" = [])),
    params(("account_id" = Uuid, Path, description = "The account"), MemberSearch, PageQuery),
    responses((status = 200, description = "A page of members", body = MemberPage))
)]
#[get("/members")]
pub async fn list_members(
    state: web::Data<AppState>,
    member: AccountMember,
    search: web::Query<MemberSearch>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    member.require(Permission::MembersRead)?;
    let limit = page.limit()?;
    let cursor = page.cursor()?.map(|id| id.to_string());
    let (account, search) = (member.account_id, search.into_inner());
    let mut rows = state
        .db(move |conn| {
            let filter = MemberFilter {
                user: None,
                search: search.q.as_deref(),
                after: cursor.as_deref(),
                limit: limit + 1,
                role: search.role.as_deref(),
                group: search.group_id,
            };
            Ok(memberships::load_members(conn, account, filter)?)
        })
        .await?;
    let next_cursor = page_cursor(&mut rows, limit, |(membership_id, _)| membership_id.clone());
    Ok(HttpResponse::Ok().json(MemberPage { items: rows.into_iter().map(|(_, m)| m.into()).collect(), next_cursor }))
}

/// Read one member; `ETag` is the version of their role assignments.
#[utoipa::path(
    tag = "members", operation_id = "get_member", security(("bearer" = [])),
    params(("account_id" = Uuid, Path, description = "The account"), ("user_id" = Uuid, Path, description = "The member's user id")),
    responses((status = 200, description = "The member", body = MemberView))
)]
#[get("/members/{user_id}")]
pub async fn get_member(
    state: web::Data<AppState>,
    member: AccountMember,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    // Account-wide readers see everyone; a group administrator sees the
    // members of their groups.
    let account_wide = member.permissions.contains(Permission::MembersRead);
    if !account_wide && !member.roles.iter().any(|role| role.group.is_some()) {
        return Err(ApiError::Forbidden(Permission::MembersRead.key().to_owned()));
    }
    let (account, user) = path.into_inner();
    let shared = state.clone();
    let (found, tag) = state
        .db(move |conn| {
            let found = memberships::find_member(conn, account, user)?.ok_or(ApiError::NotFound)?;
            let membership = memberships::find(conn, account, user)?.ok_or(ApiError::NotFound)?;
            if !account_wide {
                let readable = persistence::groups::of_membership(conn, membership.id)?.into_iter().any(|group| {
                    shared.catalogue.effective(&member.roles, Some(group)).contains(Permission::MembersRead)
                });
                if !readable {
                    return Err(ApiError::Forbidden(Permission::MembersRead.key().to_owned()));
                }
            }
            Ok((found, roles::membership_tag(&membership)))
        })
        .await?;
    Ok(HttpResponse::Ok().insert_header((header::ETAG, tag)).json(MemberView::from(found)))
}

/// Remove a member: their access ends and their pending invitations to this
/// account are revoked. They need a new invitation to come back.
///
/// Needs `members:manage`; removing an owner also needs `ownership:transfer`
/// (only owners hold it).
#[utoipa::path(
    tag = "members", operation_id = "remove_member", security(("bearer" = [])),
    params(("account_id" = Uuid, Path, description = "The account"), ("user_id" = Uuid, Path, description = "The member's user id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 409, description = "The last owner cannot be removed (`last_owner`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/members/{user_id}")]
pub async fn remove_member(
    state: web::Data<AppState>,
    member: AccountMember,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    member.require(Permission::MembersManage)?;
    let (account, user) = path.into_inner();
    let now = state.clock.now();
    let remover = member.permissions;
    state.db(move |conn| flows::remove_member(conn, account, user, Some(&remover), now)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Leave an account. The last owner cannot leave.
#[utoipa::path(
    tag = "me", operation_id = "leave_account", security(("bearer" = [])),
    params(("account_id" = Uuid, Path, description = "The account")),
    responses(
        (status = 204, description = "Left"),
        (status = 409, description = "The last owner cannot leave (`last_owner`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/me/accounts/{account_id}")]
pub async fn leave_account(
    state: web::Data<AppState>,
    me: CurrentUser,
    account: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let (account, now) = (account.into_inner(), state.clock.now());
    state.db(move |conn| flows::remove_member(conn, account, me.id, None, now)).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignmentRequest {
    /// Role key.
    pub role: String,
    /// Hold the role only inside this group.
    pub group_id: Option<Uuid>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"assignments": [{"role": "developer"}]}))]
pub struct AssignmentsRequest {
    /// Every role the member will hold (at most 50); replaces the current set.
    pub assignments: Vec<AssignmentRequest>,
}

#[derive(Serialize, ToSchema)]
pub struct AssignmentView {
    pub role: String,
    pub group_id: Option<Uuid>,
}

#[derive(Serialize, ToSchema)]
pub struct AssignmentsView {
    pub assignments: Vec<AssignmentView>,
}

/// Replace the roles a member holds, account-wide or inside groups.
///
/// Send the member's `ETag` as `If-Match` (428 without it, 412 when
/// stale). Needs `roles:manage` where each changed role applies; nobody
/// hands out permissions they lack, only owners make or unmake owners, and
/// the last owner stays owner.
#[utoipa::path(
    tag = "members", operation_id = "set_member_roles", security(("bearer" = [])), request_body = AssignmentsRequest,
    params(("account_id" = Uuid, Path, description = "The account"), ("user_id" = Uuid, Path, description = "The member"),
        ("If-Match" = String, Header, description = "The member's ETag, from GET …/members/{user_id}")),
    responses(
        (status = 200, description = "The roles now held; `ETag` is their new version", body = AssignmentsView),
        (status = 409, description = "The last owner cannot be demoted (`last_owner`)", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since read (`precondition_failed`)", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing (`precondition_required`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[put("/members/{user_id}/roles")]
pub async fn set_member_roles(
    state: web::Data<AppState>,
    member: AccountMember,
    path: web::Path<(Uuid, Uuid)>,
    request: HttpRequest,
    body: JsonBody<AssignmentsRequest>,
) -> Result<HttpResponse, ApiError> {
    if !member.roles.iter().any(|role| state.catalogue.role_permissions(role).contains(Permission::RolesManage)) {
        return Err(ApiError::Forbidden(Permission::RolesManage.key().to_owned()));
    }
    let (_, user) = path.into_inner();
    let wanted: Vec<WantedAssignment> =
        body.0.assignments.into_iter().map(|a| WantedAssignment { role_key: a.role, group_id: a.group_id }).collect();
    if wanted.len() > 50 {
        return Err(ApiError::field("assignments", "too_many", "A member holds at most 50 roles."));
    }
    let (if_match, now, shared) = (if_match(&request), state.clock.now(), state.clone());
    let membership = state
        .db(move |conn| roles::assign(conn, &shared.catalogue, &member, user, wanted, if_match.as_deref(), now))
        .await?;
    let tag = roles::membership_tag(&membership);
    let assignments =
        membership.assignments.into_iter().map(|a| AssignmentView { role: a.role.key, group_id: a.group_id }).collect();
    Ok(HttpResponse::Ok().insert_header((header::ETAG, tag)).json(AssignmentsView { assignments }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"user_id": "01937a2e-4c1d-7b6a-9f3e-2a1b0c9d8e7f"}))]
pub struct OwnershipTransferRequest {
    /// The member who becomes an owner.
    pub user_id: Uuid,
}

/// Make another member an owner; the caller stays on as an administrator.
#[utoipa::path(
    tag = "members", operation_id = "transfer_ownership", security(("bearer" = [])), request_body = OwnershipTransferRequest,
    params(("account_id" = Uuid, Path, description = "The account")),
    responses((status = 204, description = "Ownership transferred"))
)]
#[post("/ownership-transfer")]
pub async fn transfer_ownership(
    state: web::Data<AppState>,
    member: AccountMember,
    body: JsonBody<OwnershipTransferRequest>,
) -> Result<HttpResponse, ApiError> {
    member.require(domain::Permission::OwnershipTransfer)?;
    let (target, now) = (body.0.user_id, state.clock.now());
    state.db(move |conn| roles::transfer_ownership(conn, &member, target, now)).await?;
    Ok(HttpResponse::NoContent().finish())
}
