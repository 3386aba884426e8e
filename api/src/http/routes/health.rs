use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::http::problem::{ApiError, Problem};
use crate::http::state::AppState;

#[derive(Serialize, ToSchema)]
#[schema(example = json!({"status": "ok"}))]
pub struct HealthStatus {
    /// `ok` when the check passed (a failed check is a 503 problem).
    #[schema(value_type = HealthStateName)]
    pub status: &'static str,
}

/// What a passed check reports.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case", example = "ok")]
#[allow(dead_code)] // only its schema is used: the probe answers the text
pub enum HealthStateName {
    Ok,
}

/// Liveness: the process is up and serving.
#[utoipa::path(tag = "operations", operation_id = "healthz", responses((status = 200, description = "The process is alive", body = HealthStatus)))]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(HealthStatus { status: "ok" })
}

/// Readiness: the database answers and every migration is applied. Answers
/// within [`READINESS_DEADLINE`] either way, so that a load balancer's probe
/// is not left hanging while the database is away.
#[utoipa::path(
    tag = "operations", operation_id = "readyz",
    responses(
        (status = 200, description = "Ready to serve traffic", body = HealthStatus),
        (status = 503, description = "The database is unreachable or migrations are pending (`unavailable`); retry after `Retry-After` seconds", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let check =
        state.db(|conn| persistence::migrations_pending(conn).map_err(|e| ApiError::Unavailable(e.to_string())));
    let pending = tokio::time::timeout(READINESS_DEADLINE, check)
        .await
        .map_err(|_| ApiError::Unavailable("the database did not answer the readiness check in time".into()))??;
    if pending {
        return Err(ApiError::Unavailable("database migrations are pending".into()));
    }
    Ok(HttpResponse::Ok().json(HealthStatus { status: "ok" }))
}

/// Below the usual one-second probe timeout.
const READINESS_DEADLINE: std::time::Duration = std::time::Duration::from_millis(900);
