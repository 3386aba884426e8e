//! The spreadsheet import job inside `roster serve`: works through uploaded
//! imports batch by batch. An upload to this instance wakes it at once;
//! otherwise (uploads to other instances, work left by a crashed process)
//! it finds the work on its next poll.

use std::sync::Arc;
use std::time::Duration;

use domain::{Catalogue, Clock};
use persistence::DbPool;
use tokio::sync::Notify;

use crate::error::ApiError;
use crate::imports;

pub struct ImportWorker {
    pub pool: DbPool,
    pub catalogue: Catalogue,
    pub clock: Arc<dyn Clock>,
    pub public_url: String,
    pub poll: Duration,
    pub wake: Arc<Notify>,
}

impl ImportWorker {
    pub async fn run(self) {
        let this = Arc::new(self);
        loop {
            let step = this.clone();
            match tokio::task::spawn_blocking(move || step.step()).await {
                Ok(Ok(true)) => continue,
                Ok(Ok(false)) => {
                    tokio::select! {
                        () = this.wake.notified() => {}
                        () = tokio::time::sleep(this.poll) => {}
                    }
                }
                Ok(Err(error)) => {
                    // Includes a batch undone by a concurrent invitation;
                    // it is simply run again.
                    tracing::warn!(%error, "import batch failed; retrying");
                    tokio::time::sleep(this.poll.min(Duration::from_secs(1))).await;
                }
                Err(error) => tracing::warn!(%error, "import task failed"),
            }
        }
    }

    /// Processes one batch; false when there was nothing to do.
    pub fn step(&self) -> Result<bool, ApiError> {
        let mut conn = self.pool.get().map_err(|e| ApiError::Unavailable(e.to_string()))?;
        let started = std::time::Instant::now();
        let progressed = imports::process_next_batch(&mut conn, &self.catalogue, &self.public_url, self.clock.now())?;
        if let Some(import) = &progressed {
            let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
            let (processed, total) = (import.counts.processed, import.counts.total);
            tracing::debug!(import_id = %import.id, processed, total, elapsed_ms, "import batch committed");
        }
        Ok(progressed.is_some())
    }
}
