//! Join requests: reviewed by the account, listed and withdrawn by the
//! requester.

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use domain::Permission;
use domain::access::Requirement;
use domain::join::{self, JoinRequestStatus};
use persistence::join_requests::{self, JoinRequest, Scope};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::flows::joins as flows;
use crate::flows::{Actor, Origin};
use crate::http::access::AccountMember;
use crate::http::caller::CurrentUser;
use crate::http::extract::JsonBody;
use crate::http::pagination::{PageQuery, page_cursor};
use crate::http::problem::{ApiError, Problem, field_error};
use crate::http::routes::members::AssignmentRequest;
use crate::http::schemas::free_text_or_null_schema;
use crate::http::state::{AppState, RunFlow};

#[derive(Serialize, ToSchema)]
#[schema(as = JoinRequest, example = json!({
    "id": "01937a2e-a000-7000-8000-000000000001", "account_id": "01937a2e-4c1d-7b6a-9f3e-2a1b0c9d8e7f", "account_name": "Acme",
    "user_id": "01937a2e-5000-7000-8000-000000000002", "email": "grace@example.com", "first_name": "Grace", "last_name": "Hopper",
    "message": "I joined the EMEA sales team last week.", "status": "pending", "group_id": null,
    "created_at": "2026-11-22T10:00:00Z", "decided_at": null, "decided_by": null, "reason": null
}))]
pub struct JoinRequestView {
    pub id: Uuid,
    pub account_id: Uuid,
    pub account_name: String,
    /// The requester.
    pub user_id: Uuid,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub message: String,
    /// `pending`, `approved`, `denied` or `withdrawn`.
    #[schema(value_type = JoinRequestStatusName)]
    pub status: &'static str,
    /// The group of the link the request came through; approval adds the requester to it.
    pub group_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decided_by: Option<Uuid>,
    /// The reason given with a denial.
    pub reason: Option<String>,
}

impl From<JoinRequest> for JoinRequestView {
    fn from(request: JoinRequest) -> Self {
        JoinRequestView {
            id: request.id,
            account_id: request.account_id,
            account_name: request.account_name,
            user_id: request.requester.user_id,
            email: request.requester.email,
            first_name: request.requester.first_name,
            last_name: request.requester.last_name,
            message: request.message,
            status: request.status.key(),
            group_id: request.group_id,
            created_at: request.created_at,
            decided_at: request.decided_at,
            decided_by: request.decided_by,
            reason: request.reason,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct JoinRequestPage {
    pub items: Vec<JoinRequestView>,
    pub next_cursor: Option<String>,
}

/// Where a join request stands.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case", example = "pending")]
#[allow(dead_code)] // only its schema is used: the filter parses the text
pub enum JoinRequestStatusName {
    Pending,
    Approved,
    Denied,
    Withdrawn,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct JoinRequestFilter {
    /// Only requests in this status.
    #[param(value_type = Option<JoinRequestStatusName>)]
    pub status: Option<String>,
}

fn page(mut rows: Vec<JoinRequest>, limit: i64) -> JoinRequestPage {
    let next_cursor = page_cursor(&mut rows, limit, |request| request.id.to_string());
    JoinRequestPage { items: rows.into_iter().map(JoinRequestView::from).collect(), next_cursor }
}

async fn list(
    state: &AppState,
    scope: Scope,
    filter: &JoinRequestFilter,
    paging: &PageQuery,
) -> Result<JoinRequestPage, ApiError> {
    let status = filter
        .status
        .as_deref()
        .map(JoinRequestStatus::parse)
        .transpose()
        .map_err(|e| ApiError::Validation(vec![field_error("status", e)]))?;
    let (limit, after) = (paging.limit()?, paging.cursor()?);
    let rows = state.db(move |conn| Ok(join_requests::list(conn, scope, status, after, limit + 1)?)).await?;
    Ok(page(rows, limit))
}

/// List requests to join the account, oldest first.
#[utoipa::path(
    tag = "join-requests", operation_id = "list_join_requests", security(("bearer" = [])),
    params(("account_id" = Uuid, Path, description = "The account"), JoinRequestFilter, PageQuery),
    responses((status = 200, description = "A page of requests", body = JoinRequestPage)),
    extensions(("x-authorization" = json!(Requirement::account(Permission::JoinRequestsReview))))
)]
#[get("/join-requests")]
pub async fn list_join_requests(
    state: web::Data<AppState>,
    member: AccountMember,
    filter: web::Query<JoinRequestFilter>,
    paging: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(list(&state, Scope::Account(member.account_id), &filter, &paging).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"assignments": [{"role": "developer"}]}))]
pub struct ApproveJoinRequest {
    /// The roles the new member gets, account-wide or inside a group; each
    /// must carry only permissions the approver holds where it applies.
    #[serde(default)]
    pub assignments: Vec<AssignmentRequest>,
}

/// Approve a request: the requester becomes a member with these roles.
#[utoipa::path(
    tag = "join-requests", operation_id = "approve_join_request", security(("bearer" = [])), request_body = ApproveJoinRequest,
    params(("account_id" = Uuid, Path, description = "The account"), ("request_id" = Uuid, Path, description = "The request")),
    responses(
        (status = 200, description = "The approved request", body = JoinRequestView),
        (status = 409, description = "Already decided or withdrawn (`join_request_approved`, `join_request_denied`, `join_request_withdrawn`), already a member (`already_member`), or the account now takes only emails at its verified domains (`email_domain_not_allowed`)", body = Problem, content_type = "application/problem+json"),
    ),
    extensions(("x-authorization" = json!(Requirement::account(Permission::JoinRequestsReview))))
)]
#[post("/join-requests/{request_id}/approve")]
pub async fn approve_join_request(
    state: web::Data<AppState>,
    member: AccountMember,
    origin: Origin,
    path: web::Path<(Uuid, Uuid)>,
    body: JsonBody<ApproveJoinRequest>,
) -> Result<HttpResponse, ApiError> {
    let (_, id) = path.into_inner();
    let mut wanted: Vec<(String, Option<Uuid>)> = Vec::new();
    for assignment in body.0.assignments {
        domain::catalogue::check_role_key(&assignment.role)
            .map_err(|e| ApiError::field("assignments", "unknown_role", e.message))?;
        let item = (assignment.role, assignment.group_id);
        if !wanted.contains(&item) {
            wanted.push(item);
        }
    }
    let by = member.grantor();
    let request =
        state.flow(member.actor(), origin, move |conn, ctx| flows::approve(conn, ctx, &by, id, &wanted)).await?;
    Ok(HttpResponse::Ok().json(JoinRequestView::from(request)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "We only add people from the sales team."}))]
pub struct DenyJoinRequest {
    /// Told to the requester, up to 1,000 characters.
    #[schema(schema_with = free_text_or_null_schema)]
    pub reason: Option<String>,
}

/// Deny a request; the requester is told, with the reason if one is given.
#[utoipa::path(
    tag = "join-requests", operation_id = "deny_join_request", security(("bearer" = [])), request_body = DenyJoinRequest,
    params(("account_id" = Uuid, Path, description = "The account"), ("request_id" = Uuid, Path, description = "The request")),
    responses(
        (status = 200, description = "The denied request", body = JoinRequestView),
        (status = 409, description = "Already decided or withdrawn (`join_request_approved`, `join_request_denied`, `join_request_withdrawn`)", body = Problem, content_type = "application/problem+json"),
    ),
    extensions(("x-authorization" = json!(Requirement::account(Permission::JoinRequestsReview))))
)]
#[post("/join-requests/{request_id}/deny")]
pub async fn deny_join_request(
    state: web::Data<AppState>,
    member: AccountMember,
    origin: Origin,
    path: web::Path<(Uuid, Uuid)>,
    body: JsonBody<DenyJoinRequest>,
) -> Result<HttpResponse, ApiError> {
    let (_, id) = path.into_inner();
    let reason =
        join::parse_note(body.0.reason.as_deref()).map_err(|e| ApiError::Validation(vec![field_error("reason", e)]))?;
    let by = member.grantor();
    let request = state.flow(member.actor(), origin, move |conn, ctx| flows::deny(conn, ctx, &by, id, &reason)).await?;
    Ok(HttpResponse::Ok().json(JoinRequestView::from(request)))
}

/// Your requests to join accounts, oldest first.
#[utoipa::path(
    tag = "me", operation_id = "list_my_join_requests", security(("bearer" = [])),
    params(JoinRequestFilter, PageQuery),
    responses((status = 200, description = "A page of your requests", body = JoinRequestPage))
)]
#[get("/me/join-requests")]
pub async fn list_my_join_requests(
    state: web::Data<AppState>,
    me: CurrentUser,
    filter: web::Query<JoinRequestFilter>,
    paging: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(list(&state, Scope::User(me.id), &filter, &paging).await?))
}

/// Withdraw your pending request.
#[utoipa::path(
    tag = "me", operation_id = "withdraw_my_join_request", security(("bearer" = [])),
    params(("request_id" = Uuid, Path, description = "The request")),
    responses(
        (status = 200, description = "The withdrawn request", body = JoinRequestView),
        (status = 404, description = "No such request of yours (`not_found`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already decided or withdrawn (`join_request_approved`, `join_request_denied`, `join_request_withdrawn`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/me/join-requests/{request_id}/withdraw")]
pub async fn withdraw_my_join_request(
    state: web::Data<AppState>,
    me: CurrentUser,
    origin: Origin,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let request =
        state.flow(Actor::User(me.id), origin, move |conn, ctx| flows::withdraw(conn, ctx, me.id, id)).await?;
    Ok(HttpResponse::Ok().json(JoinRequestView::from(request)))
}
