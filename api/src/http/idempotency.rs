//! `Idempotency-Key` on POST requests of signed-in callers. The first
//! request with a key runs and its response is stored; a retry with the same
//! key and the same request gets that response again (marked
//! `Idempotent-Replayed: true`) instead of a second invitation, import or
//! link. The same key with a different request is refused, and so is a
//! retry while the first is still running (409 each, with its own code). Server errors are not
//! stored, so a retry after one runs again. Keys are kept 24 hours.
//!
//! The stored response is written after the handler's transaction, not in
//! it: if the process dies in between, a retry more than a minute later
//! runs again.

use actix_web::body::{BoxBody, MessageBody, to_bytes};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpResponse, web};
use futures_util::StreamExt;
use persistence::idempotency::{self, Claim, StoredResponse};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::http::caller::authenticate;
use crate::http::problem::ApiError;
use crate::http::state::AppState;

pub const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
pub const REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");

/// A key is 1 to 255 visible ASCII characters (a UUID is typical).
fn parse_key(value: &HeaderValue) -> Result<String, ApiError> {
    match value.to_str() {
        Ok(key) if (1..=255).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic()) => Ok(key.to_owned()),
        _ => Err(ApiError::field(
            "Idempotency-Key",
            "invalid_format",
            "Send 1 to 255 visible ASCII characters, for example a UUID.",
        )),
    }
}

/// Identifies the request a key was used with: a key reused for another
/// request is a client bug, not a retry.
fn fingerprint(req: &ServiceRequest, body: &[u8]) -> String {
    let content_type = req.headers().get(header::CONTENT_TYPE).map(HeaderValue::as_bytes).unwrap_or_default();
    let mut hash = Sha256::new();
    for part in [req.method().as_str().as_bytes(), req.path().as_bytes(), req.query_string().as_bytes(), content_type] {
        hash.update(part);
        hash.update([0]);
    }
    hash.update(body);
    base16ct::lower::encode_string(&hash.finalize())
}

fn replay(stored: StoredResponse) -> HttpResponse {
    let mut response = HttpResponse::build(StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK));
    response.insert_header((REPLAYED, "true"));
    if let Some(content_type) = stored.content_type {
        response.insert_header((header::CONTENT_TYPE, content_type));
    }
    if let Some(location) = stored.location {
        response.insert_header((header::LOCATION, location));
    }
    response.body(stored.body)
}

async fn read_body(req: &mut ServiceRequest, limit: usize) -> Result<web::Bytes, ApiError> {
    let mut payload = req.take_payload();
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|error| ApiError::MalformedBody(error.to_string()))?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::PayloadTooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// The one route whose body may be a spreadsheet.
const IMPORT_ROUTE: &str = "/v1/accounts/{account_id}/invitation-imports";

pub async fn idempotency_middleware(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let Some(value) = req.headers().get(IDEMPOTENCY_KEY).filter(|_| req.method() == Method::POST).cloned() else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    // Anonymous requests run as usual (and get their 401 where one is due)
    // before their key is looked at: authentication comes first.
    let (Ok(user), Some(state)) = (authenticate(req.request()), req.app_data::<web::Data<AppState>>().cloned()) else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let key = match parse_key(&value) {
        Ok(key) => key,
        Err(error) => return Ok(req.error_response(error)),
    };
    // Spreadsheet uploads are the largest bodies; no other route may make
    // this middleware hold that much.
    let limit = if req.match_pattern().as_deref() == Some(IMPORT_ROUTE) {
        state.settings.body_limit_bytes.max(domain::import::MAX_BYTES)
    } else {
        state.settings.body_limit_bytes
    };
    let body = match read_body(&mut req, limit).await {
        Ok(body) => body,
        Err(error) => return Ok(req.error_response(error)),
    };
    let print = fingerprint(&req, &body);
    req.set_payload(Payload::from(body));
    let (user, now, claimed_key) = (user.id, state.clock.now(), key.clone());
    let claim = state
        .db(move |conn| match idempotency::claim(conn, user, &claimed_key, &print, now) {
            // A validly signed token of a user deleted since.
            Err(persistence::StoreError::MissingReference) => Err(ApiError::Unauthenticated),
            other => Ok(other?),
        })
        .await;
    match claim {
        Ok(Claim::Proceed) => {}
        Ok(Claim::Replay(stored)) => return Ok(req.into_response(replay(stored))),
        Ok(Claim::Mismatch) => {
            let error = ApiError::Conflict {
                code: "idempotency_key_reused",
                detail: "This Idempotency-Key was used with a different request; use a new key for a new request."
                    .into(),
            };
            return Ok(req.error_response(error));
        }
        Ok(Claim::InProgress) => {
            let error = ApiError::Conflict {
                code: "idempotency_key_in_progress",
                detail: "A request with this Idempotency-Key is still being processed; retry in a moment.".into(),
            };
            return Ok(req.error_response(error));
        }
        Err(error) => return Ok(req.error_response(error)),
    }
    let response = next.call(req).await?.map_into_boxed_body();
    remember(&state, user, key, response).await
}

/// Stores the response under the key (or gives the key back after a server
/// error) and returns it unchanged.
async fn remember(
    state: &web::Data<AppState>,
    user: Uuid,
    key: String,
    response: ServiceResponse<BoxBody>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let (request, response) = response.into_parts();
    let (head, body) = response.into_parts();
    let bytes = to_bytes(body).await.map_err(|error| ApiError::internal(error.to_string()))?;
    let status = head.status();
    let header_text =
        |name| head.headers().get(name).and_then(|value: &HeaderValue| value.to_str().ok()).map(str::to_owned);
    let stored = StoredResponse {
        status: status.as_u16(),
        content_type: header_text(header::CONTENT_TYPE),
        location: header_text(header::LOCATION),
        body: String::from_utf8_lossy(&bytes).into_owned(),
    };
    let recorded = state
        .db(move |conn| {
            if status.is_server_error() {
                idempotency::release(conn, user, &key)?;
            } else {
                idempotency::complete(conn, user, &key, &stored)?;
            }
            Ok(())
        })
        .await;
    if let Err(error) = recorded {
        tracing::warn!(%error, "could not record an idempotent response");
    }
    Ok(ServiceResponse::new(request, head.set_body(BoxBody::new(bytes))))
}
