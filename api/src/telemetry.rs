//! Logs and request ids. Every request runs in a span carrying its request
//! id, which is also returned as `x-request-id`; a caller's own id is kept
//! when it is a sane token. Paths are logged without query strings, because
//! some links carry secrets there.

use std::time::Instant;

use actix_web::HttpMessage;
use actix_web::dev::ServiceRequest;
use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
use tracing_subscriber::EnvFilter;

use crate::config::{LogFormat, Settings};

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The request's id, in the request's extensions for handlers to read.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

pub fn init(settings: &Settings) {
    let filter = EnvFilter::try_new(&settings.log).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    // try_init: tests start many servers in one process and only the first
    // may install the global subscriber.
    let _ = match settings.log_format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}

fn incoming_request_id(req: &ServiceRequest) -> Option<HeaderValue> {
    let value = req.headers().get(&REQUEST_ID)?;
    let raw = value.to_str().ok()?;
    let sane = (1..=128).contains(&raw.len()) && raw.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
    sane.then(|| value.clone())
}

/// A random UUID from the thread's generator: `Uuid::new_v4` asks the
/// operating system, a system call on every request.
fn new_request_id() -> HeaderValue {
    let id = uuid::Builder::from_random_bytes(rand::random()).into_uuid();
    let mut text = uuid::Uuid::encode_buffer();
    HeaderValue::from_str(id.hyphenated().encode_lower(&mut text)).unwrap_or(HeaderValue::from_static("invalid"))
}

/// A request's id and span, from its start to its response
/// ([`crate::http::edge`]).
pub struct RequestTrace {
    id: HeaderValue,
    pub span: tracing::Span,
    started: Instant,
}

impl RequestTrace {
    /// Takes the caller's id or makes one, and leaves it in the request's
    /// extensions for handlers.
    pub fn begin(req: &ServiceRequest) -> Self {
        let id = incoming_request_id(req).unwrap_or_else(new_request_id);
        req.extensions_mut().insert(RequestId(id.to_str().unwrap_or_default().to_owned()));
        let span = tracing::info_span!(
            "request",
            request_id = id.to_str().unwrap_or_default(),
            method = %req.method(),
            path = req.path(),
        );
        RequestTrace { id, span, started: Instant::now() }
    }

    /// Logs the outcome and returns the id to the caller.
    pub fn finish(self, status: StatusCode, headers: &mut HeaderMap) {
        self.span.in_scope(|| {
            tracing::info!(
                status = status.as_u16(),
                elapsed_ms = self.started.elapsed().as_millis() as u64,
                "request finished"
            );
        });
        headers.insert(REQUEST_ID, self.id);
    }
}
