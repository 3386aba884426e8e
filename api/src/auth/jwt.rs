//! Access tokens: short-lived JWTs signed with Ed25519 (`EdDSA`). The
//! verifier accepts only that algorithm, our issuer and our audience, and
//! `/.well-known/jwks.json` publishes the public key so that integrators
//! can verify tokens offline.

use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::config::{Environment, Settings};

const GENERATED_KEY_FILE: &str = "jwt-ed25519.pem";

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error(
        "production mode needs an explicitly configured signing key: set ROSTER_JWT_PRIVATE_KEY_FILE (--jwt-private-key-file)"
    )]
    NotConfigured,
    #[error(
        "production mode needs an explicitly configured secrets key: set ROSTER_SECRETS_KEY_FILE (--secrets-key-file)"
    )]
    SecretsKeyNotConfigured,
    #[error("cannot read signing key {path}: {reason}")]
    Unreadable { path: PathBuf, reason: String },
    #[error("cannot write a new signing key to {path}: {reason}")]
    Unwritable { path: PathBuf, reason: String },
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub aud: String,
    pub sub: Uuid,
    pub iat: i64,
    pub exp: i64,
    pub jti: Uuid,
    /// The session (refresh-token family) the token was issued in; absent
    /// in tokens issued before sessions were listed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<Uuid>,
    /// The account where this session may not act, because it requires
    /// single sign-on through its provider of the user (at most one: an
    /// email's domain is verified by one account).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sso: Option<SsoRequired>,
}

/// An account that requires the user to sign in through its identity
/// provider, and the connection to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SsoRequired {
    pub account: Uuid,
    pub connection: Uuid,
}

/// Who a verified access token speaks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bearer {
    pub user: Uuid,
    pub session: Option<Uuid>,
    pub sso_required: Option<SsoRequired>,
}

/// A published public key, in JWK form (RFC 8037 OKP).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo", "kid": "NjVBRjY5MDlCMUIwNzU4RTA2QzZFMDQ4QzQ2MDAyQjVDNjk1RTM2Qg", "alg": "EdDSA", "use": "sig"}))]
pub struct Jwk {
    pub kty: &'static str,
    pub crv: &'static str,
    pub x: String,
    pub kid: String,
    pub alg: &'static str,
    #[serde(rename = "use")]
    pub key_use: &'static str,
}

pub struct AccessToken {
    pub token: String,
    pub expires_in: u32,
}

pub struct TokenKeys {
    verified: VerifiedTokens,
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    jwk: Jwk,
    issuer: String,
    audience: String,
    ttl_seconds: u32,
}

impl TokenKeys {
    /// Loads the configured key, or in development generates one into the
    /// data directory on first start and reuses it afterwards.
    pub fn load(settings: &Settings) -> Result<Self, KeyError> {
        let path = match (&settings.jwt_private_key_file, settings.environment) {
            (Some(path), _) => path.clone(),
            (None, Environment::Production) => return Err(KeyError::NotConfigured),
            (None, Environment::Development) => {
                let path = settings.data_dir.join(GENERATED_KEY_FILE);
                if !path.exists() {
                    generate_key_file(&path)?;
                }
                path
            }
        };
        let unreadable = |reason: String| KeyError::Unreadable { path: path.clone(), reason };
        let pem = std::fs::read_to_string(&path).map_err(|e| unreadable(e.to_string()))?;
        let signing =
            SigningKey::from_pkcs8_pem(&pem).map_err(|e| unreadable(format!("not a PKCS#8 Ed25519 key: {e}")))?;
        Self::from_signing_key(&signing, settings).map_err(unreadable)
    }

    fn from_signing_key(signing: &SigningKey, settings: &Settings) -> Result<Self, String> {
        let pem = signing.to_pkcs8_pem(LineEnding::LF).map_err(|e| e.to_string())?;
        let encoding = EncodingKey::from_ed_pem(pem.as_bytes()).map_err(|e| e.to_string())?;
        let x = URL_SAFE_NO_PAD.encode(signing.verifying_key().to_bytes());
        let decoding = DecodingKey::from_ed_components(&x).map_err(|e| e.to_string())?;
        let issuer = settings.issuer().to_owned();
        let audience = settings.jwt_audience.clone();
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[&issuer]);
        validation.set_audience(&[&audience]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        validation.leeway = 30;
        Ok(Self {
            verified: VerifiedTokens::default(),
            encoding,
            decoding,
            validation,
            jwk: Jwk { kty: "OKP", crv: "Ed25519", kid: thumbprint(&x), x, alg: "EdDSA", key_use: "sig" },
            issuer,
            audience,
            ttl_seconds: settings.access_token_ttl_seconds,
        })
    }

    pub fn issue(
        &self,
        user: Uuid,
        session: Option<Uuid>,
        sso_required: Option<SsoRequired>,
        now: DateTime<Utc>,
    ) -> Result<AccessToken, jsonwebtoken::errors::Error> {
        let claims = Claims {
            sid: session,
            sso: sso_required,
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            sub: user,
            iat: now.timestamp(),
            exp: now.timestamp() + i64::from(self.ttl_seconds),
            jti: Uuid::new_v4(),
        };
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.jwk.kid.clone());
        Ok(AccessToken { token: jsonwebtoken::encode(&header, &claims, &self.encoding)?, expires_in: self.ttl_seconds })
    }

    /// The user a token was issued to, if it is genuine, unexpired and ours.
    /// A token is checked once; afterwards its digest is looked up until it
    /// expires, since the signature check dominated a request's CPU time.
    pub fn verify(&self, token: &str) -> Option<Bearer> {
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let now = Utc::now().timestamp();
        if let Some(bearer) = self.verified.lookup(&digest, now) {
            return Some(bearer);
        }
        let claims = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation).ok()?.claims;
        let bearer = Bearer { user: claims.sub, session: claims.sid, sso_required: claims.sso };
        self.verified.remember(digest, bearer, claims.exp, now);
        Some(bearer)
    }

    pub fn jwks(&self) -> Vec<Jwk> {
        vec![self.jwk.clone()]
    }
}

/// Access tokens already verified, by SHA-256 digest (never the token
/// itself), with the user and expiry. Safe because a token's validity
/// depends on nothing but its bytes, the key and the time: access tokens
/// are not revocable, which is why they live only minutes. Bounded: when
/// full, expired entries go, and if that is not enough, all of them.
#[derive(Default)]
struct VerifiedTokens {
    entries: std::sync::Mutex<std::collections::HashMap<[u8; 32], (Bearer, i64)>>,
}

impl VerifiedTokens {
    const CAPACITY: usize = 50_000;

    fn entries(&self) -> std::sync::MutexGuard<'_, std::collections::HashMap<[u8; 32], (Bearer, i64)>> {
        self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn lookup(&self, digest: &[u8; 32], now: i64) -> Option<Bearer> {
        self.entries().get(digest).filter(|(_, expires)| *expires > now).map(|(bearer, _)| *bearer)
    }

    fn remember(&self, digest: [u8; 32], bearer: Bearer, expires: i64, now: i64) {
        // Tokens accepted only thanks to the clock-skew leeway are checked
        // in full each time.
        if expires <= now {
            return;
        }
        let mut entries = self.entries();
        if entries.len() >= Self::CAPACITY {
            entries.retain(|_, (_, expires)| *expires > now);
            if entries.len() >= Self::CAPACITY {
                entries.clear();
            }
        }
        entries.insert(digest, (bearer, expires));
    }
}

/// RFC 7638 JWK thumbprint: a key id derived from the key itself.
fn thumbprint(x: &str) -> String {
    let canonical = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#);
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

fn generate_key_file(path: &Path) -> Result<(), KeyError> {
    let unwritable = |reason: String| KeyError::Unwritable { path: path.to_owned(), reason };
    let key = SigningKey::generate(&mut rand::rngs::OsRng);
    let pem = key.to_pkcs8_pem(LineEnding::LF).map_err(|e| unwritable(e.to_string()))?;
    write_private_file_once(path, pem.as_bytes()).map_err(|e| unwritable(e.to_string()))
}

/// Writes a generated key file readable by its owner only, unless one is
/// there already: two instances starting at once must not overwrite each
/// other's key; the loser reads the winner's.
pub(crate) fn write_private_file_once(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    match OpenOptions::new().write(true).create_new(true).mode(0o600).open(path) {
        Ok(mut file) => file.write_all(contents),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> TokenKeys {
        let signing = SigningKey::from_bytes(&[7u8; 32]);
        TokenKeys::from_signing_key(&signing, &Settings::defaults()).unwrap()
    }

    #[test]
    fn tokens_name_the_session_they_were_issued_in_and_where_it_may_not_act() {
        let keys = keys();
        let (user, session) = (Uuid::new_v4(), Uuid::new_v4());
        let token = keys.issue(user, Some(session), None, Utc::now()).unwrap();
        assert_eq!(keys.verify(&token.token), Some(Bearer { user, session: Some(session), sso_required: None }));
        let required = SsoRequired { account: Uuid::new_v4(), connection: Uuid::new_v4() };
        let token = keys.issue(user, Some(session), Some(required), Utc::now()).unwrap();
        assert_eq!(keys.verify(&token.token).and_then(|bearer| bearer.sso_required), Some(required));
    }

    #[test]
    fn issued_tokens_verify_and_carry_the_key_id() {
        let keys = keys();
        let user = Uuid::new_v4();
        let token = keys.issue(user, None, None, Utc::now()).unwrap();
        assert_eq!(keys.verify(&token.token).map(|bearer| bearer.user), Some(user));
        let header = jsonwebtoken::decode_header(&token.token).unwrap();
        assert_eq!(header.alg, Algorithm::EdDSA);
        assert_eq!(header.kid.as_deref(), Some(keys.jwks()[0].kid.as_str()));
    }

    #[test]
    fn expired_tampered_and_foreign_tokens_are_refused() {
        let keys = keys();
        let expired = keys.issue(Uuid::new_v4(), None, None, Utc::now() - chrono::Duration::hours(2)).unwrap();
        assert_eq!(keys.verify(&expired.token).map(|bearer| bearer.user), None);

        let token = keys.issue(Uuid::new_v4(), None, None, Utc::now()).unwrap().token;
        let mut tampered = token.clone();
        tampered.pop();
        tampered.push(if token.ends_with('A') { 'B' } else { 'A' });
        assert_eq!(keys.verify(&tampered).map(|bearer| bearer.user), None);

        let other = TokenKeys::from_signing_key(&SigningKey::from_bytes(&[9u8; 32]), &Settings::defaults()).unwrap();
        assert_eq!(
            keys.verify(&other.issue(Uuid::new_v4(), None, None, Utc::now()).unwrap().token).map(|bearer| bearer.user),
            None
        );
    }

    #[test]
    fn verified_tokens_are_remembered_only_until_they_expire() {
        let keys = keys();
        let user = Uuid::new_v4();
        let token = keys.issue(user, None, None, Utc::now()).unwrap().token;
        assert_eq!(keys.verify(&token).map(|bearer| bearer.user), Some(user));
        assert_eq!(keys.verify(&token).map(|bearer| bearer.user), Some(user), "answered from the cache");
        let mut tampered = token.clone();
        tampered.insert(10, 'x');
        assert_eq!(keys.verify(&tampered).map(|bearer| bearer.user), None, "a cached neighbour proves nothing");

        let cache = VerifiedTokens::default();
        let bearer = Bearer { user, session: Some(Uuid::new_v4()), sso_required: None };
        cache.remember([1; 32], bearer, 100, 50);
        assert_eq!(cache.lookup(&[1; 32], 99), Some(bearer));
        assert_eq!(cache.lookup(&[1; 32], 100), None, "expired entries are not used");
        cache.remember([2; 32], bearer, 40, 50);
        assert_eq!(cache.lookup(&[2; 32], 30), None, "already expired tokens are not remembered");
    }

    #[test]
    fn a_token_with_another_algorithm_is_refused() {
        let keys = keys();
        let claims = Claims {
            iss: keys.issuer.clone(),
            aud: keys.audience.clone(),
            sub: Uuid::new_v4(),
            iat: Utc::now().timestamp(),
            exp: Utc::now().timestamp() + 60,
            jti: Uuid::new_v4(),
            sid: None,
            sso: None,
        };
        let hs256 =
            jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(b"guessable"))
                .unwrap();
        assert_eq!(keys.verify(&hs256).map(|bearer| bearer.user), None);
    }

    #[test]
    fn production_refuses_to_start_without_a_configured_key() {
        let mut settings = Settings::defaults();
        settings.environment = Environment::Production;
        assert!(matches!(TokenKeys::load(&settings), Err(KeyError::NotConfigured)));
    }
}
