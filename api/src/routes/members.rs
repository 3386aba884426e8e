use actix_web::{HttpResponse, delete, get, web};
use chrono::{DateTime, Utc};
use domain::Permission;
use persistence::memberships::{self, Member};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::access::AccountMember;
use crate::auth::CurrentUser;
use crate::error::{ApiError, Problem};
use crate::invitations as flows;
use crate::routes::invitations::page_cursor;
use crate::routes::me::PageQuery;
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
#[get("/accounts/{account_id}/members")]
pub async fn list_members(
    state: web::Data<AppState>,
    member: AccountMember,
    search: web::Query<MemberSearch>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    member.require(Permission::MembersRead)?;
    let limit = page.limit()?;
    let cursor = page.cursor()?.map(|id| id.to_string());
    let (account, q) = (member.account_id, search.into_inner().q);
    let mut rows =
        state.db(move |conn| Ok(memberships::list(conn, account, q.as_deref(), cursor.as_deref(), limit + 1)?)).await?;
    let next_cursor = page_cursor(&mut rows, limit, |(membership_id, _)| membership_id.clone());
    Ok(HttpResponse::Ok().json(MemberPage { items: rows.into_iter().map(|(_, m)| m.into()).collect(), next_cursor }))
}

/// Read one member.
#[utoipa::path(
    tag = "members", operation_id = "get_member", security(("bearer" = [])),
    params(("account_id" = Uuid, Path, description = "The account"), ("user_id" = Uuid, Path, description = "The member's user id")),
    responses((status = 200, description = "The member", body = MemberView))
)]
#[get("/accounts/{account_id}/members/{user_id}")]
pub async fn get_member(
    state: web::Data<AppState>,
    member: AccountMember,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    member.require(Permission::MembersRead)?;
    let (account, user) = path.into_inner();
    let found =
        state.db(move |conn| Ok(memberships::find_member(conn, account, user)?)).await?.ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Ok().json(MemberView::from(found)))
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
#[delete("/accounts/{account_id}/members/{user_id}")]
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
