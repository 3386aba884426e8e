use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
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

/// What deleting an account needs: its name, repeated.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
// Not the name examples elsewhere give an account: a contract run that
// renames its account with those must not then delete it with this.
#[schema(example = json!({"confirm_name": "Globex Corporation"}))]
pub struct DeleteAccountRequest {
    /// The account's name, exactly as it is: the confirmation that this
    /// is the account to delete.
    #[schema(schema_with = label_schema)]
    pub confirm_name: String,
}

/// An account's deletion while it waits out its grace period.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({
    "status": "pending_deletion", "requested_by": "01937a2e-4c1d-7b6a-9f3e-2a1b0c9d8e7f",
    "requested_at": "2026-12-07T10:00:00Z", "erase_after": "2027-01-06T10:00:00Z"
}))]
pub struct AccountDeletionView {
    /// Always `pending_deletion`.
    #[schema(value_type = AccountDeletionStatusName)]
    pub status: &'static str,
    pub requested_by: Option<Uuid>,
    pub requested_at: DateTime<Utc>,
    /// When the account is erased unless an owner restores it first.
    pub erase_after: DateTime<Utc>,
}

/// Where an account's deletion stands: while there is one, it waits.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case", example = "pending_deletion")]
#[allow(dead_code)] // only its schema is used: the view carries the text
pub enum AccountDeletionStatusName {
    PendingDeletion,
}

impl From<accounts::PendingDeletion> for AccountDeletionView {
    fn from(deletion: accounts::PendingDeletion) -> Self {
        AccountDeletionView {
            status: "pending_deletion",
            requested_by: deletion.requested_by,
            requested_at: deletion.requested_at,
            erase_after: deletion.erase_after,
        }
    }
}

/// Delete the account (needs `account:delete`: owners). It waits out the
/// deployment's grace period (`ROSTER_ACCOUNT_DELETION_GRACE_DAYS`, 30 by
/// default) as `pending_deletion`: nothing in it can change (writes answer
/// 409 `account_pending_deletion`), its invitations and join links stop
/// working, its API keys, directory tokens and webhooks stop, and every
/// member is emailed. An owner can restore it until `erase_after`; then
/// it is erased for good, and only its sealed audit log remains, for the
/// audit retention period.
#[utoipa::path(
    tag = "accounts", operation_id = "delete_account", security(("bearer" = [])), request_body = DeleteAccountRequest,
    params(("account_id" = Uuid, Path, description = "The account")),
    responses(
        (status = 202, description = "The deletion, waiting; `Location` names it", body = AccountDeletionView),
        (status = 409, description = "Its deletion waits already (`account_pending_deletion`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`confirm_name` is not the account's name (`validation_failed`, `name_mismatch`)", body = Problem, content_type = "application/problem+json"),
    ),
    extensions(("x-authorization" = json!(Requirement::account(Permission::AccountDelete))))
)]
#[delete("")]
pub async fn delete_account(
    state: web::Data<AppState>,
    member: AccountMember,
    origin: Origin,
    body: JsonBody<DeleteAccountRequest>,
) -> Result<HttpResponse, ApiError> {
    let (grantor, confirm_name, account) = (member.grantor(), body.0.confirm_name, member.account_id);
    let deletion = state
        .flow(member.actor(), origin, move |conn, ctx| flows::request_deletion(conn, ctx, &grantor, &confirm_name))
        .await?;
    Ok(HttpResponse::Accepted()
        .insert_header((header::LOCATION, format!("/v1/accounts/{account}/deletion")))
        .json(AccountDeletionView::from(deletion)))
}

/// The account's deletion, while it waits (404 when it is not deleted):
/// every member may see it.
#[utoipa::path(
    tag = "accounts", operation_id = "get_account_deletion", security(("bearer" = [])),
    params(("account_id" = Uuid, Path, description = "The account")),
    responses(
        (status = 200, description = "The deletion, waiting", body = AccountDeletionView),
        (status = 404, description = "The account is not being deleted, or not visible to the caller (`not_found`)", body = Problem, content_type = "application/problem+json"),
    ),
    extensions(("x-authorization" = json!(Requirement::member())))
)]
#[get("/deletion")]
pub async fn get_account_deletion(state: web::Data<AppState>, member: AccountMember) -> Result<HttpResponse, ApiError> {
    let account = member.account_id;
    let deletion = state.db(move |conn| Ok(accounts::pending_deletion(conn, account)?)).await?;
    Ok(HttpResponse::Ok().json(AccountDeletionView::from(deletion.ok_or(ApiError::NotFound)?)))
}

/// Restore an account whose deletion waits (needs `account:delete`):
/// everything in it works again, and every member is emailed.
#[utoipa::path(
    tag = "accounts", operation_id = "restore_account", security(("bearer" = [])),
    params(("account_id" = Uuid, Path, description = "The account")),
    responses(
        (status = 200, description = "The account, restored", body = AccountView),
        (status = 409, description = "The account is not being deleted (`account_not_pending_deletion`)", body = Problem, content_type = "application/problem+json"),
    ),
    extensions(("x-authorization" = json!(Requirement::account(Permission::AccountDelete))))
)]
#[post("/restore")]
pub async fn restore_account(
    state: web::Data<AppState>,
    member: AccountMember,
    origin: Origin,
) -> Result<HttpResponse, ApiError> {
    let grantor = member.grantor();
    let account = state.flow(member.actor(), origin, move |conn, ctx| flows::restore(conn, ctx, &grantor)).await?;
    Ok(HttpResponse::Ok().insert_header((header::ETAG, flows::account_tag(&account))).json(AccountView::from(account)))
}
