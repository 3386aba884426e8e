//! The operator API: what whoever runs the deployment (or its billing
//! system) does to accounts, authenticated by the operator token rather
//! than by a user. It is off until `ROSTER_OPERATOR_TOKEN_SHA256` is set.

use actix_web::{HttpResponse, get, put, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::accounts::{PlanView, plan_view};
use crate::flows::accounts as flows;
use crate::flows::{Actor, Origin};
use crate::http::caller::Operator;
use crate::http::extract::JsonBody;
use crate::http::problem::{ApiError, Problem, field_error};
use crate::http::state::{AppState, RunFlow};

/// Which plan to put the account on.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"plan": "professional"}))]
pub struct SetPlanRequest {
    /// The key of a plan of the deployment's plans file.
    #[schema(min_length = 1, max_length = 64)]
    pub plan: String,
}

/// An account's plan and seats, as the operator sees it.
#[utoipa::path(
    tag = "operator", operation_id = "operator_get_account_plan", security(("operator" = [])),
    params(("account" = Uuid, Path, description = "The account")),
    responses(
        (status = 200, description = "The plan", body = PlanView),
        (status = 404, description = "No such account (`not_found`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/operator/accounts/{account}/plan")]
pub async fn operator_get_account_plan(
    state: web::Data<AppState>,
    _operator: Operator,
    account: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(plan_view(&state, account.into_inner()).await?))
}

/// Put an account on a plan, the way a billing system would. A downgrade
/// removes nobody: it refuses new seats past the limit and the features the
/// plan lacks. Recorded in the account's audit log with actor `operator`.
#[utoipa::path(
    tag = "operator", operation_id = "operator_set_account_plan", security(("operator" = [])),
    request_body = SetPlanRequest,
    params(("account" = Uuid, Path, description = "The account")),
    responses(
        (status = 200, description = "The account's plan now", body = PlanView),
        (status = 404, description = "No such account (`not_found`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[put("/operator/accounts/{account}/plan")]
pub async fn operator_set_account_plan(
    state: web::Data<AppState>,
    _operator: Operator,
    account: web::Path<Uuid>,
    origin: Origin,
    body: JsonBody<SetPlanRequest>,
) -> Result<HttpResponse, ApiError> {
    let account = account.into_inner();
    let plan = body.0.plan;
    state.flow(Actor::Operator, origin, move |conn, ctx| flows::set_plan(conn, ctx, account, &plan)).await?;
    Ok(HttpResponse::Ok().json(plan_view(&state, account).await?))
}

/// The email templates there are.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"items": ["invitation", "password_reset"]}))]
pub struct EmailTemplateList {
    /// Template names: each is the files `NAME.subject`, `NAME.txt` and
    /// `NAME.html`, which `ROSTER_EMAIL_TEMPLATES_DIR` may replace.
    pub items: Vec<&'static str>,
}

/// Name every email template.
#[utoipa::path(
    tag = "operator", operation_id = "operator_list_email_templates", security(("operator" = [])),
    responses((status = 200, description = "The templates", body = EmailTemplateList))
)]
#[get("/operator/email-templates")]
pub async fn operator_list_email_templates(_operator: Operator) -> HttpResponse {
    HttpResponse::Ok().json(EmailTemplateList { items: crate::email::render::EmailRenderer::names() })
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PreviewQuery {
    /// The reader's language (BCP 47, such as `de-AT`); the deployment's
    /// default language without it.
    #[param(max_length = 35, pattern = "^[A-Za-z0-9-]{1,35}$", example = "de")]
    pub locale: Option<String>,
}

/// An email as the deployment writes it, with sample data.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({
    "template": "password_changed", "language": "de",
    "subject": "Ihr Roster-Passwort wurde geändert",
    "text": "Das Passwort Ihres Roster-Kontos wurde soeben geändert …",
    "html": "<!doctype html>…"
}))]
pub struct EmailPreview {
    pub template: String,
    /// The shipped language it is written in, after falling back from the
    /// one asked for.
    pub language: String,
    pub subject: String,
    /// The text part.
    pub text: String,
    /// The HTML part.
    pub html: String,
}

/// Render an email template with sample data, with the deployment's brand
/// and template overrides, without sending anything: what a designer
/// checks a template with.
#[utoipa::path(
    tag = "operator", operation_id = "operator_preview_email_template", security(("operator" = [])),
    params(("template" = String, Path, description = "The template's name, as listed"), PreviewQuery),
    responses(
        (status = 200, description = "The rendered email", body = EmailPreview),
        (status = 404, description = "No such template (`not_found`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`locale` is not a language tag (`validation_failed`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/operator/email-templates/{template}/preview")]
pub async fn operator_preview_email_template(
    state: web::Data<AppState>,
    _operator: Operator,
    template: web::Path<String>,
    query: web::Query<PreviewQuery>,
) -> Result<HttpResponse, ApiError> {
    let locale = query
        .locale
        .as_deref()
        .map(domain::Locale::parse)
        .transpose()
        .map_err(|e| ApiError::Validation(vec![field_error("locale", e)]))?;
    let template = template.into_inner();
    let rendered = state.deployment.emails.preview(&template, locale.as_ref()).ok_or(ApiError::NotFound)?;
    let rendered = rendered.map_err(|error| ApiError::Internal(format!("email template: {error}")))?;
    Ok(HttpResponse::Ok().json(EmailPreview {
        template,
        language: rendered.language,
        subject: rendered.subject,
        text: rendered.text,
        html: rendered.html,
    }))
}

/// The audit log of an erased account, kept sealed after its erasure.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({
    "account_id": "01937a2e-1111-7000-8000-000000000001", "erased_at": "2026-12-07T10:00:00Z", "events": 1342,
    "remove_after": "2027-12-07T10:00:00Z", "verified": true, "broken": null
}))]
pub struct AuditArchive {
    pub account_id: Uuid,
    pub erased_at: DateTime<Utc>,
    /// How many of its events are kept.
    pub events: i64,
    /// When the clean-up job removes its events (`ROSTER_AUDIT_ARCHIVE_DAYS`
    /// after the erasure; none: kept like other events).
    pub remove_after: Option<DateTime<Utc>>,
    /// Whether its chain verifies from its anchor to its sealed checkpoint,
    /// as `roster audit verify` checks.
    pub verified: bool,
    /// The first event that does not hold, when it does not verify.
    pub broken: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct AuditArchiveList {
    pub items: Vec<AuditArchive>,
}

/// The audit logs of erased accounts, verified.
///
/// An erased account's log stays, sealed, for `ROSTER_AUDIT_ARCHIVE_DAYS`
/// (365) after its erasure; each is verified as it is listed.
#[utoipa::path(
    tag = "operator", operation_id = "operator_list_audit_archives", security(("operator" = [])),
    responses((status = 200, description = "Every archive, oldest erasure first", body = AuditArchiveList))
)]
#[get("/operator/audit-archives")]
pub async fn operator_list_audit_archives(
    state: web::Data<AppState>,
    _operator: Operator,
) -> Result<HttpResponse, ApiError> {
    let deployment = state.deployment.clone();
    let keep = deployment.audit_archive;
    let items = state
        .db(move |conn| {
            let mut items = Vec::new();
            for archive in persistence::audit::archives(conn)? {
                let verified = persistence::audit::verify(conn, &archive.chain, &deployment.secrets)?;
                items.push(AuditArchive {
                    account_id: archive.chain.parse().unwrap_or_default(),
                    erased_at: archive.erased_at,
                    events: archive.events,
                    remove_after: keep.map(|keep| archive.erased_at + keep),
                    verified: verified.is_ok(),
                    broken: verified.err().map(|link| link.to_string()),
                });
            }
            Ok(items)
        })
        .await?;
    Ok(HttpResponse::Ok().json(AuditArchiveList { items }))
}

/// The events of an erased account's audit log.
///
/// Newest first, as JSON Lines (or CSV with `format=csv`), streamed: the
/// same shape as the account's own export had.
#[utoipa::path(
    tag = "operator", operation_id = "operator_export_audit_archive", security(("operator" = [])),
    params(("account" = Uuid, Path, description = "The erased account"), super::audit::ExportFormat),
    responses(
        (status = 200, description = "Every event", content((String = "application/x-ndjson"), (String = "text/csv"))),
        (status = 404, description = "No archive of that account (`not_found`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/operator/audit-archives/{account}/events")]
pub async fn operator_export_audit_archive(
    state: web::Data<AppState>,
    _operator: Operator,
    account: web::Path<Uuid>,
    format: web::Query<super::audit::ExportFormat>,
) -> Result<HttpResponse, ApiError> {
    let account = account.into_inner();
    let archived = state
        .db(move |conn| {
            Ok(persistence::audit::archives(conn)?.into_iter().any(|archive| archive.chain == account.to_string()))
        })
        .await?;
    if !archived {
        return Err(ApiError::NotFound);
    }
    let format = format.format.unwrap_or(super::audit::Format::Jsonl);
    Ok(super::audit::stream_chain(state, account, persistence::audit::EventFilter::default(), format))
}
