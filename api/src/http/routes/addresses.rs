//! The company's addresses: business, billing and shipping, one default
//! per kind. Reading needs `settings:read`, changing `settings:manage`;
//! changes and removals send the address's `ETag` as `If-Match`.

use actix_web::{HttpRequest, HttpResponse, delete, get, post, put, web};
use chrono::{DateTime, Utc};
use domain::access::Requirement;
use domain::address::{AddressKind, CountryCode, PostalCode};
use domain::{AccountName, Permission};
use persistence::addresses::{self as store, Address};
use persistence::{DbConnection, StoreError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::flows::Origin;
use crate::flows::addresses::{AddressDraft, Addresses};
use crate::http::access::AccountMember;
use crate::http::extract::JsonBody;
use crate::http::headers::if_match;
use crate::http::problem::{ApiError, ParseFields, Problem};
use crate::http::routes::versioned::{self, Exposed};
use crate::http::schemas::{CountryCode as CountryCodeSchema, label_schema, postal_code_schema};
use crate::http::state::AppState;

const READ: Requirement = Requirement::account(Permission::SettingsRead);
const MANAGE: Requirement = Requirement::account(Permission::SettingsManage);

/// What an address is for.
#[derive(Serialize, Deserialize, ToSchema, Clone, Copy)]
#[serde(rename_all = "snake_case")]
#[schema(example = "billing")]
pub enum AddressKindName {
    Business,
    Billing,
    Shipping,
}

impl AddressKindName {
    fn parse(self) -> AddressKind {
        match self {
            AddressKindName::Business => AddressKind::Business,
            AddressKindName::Billing => AddressKind::Billing,
            AddressKindName::Shipping => AddressKind::Shipping,
        }
    }

    fn of(kind: AddressKind) -> Self {
        match kind {
            AddressKind::Business => AddressKindName::Business,
            AddressKind::Billing => AddressKindName::Billing,
            AddressKind::Shipping => AddressKindName::Shipping,
        }
    }
}

#[derive(Serialize, ToSchema)]
#[schema(as = Address, example = json!({
    "id": "01937a2e-f100-7000-8000-000000000001", "kind": "billing", "lines": ["Unter den Linden 1"],
    "city": "Berlin", "region": "", "postal_code": "10117", "country": "DE", "is_default": true,
    "created_at": "2026-11-23T10:00:00Z", "updated_at": "2026-11-23T10:00:00Z"
}))]
pub struct AddressView {
    pub id: Uuid,
    pub kind: AddressKindName,
    pub lines: Vec<String>,
    pub city: String,
    pub region: String,
    pub postal_code: String,
    /// ISO 3166-1 alpha-2.
    pub country: String,
    /// The account's default address of this kind.
    pub is_default: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Address> for AddressView {
    fn from(address: Address) -> Self {
        AddressView {
            id: address.id,
            kind: AddressKindName::of(address.kind),
            lines: address.lines,
            city: address.city,
            region: address.region,
            postal_code: address.postal_code,
            country: address.country,
            is_default: address.is_default,
            created_at: address.created_at,
            updated_at: address.updated_at,
        }
    }
}

impl Exposed for Addresses {
    type View = AddressView;
    const COLLECTION: &'static str = "addresses";

    fn id(address: &Address) -> Uuid {
        address.id
    }

    fn list(conn: &mut DbConnection, account: Uuid) -> Result<Vec<Address>, StoreError> {
        store::list(conn, account)
    }
}

#[derive(Serialize, ToSchema)]
pub struct AddressList {
    /// Oldest first.
    pub items: Vec<AddressView>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"kind": "billing", "lines": ["Unter den Linden 1"], "city": "Berlin", "postal_code": "10117", "country": "DE", "is_default": true}))]
pub struct AddressRequest {
    pub kind: AddressKindName,
    /// One to three street lines, each 1 to 200 characters.
    #[schema(schema_with = lines_schema)]
    pub lines: Vec<String>,
    #[schema(schema_with = label_schema)]
    pub city: String,
    /// State, province or county; may be empty.
    #[serde(default)]
    #[schema(max_length = 200, pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$")]
    pub region: String,
    #[schema(schema_with = postal_code_schema)]
    pub postal_code: String,
    #[schema(value_type = CountryCodeSchema)]
    pub country: String,
    /// Make this the default address of its kind (the previous default
    /// stops being it).
    #[serde(default)]
    pub is_default: bool,
}

fn lines_schema() -> utoipa::openapi::Array {
    utoipa::openapi::ArrayBuilder::new().items(label_schema()).min_items(Some(1)).max_items(Some(3)).build()
}

impl AddressRequest {
    fn parse(self) -> Result<AddressDraft, ApiError> {
        let region = self.region.trim().to_owned();
        let region_ok = if region.chars().any(char::is_control) || region.chars().count() > 200 {
            Err(domain::InvalidValue::new(
                "invalid_region",
                "A region has at most 200 characters, no control characters.",
            ))
        } else {
            Ok(region)
        };
        let (lines, city, region, postal_code, country) = (
            ("lines", domain::address::parse_lines(&self.lines)),
            ("city", AccountName::parse(&self.city).map(AccountName::into_inner)),
            ("region", region_ok),
            ("postal_code", PostalCode::parse(&self.postal_code)),
            ("country", CountryCode::parse(&self.country)),
        )
            .parse_fields()?;
        Ok(AddressDraft {
            kind: self.kind.parse(),
            lines,
            city,
            region,
            postal_code,
            country,
            is_default: self.is_default,
        })
    }
}

/// Add an address. Made the default of its kind, it takes that from the
/// previous default.
#[utoipa::path(
    tag = "settings", operation_id = "create_address", security(("bearer" = [])), request_body = AddressRequest,
    params(("account_id" = Uuid, Path, description = "The account")),
    responses(
        (status = 201, description = "The address; `ETag` is its version, `Location` names it", body = AddressView),
    ),
    extensions(("x-authorization" = json!(MANAGE)))
)]
#[post("/addresses")]
pub async fn create_address(
    state: web::Data<AppState>,
    member: AccountMember,
    origin: Origin,
    body: JsonBody<AddressRequest>,
) -> Result<HttpResponse, ApiError> {
    versioned::create::<Addresses>(state, member, origin, body.0.parse()?).await
}

/// The account's addresses.
#[utoipa::path(
    tag = "settings", operation_id = "list_addresses", security(("bearer" = [])),
    params(("account_id" = Uuid, Path, description = "The account")),
    responses((status = 200, description = "The addresses", body = AddressList)),
    extensions(("x-authorization" = json!(READ)))
)]
#[get("/addresses")]
pub async fn list_addresses(state: web::Data<AppState>, member: AccountMember) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(AddressList { items: versioned::list::<Addresses>(state, member).await? }))
}

/// Read an address; `ETag` is its version for `If-Match`.
#[utoipa::path(
    tag = "settings", operation_id = "get_address", security(("bearer" = [])),
    params(("account_id" = Uuid, Path, description = "The account"), ("address_id" = Uuid, Path, description = "The address")),
    responses((status = 200, description = "The address", body = AddressView)),
    extensions(("x-authorization" = json!(READ)))
)]
#[get("/addresses/{address_id}")]
pub async fn get_address(
    state: web::Data<AppState>,
    member: AccountMember,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let ((account, id), _) = (path.into_inner(), member);
    versioned::get::<Addresses>(state, account, id).await
}

/// Replace an address. Send its `ETag` as `If-Match` (428 without it, 412
/// when stale).
#[utoipa::path(
    tag = "settings", operation_id = "replace_address", security(("bearer" = [])), request_body = AddressRequest,
    params(("account_id" = Uuid, Path, description = "The account"), ("address_id" = Uuid, Path, description = "The address"),
        ("If-Match" = String, Header, description = "The address's ETag; without it the answer is 428, with a stale one 412")),
    responses(
        (status = 200, description = "The address now; `ETag` is its new version", body = AddressView),
        (status = 412, description = "Changed since read (`precondition_failed`)", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing (`precondition_required`)", body = Problem, content_type = "application/problem+json"),
    ),
    extensions(("x-authorization" = json!(MANAGE)))
)]
#[put("/addresses/{address_id}")]
pub async fn replace_address(
    state: web::Data<AppState>,
    member: AccountMember,
    origin: Origin,
    path: web::Path<(Uuid, Uuid)>,
    request: HttpRequest,
    body: JsonBody<AddressRequest>,
) -> Result<HttpResponse, ApiError> {
    versioned::replace::<Addresses>(state, member, origin, path.into_inner(), body.0.parse()?, if_match(&request)).await
}

/// Remove an address. Send its `ETag` as `If-Match` (428 without it, 412
/// when stale).
#[utoipa::path(
    tag = "settings", operation_id = "delete_address", security(("bearer" = [])),
    params(("account_id" = Uuid, Path, description = "The account"), ("address_id" = Uuid, Path, description = "The address"),
        ("If-Match" = String, Header, description = "The address's ETag; without it the answer is 428, with a stale one 412")),
    responses(
        (status = 204, description = "Removed"),
        (status = 412, description = "Changed since read (`precondition_failed`)", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing (`precondition_required`)", body = Problem, content_type = "application/problem+json"),
    ),
    extensions(("x-authorization" = json!(MANAGE)))
)]
#[delete("/addresses/{address_id}")]
pub async fn delete_address(
    state: web::Data<AppState>,
    member: AccountMember,
    origin: Origin,
    path: web::Path<(Uuid, Uuid)>,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    versioned::delete::<Addresses>(state, member, origin, path.into_inner(), if_match(&request)).await
}
