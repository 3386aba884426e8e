use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::http::problem::ApiError;
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
#[schema(example = json!({"status": "ok"}))]
pub struct HealthStatus {
    /// `ok` when the check passed.
    pub status: &'static str,
}

/// Liveness: the process is up and serving.
#[utoipa::path(tag = "operations", operation_id = "healthz", responses((status = 200, description = "The process is alive", body = HealthStatus)))]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(HealthStatus { status: "ok" })
}

/// Readiness: the database answers and every migration is applied.
#[utoipa::path(tag = "operations", operation_id = "readyz", responses((status = 200, description = "Ready to serve traffic", body = HealthStatus)))]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let pending = state
        .db(|conn| persistence::migrations_pending(conn).map_err(|e| ApiError::Unavailable(e.to_string())))
        .await?;
    if pending {
        return Err(ApiError::Unavailable("database migrations are pending".into()));
    }
    Ok(HttpResponse::Ok().json(HealthStatus { status: "ok" }))
}
