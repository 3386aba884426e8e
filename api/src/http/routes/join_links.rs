//! Join links: administered per account, previewed and used by anyone who
//! holds the URL.

use actix_web::http::header;
use actix_web::{HttpResponse, delete, get, post, web};
use chrono::{DateTime, Utc};
use domain::Permission;
use domain::access::Requirement;
use domain::join::{self, JoinLinkLimits};
use domain::plan::Feature;
use persistence::join_links::{self, JoinLink};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::flows::joins::{self as flows, IssuedLink};
use crate::flows::{Actor, Origin};
use crate::http::access::AccountMember;
use crate::http::caller::CurrentUser;
use crate::http::extract::JsonBody;
use crate::http::pagination::{PageQuery, page_cursor};
use crate::http::problem::{ApiError, Problem, field_error};
use crate::http::rate_limit::Bucket;
use crate::http::routes::join_requests::JoinRequestView;
use crate::http::schemas::{free_text_or_null_schema, token_schema};
use crate::http::state::{AppState, RunFlow};

#[derive(Serialize, ToSchema)]
#[schema(as = JoinLink, example = json!({
    "id": "01937a2e-9000-7000-8000-000000000001", "url": "https://roster.example/join?token=7hG2…",
    "group_id": null, "expires_at": "2026-12-31T23:59:59Z", "max_uses": 25, "uses": 3, "status": "active",
    "created_at": "2026-11-22T10:00:00Z", "rotated_at": null, "disabled_at": null
}))]
pub struct JoinLinkView {
    pub id: Uuid,
    /// The URL to share, with its token: only in the responses that create
    /// or rotate the link. Roster stores only a digest of the token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Approved joiners are added to this group.
    pub group_id: Option<Uuid>,
    pub expires_at: Option<DateTime<Utc>>,
    pub max_uses: Option<u32>,
    /// Join requests filed through the link so far.
    pub uses: u32,
    /// `active`, `expired`, `used_up` or `disabled`.
    #[schema(value_type = JoinLinkStatusName)]
    pub status: &'static str,
    pub created_at: DateTime<Utc>,
    pub rotated_at: Option<DateTime<Utc>>,
    pub disabled_at: Option<DateTime<Utc>>,
}

/// Whether a join link can be used.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case", example = "active")]
#[allow(dead_code)] // only its schema is used: the view carries the text
pub enum JoinLinkStatusName {
    Active,
    Expired,
    UsedUp,
    Disabled,
}

impl JoinLinkView {
    fn new(link: JoinLink, url: Option<String>, now: DateTime<Utc>) -> Self {
        JoinLinkView {
            id: link.id,
            url,
            group_id: link.group_id,
            expires_at: link.state.limits.expires_at,
            max_uses: link.state.limits.max_uses,
            uses: link.state.uses,
            status: link.state.status_at(now),
            created_at: link.created_at,
            rotated_at: link.rotated_at,
            disabled_at: link.state.disabled_at,
        }
    }

    fn issued(issued: IssuedLink, now: DateTime<Utc>) -> Self {
        Self::new(issued.link, Some(issued.url), now)
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"expires_at": "2030-12-31T23:59:59Z", "max_uses": 25}))]
pub struct CreateJoinLinkRequest {
    /// After this time the link no longer works (default: never).
    pub expires_at: Option<DateTime<Utc>>,
    /// At most this many join requests, 1 to 100,000 (default: no limit).
    #[serde(default, deserialize_with = "crate::http::extract::whole::option")]
    #[schema(minimum = 1, maximum = 100_000)]
    pub max_uses: Option<i64>,
    /// Add approved joiners to this group.
    pub group_id: Option<Uuid>,
}

#[derive(Serialize, ToSchema)]
pub struct JoinLinkPage {
    pub items: Vec<JoinLinkView>,
    pub next_cursor: Option<String>,
}

/// Publish a join link.
///
/// The response carries the URL with its token, once: share it. Anyone who
/// opens it can ask to join; administrators approve or deny each request.
#[utoipa::path(
    tag = "join-links", operation_id = "create_join_link", security(("bearer" = [])), request_body = CreateJoinLinkRequest,
    params(("account_id" = Uuid, Path, description = "The account")),
    responses((status = 201, description = "The link, with its URL; `Location` names it", body = JoinLinkView)),
    extensions(("x-authorization" = json!(Requirement::account(Permission::JoinLinksManage).needs(Feature::JoinLinks))))
)]
#[post("/join-links")]
pub async fn create_join_link(
    state: web::Data<AppState>,
    member: AccountMember,
    origin: Origin,
    body: JsonBody<CreateJoinLinkRequest>,
) -> Result<HttpResponse, ApiError> {
    let request = body.0;
    let now = state.clock.now();
    let limits = JoinLinkLimits::parse(request.expires_at, request.max_uses, now).map_err(|errors| {
        ApiError::Validation(errors.into_iter().map(|(field, error)| field_error(field, error)).collect())
    })?;
    let (account, group, by) = (member.account_id, request.group_id, member.grantor());
    let issued =
        state.flow(member.actor(), origin, move |conn, ctx| flows::create_link(conn, ctx, &by, group, limits)).await?;
    let location = format!("/v1/accounts/{account}/join-links/{}", issued.link.id);
    Ok(HttpResponse::Created().insert_header((header::LOCATION, location)).json(JoinLinkView::issued(issued, now)))
}

/// List an account's join links (without their tokens), oldest first.
#[utoipa::path(
    tag = "join-links", operation_id = "list_join_links", security(("bearer" = [])),
    params(("account_id" = Uuid, Path, description = "The account"), PageQuery),
    responses((status = 200, description = "A page of links", body = JoinLinkPage)),
    extensions(("x-authorization" = json!(Requirement::account(Permission::JoinLinksManage))))
)]
#[get("/join-links")]
pub async fn list_join_links(
    state: web::Data<AppState>,
    member: AccountMember,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let (limit, after, account) = (page.limit()?, page.cursor()?, member.account_id);
    let mut rows = state.db(move |conn| Ok(join_links::list(conn, account, after, limit + 1)?)).await?;
    let next_cursor = page_cursor(&mut rows, limit, |link| link.id.to_string());
    let now = state.clock.now();
    let items = rows.into_iter().map(|link| JoinLinkView::new(link, None, now)).collect();
    Ok(HttpResponse::Ok().json(JoinLinkPage { items, next_cursor }))
}

/// Replace a link's token.
///
/// The response carries the new URL, once; the old URL stops working at
/// once. Limits and uses carry over.
#[utoipa::path(
    tag = "join-links", operation_id = "rotate_join_link", security(("bearer" = [])),
    params(("account_id" = Uuid, Path, description = "The account"), ("link_id" = Uuid, Path, description = "The link")),
    responses(
        (status = 200, description = "The link with its new URL", body = JoinLinkView),
        (status = 409, description = "The link is disabled (`join_link_disabled`)", body = Problem, content_type = "application/problem+json"),
    ),
    extensions(("x-authorization" = json!(Requirement::account(Permission::JoinLinksManage))))
)]
#[post("/join-links/{link_id}/rotate")]
pub async fn rotate_join_link(
    state: web::Data<AppState>,
    member: AccountMember,
    origin: Origin,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let (account, id) = path.into_inner();
    let issued =
        state.flow(member.actor(), origin, move |conn, ctx| flows::rotate_link(conn, ctx, account, id)).await?;
    Ok(HttpResponse::Ok().json(JoinLinkView::issued(issued, state.clock.now())))
}

/// Disable a link for good.
///
/// Requests already filed stay; nobody can file a new one through it.
#[utoipa::path(
    tag = "join-links", operation_id = "disable_join_link", security(("bearer" = [])),
    params(("account_id" = Uuid, Path, description = "The account"), ("link_id" = Uuid, Path, description = "The link")),
    responses((status = 204, description = "Disabled (also when it already was)")),
    extensions(("x-authorization" = json!(Requirement::account(Permission::JoinLinksManage))))
)]
#[delete("/join-links/{link_id}")]
pub async fn disable_join_link(
    state: web::Data<AppState>,
    member: AccountMember,
    origin: Origin,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let (account, id) = path.into_inner();
    state.flow(member.actor(), origin, move |conn, ctx| flows::disable_link(conn, ctx, account, id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct JoinTokenQuery {
    /// The token from the join link.
    #[param(pattern = "^[A-Za-z0-9_-]{1,128}$")]
    pub token: String,
}

#[derive(Serialize, ToSchema)]
#[schema(example = json!({"account_name": "Acme", "group_name": null, "usable": true, "reason": null}))]
pub struct JoinLinkPreview {
    pub account_name: String,
    /// The group approved joiners are added to.
    pub group_name: Option<String>,
    /// Whether a join request can be filed through the link now.
    pub usable: bool,
    /// Why not: `join_link_disabled`, `join_link_expired` or `join_link_used_up`.
    pub reason: Option<&'static str>,
}

/// What a join link leads to, without signing in.
#[utoipa::path(
    tag = "join-links", operation_id = "preview_join_link", params(JoinTokenQuery),
    responses(
        (status = 200, description = "The account the link leads to", body = JoinLinkPreview),
        (status = 404, description = "Unknown or rotated link (`join_link_unknown`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/join-links/preview")]
pub async fn preview_join_link(
    state: web::Data<AppState>,
    query: web::Query<JoinTokenQuery>,
) -> Result<HttpResponse, ApiError> {
    let token = query.into_inner().token;
    let preview = state.db(move |conn| Ok(flows::preview(conn, &token)?)).await?;
    let refusal = preview.link.state.check_usable(state.clock.now()).err();
    Ok(HttpResponse::Ok().json(JoinLinkPreview {
        account_name: preview.account_name,
        group_name: preview.group_name,
        usable: refusal.is_none(),
        reason: refusal.map(|refusal| refusal.code()),
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"token": "7hG2xQ9vL4mN8pR1sT6wY3zA5cD0fG2hJ7kL9mN4pQ8", "message": "I joined the EMEA sales team last week."}))]
pub struct JoinRequestBody {
    /// The token from the join link.
    #[schema(schema_with = token_schema)]
    pub token: String,
    /// A note for the administrators, up to 1,000 characters.
    #[schema(schema_with = free_text_or_null_schema)]
    pub message: Option<String>,
}

/// Ask to join an account through its link.
///
/// For any signed-in user, whatever email they registered with. Files a
/// join request (using one of the link's uses) and emails everyone who
/// reviews join requests.
#[utoipa::path(
    tag = "join-links", operation_id = "join_through_link", security(("bearer" = [])), request_body = JoinRequestBody,
    responses(
        (status = 429, description = "Too many attempts (`rate_limited`): wait the seconds in `Retry-After`", body = Problem, content_type = "application/problem+json"),
        (status = 201, description = "The pending join request", body = JoinRequestView),
        (status = 404, description = "Unknown or rotated link (`join_link_unknown`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already a member (`already_member`), a request is pending (`join_request_pending`), or the account takes only emails at its verified domains and mine is at none (`email_domain_not_allowed`)", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "Disabled, expired or used up (`join_link_disabled`, `join_link_expired`, `join_link_used_up`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/join-links/join")]
pub async fn join_through_link(
    state: web::Data<AppState>,
    me: CurrentUser,
    origin: Origin,
    body: JsonBody<JoinRequestBody>,
) -> Result<HttpResponse, ApiError> {
    let JoinRequestBody { token, message } = body.0;
    let message =
        join::parse_note(message.as_deref()).map_err(|e| ApiError::Validation(vec![field_error("message", e)]))?;
    state.limit(vec![Bucket::Joins.hit(origin.client_ip.clone())]).await?;
    let request = state
        .flow(Actor::User(me.id), origin, move |conn, ctx| flows::join(conn, ctx, &token, me.id, &message))
        .await?;
    Ok(HttpResponse::Created().json(JoinRequestView::from(request)))
}
