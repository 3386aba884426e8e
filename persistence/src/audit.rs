//! The audit log: append-only chains of events, one per account (and one
//! per user for what a user does outside any account).
//!
//! A flow [`record`]s its events in the transaction of its change, into
//! `audit_pending`: one cheap append, with no place in the chain yet, so
//! that writes never wait for each other's hashing. The sealer ([`seal`])
//! then moves them into `audit_events` in batches, in the order they were
//! recorded, giving each its `seq` and the hash of its chain's previous
//! event, one sealer at a time (an advisory lock on PostgreSQL, the single
//! writer on SQLite). Database triggers refuse every UPDATE of an event
//! and every DELETE but the retention job's.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Text};
use domain::audit::{Anchor, Bound, BoundSigner, BrokenLink, Link, link_hash, verify_chain};
use uuid::Uuid;

use crate::db::insert_all;
use crate::schema::{
    audit_anchors, audit_checkpoints, audit_event_targets, audit_events, audit_pending, audit_purge_permits,
};
use crate::{DbConnection, StoreError, ids, time};

/// An event to record.
pub struct NewEvent<'a> {
    /// The account's id, or `user:<id>` for a user's own events.
    pub chain: &'a str,
    pub account_id: Option<Uuid>,
    pub occurred_at: DateTime<Utc>,
    pub action: &'a str,
    pub actor_type: &'a str,
    pub actor_id: Option<Uuid>,
    pub actor_name: &'a str,
    /// JSON array of `{type, id, label}`.
    pub targets: &'a str,
    /// The ids in `targets`, for filtering.
    pub target_ids: &'a [Uuid],
    /// JSON object of changed fields: `{"field": {"before": …, "after": …}}`.
    pub changes: &'a str,
    pub request_id: Option<&'a str>,
    pub client_ip: Option<&'a str>,
    pub user_agent: Option<&'a str>,
}

/// A sealed event.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = audit_events, treat_none_as_default_value = false)]
pub struct AuditEvent {
    pub id: String,
    pub chain: String,
    pub seq: i64,
    pub account_id: Option<String>,
    pub occurred_at: NaiveDateTime,
    pub action: String,
    pub actor_type: String,
    pub actor_id: Option<String>,
    pub actor_name: String,
    pub targets: String,
    pub changes: String,
    pub request_id: Option<String>,
    pub client_ip: Option<String>,
    pub user_agent: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

impl AuditEvent {
    pub fn occurred_at(&self) -> DateTime<Utc> {
        time::from_db(self.occurred_at)
    }

    /// What the hash covers: every field but the hashes, in a fixed order,
    /// each length-prefixed so that no two events read alike.
    pub fn canonical_content(&self) -> String {
        let field = |value: Option<&str>| value.map_or_else(|| "-".to_owned(), |v| format!("={}", v.len()) + v);
        [
            field(Some(&self.id)),
            field(Some(&self.chain)),
            field(Some(&self.seq.to_string())),
            field(self.account_id.as_deref()),
            field(Some(&time::from_db(self.occurred_at).to_rfc3339_opts(chrono::SecondsFormat::Micros, true))),
            field(Some(&self.action)),
            field(Some(&self.actor_type)),
            field(self.actor_id.as_deref()),
            field(Some(&self.actor_name)),
            field(Some(&self.targets)),
            field(Some(&self.changes)),
            field(self.request_id.as_deref()),
            field(self.client_ip.as_deref()),
            field(self.user_agent.as_deref()),
        ]
        .join("\n")
    }

    pub fn link(&self) -> Link {
        Link {
            id: self.id.clone(),
            seq: self.seq,
            content: self.canonical_content(),
            prev_hash: self.prev_hash.clone(),
            hash: self.hash.clone(),
        }
    }
}

/// A recorded event waiting for the sealer.
#[derive(Queryable, Selectable)]
#[diesel(table_name = audit_pending)]
struct Pending {
    position: i64,
    id: String,
    chain: String,
    account_id: Option<String>,
    occurred_at: NaiveDateTime,
    action: String,
    actor_type: String,
    actor_id: Option<String>,
    actor_name: String,
    targets: String,
    target_ids: String,
    changes: String,
    request_id: Option<String>,
    client_ip: Option<String>,
    user_agent: Option<String>,
}

#[derive(Insertable)]
#[diesel(table_name = audit_event_targets, treat_none_as_default_value = false)]
struct TargetRow {
    chain: String,
    seq: i64,
    target_id: String,
}

/// A row of `audit_pending`, as [`record`] writes it.
#[derive(Insertable)]
#[diesel(table_name = audit_pending, treat_none_as_default_value = false)]
struct PendingRow<'a> {
    id: String,
    chain: &'a str,
    account_id: Option<String>,
    occurred_at: NaiveDateTime,
    action: &'a str,
    actor_type: &'a str,
    actor_id: Option<String>,
    actor_name: &'a str,
    targets: &'a str,
    target_ids: String,
    changes: &'a str,
    request_id: Option<&'a str>,
    client_ip: Option<&'a str>,
    user_agent: Option<&'a str>,
}

/// Records events in the caller's transaction, in one statement, for the
/// sealer to put in their chains in this order.
pub fn record(conn: &mut DbConnection, events: &[NewEvent<'_>]) -> Result<(), StoreError> {
    let rows: Vec<PendingRow<'_>> = events
        .iter()
        .map(|new| PendingRow {
            id: ids::to_db(Uuid::now_v7()),
            chain: new.chain,
            account_id: new.account_id.map(ids::to_db),
            occurred_at: time::to_db(new.occurred_at),
            action: new.action,
            actor_type: new.actor_type,
            actor_id: new.actor_id.map(ids::to_db),
            actor_name: new.actor_name,
            targets: new.targets,
            target_ids: new.target_ids.iter().copied().map(ids::to_db).collect::<Vec<_>>().join(" "),
            changes: new.changes,
            request_id: new.request_id,
            client_ip: new.client_ip,
            user_agent: new.user_agent,
        })
        .collect();
    insert_all!(conn, audit_pending::table, rows)?;
    Ok(())
}

/// The key of the advisory lock that lets one sealer run at a time.
const SEALER_LOCK: i64 = 0x4175_6469_7453; // "AuditS"

#[derive(QueryableByName)]
struct Locked {
    #[diesel(sql_type = Bool)]
    locked: bool,
}

/// A bound of a chain as stored: where it is, and its seal (none on
/// anchors written before anchors were signed).
#[derive(Debug, Clone, PartialEq, Eq)]
struct SealedBound {
    seq: i64,
    hash: String,
    seal: Option<String>,
}

/// Seals up to `limit` recorded events in the order they were recorded:
/// each joins the end of its chain with the next `seq` and the hash of the
/// event before it, and each touched chain's checkpoint moves to its new
/// end, sealed by `signer`. Returns the events sealed (none when another
/// instance is sealing). Call inside a write transaction.
pub fn seal(conn: &mut DbConnection, limit: i64, signer: &dyn BoundSigner) -> Result<Vec<AuditEvent>, StoreError> {
    if let DbConnection::Pg(_) = conn {
        let locked: Locked =
            diesel::sql_query(format!("SELECT pg_try_advisory_xact_lock({SEALER_LOCK}) AS locked")).get_result(conn)?;
        if !locked.locked {
            return Ok(Vec::new());
        }
    }
    let pending: Vec<Pending> = audit_pending::table
        .order(audit_pending::position.asc())
        .limit(limit)
        .select(Pending::as_select())
        .load(conn)?;
    let positions: Vec<i64> = pending.iter().map(|row| row.position).collect();
    let mut heads: HashMap<String, (i64, String)> = HashMap::new();
    let mut sealed = Vec::with_capacity(pending.len());
    let mut targets = Vec::new();
    for row in pending {
        let (seq, prev_hash) = match heads.remove(&row.chain) {
            Some(head) => head,
            None => head(conn, &row.chain)?,
        };
        let mut event = AuditEvent {
            id: row.id,
            chain: row.chain,
            seq: seq + 1,
            account_id: row.account_id,
            occurred_at: row.occurred_at,
            action: row.action,
            actor_type: row.actor_type,
            actor_id: row.actor_id,
            actor_name: row.actor_name,
            targets: row.targets,
            changes: row.changes,
            request_id: row.request_id,
            client_ip: row.client_ip,
            user_agent: row.user_agent,
            prev_hash,
            hash: String::new(),
        };
        event.hash = link_hash(&event.prev_hash, &event.canonical_content());
        let mut target_ids: Vec<&str> = row.target_ids.split_whitespace().collect();
        target_ids.sort_unstable();
        target_ids.dedup();
        targets.extend(target_ids.into_iter().map(|target_id| TargetRow {
            chain: event.chain.clone(),
            seq: event.seq,
            target_id: target_id.to_owned(),
        }));
        heads.insert(event.chain.clone(), (event.seq, event.hash.clone()));
        sealed.push(event);
    }
    insert_all!(conn, audit_events::table, sealed)?;
    insert_all!(conn, audit_event_targets::table, targets)?;
    for chunk in positions.chunks(crate::db::BATCH_ROWS) {
        diesel::delete(audit_pending::table.filter(audit_pending::position.eq_any(chunk))).execute(conn)?;
    }
    for (chain, (seq, hash)) in heads {
        let seal = signer.sign(Bound::End, &chain, seq, &hash).map_err(StoreError::Corrupt)?;
        diesel::sql_query(
            "INSERT INTO audit_checkpoints (chain, seq, hash, seal) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (chain) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, seal = excluded.seal",
        )
        .bind::<Text, _>(&chain)
        .bind::<BigInt, _>(seq)
        .bind::<Text, _>(&hash)
        .bind::<Text, _>(&seal)
        .execute(conn)?;
    }
    Ok(sealed)
}

/// The checkpoint of `chain`, if the sealer wrote one.
fn checkpoint(conn: &mut DbConnection, chain: &str) -> Result<Option<SealedBound>, StoreError> {
    let found: Option<(i64, String, String)> = audit_checkpoints::table
        .find(chain)
        .select((audit_checkpoints::seq, audit_checkpoints::hash, audit_checkpoints::seal))
        .first(conn)
        .optional()?;
    Ok(found.map(|(seq, hash, seal)| SealedBound { seq, hash, seal: Some(seal) }))
}

/// Whether any recorded event waits to be sealed.
pub fn has_pending(conn: &mut DbConnection) -> Result<bool, StoreError> {
    let first: Option<i64> = audit_pending::table.select(audit_pending::position).first(conn).optional()?;
    Ok(first.is_some())
}

/// The end of a chain: its last event's `seq` and hash, or its anchor.
fn head(conn: &mut DbConnection, chain: &str) -> Result<(i64, String), StoreError> {
    let last: Option<(i64, String)> = audit_events::table
        .filter(audit_events::chain.eq(chain))
        .order(audit_events::seq.desc())
        .select((audit_events::seq, audit_events::hash))
        .first(conn)
        .optional()?;
    match last {
        Some(last) => Ok(last),
        None => {
            let anchor = anchor(conn, chain)?;
            Ok((anchor.seq, anchor.hash))
        }
    }
}

/// Where `chain` starts: the last event retention purged, or the genesis.
pub fn anchor(conn: &mut DbConnection, chain: &str) -> Result<Anchor, StoreError> {
    Ok(stored_anchor(conn, chain)?.map_or_else(Anchor::default, |bound| Anchor { seq: bound.seq, hash: bound.hash }))
}

/// The anchor retention wrote for `chain`, with its seal.
fn stored_anchor(conn: &mut DbConnection, chain: &str) -> Result<Option<SealedBound>, StoreError> {
    let found: Option<(i64, String, Option<String>)> = audit_anchors::table
        .find(chain)
        .select((audit_anchors::seq, audit_anchors::hash, audit_anchors::seal))
        .first(conn)
        .optional()?;
    Ok(found.map(|(seq, hash, seal)| SealedBound { seq, hash, seal }))
}

/// Which events of a chain a listing wants.
#[derive(Debug, Default, Clone)]
pub struct EventFilter {
    pub action: Option<String>,
    /// Actions starting with this.
    pub action_prefix: Option<String>,
    pub actor: Option<Uuid>,
    pub target: Option<Uuid>,
    pub from: Option<DateTime<Utc>>,
    /// Exclusive.
    pub to: Option<DateTime<Utc>>,
}

/// Events of `chain`, newest first, older than `before` (a `seq`).
pub fn list(
    conn: &mut DbConnection,
    chain: &str,
    filter: &EventFilter,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<AuditEvent>, StoreError> {
    let mut query = audit_events::table
        .filter(audit_events::chain.eq(chain))
        .select(AuditEvent::as_select())
        .order(audit_events::seq.desc())
        .limit(limit)
        .into_boxed();
    if let Some(action) = &filter.action {
        query = query.filter(audit_events::action.eq(action.clone()));
    }
    if let Some(prefix) = &filter.action_prefix {
        query = query
            .filter(audit_events::action.like(crate::search::prefix_pattern(prefix)).escape(crate::search::ESCAPE));
    }
    if let Some(actor) = filter.actor {
        query = query.filter(audit_events::actor_id.eq(ids::to_db(actor)));
    }
    if let Some(target) = filter.target {
        let about = audit_event_targets::table
            .filter(audit_event_targets::chain.eq(chain.to_owned()))
            .filter(audit_event_targets::target_id.eq(ids::to_db(target)))
            .select(audit_event_targets::seq);
        query = query.filter(audit_events::seq.eq_any(about));
    }
    if let Some(from) = filter.from {
        query = query.filter(audit_events::occurred_at.ge(time::to_db(from)));
    }
    if let Some(to) = filter.to {
        query = query.filter(audit_events::occurred_at.lt(time::to_db(to)));
    }
    if let Some(before) = before {
        query = query.filter(audit_events::seq.lt(before));
    }
    Ok(query.load(conn)?)
}

/// Every chain that has events or a checkpoint (a chain whose events were
/// all deleted still has its checkpoint).
pub fn chains(conn: &mut DbConnection) -> Result<Vec<String>, StoreError> {
    let mut chains: Vec<String> = audit_events::table.select(audit_events::chain).distinct().load(conn)?;
    chains.extend(audit_checkpoints::table.select(audit_checkpoints::chain).load::<String>(conn)?);
    chains.sort_unstable();
    chains.dedup();
    Ok(chains)
}

/// Events of `chain` in order, after `after` (a `seq`), at most `limit`.
pub fn in_order(conn: &mut DbConnection, chain: &str, after: i64, limit: i64) -> Result<Vec<AuditEvent>, StoreError> {
    Ok(audit_events::table
        .filter(audit_events::chain.eq(chain))
        .filter(audit_events::seq.gt(after))
        .order(audit_events::seq.asc())
        .limit(limit)
        .select(AuditEvent::as_select())
        .load(conn)?)
}

/// Walks `chain` from its anchor page by page: how many events hold, or the
/// first that does not. Both bounds must carry a seal that `signer` made:
/// the walk starts at a signed anchor and must reach the signed checkpoint,
/// so events missing from either end are named.
pub fn verify(
    conn: &mut DbConnection,
    chain: &str,
    signer: &dyn BoundSigner,
) -> Result<Result<i64, BrokenLink>, StoreError> {
    const PAGE: i64 = 1_000;
    let mut anchor = match stored_anchor(conn, chain)? {
        None => Anchor::default(),
        Some(stored) => match holds(signer, Bound::Start, chain, &stored) {
            Ok(()) => Anchor { seq: stored.seq, hash: stored.hash },
            Err(broken) => return Ok(Err(broken)),
        },
    };
    let mut verified = 0;
    loop {
        let page = in_order(conn, chain, anchor.seq, PAGE)?;
        let Some(last) = page.last().map(|event| Anchor { seq: event.seq, hash: event.hash.clone() }) else {
            break;
        };
        match verify_chain(&anchor, page.iter().map(AuditEvent::link)) {
            Ok(count) => verified += count,
            Err(broken) => return Ok(Err(broken)),
        }
        anchor = last;
    }
    let Some(checkpoint) = checkpoint(conn, chain)? else { return Ok(Ok(verified)) };
    Ok(holds(signer, Bound::End, chain, &checkpoint)
        .and_then(|()| reaches_checkpoint(&anchor, &checkpoint))
        .map(|()| verified))
}

/// Whether `stored`'s seal is the one `signer` makes for it.
fn holds(signer: &dyn BoundSigner, bound: Bound, chain: &str, stored: &SealedBound) -> Result<(), BrokenLink> {
    let sealed = stored.seal.as_deref().is_some_and(|seal| signer.holds(bound, chain, stored.seq, &stored.hash, seal));
    if sealed {
        return Ok(());
    }
    Err(match bound {
        Bound::Start => BrokenLink {
            id: "anchor".to_owned(),
            seq: stored.seq,
            reason: "the anchor's signature does not hold: the chain's start was moved or written by hand",
        },
        Bound::End => BrokenLink {
            id: "checkpoint".to_owned(),
            seq: stored.seq,
            reason: "the checkpoint's signature does not hold: it was altered",
        },
    })
}

/// Whether a chain that ends at `end` reaches its `checkpoint`.
fn reaches_checkpoint(end: &Anchor, checkpoint: &SealedBound) -> Result<(), BrokenLink> {
    let broken = |seq, reason| BrokenLink { id: "checkpoint".to_owned(), seq, reason };
    if end.seq < checkpoint.seq {
        return Err(broken(end.seq + 1, "events from this one to the checkpoint are missing: the chain was truncated"));
    }
    // The sealer moves the checkpoint with every event it seals: an end
    // past it, or another event in its place, was not sealed by Roster.
    if end.seq > checkpoint.seq {
        return Err(broken(checkpoint.seq + 1, "events from this one on were added after the last checkpoint"));
    }
    if end.hash != checkpoint.hash {
        return Err(broken(checkpoint.seq, "the chain's end is not the event that was checkpointed"));
    }
    Ok(())
}

/// Removes every chain's events that occurred before `before`, keeping
/// each chain verifiable: the last removed event becomes the chain's
/// anchor, sealed by `signer`. Returns how many events went. Call inside a
/// write transaction.
pub fn purge_before(
    conn: &mut DbConnection,
    before: DateTime<Utc>,
    signer: &dyn BoundSigner,
) -> Result<usize, StoreError> {
    let cutoffs: Vec<(String, Option<i64>)> = audit_events::table
        .filter(audit_events::occurred_at.lt(time::to_db(before)))
        .group_by(audit_events::chain)
        .select((audit_events::chain, diesel::dsl::max(audit_events::seq)))
        .load(conn)?;
    let mut purged = 0;
    for (chain, up_to) in cutoffs {
        let Some(up_to) = up_to else { continue };
        let hash: String = audit_events::table
            .filter(audit_events::chain.eq(&chain))
            .filter(audit_events::seq.eq(up_to))
            .select(audit_events::hash)
            .first(conn)?;
        let seal = signer.sign(Bound::Start, &chain, up_to, &hash).map_err(StoreError::Corrupt)?;
        diesel::sql_query(
            "INSERT INTO audit_anchors (chain, seq, hash, seal) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (chain) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, seal = excluded.seal",
        )
        .bind::<Text, _>(&chain)
        .bind::<BigInt, _>(up_to)
        .bind::<Text, _>(&hash)
        .bind::<Text, _>(&seal)
        .execute(conn)?;
        diesel::insert_into(audit_purge_permits::table)
            .values((audit_purge_permits::chain.eq(&chain), audit_purge_permits::up_to_seq.eq(up_to)))
            .execute(conn)?;
        diesel::delete(
            audit_event_targets::table
                .filter(audit_event_targets::chain.eq(&chain))
                .filter(audit_event_targets::seq.le(up_to)),
        )
        .execute(conn)?;
        purged += diesel::delete(
            audit_events::table.filter(audit_events::chain.eq(&chain)).filter(audit_events::seq.le(up_to)),
        )
        .execute(conn)?;
        diesel::delete(audit_purge_permits::table.find(&chain)).execute(conn)?;
    }
    Ok(purged)
}
