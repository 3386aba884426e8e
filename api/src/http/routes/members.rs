use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, delete, get, post, put, web};
use chrono::{DateTime, Utc};
use domain::access::Requirement;
use domain::membership::MembershipStatus;
use domain::{Permission, SearchText};
use persistence::memberships::{self, Member, MemberFilter};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::flows::members::{self as flows, Removal, WantedAssignment, membership_tag};
use crate::flows::{Actor, Origin};
use crate::http::access::AccountMember;
use crate::http::caller::CurrentUser;
use crate::http::extract::JsonBody;
use crate::http::headers::if_match;
use crate::http::pagination::PageQuery;
use crate::http::pagination::page_cursor;
use crate::http::problem::{ApiError, Problem, field_error};
use crate::http::state::{AppState, RunFlow};

#[derive(Serialize, ToSchema)]
#[schema(as = Member, example = json!({
    "user_id": "01937a2e-4c1d-7b6a-9f3e-2a1b0c9d8e7f", "email": "grace@example.com", "first_name": "Grace", "last_name": "Hopper",
    "roles": ["analyst"],
    "assignments": [{"role": "analyst", "group_id": null}, {"role": "developer", "group_id": "01937a2e-7000-7000-8000-000000000001"}],
    "joined_at": "2026-11-22T10:00:00Z", "status": "active"
}))]
pub struct MemberView {
    pub user_id: Uuid,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    /// Keys of the roles held account-wide only; `assignments` has every
    /// role with its scope, and is what `PUT …/roles` replaces.
    pub roles: Vec<String>,
    /// Every role held: account-wide (`group_id` null) first, then inside
    /// groups.
    pub assignments: Vec<AssignmentView>,
    pub joined_at: DateTime<Utc>,
    /// When they last made an authenticated request in this account
    /// (recorded at most every five minutes); null: not since recording
    /// began, or their access is inherited.
    pub last_active_at: Option<DateTime<Utc>>,
    /// When an access review last decided on their access here (kept,
    /// reduced); null: never.
    pub last_reviewed_at: Option<DateTime<Utc>>,
    /// Set when this person is no member here but holds roles of the parent
    /// account that apply in its linked accounts (`assignments` lists
    /// them): the parent's id. Their access ends when the link or the role
    /// does; it is changed in the parent, not here.
    pub inherited_from: Option<Uuid>,
    #[schema(value_type = MembershipStatusName)]
    pub status: &'static str,
}

impl From<Member> for MemberView {
    fn from(member: Member) -> Self {
        MemberView {
            user_id: member.user_id,
            email: member.email,
            first_name: member.first_name,
            last_name: member.last_name,
            roles: memberships::account_role_keys(&member.assignments),
            assignments: AssignmentView::all(member.assignments),
            joined_at: member.joined_at,
            last_active_at: member.last_active_at,
            last_reviewed_at: member.last_reviewed_at,
            inherited_from: member.inherited_from,
            status: member.status.key(),
        }
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MemberSearch {
    /// Case-insensitive search in email, first and last name: at most 200
    /// characters, no control characters.
    #[param(max_length = 200, pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$")]
    pub q: Option<String>,
    /// Only members holding the role with this key, account-wide or inside
    /// any group (group-scoped holders match too).
    #[param(pattern = "^[a-z][a-z0-9_-]{0,63}$")]
    pub role: Option<String>,
    /// Only members of this group.
    pub group_id: Option<Uuid>,
    /// Only members who have not made an authenticated request in the
    /// account for more than this many days (or never since it was
    /// recorded).
    #[param(minimum = 1, maximum = 3650)]
    pub inactive_for_days: Option<u32>,
    /// Only members in this state (`active` or `suspended`).
    #[param(value_type = Option<MembershipStatusName>)]
    pub status: Option<String>,
}

/// Whether a member may act in the account.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case", example = "active")]
#[allow(dead_code)] // only its schema is used: views and filters carry the text
pub enum MembershipStatusName {
    /// May act, within their roles.
    Active,
    /// Refused everywhere in the account (their requests, their API keys,
    /// checks about them) until restored; roles, groups and the seat are
    /// kept.
    Suspended,
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
    responses((status = 200, description = "A page of members", body = MemberPage)),
    extensions(("x-authorization" = json!(Requirement::account(Permission::MembersRead))))
)]
#[get("/members")]
pub async fn list_members(
    state: web::Data<AppState>,
    member: AccountMember,
    search: web::Query<MemberSearch>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = page.limit()?;
    let cursor = page.cursor()?.map(|id| id.to_string());
    let (account, search) = (member.account_id, search.into_inner());
    let q = search_text(search.q.as_deref())?;
    if let Some(role) = &search.role {
        domain::catalogue::check_role_key(role).map_err(|e| ApiError::Validation(vec![field_error("role", e)]))?;
    }
    let inactive_since = match search.inactive_for_days {
        Some(days @ 1..=3650) => Some(state.clock.now() - chrono::Duration::days(i64::from(days))),
        Some(_) => return Err(ApiError::field("inactive_for_days", "out_of_range", "Give 1 to 3650 days.")),
        None => None,
    };
    let status = search
        .status
        .as_deref()
        .map(|raw| {
            MembershipStatus::parse(raw)
                .ok_or_else(|| ApiError::field("status", "unknown_status", "Use active or suspended."))
        })
        .transpose()?;
    let mut rows = state
        .db(move |conn| {
            let filter = MemberFilter {
                user: None,
                search: q.as_ref().map(SearchText::as_str),
                after: cursor.as_deref(),
                limit: limit + 1,
                role: search.role.as_deref(),
                group: search.group_id,
                inactive_since,
                status,
            };
            Ok(memberships::load_members(conn, account, filter)?)
        })
        .await?;
    let next_cursor = page_cursor(&mut rows, limit, |(membership_id, _)| membership_id.clone());
    Ok(HttpResponse::Ok().json(MemberPage { items: rows.into_iter().map(|(_, m)| m.into()).collect(), next_cursor }))
}

/// The `q` of a list, parsed.
pub fn search_text(raw: Option<&str>) -> Result<Option<SearchText>, ApiError> {
    SearchText::parse(raw.unwrap_or("")).map_err(|e| ApiError::Validation(vec![field_error("q", e)]))
}

/// Read one member; `ETag` is the version of their role assignments.
#[utoipa::path(
    tag = "members", operation_id = "get_member", security(("bearer" = [])),
    params(("account_id" = Uuid, Path, description = "The account"), ("user_id" = Uuid, Path, description = "The member's user id")),
    responses((status = 200, description = "The member", body = MemberView)),
    extensions(("x-authorization" = json!(Requirement::in_member_groups(Permission::MembersRead))))
)]
#[get("/members/{user_id}")]
pub async fn get_member(
    state: web::Data<AppState>,
    _member: AccountMember,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let (account, user) = path.into_inner();
    let (found, tag) = state
        .db(move |conn| {
            let found = memberships::find_member(conn, account, user)?.ok_or(ApiError::NotFound)?;
            let membership = memberships::find(conn, account, user)?.ok_or(ApiError::NotFound)?;
            Ok((found, membership_tag(&membership)))
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
    ),
    extensions(("x-authorization" = json!(Requirement::account(Permission::MembersManage))))
)]
#[delete("/members/{user_id}")]
pub async fn remove_member(
    state: web::Data<AppState>,
    member: AccountMember,
    origin: Origin,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let (account, user) = path.into_inner();
    let by = member.grantor();
    state
        .flow(member.actor(), origin, move |conn, ctx| flows::remove(conn, ctx, account, user, Removal::By(&by)))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Suspend a member: every request they make in this account, every API
/// key they created and every authorization check about them is refused
/// from now on (on every instance within the authorization cache's bound),
/// while their roles, groups and seat stay on record. Needs
/// `members:manage`; suspending an owner also needs `ownership:transfer`,
/// and the account keeps an active owner.
#[utoipa::path(
    tag = "members", operation_id = "suspend_member", security(("bearer" = [])),
    params(("account_id" = Uuid, Path, description = "The account"), ("user_id" = Uuid, Path, description = "The member's user id")),
    responses(
        (status = 200, description = "Suspended (also when they were already)", body = MemberView),
        (status = 409, description = "The last active owner cannot be suspended (`last_owner`), nor can you suspend yourself (`same_user`)", body = Problem, content_type = "application/problem+json"),
    ),
    extensions(("x-authorization" = json!(Requirement::account(Permission::MembersManage))))
)]
#[post("/members/{user_id}/suspend")]
pub async fn suspend_member(
    state: web::Data<AppState>,
    member: AccountMember,
    origin: Origin,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    set_status(state, member, origin, path.into_inner().1, MembershipStatus::Suspended).await
}

/// Restore a suspended member, with exactly the roles and groups they had.
#[utoipa::path(
    tag = "members", operation_id = "reactivate_member", security(("bearer" = [])),
    params(("account_id" = Uuid, Path, description = "The account"), ("user_id" = Uuid, Path, description = "The member's user id")),
    responses((status = 200, description = "Active (also when they were already)", body = MemberView)),
    extensions(("x-authorization" = json!(Requirement::account(Permission::MembersManage))))
)]
#[post("/members/{user_id}/reactivate")]
pub async fn reactivate_member(
    state: web::Data<AppState>,
    member: AccountMember,
    origin: Origin,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    set_status(state, member, origin, path.into_inner().1, MembershipStatus::Active).await
}

async fn set_status(
    state: web::Data<AppState>,
    member: AccountMember,
    origin: Origin,
    user: Uuid,
    to: MembershipStatus,
) -> Result<HttpResponse, ApiError> {
    let (account, by) = (member.account_id, member.grantor());
    let found = state
        .flow(member.actor(), origin, move |conn, ctx| {
            flows::set_status(conn, ctx, by.account_id, Some(&by), user, to)?;
            memberships::find_member(conn, account, user)?.ok_or(ApiError::NotFound)
        })
        .await?;
    Ok(HttpResponse::Ok().json(MemberView::from(found)))
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
    origin: Origin,
    account: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let account = account.into_inner();
    state
        .flow(Actor::User(me.id), origin, move |conn, ctx| flows::remove(conn, ctx, account, me.id, Removal::Leaving))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignmentRequest {
    /// Role key.
    #[schema(pattern = "^[a-z][a-z0-9_-]{0,63}$")] // ROLE_KEY_PATTERN
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

/// One role held, and where it applies.
#[derive(Serialize, ToSchema)]
pub struct AssignmentView {
    /// Role key.
    pub role: String,
    /// The group the role applies in; null: account-wide.
    pub group_id: Option<Uuid>,
}

impl AssignmentView {
    pub fn all(assignments: Vec<memberships::HeldAssignment>) -> Vec<AssignmentView> {
        assignments.into_iter().map(|a| AssignmentView { role: a.role_key, group_id: a.group_id }).collect()
    }
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
        ("If-Match" = String, Header, description = "The member's ETag, from GET …/members/{user_id}; without it the answer is 428 (RFC 6585), with a stale one 412")),
    responses(
        (status = 200, description = "The roles now held; `ETag` is their new version", body = AssignmentsView),
        (status = 409, description = "The last owner cannot be demoted (`last_owner`)", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since read (`precondition_failed`)", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing (`precondition_required`)", body = Problem, content_type = "application/problem+json"),
    ),
    extensions(("x-authorization" = json!(Requirement::in_any_group(Permission::RolesManage))))
)]
#[put("/members/{user_id}/roles")]
pub async fn set_member_roles(
    state: web::Data<AppState>,
    member: AccountMember,
    origin: Origin,
    path: web::Path<(Uuid, Uuid)>,
    request: HttpRequest,
    body: JsonBody<AssignmentsRequest>,
) -> Result<HttpResponse, ApiError> {
    let (_, user) = path.into_inner();
    let wanted: Vec<WantedAssignment> =
        body.0.assignments.into_iter().map(|a| WantedAssignment { role_key: a.role, group_id: a.group_id }).collect();
    let (if_match, by) = (if_match(&request), member.grantor());
    let membership = state
        .flow(member.actor(), origin, move |conn, ctx| flows::assign(conn, ctx, &by, user, wanted, if_match.as_deref()))
        .await?;
    let tag = membership_tag(&membership);
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
    responses(
        (status = 204, description = "Ownership transferred"),
        (status = 409, description = "The user is you (`same_user`) or not a member (`not_a_member`)", body = Problem, content_type = "application/problem+json"),
    ),
    extensions(("x-authorization" = json!(Requirement::account(Permission::OwnershipTransfer))))
)]
#[post("/ownership-transfer")]
pub async fn transfer_ownership(
    state: web::Data<AppState>,
    member: AccountMember,
    origin: Origin,
    body: JsonBody<OwnershipTransferRequest>,
) -> Result<HttpResponse, ApiError> {
    let (target, by) = (body.0.user_id, member.grantor());
    state.flow(member.actor(), origin, move |conn, ctx| flows::transfer_ownership(conn, ctx, &by, target)).await?;
    Ok(HttpResponse::NoContent().finish())
}
