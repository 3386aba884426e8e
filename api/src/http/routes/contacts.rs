//! The company's contacts: primary (at most one), billing, technical,
//! security and legal. Reading needs `settings:read`, changing
//! `settings:manage`; changes and removals send the contact's `ETag` as
//! `If-Match`.

use actix_web::{HttpRequest, HttpResponse, delete, get, post, put, web};
use chrono::{DateTime, Utc};
use domain::access::Requirement;
use domain::contact::{ContactKind, PhoneNumber};
use domain::{Email, Permission, PersonName};
use persistence::contacts::{self as store, Contact};
use persistence::{DbConnection, StoreError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::flows::Origin;
use crate::flows::contacts::{ContactDraft, Contacts};
use crate::http::access::AccountMember;
use crate::http::extract::JsonBody;
use crate::http::headers::if_match;
use crate::http::problem::{ApiError, ParseFields, Problem};
use crate::http::routes::versioned::{self, Exposed};
use crate::http::schemas::{email_schema, person_name_schema, phone_or_null_schema};
use crate::http::state::AppState;

const READ: Requirement = Requirement::account(Permission::SettingsRead);
const MANAGE: Requirement = Requirement::account(Permission::SettingsManage);

/// What a contact is for.
#[derive(Serialize, Deserialize, ToSchema, Clone, Copy)]
#[serde(rename_all = "snake_case")]
#[schema(example = "billing")]
pub enum ContactKindName {
    /// The account's main contact; at most one.
    Primary,
    Billing,
    Technical,
    Security,
    Legal,
}

impl ContactKindName {
    fn parse(self) -> ContactKind {
        match self {
            ContactKindName::Primary => ContactKind::Primary,
            ContactKindName::Billing => ContactKind::Billing,
            ContactKindName::Technical => ContactKind::Technical,
            ContactKindName::Security => ContactKind::Security,
            ContactKindName::Legal => ContactKind::Legal,
        }
    }

    fn of(kind: ContactKind) -> Self {
        match kind {
            ContactKind::Primary => ContactKindName::Primary,
            ContactKind::Billing => ContactKindName::Billing,
            ContactKind::Technical => ContactKindName::Technical,
            ContactKind::Security => ContactKindName::Security,
            ContactKind::Legal => ContactKindName::Legal,
        }
    }
}

#[derive(Serialize, ToSchema)]
#[schema(as = Contact, example = json!({
    "id": "01937a2e-f000-7000-8000-000000000001", "kind": "billing", "name": "Grace Hopper",
    "email": "billing@example.com", "phone": "+4930901820",
    "created_at": "2026-11-23T10:00:00Z", "updated_at": "2026-11-23T10:00:00Z"
}))]
pub struct ContactView {
    pub id: Uuid,
    pub kind: ContactKindName,
    pub name: String,
    pub email: String,
    /// E.164.
    pub phone: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Contact> for ContactView {
    fn from(contact: Contact) -> Self {
        ContactView {
            id: contact.id,
            kind: ContactKindName::of(contact.kind),
            name: contact.name,
            email: contact.email,
            phone: contact.phone,
            created_at: contact.created_at,
            updated_at: contact.updated_at,
        }
    }
}

impl Exposed for Contacts {
    type View = ContactView;
    const COLLECTION: &'static str = "contacts";

    fn id(contact: &Contact) -> Uuid {
        contact.id
    }

    fn list(conn: &mut DbConnection, account: Uuid) -> Result<Vec<Contact>, StoreError> {
        store::list(conn, account)
    }
}

#[derive(Serialize, ToSchema)]
pub struct ContactList {
    /// Oldest first.
    pub items: Vec<ContactView>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"kind": "billing", "name": "Grace Hopper", "email": "billing@example.com", "phone": "+49 30 901820"}))]
pub struct ContactRequest {
    pub kind: ContactKindName,
    #[schema(schema_with = person_name_schema)]
    pub name: String,
    #[schema(schema_with = email_schema)]
    pub email: String,
    #[schema(schema_with = phone_or_null_schema)]
    pub phone: Option<String>,
}

impl ContactRequest {
    fn parse(self) -> Result<ContactDraft, ApiError> {
        let phone = self.phone.filter(|phone| !phone.is_empty());
        let (name, email, phone) = (
            ("name", PersonName::parse(&self.name)),
            ("email", Email::parse(&self.email)),
            ("phone", phone.as_deref().map(PhoneNumber::parse).transpose()),
        )
            .parse_fields()?;
        Ok(ContactDraft { kind: self.kind.parse(), name, email, phone })
    }
}

/// Add a contact. An account has at most one primary contact.
#[utoipa::path(
    tag = "settings", operation_id = "create_contact", security(("bearer" = [])), request_body = ContactRequest,
    params(("account_id" = Uuid, Path, description = "The account")),
    responses(
        (status = 201, description = "The contact; `ETag` is its version, `Location` names it", body = ContactView),
        (status = 409, description = "The account has a primary contact already (`primary_contact_exists`)", body = Problem, content_type = "application/problem+json"),
    ),
    extensions(("x-authorization" = json!(MANAGE)))
)]
#[post("/contacts")]
pub async fn create_contact(
    state: web::Data<AppState>,
    member: AccountMember,
    origin: Origin,
    body: JsonBody<ContactRequest>,
) -> Result<HttpResponse, ApiError> {
    versioned::create::<Contacts>(state, member, origin, body.0.parse()?).await
}

/// The account's contacts.
#[utoipa::path(
    tag = "settings", operation_id = "list_contacts", security(("bearer" = [])),
    params(("account_id" = Uuid, Path, description = "The account")),
    responses((status = 200, description = "The contacts", body = ContactList)),
    extensions(("x-authorization" = json!(READ)))
)]
#[get("/contacts")]
pub async fn list_contacts(state: web::Data<AppState>, member: AccountMember) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(ContactList { items: versioned::list::<Contacts>(state, member).await? }))
}

/// Read a contact; `ETag` is its version for `If-Match`.
#[utoipa::path(
    tag = "settings", operation_id = "get_contact", security(("bearer" = [])),
    params(("account_id" = Uuid, Path, description = "The account"), ("contact_id" = Uuid, Path, description = "The contact")),
    responses((status = 200, description = "The contact", body = ContactView)),
    extensions(("x-authorization" = json!(READ)))
)]
#[get("/contacts/{contact_id}")]
pub async fn get_contact(
    state: web::Data<AppState>,
    member: AccountMember,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let ((account, id), _) = (path.into_inner(), member);
    versioned::get::<Contacts>(state, account, id).await
}

/// Replace a contact. Send its `ETag` as `If-Match` (428 without it, 412
/// when stale).
#[utoipa::path(
    tag = "settings", operation_id = "replace_contact", security(("bearer" = [])), request_body = ContactRequest,
    params(("account_id" = Uuid, Path, description = "The account"), ("contact_id" = Uuid, Path, description = "The contact"),
        ("If-Match" = String, Header, description = "The contact's ETag; without it the answer is 428, with a stale one 412")),
    responses(
        (status = 200, description = "The contact now; `ETag` is its new version", body = ContactView),
        (status = 409, description = "The account has another primary contact (`primary_contact_exists`)", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since read (`precondition_failed`)", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing (`precondition_required`)", body = Problem, content_type = "application/problem+json"),
    ),
    extensions(("x-authorization" = json!(MANAGE)))
)]
#[put("/contacts/{contact_id}")]
pub async fn replace_contact(
    state: web::Data<AppState>,
    member: AccountMember,
    origin: Origin,
    path: web::Path<(Uuid, Uuid)>,
    request: HttpRequest,
    body: JsonBody<ContactRequest>,
) -> Result<HttpResponse, ApiError> {
    versioned::replace::<Contacts>(state, member, origin, path.into_inner(), body.0.parse()?, if_match(&request)).await
}

/// Remove a contact. Send its `ETag` as `If-Match` (428 without it, 412
/// when stale).
#[utoipa::path(
    tag = "settings", operation_id = "delete_contact", security(("bearer" = [])),
    params(("account_id" = Uuid, Path, description = "The account"), ("contact_id" = Uuid, Path, description = "The contact"),
        ("If-Match" = String, Header, description = "The contact's ETag; without it the answer is 428, with a stale one 412")),
    responses(
        (status = 204, description = "Removed"),
        (status = 412, description = "Changed since read (`precondition_failed`)", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing (`precondition_required`)", body = Problem, content_type = "application/problem+json"),
    ),
    extensions(("x-authorization" = json!(MANAGE)))
)]
#[delete("/contacts/{contact_id}")]
pub async fn delete_contact(
    state: web::Data<AppState>,
    member: AccountMember,
    origin: Origin,
    path: web::Path<(Uuid, Uuid)>,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    versioned::delete::<Contacts>(state, member, origin, path.into_inner(), if_match(&request)).await
}
