//! Roster as an OpenID Connect relying party, with the `openidconnect`
//! crate doing the protocol: discovery, the authorization URL with state,
//! nonce and PKCE S256, the code exchange, and the ID token's complete
//! validation (signature against the provider's keys with the algorithm
//! the key declares, `iss`, `aud`, `exp`, `iat`, `nonce`). Only asymmetric
//! signatures are accepted: no `none`, no HMAC (a token "signed" with the
//! provider's public key as an HMAC secret is refused). Every request goes
//! through the SSRF-guarded client ([`crate::outbound`]); providers'
//! metadata and keys are cached, and keys are fetched again on an unknown
//! `kid` at most once a minute per provider.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreErrorResponseType, CoreGenderClaim, CoreJsonWebKey,
    CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm, CoreProviderMetadata, CoreResponseType,
    CoreRevocableToken, CoreRevocationErrorResponse, CoreTokenIntrospectionResponse, CoreTokenType,
};
use openidconnect::{
    AdditionalClaims, AuthenticationFlow, AuthorizationCode, Client, ClientId, ClientSecret, CsrfToken,
    EmptyExtraTokenFields, EndpointMaybeSet, EndpointNotSet, EndpointSet, IdTokenClaims, IdTokenFields, IssuerUrl,
    JsonWebKeySet, Nonce, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, StandardErrorResponse,
    StandardTokenResponse, TokenResponse,
};
use openidconnect::{ClaimsVerificationError, SignatureVerificationError};
use serde::{Deserialize, Serialize};

use crate::outbound::{self, Reach};

/// Claims beyond the standard ones (the groups claim, or an email under
/// another name), as the provider sent them.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct OtherClaims {
    #[serde(flatten)]
    pub claims: serde_json::Map<String, serde_json::Value>,
}

impl AdditionalClaims for OtherClaims {}

type Fields = IdTokenFields<
    OtherClaims,
    EmptyExtraTokenFields,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;
type Tokens = StandardTokenResponse<Fields, CoreTokenType>;
type RelyingParty = Client<
    OtherClaims,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    Tokens,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// The validated claims of an ID token.
pub type Claims = IdTokenClaims<OtherClaims, CoreGenderClaim>;

/// Signature algorithms accepted on ID tokens: asymmetric only.
const ACCEPTED_ALGORITHMS: [CoreJwsSigningAlgorithm; 9] = [
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha384,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha512,
    CoreJwsSigningAlgorithm::RsaSsaPssSha256,
    CoreJwsSigningAlgorithm::RsaSsaPssSha384,
    CoreJwsSigningAlgorithm::RsaSsaPssSha512,
    CoreJwsSigningAlgorithm::EcdsaP256Sha256,
    CoreJwsSigningAlgorithm::EcdsaP384Sha384,
    CoreJwsSigningAlgorithm::EdDsa,
];

/// How far the provider's clock may be from ours.
const LEEWAY: chrono::Duration = chrono::Duration::seconds(60);
/// An ID token issued longer ago than this is refused (the code was just
/// exchanged: its token is new).
const MAX_TOKEN_AGE: chrono::Duration = chrono::Duration::minutes(10);
/// How long a provider's discovered metadata is used before it is fetched
/// again.
const METADATA_TTL: chrono::Duration = chrono::Duration::hours(1);
/// Keys are fetched again on an unknown `kid` at most this often.
const KEY_REFRESH_INTERVAL: chrono::Duration = chrono::Duration::minutes(1);
/// The largest answer read from a provider.
const MAX_RESPONSE_BYTES: usize = 512 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    /// The provider could not be reached or answered nonsense.
    #[error("the identity provider is unavailable: {0}")]
    Unavailable(String),
    /// The provider refused the code exchange.
    #[error("the identity provider refused the code: {0}")]
    CodeRefused(String),
    /// The ID token failed validation; says which check.
    #[error("the ID token is not valid: {0}")]
    InvalidIdToken(String),
}

/// What a sign-in needs to remember until the provider answers.
pub struct Started {
    pub url: String,
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
}

/// One connection's client settings.
pub struct RelyingPartySettings<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    /// Empty for a public client.
    pub client_secret: &'a str,
    pub redirect_uri: &'a str,
}

struct Cached {
    metadata: CoreProviderMetadata,
    fetched_at: DateTime<Utc>,
    keys_fetched_at: DateTime<Utc>,
}

/// The providers Roster signs people in through, with their cached
/// metadata and keys.
pub struct Providers {
    http: reqwest::Client,
    reach: Reach,
    cache: Mutex<HashMap<String, Arc<Cached>>>,
}

impl Providers {
    pub fn new(reach: Reach) -> Result<Self, reqwest::Error> {
        Ok(Self { http: outbound::client(reach, "Roster-SSO")?, reach, cache: Mutex::default() })
    }

    /// Sends one of the library's requests through the guarded client.
    async fn send(&self, request: openidconnect::HttpRequest) -> Result<openidconnect::HttpResponse, OutboundError> {
        let (parts, body) = request.into_parts();
        let url = parts.uri.to_string();
        outbound::check_url_shape(&url, self.reach).map_err(|refused| OutboundError(refused.to_string()))?;
        let mut response = self
            .http
            .request(parts.method, &url)
            .headers(parts.headers)
            .body(body)
            .send()
            .await
            .map_err(|e| OutboundError(outbound::describe(&e)))?;
        let mut builder = ::http::Response::builder().status(response.status());
        for (name, value) in response.headers() {
            builder = builder.header(name, value);
        }
        let mut read = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| OutboundError(outbound::describe(&e)))? {
            if read.len() + chunk.len() > MAX_RESPONSE_BYTES {
                return Err(OutboundError(format!("{url} answered more than {MAX_RESPONSE_BYTES} bytes")));
            }
            read.extend_from_slice(&chunk);
        }
        builder.body(read).map_err(|e| OutboundError(e.to_string()))
    }

    async fn discover(&self, issuer: &str, now: DateTime<Utc>) -> Result<Arc<Cached>, OidcError> {
        let issuer_url = IssuerUrl::new(issuer.to_owned()).map_err(|e| OidcError::Unavailable(e.to_string()))?;
        let http = |request| self.send(request);
        let metadata = CoreProviderMetadata::discover_async(issuer_url, &http)
            .await
            .map_err(|e| OidcError::Unavailable(describe(&e)))?;
        let cached = Arc::new(Cached { metadata, fetched_at: now, keys_fetched_at: now });
        self.remember(issuer, cached.clone());
        Ok(cached)
    }

    fn remember(&self, issuer: &str, cached: Arc<Cached>) {
        self.cache.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert(issuer.to_owned(), cached);
    }

    fn cached(&self, issuer: &str) -> Option<Arc<Cached>> {
        self.cache.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get(issuer).cloned()
    }

    /// The provider's metadata and keys: cached, or discovered now.
    async fn metadata(&self, issuer: &str, now: DateTime<Utc>) -> Result<Arc<Cached>, OidcError> {
        match self.cached(issuer) {
            Some(cached) if now - cached.fetched_at < METADATA_TTL => Ok(cached),
            _ => self.discover(issuer, now).await,
        }
    }

    /// Fetches the provider's keys again, unless they were fetched within
    /// the last minute (then `None`: an unknown key stays unknown).
    async fn refresh_keys(
        &self,
        issuer: &str,
        seen: &Cached,
        now: DateTime<Utc>,
    ) -> Result<Option<Arc<Cached>>, OidcError> {
        if now - seen.keys_fetched_at < KEY_REFRESH_INTERVAL {
            return Ok(None);
        }
        let http = |request| self.send(request);
        let keys = JsonWebKeySet::fetch_async(seen.metadata.jwks_uri(), &http)
            .await
            .map_err(|e| OidcError::Unavailable(describe(&e)))?;
        let metadata = seen.metadata.clone().set_jwks(keys);
        let cached = Arc::new(Cached { metadata, fetched_at: seen.fetched_at, keys_fetched_at: now });
        self.remember(issuer, cached.clone());
        Ok(Some(cached))
    }

    fn relying_party(
        metadata: CoreProviderMetadata,
        settings: &RelyingPartySettings<'_>,
    ) -> Result<RelyingParty, OidcError> {
        let redirect = RedirectUrl::new(settings.redirect_uri.to_owned())
            .map_err(|e| OidcError::Unavailable(format!("the callback URL: {e}")))?;
        // No secret: a public client, which PKCE alone protects.
        let secret = Some(settings.client_secret).filter(|secret| !secret.is_empty());
        Ok(RelyingParty::from_provider_metadata(
            metadata,
            ClientId::new(settings.client_id.to_owned()),
            secret.map(|secret| ClientSecret::new(secret.to_owned())),
        )
        .set_redirect_uri(redirect))
    }

    /// The provider's authorization URL for a new sign-in, asking `scopes`
    /// (`openid` is always asked), with fresh state, nonce and PKCE.
    pub async fn start(
        &self,
        settings: &RelyingPartySettings<'_>,
        scopes: &[String],
        login_hint: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Started, OidcError> {
        let cached = self.metadata(settings.issuer, now).await?;
        let party = Self::relying_party(cached.metadata.clone(), settings)?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = party
            .authorize_url(
                AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .set_pkce_challenge(challenge)
            .add_scopes(scopes.iter().filter(|scope| *scope != "openid").map(|scope| Scope::new(scope.clone())));
        if let Some(hint) = login_hint {
            request = request.add_extra_param("login_hint", hint);
        }
        let (url, state, nonce) = request.url();
        Ok(Started {
            url: url.to_string(),
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
        })
    }

    /// Exchanges `code` (with its PKCE verifier) for an ID token and
    /// validates it completely against `nonce` at `now`.
    pub async fn finish(
        &self,
        settings: &RelyingPartySettings<'_>,
        code: &str,
        pkce_verifier: &str,
        nonce: &str,
        now: DateTime<Utc>,
    ) -> Result<Claims, OidcError> {
        let cached = self.metadata(settings.issuer, now).await?;
        let party = Self::relying_party(cached.metadata.clone(), settings)?;
        let http = |request| self.send(request);
        let tokens = party
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|e| OidcError::Unavailable(e.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier.to_owned()))
            .request_async(&http)
            .await
            .map_err(|e| match e {
                openidconnect::RequestTokenError::ServerResponse(refused) => {
                    OidcError::CodeRefused(refused.to_string())
                }
                other => OidcError::Unavailable(describe(&other)),
            })?;
        let id_token =
            tokens.id_token().ok_or_else(|| OidcError::InvalidIdToken("no ID token in the answer".into()))?;
        let nonce = Nonce::new(nonce.to_owned());
        let verify = |party: &RelyingParty| -> Result<Claims, ClaimsVerificationError> {
            let verifier = party
                .id_token_verifier()
                .set_allowed_algs(ACCEPTED_ALGORITHMS)
                .set_time_fn(move || now - LEEWAY)
                .set_issue_time_verifier_fn(move |issued: DateTime<Utc>| {
                    if issued > now + LEEWAY {
                        Err(format!("issued in the future ({issued})"))
                    } else if issued < now - MAX_TOKEN_AGE {
                        Err(format!("issued too long ago ({issued})"))
                    } else {
                        Ok(())
                    }
                });
            id_token.claims(&verifier, &nonce).cloned()
        };
        let claims = match verify(&party) {
            Err(ClaimsVerificationError::SignatureVerification(SignatureVerificationError::NoMatchingKey)) => {
                // The provider may have rotated its keys since they were cached.
                let Some(refreshed) = self.refresh_keys(settings.issuer, &cached, now).await? else {
                    return Err(OidcError::InvalidIdToken("signed with a key the provider does not publish".into()));
                };
                verify(&Self::relying_party(refreshed.metadata.clone(), settings)?)
            }
            other => other,
        }
        .map_err(|e| OidcError::InvalidIdToken(e.to_string()))?;
        check_authorized_party(&claims, settings.client_id)?;
        Ok(claims)
    }
}

/// An ID token for several audiences names this client as its authorized
/// party (`azp`); one that names an `azp` names this client. (The library
/// leaves `azp` to its users.)
fn check_authorized_party(claims: &Claims, client_id: &str) -> Result<(), OidcError> {
    match claims.authorized_party() {
        Some(party) if party.as_str() != client_id => {
            Err(OidcError::InvalidIdToken(format!("authorized party {} is not this client", party.as_str())))
        }
        None if claims.audiences().len() > 1 => {
            Err(OidcError::InvalidIdToken("several audiences and no authorized party".into()))
        }
        _ => Ok(()),
    }
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct OutboundError(String);

/// An error with its causes.
fn describe(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
