//! The operator: whoever runs the deployment (or its billing system), with
//! a token of their own for `/v1/operator/…`. The configuration holds only
//! the token's SHA-256 (`ROSTER_OPERATOR_TOKEN_SHA256`), so a leaked
//! configuration file does not leak the token.

use std::str::FromStr;

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::secrets::OpaqueToken;

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
