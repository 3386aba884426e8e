//! The outbox worker inside `roster serve`: claims due messages with a lease,
//! sends them, and records the outcome. Failures are retried with
//! exponential backoff; a crash mid-send leaves the lease to expire and the
//! message is sent again (at least once).

use std::sync::Arc;
use std::time::Duration;

use chrono::Duration as Span;
use domain::Clock;
use lettre::message::Mailbox;
use persistence::{DbPool, outbox};

use super::transport::EmailTransport;

const BATCH: i64 = 20;
const LEASE: Span = Span::seconds(120);

pub struct OutboxWorker {
    pub pool: DbPool,
    pub clock: Arc<dyn Clock>,
    pub transport: EmailTransport,
    pub from: Mailbox,
    pub poll: Duration,
}

/// Backoff after the n-th failed attempt: 10 s, 20 s, 40 s … capped at 1 h.
pub fn retry_delay(attempts: i32) -> Span {
    let exponent = u32::try_from(attempts.clamp(1, 12) - 1).unwrap_or(0);
    Span::seconds((10i64 << exponent).min(3600))
}

impl OutboxWorker {
    pub async fn run(self) {
        loop {
            match self.deliver_due().await {
                Ok(0) => tokio::time::sleep(self.poll).await,
                Ok(_) => {}
                Err(reason) => {
                    tracing::warn!(%reason, "outbox worker could not claim messages");
                    tokio::time::sleep(self.poll.max(Duration::from_secs(1))).await;
                }
            }
        }
    }

    /// Delivers one batch; returns how many messages it claimed.
    pub async fn deliver_due(&self) -> Result<usize, String> {
        let messages = self.blocking(|conn, now| outbox::claim(conn, now, LEASE, BATCH)).await?;
        for message in &messages {
            let outcome = self.transport.send(&self.from, message).await;
            let id = message.id;
            let attempts = message.attempts;
            let recorded = match &outcome {
                Ok(()) => self.blocking(move |conn, now| outbox::mark_delivered(conn, id, now)).await,
                Err(error) => {
                    tracing::warn!(outbox_id = %id, attempts, %error, "email delivery failed; will retry");
                    let error = error.clone();
                    self.blocking(move |conn, now| outbox::mark_failed(conn, id, &error, now + retry_delay(attempts)))
                        .await
                }
            };
            if let Err(reason) = recorded {
                tracing::warn!(outbox_id = %id, %reason, "could not record the delivery outcome");
            }
        }
        Ok(messages.len())
    }

    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(
            &mut persistence::DbConnection,
            chrono::DateTime<chrono::Utc>,
        ) -> Result<T, persistence::StoreError>
        + Send
        + 'static,
    ) -> Result<T, String> {
        let pool = self.pool.clone();
        let now = self.clock.now();
        tokio::task::spawn_blocking(move || {
            let mut conn = pool.get().map_err(|e| e.to_string())?;
            work(&mut conn, now).map_err(|e| e.to_string())
        })
        .await
        .map_err(|e| e.to_string())?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        assert_eq!(retry_delay(1), Span::seconds(10));
        assert_eq!(retry_delay(2), Span::seconds(20));
        assert_eq!(retry_delay(4), Span::seconds(80));
        assert_eq!(retry_delay(50), Span::seconds(3600));
    }
}
