//! An account's email domains: claim one, publish the DNS TXT record it
//! answers with, then verify. A domain is verified by one account at most;
//! public mail providers' domains cannot be claimed. Reading needs
//! `settings:read`, changing `settings:manage`, and the plan's
//! `verified_domains` feature.

use actix_web::http::header;
use actix_web::{HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use domain::access::Requirement;
use domain::email_domain::{EmailDomain, Enrollment, TxtRecord};
use domain::plan::Feature;
use domain::{InvalidValue, Permission};
use persistence::domains::{self as store, AccountDomain, EnrollmentDefaults};
use persistence::{DbConnection, StoreError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::flows::Origin;
use crate::flows::domains as flows;
use crate::flows::enrollment::{self, EnrollmentChange};
use crate::http::access::AccountMember;
use crate::http::extract::JsonBody;
use crate::http::problem::{ApiError, Problem, field_error};
use crate::http::schemas::{domain_schema, optional_role_keys_schema};
use crate::http::state::{AppState, RunFlow};

const READ: Requirement = Requirement::account(Permission::SettingsRead);
const MANAGE: Requirement = Requirement::account(Permission::SettingsManage);

/// Whether the domain's record has been found.
#[derive(Serialize, ToSchema, Clone, Copy)]
#[serde(rename_all = "snake_case")]
#[schema(example = "verified")]
pub enum DomainStatus {
    /// Claimed; its record has not been found yet.
    Pending,
    Verified,
}

/// The DNS TXT record that proves control of a domain.
#[derive(Serialize, ToSchema)]
pub struct VerificationRecord {
    /// Always `TXT`.
    #[schema(example = "TXT")]
    pub r#type: &'static str,
    #[schema(example = "_roster-verification.acme.example")]
    pub name: String,
    #[schema(example = "roster-verification=3q2-7wEjR0bq1mLx9kZ2aVfT5nHcYp8u")]
    pub value: String,
}

#[derive(Serialize, ToSchema)]
#[schema(as = Domain, example = json!({
    "id": "01937a2e-e000-7000-8000-000000000001", "domain": "acme.example", "status": "pending",
    "record": {"type": "TXT", "name": "_roster-verification.acme.example", "value": "roster-verification=3q2-7wEjR0bq1mLx9kZ2aVfT5nHcYp8u"},
    "verified_at": null, "checked_at": null, "record_missing_since": null, "created_at": "2026-12-06T10:00:00Z",
    "enrollment": "manual", "default_roles": [], "default_groups": []
}))]
pub struct DomainView {
    pub id: Uuid,
    pub domain: String,
    pub status: DomainStatus,
    /// What to publish; it stays the proof while the domain is verified.
    pub record: VerificationRecord,
    pub verified_at: Option<DateTime<Utc>>,
    /// When the record was last looked up (verified domains are looked up
    /// again every day, `ROSTER_DOMAIN_RECHECK_HOURS`).
    pub checked_at: Option<DateTime<Utc>>,
    /// Since when a verified domain's record has been missing; after 3
    /// days the domain falls back to `pending` and the account's settings
    /// managers are emailed.
    pub record_missing_since: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// Who with a verified email at the domain comes in by themselves
    /// while it is verified: nobody (`manual`), they see the account in
    /// `GET /v1/me/suggested-accounts` and may ask to join (`suggest`), or
    /// they become members when their email is verified or at their next
    /// sign-in (`automatic`; with no seat left they ask to join instead).
    #[schema(value_type = EnrollmentName)]
    pub enrollment: &'static str,
    /// Keys of the account-wide roles people enrolled automatically get.
    pub default_roles: Vec<String>,
    /// The groups people enrolled automatically are put in.
    pub default_groups: Vec<Uuid>,
}

/// How people with an email at a verified domain come in.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case", example = "suggest")]
#[allow(dead_code)] // only its schema is used: requests parse the text
pub enum EnrollmentName {
    Manual,
    Suggest,
    Automatic,
}

/// A claimed domain with what people enrolled through it receive.
struct Claimed(AccountDomain, EnrollmentDefaults);

fn with_defaults(conn: &mut DbConnection, domain: AccountDomain) -> Result<Claimed, StoreError> {
    let defaults = store::enrollment_defaults(conn, domain.id)?;
    Ok(Claimed(domain, defaults))
}

/// The record `claimed` is verified by.
fn record_of(claimed: &AccountDomain) -> Result<TxtRecord, ApiError> {
    flows::record(claimed).ok_or_else(|| ApiError::internal(format!("stored domain {} is not a domain", claimed.id)))
}

impl DomainView {
    fn of(Claimed(claimed, defaults): Claimed) -> Result<Self, ApiError> {
        let TxtRecord { name, value } = record_of(&claimed)?;
        Ok(DomainView {
            id: claimed.id,
            status: if claimed.verified_at.is_some() { DomainStatus::Verified } else { DomainStatus::Pending },
            domain: claimed.domain,
            record: VerificationRecord { r#type: "TXT", name, value },
            verified_at: claimed.verified_at,
            checked_at: claimed.checked_at,
            record_missing_since: claimed.missing_since,
            created_at: claimed.created_at,
            enrollment: claimed.enrollment.key(),
            default_roles: defaults.roles.into_iter().map(|(_, key)| key).collect(),
            default_groups: defaults.groups,
        })
    }
}

#[derive(Serialize, ToSchema)]
pub struct DomainList {
    /// Oldest first.
    pub items: Vec<DomainView>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"domain": "acme.example"}))]
pub struct AddDomainRequest {
    #[schema(schema_with = domain_schema)]
    pub domain: String,
}

/// Claim an email domain for the account. The answer names the DNS TXT
/// record to publish; then `POST …/domains/{domain_id}/verify`.
#[utoipa::path(
    tag = "domains", operation_id = "add_domain", security(("bearer" = [])), request_body = AddDomainRequest,
    params(("account_id" = Uuid, Path, description = "The account")),
    responses(
        (status = 201, description = "Claimed, pending verification; `Location` names it", body = DomainView),
        (status = 409, description = "Another account verified the domain (`domain_taken`), or this one claimed it already (`domain_exists`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`, the field errors naming a domain that is not a domain name (`domain`: `invalid_domain`) or a public mail provider's (`public_email_domain`)", body = Problem, content_type = "application/problem+json"),
    ),
    extensions(("x-authorization" = json!(MANAGE.needs(Feature::VerifiedDomains))))
)]
#[post("/domains")]
pub async fn add_domain(
    state: web::Data<AppState>,
    member: AccountMember,
    origin: Origin,
    body: JsonBody<AddDomainRequest>,
) -> Result<HttpResponse, ApiError> {
    let domain =
        EmailDomain::parse(&body.0.domain).map_err(|e| ApiError::Validation(vec![field_error("domain", e)]))?;
    let (account, token) = (member.account_id, crate::auth::secrets::domain_verification_token());
    let claimed =
        state.flow(member.actor(), origin, move |conn, ctx| flows::add(conn, ctx, account, &domain, &token)).await?;
    let location = format!("/v1/accounts/{account}/domains/{}", claimed.id);
    let view = DomainView::of(Claimed(claimed, EnrollmentDefaults::default()))?;
    Ok(HttpResponse::Created().insert_header((header::LOCATION, location)).json(view))
}

/// The account's email domains.
#[utoipa::path(
    tag = "domains", operation_id = "list_domains", security(("bearer" = [])),
    params(("account_id" = Uuid, Path, description = "The account")),
    responses((status = 200, description = "The domains", body = DomainList)),
    extensions(("x-authorization" = json!(READ)))
)]
#[get("/domains")]
pub async fn list_domains(state: web::Data<AppState>, member: AccountMember) -> Result<HttpResponse, ApiError> {
    let account = member.account_id;
    let found = state
        .db(move |conn| {
            let domains = store::list(conn, account)?;
            Ok(domains.into_iter().map(|domain| with_defaults(conn, domain)).collect::<Result<Vec<_>, _>>()?)
        })
        .await?;
    let items = found.into_iter().map(DomainView::of).collect::<Result<_, _>>()?;
    Ok(HttpResponse::Ok().json(DomainList { items }))
}

/// One email domain of the account, with its record.
#[utoipa::path(
    tag = "domains", operation_id = "get_domain", security(("bearer" = [])),
    params(("account_id" = Uuid, Path, description = "The account"), ("domain_id" = Uuid, Path, description = "The domain")),
    responses((status = 200, description = "The domain", body = DomainView)),
    extensions(("x-authorization" = json!(READ)))
)]
#[get("/domains/{domain_id}")]
pub async fn get_domain(
    state: web::Data<AppState>,
    member: AccountMember,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let ((account, id), _) = (path.into_inner(), member);
    Ok(HttpResponse::Ok().json(DomainView::of(load(&state, account, id).await?)?))
}

async fn load(state: &AppState, account: Uuid, id: Uuid) -> Result<Claimed, ApiError> {
    state
        .db(move |conn| {
            let domain = store::find(conn, account, id)?.ok_or(ApiError::NotFound)?;
            Ok(with_defaults(conn, domain)?)
        })
        .await
}

const MAX_DEFAULT_ROLES: usize = 10;

fn default_roles_schema() -> utoipa::openapi::Array {
    let mut schema = optional_role_keys_schema(MAX_DEFAULT_ROLES);
    schema.description = Some(
        "Keys of account-wide roles automatic members get, each one you may\ngive yourself; omitted keeps them.".into(),
    );
    schema
}
const MAX_DEFAULT_GROUPS: usize = 20;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"enrollment": "automatic", "default_roles": ["developer"], "default_groups": []}))]
pub struct UpdateDomainRequest {
    /// `manual`, `suggest` or `automatic`; omitted keeps it.
    #[schema(value_type = Option<EnrollmentName>)]
    pub enrollment: Option<String>,
    /// Keys of account-wide roles automatic members get (described in
    /// `default_roles_schema`, which `schema_with` makes the only source).
    #[schema(schema_with = default_roles_schema)]
    pub default_roles: Option<Vec<String>>,
    /// Groups automatic members are put in; omitted keeps them.
    #[schema(max_items = 20)] // MAX_DEFAULT_GROUPS
    pub default_groups: Option<Vec<Uuid>>,
}

/// Say who with an email at the domain comes in by themselves and what
/// they receive. Takes effect while the domain is verified.
#[utoipa::path(
    tag = "domains", operation_id = "update_domain", security(("bearer" = [])), request_body = UpdateDomainRequest,
    params(("account_id" = Uuid, Path, description = "The account"), ("domain_id" = Uuid, Path, description = "The domain")),
    responses(
        (status = 200, description = "Updated", body = DomainView),
        (status = 403, description = "A default role carries a permission you do not hold yourself (`forbidden`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: an unknown enrollment (`enrollment`: `unknown_enrollment`), role (`default_roles`: `unknown_role`) or group (`default_groups`: `unknown_group`), or more than 10 roles or 20 groups (`too_many`)", body = Problem, content_type = "application/problem+json"),
    ),
    extensions(("x-authorization" = json!(MANAGE.needs(Feature::VerifiedDomains))))
)]
#[patch("/domains/{domain_id}")]
pub async fn update_domain(
    state: web::Data<AppState>,
    member: AccountMember,
    origin: Origin,
    path: web::Path<(Uuid, Uuid)>,
    body: JsonBody<UpdateDomainRequest>,
) -> Result<HttpResponse, ApiError> {
    let (account, id) = path.into_inner();
    let request = body.0;
    let enrollment = request
        .enrollment
        .as_deref()
        .map(Enrollment::parse)
        .transpose()
        .map_err(|e| ApiError::Validation(vec![field_error("enrollment", e)]))?;
    let too_many = |field: &'static str, max: usize, given: Option<usize>| {
        given
            .filter(|count| *count > max)
            .map(|_| field_error(field, InvalidValue::new("too_many", format!("At most {max}."))))
    };
    let errors: Vec<_> = [
        too_many("default_roles", MAX_DEFAULT_ROLES, request.default_roles.as_ref().map(Vec::len)),
        too_many("default_groups", MAX_DEFAULT_GROUPS, request.default_groups.as_ref().map(Vec::len)),
    ]
    .into_iter()
    .flatten()
    .collect();
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let Claimed(current, defaults) = load(&state, account, id).await?;
    let change = EnrollmentChange {
        enrollment: enrollment.unwrap_or(current.enrollment),
        roles: request.default_roles.unwrap_or_else(|| defaults.roles.into_iter().map(|(_, key)| key).collect()),
        groups: request.default_groups.unwrap_or(defaults.groups),
    };
    let by = member.grantor();
    let updated = state
        .flow(member.actor(), origin, move |conn, ctx| {
            let domain = enrollment::configure(conn, ctx, &by, id, &change)?;
            Ok::<_, ApiError>(with_defaults(conn, domain)?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(DomainView::of(updated)?))
}

/// Verify a domain: Roster looks up its TXT record now and, found, marks
/// the domain verified.
#[utoipa::path(
    tag = "domains", operation_id = "verify_domain", security(("bearer" = [])),
    params(("account_id" = Uuid, Path, description = "The account"), ("domain_id" = Uuid, Path, description = "The domain")),
    responses(
        (status = 200, description = "Verified", body = DomainView),
        (status = 409, description = "The record is not published, or not yet visible (`verification_record_not_found`), or another account verified the domain first (`domain_taken`)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The DNS lookup failed (`unavailable`): try again later", body = Problem, content_type = "application/problem+json"),
    ),
    extensions(("x-authorization" = json!(MANAGE.needs(Feature::VerifiedDomains))))
)]
#[post("/domains/{domain_id}/verify")]
pub async fn verify_domain(
    state: web::Data<AppState>,
    member: AccountMember,
    origin: Origin,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let (account, id) = path.into_inner();
    let claimed = state.db(move |conn| store::find(conn, account, id)?.ok_or(ApiError::NotFound)).await?;
    let record = record_of(&claimed)?;
    let published = state.dns.txt(&record.name).await.map_err(|e| ApiError::Unavailable(e.to_string()))?;
    let found = record.found_in(&published);
    let verified = state
        .flow(member.actor(), origin, move |conn, ctx| {
            let domain = flows::confirm(conn, ctx, account, id, found)?;
            Ok::<_, ApiError>(with_defaults(conn, domain)?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(DomainView::of(verified)?))
}

/// Remove a domain from the account: it is no longer verified for it.
#[utoipa::path(
    tag = "domains", operation_id = "delete_domain", security(("bearer" = [])),
    params(("account_id" = Uuid, Path, description = "The account"), ("domain_id" = Uuid, Path, description = "The domain")),
    responses((status = 204, description = "Removed")),
    extensions(("x-authorization" = json!(MANAGE)))
)]
#[delete("/domains/{domain_id}")]
pub async fn delete_domain(
    state: web::Data<AppState>,
    member: AccountMember,
    origin: Origin,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let (account, id) = path.into_inner();
    state.flow(member.actor(), origin, move |conn, ctx| flows::remove(conn, ctx, account, id)).await?;
    Ok(HttpResponse::NoContent().finish())
}
