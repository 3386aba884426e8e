//! Delivering one webhook: sign, POST through the guarded client, record
//! the attempt, and decide what comes next — done on a 2xx, the endpoint
//! disabled on a 410 or after days of failures, otherwise another try on
//! the Standard Webhooks schedule.

use chrono::{DateTime, Utc};
use domain::webhook::{failing_too_long, retry_after};
use persistence::webhooks::{self, Attempt, Delivery, Endpoint};
use persistence::{DbConnection, StoreError, write_transaction};
use uuid::Uuid;

use super::{JobRunner, Outcome};
use crate::flows::Ctx;
use crate::flows::webhooks::disabled_by_system;
use crate::outbound::{self, Answer};

#[derive(serde::Deserialize)]
struct DeliveryJob {
    delivery_id: Uuid,
}

/// How often a delivery held by an account's pending deletion looks again.
const HELD_WHILE_PENDING: chrono::Duration = chrono::Duration::hours(1);

impl JobRunner {
    pub(super) async fn deliver_webhook(&self, payload: &str, attempts: i32) -> Outcome {
        let id = match serde_json::from_str::<DeliveryJob>(payload) {
            Ok(job) => job.delivery_id,
            Err(error) => return Outcome::Retry(format!("unreadable webhook job: {error}")),
        };
        let found = self
            .blocking(move |conn, _| {
                let Some(delivery) = webhooks::find_delivery(conn, id)? else { return Ok(None) };
                let endpoint = webhooks::endpoint_of(conn, delivery.endpoint_id.parse().unwrap_or_default())?;
                let held = match &endpoint {
                    Some(endpoint) => persistence::accounts::pending_deletion(conn, endpoint.account_id)?.is_some(),
                    None => false,
                };
                Ok(endpoint.map(|endpoint| (delivery, endpoint, held)))
            })
            .await;
        let (delivery, endpoint) = match found {
            // Webhooks stop while the account waits for its deletion: held
            // until it is restored, or erased with it.
            Ok(Some((_, _, true))) => {
                return Outcome::RetryAt(
                    "the account is pending deletion".into(),
                    self.clock.now() + HELD_WHILE_PENDING,
                );
            }
            Ok(Some((delivery, endpoint, false))) => (delivery, endpoint),
            // The endpoint (and its deliveries) was deleted.
            Ok(None) => return Outcome::Done,
            Err(error) => return Outcome::Retry(error),
        };
        let now = self.clock.now();
        if !endpoint.enabled {
            let answer =
                Answer { status: None, error: Some("the endpoint is disabled".into()), duration: Default::default() };
            return self.record(id, endpoint, answer, attempts, now).await;
        }
        // What stops a delivery before it is sent is an attempt too: the
        // delivery log shows it and the retry schedule applies.
        let unsent = |error: String| Answer { status: None, error: Some(error), duration: Default::default() };
        let signatures = match self.signatures(&endpoint, &delivery, now) {
            Ok(signatures) => signatures,
            Err(error) => return self.record(id, endpoint, unsent(error), attempts, now).await,
        };
        let url = match reqwest::Url::parse(&endpoint.url) {
            Ok(url) => url,
            Err(error) => {
                return self
                    .record(id, endpoint, unsent(format!("stored URL unreadable: {error}")), attempts, now)
                    .await;
            }
        };
        let headers = [
            ("webhook-id", delivery.id.clone()),
            ("webhook-timestamp", now.timestamp().to_string()),
            ("webhook-signature", signatures),
        ];
        let answer = outbound::post(&self.webhook_client, &url, self.reach, headers, delivery.payload.clone()).await;
        self.record(id, endpoint, answer, attempts, now).await
    }

    /// Every signature the delivery carries: the current secret's, and the
    /// previous secret's while a rotation overlaps.
    fn signatures(&self, endpoint: &Endpoint, delivery: &Delivery, now: DateTime<Utc>) -> Result<String, String> {
        let open = |sealed: &str| {
            self.deployment.secrets.open(sealed).map_err(|_| {
                "the endpoint's signing secret cannot be opened with the configured secrets key \
                 (ROSTER_SECRETS_KEY_FILE)"
                    .to_owned()
            })
        };
        let mut secrets = vec![open(&endpoint.secret_sealed)?];
        if let Some((sealed, until)) = &endpoint.previous_secret
            && *until > now
        {
            secrets.push(open(sealed)?);
        }
        let signed: Option<Vec<String>> = secrets
            .iter()
            .map(|secret| outbound::sign(secret, &delivery.id, now.timestamp(), &delivery.payload))
            .collect();
        signed.map(|all| all.join(" ")).ok_or_else(|| "a stored secret is not base64".to_owned())
    }

    async fn record(&self, id: Uuid, endpoint: Endpoint, answer: Answer, attempts: i32, now: DateTime<Utc>) -> Outcome {
        self.with_ctx(move |conn, ctx| {
            match write_transaction(conn, |conn| decide(conn, ctx, id, &endpoint, &answer, attempts, now)) {
                Ok(outcome) => outcome,
                Err(error) => Outcome::Retry(error.to_string()),
            }
        })
        .await
    }
}

fn decide(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    id: Uuid,
    endpoint: &Endpoint,
    answer: &Answer,
    attempts: i32,
    now: DateTime<Utc>,
) -> Result<Outcome, StoreError> {
    let duration_ms = i32::try_from(answer.duration.as_millis()).unwrap_or(i32::MAX);
    let attempt = |status| Attempt {
        status,
        status_code: answer.status.map(i32::from),
        error: answer.error.as_deref(),
        duration_ms,
        at: now,
    };
    if !endpoint.enabled {
        webhooks::record_attempt(conn, id, attempt("failed"))?;
        return Ok(Outcome::Done);
    }
    match answer.status {
        Some(200..=299) => {
            webhooks::record_attempt(conn, id, attempt("succeeded"))?;
            webhooks::record_success(conn, endpoint.id)?;
            Ok(Outcome::Done)
        }
        Some(410) => {
            webhooks::record_attempt(conn, id, attempt("failed"))?;
            disabled_by_system(conn, ctx, endpoint, "the receiver answered 410 Gone")?;
            Ok(Outcome::Done)
        }
        _ => {
            let failing_since = webhooks::record_failure(conn, endpoint.id, now)?;
            if failing_too_long(failing_since, now) {
                webhooks::record_attempt(conn, id, attempt("failed"))?;
                disabled_by_system(conn, ctx, endpoint, "every delivery failed for three days")?;
                return Ok(Outcome::Done);
            }
            let error = answer.error.clone().unwrap_or_else(|| "failed".into());
            match retry_after(attempts) {
                Some(wait) => {
                    webhooks::record_attempt(conn, id, attempt("pending"))?;
                    Ok(Outcome::RetryAt(error, now + wait))
                }
                None => {
                    webhooks::record_attempt(conn, id, attempt("failed"))?;
                    Ok(Outcome::Done)
                }
            }
        }
    }
}
