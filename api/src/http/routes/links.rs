//! Linked accounts: a parent (a global account) and its children (regional
//! accounts), and the parent members' roles that apply in every child.

use actix_web::http::header;
use actix_web::{HttpResponse, delete, get, post, put, web};
use chrono::{DateTime, Utc};
use domain::Permission;
use domain::access::Requirement;
use domain::plan::Feature;
use persistence::account_links::{self as store, AccountLink};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::flows::Origin;
use crate::flows::links as flows;
use crate::http::access::AccountMember;
use crate::http::extract::JsonBody;
use crate::http::problem::{ApiError, Problem};
use crate::http::schemas::role_keys_schema;
use crate::http::state::{AppState, RunFlow};

/// Owners only: linking hands a parent's people access to the child.
const MANAGE: Requirement = Requirement::account(Permission::LinkedAccountsManage);

#[derive(Serialize, ToSchema)]
#[schema(as = LinkedAccountRef)]
pub struct AccountRef {
    pub id: Uuid,
    pub name: String,
}

/// Which side of a link the account in the path is.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(example = "parent")]
pub enum LinkSide {
    Parent,
    Child,
}

/// Where a link stands.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(example = "active")]
pub enum LinkStatusName {
    /// Asked by the parent; an owner of the child has not accepted yet.
    Pending,
    Active,
}

#[derive(Serialize, ToSchema)]
#[schema(as = AccountLink, example = json!({
    "id": "01937a2e-e000-7000-8000-000000000001",
    "parent": {"id": "01937a2e-1000-7000-8000-000000000001", "name": "Acme Global"},
    "child": {"id": "01937a2e-1000-7000-8000-000000000002", "name": "Acme EMEA"},
    "status": "active", "this_account": "parent",
    "requested_at": "2026-11-23T10:00:00Z", "accepted_at": "2026-11-23T11:00:00Z"
}))]
pub struct LinkView {
    pub id: Uuid,
    pub parent: AccountRef,
    pub child: AccountRef,
    pub status: LinkStatusName,
    /// The side of the link the account in the path is.
    pub this_account: LinkSide,
    pub requested_at: DateTime<Utc>,
    pub accepted_at: Option<DateTime<Utc>>,
}

impl LinkView {
    fn of(link: AccountLink, account: Uuid) -> Self {
        LinkView {
            id: link.id,
            this_account: if link.parent_id == account { LinkSide::Parent } else { LinkSide::Child },
            parent: AccountRef { id: link.parent_id, name: link.parent_name },
            child: AccountRef { id: link.child_id, name: link.child_name },
            status: match link.status {
                domain::account_link::LinkStatus::Pending => LinkStatusName::Pending,
                domain::account_link::LinkStatus::Active => LinkStatusName::Active,
            },
            requested_at: link.requested_at,
            accepted_at: link.accepted_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct LinkList {
    /// The account's parent link (if any) and its children's, oldest first.
    pub items: Vec<LinkView>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"child_account_id": "01937a2e-1000-7000-8000-000000000002"}))]
pub struct LinkRequest {
    /// The account to link under this one; an owner of it must accept.
    pub child_account_id: Uuid,
}

/// Ask to link another account under this one (a regional account under a
/// global one). Its owners are emailed; the link is active once one of them
/// accepts. One parent per child, one level deep.
#[utoipa::path(
    tag = "linked-accounts", operation_id = "request_account_link", security(("bearer" = [])), request_body = LinkRequest,
    params(("account_id" = Uuid, Path, description = "The parent account")),
    responses(
        (status = 201, description = "The pending link; `Location` names it", body = LinkView),
        (status = 409, description = "The child has a parent already (`account_already_linked`), or the link would be two levels deep (`link_too_deep`)", body = Problem, content_type = "application/problem+json"),
    ),
    extensions(("x-authorization" = json!(MANAGE.needs(Feature::LinkedAccounts))))
)]
#[post("/linked-accounts")]
pub async fn request_account_link(
    state: web::Data<AppState>,
    member: AccountMember,
    origin: Origin,
    body: JsonBody<LinkRequest>,
) -> Result<HttpResponse, ApiError> {
    let (grantor, child, account) = (member.grantor(), body.0.child_account_id, member.account_id);
    let link = state.flow(member.actor(), origin, move |conn, ctx| flows::request(conn, ctx, &grantor, child)).await?;
    let location = format!("/v1/accounts/{account}/linked-accounts/{}", link.id);
    Ok(HttpResponse::Created().insert_header((header::LOCATION, location)).json(LinkView::of(link, account)))
}

/// The account's links: to its parent, and to its children.
#[utoipa::path(
    tag = "linked-accounts", operation_id = "list_linked_accounts", security(("bearer" = [])),
    params(("account_id" = Uuid, Path, description = "The account")),
    responses((status = 200, description = "The links", body = LinkList)),
    extensions(("x-authorization" = json!(Requirement::member())))
)]
#[get("/linked-accounts")]
pub async fn list_linked_accounts(state: web::Data<AppState>, member: AccountMember) -> Result<HttpResponse, ApiError> {
    let account = member.account_id;
    let links = state.db(move |conn| Ok(store::of_account(conn, account)?)).await?;
    Ok(HttpResponse::Ok().json(LinkList { items: links.into_iter().map(|link| LinkView::of(link, account)).collect() }))
}

/// Accept a pending link, as an owner of the child: the parent's roles
/// that apply in linked accounts apply here from now on.
#[utoipa::path(
    tag = "linked-accounts", operation_id = "accept_account_link", security(("bearer" = [])),
    params(("account_id" = Uuid, Path, description = "The child account"), ("link_id" = Uuid, Path, description = "The link")),
    responses(
        (status = 200, description = "The active link", body = LinkView),
        (status = 409, description = "Not a pending link of which this account is the child (`link_not_pending`), or it would now be two levels deep (`link_too_deep`)", body = Problem, content_type = "application/problem+json"),
    ),
    extensions(("x-authorization" = json!(MANAGE)))
)]
#[post("/linked-accounts/{link_id}/accept")]
pub async fn accept_account_link(
    state: web::Data<AppState>,
    member: AccountMember,
    origin: Origin,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let (account, id) = path.into_inner();
    let grantor = member.grantor();
    let link = state.flow(member.actor(), origin, move |conn, ctx| flows::accept(conn, ctx, &grantor, id)).await?;
    Ok(HttpResponse::Ok().json(LinkView::of(link, account)))
}

/// End a link, from either side (or withdraw or decline its request). The
/// parent's roles stop applying in the child at once.
#[utoipa::path(
    tag = "linked-accounts", operation_id = "delete_account_link", security(("bearer" = [])),
    params(("account_id" = Uuid, Path, description = "The parent or the child"), ("link_id" = Uuid, Path, description = "The link")),
    responses((status = 204, description = "Unlinked")),
    extensions(("x-authorization" = json!(MANAGE)))
)]
#[delete("/linked-accounts/{link_id}")]
pub async fn delete_account_link(
    state: web::Data<AppState>,
    member: AccountMember,
    origin: Origin,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let (_, id) = path.into_inner();
    let grantor = member.grantor();
    state.flow(member.actor(), origin, move |conn, ctx| flows::unlink(conn, ctx, &grantor, id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"roles": ["administrator"]}))]
pub struct LinkedRoles {
    /// Keys of the member's account-wide roles that apply in every linked
    /// account (never `owner`).
    #[schema(schema_with = role_keys_schema)]
    pub roles: Vec<String>,
}

/// Which of a member's account-wide roles apply in every linked account.
#[utoipa::path(
    tag = "linked-accounts", operation_id = "get_member_linked_roles", security(("bearer" = [])),
    params(("account_id" = Uuid, Path, description = "The account"), ("user_id" = Uuid, Path, description = "The member")),
    responses((status = 200, description = "The roles", body = LinkedRoles)),
    extensions(("x-authorization" = json!(Requirement::account(Permission::MembersRead).or_self())))
)]
#[get("/members/{user_id}/linked-roles")]
pub async fn get_member_linked_roles(
    state: web::Data<AppState>,
    member: AccountMember,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let ((_, user), account) = (path.into_inner(), member.account_id);
    let roles = state.db(move |conn| Ok(flows::linked_roles(conn, account, user)?)).await?;
    Ok(HttpResponse::Ok().json(LinkedRoles { roles }))
}

/// Choose which of a member's account-wide roles apply in every linked
/// account; authorization there honours them at once, and ends when the
/// link, the role or the membership does.
#[utoipa::path(
    tag = "linked-accounts", operation_id = "set_member_linked_roles", security(("bearer" = [])), request_body = LinkedRoles,
    params(("account_id" = Uuid, Path, description = "The account"), ("user_id" = Uuid, Path, description = "The member")),
    responses((status = 200, description = "The roles now", body = LinkedRoles)),
    extensions(("x-authorization" = json!(MANAGE)))
)]
#[put("/members/{user_id}/linked-roles")]
pub async fn set_member_linked_roles(
    state: web::Data<AppState>,
    member: AccountMember,
    origin: Origin,
    path: web::Path<(Uuid, Uuid)>,
    body: JsonBody<LinkedRoles>,
) -> Result<HttpResponse, ApiError> {
    let ((_, user), grantor, keys) = (path.into_inner(), member.grantor(), body.0.roles);
    let roles = state
        .flow(member.actor(), origin, move |conn, ctx| flows::set_linked_roles(conn, ctx, &grantor, user, &keys))
        .await?;
    Ok(HttpResponse::Ok().json(LinkedRoles { roles }))
}
