//! Cross-origin calls from browsers. Pages served from the public URL's own
//! origin always may call; other origins only when listed in
//! `ROSTER_CORS_ALLOWED_ORIGINS`. Roster's credentials are bearer tokens a
//! page sends itself, never cookies, so responses never carry
//! `Access-Control-Allow-Credentials` and `*` is safe to offer.

use actix_cors::Cors;
use actix_web::http::Method;
use actix_web::http::header;

use crate::http::idempotency::{IDEMPOTENCY_KEY, REPLAYED};
use crate::http::rate_limit::{RATE_LIMIT, RATE_LIMIT_POLICY};
use crate::telemetry::REQUEST_ID;

/// How long a browser may cache a preflight answer, in seconds.
const PREFLIGHT_MAX_AGE: usize = 3600;

/// Which origins may call, parsed and checked once at start-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AllowedOrigins {
    Any,
    /// Serialised origins (`https://app.example.com`), the public URL's
    /// first.
    Listed(Vec<String>),
}

impl AllowedOrigins {
    /// The public URL's origin plus the configured ones. An entry that is
    /// not a bare origin (a path, a query, another scheme) is refused, so a
    /// typo does not silently leave a frontend locked out.
    pub fn parse(public_url: &str, configured: &[String]) -> Result<Self, String> {
        let configured: Vec<&str> = configured.iter().map(|o| o.trim()).filter(|o| !o.is_empty()).collect();
        if configured.contains(&"*") {
            return Ok(AllowedOrigins::Any);
        }
        let mut origins = vec![origin_of(public_url).map_err(|e| format!("ROSTER_PUBLIC_URL: {e}"))?];
        for entry in configured {
            let origin = origin_of(entry).map_err(|e| format!("ROSTER_CORS_ALLOWED_ORIGINS: {entry:?}: {e}"))?;
            if origin != entry.trim_end_matches('/') {
                return Err(format!("ROSTER_CORS_ALLOWED_ORIGINS: {entry:?} is not an origin; write it as {origin:?}"));
            }
            if !origins.contains(&origin) {
                origins.push(origin);
            }
        }
        Ok(AllowedOrigins::Listed(origins))
    }

    /// The middleware; built per worker (it is not `Send`).
    pub fn middleware(&self) -> Cors {
        let cors = match self {
            AllowedOrigins::Any => Cors::default().allow_any_origin().send_wildcard(),
            AllowedOrigins::Listed(origins) => {
                origins.iter().fold(Cors::default(), |cors, origin| cors.allowed_origin(origin))
            }
        };
        cors.allowed_methods([Method::GET, Method::POST, Method::PUT, Method::PATCH, Method::DELETE])
            .allowed_headers([
                header::AUTHORIZATION,
                header::ACCEPT,
                header::CONTENT_TYPE,
                header::IF_MATCH,
                header::IF_NONE_MATCH,
                IDEMPOTENCY_KEY,
                REQUEST_ID,
            ])
            .expose_headers([
                header::ETAG,
                header::LOCATION,
                header::RETRY_AFTER,
                RATE_LIMIT,
                RATE_LIMIT_POLICY,
                REQUEST_ID,
                REPLAYED,
            ])
            .max_age(PREFLIGHT_MAX_AGE)
    }
}

fn origin_of(url: &str) -> Result<String, String> {
    let parsed = url::Url::parse(url).map_err(|e| e.to_string())?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err("only http and https origins can call".into());
    }
    if parsed.path() != "/" || parsed.query().is_some() || parsed.fragment().is_some() {
        return Err("an origin has no path, query or fragment".into());
    }
    Ok(parsed.origin().ascii_serialization())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed(configured: &[&str]) -> Result<AllowedOrigins, String> {
        let configured: Vec<String> = configured.iter().map(|s| s.to_string()).collect();
        AllowedOrigins::parse("https://roster.example.com/", &configured)
    }

    #[test]
    fn the_public_origin_is_always_allowed() {
        assert_eq!(listed(&[]), Ok(AllowedOrigins::Listed(vec!["https://roster.example.com".into()])));
    }

    #[test]
    fn configured_origins_are_added_once() {
        let allowed = listed(&["https://app.example.com", " http://localhost:5173/", "https://roster.example.com"]);
        assert_eq!(
            allowed,
            Ok(AllowedOrigins::Listed(vec![
                "https://roster.example.com".into(),
                "https://app.example.com".into(),
                "http://localhost:5173".into(),
            ]))
        );
    }

    #[test]
    fn a_star_allows_any_origin() {
        assert_eq!(listed(&["https://app.example.com", "*"]), Ok(AllowedOrigins::Any));
    }

    #[test]
    fn entries_that_are_not_origins_are_refused() {
        for bad in ["https://app.example.com/login", "app.example.com", "ftp://files.example.com", "https://a.b/?x=1"] {
            assert!(listed(&[bad]).is_err(), "{bad} was accepted");
        }
    }

    #[test]
    fn default_ports_are_normalised_away() {
        assert!(listed(&["https://app.example.com:443"]).is_err(), "should be told to write it without :443");
        assert!(listed(&["http://localhost:8080"]).is_ok());
    }
}
