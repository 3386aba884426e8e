use actix_web::http::header;
use actix_web::{HttpResponse, delete, get, patch, post, put, web};
use chrono::{DateTime, Utc};
use domain::access::Requirement;
use domain::plan::Feature;
use domain::{Description, GroupName, Permission};
use persistence::groups::{self, Group};
use persistence::memberships::{self, MemberFilter};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::flows::Origin;
use crate::flows::groups as flows;
use crate::http::access::AccountMember;
use crate::http::extract::JsonBody;
use crate::http::pagination::PageQuery;
use crate::http::pagination::page_cursor;
use crate::http::problem::{ApiError, Problem, field_error};
use crate::http::routes::members::{MemberPage, MemberView};
use crate::http::schemas::{free_text_or_null_schema, label_or_null_schema, label_schema};
use crate::http::state::{AppState, RunFlow};

#[derive(Serialize, ToSchema)]
#[schema(as = Group, example = json!({"id": "01937a2e-7000-7000-8000-000000000001", "name": "EMEA sales", "description": "", "created_at": "2026-11-22T10:00:00Z", "updated_at": "2026-11-22T10:00:00Z"}))]
pub struct GroupView {
    pub id: Uuid,
    pub name: String,
    pub description: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Group> for GroupView {
    fn from(group: Group) -> Self {
        GroupView {
            id: group.id,
            name: group.name,
            description: group.description,
            created_at: group.created_at,
            updated_at: group.updated_at,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "EMEA sales", "description": "Sellers in Europe"}))]
pub struct NewGroupRequest {
    #[schema(schema_with = label_schema)]
    pub name: String,
    #[schema(schema_with = free_text_or_null_schema)]
    pub description: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "EMEA sales", "description": "Sellers in Europe"}))]
pub struct GroupRequest {
    #[schema(schema_with = label_or_null_schema)]
    pub name: Option<String>,
    #[schema(schema_with = free_text_or_null_schema)]
    pub description: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct GroupPage {
    pub items: Vec<GroupView>,
    pub next_cursor: Option<String>,
}

fn parse_group(request: GroupRequest, name_required: bool) -> Result<(Option<String>, Option<String>), ApiError> {
    let mut errors = Vec::new();
    let name = match request.name {
        Some(raw) => GroupName::parse(&raw).map(|n| Some(n.into_inner())).unwrap_or_else(|e| {
            errors.push(field_error("name", e));
            None
        }),
        None if name_required => {
            errors.push(field_error("name", domain::InvalidValue::new("required", "Enter a group name.")));
            None
        }
        None => None,
    };
    let description = request.description.and_then(|raw| match Description::parse(&raw) {
        Ok(description) => Some(description.into_inner()),
        Err(e) => {
            errors.push(field_error("description", e));
            None
        }
    });
    if errors.is_empty() { Ok((name, description)) } else { Err(ApiError::Validation(errors)) }
}

/// List the account's groups.
#[utoipa::path(
    tag = "groups", operation_id = "list_groups", security(("bearer" = [])),
    params(("account_id" = Uuid, Path, description = "The account"), PageQuery),
    responses((status = 200, description = "A page of groups, oldest first", body = GroupPage)),
    extensions(("x-authorization" = json!(Requirement::account(Permission::MembersRead))))
)]
#[get("/groups")]
pub async fn list_groups(
    state: web::Data<AppState>,
    member: AccountMember,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let (limit, cursor, account) = (page.limit()?, page.cursor()?, member.account_id);
    let mut rows = state.db(move |conn| Ok(groups::list(conn, account, cursor, limit + 1)?)).await?;
    let next_cursor = page_cursor(&mut rows, limit, |group| group.id.to_string());
    Ok(HttpResponse::Ok().json(GroupPage { items: rows.into_iter().map(GroupView::from).collect(), next_cursor }))
}

/// Create a group (needs `groups:manage`).
#[utoipa::path(
    tag = "groups", operation_id = "create_group", security(("bearer" = [])), request_body = NewGroupRequest,
    params(("account_id" = Uuid, Path, description = "The account")),
    responses(
        (status = 201, description = "The group", body = GroupView),
        (status = 409, description = "A group of that name exists (`group_name_taken`)", body = Problem, content_type = "application/problem+json"),
    ),
    extensions(("x-authorization" = json!(Requirement::account(Permission::GroupsManage).needs(Feature::Groups))))
)]
#[post("/groups")]
pub async fn create_group(
    state: web::Data<AppState>,
    member: AccountMember,
    origin: Origin,
    body: JsonBody<NewGroupRequest>,
) -> Result<HttpResponse, ApiError> {
    let NewGroupRequest { name, description } = body.0;
    let (name, description) = parse_group(GroupRequest { name: Some(name), description }, true)?;
    let (account, name, description) = (member.account_id, name.unwrap_or_default(), description.unwrap_or_default());
    let group = state
        .flow(member.actor(), origin, move |conn, ctx| flows::create(conn, ctx, account, &name, &description))
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/v1/accounts/{account}/groups/{}", group.id)))
        .json(GroupView::from(group)))
}

/// Read a group.
#[utoipa::path(
    tag = "groups", operation_id = "get_group", security(("bearer" = [])),
    params(("account_id" = Uuid, Path, description = "The account"), ("group_id" = Uuid, Path, description = "The group")),
    responses((status = 200, description = "The group", body = GroupView)),
    extensions(("x-authorization" = json!(Requirement::in_group(Permission::MembersRead))))
)]
#[get("/groups/{group_id}")]
pub async fn get_group(
    state: web::Data<AppState>,
    _member: AccountMember,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let (account, group) = path.into_inner();
    let found = state.db(move |conn| Ok(flows::existing(conn, account, group)?)).await?;
    Ok(HttpResponse::Ok().json(GroupView::from(found)))
}

/// Rename or describe a group (needs `groups:manage`).
#[utoipa::path(
    tag = "groups", operation_id = "update_group", security(("bearer" = [])), request_body = GroupRequest,
    params(("account_id" = Uuid, Path, description = "The account"), ("group_id" = Uuid, Path, description = "The group")),
    responses(
        (status = 200, description = "The group", body = GroupView),
        (status = 409, description = "A group of that name exists (`group_name_taken`)", body = Problem, content_type = "application/problem+json"),
    ),
    extensions(("x-authorization" = json!(Requirement::account(Permission::GroupsManage))))
)]
#[patch("/groups/{group_id}")]
pub async fn update_group(
    state: web::Data<AppState>,
    member: AccountMember,
    origin: Origin,
    path: web::Path<(Uuid, Uuid)>,
    body: JsonBody<GroupRequest>,
) -> Result<HttpResponse, ApiError> {
    let (account, group) = path.into_inner();
    let (name, description) = parse_group(body.0, false)?;
    let updated = state
        .flow(member.actor(), origin, move |conn, ctx| {
            flows::update(conn, ctx, account, group, name.as_deref(), description.as_deref())
        })
        .await?;
    Ok(HttpResponse::Ok().json(GroupView::from(updated)))
}

/// Delete a group and the roles held inside it; its members stay members of
/// the account.
#[utoipa::path(
    tag = "groups", operation_id = "delete_group", security(("bearer" = [])),
    params(("account_id" = Uuid, Path, description = "The account"), ("group_id" = Uuid, Path, description = "The group")),
    responses((status = 204, description = "Deleted")),
    extensions(("x-authorization" = json!(Requirement::account(Permission::GroupsManage))))
)]
#[delete("/groups/{group_id}")]
pub async fn delete_group(
    state: web::Data<AppState>,
    member: AccountMember,
    origin: Origin,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let (account, group) = path.into_inner();
    state.flow(member.actor(), origin, move |conn, ctx| flows::delete(conn, ctx, account, group)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// List a group's members.
#[utoipa::path(
    tag = "groups", operation_id = "list_group_members", security(("bearer" = [])),
    params(("account_id" = Uuid, Path, description = "The account"), ("group_id" = Uuid, Path, description = "The group"), PageQuery),
    responses((status = 200, description = "A page of members", body = MemberPage)),
    extensions(("x-authorization" = json!(Requirement::in_group(Permission::MembersRead))))
)]
#[get("/groups/{group_id}/members")]
pub async fn list_group_members(
    state: web::Data<AppState>,
    _member: AccountMember,
    path: web::Path<(Uuid, Uuid)>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let (account, group) = path.into_inner();
    let limit = page.limit()?;
    let after = page.cursor()?.map(|id| id.to_string());
    let mut rows = state
        .db(move |conn| {
            flows::existing(conn, account, group).map_err(ApiError::from)?;
            let filter = MemberFilter {
                user: None,
                search: None,
                after: after.as_deref(),
                limit: limit + 1,
                role: None,
                group: Some(group),
                inactive_since: None,
                status: None,
            };
            Ok(memberships::load_members(conn, account, filter)?)
        })
        .await?;
    let next_cursor = page_cursor(&mut rows, limit, |(membership, _)| membership.clone());
    Ok(HttpResponse::Ok()
        .json(MemberPage { items: rows.into_iter().map(|(_, m)| MemberView::from(m)).collect(), next_cursor }))
}

/// Put a member into a group (needs `groups:manage` account-wide or in the group).
#[utoipa::path(
    tag = "groups", operation_id = "add_group_member", security(("bearer" = [])),
    params(("account_id" = Uuid, Path, description = "The account"), ("group_id" = Uuid, Path, description = "The group"), ("user_id" = Uuid, Path, description = "The member")),
    responses(
        (status = 204, description = "The user is in the group"),
        (status = 409, description = "The user is not a member of the account (`not_a_member`)", body = Problem, content_type = "application/problem+json"),
    ),
    extensions(("x-authorization" = json!(Requirement::in_group(Permission::GroupsManage))))
)]
#[put("/groups/{group_id}/members/{user_id}")]
pub async fn add_group_member(
    state: web::Data<AppState>,
    member: AccountMember,
    origin: Origin,
    path: web::Path<(Uuid, Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let (account, group, user) = path.into_inner();
    let by = member.grantor();
    state
        .flow(member.actor(), origin, move |conn, ctx| flows::add_member(conn, ctx, account, group, user, Some(&by)))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Take a member out of a group; they stay a member of the account.
#[utoipa::path(
    tag = "groups", operation_id = "remove_group_member", security(("bearer" = [])),
    params(("account_id" = Uuid, Path, description = "The account"), ("group_id" = Uuid, Path, description = "The group"), ("user_id" = Uuid, Path, description = "The member")),
    responses((status = 204, description = "Removed from the group")),
    extensions(("x-authorization" = json!(Requirement::in_group(Permission::GroupsManage))))
)]
#[delete("/groups/{group_id}/members/{user_id}")]
pub async fn remove_group_member(
    state: web::Data<AppState>,
    member: AccountMember,
    origin: Origin,
    path: web::Path<(Uuid, Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let (account, group, user) = path.into_inner();
    state.flow(member.actor(), origin, move |conn, ctx| flows::remove_member(conn, ctx, account, group, user)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Where a role a group gives is held.
#[derive(Serialize, Deserialize, ToSchema, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
#[schema(example = "account")]
pub enum GivenRoleScope {
    /// Account-wide.
    Account,
    /// Inside the group only.
    Group,
}

/// A role a group gives the people in it.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GivenRole {
    /// The role's key.
    #[schema(pattern = "^[a-z][a-z0-9_-]{0,63}$")] // ROLE_KEY_PATTERN
    pub role: String,
    pub scope: GivenRoleScope,
}

/// The roles a group gives the people in it, for as long as they are in
/// it, whoever puts them there (the account's directory included).
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"roles": [{"role": "developer", "scope": "account"}, {"role": "analyst", "scope": "group"}]}))]
pub struct GroupRoles {
    #[schema(max_items = 50)]
    pub roles: Vec<GivenRole>,
}

impl GroupRoles {
    fn of(given: Vec<(Uuid, String, bool)>) -> Self {
        let scope = |in_group| if in_group { GivenRoleScope::Group } else { GivenRoleScope::Account };
        GroupRoles {
            roles: given.into_iter().map(|(_, role, in_group)| GivenRole { role, scope: scope(in_group) }).collect(),
        }
    }
}

/// The roles a group gives the people in it.
#[utoipa::path(
    tag = "groups", operation_id = "get_group_roles", security(("bearer" = [])),
    params(("account_id" = Uuid, Path, description = "The account"), ("group_id" = Uuid, Path, description = "The group")),
    responses((status = 200, description = "The roles", body = GroupRoles)),
    extensions(("x-authorization" = json!(Requirement::account(Permission::MembersRead))))
)]
#[get("/groups/{group_id}/roles")]
pub async fn get_group_roles(
    state: web::Data<AppState>,
    _member: AccountMember,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let (account, group) = path.into_inner();
    let given = state
        .db(move |conn| {
            flows::existing(conn, account, group).map_err(ApiError::from)?;
            Ok(flows::roles_given(conn, account, group)?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(GroupRoles::of(given)))
}

/// Set the roles a group gives the people in it (needs `roles:manage`):
/// its members get them now, those who join later when they join, and
/// leaving the group takes them back. Each must be a role the caller may
/// give where it applies, never `owner`; from then on, putting someone in
/// the group needs the same.
#[utoipa::path(
    tag = "groups", operation_id = "set_group_roles", security(("bearer" = [])), request_body = GroupRoles,
    params(("account_id" = Uuid, Path, description = "The account"), ("group_id" = Uuid, Path, description = "The group")),
    responses(
        (status = 200, description = "The roles the group gives", body = GroupRoles),
        (status = 403, description = "The caller lacks `roles:manage`, or a permission of a role named (`forbidden`)", body = Problem, content_type = "application/problem+json"),
    ),
    extensions(("x-authorization" = json!(Requirement::account(Permission::RolesManage).needs(Feature::Groups))))
)]
#[put("/groups/{group_id}/roles")]
pub async fn set_group_roles(
    state: web::Data<AppState>,
    member: AccountMember,
    origin: Origin,
    path: web::Path<(Uuid, Uuid)>,
    body: JsonBody<GroupRoles>,
) -> Result<HttpResponse, ApiError> {
    let (_, group) = path.into_inner();
    let wanted: Vec<(String, bool)> =
        body.0.roles.into_iter().map(|given| (given.role, given.scope == GivenRoleScope::Group)).collect();
    let by = member.grantor();
    let given =
        state.flow(member.actor(), origin, move |conn, ctx| flows::set_roles(conn, ctx, &by, group, &wanted)).await?;
    Ok(HttpResponse::Ok().json(GroupRoles::of(given)))
}
