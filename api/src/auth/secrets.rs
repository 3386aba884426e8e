//! Opaque bearer secrets (refresh tokens, and later invitation and join
//! tokens): 256 random bits, URL-safe, stored only as their SHA-256 digest.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use rand::rngs::OsRng;
use sha2::{Digest, Sha256};

/// A freshly generated secret. Only its digest is ever stored; `Debug`
/// does not print it.
pub struct OpaqueToken(String);

impl OpaqueToken {
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        OsRng.fill_bytes(&mut bytes);
        Self(URL_SAFE_NO_PAD.encode(bytes))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn digest(&self) -> String {
        digest(&self.0)
    }
}

/// The random part of a domain's verification record: 24 random bytes,
/// 32 URL-safe characters. Published in DNS, so no secret.
pub fn domain_verification_token() -> domain::email_domain::VerificationToken {
    let mut bytes = [0u8; 24];
    OsRng.fill_bytes(&mut bytes);
    domain::email_domain::VerificationToken::parse(&URL_SAFE_NO_PAD.encode(bytes))
        .unwrap_or_else(|_| unreachable!("24 bytes encode to 32 URL-safe characters"))
}

impl std::fmt::Debug for OpaqueToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OpaqueToken(***)")
    }
}

/// A fresh partner API key (`domain::api_key`): shown once, stored as its
/// [`digest`]. `Debug` does not print it.
pub struct ApiKeySecret(String);

impl ApiKeySecret {
    pub fn generate() -> Self {
        let mut random = String::with_capacity(domain::api_key::RANDOM_CHARS);
        let mut bytes = [0u8; 64];
        while random.len() < domain::api_key::RANDOM_CHARS {
            OsRng.fill_bytes(&mut bytes);
            random.extend(bytes.iter().filter_map(|byte| domain::api_key::random_char(*byte)));
            random.truncate(domain::api_key::RANDOM_CHARS);
        }
        Self(domain::api_key::compose(&random))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn digest(&self) -> String {
        digest(&self.0)
    }

    /// What lists show of it.
    pub fn shown(&self) -> String {
        domain::api_key::shown(&self.0)
    }
}

impl std::fmt::Debug for ApiKeySecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiKeySecret(***)")
    }
}

/// Hex SHA-256 of a presented token: the value tokens are looked up by.
/// Lookup by digest means an attacker's timing can only probe digests, which
/// they cannot steer, not the secret itself.
pub fn digest(token: &str) -> String {
    base16ct::lower::encode_string(&Sha256::digest(token.as_bytes()))
}

/// Whether `text` could be a token of ours: URL-safe base64, as the
/// contract's token pattern says.
pub fn is_well_formed(text: &str) -> bool {
    (1..=128).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_256_bit_url_safe_and_distinct() {
        let a = OpaqueToken::generate();
        let b = OpaqueToken::generate();
        assert_eq!(a.expose().len(), 43);
        assert!(a.expose().chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
        assert_ne!(a.expose(), b.expose());
        assert_eq!(a.digest().len(), 64);
        assert_eq!(a.digest(), digest(a.expose()));
        assert!(is_well_formed(a.expose()) && !is_well_formed("has space") && !is_well_formed(""));
    }

    #[test]
    fn api_keys_pass_their_checksum_and_are_distinct() {
        let (a, b) = (ApiKeySecret::generate(), ApiKeySecret::generate());
        assert!(domain::api_key::check(a.expose()).is_ok(), "{}", a.expose());
        assert_ne!(a.expose(), b.expose());
        assert!(a.expose().starts_with(&a.shown()));
        assert_eq!(format!("{a:?}"), "ApiKeySecret(***)");
    }
}
