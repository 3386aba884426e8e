//! Jobs that reschedule themselves: invitation reminders and expiry, and
//! clean-up. Each is one row with a fixed id, so several instances share
//! one schedule and the lease keeps them from running it twice at once.
//! Both are also safe if they did: expiry is idempotent and each reminder
//! is claimed by a conditional update before its email is queued.

use std::time::Duration;

use chrono::{DateTime, Duration as Span, Utc};
use persistence::{DbConnection, StoreError, invitations, jobs};

use super::Outcome;
use crate::flows::Ctx;
use crate::flows::invitations as flows;

pub const INVITATION_CLOCK: &str = "invitation_clock";
pub const CLEANUP: &str = "cleanup";
pub const ACCESS_REVIEW_CLOCK: &str = "access_review_clock";
/// Verified domains' records looked up again: run by the runner itself,
/// since the lookups are not database work ([`super::JobRunner`]).
pub const DOMAIN_RECHECK: &str = "domain_recheck";
/// Accounts whose deletion waited out its grace period, erased.
pub const ACCOUNT_ERASURE: &str = "account_erasure";
pub const KINDS: &[&str] = &[INVITATION_CLOCK, ACCESS_REVIEW_CLOCK, CLEANUP, DOMAIN_RECHECK, ACCOUNT_ERASURE];

/// Finished jobs are kept this long for operators, then forgotten.
const KEEP_DONE_JOBS: Span = Span::days(7);
const CLEANUP_EVERY: Span = Span::hours(1);
const REMINDER_BATCH: i64 = 100;

pub fn register(conn: &mut DbConnection, now: DateTime<Utc>) -> Result<(), StoreError> {
    for kind in KINDS {
        jobs::enqueue_once(conn, &format!("periodic:{kind}"), kind, "{}", now)?;
    }
    Ok(())
}

/// How the periodic jobs are configured.
#[derive(Debug, Clone, Copy)]
pub struct Schedule {
    /// How often reminders and expiry of invitations are processed.
    pub invitation_interval: Duration,
    /// How long audit events are kept (`None`: forever).
    pub audit_retention: Option<Span>,
    /// How long an erased account's audit log is kept after its erasure
    /// (`None`: as long as other events).
    pub audit_archive: Option<Span>,
    /// How long after its last check a verified domain is looked up again.
    pub domain_recheck: Span,
}

pub fn run(conn: &mut DbConnection, ctx: &Ctx<'_>, kind: &str, schedule: Schedule) -> Outcome {
    let outcome = match kind {
        INVITATION_CLOCK => invitation_clock(conn, ctx).map(|()| Span::from_std(schedule.invitation_interval)),
        // Reviews are due by the day: the invitation clock's pace is ample.
        ACCESS_REVIEW_CLOCK => crate::flows::access_reviews::clock(conn, ctx)
            .map(|done| {
                if done > 0 {
                    tracing::info!(done, "access review clock");
                }
                Span::from_std(schedule.invitation_interval)
            })
            .map_err(|e| e.to_string()),
        // Grace periods end by the day: the invitation clock's pace is ample.
        ACCOUNT_ERASURE => crate::flows::accounts::erase_due(conn, ctx)
            .map(|_| Span::from_std(schedule.invitation_interval))
            .map_err(|e| e.to_string()),
        _ => cleanup(conn, ctx, schedule).map(|()| Ok(CLEANUP_EVERY)),
    };
    match outcome {
        Ok(Ok(every)) => Outcome::Again(ctx.now + every),
        Ok(Err(error)) => Outcome::Retry(error.to_string()),
        Err(error) => Outcome::Retry(error),
    }
}

/// Records expiry, then sends due reminders until none is left.
fn invitation_clock(conn: &mut DbConnection, ctx: &Ctx<'_>) -> Result<(), String> {
    let expired = persistence::write_transaction(conn, |conn| {
        let lapsed = invitations::expire_lapsed(conn, ctx.now)?;
        flows::record_expired(conn, ctx, &lapsed)?;
        Ok::<usize, StoreError>(lapsed.len())
    })
    .map_err(|e| e.to_string())?;
    let mut reminded = 0;
    loop {
        let due = invitations::due_reminders(conn, ctx.now, REMINDER_BATCH).map_err(|e| e.to_string())?;
        let mut sent_any = false;
        for invitation in &due {
            if flows::send_reminder(conn, ctx, invitation).map_err(|e| e.to_string())? {
                reminded += 1;
                sent_any = true;
            }
        }
        if due.len() < REMINDER_BATCH as usize || !sent_any {
            break;
        }
    }
    if expired + reminded > 0 {
        tracing::info!(expired, reminded, "invitation clock");
    }
    Ok(())
}

/// Forgets idempotency keys past their retention, finished jobs, ended
/// rate-limit counters, single sign-ons never finished, expired copies of
/// people's data, SQLite's day-old log of authorization changes, audit
/// events past theirs and erased accounts' audit logs past theirs (each
/// chain keeps an anchor to verify from).
fn cleanup(conn: &mut DbConnection, ctx: &Ctx<'_>, schedule: Schedule) -> Result<(), String> {
    let keys = persistence::idempotency::purge_expired(conn, ctx.now).map_err(|e| e.to_string())?;
    let done = jobs::purge_done_before(conn, ctx.now - KEEP_DONE_JOBS).map_err(|e| e.to_string())?;
    let counters = persistence::rate_limits::purge_ended(conn, ctx.now).map_err(|e| e.to_string())?;
    let sign_ins = persistence::sso::purge_expired(conn, ctx.now).map_err(|e| e.to_string())?;
    let copies = persistence::personal_data::purge_expired_copies(conn, ctx.now).map_err(|e| e.to_string())?;
    persistence::authorization_changes::purge_log(conn).map_err(|e| e.to_string())?;
    let events = match schedule.audit_retention {
        Some(keep) => persistence::write_transaction(conn, |conn| {
            persistence::audit::purge_before(conn, ctx.now - keep, ctx.secrets)
        })
        .map_err(|e| e.to_string())?,
        None => 0,
    };
    let archived = match schedule.audit_archive {
        Some(keep) => persistence::write_transaction(conn, |conn| {
            persistence::audit::purge_archives(conn, ctx.now - keep, ctx.secrets)
        })
        .map_err(|e| e.to_string())?,
        None => 0,
    };
    if keys + done + events + archived + counters + sign_ins + copies > 0 {
        tracing::info!(
            idempotency_keys = keys,
            jobs = done,
            audit_events = events,
            archived_audit_events = archived,
            rate_limits = counters,
            sso_sign_ins = sign_ins,
            personal_copies = copies,
            "clean-up"
        );
    }
    Ok(())
}
