use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use chrono::{DateTime, Utc};
use domain::access::Requirement;
use domain::{AccountName, Permission};
use persistence::accounts::{self, Account};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::flows::accounts as flows;
use crate::flows::{Actor, Origin};
use crate::http::access::AccountMember;
use crate::http::caller::CurrentUser;
use crate::http::extract::JsonBody;
use crate::http::problem::{ApiError, ParseFields, Problem};
use crate::http::rate_limit::Bucket;
use crate::http::schemas::label_schema;
use crate::http::state::{AppState, RunFlow};

#[derive(Serialize, ToSchema)]
#[schema(as = Account, example = json!({
    "id": "01937a2e-5b00-7c3d-8e4f-000000000001", "name": "Acme GmbH",
    "created_at": "2026-11-22T09:31:00Z", "updated_at": "2026-11-22T09:31:00Z"
}))]
pub struct AccountView {
    pub id: Uuid,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Account> for AccountView {
    fn from(account: Account) -> Self {
        AccountView {
            id: account.id,
            name: account.name,
            created_at: account.created_at,
            updated_at: account.updated_at,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Acme GmbH"}))]
pub struct AccountNameRequest {
    /// Display name, 1 to 200 characters.
    #[schema(schema_with = label_schema)]
    pub name: String,
}

/// Create a company account; the caller becomes its owner.
#[utoipa::path(
    tag = "accounts", operation_id = "create_account", security(("bearer" = [])), request_body = AccountNameRequest,
    responses(
        (status = 201, description = "The account; `Location` names it", body = AccountView),
        (status = 429, description = "Too many accounts made lately (`rate_limited`): wait the seconds in `Retry-After`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/accounts")]
pub async fn create_account(
    state: web::Data<AppState>,
    me: CurrentUser,
    origin: Origin,
    body: JsonBody<AccountNameRequest>,
) -> Result<HttpResponse, ApiError> {
    let (name,) = (("name", AccountName::parse(&body.0.name)),).parse_fields()?;
    state.limit(vec![Bucket::AccountsCreated.hit(Some(me.id.to_string()))]).await?;
    let plan = state.deployment.plans.default_plan().key.clone();
    let account =
        state.flow(Actor::User(me.id), origin, move |conn, ctx| flows::create(conn, ctx, me.id, &name, &plan)).await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/v1/accounts/{}", account.id)))
        .json(AccountView::from(account)))
}

/// Read an account I belong to; `ETag` is its version for `If-Match`.
#[utoipa::path(
    tag = "accounts", operation_id = "get_account", security(("bearer" = [])),
    params(("account_id" = Uuid, Path, description = "The account")),
    responses((status = 200, description = "The account; `ETag` is its version", body = AccountView)),
    extensions(("x-authorization" = json!(Requirement::member())))
)]
#[get("")]
pub async fn get_account(state: web::Data<AppState>, member: AccountMember) -> Result<HttpResponse, ApiError> {
    let account_id = member.account_id;
    let account = state.db(move |conn| Ok(accounts::find(conn, account_id)?)).await?.ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Ok().insert_header((header::ETAG, flows::account_tag(&account))).json(AccountView::from(account)))
}

#[derive(Serialize, ToSchema)]
#[schema(example = json!({"used": 12, "limit": 50}))]
pub struct SeatsView {
    /// Members plus pending invitations.
    pub used: u64,
    /// `null`: unlimited.
    pub limit: Option<u32>,
}

#[derive(Serialize, ToSchema)]
#[schema(as = AccountPlan, example = json!({
    "key": "professional", "name": "Professional",
    "features": ["custom_roles", "groups", "join_links", "spreadsheet_import", "api_keys"],
    "seats": {"used": 12, "limit": 50}
}))]
pub struct PlanView {
    pub key: String,
    pub name: String,
    /// What the plan includes; operations of other features answer 403
    /// `plan_upgrade_required`.
    #[schema(value_type = Vec<PlanFeatureName>)]
    pub features: Vec<&'static str>,
    pub seats: SeatsView,
}

/// A feature a plan can include.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case", example = "api_keys")]
#[allow(dead_code)] // only its schema is used
pub enum PlanFeatureName {
    CustomRoles,
    Groups,
    JoinLinks,
    SpreadsheetImport,
    ApiKeys,
    LinkedAccounts,
    Webhooks,
    AuditExport,
    AccessReviews,
    VerifiedDomains,
    DirectorySync,
}

/// The account's plan: its features and the seats used against its limit.
#[utoipa::path(
    tag = "accounts", operation_id = "get_account_plan", security(("bearer" = [])),
    params(("account_id" = Uuid, Path, description = "The account")),
    responses((status = 200, description = "The plan", body = PlanView)),
    extensions(("x-authorization" = json!(Requirement::member())))
)]
#[get("/plan")]
pub async fn get_account_plan(state: web::Data<AppState>, member: AccountMember) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(plan_view(&state, member.account_id).await?))
}

/// The account's plan with the seats it uses; 404 when there is no such
/// account.
pub(crate) async fn plan_view(state: &web::Data<AppState>, account_id: Uuid) -> Result<PlanView, ApiError> {
    let now = state.clock.now();
    let (stored, used) = state
        .db(move |conn| {
            let stored = accounts::plan_of(conn, account_id)?.ok_or(ApiError::NotFound)?;
            Ok((stored, accounts::seats_used(conn, account_id, now)?))
        })
        .await?;
    let plan = state.deployment.plans.of_account(&stored);
    Ok(PlanView {
        key: plan.key.clone(),
        name: plan.name.clone(),
        features: plan.features.iter().map(|feature| feature.key()).collect(),
        seats: SeatsView { used, limit: plan.seats },
    })
}

/// Rename an account (needs `settings:manage`). Send its `ETag` as
/// `If-Match` (428 without it, 412 when stale).
#[utoipa::path(
    tag = "accounts", operation_id = "update_account", security(("bearer" = [])), request_body = AccountNameRequest,
    params(("account_id" = Uuid, Path, description = "The account"), ("If-Match" = String, Header, description = "The ETag last read; without it the answer is 428, with a stale one 412")),
    responses(
        (status = 200, description = "The updated account; `ETag` is its new version", body = AccountView),
        (status = 412, description = "Changed since read (`precondition_failed`)", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing (`precondition_required`)", body = Problem, content_type = "application/problem+json"),
    ),
    extensions(("x-authorization" = json!(Requirement::account(Permission::SettingsManage))))
)]
#[patch("")]
pub async fn update_account(
    state: web::Data<AppState>,
    member: AccountMember,
    origin: Origin,
    request: HttpRequest,
    body: JsonBody<AccountNameRequest>,
) -> Result<HttpResponse, ApiError> {
    let (name,) = (("name", AccountName::parse(&body.0.name)),).parse_fields()?;
    let (account_id, tag) = (member.account_id, crate::http::headers::if_match(&request));
    let account = state
        .flow(member.actor(), origin, move |conn, ctx| flows::rename(conn, ctx, account_id, &name, tag.as_deref()))
        .await?;
    Ok(HttpResponse::Ok().insert_header((header::ETAG, flows::account_tag(&account))).json(AccountView::from(account)))
}
