//! argon2id password hashes (PHC strings with their own salt and cost).

use std::sync::LazyLock;

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use domain::NewPassword;

use crate::error::ApiError;

pub fn hash(password: &NewPassword) -> Result<String, ApiError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.expose().as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(ApiError::internal)
}

/// A hash of a random password, verified against when the email is unknown
/// so that "no such user" costs the same time as "wrong password".
static DECOY_HASH: LazyLock<String> = LazyLock::new(|| {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default().hash_password(salt.as_str().as_bytes(), &salt).map(|hash| hash.to_string()).unwrap_or_default()
});

/// Checks `candidate` against a stored hash, or against the decoy when there
/// is none; either way one argon2 verification runs. argon2 compares the
/// digests in constant time.
pub fn verify(candidate: &str, stored: Option<&str>) -> bool {
    let real = stored.is_some();
    let hash = stored.unwrap_or(DECOY_HASH.as_str());
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    let matches = Argon2::default().verify_password(candidate.as_bytes(), &parsed).is_ok();
    matches && real
}

/// Computes the decoy hash ahead of the first login.
pub fn warm_up() {
    LazyLock::force(&DECOY_HASH);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verifies_only_the_right_password() {
        let password = NewPassword::parse("correct horse battery", "ada@example.com").unwrap();
        let stored = hash(&password).unwrap();
        assert!(stored.starts_with("$argon2id$"));
        assert!(verify("correct horse battery", Some(&stored)));
        assert!(!verify("wrong horse battery", Some(&stored)));
    }

    #[test]
    fn the_decoy_never_matches() {
        assert!(!verify("", None));
        assert!(!verify("anything at all", None));
    }
}
