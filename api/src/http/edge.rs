//! What every request of the API goes through first and last, in one
//! layer: its id and span ([`crate::telemetry`]), the problem format for
//! errors made outside our handlers, the headers every response carries
//! ([`super::headers`]), and its timing in the metrics. One middleware
//! rather than four: each layer costs a boxed future and its polls on every
//! request, about a tenth of the authorization check's throughput for the
//! four (BENCHMARKS.md).

use std::time::Instant;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{ResponseError, web};
use tracing::Instrument;

use super::headers;
use super::problem::{ApiError, PROBLEM_JSON};
use super::state::AppState;
use crate::telemetry::RequestTrace;

pub async fn edge(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let started = Instant::now();
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let https = state.as_ref().is_some_and(|state| state.settings.public_url.starts_with("https://"));
    let docs = req.path().starts_with("/docs");
    let method = req.method().clone();
    let trace = RequestTrace::begin(&req);
    let span = trace.span.clone();
    let response = next.call(req).instrument(span).await?;
    let mut response = as_problem(response);
    headers::secure(response.headers_mut(), https, docs);
    let status = response.status();
    trace.finish(status, response.headers_mut());
    if let Some(state) = state {
        let route = response.request().match_pattern().unwrap_or_else(|| "unmatched".to_owned());
        state.metrics.observe(method.as_str(), route, status.as_u16(), started.elapsed().as_secs_f64());
    }
    Ok(response)
}

/// Error responses made outside our handlers (actix's router and
/// extractors) get the problem format too; ours have it already, and SCIM
/// answers its errors in its own.
fn as_problem<B>(response: ServiceResponse<B>) -> ServiceResponse<EitherBody<B>> {
    let status = response.status();
    let is_error = status.is_client_error() || status.is_server_error();
    let formatted = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|value| value == PROBLEM_JSON || value == super::scim::SCIM_JSON);
    if !is_error || formatted {
        return response.map_into_left_body();
    }
    let (request, original) = response.into_parts();
    let mut problem = ApiError::from_status(status).error_response();
    // Keep what the layers inside said about the response (CORS, Allow, …).
    for (name, value) in original.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            problem.headers_mut().append(name.clone(), value.clone());
        }
    }
    ServiceResponse::new(request, problem).map_into_right_body()
}
