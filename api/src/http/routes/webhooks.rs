//! Webhook endpoints of an account, their deliveries, and redelivery.
//! Everything here needs `webhooks:manage`.

use actix_web::http::header;
use actix_web::{HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use domain::access::Requirement;
use domain::audit::AuditAction;
use domain::plan::Feature;
use domain::{Description, InvalidValue, Permission};
use persistence::webhooks::{self as store, Delivery, Endpoint};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::flows::Origin;
use crate::flows::webhooks::{self as flows, EndpointDraft, EndpointPatch, Revealed};
use crate::http::access::AccountMember;
use crate::http::extract::JsonBody;
use crate::http::headers::no_store;
use crate::http::pagination::{PageQuery, page_cursor};
use crate::http::problem::{ApiError, FieldError, Problem, field_error};
use crate::http::routes::audit::AuditActionName;
use crate::http::schemas::{
    free_text_or_null_schema, free_text_schema, webhook_url_or_null_schema, webhook_url_schema,
};
use crate::http::state::{AppState, RunFlow};
use crate::outbound::{self, UrlRefused};

#[derive(Serialize, ToSchema)]
#[schema(as = Webhook, example = json!({
    "id": "01937a2e-d000-7000-8000-000000000001", "url": "https://hooks.example.com/roster",
    "description": "Sync members to our CRM", "event_types": ["member.joined", "member.removed"],
    "enabled": true, "disabled_reason": null, "previous_secret_signs_until": null,
    "created_at": "2026-11-22T10:00:00Z", "updated_at": "2026-11-22T10:00:00Z"
}))]
pub struct WebhookView {
    pub id: Uuid,
    pub url: String,
    pub description: String,
    /// The audit actions this endpoint receives.
    #[schema(value_type = Vec<AuditActionName>)]
    pub event_types: Vec<String>,
    pub enabled: bool,
    /// Why Roster stopped sending (it failed for days, or answered 410).
    pub disabled_reason: Option<String>,
    /// After a rotation, deliveries are signed with the old secret too until then.
    pub previous_secret_signs_until: Option<DateTime<Utc>>,
    /// The signing secret (`whsec_…`): only in the answers of create and
    /// rotate-secret, and never again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl WebhookView {
    fn new(endpoint: Endpoint, secret: Option<String>) -> Self {
        WebhookView {
            id: endpoint.id,
            url: endpoint.url,
            description: endpoint.description,
            event_types: endpoint.event_types,
            enabled: endpoint.enabled,
            disabled_reason: endpoint.disabled_reason,
            previous_secret_signs_until: endpoint.previous_secret.map(|(_, until)| until),
            secret,
            created_at: endpoint.created_at,
            updated_at: endpoint.updated_at,
        }
    }

    fn revealed(revealed: Revealed) -> Self {
        Self::new(revealed.endpoint, Some(revealed.secret))
    }
}

#[derive(Serialize, ToSchema)]
pub struct WebhookPage {
    pub items: Vec<WebhookView>,
    pub next_cursor: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"url": "https://hooks.example.com/roster", "event_types": ["member.joined", "member.removed"], "description": "Sync members to our CRM"}))]
pub struct CreateWebhookRequest {
    #[schema(schema_with = webhook_url_schema)]
    pub url: String,
    /// The audit actions to receive; at least one.
    #[schema(value_type = Vec<AuditActionName>, min_items = 1)]
    pub event_types: Vec<String>,
    /// At most 1,000 characters.
    #[schema(schema_with = free_text_schema)]
    #[serde(default)]
    pub description: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"enabled": true, "event_types": ["member.removed"]}))]
pub struct UpdateWebhookRequest {
    #[schema(schema_with = webhook_url_or_null_schema)]
    pub url: Option<String>,
    #[schema(value_type = Option<Vec<AuditActionName>>, min_items = 1)]
    pub event_types: Option<Vec<String>>,
    #[schema(schema_with = free_text_or_null_schema)]
    pub description: Option<String>,
    /// `false` stops deliveries; `true` starts them again and forgets past failures.
    pub enabled: Option<bool>,
}

fn url_error(refused: UrlRefused) -> FieldError {
    let message = match &refused {
        UrlRefused::NotHttps => "Use an https URL.".to_owned(),
        UrlRefused::NotPublic(address) => {
            format!(
                "Webhooks cannot be sent to {address}: loopback, private, link-local and metadata addresses are refused."
            )
        }
        other => format!("Enter a URL like https://hooks.example.com/roster ({other})."),
    };
    field_error("url", InvalidValue::new(refused.code(), message))
}

async fn check_url(state: &AppState, raw: &str, errors: &mut Vec<FieldError>) -> Option<String> {
    match outbound::check_url(raw, state.reach).await {
        Ok(url) => Some(url.to_string()),
        Err(refused) => {
            errors.push(url_error(refused));
            None
        }
    }
}

fn event_types(raw: &[String], errors: &mut Vec<FieldError>) -> Option<Vec<AuditAction>> {
    domain::webhook::parse_event_types(raw).map_err(|e| errors.push(field_error("event_types", e))).ok()
}

fn description(raw: &str, errors: &mut Vec<FieldError>) -> Option<String> {
    Description::parse(raw).map(Description::into_inner).map_err(|e| errors.push(field_error("description", e))).ok()
}

/// Add a webhook endpoint; the answer carries its signing secret, once.
///
/// Deliveries follow the Standard Webhooks specification: a POST of
/// `{type, timestamp, data}` with `webhook-id`, `webhook-timestamp` and
/// `webhook-signature` (`v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`).
#[utoipa::path(
    tag = "webhooks", operation_id = "create_webhook", security(("bearer" = [])), request_body = CreateWebhookRequest,
    params(("account_id" = Uuid, Path, description = "The account")),
    responses(
        (status = 201, description = "The endpoint with its secret; `Location` names it", body = WebhookView),
        (status = 422, description = "`validation_failed`, the field errors naming an invalid URL (`url`: `invalid_url`, `https_required`, `private_address`), unknown event types or too long a description", body = Problem, content_type = "application/problem+json"),
    ),
    extensions(("x-authorization" = json!(Requirement::account(Permission::WebhooksManage).needs(Feature::Webhooks))))
)]
#[post("/webhooks")]
pub async fn create_webhook(
    state: web::Data<AppState>,
    member: AccountMember,
    origin: Origin,
    body: JsonBody<CreateWebhookRequest>,
) -> Result<HttpResponse, ApiError> {
    let request = body.0;
    let mut errors = Vec::new();
    let url = check_url(&state, &request.url, &mut errors).await;
    let types = event_types(&request.event_types, &mut errors);
    let description = description(&request.description, &mut errors);
    let (Some(url), Some(event_types), Some(description)) = (url, types, description) else {
        return Err(ApiError::Validation(errors));
    };
    let (by, account) = (member.grantor(), member.account_id);
    let draft = EndpointDraft { url, description, event_types };
    let revealed = state.flow(member.actor(), origin, move |conn, ctx| flows::create(conn, ctx, &by, draft)).await?;
    let location = format!("/v1/accounts/{account}/webhooks/{}", revealed.endpoint.id);
    Ok(no_store(
        HttpResponse::Created().insert_header((header::LOCATION, location)).json(WebhookView::revealed(revealed)),
    ))
}

/// The account's webhook endpoints, oldest first.
#[utoipa::path(
    tag = "webhooks", operation_id = "list_webhooks", security(("bearer" = [])),
    params(("account_id" = Uuid, Path, description = "The account"), PageQuery),
    responses((status = 200, description = "A page of endpoints", body = WebhookPage)),
    extensions(("x-authorization" = json!(Requirement::account(Permission::WebhooksManage))))
)]
#[get("/webhooks")]
pub async fn list_webhooks(
    state: web::Data<AppState>,
    member: AccountMember,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let (limit, after, account) = (page.limit()?, page.cursor()?, member.account_id);
    let mut rows = state.db(move |conn| Ok(store::list(conn, account, after, limit + 1)?)).await?;
    let next_cursor = page_cursor(&mut rows, limit, |endpoint| endpoint.id.to_string());
    let items = rows.into_iter().map(|endpoint| WebhookView::new(endpoint, None)).collect();
    Ok(HttpResponse::Ok().json(WebhookPage { items, next_cursor }))
}

/// One webhook endpoint (without its secret).
#[utoipa::path(
    tag = "webhooks", operation_id = "get_webhook", security(("bearer" = [])),
    params(("account_id" = Uuid, Path, description = "The account"), ("webhook_id" = Uuid, Path, description = "The endpoint")),
    responses((status = 200, description = "The endpoint", body = WebhookView)),
    extensions(("x-authorization" = json!(Requirement::account(Permission::WebhooksManage))))
)]
#[get("/webhooks/{webhook_id}")]
pub async fn get_webhook(
    state: web::Data<AppState>,
    _member: AccountMember,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let (account, id) = path.into_inner();
    let endpoint = state.db(move |conn| Ok(store::find(conn, account, id)?)).await?.ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Ok().json(WebhookView::new(endpoint, None)))
}

/// Change, disable or enable an endpoint; omitted fields keep their value.
#[utoipa::path(
    tag = "webhooks", operation_id = "update_webhook", security(("bearer" = [])), request_body = UpdateWebhookRequest,
    params(("account_id" = Uuid, Path, description = "The account"), ("webhook_id" = Uuid, Path, description = "The endpoint")),
    responses(
        (status = 200, description = "The endpoint", body = WebhookView),
        (status = 422, description = "`validation_failed`, the field errors naming an invalid URL (`url`: `invalid_url`, `https_required`, `private_address`), unknown event types or too long a description", body = Problem, content_type = "application/problem+json"),
    ),
    extensions(("x-authorization" = json!(Requirement::account(Permission::WebhooksManage))))
)]
#[patch("/webhooks/{webhook_id}")]
pub async fn update_webhook(
    state: web::Data<AppState>,
    member: AccountMember,
    origin: Origin,
    path: web::Path<(Uuid, Uuid)>,
    body: JsonBody<UpdateWebhookRequest>,
) -> Result<HttpResponse, ApiError> {
    let (account, id) = path.into_inner();
    let request = body.0;
    let mut errors = Vec::new();
    let mut patch = EndpointPatch { enabled: request.enabled, ..EndpointPatch::default() };
    if let Some(raw) = &request.url {
        patch.url = check_url(&state, raw, &mut errors).await;
    }
    if let Some(raw) = &request.event_types {
        patch.event_types = event_types(raw, &mut errors);
    }
    if let Some(raw) = &request.description {
        patch.description = description(raw, &mut errors);
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let endpoint =
        state.flow(member.actor(), origin, move |conn, ctx| flows::update(conn, ctx, account, id, patch)).await?;
    Ok(HttpResponse::Ok().json(WebhookView::new(endpoint, None)))
}

/// Delete an endpoint and its delivery log.
#[utoipa::path(
    tag = "webhooks", operation_id = "delete_webhook", security(("bearer" = [])),
    params(("account_id" = Uuid, Path, description = "The account"), ("webhook_id" = Uuid, Path, description = "The endpoint")),
    responses((status = 204, description = "Deleted")),
    extensions(("x-authorization" = json!(Requirement::account(Permission::WebhooksManage))))
)]
#[delete("/webhooks/{webhook_id}")]
pub async fn delete_webhook(
    state: web::Data<AppState>,
    member: AccountMember,
    origin: Origin,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let (account, id) = path.into_inner();
    state.flow(member.actor(), origin, move |conn, ctx| flows::delete(conn, ctx, account, id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Replace the signing secret; the answer carries the new one, once.
///
/// For 24 hours deliveries carry a signature made with the old secret
/// beside the new one, so receivers can switch without missing a beat.
#[utoipa::path(
    tag = "webhooks", operation_id = "rotate_webhook_secret", security(("bearer" = [])),
    params(("account_id" = Uuid, Path, description = "The account"), ("webhook_id" = Uuid, Path, description = "The endpoint")),
    responses((status = 200, description = "The endpoint with its new secret", body = WebhookView)),
    extensions(("x-authorization" = json!(Requirement::account(Permission::WebhooksManage))))
)]
#[post("/webhooks/{webhook_id}/rotate-secret")]
pub async fn rotate_webhook_secret(
    state: web::Data<AppState>,
    member: AccountMember,
    origin: Origin,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let (account, id) = path.into_inner();
    let revealed =
        state.flow(member.actor(), origin, move |conn, ctx| flows::rotate_secret(conn, ctx, account, id)).await?;
    Ok(no_store(HttpResponse::Ok().json(WebhookView::revealed(revealed))))
}

#[derive(Serialize, ToSchema)]
#[schema(as = WebhookDelivery, example = json!({
    "id": "01937a2e-e000-7000-8000-000000000001", "event_id": "01937a2e-c000-7000-8000-000000000001",
    "event_type": "member.removed", "status": "succeeded", "attempts": 1, "last_status_code": 204,
    "last_error": null, "last_duration_ms": 38, "created_at": "2026-11-22T10:00:00Z", "last_attempt_at": "2026-11-22T10:00:01Z"
}))]
pub struct DeliveryView {
    /// Sent as `webhook-id`; the same on every attempt.
    pub id: Uuid,
    /// The audit event delivered.
    pub event_id: Uuid,
    #[schema(value_type = AuditActionName)]
    pub event_type: String,
    /// `pending` (more attempts to come), `succeeded` or `failed`.
    #[schema(value_type = DeliveryStatusName)]
    pub status: String,
    pub attempts: i32,
    pub last_status_code: Option<i32>,
    pub last_error: Option<String>,
    pub last_duration_ms: Option<i32>,
    pub created_at: DateTime<Utc>,
    pub last_attempt_at: Option<DateTime<Utc>>,
}

/// Where a webhook delivery stands.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case", example = "succeeded")]
#[allow(dead_code)] // only its schema is used: the view carries the text
pub enum DeliveryStatusName {
    Pending,
    Succeeded,
    Failed,
}

impl From<Delivery> for DeliveryView {
    fn from(delivery: Delivery) -> Self {
        DeliveryView {
            id: delivery.id.parse().unwrap_or_default(),
            event_id: delivery.event_id.parse().unwrap_or_default(),
            event_type: delivery.event_type,
            status: delivery.status,
            attempts: delivery.attempts,
            last_status_code: delivery.last_status_code,
            last_error: delivery.last_error,
            last_duration_ms: delivery.last_duration_ms,
            created_at: persistence::time::from_db(delivery.created_at),
            last_attempt_at: delivery.last_attempt_at.map(persistence::time::from_db),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct DeliveryPage {
    pub items: Vec<DeliveryView>,
    pub next_cursor: Option<String>,
}

/// An endpoint's delivery log, newest first.
#[utoipa::path(
    tag = "webhooks", operation_id = "list_webhook_deliveries", security(("bearer" = [])),
    params(("account_id" = Uuid, Path, description = "The account"), ("webhook_id" = Uuid, Path, description = "The endpoint"), PageQuery),
    responses((status = 200, description = "A page of deliveries", body = DeliveryPage)),
    extensions(("x-authorization" = json!(Requirement::account(Permission::WebhooksManage))))
)]
#[get("/webhooks/{webhook_id}/deliveries")]
pub async fn list_webhook_deliveries(
    state: web::Data<AppState>,
    _member: AccountMember,
    path: web::Path<(Uuid, Uuid)>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let (account, id) = path.into_inner();
    let (limit, before) = (page.limit()?, page.cursor()?);
    let mut rows = state
        .db(move |conn| {
            store::find(conn, account, id)?.ok_or(ApiError::NotFound)?;
            Ok(store::deliveries(conn, id, before, limit + 1)?)
        })
        .await?;
    let next_cursor = page_cursor(&mut rows, limit, |delivery| delivery.id.clone());
    Ok(HttpResponse::Ok().json(DeliveryPage { items: rows.into_iter().map(DeliveryView::from).collect(), next_cursor }))
}

/// Send one delivery again, under its original `webhook-id`.
#[utoipa::path(
    tag = "webhooks", operation_id = "redeliver_webhook_delivery", security(("bearer" = [])),
    params(("account_id" = Uuid, Path, description = "The account"), ("webhook_id" = Uuid, Path, description = "The endpoint"), ("delivery_id" = Uuid, Path, description = "The delivery")),
    responses(
        (status = 202, description = "Queued again", body = DeliveryView),
        (status = 409, description = "The endpoint is disabled (`webhook_disabled`)", body = Problem, content_type = "application/problem+json"),
    ),
    extensions(("x-authorization" = json!(Requirement::account(Permission::WebhooksManage))))
)]
#[post("/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver")]
pub async fn redeliver_webhook_delivery(
    state: web::Data<AppState>,
    member: AccountMember,
    origin: Origin,
    path: web::Path<(Uuid, Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let (account, endpoint, delivery) = path.into_inner();
    let queued = state
        .flow(member.actor(), origin, move |conn, ctx| flows::redeliver(conn, ctx, account, endpoint, delivery))
        .await?;
    Ok(HttpResponse::Accepted().json(DeliveryView::from(queued)))
}
