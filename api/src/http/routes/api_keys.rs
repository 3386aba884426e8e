//! Authorized partners of an account and the API keys granted to them.
//! Everything here needs `partners:manage`.

use actix_web::http::header;
use actix_web::{HttpResponse, delete, get, post, web};
use chrono::{DateTime, Duration, Utc};
use domain::access::Requirement;
use domain::api_key::{IpAllowList, MAX_ROTATION_OVERLAP_HOURS};
use domain::plan::Feature;
use domain::{AccountName, Description, Permission};
use persistence::api_keys::{self as store, ApiKey, Partner};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::flows::Origin;
use crate::flows::api_keys::{self as flows, KeyDraft, RevealedKey};
use crate::http::access::AccountMember;
use crate::http::extract::JsonBody;
use crate::http::headers::no_store;
use crate::http::pagination::{PageQuery, page_cursor};
use crate::http::problem::{ApiError, Problem, field_error};
use crate::http::schemas::{ApiKeyPermissionKey, PermissionKey, free_text_schema, ip_allow_list_schema, label_schema};
use crate::http::state::{AppState, RunFlow};

const MANAGE: Requirement = Requirement::account(Permission::PartnersManage);

#[derive(Serialize, ToSchema)]
#[schema(as = Partner, example = json!({
    "id": "01937a2e-d000-7000-8000-000000000001", "name": "Acme Logistics",
    "description": "Ships our orders", "created_at": "2026-11-23T10:00:00Z"
}))]
pub struct PartnerView {
    pub id: Uuid,
    pub name: String,
    pub description: String,
    pub created_at: DateTime<Utc>,
}

impl From<Partner> for PartnerView {
    fn from(partner: Partner) -> Self {
        PartnerView {
            id: partner.id,
            name: partner.name,
            description: partner.description,
            created_at: partner.created_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct PartnerPage {
    pub items: Vec<PartnerView>,
    pub next_cursor: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Acme Logistics", "description": "Ships our orders"}))]
pub struct CreatePartnerRequest {
    /// The partner organisation; unique in the account (case-insensitively).
    #[schema(schema_with = label_schema)]
    pub name: String,
    #[schema(schema_with = free_text_schema)]
    #[serde(default)]
    pub description: String,
}

/// Add an authorized partner: a third party acting for the account through
/// API keys. Partners are never members.
#[utoipa::path(
    tag = "partners", operation_id = "create_partner", security(("bearer" = [])), request_body = CreatePartnerRequest,
    params(("account_id" = Uuid, Path, description = "The account")),
    responses(
        (status = 201, description = "The partner; `Location` names it", body = PartnerView),
        (status = 409, description = "A partner of that name exists (`partner_exists`)", body = Problem, content_type = "application/problem+json"),
    ),
    extensions(("x-authorization" = json!(MANAGE.needs(Feature::ApiKeys))))
)]
#[post("/partners")]
pub async fn create_partner(
    state: web::Data<AppState>,
    member: AccountMember,
    origin: Origin,
    body: JsonBody<CreatePartnerRequest>,
) -> Result<HttpResponse, ApiError> {
    let request = body.0;
    let name = AccountName::parse(&request.name).map_err(|e| ApiError::Validation(vec![field_error("name", e)]))?;
    let description = Description::parse(&request.description)
        .map_err(|e| ApiError::Validation(vec![field_error("description", e)]))?;
    let account = member.account_id;
    let partner = state
        .flow(member.actor(), origin, move |conn, ctx| {
            flows::create_partner(conn, ctx, account, name.as_str(), description.as_str())
        })
        .await?;
    let location = format!("/v1/accounts/{account}/partners/{}", partner.id);
    Ok(HttpResponse::Created().insert_header((header::LOCATION, location)).json(PartnerView::from(partner)))
}

/// The account's partners, oldest first.
#[utoipa::path(
    tag = "partners", operation_id = "list_partners", security(("bearer" = [])),
    params(("account_id" = Uuid, Path, description = "The account"), PageQuery),
    responses((status = 200, description = "A page of partners", body = PartnerPage)),
    extensions(("x-authorization" = json!(MANAGE)))
)]
#[get("/partners")]
pub async fn list_partners(
    state: web::Data<AppState>,
    member: AccountMember,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let (limit, after, account) = (page.limit()?, page.cursor()?, member.account_id);
    let mut rows = state.db(move |conn| Ok(store::list_partners(conn, account, after, limit + 1)?)).await?;
    let next_cursor = page_cursor(&mut rows, limit, |partner| partner.id.to_string());
    Ok(HttpResponse::Ok().json(PartnerPage { items: rows.into_iter().map(PartnerView::from).collect(), next_cursor }))
}

/// Remove a partner and revoke every key it holds, at once.
#[utoipa::path(
    tag = "partners", operation_id = "delete_partner", security(("bearer" = [])),
    params(("account_id" = Uuid, Path, description = "The account"), ("partner_id" = Uuid, Path, description = "The partner")),
    responses((status = 204, description = "Removed, with its keys")),
    extensions(("x-authorization" = json!(MANAGE)))
)]
#[delete("/partners/{partner_id}")]
pub async fn delete_partner(
    state: web::Data<AppState>,
    member: AccountMember,
    origin: Origin,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let (account, id) = path.into_inner();
    state.flow(member.actor(), origin, move |conn, ctx| flows::delete_partner(conn, ctx, account, id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Serialize, ToSchema)]
#[schema(as = ApiKey, example = json!({
    "id": "01937a2e-d000-7000-8000-000000000002", "name": "Order sync", "prefix": "roster_4fZk2Q",
    "partner_id": "01937a2e-d000-7000-8000-000000000001", "partner_name": "Acme Logistics",
    "permissions": ["members:read"], "group_id": null, "allowed_ips": ["203.0.113.0/24"],
    "created_by": "01937a2e-d000-7000-8000-0000000000aa", "created_by_email": "ada@example.com",
    "created_at": "2026-11-23T10:00:00Z", "expires_at": "2027-02-21T10:00:00Z", "revoked_at": null,
    "last_used_at": null, "last_used_ip": null, "status": "active"
}))]
pub struct ApiKeyView {
    pub id: Uuid,
    pub name: String,
    /// The start of the current secret, to recognise it: `roster_` and 6 characters.
    pub prefix: String,
    pub partner_id: Uuid,
    pub partner_name: String,
    #[schema(value_type = Vec<PermissionKey>)]
    pub permissions: Vec<String>,
    /// The key acts only inside this group.
    pub group_id: Option<Uuid>,
    /// Client addresses and CIDR blocks the key may be used from; empty: any.
    pub allowed_ips: Vec<String>,
    pub created_by: Uuid,
    pub created_by_email: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub last_used_ip: Option<String>,
    /// `active`, `expired` or `revoked`.
    #[schema(value_type = ApiKeyStatusName)]
    pub status: &'static str,
    /// The secret (`roster_…`): only in the answers of create and rotate,
    /// and never again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

/// Whether an API key works.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case", example = "active")]
#[allow(dead_code)] // only its schema is used: the view carries the text
pub enum ApiKeyStatusName {
    Active,
    Expired,
    Revoked,
}

impl ApiKeyView {
    fn new(key: ApiKey, now: DateTime<Utc>, secret: Option<String>) -> Self {
        let status = match (key.revoked_at, key.expires_at <= now) {
            (Some(_), _) => "revoked",
            (None, true) => "expired",
            (None, false) => "active",
        };
        ApiKeyView {
            id: key.id,
            name: key.name,
            prefix: key.shown,
            partner_id: key.partner_id,
            partner_name: key.partner_name,
            permissions: key.permissions,
            group_id: key.group_id,
            allowed_ips: key.allowed_ips,
            created_by: key.created_by,
            created_by_email: key.created_by_email,
            created_at: key.created_at,
            expires_at: key.expires_at,
            revoked_at: key.revoked_at,
            last_used_at: key.last_used_at,
            last_used_ip: key.last_used_ip,
            status,
            secret,
        }
    }

    fn revealed(revealed: RevealedKey, now: DateTime<Utc>) -> Self {
        let secret = revealed.secret.expose().to_owned();
        Self::new(revealed.key, now, Some(secret))
    }
}

#[derive(Serialize, ToSchema)]
pub struct ApiKeyPage {
    pub items: Vec<ApiKeyView>,
    pub next_cursor: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "name": "Order sync", "partner_id": "01937a2e-d000-7000-8000-000000000001",
    "permissions": ["members:read"], "allowed_ips": ["203.0.113.0/24"]
}))]
pub struct CreateApiKeyRequest {
    #[schema(schema_with = label_schema)]
    pub name: String,
    /// The partner the key is for (`POST …/partners`).
    pub partner_id: Uuid,
    /// What the key may do: permissions the caller holds (where the key
    /// applies), never `account:delete`, `ownership:transfer`,
    /// `linked_accounts:manage`, `partners:manage` or `webhooks:manage` (the
    /// schema lists the others).
    #[schema(value_type = Vec<ApiKeyPermissionKey>, min_items = 1, max_items = 100)]
    pub permissions: Vec<String>,
    /// The key acts only inside this group.
    pub group_id: Option<Uuid>,
    /// Default: in 90 days; at most a year away.
    pub expires_at: Option<DateTime<Utc>>,
    #[schema(schema_with = ip_allow_list_schema)]
    #[serde(default)]
    pub allowed_ips: Vec<String>,
}

/// Grant a partner an API key; the answer carries its secret, once.
///
/// The key is used as `Authorization: Bearer roster_…` on this account's
/// endpoints. It acts with its permissions, limited by what its creator
/// holds at the time of each call. Owners and administrators are emailed.
#[utoipa::path(
    tag = "partners", operation_id = "create_api_key", security(("bearer" = [])), request_body = CreateApiKeyRequest,
    params(("account_id" = Uuid, Path, description = "The account")),
    responses(
        (status = 201, description = "The key with its secret; `Location` names it", body = ApiKeyView),
        (status = 403, description = "Missing permission, or the key would carry a permission the caller lacks where it applies (`forbidden`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`, the field errors naming a permission no key may carry (`permissions`: `reserved_permission`), an unknown partner (`unknown_partner`) or group (`unknown_group`), or an expiry in the past or too far (`in_the_past`, `too_far`)", body = Problem, content_type = "application/problem+json"),
    ),
    extensions(("x-authorization" = json!(MANAGE.needs(Feature::ApiKeys))))
)]
#[post("/api-keys")]
pub async fn create_api_key(
    state: web::Data<AppState>,
    member: AccountMember,
    origin: Origin,
    body: JsonBody<CreateApiKeyRequest>,
) -> Result<HttpResponse, ApiError> {
    let request = body.0;
    let now = state.clock.now();
    let mut errors = Vec::new();
    let name = AccountName::parse(&request.name).map_err(|e| errors.push(field_error("name", e))).ok();
    let expires_at =
        domain::api_key::expiry(now, request.expires_at).map_err(|e| errors.push(field_error("expires_at", e))).ok();
    let allowed_ips =
        IpAllowList::parse(&request.allowed_ips).map_err(|e| errors.push(field_error("allowed_ips", e))).ok();
    let permissions =
        crate::http::routes::roles::parse_permissions(&state.deployment.catalogue, &request.permissions, &mut errors);
    let (Some(name), Some(expires_at), Some(allowed_ips)) = (name, expires_at, allowed_ips) else {
        return Err(ApiError::Validation(errors));
    };
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let draft = KeyDraft {
        name: name.into_inner(),
        partner_id: request.partner_id,
        permissions,
        group_id: request.group_id,
        expires_at,
        allowed_ips,
    };
    let (by, account) = (member.grantor(), member.account_id);
    let revealed =
        state.flow(member.actor(), origin, move |conn, ctx| flows::create_key(conn, ctx, &by, draft)).await?;
    let location = format!("/v1/accounts/{account}/api-keys/{}", revealed.key.id);
    Ok(no_store(
        HttpResponse::Created().insert_header((header::LOCATION, location)).json(ApiKeyView::revealed(revealed, now)),
    ))
}

/// The account's API keys, oldest first, revoked and expired ones included.
#[utoipa::path(
    tag = "partners", operation_id = "list_api_keys", security(("bearer" = [])),
    params(("account_id" = Uuid, Path, description = "The account"), PageQuery),
    responses((status = 200, description = "A page of keys (never their secrets)", body = ApiKeyPage)),
    extensions(("x-authorization" = json!(MANAGE)))
)]
#[get("/api-keys")]
pub async fn list_api_keys(
    state: web::Data<AppState>,
    member: AccountMember,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let (limit, after, account, now) = (page.limit()?, page.cursor()?, member.account_id, state.clock.now());
    let mut rows = state.db(move |conn| Ok(store::list_keys(conn, account, after, limit + 1)?)).await?;
    let next_cursor = page_cursor(&mut rows, limit, |key| key.id.to_string());
    let items = rows.into_iter().map(|key| ApiKeyView::new(key, now, None)).collect();
    Ok(HttpResponse::Ok().json(ApiKeyPage { items, next_cursor }))
}

/// One API key (without its secret).
#[utoipa::path(
    tag = "partners", operation_id = "get_api_key", security(("bearer" = [])),
    params(("account_id" = Uuid, Path, description = "The account"), ("key_id" = Uuid, Path, description = "The key")),
    responses((status = 200, description = "The key", body = ApiKeyView)),
    extensions(("x-authorization" = json!(MANAGE)))
)]
#[get("/api-keys/{key_id}")]
pub async fn get_api_key(
    state: web::Data<AppState>,
    _member: AccountMember,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let (account, id) = path.into_inner();
    let key = state.db(move |conn| Ok(store::find_key(conn, account, id)?)).await?.ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Ok().json(ApiKeyView::new(key, state.clock.now(), None)))
}

/// Revoke a key: it stops working at once. Revoking twice changes nothing.
#[utoipa::path(
    tag = "partners", operation_id = "revoke_api_key", security(("bearer" = [])),
    params(("account_id" = Uuid, Path, description = "The account"), ("key_id" = Uuid, Path, description = "The key")),
    responses((status = 200, description = "The revoked key", body = ApiKeyView)),
    extensions(("x-authorization" = json!(MANAGE)))
)]
#[post("/api-keys/{key_id}/revoke")]
pub async fn revoke_api_key(
    state: web::Data<AppState>,
    member: AccountMember,
    origin: Origin,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let (account, id) = path.into_inner();
    let key = state.flow(member.actor(), origin, move |conn, ctx| flows::revoke_key(conn, ctx, account, id)).await?;
    Ok(HttpResponse::Ok().json(ApiKeyView::new(key, state.clock.now(), None)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"overlap_hours": 24}))]
pub struct RotateApiKeyRequest {
    /// How long the current secret keeps working beside the new one, so
    /// the partner can switch without downtime (0, the default: it stops at
    /// once; at most a week).
    #[schema(minimum = 0, maximum = 168)]
    #[serde(default, deserialize_with = "crate::http::extract::whole::option")]
    pub overlap_hours: Option<i64>,
}

/// Give a key a new secret; the answer carries it, once.
#[utoipa::path(
    tag = "partners", operation_id = "rotate_api_key", security(("bearer" = [])), request_body = RotateApiKeyRequest,
    params(("account_id" = Uuid, Path, description = "The account"), ("key_id" = Uuid, Path, description = "The key")),
    responses(
        (status = 200, description = "The key with its new secret", body = ApiKeyView),
        (status = 404, description = "No such key, or it is revoked or expired (`not_found`)", body = Problem, content_type = "application/problem+json"),
    ),
    extensions(("x-authorization" = json!(MANAGE.needs(Feature::ApiKeys))))
)]
#[post("/api-keys/{key_id}/rotate")]
pub async fn rotate_api_key(
    state: web::Data<AppState>,
    member: AccountMember,
    origin: Origin,
    path: web::Path<(Uuid, Uuid)>,
    body: JsonBody<RotateApiKeyRequest>,
) -> Result<HttpResponse, ApiError> {
    let (account, id) = path.into_inner();
    let hours = body.0.overlap_hours.unwrap_or(0);
    if !(0..=MAX_ROTATION_OVERLAP_HOURS).contains(&hours) {
        return Err(ApiError::field("overlap_hours", "out_of_range", "Between 0 and 168 hours."));
    }
    let overlap = Duration::hours(hours);
    let revealed =
        state.flow(member.actor(), origin, move |conn, ctx| flows::rotate_key(conn, ctx, account, id, overlap)).await?;
    Ok(no_store(HttpResponse::Ok().json(ApiKeyView::revealed(revealed, state.clock.now()))))
}
