//! The operator API: what whoever runs the deployment (or its billing
//! system) does to accounts, authenticated by the operator token rather
//! than by a user. It is off until `ROSTER_OPERATOR_TOKEN_SHA256` is set.

use actix_web::{HttpResponse, get, put, web};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::accounts::{PlanView, plan_view};
use crate::flows::accounts as flows;
use crate::flows::{Actor, Origin};
use crate::http::caller::Operator;
use crate::http::extract::JsonBody;
use crate::http::problem::{ApiError, Problem};
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
