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

use std::cell::RefCell;
use std::collections::HashMap;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::QueryFragment;
use diesel::sql_types::{BigInt, Bool, Text};
use domain::audit::{Anchor, Bound, BoundSigner, BrokenLink, Link, link_hash, personal_digest, verify_chain};
use uuid::Uuid;

use crate::db::insert_all;
use crate::schema::{
    audit_anchors, audit_checkpoints, audit_event_targets, audit_events, audit_pending, audit_personal_data,
    audit_purge_permits,
};
use crate::{DbConnection, StoreError, ids, time};

/// An event to record.
#[derive(Clone)]
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

/// A sealed event: its place in its chain, and what it says about people.
#[derive(Debug, Clone, PartialEq, Eq)]
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
    /// When a person in it was erased from its personal part.
    pub erased_at: Option<NaiveDateTime>,
}

/// An event as its chain holds it: stable ids and the digest of its
/// personal part.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = audit_events, treat_none_as_default_value = false)]
struct ChainedEvent {
    id: String,
    chain: String,
    seq: i64,
    account_id: Option<String>,
    occurred_at: NaiveDateTime,
    action: String,
    actor_type: String,
    actor_id: Option<String>,
    request_id: Option<String>,
    prev_hash: String,
    hash: String,
    /// `[{"type", "id"}]`; `None` on events sealed before personal data
    /// left the chain.
    target_refs: Option<String>,
    details_digest: Option<String>,
}

/// What an event says about people, beside its chain.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = audit_personal_data, treat_none_as_default_value = false, treat_none_as_null = true)]
struct PersonalData {
    chain: String,
    seq: i64,
    actor_name: String,
    targets: String,
    changes: String,
    client_ip: Option<String>,
    user_agent: Option<String>,
    salt: Option<String>,
    erased_at: Option<NaiveDateTime>,
}

/// Length-prefixed fields, one per line, so that no two events read alike.
fn canonical(fields: &[Option<&str>]) -> String {
    fields
        .iter()
        .map(|value| value.map_or_else(|| "-".to_owned(), |v| format!("={}", v.len()) + v))
        .collect::<Vec<_>>()
        .join("\n")
}

impl PersonalData {
    fn content(&self) -> String {
        canonical(&[
            Some(&self.actor_name),
            Some(&self.targets),
            Some(&self.changes),
            self.client_ip.as_deref(),
            self.user_agent.as_deref(),
        ])
    }

    fn digest(&self) -> Option<String> {
        self.salt.as_deref().map(|salt| personal_digest(salt, &self.content()))
    }
}

impl ChainedEvent {
    /// What the hash covers: the event's ids and the digest of its personal
    /// part; for an event sealed before personal data left the chain, the
    /// personal data itself (`None` once erased).
    fn canonical_content(&self, personal: Option<&PersonalData>) -> Option<String> {
        let occurred_at = time::from_db(self.occurred_at).to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        let seq = self.seq.to_string();
        let head = [
            Some(self.id.as_str()),
            Some(&self.chain),
            Some(&seq),
            self.account_id.as_deref(),
            Some(&occurred_at),
            Some(&self.action),
            Some(&self.actor_type),
            self.actor_id.as_deref(),
        ];
        match &self.details_digest {
            Some(digest) => Some(canonical(
                &[&head[..], &[self.target_refs.as_deref(), self.request_id.as_deref(), Some(digest)]].concat(),
            )),
            None => {
                let personal = personal.filter(|personal| personal.erased_at.is_none())?;
                Some(canonical(
                    &[
                        &head[..],
                        &[
                            Some(&personal.actor_name),
                            Some(&personal.targets),
                            Some(&personal.changes),
                            self.request_id.as_deref(),
                            personal.client_ip.as_deref(),
                            personal.user_agent.as_deref(),
                        ],
                    ]
                    .concat(),
                ))
            }
        }
    }

    fn link(&self, personal: Option<&PersonalData>) -> Link {
        Link {
            id: self.id.clone(),
            seq: self.seq,
            content: self.canonical_content(personal),
            prev_hash: self.prev_hash.clone(),
            hash: self.hash.clone(),
        }
    }

    /// Whether the personal part is the one the chain's digest covers:
    /// present, and unchanged unless erasure rewrote it.
    fn personal_part_holds(&self, personal: Option<&PersonalData>) -> Result<(), &'static str> {
        let Some(personal) = personal else { return Err("what it says about people is missing") };
        match (&self.details_digest, personal.erased_at) {
            (_, Some(_)) | (None, None) => Ok(()),
            (Some(digest), None) if personal.digest().as_ref() == Some(digest) => Ok(()),
            (Some(_), None) => Err("what it says about people does not match its digest"),
        }
    }

    fn with(self, personal: Option<PersonalData>) -> AuditEvent {
        let personal = personal.unwrap_or_else(|| PersonalData::missing(&self.chain, self.seq));
        AuditEvent {
            id: self.id,
            chain: self.chain,
            seq: self.seq,
            account_id: self.account_id,
            occurred_at: self.occurred_at,
            action: self.action,
            actor_type: self.actor_type,
            actor_id: self.actor_id,
            actor_name: personal.actor_name,
            targets: personal.targets,
            changes: personal.changes,
            request_id: self.request_id,
            client_ip: personal.client_ip,
            user_agent: personal.user_agent,
            prev_hash: self.prev_hash,
            hash: self.hash,
            erased_at: personal.erased_at,
        }
    }
}

impl PersonalData {
    /// Stands in for a personal part that is gone, so that a listing still
    /// shows the event (verification names it).
    fn missing(chain: &str, seq: i64) -> Self {
        PersonalData {
            chain: chain.to_owned(),
            seq,
            actor_name: String::new(),
            targets: "[]".to_owned(),
            changes: "{}".to_owned(),
            client_ip: None,
            user_agent: None,
            salt: None,
            erased_at: None,
        }
    }
}

impl AuditEvent {
    pub fn occurred_at(&self) -> DateTime<Utc> {
        time::from_db(self.occurred_at)
    }
}

/// Events of a chain joined with their personal part.
macro_rules! with_personal_data {
    ($query:expr) => {
        $query.left_join(
            audit_personal_data::table.on(audit_personal_data::chain
                .eq(audit_events::chain)
                .and(audit_personal_data::seq.eq(audit_events::seq))),
        )
    };
}

type Joined = (ChainedEvent, Option<PersonalData>);

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
pub(crate) struct PendingRow {
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

thread_local! {
    /// Events recorded in the open PostgreSQL write transaction of this
    /// thread, not written yet: [`crate::write_transaction`] writes them with
    /// its last statement, the one that asks which authorization the
    /// transaction changed, saving a round trip per transaction. `None`
    /// outside such a transaction: events are written at once.
    static HELD: RefCell<Option<Vec<PendingRow>>> = const { RefCell::new(None) };
}

/// Holds what [`record`] is given on this thread until [`HeldEvents::take`].
/// Dropped (the transaction failed or panicked), it forgets them, and gives
/// back whatever a transaction on another connection, open around this one,
/// was holding.
pub(crate) struct HeldEvents {
    outer: Option<Vec<PendingRow>>,
}

impl HeldEvents {
    pub(crate) fn start() -> Self {
        HeldEvents { outer: HELD.replace(Some(Vec::new())) }
    }

    /// How many are held: the mark of a savepoint.
    pub(crate) fn mark() -> usize {
        HELD.with_borrow(|held| held.as_ref().map_or(0, Vec::len))
    }

    /// Forgets those held since `mark` (their savepoint was rolled back).
    pub(crate) fn forget_since(mark: usize) {
        HELD.with_borrow_mut(|held| held.as_mut().map(|held| held.truncate(mark)));
    }

    /// What is held, to be written now; later events are written at once.
    pub(crate) fn take(&self) -> Vec<PendingRow> {
        HELD.take().unwrap_or_default()
    }
}

impl Drop for HeldEvents {
    fn drop(&mut self) {
        HELD.set(self.outer.take());
    }
}

/// Held events as one `INSERT` that keeps their order, when there are one
/// to four (what a request records): a fixed number of rows keeps the
/// statement prepared. `None` for none, or for more, which [`write_now`]
/// writes in batches as usual.
pub(crate) fn insert_of(rows: &[PendingRow]) -> Option<Box<dyn QueryFragment<Pg> + '_>> {
    fn fixed<const N: usize>(rows: &[PendingRow]) -> Option<Box<dyn QueryFragment<Pg> + '_>> {
        let rows: &[PendingRow; N] = rows.try_into().ok()?;
        Some(Box::new(diesel::insert_into(audit_pending::table).values(rows)))
    }
    match rows.len() {
        1 => Some(Box::new(diesel::insert_into(audit_pending::table).values(&rows[0]))),
        2 => fixed::<2>(rows),
        3 => fixed::<3>(rows),
        4 => fixed::<4>(rows),
        _ => None,
    }
}

/// Writes `rows` now, in their order.
pub(crate) fn write_now(conn: &mut DbConnection, rows: &[PendingRow]) -> QueryResult<()> {
    insert_all!(conn, audit_pending::table, rows).map(drop)
}

/// Records events in the caller's transaction, for the sealer to put in
/// their chains in this order: at once, or, inside a PostgreSQL write
/// transaction, with its last statement ([`HeldEvents`]).
pub fn record(conn: &mut DbConnection, events: &[NewEvent<'_>]) -> Result<(), StoreError> {
    let rows: Vec<PendingRow> = events
        .iter()
        .map(|new| PendingRow {
            id: ids::to_db(Uuid::now_v7()),
            chain: new.chain.to_owned(),
            account_id: new.account_id.map(ids::to_db),
            occurred_at: time::to_db(new.occurred_at),
            action: new.action.to_owned(),
            actor_type: new.actor_type.to_owned(),
            actor_id: new.actor_id.map(ids::to_db),
            actor_name: new.actor_name.to_owned(),
            targets: new.targets.to_owned(),
            target_ids: new.target_ids.iter().copied().map(ids::to_db).collect::<Vec<_>>().join(" "),
            changes: new.changes.to_owned(),
            request_id: new.request_id.map(str::to_owned),
            client_ip: new.client_ip.map(str::to_owned),
            user_agent: new.user_agent.map(str::to_owned),
        })
        .collect();
    let Some(rows) = HELD.with_borrow_mut(|held| match held {
        Some(held) => {
            held.extend(rows);
            None
        }
        None => Some(rows),
    }) else {
        return Ok(());
    };
    Ok(write_now(conn, &rows)?)
}

/// What a chain covers of an event's targets: their kinds and ids, not
/// their labels.
fn target_refs(targets: &str) -> String {
    let targets: Vec<serde_json::Map<String, serde_json::Value>> = serde_json::from_str(targets).unwrap_or_default();
    let refs: Vec<serde_json::Value> = targets
        .into_iter()
        .map(|target| serde_json::json!({"type": target.get("type"), "id": target.get("id")}))
        .collect();
    serde_json::Value::Array(refs).to_string()
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
    let mut chained = Vec::with_capacity(pending.len());
    let mut personal = Vec::with_capacity(pending.len());
    for row in pending {
        let (seq, prev_hash) = match heads.remove(&row.chain) {
            Some(head) => head,
            None => head(conn, &row.chain)?,
        };
        let details = PersonalData {
            chain: row.chain.clone(),
            seq: seq + 1,
            actor_name: row.actor_name,
            targets: row.targets,
            changes: row.changes,
            client_ip: row.client_ip,
            user_agent: row.user_agent,
            salt: Some(Uuid::new_v4().simple().to_string()),
            erased_at: None,
        };
        let mut event = ChainedEvent {
            id: row.id,
            chain: row.chain,
            seq: seq + 1,
            account_id: row.account_id,
            occurred_at: row.occurred_at,
            action: row.action,
            actor_type: row.actor_type,
            actor_id: row.actor_id,
            request_id: row.request_id,
            prev_hash,
            hash: String::new(),
            target_refs: Some(target_refs(&details.targets)),
            details_digest: details.digest(),
        };
        // An event with a digest always has content.
        event.hash = link_hash(&event.prev_hash, &event.canonical_content(None).unwrap_or_default());
        let mut target_ids: Vec<&str> = row.target_ids.split_whitespace().collect();
        target_ids.sort_unstable();
        target_ids.dedup();
        targets.extend(target_ids.into_iter().map(|target_id| TargetRow {
            chain: event.chain.clone(),
            seq: event.seq,
            target_id: target_id.to_owned(),
        }));
        heads.insert(event.chain.clone(), (event.seq, event.hash.clone()));
        sealed.push(event.clone().with(Some(details.clone())));
        chained.push(event);
        personal.push(details);
    }
    insert_all!(conn, audit_events::table, chained)?;
    insert_all!(conn, audit_personal_data::table, personal)?;
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
    let mut query = with_personal_data!(audit_events::table)
        .filter(audit_events::chain.eq(chain))
        .select((ChainedEvent::as_select(), Option::<PersonalData>::as_select()))
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
    let rows: Vec<Joined> = query.load(conn)?;
    Ok(rows.into_iter().map(|(event, personal)| event.with(personal)).collect())
}

/// The events of `chain` at these `seqs`, in order.
pub(crate) fn in_chain_at(conn: &mut DbConnection, chain: &str, seqs: &[i64]) -> Result<Vec<AuditEvent>, StoreError> {
    let rows: Vec<Joined> = with_personal_data!(audit_events::table)
        .filter(audit_events::chain.eq(chain))
        .filter(audit_events::seq.eq_any(seqs))
        .order(audit_events::seq.asc())
        .select((ChainedEvent::as_select(), Option::<PersonalData>::as_select()))
        .load(conn)?;
    Ok(rows.into_iter().map(|(event, personal)| event.with(personal)).collect())
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
fn in_order(conn: &mut DbConnection, chain: &str, after: i64, limit: i64) -> Result<Vec<Joined>, StoreError> {
    Ok(with_personal_data!(audit_events::table)
        .filter(audit_events::chain.eq(chain))
        .filter(audit_events::seq.gt(after))
        .order(audit_events::seq.asc())
        .limit(limit)
        .select((ChainedEvent::as_select(), Option::<PersonalData>::as_select()))
        .load(conn)?)
}

/// How a chain verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Verified {
    pub events: i64,
    /// Of those, events a person was erased from.
    pub erased: i64,
}

/// Walks `chain` from its anchor page by page: how many events hold, or the
/// first that does not. Both bounds must carry a seal that `signer` made:
/// the walk starts at a signed anchor and must reach the signed checkpoint,
/// so events missing from either end are named.
pub fn verify(
    conn: &mut DbConnection,
    chain: &str,
    signer: &dyn BoundSigner,
) -> Result<Result<Verified, BrokenLink>, StoreError> {
    const PAGE: i64 = 1_000;
    let mut anchor = match stored_anchor(conn, chain)? {
        None => Anchor::default(),
        Some(stored) => match holds(signer, Bound::Start, chain, &stored) {
            Ok(()) => Anchor { seq: stored.seq, hash: stored.hash },
            Err(broken) => return Ok(Err(broken)),
        },
    };
    let mut verified = Verified::default();
    loop {
        let page = in_order(conn, chain, anchor.seq, PAGE)?;
        let Some(last) = page.last().map(|(event, _)| Anchor { seq: event.seq, hash: event.hash.clone() }) else {
            break;
        };
        match verify_chain(&anchor, page.iter().map(|(event, personal)| event.link(personal.as_ref()))) {
            Ok(count) => verified.events += count,
            Err(broken) => return Ok(Err(broken)),
        }
        for (event, personal) in &page {
            if let Err(reason) = event.personal_part_holds(personal.as_ref()) {
                return Ok(Err(BrokenLink { id: event.id.clone(), seq: event.seq, reason }));
            }
            verified.erased += i64::from(personal.as_ref().is_some_and(|personal| personal.erased_at.is_some()));
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
        purged += purge_chain(conn, &chain, up_to, signer)?;
    }
    Ok(purged)
}

/// Removes `chain`'s events up to `up_to`, leaving the last removed one as
/// the chain's anchor, sealed by `signer`. Returns how many went.
fn purge_chain(
    conn: &mut DbConnection,
    chain: &str,
    up_to: i64,
    signer: &dyn BoundSigner,
) -> Result<usize, StoreError> {
    let hash: String = audit_events::table
        .filter(audit_events::chain.eq(chain))
        .filter(audit_events::seq.eq(up_to))
        .select(audit_events::hash)
        .first(conn)?;
    let seal = signer.sign(Bound::Start, chain, up_to, &hash).map_err(StoreError::Corrupt)?;
    diesel::sql_query(
        "INSERT INTO audit_anchors (chain, seq, hash, seal) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (chain) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, seal = excluded.seal",
    )
    .bind::<Text, _>(chain)
    .bind::<BigInt, _>(up_to)
    .bind::<Text, _>(&hash)
    .bind::<Text, _>(&seal)
    .execute(conn)?;
    diesel::insert_into(audit_purge_permits::table)
        .values((audit_purge_permits::chain.eq(chain), audit_purge_permits::up_to_seq.eq(up_to)))
        .execute(conn)?;
    diesel::delete(
        audit_event_targets::table
            .filter(audit_event_targets::chain.eq(chain))
            .filter(audit_event_targets::seq.le(up_to)),
    )
    .execute(conn)?;
    diesel::delete(
        audit_personal_data::table
            .filter(audit_personal_data::chain.eq(chain))
            .filter(audit_personal_data::seq.le(up_to)),
    )
    .execute(conn)?;
    let purged =
        diesel::delete(audit_events::table.filter(audit_events::chain.eq(chain)).filter(audit_events::seq.le(up_to)))
            .execute(conn)?;
    diesel::delete(audit_purge_permits::table.find(chain)).execute(conn)?;
    Ok(purged)
}

/// The audit log of an erased account, kept sealed for a time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Archive {
    pub chain: String,
    pub erased_at: DateTime<Utc>,
    pub events: i64,
}

/// The audit logs of erased accounts (their chain records the erasure),
/// oldest erasure first.
pub fn archives(conn: &mut DbConnection) -> Result<Vec<Archive>, StoreError> {
    let erased: Vec<(String, NaiveDateTime)> = audit_events::table
        .filter(audit_events::action.eq(ERASED))
        .order(audit_events::occurred_at.asc())
        .select((audit_events::chain, audit_events::occurred_at))
        .load(conn)?;
    erased
        .into_iter()
        .map(|(chain, erased_at)| {
            let events = audit_events::table.filter(audit_events::chain.eq(&chain)).count().get_result(conn)?;
            Ok(Archive { chain, erased_at: time::from_db(erased_at), events })
        })
        .collect()
}

/// The action that closes an erased account's chain.
const ERASED: &str = "account.erased";

/// Removes every event of the archives of accounts erased before `before`
/// (each chain keeps its anchor, so `roster audit verify` still holds).
/// Returns how many events went.
pub fn purge_archives(
    conn: &mut DbConnection,
    before: DateTime<Utc>,
    signer: &dyn BoundSigner,
) -> Result<usize, StoreError> {
    let due: Vec<String> = audit_events::table
        .filter(audit_events::action.eq(ERASED))
        .filter(audit_events::occurred_at.lt(time::to_db(before)))
        .select(audit_events::chain)
        .load(conn)?;
    let mut purged = 0;
    for chain in due {
        let last: Option<i64> = audit_events::table
            .filter(audit_events::chain.eq(&chain))
            .select(diesel::dsl::max(audit_events::seq))
            .first(conn)?;
        if let Some(last) = last {
            purged += purge_chain(conn, &chain, last, signer)?;
        }
    }
    Ok(purged)
}

/// Takes `person` out of every event's personal part that names them: as
/// actor or target (by id), in their own chain, or anywhere their email
/// was written. The chains are untouched: each rewritten part is marked
/// erased and its salt forgotten, and the chain's digest of it no longer
/// tells anything. Returns how many events were rewritten. Seal what is
/// pending first: a recorded event waiting for the sealer is not seen.
pub fn erase_person(
    conn: &mut DbConnection,
    person: &domain::erasure::ErasedPerson,
    user_chain: &str,
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    use crate::search::{ESCAPE, contains_pattern, lower};
    let ids: Vec<&String> = person.ids.iter().collect();
    let mut places: Vec<(String, i64)> = Vec::new();
    for chunk in ids.chunks(crate::db::BATCH_ROWS) {
        places.extend(
            audit_events::table
                .filter(audit_events::actor_id.eq_any(chunk.iter().copied()))
                .select((audit_events::chain, audit_events::seq))
                .load::<(String, i64)>(conn)?,
        );
        places.extend(
            audit_event_targets::table
                .filter(audit_event_targets::target_id.eq_any(chunk.iter().copied()))
                .select((audit_event_targets::chain, audit_event_targets::seq))
                .load::<(String, i64)>(conn)?,
        );
    }
    places.extend(
        audit_events::table
            .filter(audit_events::chain.eq(user_chain))
            .select((audit_events::chain, audit_events::seq))
            .load::<(String, i64)>(conn)?,
    );
    for pattern in person.emails.iter().filter_map(|email| contains_pattern(email)) {
        places.extend(
            audit_personal_data::table
                .filter(
                    lower(audit_personal_data::actor_name)
                        .like(&pattern)
                        .escape(ESCAPE)
                        .or(lower(audit_personal_data::targets).like(&pattern).escape(ESCAPE))
                        .or(lower(audit_personal_data::changes).like(&pattern).escape(ESCAPE)),
                )
                .select((audit_personal_data::chain, audit_personal_data::seq))
                .load::<(String, i64)>(conn)?,
        );
    }
    places.sort_unstable();
    places.dedup();
    // One read per chain and batch; each part is then rewritten.
    let mut by_chain: std::collections::BTreeMap<String, Vec<i64>> = std::collections::BTreeMap::new();
    for (chain, seq) in places {
        by_chain.entry(chain).or_default().push(seq);
    }
    let mut erased = 0;
    for (chain, seqs) in &by_chain {
        for batch in seqs.chunks(crate::db::BATCH_ROWS) {
            let rows: Vec<(Option<String>, PersonalData)> = audit_events::table
                .inner_join(
                    audit_personal_data::table.on(audit_personal_data::chain
                        .eq(audit_events::chain)
                        .and(audit_personal_data::seq.eq(audit_events::seq))),
                )
                .filter(audit_events::chain.eq(chain))
                .filter(audit_events::seq.eq_any(batch))
                .select((audit_events::actor_id, PersonalData::as_select()))
                .load(conn)?;
            for (actor_id, personal) in rows {
                let redacted = person.redact(
                    actor_id.as_deref(),
                    &domain::erasure::PersonalDetails {
                        actor_name: personal.actor_name.clone(),
                        targets: personal.targets.clone(),
                        changes: personal.changes.clone(),
                        client_ip: personal.client_ip.clone(),
                        user_agent: personal.user_agent.clone(),
                    },
                );
                let place = (personal.chain.clone(), personal.seq);
                let rewritten = PersonalData {
                    actor_name: redacted.actor_name,
                    targets: redacted.targets,
                    changes: redacted.changes,
                    client_ip: redacted.client_ip,
                    user_agent: redacted.user_agent,
                    salt: None,
                    erased_at: Some(personal.erased_at.unwrap_or_else(|| time::to_db(now))),
                    ..personal
                };
                diesel::update(audit_personal_data::table.find(place)).set(&rewritten).execute(conn)?;
                erased += 1;
            }
        }
    }
    Ok(erased)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn legacy_event() -> (ChainedEvent, PersonalData) {
        let occurred_at = chrono::NaiveDate::from_ymd_opt(2026, 12, 7).unwrap().and_hms_opt(10, 0, 0).unwrap();
        let event = ChainedEvent {
            id: "e1".into(),
            chain: "c".into(),
            seq: 1,
            account_id: None,
            occurred_at,
            action: "group.created".into(),
            actor_type: "user".into(),
            actor_id: Some("u1".into()),
            request_id: None,
            prev_hash: domain::audit::GENESIS.into(),
            hash: String::new(),
            target_refs: None,
            details_digest: None,
        };
        let mut personal = PersonalData::missing("c", 1);
        personal.actor_name = "Ada".into();
        personal.user_agent = Some("curl".into());
        (event, personal)
    }

    #[test]
    fn events_sealed_before_personal_data_left_the_chain_keep_their_content() {
        let (event, mut personal) = legacy_event();
        // The content as it was hashed before: every field inline.
        let before = "=2e1\n=1c\n=11\n-\n=272026-12-07T10:00:00.000000Z\n=13group.created\n=4user\n=2u1\n\
                      =3Ada\n=2[]\n=2{}\n-\n-\n=4curl";
        assert_eq!(event.canonical_content(Some(&personal)).as_deref(), Some(before));
        personal.erased_at = Some(event.occurred_at);
        assert_eq!(event.canonical_content(Some(&personal)), None, "erased, only its links can be checked");
    }

    #[test]
    fn the_chain_covers_the_digest_of_what_an_event_says_about_people() {
        let (mut event, mut personal) = legacy_event();
        personal.salt = Some("salt".into());
        event.details_digest = personal.digest();
        event.target_refs = Some("[]".into());
        let content = event.canonical_content(None).unwrap();
        assert!(!content.contains("Ada") && !content.contains("curl"), "{content}");
        assert_eq!(event.personal_part_holds(Some(&personal)), Ok(()));
        personal.actor_name = "Mallory".into();
        assert!(event.personal_part_holds(Some(&personal)).is_err());
        personal.erased_at = Some(event.occurred_at);
        assert_eq!(event.personal_part_holds(Some(&personal)), Ok(()), "erasure is what may rewrite it");
        assert!(event.personal_part_holds(None).is_err(), "a missing part is named");
    }

    #[test]
    fn target_refs_keep_kinds_and_ids_only() {
        let refs = target_refs(r#"[{"type":"user","id":"u1","label":"ada@example.com"}]"#);
        assert_eq!(refs, r#"[{"id":"u1","type":"user"}]"#);
    }

    struct Unsigned;

    impl BoundSigner for Unsigned {
        fn sign(&self, _: Bound, _: &str, _: i64, _: &str) -> Result<String, String> {
            Err("no key in this test".into())
        }
        fn holds(&self, _: Bound, _: &str, _: i64, _: &str, _: &str) -> bool {
            false
        }
    }

    #[test]
    fn a_chain_sealed_before_the_move_verifies_after_it_and_after_an_erasure() {
        use diesel_migrations::MigrationHarness;
        let mut sqlite = diesel::SqliteConnection::establish(":memory:").unwrap();
        let migrations = || crate::db::SQLITE_MIGRATIONS;
        while sqlite
            .pending_migrations(migrations())
            .unwrap()
            .first()
            .is_some_and(|next| !next.name().to_string().contains("audit_personal_data"))
        {
            sqlite.run_next_migration(migrations()).unwrap();
        }
        // An event as the sealer wrote it before: its hash covers its
        // personal data.
        let (event, personal) = legacy_event();
        let hash = link_hash(domain::audit::GENESIS, &event.canonical_content(Some(&personal)).unwrap());
        diesel::sql_query(format!(
            "INSERT INTO audit_events (id, chain, seq, account_id, occurred_at, action, actor_type, actor_id, \
             actor_name, targets, changes, request_id, client_ip, user_agent, prev_hash, hash) VALUES \
             ('e1', 'c', 1, NULL, '2026-12-07 10:00:00', 'group.created', 'user', 'u1', 'Ada', '[]', '{{}}', \
             NULL, NULL, 'curl', '{}', '{hash}')",
            domain::audit::GENESIS
        ))
        .execute(&mut sqlite)
        .unwrap();
        sqlite.run_pending_migrations(migrations()).unwrap();
        let mut conn = DbConnection::Sqlite(sqlite);
        assert_eq!(verify(&mut conn, "c", &Unsigned).unwrap(), Ok(Verified { events: 1, erased: 0 }));

        let ada = domain::erasure::ErasedPerson {
            ids: ["u1".to_owned()].into(),
            emails: vec!["ada@example.com".into()],
            names: vec!["Ada".into()],
            pseudonym: "erased user u1".into(),
        };
        assert_eq!(erase_person(&mut conn, &ada, "user:u1", Utc::now()).unwrap(), 1);
        assert_eq!(verify(&mut conn, "c", &Unsigned).unwrap(), Ok(Verified { events: 1, erased: 1 }));
        let listed = list(&mut conn, "c", &EventFilter::default(), None, 10).unwrap();
        assert_eq!((listed[0].actor_name.as_str(), listed[0].user_agent.as_deref()), ("erased user u1", None));
    }
}
