//! Secrets that must be stored but cannot be stored as a digest (webhook
//! signing secrets: HMAC needs the key itself) are sealed with AES-256-GCM
//! under the server's secrets key before they reach the database.

use aws_lc_rs::aead::{AES_256_GCM, Aad, NONCE_LEN, Nonce, RandomizedNonceKey};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use rand::RngCore;

use super::jwt::{KeyError, write_private_file_once};
use crate::config::{Environment, Settings};

const GENERATED_KEY_FILE: &str = "secrets.key";

/// The key that seals and opens stored secrets.
pub struct SealingKey(RandomizedNonceKey);

impl SealingKey {
    /// Loads the configured key file, or in development generates one into
    /// the data directory on first start and reuses it afterwards.
    pub fn load(settings: &Settings) -> Result<Self, KeyError> {
        let path = match (&settings.secrets_key_file, settings.environment) {
            (Some(path), _) => path.clone(),
            (None, Environment::Production) => return Err(KeyError::SecretsKeyNotConfigured),
            (None, Environment::Development) => {
                let path = settings.data_dir.join(GENERATED_KEY_FILE);
                if !path.exists() {
                    let mut key = [0u8; 32];
                    rand::rngs::OsRng.fill_bytes(&mut key);
                    write_private_file_once(&path, STANDARD.encode(key).as_bytes())
                        .map_err(|e| KeyError::Unwritable { path: path.clone(), reason: e.to_string() })?;
                }
                path
            }
        };
        let unreadable = |reason: String| KeyError::Unreadable { path: path.clone(), reason };
        let text = std::fs::read_to_string(&path).map_err(|e| unreadable(e.to_string()))?;
        let bytes = STANDARD.decode(text.trim()).map_err(|e| unreadable(format!("not base64: {e}")))?;
        Self::from_bytes(&bytes).map_err(|()| unreadable("the key must be 32 bytes".into()))
    }

    fn from_bytes(bytes: &[u8]) -> Result<Self, ()> {
        RandomizedNonceKey::new(&AES_256_GCM, bytes).map(Self).map_err(|_| ())
    }

    /// `secret` sealed: base64 of nonce, ciphertext and tag.
    pub fn seal(&self, secret: &str) -> Result<String, SealError> {
        self.seal_bytes(secret).map(|sealed| STANDARD.encode(sealed))
    }

    /// The secret sealed in `sealed`, if this key sealed it unchanged.
    pub fn open(&self, sealed: &str) -> Result<String, SealError> {
        self.open_bytes(&STANDARD.decode(sealed).map_err(|_| SealError)?)
    }

    /// `text` sealed for a link: URL-safe base64, so that it travels in a
    /// query string as is. Whoever holds it can read nothing and change
    /// nothing: opening fails unless this key sealed it unaltered.
    pub fn seal_for_link(&self, text: &str) -> Result<String, SealError> {
        self.seal_bytes(text).map(|sealed| URL_SAFE_NO_PAD.encode(sealed))
    }

    /// The text sealed by [`Self::seal_for_link`], if unaltered.
    pub fn open_from_link(&self, sealed: &str) -> Result<String, SealError> {
        self.open_bytes(&URL_SAFE_NO_PAD.decode(sealed).map_err(|_| SealError)?)
    }

    fn seal_bytes(&self, secret: &str) -> Result<Vec<u8>, SealError> {
        let mut sealed = secret.as_bytes().to_vec();
        let nonce = self.0.seal_in_place_append_tag(Aad::empty(), &mut sealed).map_err(|_| SealError)?;
        let mut out = nonce.as_ref().to_vec();
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    fn open_bytes(&self, bytes: &[u8]) -> Result<String, SealError> {
        if bytes.len() < NONCE_LEN {
            return Err(SealError);
        }
        let (nonce, rest) = bytes.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| SealError)?;
        let mut rest = rest.to_vec();
        let plain = self.0.open_in_place(nonce, Aad::empty(), &mut rest).map_err(|_| SealError)?;
        String::from_utf8(plain.to_vec()).map_err(|_| SealError)
    }
}

/// A secret could not be sealed or opened (wrong key, altered data).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a stored secret could not be sealed or opened")]
pub struct SealError;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_secret_opens_only_unchanged_and_with_its_key() {
        let key = SealingKey::from_bytes(&[7u8; 32]).unwrap();
        let sealed = key.seal("whsec_c2VjcmV0").unwrap();
        assert!(!sealed.contains("whsec_"));
        assert_ne!(sealed, key.seal("whsec_c2VjcmV0").unwrap(), "a fresh nonce every time");
        assert_eq!(key.open(&sealed).unwrap(), "whsec_c2VjcmV0");
        let other = SealingKey::from_bytes(&[8u8; 32]).unwrap();
        assert_eq!(other.open(&sealed), Err(SealError));
        let mut altered = STANDARD.decode(&sealed).unwrap();
        *altered.last_mut().unwrap() ^= 1;
        assert_eq!(key.open(&STANDARD.encode(altered)), Err(SealError));
    }

    #[test]
    fn a_link_token_is_url_safe_and_opens_only_unaltered() {
        let key = SealingKey::from_bytes(&[7u8; 32]).unwrap();
        let token = key.seal_for_link("0190c3a4-membership:security_notices").unwrap();
        assert!(token.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
        assert_eq!(key.open_from_link(&token).unwrap(), "0190c3a4-membership:security_notices");
        let mut altered = token.into_bytes();
        altered[20] = if altered[20] == b'A' { b'B' } else { b'A' };
        assert_eq!(key.open_from_link(&String::from_utf8(altered).unwrap()), Err(SealError));
    }

    #[test]
    fn production_refuses_to_start_without_a_configured_key() {
        let mut settings = Settings::defaults();
        settings.environment = Environment::Production;
        assert!(matches!(SealingKey::load(&settings), Err(KeyError::SecretsKeyNotConfigured)));
    }
}
