use diesel::result::{DatabaseErrorKind, Error as DieselError};

/// What can go wrong in storage, typed so the HTTP edge can map it once.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness rule in the schema refused the write.
    #[error("a uniqueness constraint refused the write")]
    Conflict,
    /// A foreign key refused the write: a row it refers to is gone (a user
    /// deleted while their token is still valid, a group deleted meanwhile).
    #[error("a row the write refers to does not exist")]
    MissingReference,
    #[error("database error: {0}")]
    Database(#[source] DieselError),
    /// The connection broke (the server restarted or went away): try again.
    #[error("the database connection was lost: {0}")]
    ConnectionLost(#[source] DieselError),
    #[error("no database connection available: {0}")]
    Pool(#[from] diesel::r2d2::PoolError),
    #[error("could not open the database: {0}")]
    Connect(String),
    #[error("migrations failed: {0}")]
    Migration(String),
    /// A stored value does not parse; the database was changed by hand.
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
}

impl StoreError {
    /// Whether the store itself failed, rather than refusing a write for
    /// what it contains: a request that meets this cannot be partly done.
    pub fn is_infrastructure(&self) -> bool {
        !matches!(self, StoreError::Conflict | StoreError::MissingReference)
    }
}

impl From<DieselError> for StoreError {
    fn from(error: DieselError) -> Self {
        match error {
            DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => StoreError::Conflict,
            DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _) => StoreError::MissingReference,
            DieselError::DatabaseError(
                DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
                _,
            ) => {
                crate::db::connection_lost();
                StoreError::ConnectionLost(error)
            }
            other => StoreError::Database(other),
        }
    }
}
