use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use domain::invitation::InvitationStatus;
use domain::{Email, InvalidValue, Permission, PersonName};
use persistence::invitations::{self, Invitation, ListFilter};
use persistence::{accounts, users};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::access::AccountMember;
use crate::error::{ApiError, Problem, field_error};
use crate::extract::JsonBody;
use crate::invitations::{self as flows, InviteRequest, Inviter};
use crate::routes::pagination::{PageQuery, page_cursor};
use crate::state::AppState;

pub const MAX_BATCH: usize = 20;

#[derive(Serialize, ToSchema)]
#[schema(as = Invitation, example = json!({
    "id": "01937a2e-6000-7000-8000-000000000001", "email": "grace@example.com", "first_name": "Grace", "last_name": "Hopper",
    "roles": ["administrator"], "status": "pending", "invited_by": "01937a2e-4c1d-7b6a-9f3e-2a1b0c9d8e7f",
    "created_at": "2026-11-22T10:00:00Z", "sent_at": "2026-11-22T10:00:00Z", "expires_at": "2027-02-20T10:00:00Z", "decided_at": null
}))]
pub struct InvitationView {
    pub id: Uuid,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    /// Keys of the offered roles, each once.
    pub roles: Vec<String>,
    /// The offered roles with their scope.
    pub assignments: Vec<crate::routes::members::AssignmentView>,
    /// Groups the invitee joins without a role inside them.
    pub groups: Vec<Uuid>,
    /// `pending`, `accepted`, `declined`, `revoked` or `expired`.
    pub status: &'static str,
    pub invited_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub sent_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
}

impl InvitationView {
    pub fn new(invitation: Invitation, now: DateTime<Utc>) -> Self {
        let roles = invitation.role_keys();
        InvitationView {
            id: invitation.id,
            status: invitation.clock.status_at(now).key(),
            email: invitation.email,
            first_name: invitation.first_name,
            last_name: invitation.last_name,
            roles,
            assignments: invitation
                .assignments
                .iter()
                .map(|a| crate::routes::members::AssignmentView { role: a.role_key.clone(), group_id: a.group_id })
                .collect(),
            groups: invitation.groups,
            invited_by: invitation.invited_by,
            created_at: invitation.created_at,
            sent_at: invitation.clock.sent_at,
            expires_at: invitation.clock.expires_at,
            decided_at: invitation.decided_at,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvitationItem {
    pub email: String,
    #[serde(default)]
    pub first_name: String,
    #[serde(default)]
    pub last_name: String,
    /// Keys of roles the person gets account-wide on accepting (shorthand
    /// for `assignments` without groups).
    #[serde(default)]
    pub roles: Vec<String>,
    /// Roles the person gets on accepting, account-wide or inside a group.
    #[serde(default)]
    pub assignments: Vec<crate::routes::members::AssignmentRequest>,
    /// `false`: no email is sent and the response carries the accept URL
    /// once, for integrators who deliver it themselves.
    #[serde(default = "default_true")]
    pub send_email: bool,
}

fn default_true() -> bool {
    true
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"invitations": [{"email": "grace@example.com", "first_name": "Grace", "last_name": "Hopper", "roles": ["administrator"], "send_email": true}]}))]
pub struct CreateInvitationsRequest {
    /// 1 to 20 invitations.
    pub invitations: Vec<InvitationItem>,
}

#[derive(Serialize, ToSchema)]
pub struct InvitationResult {
    /// Position of the item in the request.
    pub index: usize,
    /// `created` or `failed`.
    pub outcome: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invitation: Option<InvitationView>,
    /// Present only for `send_email: false`, and only in this response.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accept_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<Problem>,
}

#[derive(Serialize, ToSchema)]
pub struct CreateInvitationsResponse {
    /// One result per requested invitation, in request order.
    pub results: Vec<InvitationResult>,
}

fn parse_item(item: InvitationItem) -> Result<InviteRequest, ApiError> {
    let mut errors = Vec::new();
    let email = Email::parse(&item.email).map_err(|e| errors.push(field_error("email", e))).ok();
    let optional_name = |raw: &str, field: &str, errors: &mut Vec<_>| -> String {
        if raw.trim().is_empty() {
            return String::new();
        }
        PersonName::parse(raw).map(PersonName::into_inner).unwrap_or_else(|e| {
            errors.push(field_error(field, e));
            String::new()
        })
    };
    let first_name = optional_name(&item.first_name, "first_name", &mut errors);
    let last_name = optional_name(&item.last_name, "last_name", &mut errors);
    let wanted = item
        .roles
        .iter()
        .map(|key| (key.clone(), None))
        .chain(item.assignments.iter().map(|a| (a.role.clone(), a.group_id)));
    let mut assignments: Vec<(String, Option<Uuid>)> = Vec::new();
    for (key, group) in wanted {
        match domain::catalogue::check_role_key(&key) {
            Ok(()) if !assignments.contains(&(key.clone(), group)) => assignments.push((key, group)),
            Ok(()) => {}
            Err(error) => errors.push(field_error("roles", InvalidValue::new("unknown_role", error.message))),
        }
    }
    match email {
        Some(email) if errors.is_empty() => {
            Ok(InviteRequest { email, first_name, last_name, assignments, send_email: item.send_email })
        }
        _ => Err(ApiError::Validation(errors)),
    }
}

/// Invite up to 20 people by email.
///
/// Each item succeeds or fails on its own; the response reports every item
/// in order. Needs `invitations:manage`, and every role given must be one
/// the caller could hold themselves.
#[utoipa::path(
    tag = "invitations", operation_id = "create_invitations", security(("bearer" = [])), request_body = CreateInvitationsRequest,
    params(("account_id" = Uuid, Path, description = "The account")),
    responses((status = 200, description = "One result per item", body = CreateInvitationsResponse))
)]
#[post("/invitations")]
pub async fn create_invitations(
    state: web::Data<AppState>,
    member: AccountMember,
    body: JsonBody<CreateInvitationsRequest>,
) -> Result<HttpResponse, ApiError> {
    member.require(Permission::InvitationsManage)?;
    let items = body.0.invitations;
    if items.is_empty() || items.len() > MAX_BATCH {
        return Err(ApiError::field(
            "invitations",
            "out_of_range",
            format!("Send 1 to {MAX_BATCH} invitations per request."),
        ));
    }
    let inviter = Inviter {
        account_id: member.account_id,
        user_id: member.user_id,
        roles: member.roles.clone(),
        permissions: member.permissions.clone(),
    };
    let public_url = state.settings.public_url.clone();
    let shared = state.clone();
    let now = state.clock.now();
    let results = state
        .db(move |conn| {
            let results = items
                .into_iter()
                .enumerate()
                .map(|(index, item)| {
                    match parse_item(item)
                        .and_then(|request| flows::invite(conn, &shared.catalogue, &inviter, request, &public_url, now))
                    {
                        Ok(invited) => InvitationResult {
                            index,
                            outcome: "created",
                            invitation: Some(InvitationView::new(invited.invitation, now)),
                            accept_url: invited.accept_url,
                            problem: None,
                        },
                        Err(error) => InvitationResult {
                            index,
                            outcome: "failed",
                            invitation: None,
                            accept_url: None,
                            problem: Some(error.problem()),
                        },
                    }
                })
                .collect();
            Ok(results)
        })
        .await?;
    Ok(HttpResponse::Ok().json(CreateInvitationsResponse { results }))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InvitationFilter {
    /// Only invitations in this status.
    pub status: Option<String>,
    /// Case-insensitive search in email, first and last name.
    pub q: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct InvitationPage {
    pub items: Vec<InvitationView>,
    pub next_cursor: Option<String>,
}

/// List an account's invitations, oldest first.
#[utoipa::path(
    tag = "invitations", operation_id = "list_invitations", security(("bearer" = [])),
    params(("account_id" = Uuid, Path, description = "The account"), InvitationFilter, PageQuery),
    responses((status = 200, description = "A page of invitations", body = InvitationPage))
)]
#[get("/invitations")]
pub async fn list_invitations(
    state: web::Data<AppState>,
    member: AccountMember,
    filter: web::Query<InvitationFilter>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    member.require(Permission::InvitationsManage)?;
    let status = filter
        .status
        .as_deref()
        .map(InvitationStatus::parse)
        .transpose()
        .map_err(|e| ApiError::Validation(vec![field_error("status", e)]))?;
    let limit = page.limit()?;
    let list_filter = ListFilter { status, query: filter.q.clone(), after: page.cursor()?, limit: limit + 1 };
    let (account, now) = (member.account_id, state.clock.now());
    let mut rows = state.db(move |conn| Ok(invitations::list(conn, account, &list_filter, now)?)).await?;
    let next_cursor = page_cursor(&mut rows, limit, |invitation| invitation.id.to_string());
    let items = rows.into_iter().map(|invitation| InvitationView::new(invitation, now)).collect();
    Ok(HttpResponse::Ok().json(InvitationPage { items, next_cursor }))
}

/// Read one invitation.
#[utoipa::path(
    tag = "invitations", operation_id = "get_invitation", security(("bearer" = [])),
    params(("account_id" = Uuid, Path, description = "The account"), ("invitation_id" = Uuid, Path, description = "The invitation")),
    responses((status = 200, description = "The invitation", body = InvitationView))
)]
#[get("/invitations/{invitation_id}")]
pub async fn get_invitation(
    state: web::Data<AppState>,
    member: AccountMember,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    member.require(Permission::InvitationsManage)?;
    let (account, id) = path.into_inner();
    let invitation =
        state.db(move |conn| Ok(invitations::find(conn, account, id)?)).await?.ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Ok().json(InvitationView::new(invitation, state.clock.now())))
}

/// Resend an invitation with a new link and validity window.
///
/// Allowed while pending and after expiry. The previous link stops working.
#[utoipa::path(
    tag = "invitations", operation_id = "resend_invitation", security(("bearer" = [])),
    params(("account_id" = Uuid, Path, description = "The account"), ("invitation_id" = Uuid, Path, description = "The invitation")),
    responses(
        (status = 200, description = "The resent invitation", body = InvitationView),
        (status = 409, description = "Already accepted, declined or revoked (`invitation_accepted`, `invitation_declined`, `invitation_revoked`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/invitations/{invitation_id}/resend")]
pub async fn resend_invitation(
    state: web::Data<AppState>,
    member: AccountMember,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    member.require(Permission::InvitationsManage)?;
    let (account, id) = path.into_inner();
    let (public_url, now) = (state.settings.public_url.clone(), state.clock.now());
    let invitation = state.db(move |conn| flows::resend(conn, account, id, &public_url, now)).await?;
    Ok(HttpResponse::Ok().json(InvitationView::new(invitation, now)))
}

/// Revoke a pending invitation; its link stops working at once.
#[utoipa::path(
    tag = "invitations", operation_id = "revoke_invitation", security(("bearer" = [])),
    params(("account_id" = Uuid, Path, description = "The account"), ("invitation_id" = Uuid, Path, description = "The invitation")),
    responses(
        (status = 200, description = "The revoked invitation", body = InvitationView),
        (status = 409, description = "Already accepted, declined or revoked (`invitation_accepted`, `invitation_declined`, `invitation_revoked`)", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "Expired (`invitation_expired`): resend it instead", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/invitations/{invitation_id}/revoke")]
pub async fn revoke_invitation(
    state: web::Data<AppState>,
    member: AccountMember,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    member.require(Permission::InvitationsManage)?;
    let (account, id) = path.into_inner();
    let now = state.clock.now();
    let invitation = state.db(move |conn| flows::revoke(conn, account, id, now)).await?;
    Ok(HttpResponse::Ok().json(InvitationView::new(invitation, now)))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TokenQuery {
    /// The token from the invitation link.
    pub token: String,
}

#[derive(Serialize, ToSchema)]
pub struct InvitationPreview {
    pub account_name: String,
    pub inviter_name: Option<String>,
    pub email: String,
    pub roles: Vec<String>,
    pub status: &'static str,
    pub expires_at: DateTime<Utc>,
}

/// What an invitation link offers, without signing in.
///
/// Only open invitations are shown; every other state has its own problem.
#[utoipa::path(
    tag = "invitations", operation_id = "preview_invitation", params(TokenQuery),
    responses(
        (status = 200, description = "The invitation", body = InvitationPreview),
        (status = 404, description = "Unknown or replaced link (`invitation_unknown`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Accepted, declined or revoked (`invitation_accepted`, `invitation_declined`, `invitation_revoked`)", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "Expired (`invitation_expired`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/invitations/preview")]
pub async fn preview_invitation(
    state: web::Data<AppState>,
    query: web::Query<TokenQuery>,
) -> Result<HttpResponse, ApiError> {
    let token = query.into_inner().token;
    let now = state.clock.now();
    let preview = state
        .db(move |conn| {
            let invitation = flows::preview(conn, &token, now)?;
            let account = accounts::find(conn, invitation.account_id)?.ok_or_else(flows::unknown_token)?;
            let inviter = match invitation.invited_by {
                Some(id) => users::find(conn, id)?.map(|user| format!("{} {}", user.first_name, user.last_name)),
                None => None,
            };
            Ok(InvitationPreview {
                account_name: account.name,
                inviter_name: inviter,
                status: invitation.clock.status_at(now).key(),
                expires_at: invitation.clock.expires_at,
                roles: invitation.role_keys(),
                email: invitation.email,
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(preview))
}
