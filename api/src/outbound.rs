//! HTTP requests Roster makes to addresses its users chose: webhook
//! deliveries. Guarded against server-side request forgery: only https,
//! never to a loopback, private, link-local, unique-local or metadata
//! address ([`domain::webhook::is_public_address`]), checked on the address
//! actually connected to (a resolver that drops such addresses, so DNS
//! rebinding does not pass), no redirects, a short timeout and a bounded
//! response read. Signed as the Standard Webhooks specification says.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_lc_rs::hmac;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use domain::webhook::is_public_address;
use rand::RngCore;
use reqwest::Url;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Where webhooks may go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reach {
    /// Private networks and plain http too (development and tests only).
    pub private_networks: bool,
}

/// Why a webhook URL is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlRefused {
    #[error("not a URL: {0}")]
    Malformed(String),
    #[error("webhooks are sent over https only")]
    NotHttps,
    #[error("the URL may not carry a user name or password")]
    Credentials,
    #[error("{0} is not a public address")]
    NotPublic(String),
}

impl UrlRefused {
    pub fn code(&self) -> &'static str {
        match self {
            UrlRefused::Malformed(_) => "invalid_url",
            UrlRefused::NotHttps => "https_required",
            UrlRefused::Credentials => "invalid_url",
            UrlRefused::NotPublic(_) => "private_address",
        }
    }
}

/// The longest accepted webhook URL.
pub const MAX_URL_CHARS: usize = 2_000;

/// Checks a URL as given, without DNS: shape, scheme and IP literals.
pub fn check_url_shape(raw: &str, reach: Reach) -> Result<Url, UrlRefused> {
    if raw.chars().count() > MAX_URL_CHARS {
        return Err(UrlRefused::Malformed(format!("at most {MAX_URL_CHARS} characters")));
    }
    // The contract's pattern has no room for them; `Url::parse` would drop them.
    if raw.trim() != raw {
        return Err(UrlRefused::Malformed("white space around the URL".into()));
    }
    let url = Url::parse(raw).map_err(|e| UrlRefused::Malformed(e.to_string()))?;
    match (url.scheme(), reach.private_networks) {
        ("https", _) | ("http", true) => {}
        _ => return Err(UrlRefused::NotHttps),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(UrlRefused::Credentials);
    }
    match url.host() {
        None => return Err(UrlRefused::Malformed("the URL names no host".into())),
        Some(url::Host::Ipv4(ip)) if !reach.private_networks && !is_public_address(IpAddr::V4(ip)) => {
            return Err(UrlRefused::NotPublic(ip.to_string()));
        }
        Some(url::Host::Ipv6(ip)) if !reach.private_networks && !is_public_address(IpAddr::V6(ip)) => {
            return Err(UrlRefused::NotPublic(ip.to_string()));
        }
        _ => {}
    }
    Ok(url)
}

/// Checks a URL as given and, for a host name, what it resolves to now: a
/// name that resolves to an internal address is refused when the endpoint
/// is saved. (Delivery checks again on every connection.) A name that does
/// not resolve yet is accepted: deliveries will fail until it does.
pub async fn check_url(raw: &str, reach: Reach) -> Result<Url, UrlRefused> {
    let url = check_url_shape(raw, reach)?;
    if let (false, Some(url::Host::Domain(host))) = (reach.private_networks, url.host()) {
        let port = url.port_or_known_default().unwrap_or(443);
        if let Ok(addresses) = tokio::net::lookup_host((host, port)).await {
            for address in addresses {
                if !is_public_address(address.ip()) {
                    return Err(UrlRefused::NotPublic(format!("{host} ({})", address.ip())));
                }
            }
        }
    }
    Ok(url)
}

/// A resolver that hands the connector public addresses only: whatever a
/// name resolves to at delivery time, an internal address is never dialled.
struct PublicAddressesOnly;

impl Resolve for PublicAddressesOnly {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let public: Vec<SocketAddr> = found.into_iter().filter(|a| is_public_address(a.ip())).collect();
            if public.is_empty() {
                return Err(format!("{host} resolves to no public address").into());
            }
            Ok(Box::new(public.into_iter()) as Addrs)
        })
    }
}

/// The client outbound requests go through (`user_agent` says which
/// part of Roster sends them).
pub fn client(reach: Reach, user_agent: &'static str) -> Result<reqwest::Client, reqwest::Error> {
    let mut builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(5))
        .connect_timeout(Duration::from_secs(5))
        .no_proxy()
        .user_agent(format!("{user_agent}/{}", env!("CARGO_PKG_VERSION")));
    if !reach.private_networks {
        builder = builder.dns_resolver(Arc::new(PublicAddressesOnly));
    }
    builder.build()
}

/// Response bodies are read this far and no further.
pub const MAX_RESPONSE_BYTES: usize = 64 * 1024;

/// What a receiver answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// `None`: no HTTP answer (refused, unreachable, timed out).
    pub status: Option<u16>,
    pub error: Option<String>,
    pub duration: Duration,
}

/// POSTs `body` with the Standard Webhooks headers.
pub async fn post(
    client: &reqwest::Client,
    url: &Url,
    reach: Reach,
    headers: [(&'static str, String); 3],
    body: String,
) -> Answer {
    let started = Instant::now();
    // A URL whose host is an IP literal is connected to without the
    // resolver: check it here too, in case it was stored before a policy
    // change.
    if let Err(refused) = check_url_shape(url.as_str(), reach) {
        return Answer { status: None, error: Some(refused.to_string()), duration: started.elapsed() };
    }
    let mut request = client.post(url.clone()).header(reqwest::header::CONTENT_TYPE, "application/json");
    for (name, value) in headers {
        request = request.header(name, value);
    }
    match request.body(body).send().await {
        Ok(mut response) => {
            let status = response.status().as_u16();
            let mut read = 0;
            while read < MAX_RESPONSE_BYTES {
                match response.chunk().await {
                    Ok(Some(chunk)) => read += chunk.len(),
                    _ => break,
                }
            }
            let error = (!(200..300).contains(&status)).then(|| format!("answered {status}"));
            Answer { status: Some(status), error, duration: started.elapsed() }
        }
        Err(error) => Answer { status: None, error: Some(describe(&error)), duration: started.elapsed() },
    }
}

/// A transport error with its causes, which say what actually failed.
pub fn describe(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// A new signing secret as the specification serialises it: `whsec_` and
/// the base64 of 32 random bytes.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("whsec_{}", STANDARD.encode(bytes))
}

/// The `v1,…` signature of one message with one secret: base64 HMAC-SHA256
/// of `{id}.{timestamp}.{body}` keyed with the secret's bytes.
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &str) -> Option<String> {
    let key = STANDARD.decode(secret.strip_prefix("whsec_").unwrap_or(secret)).ok()?;
    let key = hmac::Key::new(hmac::HMAC_SHA256, &key);
    let tag = hmac::sign(&key, format!("{id}.{timestamp}.{body}").as_bytes());
    Some(format!("v1,{}", STANDARD.encode(tag.as_ref())))
}

#[cfg(test)]
mod tests {
    use super::*;

    const GUARDED: Reach = Reach { private_networks: false };

    #[test]
    fn signatures_match_the_specifications_test_vector() {
        let signature = sign(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1_614_265_330,
            r#"{"test": 2432232314}"#,
        );
        assert_eq!(signature.as_deref(), Some("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="));
        assert!(new_secret().starts_with("whsec_"));
        assert_ne!(new_secret(), new_secret());
    }

    #[test]
    fn urls_must_be_https_to_public_hosts() {
        assert!(check_url_shape("https://hooks.example.com/roster", GUARDED).is_ok());
        for (url, code) in [
            ("http://hooks.example.com/", "https_required"),
            ("ftp://hooks.example.com/", "https_required"),
            ("not a url", "invalid_url"),
            ("https://user:pw@hooks.example.com/", "invalid_url"),
            ("https://127.0.0.1/", "private_address"),
            ("https://10.0.0.1/", "private_address"),
            ("https://169.254.169.254/latest/meta-data", "private_address"),
            ("https://[::1]/", "private_address"),
            ("https://[::ffff:10.0.0.1]/", "private_address"),
        ] {
            assert_eq!(check_url_shape(url, GUARDED).unwrap_err().code(), code, "{url}");
        }
        let local = Reach { private_networks: true };
        assert!(check_url_shape("http://127.0.0.1:9000/hook", local).is_ok());
    }

    #[tokio::test]
    async fn names_resolving_to_internal_addresses_are_refused() {
        let refused = check_url("https://localhost/hook", GUARDED).await.unwrap_err();
        assert_eq!(refused.code(), "private_address");
        // Even if such a URL got stored, the delivery resolver dials none of
        // its addresses.
        let resolved = PublicAddressesOnly.resolve("localhost".parse().unwrap()).await;
        assert!(resolved.is_err());
    }
}
