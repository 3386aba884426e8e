//! Background work inside `roster serve`: one runner for every kind of
//! job in the `jobs` table. Jobs are claimed with a lease (`FOR UPDATE SKIP
//! LOCKED` on PostgreSQL, so several instances never run one job at once);
//! a failed run is retried with exponential backoff, and its attempt count
//! and last error are recorded in one place. Kinds run in lanes, so that a
//! backlog of emails never delays an import, and neither delays reminders.
//!
//! Before the lanes, the sealer gives recorded audit events their place in
//! their chain and queues their webhook deliveries ([`JobRunner::seal`]);
//! on SQLite the same turn at the write lock adds new invitations to the
//! search index.
//!
//! Tests build the application with the runner off and drive it with
//! [`JobRunner::run_until_idle`] instead of waiting for it.

pub mod periodic;
mod webhooks;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Duration as Span, Utc};
use domain::Clock;
use futures_util::{StreamExt, stream};
use lettre::message::Mailbox;
use persistence::jobs::{self, ClaimedJob};
use persistence::users::ReadingPreferences;
use persistence::{DbConnection, DbPool};
use tokio::sync::Notify;

use crate::access_cache::AccessCache;
use crate::email::render::Reader;
use crate::email::transport::{EmailTransport, FileAttachment, Letter};
use crate::email::{self, EmailJob};
use crate::flows::{Actor, Ctx, Deployment, Origin, imports};
use crate::outbound::Reach;

/// How long a finished job may wait to be recorded with the rest of its
/// batch. Until it is, a crash runs it again (an email is sent twice, with
/// the same `Message-ID`): the wait bounds how much that can be.
const FINISH_WITHIN: Duration = Duration::from_secs(1);
/// How long a claimed job is kept from other workers.
const LEASE: Span = Span::seconds(120);
/// Jobs claimed at once per lane.
const BATCH: i64 = 20;
/// Audit events sealed (and, on SQLite, invitations indexed for search)
/// per transaction.
const SEAL_BATCH: i64 = 500;
/// People finished erasing per sealer transaction: each scans the audit
/// log's personal part for their emails.
const ERASURE_BATCH: i64 = 10;
/// How long the sealer lets events gather after it is woken: one
/// transaction for a burst instead of one per change.
const SEAL_WINDOW: Duration = Duration::from_millis(50);

/// The kinds that run together, each lane on its own task.
const LANES: [&[&str]; 4] = [
    &[email::JOB_KIND],
    &[crate::flows::webhooks::JOB_KIND],
    &[imports::JOB_KIND, crate::flows::my_data::JOB_KIND],
    periodic::KINDS,
];
const WEBHOOK_LANE: usize = 1;

/// Emails to different people are sent this many at a time: each waits
/// mostly on the mail server (or, with `file://`, on the disk's sync).
const EMAILS_IN_FLIGHT: usize = 8;

/// The recipient of an email job.
fn recipient_of(job: &ClaimedJob) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Addressed {
        recipient: String,
    }
    (job.kind == email::JOB_KIND)
        .then(|| serde_json::from_str::<Addressed>(&job.payload).ok())
        .flatten()
        .map(|email| email.recipient)
}

/// A claimed batch (as indices) in the sequences that must each run in
/// queue order: one per recipient for emails (a person reads them in the
/// order they were queued), one for every other job (webhooks go out in
/// chain order).
fn sequences(claimed: &[ClaimedJob]) -> Vec<Vec<usize>> {
    let mut sequences: Vec<Vec<usize>> = Vec::new();
    let mut by_recipient: HashMap<Option<String>, usize> = HashMap::new();
    for (index, job) in claimed.iter().enumerate() {
        let sequence = *by_recipient.entry(recipient_of(job)).or_insert_with(|| {
            sequences.push(Vec::new());
            sequences.len() - 1
        });
        sequences[sequence].push(index);
    }
    sequences
}

/// What the recipients of a batch's emails chose, by email (or why it
/// could not be read).
type Readers = Result<HashMap<String, ReadingPreferences>, String>;

/// What became of one run of a job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Done,
    /// More to do at that time (periodic jobs, imports with rows left).
    Again(DateTime<Utc>),
    /// Failed; try again after the backoff.
    Retry(String),
    /// Failed; try again at that time.
    RetryAt(String, DateTime<Utc>),
}

pub struct JobRunner {
    pub pool: DbPool,
    /// The catalogue, plans and keys flows consult.
    pub deployment: Arc<Deployment>,
    /// Where webhooks may be sent, and the client that sends them.
    pub reach: Reach,
    pub webhook_client: reqwest::Client,
    pub clock: Arc<dyn Clock>,
    pub email_transport: EmailTransport,
    pub email_from: Mailbox,
    /// How often an idle lane looks for due jobs (others' work, retries).
    pub poll: Duration,
    /// The periodic jobs' settings.
    pub schedule: periodic::Schedule,
    /// Looks verified domains' records up again.
    dns: crate::dns::TxtResolver,
    wake: [Notify; LANES.len()],
    wake_sealer: Notify,
    /// Told of the authorization changes jobs commit (expiry, reviews).
    access: Arc<AccessCache>,
}

/// Backoff after the n-th failed attempt: 10 s, 20 s, 40 s … capped at 1 h.
pub fn retry_delay(attempts: i32) -> Span {
    let exponent = u32::try_from(attempts.clamp(1, 12) - 1).unwrap_or(0);
    Span::seconds((10i64 << exponent).min(3600))
}

impl JobRunner {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        pool: DbPool,
        deployment: Arc<Deployment>,
        reach: Reach,
        clock: Arc<dyn Clock>,
        email_transport: EmailTransport,
        email_from: Mailbox,
        poll: Duration,
        schedule: periodic::Schedule,
        dns: crate::dns::TxtResolver,
    ) -> Result<Self, String> {
        Ok(Self {
            pool,
            deployment,
            reach,
            webhook_client: crate::outbound::client(reach, "Roster-Webhooks").map_err(|e| e.to_string())?,
            clock,
            email_transport,
            email_from,
            poll,
            schedule,
            dns,
            wake: Default::default(),
            wake_sealer: Notify::new(),
            access: Arc::default(),
        })
    }

    /// Shares the server's authorization cache, so that what jobs change
    /// is forgotten there at once.
    pub fn with_access_cache(self, access: Arc<AccessCache>) -> Self {
        Self { access, ..self }
    }

    /// Tells the runner that a change was committed. Every change records
    /// an audit event, so this wakes the sealer, which wakes the lanes once
    /// per batch it seals: under load that is one look for emails and
    /// imports per seal window instead of four per request, each a query
    /// (and on SQLite a turn at the write lock when there is work).
    pub fn wake(&self) {
        self.wake_sealer.notify_one();
    }

    fn wake_lanes(&self) {
        for lane in &self.wake {
            lane.notify_one();
        }
    }

    /// Registers the periodic jobs (once per database; every instance may).
    pub fn register_periodic(&self) -> Result<(), String> {
        let mut conn = self.pool.get().map_err(|e| e.to_string())?;
        periodic::register(&mut conn, self.clock.now()).map_err(|e| e.to_string())
    }

    /// Runs every lane until none has a due job; returns how many ran.
    pub async fn run_until_idle(&self) -> Result<usize, String> {
        self.run_kinds_until_idle(None).await
    }

    /// Runs due jobs of `only` these kinds (every kind: `None`) until none
    /// is left; returns how many ran.
    pub async fn run_kinds_until_idle(&self, only: Option<&[String]>) -> Result<usize, String> {
        let lanes: Vec<Vec<&'static str>> = LANES
            .iter()
            .map(|kinds| {
                kinds.iter().copied().filter(|kind| only.is_none_or(|only| only.iter().any(|k| k == kind))).collect()
            })
            .filter(|kinds: &Vec<&str>| !kinds.is_empty())
            .collect();
        let mut total = 0;
        loop {
            while self.seal().await? > 0 {}
            let mut ran = 0;
            for kinds in &lanes {
                ran += self.run_lane(kinds.clone()).await?;
            }
            if ran == 0 {
                return Ok(total);
            }
            total += ran;
        }
    }

    /// Runs the lanes until the process ends: each drains its due jobs,
    /// then waits to be woken or for the next poll.
    pub async fn run(self: Arc<Self>) {
        // Dropping the set (when this future is cancelled) stops every lane.
        let mut lanes = tokio::task::JoinSet::new();
        for (lane, kinds) in LANES.iter().enumerate() {
            let runner = self.clone();
            lanes.spawn(async move {
                loop {
                    match runner.run_lane(kinds.to_vec()).await {
                        Ok(0) => {}
                        Ok(_) => continue,
                        Err(reason) => tracing::warn!(%reason, lane, "jobs could not be claimed"),
                    }
                    tokio::select! {
                        () = runner.wake[lane].notified() => {}
                        () = tokio::time::sleep(runner.poll) => {}
                    }
                }
            });
        }
        let sealer = self.clone();
        lanes.spawn(async move {
            loop {
                match sealer.seal().await {
                    Ok(0) => {}
                    // A full batch: more are waiting already.
                    Ok(sealed) if sealed == SEAL_BATCH as usize => {
                        sealer.wake_lanes();
                        continue;
                    }
                    // Otherwise wait for the next window to fill: sealing
                    // again at once, under steady load, made a transaction
                    // (and four lane queries) per handful of events.
                    Ok(_) => sealer.wake_lanes(),
                    Err(reason) => tracing::warn!(%reason, "audit events could not be sealed"),
                }
                tokio::select! {
                    () = sealer.wake_sealer.notified() => tokio::time::sleep(SEAL_WINDOW).await,
                    () = tokio::time::sleep(sealer.poll) => {}
                }
            }
        });
        while lanes.join_next().await.is_some() {}
    }

    /// Seals one batch of recorded audit events and, in the same
    /// transaction, queues their webhook deliveries; returns how many were
    /// sealed. What is sealed is what integrators are told, in chain order.
    /// Once nothing waits to be sealed, it finishes people's erasures.
    /// On SQLite, the transaction also moves up to a batch of queued
    /// invitations into the search index (one FTS5 segment for a batch,
    /// instead of one per invitation); that count is returned instead when
    /// it is the larger, so that a full batch of either makes the sealer go
    /// on at once.
    pub async fn seal(&self) -> Result<usize, String> {
        let deployment = self.deployment.clone();
        let (sealed, queued) = self
            .blocking(move |conn, now| {
                // Reads first: on SQLite an empty write transaction still
                // takes the database's only write lock.
                if !persistence::audit::has_pending(conn)?
                    && !persistence::search::invitations_queued(conn)?
                    && !persistence::person_erasure::any_pending(conn)?
                {
                    return Ok((0, false));
                }
                persistence::write_transaction(conn, |conn| {
                    let indexed = persistence::search::index_queued_invitations(conn, SEAL_BATCH)?;
                    let sealed = persistence::audit::seal(conn, SEAL_BATCH, &deployment.secrets)?;
                    let queued = crate::flows::webhooks::enqueue_for(conn, &sealed, now)?;
                    // People who erased themselves leave the audit log once
                    // every event recorded before is sealed (about their
                    // leaving, too), and its webhook payloads queued.
                    let erased = if persistence::audit::has_pending(conn)? {
                        0
                    } else {
                        persistence::person_erasure::finish_due(conn, ERASURE_BATCH, now)?
                    };
                    Ok((sealed.len().max(indexed).max(erased), queued))
                })
            })
            .await?;
        if queued {
            self.wake[WEBHOOK_LANE].notify_one();
        }
        Ok(sealed)
    }

    /// Claims one batch of due jobs of `kinds` and runs them: emails to
    /// different people [`EMAILS_IN_FLIGHT`] at a time, other jobs in turn
    /// ([`sequences`]). Finished jobs are recorded together (one statement,
    /// one commit) at the end of the batch, or once the first of them has
    /// waited [`FINISH_WITHIN`]; other outcomes are recorded at once.
    async fn run_lane(&self, kinds: Vec<&'static str>) -> Result<usize, String> {
        let claimed = self.blocking(move |conn, now| jobs::claim(conn, &kinds, now, LEASE, BATCH)).await?;
        let readers = self.readers_of(&claimed).await;
        let in_flight = if claimed.iter().all(|job| job.kind == email::JOB_KIND) { EMAILS_IN_FLIGHT } else { 1 };
        let (jobs, readers) = (&claimed, &readers);
        // Indices, not references: a closure over borrowed jobs is not
        // general enough for the lane's spawned future to be `Send`.
        let runs = stream::iter(sequences(&claimed))
            .map(|sequence: Vec<usize>| async move {
                let mut ran = Vec::with_capacity(sequence.len());
                for index in sequence {
                    let job = &jobs[index];
                    ran.push((job, self.execute(job, readers).await));
                }
                stream::iter(ran)
            })
            .buffer_unordered(in_flight)
            .flatten();
        let mut runs = std::pin::pin!(runs);
        let mut finished: Vec<String> = Vec::new();
        let mut first_finished = Instant::now();
        while let Some((job, outcome)) = runs.next().await {
            let (id, attempts) = (job.id.clone(), job.attempts);
            if let Outcome::Retry(error) | Outcome::RetryAt(error, _) = &outcome {
                tracing::warn!(job = %id, kind = %job.kind, attempts, %error, "job failed; will retry");
            }
            let recorded = if outcome == Outcome::Done {
                if finished.is_empty() {
                    first_finished = Instant::now();
                }
                finished.push(id);
                if first_finished.elapsed() < FINISH_WITHIN {
                    continue;
                }
                self.record_finished(&mut finished).await
            } else {
                self.blocking(move |conn, now| match outcome {
                    Outcome::Done => jobs::finish_all(conn, &[id], now),
                    Outcome::Again(at) => jobs::reschedule(conn, &id, at),
                    Outcome::Retry(error) => jobs::fail(conn, &id, &error, now + retry_delay(attempts)),
                    Outcome::RetryAt(error, at) => jobs::fail(conn, &id, &error, at),
                })
                .await
            };
            if let Err(reason) = recorded {
                tracing::warn!(job = %job.id, %reason, "could not record a job's outcome");
            }
        }
        if let Err(reason) = self.record_finished(&mut finished).await {
            tracing::warn!(%reason, "could not record finished jobs");
        }
        Ok(claimed.len())
    }

    async fn record_finished(&self, finished: &mut Vec<String>) -> Result<(), String> {
        if finished.is_empty() {
            return Ok(());
        }
        let ids = std::mem::take(finished);
        self.blocking(move |conn, now| jobs::finish_all(conn, &ids, now)).await
    }

    /// The languages and time zones the recipients of a batch's emails
    /// chose, read at once rather than once per email, so that sending
    /// them holds no database connection.
    async fn readers_of(&self, claimed: &[ClaimedJob]) -> Readers {
        let recipients: Vec<String> = claimed.iter().filter_map(recipient_of).collect();
        if recipients.is_empty() {
            return Ok(HashMap::new());
        }
        self.blocking(move |conn, _| {
            let recipients: Vec<&str> = recipients.iter().map(String::as_str).collect();
            persistence::users::reading_preferences_of(conn, &recipients)
        })
        .await
    }

    async fn execute(&self, job: &ClaimedJob, readers: &Readers) -> Outcome {
        match job.kind.as_str() {
            email::JOB_KIND => self.deliver_email(job, readers).await,
            imports::JOB_KIND => self.import_batch(job).await,
            crate::flows::my_data::JOB_KIND => self.make_personal_copy(job).await,
            crate::flows::webhooks::JOB_KIND => self.deliver_webhook(&job.payload, job.attempts).await,
            periodic::DOMAIN_RECHECK => self.recheck_domains().await,
            kind if periodic::KINDS.contains(&kind) => {
                let (kind, schedule) = (kind.to_owned(), self.schedule);
                self.with_ctx(move |conn, ctx| periodic::run(conn, ctx, &kind, schedule)).await
            }
            other => Outcome::Retry(format!("no runner for jobs of kind {other:?}")),
        }
    }

    /// Looks the records of verified domains not checked for a while up
    /// again, a batch at a time; a lookup that fails is not a missing
    /// record and is tried at the next run.
    async fn recheck_domains(&self) -> Outcome {
        const BATCH: i64 = 100;
        let every = self.schedule.domain_recheck;
        loop {
            let checked_before = self.clock.now() - every;
            let due =
                self.blocking(move |conn, _| persistence::domains::due_for_recheck(conn, checked_before, BATCH)).await;
            let due = match due {
                Ok(due) => due,
                Err(error) => return Outcome::Retry(error),
            };
            let mut looked_up = 0;
            for claimed in &due {
                let Some(record) = crate::flows::domains::record(claimed) else { continue };
                let found = match self.dns.txt(&record.name).await {
                    Ok(published) => record.found_in(&published),
                    Err(error) => {
                        tracing::warn!(domain = %claimed.domain, %error, "a verified domain could not be checked");
                        continue;
                    }
                };
                looked_up += 1;
                let claimed = claimed.clone();
                let outcome = self
                    .with_ctx(move |conn, ctx| match crate::flows::domains::rechecked(conn, ctx, &claimed, found) {
                        Ok(()) => Outcome::Done,
                        Err(error) => Outcome::Retry(error.to_string()),
                    })
                    .await;
                if let Outcome::Retry(error) = outcome {
                    return Outcome::Retry(error);
                }
            }
            if due.len() < BATCH as usize || looked_up == 0 {
                break;
            }
        }
        // Hourly: each domain is due `every` after its last check.
        Outcome::Again(self.clock.now() + chrono::Duration::hours(1).min(every))
    }

    async fn deliver_email(&self, job: &ClaimedJob, readers: &Readers) -> Outcome {
        let queued: EmailJob = match serde_json::from_str(&job.payload) {
            Ok(queued) => queued,
            Err(error) => return Outcome::Retry(format!("unreadable email job: {error}")),
        };
        let sent = match queued {
            EmailJob::ToRender(email) => {
                let ReadingPreferences { locale, time_zone } = match readers {
                    Ok(readers) => readers.get(&email.recipient).cloned().unwrap_or_default(),
                    Err(error) => return Outcome::Retry(error.clone()),
                };
                // The reader's own language first, then the one the sender chose.
                let reader = Reader {
                    languages: [locale, email.locale.clone()]
                        .into_iter()
                        .flatten()
                        .filter_map(|tag| tag.parse().ok())
                        .collect(),
                    time_zone: time_zone.and_then(|zone| zone.parse().ok()),
                };
                let rendered = match self.deployment.emails.render(&email.message, &reader) {
                    Ok(rendered) => rendered,
                    Err(error) => return Outcome::Retry(format!("the email could not be written: {error}")),
                };
                let attachment = match email.attachment {
                    Some(attachment) => match self.attachment(attachment).await {
                        Ok(file) => Some(file),
                        Err(error) => return Outcome::Retry(format!("the attachment could not be made: {error}")),
                    },
                    None => None,
                };
                let letter = Letter {
                    recipient: &email.recipient,
                    subject: &rendered.subject,
                    text: &rendered.text,
                    html: &rendered.html,
                    unsubscribe_url: email.unsubscribe_url.as_deref(),
                    attachment: attachment.as_ref(),
                };
                self.email_transport.send(&self.email_from, &job.id, letter).await
            }
            EmailJob::PreRendered(email) => {
                let letter = Letter {
                    recipient: &email.recipient,
                    subject: &email.subject,
                    text: &email.text_body,
                    html: &email.html_body,
                    unsubscribe_url: email.unsubscribe_url.as_deref(),
                    attachment: None,
                };
                self.email_transport.send(&self.email_from, &job.id, letter).await
            }
        };
        match sent {
            Ok(()) => Outcome::Done,
            Err(error) => Outcome::Retry(error),
        }
    }

    /// Makes the file an email attaches, as it is now.
    async fn attachment(&self, attachment: email::Attachment) -> Result<FileAttachment, String> {
        match attachment {
            email::Attachment::ImportReport { import_id } => {
                // Up to 100,000 rows: read and written off the async workers.
                let bytes = self
                    .blocking(move |conn, _| {
                        let results = persistence::imports::results(conn, import_id)?;
                        crate::http::spreadsheet::import_report(&results)
                            .map_err(|error| persistence::StoreError::Corrupt(format!("{error:?}")))
                    })
                    .await?;
                Ok(FileAttachment {
                    file_name: crate::http::spreadsheet::import_report_file_name(import_id),
                    content_type: "text/csv; charset=utf-8",
                    bytes,
                })
            }
        }
    }

    async fn import_batch(&self, job: &ClaimedJob) -> Outcome {
        #[derive(serde::Deserialize)]
        struct ImportJob {
            import_id: uuid::Uuid,
        }
        let id = match serde_json::from_str::<ImportJob>(&job.payload) {
            Ok(job) => job.import_id,
            Err(error) => return Outcome::Retry(format!("unreadable import job: {error}")),
        };
        self.with_ctx(move |conn, ctx| match imports::process_batch(conn, ctx, id) {
            Ok(Some(import)) if import.status != persistence::imports::ImportStatus::Completed => {
                Outcome::Again(ctx.now)
            }
            Ok(_) => Outcome::Done,
            // Includes a batch undone by a concurrent invitation: it runs again.
            Err(error) => Outcome::Retry(error.to_string()),
        })
        .await
    }

    async fn make_personal_copy(&self, job: &ClaimedJob) -> Outcome {
        #[derive(serde::Deserialize)]
        struct CopyJob {
            export_id: uuid::Uuid,
        }
        let id = match serde_json::from_str::<CopyJob>(&job.payload) {
            Ok(job) => job.export_id,
            Err(error) => return Outcome::Retry(format!("unreadable personal export job: {error}")),
        };
        self.with_ctx(move |conn, ctx| match crate::flows::my_data::make_copy(conn, ctx, id) {
            Ok(()) => Outcome::Done,
            Err(error) => Outcome::Retry(error.to_string()),
        })
        .await
    }

    /// Runs blocking work with a system [`Ctx`] for this moment.
    async fn with_ctx(&self, work: impl FnOnce(&mut DbConnection, &Ctx<'_>) -> Outcome + Send + 'static) -> Outcome {
        let deployment = self.deployment.clone();
        let outcome = self
            .blocking(move |conn, now| {
                let ctx = Ctx::new(&deployment, now, Actor::System, Origin::default());
                Ok(work(conn, &ctx))
            })
            .await;
        outcome.unwrap_or_else(Outcome::Retry)
    }

    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut DbConnection, DateTime<Utc>) -> Result<T, persistence::StoreError> + Send + 'static,
    ) -> Result<T, String> {
        let (pool, access) = (self.pool.clone(), self.access.clone());
        let now = self.clock.now();
        tokio::task::spawn_blocking(move || {
            let mut conn = pool.get().map_err(|e| e.to_string())?;
            let outcome = work(&mut conn, now).map_err(|e| e.to_string());
            access.forget_committed();
            outcome
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

    fn job(kind: &str, payload: &str) -> ClaimedJob {
        ClaimedJob { id: String::new(), kind: kind.to_owned(), payload: payload.to_owned(), attempts: 1 }
    }

    #[test]
    fn emails_to_one_person_stay_in_queue_order_and_other_jobs_in_one_sequence() {
        let to = |recipient: &str| job(email::JOB_KIND, &format!(r#"{{"recipient":"{recipient}","message":{{}}}}"#));
        let emails = [to("ada@example.com"), to("bob@example.com"), to("ada@example.com"), to("cy@example.com")];
        assert_eq!(sequences(&emails), [vec![0, 2], vec![1], vec![3]]);

        let hook = || job(crate::flows::webhooks::JOB_KIND, r#"{"recipient":"ada@example.com"}"#);
        assert_eq!(sequences(&[hook(), hook(), hook()]), [vec![0, 1, 2]], "webhooks go out in chain order");
        assert!(sequences(&[]).is_empty());
    }
}
