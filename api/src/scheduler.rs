//! Time-driven work inside `roster serve`: records invitation expiry,
//! sends due reminders and forgets idempotency keys past their retention. Safe with several instances: expiry is idempotent
//! and each reminder is claimed by a conditional update before its email is
//! queued (in the same transaction).

use std::sync::Arc;
use std::time::Duration;

use domain::Clock;
use persistence::{DbPool, invitations};

use crate::error::ApiError;
use crate::invitations as flows;

const BATCH: i64 = 100;

pub struct InvitationScheduler {
    pub pool: DbPool,
    pub clock: Arc<dyn Clock>,
    pub public_url: String,
    pub interval: Duration,
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct TickReport {
    pub expired: usize,
    pub reminded: usize,
    pub idempotency_keys_forgotten: usize,
}

impl InvitationScheduler {
    pub async fn run(self) {
        let this = Arc::new(self);
        loop {
            let tick = this.clone();
            match tokio::task::spawn_blocking(move || tick.tick()).await {
                Ok(Ok(report)) if report != TickReport::default() => {
                    tracing::info!(?report, "invitation scheduler tick")
                }
                Ok(Ok(_)) => {}
                Ok(Err(error)) => tracing::warn!(%error, "invitation scheduler tick failed"),
                Err(error) => tracing::warn!(%error, "invitation scheduler task failed"),
            }
            tokio::time::sleep(this.interval).await;
        }
    }

    /// One pass: expire, then remind until no due reminder is left.
    pub fn tick(&self) -> Result<TickReport, ApiError> {
        let mut conn = self.pool.get().map_err(|e| ApiError::Unavailable(e.to_string()))?;
        let now = self.clock.now();
        let mut report = TickReport {
            expired: invitations::expire_lapsed(&mut conn, now)?,
            reminded: 0,
            idempotency_keys_forgotten: persistence::idempotency::purge_expired(&mut conn, now)?,
        };
        loop {
            let due = invitations::due_reminders(&mut conn, now, BATCH)?;
            let mut sent_any = false;
            for invitation in &due {
                if flows::send_reminder(&mut conn, invitation, &self.public_url, now)? {
                    report.reminded += 1;
                    sent_any = true;
                }
            }
            if due.len() < BATCH as usize || !sent_any {
                return Ok(report);
            }
        }
    }
}
