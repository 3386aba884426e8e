//! The operator: whoever runs the deployment (or its billing system), with
//! a token of their own for `/v1/operator/…`. The configuration holds only
//! the token's SHA-256 (`ROSTER_OPERATOR_TOKEN_SHA256`), so a leaked
//! configuration file does not leak the token.

use std::future::{Ready, ready};
use std::str::FromStr;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::secrets::OpaqueToken;
use crate::http::problem::ApiError;
use crate::state::AppState;

/// The SHA-256 of the operator token, as configured.
#[derive(Clone, PartialEq, Eq)]
pub struct OperatorTokenDigest([u8; 32]);

impl OperatorTokenDigest {
    fn of(token: &str) -> Self {
        Self(Sha256::digest(token.as_bytes()).into())
    }

    /// Whether `token` is the operator token, compared in constant time.
    pub fn matches(&self, token: &str) -> bool {
        Self::of(token).0.ct_eq(&self.0).into()
    }

    pub fn to_hex(&self) -> String {
        base16ct::lower::encode_string(&self.0)
    }
}

impl FromStr for OperatorTokenDigest {
    type Err = String;

    fn from_str(hex: &str) -> Result<Self, String> {
        let invalid =
            || "expected the token's SHA-256 as 64 hexadecimal digits (see `roster operator-token`)".to_owned();
        if hex.len() != 64 || !hex.is_ascii() {
            return Err(invalid());
        }
        let mut bytes = [0u8; 32];
        for (byte, pair) in bytes.iter_mut().zip(hex.as_bytes().chunks(2)) {
            let pair = std::str::from_utf8(pair).map_err(|_| invalid())?;
            *byte = u8::from_str_radix(pair, 16).map_err(|_| invalid())?;
        }
        Ok(Self(bytes))
    }
}

impl std::fmt::Debug for OperatorTokenDigest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "OperatorTokenDigest({})", self.to_hex())
    }
}

/// A new operator token and the digest to configure: `roster operator-token`.
pub fn generate() -> (OpaqueToken, OperatorTokenDigest) {
    let token = OpaqueToken::generate();
    let digest = OperatorTokenDigest::of(token.expose());
    (token, digest)
}

/// A request that presented the operator token. Without a configured
/// digest every call is refused alike: the operator API is off.
#[derive(Debug, Clone, Copy)]
pub struct Operator;

impl FromRequest for Operator {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let configured =
            req.app_data::<web::Data<AppState>>().and_then(|state| state.settings.operator_token_sha256.clone());
        let presented = super::bearer_token(req);
        ready(match (configured, presented) {
            (Some(digest), Some(token)) if digest.matches(token) => Ok(Operator),
            _ => Err(ApiError::Unauthenticated),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_token_matches_its_digest_and_nothing_else() {
        let (token, digest) = generate();
        assert!(digest.matches(token.expose()));
        assert!(!digest.matches(&format!("{}x", token.expose())));
        assert_eq!(digest.to_hex().parse::<OperatorTokenDigest>(), Ok(digest.clone()));
        assert!("abc".parse::<OperatorTokenDigest>().is_err());
        assert!("zz".repeat(32).parse::<OperatorTokenDigest>().is_err());
        assert!("é".repeat(32).parse::<OperatorTokenDigest>().is_err());
    }
}
