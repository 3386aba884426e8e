//! Tokens for the account's directory (Okta, Entra ID, …) to provision it
//! over SCIM 2.0 at `{ROSTER_PUBLIC_URL}/scim/v2`: the token says which
//! account. Managing them needs `members:manage` and the plan's
//! `directory_sync`; a token is shown once and works for SCIM only.

use actix_web::http::header;
use actix_web::{HttpResponse, delete, get, post, put, web};
use chrono::{DateTime, Utc};
use domain::Permission;
use domain::access::Requirement;
use domain::plan::Feature;
use persistence::scim_tokens::{self as store, ScimToken};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::flows::Origin;
use crate::flows::scim_tokens as flows;
use crate::http::access::AccountMember;
use crate::http::extract::JsonBody;
use crate::http::problem::{ApiError, Problem, field_error};
use crate::http::schemas::{label_schema, role_keys_schema};
use crate::http::state::{AppState, RunFlow};

const MANAGE: Requirement = Requirement::account(Permission::MembersManage);

/// Whether the directory may still use a token.
#[derive(Serialize, ToSchema, Clone, Copy)]
#[serde(rename_all = "snake_case")]
#[schema(example = "active")]
pub enum ScimTokenStatus {
    Active,
    Revoked,
}

#[derive(Serialize, ToSchema)]
#[schema(as = ScimToken, example = json!({
    "id": "01937a2e-e000-7000-8000-000000000003", "name": "Okta", "status": "active",
    "scim_base_url": "https://roster.example.com/scim/v2",
    "created_at": "2026-12-07T10:00:00Z", "last_used_at": null, "revoked_at": null
}))]
pub struct TokenView {
    pub id: Uuid,
    pub name: String,
    pub status: ScimTokenStatus,
    /// The directory's "tenant URL" / "SCIM connector base URL".
    pub scim_base_url: String,
    /// The secret, in the answer that made it only: the directory's
    /// "secret token" / "API token". Stored as a digest.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl TokenView {
    fn of(token: ScimToken, secret: Option<String>, public_url: &str) -> Self {
        TokenView {
            id: token.id,
            name: token.name,
            status: if token.revoked_at.is_some() { ScimTokenStatus::Revoked } else { ScimTokenStatus::Active },
            scim_base_url: format!("{public_url}/scim/v2"),
            token: secret,
            created_at: token.created_at,
            last_used_at: token.last_used_at,
            revoked_at: token.revoked_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct TokenList {
    /// Oldest first, revoked ones included.
    pub items: Vec<TokenView>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Okta"}))]
pub struct CreateTokenRequest {
    /// What the token is for (which directory).
    #[schema(schema_with = label_schema)]
    pub name: String,
}

/// Make a token for the account's directory. The answer shows it once.
#[utoipa::path(
    tag = "directory-sync", operation_id = "create_scim_token", security(("bearer" = [])), request_body = CreateTokenRequest,
    params(("account_id" = Uuid, Path, description = "The account")),
    responses((status = 201, description = "Made; `token` is shown this once, `Location` names it", body = TokenView)),
    extensions(("x-authorization" = json!(MANAGE.needs(Feature::DirectorySync))))
)]
#[post("/scim-tokens")]
pub async fn create_scim_token(
    state: web::Data<AppState>,
    member: AccountMember,
    origin: Origin,
    body: JsonBody<CreateTokenRequest>,
) -> Result<HttpResponse, ApiError> {
    let name =
        domain::AccountName::parse(&body.0.name).map_err(|e| ApiError::Validation(vec![field_error("name", e)]))?;
    let by = member.grantor();
    let issued =
        state.flow(member.actor(), origin, move |conn, ctx| flows::create(conn, ctx, &by, name.as_str())).await?;
    let location = format!("/v1/accounts/{}/scim-tokens/{}", issued.token.account_id, issued.token.id);
    let view = TokenView::of(issued.token, Some(issued.secret), &state.settings.public_url);
    Ok(HttpResponse::Created().insert_header((header::LOCATION, location)).json(view))
}

/// The account's directory tokens, with when each was last used.
#[utoipa::path(
    tag = "directory-sync", operation_id = "list_scim_tokens", security(("bearer" = [])),
    params(("account_id" = Uuid, Path, description = "The account")),
    responses((status = 200, description = "The tokens", body = TokenList)),
    extensions(("x-authorization" = json!(MANAGE)))
)]
#[get("/scim-tokens")]
pub async fn list_scim_tokens(state: web::Data<AppState>, member: AccountMember) -> Result<HttpResponse, ApiError> {
    let account = member.account_id;
    let found = state.db(move |conn| Ok(store::list(conn, account)?)).await?;
    let items = found.into_iter().map(|token| TokenView::of(token, None, &state.settings.public_url)).collect();
    Ok(HttpResponse::Ok().json(TokenList { items }))
}

/// Revoke a directory token: the directory is refused from now on.
#[utoipa::path(
    tag = "directory-sync", operation_id = "revoke_scim_token", security(("bearer" = [])),
    params(("account_id" = Uuid, Path, description = "The account"), ("token_id" = Uuid, Path, description = "The token")),
    responses((status = 204, description = "Revoked (also when it was already)")),
    extensions(("x-authorization" = json!(MANAGE)))
)]
#[delete("/scim-tokens/{token_id}")]
pub async fn revoke_scim_token(
    state: web::Data<AppState>,
    member: AccountMember,
    origin: Origin,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let (account, id) = path.into_inner();
    state.flow(member.actor(), origin, move |conn, ctx| flows::revoke(conn, ctx, account, id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// What the account's directory does with the people it adds.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"default_roles": ["developer"]}))]
pub struct DirectorySettings {
    /// The roles (keys) people the directory adds start with, account-wide;
    /// none until set. Each must be one the person setting them may give,
    /// and never `owner`.
    #[schema(schema_with = role_keys_schema)]
    pub default_roles: Vec<String>,
}

/// How the account's directory adds people.
#[utoipa::path(
    tag = "directory-sync", operation_id = "get_directory_settings", security(("bearer" = [])),
    params(("account_id" = Uuid, Path, description = "The account")),
    responses((status = 200, description = "The settings", body = DirectorySettings)),
    extensions(("x-authorization" = json!(MANAGE)))
)]
#[get("/directory-settings")]
pub async fn get_directory_settings(
    state: web::Data<AppState>,
    member: AccountMember,
) -> Result<HttpResponse, ApiError> {
    let account = member.account_id;
    let default_roles = state.db(move |conn| Ok(persistence::directory::default_role_keys(conn, account)?)).await?;
    Ok(HttpResponse::Ok().json(DirectorySettings { default_roles }))
}

/// Set the roles people the account's directory adds start with.
#[utoipa::path(
    tag = "directory-sync", operation_id = "update_directory_settings", security(("bearer" = [])),
    request_body = DirectorySettings,
    params(("account_id" = Uuid, Path, description = "The account")),
    responses(
        (status = 200, description = "Set", body = DirectorySettings),
        (status = 403, description = "The caller lacks `members:manage`, or a permission of a role named (`forbidden`)", body = Problem, content_type = "application/problem+json"),
    ),
    extensions(("x-authorization" = json!(MANAGE.needs(Feature::DirectorySync))))
)]
#[put("/directory-settings")]
pub async fn update_directory_settings(
    state: web::Data<AppState>,
    member: AccountMember,
    origin: Origin,
    body: JsonBody<DirectorySettings>,
) -> Result<HttpResponse, ApiError> {
    let keys = body.0.default_roles;
    let by = member.grantor();
    let default_roles = state
        .flow(member.actor(), origin, move |conn, ctx| {
            crate::flows::directory::set_default_roles(conn, ctx, &by, &keys)
        })
        .await?;
    Ok(HttpResponse::Ok().json(DirectorySettings { default_roles }))
}
