use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use domain::access::Requirement;
use domain::invitation::InvitationStatus;
use domain::{Email, Locale, Permission, PersonName};
use persistence::invitations::{self, Invitation, ListFilter};
use persistence::{accounts, groups, users};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::flows::invitations::{self as flows, InviteRequest, Invited};
use crate::flows::{Actor, Origin};
use crate::http::access::AccountMember;
use crate::http::extract::JsonBody;
use crate::http::pagination::{PageQuery, page_cursor};
use crate::http::problem::{ApiError, Problem, field_error};
use crate::http::rate_limit::{Bucket, Hit};
use crate::http::schemas::{email_schema, optional_name_schema, role_keys_schema};
use crate::http::state::{AppState, RunFlow};

pub const MAX_BATCH: usize = 20;

#[derive(Serialize, ToSchema)]
#[schema(as = Invitation, example = json!({
    "id": "01937a2e-6000-7000-8000-000000000001", "email": "grace@example.com", "first_name": "Grace", "last_name": "Hopper",
    "roles": ["administrator"], "assignments": [{"role": "administrator", "group_id": null}], "groups": [],
    "status": "pending", "invited_by": "01937a2e-4c1d-7b6a-9f3e-2a1b0c9d8e7f",
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
    pub assignments: Vec<crate::http::routes::members::AssignmentView>,
    /// Groups the invitee joins without a role inside them.
    pub groups: Vec<Uuid>,
    /// `pending`, `accepted`, `declined`, `revoked` or `expired`.
    #[schema(value_type = InvitationStatusName)]
    pub status: &'static str,
    pub invited_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub sent_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
    /// The language the inviter chose for this person, if any.
    #[schema(example = "de")]
    pub locale: Option<String>,
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
                .map(|a| crate::http::routes::members::AssignmentView {
                    role: a.role_key.clone(),
                    group_id: a.group_id,
                })
                .collect(),
            groups: invitation.groups,
            invited_by: invitation.invited_by,
            created_at: invitation.created_at,
            sent_at: invitation.clock.sent_at,
            expires_at: invitation.clock.expires_at,
            decided_at: invitation.decided_at,
            locale: invitation.locale,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvitationItem {
    #[schema(schema_with = email_schema)]
    pub email: String,
    #[schema(schema_with = optional_name_schema)]
    #[serde(default)]
    pub first_name: String,
    #[schema(schema_with = optional_name_schema)]
    #[serde(default)]
    pub last_name: String,
    /// Keys of roles the person gets account-wide on accepting (shorthand
    /// for `assignments` without groups).
    #[schema(schema_with = role_keys_schema)]
    #[serde(default)]
    pub roles: Vec<String>,
    /// Roles the person gets on accepting, account-wide or inside a group.
    #[serde(default)]
    pub assignments: Vec<crate::http::routes::members::AssignmentRequest>,
    /// `false`: no email is sent and the response carries the accept URL
    /// once, for integrators who deliver it themselves.
    #[serde(default = "default_true")]
    pub send_email: bool,
    /// The language (BCP 47) to write to this person in while they have
    /// chosen none themselves; absent: the account's.
    #[schema(schema_with = crate::http::schemas::locale_schema)]
    #[serde(default)]
    pub locale: Option<String>,
}

fn default_true() -> bool {
    true
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"invitations": [{"email": "grace@example.com", "first_name": "Grace", "last_name": "Hopper", "roles": ["administrator"], "send_email": true}]}))]
pub struct CreateInvitationsRequest {
    /// 1 to 20 invitations.
    #[schema(min_items = 1, max_items = 20)]
    pub invitations: Vec<InvitationItem>,
}

#[derive(Serialize, ToSchema)]
pub struct InvitationResult {
    /// Position of the item in the request.
    pub index: usize,
    /// `created` or `failed`.
    #[schema(value_type = InvitationOutcomeName)]
    pub outcome: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invitation: Option<InvitationView>,
    /// Present only for `send_email: false`, and only in this response.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accept_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<Problem>,
}

/// What became of one item of a batch.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case", example = "created")]
#[allow(dead_code)] // only its schema is used: the view carries the text
pub enum InvitationOutcomeName {
    Created,
    Failed,
}

impl InvitationResult {
    fn created(index: usize, invited: Invited, now: DateTime<Utc>) -> Self {
        InvitationResult {
            index,
            outcome: "created",
            invitation: Some(InvitationView::new(invited.invitation, now)),
            accept_url: invited.accept_url,
            problem: None,
        }
    }

    fn failed(index: usize, error: ApiError) -> Self {
        InvitationResult {
            index,
            outcome: "failed",
            invitation: None,
            accept_url: None,
            problem: Some(error.problem()),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct InvitationBatchResults {
    /// One result per requested invitation, in request order.
    pub results: Vec<InvitationResult>,
}

fn parse_item(item: InvitationItem) -> Result<InviteRequest, ApiError> {
    let mut errors = Vec::new();
    let email = Email::parse(&item.email).map_err(|e| errors.push(field_error("email", e))).ok();
    let optional_name = |raw: &str, field: &str, errors: &mut Vec<_>| -> String {
        // Blank is "unknown"; blank with a tab or line break is still refused.
        if raw.trim().is_empty() && !raw.chars().any(char::is_control) {
            return String::new();
        }
        PersonName::parse(raw).map(PersonName::into_inner).unwrap_or_else(|e| {
            errors.push(field_error(field, e));
            String::new()
        })
    };
    let locale = item
        .locale
        .as_deref()
        .map(Locale::parse)
        .transpose()
        .map_err(|e| errors.push(field_error("locale", e)))
        .ok()
        .flatten();
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
            Err(error) => errors.push(field_error("roles", error)),
        }
    }
    match email {
        Some(email) if errors.is_empty() => {
            Ok(InviteRequest { email, first_name, last_name, assignments, send_email: item.send_email, locale })
        }
        _ => Err(ApiError::Validation(errors)),
    }
}

/// Every item parsed, or every field error of every item, named
/// `invitations.<index>.<field>`.
fn parse_items(items: Vec<InvitationItem>) -> Result<Vec<InviteRequest>, ApiError> {
    let mut requests = Vec::with_capacity(items.len());
    let mut errors = Vec::new();
    for (index, item) in items.into_iter().enumerate() {
        match parse_item(item) {
            Ok(request) => requests.push(request),
            Err(ApiError::Validation(fields)) => errors.extend(fields.into_iter().map(|mut error| {
                error.field = format!("invitations.{index}.{}", error.field);
                error
            })),
            Err(other) => return Err(other),
        }
    }
    if errors.is_empty() { Ok(requests) } else { Err(ApiError::Validation(errors)) }
}

/// What `emails` invitation emails count: the account's quota, and the
/// sender's across every account they send from, so that making accounts
/// does not multiply what one person can send.
fn invitation_email_hits(member: &AccountMember, emails: u32) -> Vec<Hit> {
    vec![
        Bucket::Invitations.hit(Some(member.account_id.to_string())).times(emails),
        Bucket::InvitationsBySender.hit(Some(member.user_id.to_string())).times(emails),
    ]
}

/// Invite up to 20 people by email.
///
/// A malformed item (see the schema) refuses the whole request with 422 and
/// nothing is sent. Otherwise each item succeeds or fails on its own (already
/// a member or invited, unknown role, role the caller cannot grant, an email
/// outside the verified domains of an account that invites only at them
/// (`email_domain_not_allowed`), …); the
/// response reports every item in order. The batch is stored in one
/// transaction: when the service fails (503 with `Retry-After`, or 500),
/// nothing of it was stored or sent, and sending it again is safe; items a
/// resent batch already stored fail as `already_invited`. Needs
/// `invitations:manage`, and every role given must be one the caller could
/// hold themselves.
#[utoipa::path(
    tag = "invitations", operation_id = "create_invitations", security(("bearer" = [])), request_body = CreateInvitationsRequest,
    params(("account_id" = Uuid, Path, description = "The account")),
    responses(
        (status = 429, description = "Too many attempts (`rate_limited`): wait the seconds in `Retry-After`", body = Problem, content_type = "application/problem+json"),
        (status = 200, description = "One result per item", body = InvitationBatchResults),
        (status = 403, description = "Missing permission (`forbidden`), or the caller's email is not verified (`email_unverified`)", body = Problem, content_type = "application/problem+json"),
    ),
    extensions(("x-authorization" = json!(Requirement::account(Permission::InvitationsManage))))
)]
#[post("/invitations")]
pub async fn create_invitations(
    state: web::Data<AppState>,
    member: AccountMember,
    origin: Origin,
    body: JsonBody<CreateInvitationsRequest>,
) -> Result<HttpResponse, ApiError> {
    let items = body.0.invitations;
    if items.is_empty() || items.len() > MAX_BATCH {
        return Err(ApiError::field(
            "invitations",
            "out_of_range",
            format!("Send 1 to {MAX_BATCH} invitations per request."),
        ));
    }
    // A malformed item (what the contract's schema rules out) refuses the
    // whole batch, so that nothing is written; what depends on the account
    // (already a member, unknown role, …) fails its item alone, below.
    let requests = parse_items(items)?;
    let emails = requests.iter().filter(|request| request.send_email).count();
    if emails > 0 {
        state.limit(invitation_email_hits(&member, emails as u32)).await?;
    }
    let by = member.grantor();
    let invited =
        state.flow(member.actor(), origin, move |conn, ctx| flows::invite_batch(conn, ctx, &by, requests)).await?;
    let now = state.clock.now();
    let results = invited
        .into_iter()
        .enumerate()
        .map(|(index, outcome)| match outcome {
            Ok(invited) => InvitationResult::created(index, invited, now),
            Err(error) => InvitationResult::failed(index, ApiError::from(error)),
        })
        .collect();
    Ok(HttpResponse::Ok().json(InvitationBatchResults { results }))
}

/// Where an invitation stands.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case", example = "pending")]
#[allow(dead_code)] // only its schema is used: the filter parses the text
pub enum InvitationStatusName {
    Pending,
    Accepted,
    Declined,
    Revoked,
    Expired,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InvitationFilter {
    /// Only invitations in this status.
    #[param(value_type = Option<InvitationStatusName>)]
    pub status: Option<String>,
    /// Case-insensitive search in email, first and last name: at most 200
    /// characters, no control characters.
    #[param(max_length = 200, pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$")]
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
    responses((status = 200, description = "A page of invitations", body = InvitationPage)),
    extensions(("x-authorization" = json!(Requirement::account(Permission::InvitationsManage))))
)]
#[get("/invitations")]
pub async fn list_invitations(
    state: web::Data<AppState>,
    member: AccountMember,
    filter: web::Query<InvitationFilter>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let status = filter
        .status
        .as_deref()
        .map(InvitationStatus::parse)
        .transpose()
        .map_err(|e| ApiError::Validation(vec![field_error("status", e)]))?;
    let limit = page.limit()?;
    let query = crate::http::routes::members::search_text(filter.q.as_deref())?.map(|q| q.as_str().to_owned());
    let list_filter = ListFilter { status, query, after: page.cursor()?, limit: limit + 1 };
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
    responses((status = 200, description = "The invitation", body = InvitationView)),
    extensions(("x-authorization" = json!(Requirement::account(Permission::InvitationsManage))))
)]
#[get("/invitations/{invitation_id}")]
pub async fn get_invitation(
    state: web::Data<AppState>,
    _member: AccountMember,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
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
        (status = 429, description = "Too many attempts (`rate_limited`): wait the seconds in `Retry-After`", body = Problem, content_type = "application/problem+json"),
        (status = 200, description = "The resent invitation", body = InvitationView),
        (status = 403, description = "Missing permission (`forbidden`), or the caller's email is not verified (`email_unverified`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already accepted, declined or revoked (`invitation_accepted`, `invitation_declined`, `invitation_revoked`)", body = Problem, content_type = "application/problem+json"),
    ),
    extensions(("x-authorization" = json!(Requirement::account(Permission::InvitationsManage))))
)]
#[post("/invitations/{invitation_id}/resend")]
pub async fn resend_invitation(
    state: web::Data<AppState>,
    member: AccountMember,
    origin: Origin,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let (_, id) = path.into_inner();
    state.limit(invitation_email_hits(&member, 1)).await?;
    let by = member.grantor();
    let invitation = state.flow(member.actor(), origin, move |conn, ctx| flows::resend(conn, ctx, &by, id)).await?;
    Ok(HttpResponse::Ok().json(InvitationView::new(invitation, state.clock.now())))
}

/// Revoke a pending invitation; its link stops working at once.
#[utoipa::path(
    tag = "invitations", operation_id = "revoke_invitation", security(("bearer" = [])),
    params(("account_id" = Uuid, Path, description = "The account"), ("invitation_id" = Uuid, Path, description = "The invitation")),
    responses(
        (status = 200, description = "The revoked invitation", body = InvitationView),
        (status = 409, description = "Already accepted, declined or revoked (`invitation_accepted`, `invitation_declined`, `invitation_revoked`)", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "Expired (`invitation_expired`): resend it instead", body = Problem, content_type = "application/problem+json"),
    ),
    extensions(("x-authorization" = json!(Requirement::account(Permission::InvitationsManage))))
)]
#[post("/invitations/{invitation_id}/revoke")]
pub async fn revoke_invitation(
    state: web::Data<AppState>,
    member: AccountMember,
    origin: Origin,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let (account, id) = path.into_inner();
    let invitation = state.flow(member.actor(), origin, move |conn, ctx| flows::revoke(conn, ctx, account, id)).await?;
    Ok(HttpResponse::Ok().json(InvitationView::new(invitation, state.clock.now())))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TokenQuery {
    /// The token from the invitation link.
    #[param(pattern = "^[A-Za-z0-9_-]{1,128}$")]
    pub token: String,
}

/// A role an invitation offers, and where it will apply.
#[derive(Serialize, ToSchema)]
pub struct OfferedRole {
    /// Role key.
    pub role: String,
    /// The group the role applies in; null: account-wide.
    pub group_id: Option<Uuid>,
    /// That group's name.
    pub group_name: Option<String>,
}

/// A group the invitee joins.
#[derive(Serialize, ToSchema)]
pub struct OfferedGroup {
    pub id: Uuid,
    pub name: String,
}

#[derive(Serialize, ToSchema)]
#[schema(example = json!({
    "account_name": "Acme GmbH", "inviter_name": "Ada Lovelace", "email": "grace@example.com",
    "roles": ["analyst", "developer"],
    "assignments": [
        {"role": "analyst", "group_id": null, "group_name": null},
        {"role": "developer", "group_id": "01937a2e-7000-7000-8000-000000000001", "group_name": "Design"}
    ],
    "groups": [], "status": "pending", "expires_at": "2027-02-20T10:00:00Z"
}))]
pub struct InvitationPreview {
    pub account_name: String,
    pub inviter_name: Option<String>,
    pub email: String,
    /// Keys of the offered roles, each once, wherever they apply.
    pub roles: Vec<String>,
    /// Each offered role with where it applies.
    pub assignments: Vec<OfferedRole>,
    /// Groups joined without a role inside them.
    pub groups: Vec<OfferedGroup>,
    #[schema(value_type = InvitationStatusName)]
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
    origin: Origin,
    query: web::Query<TokenQuery>,
) -> Result<HttpResponse, ApiError> {
    let token = query.into_inner().token;
    let preview = state
        .flow(Actor::Anonymous, origin, move |conn, ctx| -> Result<_, ApiError> {
            let now = ctx.now;
            let invitation = flows::open_invitation(conn, ctx, &token)?;
            let account = accounts::find(conn, invitation.account_id)?.ok_or(ApiError::InvitationUnknown)?;
            let inviter = match invitation.invited_by {
                Some(id) => users::find(conn, id)?.map(|user| format!("{} {}", user.first_name, user.last_name)),
                None => None,
            };
            let mut group_name = |id: Uuid| -> Result<String, ApiError> {
                Ok(groups::find(conn, invitation.account_id, id)?.map(|group| group.name).unwrap_or_default())
            };
            let mut assignments = Vec::with_capacity(invitation.assignments.len());
            for offered in &invitation.assignments {
                let group_name = offered.group_id.map(&mut group_name).transpose()?;
                assignments.push(OfferedRole {
                    role: offered.role_key.clone(),
                    group_id: offered.group_id,
                    group_name,
                });
            }
            let groups = invitation
                .groups
                .iter()
                .map(|id| Ok(OfferedGroup { id: *id, name: group_name(*id)? }))
                .collect::<Result<_, ApiError>>()?;
            Ok(InvitationPreview {
                account_name: account.name,
                inviter_name: inviter,
                status: invitation.clock.status_at(now).key(),
                expires_at: invitation.clock.expires_at,
                roles: invitation.role_keys(),
                assignments,
                groups,
                email: invitation.email,
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(preview))
}
