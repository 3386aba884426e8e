use std::sync::Arc;

use actix_web::web;
use domain::{Catalogue, Clock};
use persistence::{DbConnection, DbPool};

use crate::auth::jwt::TokenKeys;
use crate::config::Settings;
use crate::error::ApiError;

/// What every handler shares: built once at start-up, read-only afterwards.
pub struct AppState {
    pub pool: DbPool,
    pub catalogue: Catalogue,
    pub clock: Arc<dyn Clock>,
    pub tokens: TokenKeys,
    pub settings: Settings,
    /// Wakes this instance's import job when a spreadsheet is uploaded.
    pub import_wake: Arc<tokio::sync::Notify>,
}

impl AppState {
    /// Runs blocking database work on actix's blocking pool, so that diesel's
    /// synchronous calls never stall the async workers.
    pub async fn db<T, F>(&self, work: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, ApiError> + Send + 'static,
    {
        let pool = self.pool.clone();
        web::block(move || {
            let mut conn = pool.get().map_err(|e| ApiError::Unavailable(e.to_string()))?;
            work(&mut conn)
        })
        .await?
    }
}
