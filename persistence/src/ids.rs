//! UUIDs travel as canonical lower-case hyphenated text in both databases.

use uuid::Uuid;

use crate::StoreError;

pub fn to_db(id: Uuid) -> String {
    id.hyphenated().to_string()
}

pub fn from_db(raw: &str) -> Result<Uuid, StoreError> {
    Uuid::parse_str(raw).map_err(|_| StoreError::Corrupt(format!("id {raw:?} is not a UUID")))
}
