//! Accounts a signed-in user may ask to join because their verified email
//! is at a domain the account verified (with enrollment `suggest` or
//! `automatic`).

use actix_web::{HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::flows::enrollment::{self, Suggestion};
use crate::flows::{Actor, Origin};
use crate::http::caller::CurrentUser;
use crate::http::extract::JsonBody;
use crate::http::problem::{ApiError, Problem, field_error};
use crate::http::rate_limit::Bucket;
use crate::http::routes::join_requests::JoinRequestView;
use crate::http::schemas::free_text_or_null_schema;
use crate::http::state::{AppState, RunFlow};

#[derive(Serialize, ToSchema)]
#[schema(example = json!({
    "account_id": "01937a2e-4c1d-7b6a-9f3e-2a1b0c9d8e7f", "account_name": "Acme", "domain": "acme.example",
    "pending_join_request_id": null
}))]
pub struct SuggestedAccount {
    pub account_id: Uuid,
    pub account_name: String,
    /// The verified domain of the account that my email is at.
    pub domain: String,
    /// My join request to it that waits for a decision, if any.
    pub pending_join_request_id: Option<Uuid>,
}

impl From<Suggestion> for SuggestedAccount {
    fn from(suggestion: Suggestion) -> Self {
        SuggestedAccount {
            account_id: suggestion.account_id,
            account_name: suggestion.account_name,
            domain: suggestion.domain,
            pending_join_request_id: suggestion.pending_request,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct SuggestedAccountList {
    /// At most one today: a domain is verified by one account.
    pub items: Vec<SuggestedAccount>,
}

/// Accounts I may ask to join: my email is verified and at a domain the
/// account verified and opened (`suggest` or `automatic`), and I am not a
/// member.
#[utoipa::path(
    tag = "me", operation_id = "list_suggested_accounts", security(("bearer" = [])),
    responses((status = 200, description = "The suggested accounts", body = SuggestedAccountList))
)]
#[get("/me/suggested-accounts")]
pub async fn list_suggested_accounts(
    state: web::Data<AppState>,
    me: CurrentUser,
    origin: Origin,
) -> Result<HttpResponse, ApiError> {
    let found =
        state.flow(Actor::User(me.id), origin, move |conn, ctx| enrollment::suggestions(conn, ctx, me.id)).await?;
    let items = found.into_iter().map(SuggestedAccount::from).collect();
    Ok(HttpResponse::Ok().json(SuggestedAccountList { items }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"message": "I run the Berlin office."}))]
pub struct AskToJoinRequest {
    /// A note for the administrators, up to 1,000 characters.
    #[schema(schema_with = free_text_or_null_schema)]
    pub message: Option<String>,
}

/// Ask to join a suggested account. Files an ordinary join request, which
/// the account's reviewers approve or deny as any other.
#[utoipa::path(
    tag = "me", operation_id = "ask_to_join_suggested_account", security(("bearer" = [])), request_body = AskToJoinRequest,
    params(("account_id" = Uuid, Path, description = "A suggested account")),
    responses(
        (status = 429, description = "Too many attempts (`rate_limited`): wait the seconds in `Retry-After`", body = Problem, content_type = "application/problem+json"),
        (status = 201, description = "The pending join request", body = JoinRequestView),
        (status = 404, description = "Not among my suggested accounts (`not_found`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A request is pending (`join_request_pending`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/me/suggested-accounts/{account_id}/join-requests")]
pub async fn ask_to_join_suggested_account(
    state: web::Data<AppState>,
    me: CurrentUser,
    origin: Origin,
    path: web::Path<Uuid>,
    body: JsonBody<AskToJoinRequest>,
) -> Result<HttpResponse, ApiError> {
    let account = path.into_inner();
    let message = domain::join::parse_note(body.0.message.as_deref())
        .map_err(|e| ApiError::Validation(vec![field_error("message", e)]))?;
    state.limit(vec![Bucket::Joins.hit(origin.client_ip.clone())]).await?;
    let request = state
        .flow(Actor::User(me.id), origin, move |conn, ctx| enrollment::ask(conn, ctx, me.id, account, &message))
        .await?;
    Ok(HttpResponse::Created().json(JoinRequestView::from(request)))
}
