//! Headers every response carries.
//!
//! `Cache-Control: no-store` by default: almost every response is about one
//! caller, and several carry tokens or secrets shown once (sign-in,
//! refresh, join-link and webhook secrets), which must not sit in a browser
//! or proxy cache. A handler that knows better sets its own.

use actix_web::http::header::{self, HeaderMap, HeaderValue};

/// Marks a response that carries a secret shown once (a webhook's signing
/// secret, an API key) `no-store` itself, whatever the default above
/// becomes.
pub fn no_store(mut response: actix_web::HttpResponse) -> actix_web::HttpResponse {
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The version a change was read at (`If-Match`), if the request names one.
pub fn if_match(request: &actix_web::HttpRequest) -> Option<String> {
    request.headers().get(header::IF_MATCH).and_then(|value| value.to_str().ok()).map(str::to_owned)
}

/// What a JSON answer may load or be framed by: nothing. A response read as
/// a page (a problem document opened in a tab) runs nothing and cannot be
/// framed for clickjacking.
const API_CSP: HeaderValue = HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'");

/// Swagger UI at `/docs`: its own scripts and styles (React sets inline
/// style attributes), its data-URI icons, and requests to this origin only
/// (the document, "Try it out"); no framing, no forms elsewhere.
const DOCS_CSP: HeaderValue = HeaderValue::from_static(
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; \
     font-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
);

/// A year, as browsers expect for HSTS.
const HSTS: HeaderValue = HeaderValue::from_static("max-age=31536000; includeSubDomains");

/// Sets the headers every response carries. `https`: the deployment is
/// served over https (Strict-Transport-Security means nothing over http, and
/// would be wrong for local development); `docs`: the response is Swagger
/// UI's.
pub fn secure(headers: &mut HeaderMap, https: bool, docs: bool) {
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::CONTENT_SECURITY_POLICY, if docs { DOCS_CSP } else { API_CSP });
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if https {
        headers.insert(header::STRICT_TRANSPORT_SECURITY, HSTS);
    }
}
