use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use domain::access::Requirement;
use domain::catalogue::check_role_key;
use domain::plan::Feature;
use domain::{Catalogue, Description, InvalidValue, Permission, PermissionSet, RoleName};
use persistence::roles::{self, Role};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::flows::Origin;
use crate::flows::roles::{self as flows, RoleDraft, RolePatch, role_tag};
use crate::http::access::AccountMember;
use crate::http::extract::JsonBody;
use crate::http::headers::if_match;
use crate::http::problem::{ApiError, FieldError, Problem, field_error};
use crate::http::schemas::{
    PermissionKey, free_text_or_null_schema, free_text_schema, label_or_null_schema, label_schema,
};
use crate::http::state::{AppState, RunFlow};

#[derive(Serialize, ToSchema)]
#[schema(as = Role, example = json!({
    "id": "01937a2e-8000-7000-8000-000000000001", "key": "support", "name": "Support", "description": "Answers customers",
    "kind": "custom", "read_only": false, "permissions": ["members:read"], "created_at": "2026-11-22T10:00:00Z"
}))]
pub struct RoleView {
    pub id: Uuid,
    pub key: String,
    #[schema(schema_with = label_schema)]
    pub name: String,
    pub description: String,
    /// `built_in`, `template` (declared by the deployment) or `custom`.
    #[schema(value_type = RoleKindName)]
    pub kind: &'static str,
    /// Built-in and template roles cannot be changed through the API.
    pub read_only: bool,
    /// What the role grants, resolved against the catalogue.
    pub permissions: Vec<String>,
    pub created_at: DateTime<Utc>,
}

/// Where a role comes from.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case", example = "custom")]
#[allow(dead_code)] // only its schema is used: the view carries the text
pub enum RoleKindName {
    BuiltIn,
    Template,
    Custom,
}

impl RoleView {
    pub fn new(role: Role, catalogue: &Catalogue) -> Self {
        let permissions = catalogue.role_permissions(&role.held(None)).keys().map(str::to_owned).collect();
        RoleView {
            id: role.id,
            kind: role.kind_name(),
            read_only: role.kind_name() != "custom",
            key: role.key,
            name: role.name,
            description: role.description,
            permissions,
            created_at: role.created_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct RoleList {
    pub items: Vec<RoleView>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"key": "support", "name": "Support", "description": "Answers customers", "permissions": ["members:read"]}))]
pub struct CreateRoleRequest {
    /// Lower-case letters, digits, `_` and `-`, starting with a letter.
    #[schema(pattern = "^[a-z][a-z0-9_-]{0,63}$")] // ROLE_KEY_PATTERN
    pub key: String,
    #[schema(schema_with = label_schema)]
    pub name: String,
    #[schema(schema_with = free_text_schema)]
    #[serde(default)]
    pub description: String,
    #[schema(value_type = Vec<PermissionKey>)]
    pub permissions: Vec<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"permissions": ["members:read", "invitations:manage"]}))]
pub struct UpdateRoleRequest {
    #[schema(schema_with = label_or_null_schema)]
    pub name: Option<String>,
    #[schema(schema_with = free_text_or_null_schema)]
    pub description: Option<String>,
    #[schema(value_type = Option<Vec<PermissionKey>>)]
    pub permissions: Option<Vec<String>>,
}

pub(crate) fn parse_permissions(catalogue: &Catalogue, keys: &[String], errors: &mut Vec<FieldError>) -> PermissionSet {
    for key in keys.iter().filter(|key| !catalogue.contains(key)) {
        errors.push(field_error(
            "permissions",
            InvalidValue::new("unknown_permission", format!("{key:?} is not in the catalogue.")),
        ));
    }
    keys.iter().map(String::as_str).collect()
}

fn parse_description(raw: &str, errors: &mut Vec<FieldError>) -> String {
    Description::parse(raw).map(Description::into_inner).unwrap_or_else(|e| {
        errors.push(field_error("description", e));
        String::new()
    })
}

fn respond_with_role(response: &mut HttpResponseBuilder, role: Role, catalogue: &Catalogue) -> HttpResponse {
    let tag = role_tag(&role, catalogue);
    response.insert_header((header::ETAG, tag)).json(RoleView::new(role, catalogue))
}

/// The roles this account can assign: built in, templates and its own.
#[utoipa::path(
    tag = "roles", operation_id = "list_roles", security(("bearer" = [])),
    params(("account_id" = Uuid, Path, description = "The account")),
    responses((status = 200, description = "Every role", body = RoleList)),
    extensions(("x-authorization" = json!(Requirement::account(Permission::MembersRead))))
)]
#[get("/roles")]
pub async fn list_roles(state: web::Data<AppState>, member: AccountMember) -> Result<HttpResponse, ApiError> {
    let account = member.account_id;
    let found = state.db(move |conn| Ok(roles::list_visible(conn, account)?)).await?;
    Ok(HttpResponse::Ok().json(RoleList {
        items: found.into_iter().map(|role| RoleView::new(role, &state.deployment.catalogue)).collect(),
    }))
}

/// Define a custom role (needs `roles:manage`, and every permission it grants).
#[utoipa::path(
    tag = "roles", operation_id = "create_role", security(("bearer" = [])), request_body = CreateRoleRequest,
    params(("account_id" = Uuid, Path, description = "The account")),
    responses(
        (status = 201, description = "The role; `ETag` is its version", body = RoleView),
        (status = 409, description = "The key is taken (`role_key_taken`)", body = Problem, content_type = "application/problem+json"),
    ),
    extensions(("x-authorization" = json!(Requirement::account(Permission::RolesManage).needs(Feature::CustomRoles))))
)]
#[post("/roles")]
pub async fn create_role(
    state: web::Data<AppState>,
    member: AccountMember,
    origin: Origin,
    body: JsonBody<CreateRoleRequest>,
) -> Result<HttpResponse, ApiError> {
    let request = body.0;
    let mut errors = Vec::new();
    if let Err(error) = check_role_key(&request.key) {
        errors.push(field_error("key", error));
    }
    let name = RoleName::parse(&request.name).map_err(|e| errors.push(field_error("name", e))).ok();
    let description = parse_description(&request.description, &mut errors);
    let permissions = parse_permissions(&state.deployment.catalogue, &request.permissions, &mut errors);
    let Some(name) = name.filter(|_| errors.is_empty()) else { return Err(ApiError::Validation(errors)) };
    let draft = RoleDraft { key: request.key, name: name.into_inner(), description, permissions };
    let by = member.grantor();
    let role = state.flow(member.actor(), origin, move |conn, ctx| flows::create(conn, ctx, &by, draft)).await?;
    let location = format!("/v1/accounts/{}/roles/{}", member.account_id, role.id);
    Ok(respond_with_role(
        HttpResponse::Created().insert_header((header::LOCATION, location)),
        role,
        &state.deployment.catalogue,
    ))
}

/// Read a role; `ETag` is its version for `If-Match`.
#[utoipa::path(
    tag = "roles", operation_id = "get_role", security(("bearer" = [])),
    params(("account_id" = Uuid, Path, description = "The account"), ("role_id" = Uuid, Path, description = "The role")),
    responses((status = 200, description = "The role", body = RoleView)),
    extensions(("x-authorization" = json!(Requirement::account(Permission::MembersRead))))
)]
#[get("/roles/{role_id}")]
pub async fn get_role(
    state: web::Data<AppState>,
    _member: AccountMember,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let (account, id) = path.into_inner();
    let role = state.db(move |conn| Ok(roles::find_visible(conn, account, id)?)).await?.ok_or(ApiError::NotFound)?;
    Ok(respond_with_role(&mut HttpResponse::Ok(), role, &state.deployment.catalogue))
}

/// Change a custom role. With `If-Match`, only if unchanged since read.
///
/// Adding a permission needs holding it; built-in and template roles are
/// read-only (`role_read_only`).
#[utoipa::path(
    tag = "roles", operation_id = "update_role", security(("bearer" = [])), request_body = UpdateRoleRequest,
    params(("account_id" = Uuid, Path, description = "The account"), ("role_id" = Uuid, Path, description = "The role"),
        ("If-Match" = Option<String>, Header, description = "The ETag last read")),
    responses(
        (status = 200, description = "The role", body = RoleView),
        (status = 409, description = "Read-only role (`role_read_only`)", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since read (`precondition_failed`)", body = Problem, content_type = "application/problem+json"),
    ),
    extensions(("x-authorization" = json!(Requirement::account(Permission::RolesManage))))
)]
#[patch("/roles/{role_id}")]
pub async fn update_role(
    state: web::Data<AppState>,
    member: AccountMember,
    origin: Origin,
    path: web::Path<(Uuid, Uuid)>,
    request: HttpRequest,
    body: JsonBody<UpdateRoleRequest>,
) -> Result<HttpResponse, ApiError> {
    let (_, id) = path.into_inner();
    let patch = body.0;
    let mut errors = Vec::new();
    let name = patch
        .name
        .as_deref()
        .map(RoleName::parse)
        .transpose()
        .map_err(|e| errors.push(field_error("name", e)))
        .ok()
        .flatten();
    let description = patch.description.as_deref().map(|d| parse_description(d, &mut errors));
    let permissions =
        patch.permissions.as_deref().map(|keys| parse_permissions(&state.deployment.catalogue, keys, &mut errors));
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let if_match = if_match(&request);
    let patch = RolePatch { name: name.map(RoleName::into_inner), description, permissions };
    let by = member.grantor();
    let role = state
        .flow(member.actor(), origin, move |conn, ctx| flows::update(conn, ctx, &by, id, patch, if_match.as_deref()))
        .await?;
    Ok(respond_with_role(&mut HttpResponse::Ok(), role, &state.deployment.catalogue))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeleteRoleQuery {
    /// Move the role's assignments and pending invitations to this role.
    pub reassign_to: Option<Uuid>,
}

/// Delete a custom role. Still in use → 409 unless `reassign_to` names a
/// role to move its holders to.
#[utoipa::path(
    tag = "roles", operation_id = "delete_role", security(("bearer" = [])),
    params(("account_id" = Uuid, Path, description = "The account"), ("role_id" = Uuid, Path, description = "The role"), DeleteRoleQuery),
    responses(
        (status = 204, description = "Deleted"),
        (status = 409, description = "Still assigned (`role_in_use`) or read-only (`role_read_only`)", body = Problem, content_type = "application/problem+json"),
    ),
    extensions(("x-authorization" = json!(Requirement::account(Permission::RolesManage))))
)]
#[delete("/roles/{role_id}")]
pub async fn delete_role(
    state: web::Data<AppState>,
    member: AccountMember,
    origin: Origin,
    path: web::Path<(Uuid, Uuid)>,
    query: web::Query<DeleteRoleQuery>,
) -> Result<HttpResponse, ApiError> {
    let (_, id) = path.into_inner();
    let (reassign_to, by) = (query.reassign_to, member.grantor());
    state.flow(member.actor(), origin, move |conn, ctx| flows::delete(conn, ctx, &by, id, reassign_to)).await?;
    Ok(HttpResponse::NoContent().finish())
}
