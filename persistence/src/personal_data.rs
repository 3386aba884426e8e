//! What Roster holds about one person, for their own copy (`GET
//! /v1/me/export`, GDPR articles 15 and 20): their own rows, and the audit
//! events they are the actor or a subject of, across every chain.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::audit::AuditEvent;
use crate::schema::{
    audit_event_targets, audit_events, invitations, join_requests, memberships, personal_exports, sessions,
};
use crate::{DbConnection, StoreError, ids, time};

/// A membership, as its own row says.
#[derive(Debug, Clone, Queryable)]
pub struct MembershipRow {
    pub id: String,
    pub account_id: String,
    pub created_at: NaiveDateTime,
    pub last_active_at: Option<NaiveDateTime>,
    pub status: String,
}

pub fn memberships(conn: &mut DbConnection, user: Uuid) -> Result<Vec<MembershipRow>, StoreError> {
    Ok(memberships::table
        .filter(memberships::user_id.eq(ids::to_db(user)))
        .order(memberships::created_at.asc())
        .select((
            memberships::id,
            memberships::account_id,
            memberships::created_at,
            memberships::last_active_at,
            memberships::status,
        ))
        .load(conn)?)
}

/// An invitation, without whom it was addressed to (the invitee of one
/// they sent is someone else).
#[derive(Debug, Clone, Queryable)]
pub struct InvitationRow {
    pub id: String,
    pub account_id: String,
    pub status: String,
    pub invited_by: Option<String>,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub decided_at: Option<NaiveDateTime>,
}

type InvitationColumns = (
    invitations::id,
    invitations::account_id,
    invitations::status,
    invitations::invited_by,
    invitations::created_at,
    invitations::expires_at,
    invitations::decided_at,
);

const INVITATION_COLUMNS: InvitationColumns = (
    invitations::id,
    invitations::account_id,
    invitations::status,
    invitations::invited_by,
    invitations::created_at,
    invitations::expires_at,
    invitations::decided_at,
);

/// Invitations addressed to `email`, oldest first.
pub fn invitations_received(conn: &mut DbConnection, email: &str) -> Result<Vec<InvitationRow>, StoreError> {
    Ok(invitations::table
        .filter(invitations::email.eq(email))
        .order(invitations::created_at.asc())
        .select(INVITATION_COLUMNS)
        .load(conn)?)
}

/// Invitations `user` sent, oldest first.
pub fn invitations_sent(conn: &mut DbConnection, user: Uuid) -> Result<Vec<InvitationRow>, StoreError> {
    Ok(invitations::table
        .filter(invitations::invited_by.eq(ids::to_db(user)))
        .order(invitations::created_at.asc())
        .select(INVITATION_COLUMNS)
        .load(conn)?)
}

#[derive(Debug, Clone, Queryable)]
pub struct JoinRequestRow {
    pub id: String,
    pub account_id: String,
    pub status: String,
    pub message: String,
    pub created_at: NaiveDateTime,
    pub decided_at: Option<NaiveDateTime>,
}

pub fn join_requests(conn: &mut DbConnection, user: Uuid) -> Result<Vec<JoinRequestRow>, StoreError> {
    Ok(join_requests::table
        .filter(join_requests::user_id.eq(ids::to_db(user)))
        .order(join_requests::created_at.asc())
        .select((
            join_requests::id,
            join_requests::account_id,
            join_requests::status,
            join_requests::message,
            join_requests::created_at,
            join_requests::decided_at,
        ))
        .load(conn)?)
}

/// A session, ended or not.
#[derive(Debug, Clone, Queryable)]
pub struct SessionRow {
    pub id: String,
    pub created_at: NaiveDateTime,
    pub last_used_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub ended_at: Option<NaiveDateTime>,
    pub user_agent: Option<String>,
    pub client_ip: Option<String>,
    pub sso_connection_id: Option<String>,
}

pub fn sessions(conn: &mut DbConnection, user: Uuid) -> Result<Vec<SessionRow>, StoreError> {
    Ok(sessions::table
        .filter(sessions::user_id.eq(ids::to_db(user)))
        .order(sessions::created_at.asc())
        .select((
            sessions::id,
            sessions::created_at,
            sessions::last_used_at,
            sessions::expires_at,
            sessions::ended_at,
            sessions::user_agent,
            sessions::client_ip,
            sessions::sso_connection_id,
        ))
        .load(conn)?)
}

/// Where the audit events about `user` are: those they did, those about
/// them, and their own chain's, in (chain, seq) order.
pub fn audit_places(conn: &mut DbConnection, user: Uuid) -> Result<Vec<(String, i64)>, StoreError> {
    let id = ids::to_db(user);
    let mut places: Vec<(String, i64)> = audit_events::table
        .filter(audit_events::actor_id.eq(&id).or(audit_events::chain.eq(format!("user:{user}"))))
        .select((audit_events::chain, audit_events::seq))
        .load(conn)?;
    places.extend(
        audit_event_targets::table
            .filter(audit_event_targets::target_id.eq(&id))
            .select((audit_event_targets::chain, audit_event_targets::seq))
            .load::<(String, i64)>(conn)?,
    );
    places.sort_unstable();
    places.dedup();
    Ok(places)
}

/// At least how many audit events are about `user`, at most three times
/// that (an event counts once per way it is about them): enough to tell a
/// long history without reading where each event is.
pub fn audit_event_estimate(conn: &mut DbConnection, user: Uuid) -> Result<i64, StoreError> {
    let id = ids::to_db(user);
    let acted: i64 = audit_events::table.filter(audit_events::actor_id.eq(&id)).count().get_result(conn)?;
    let own: i64 =
        audit_events::table.filter(audit_events::chain.eq(format!("user:{user}"))).count().get_result(conn)?;
    let about: i64 =
        audit_event_targets::table.filter(audit_event_targets::target_id.eq(&id)).count().get_result(conn)?;
    Ok(acted + own + about)
}

/// The events at `places` (one chain's, or several), with what they say
/// about people.
pub fn audit_events_at(conn: &mut DbConnection, places: &[(String, i64)]) -> Result<Vec<AuditEvent>, StoreError> {
    let mut found = Vec::with_capacity(places.len());
    let mut by_chain: std::collections::BTreeMap<&str, Vec<i64>> = std::collections::BTreeMap::new();
    for (chain, seq) in places {
        by_chain.entry(chain.as_str()).or_default().push(*seq);
    }
    for (chain, seqs) in by_chain {
        for chunk in seqs.chunks(crate::db::BATCH_ROWS) {
            found.extend(crate::audit::in_chain_at(conn, chain, chunk)?);
        }
    }
    Ok(found)
}

/// A copy asked for `user` (one being made is reused: asking twice makes
/// one copy; a new one replaces those made before), kept until
/// `expires_at`. Returns its id and whether it is new.
pub fn request_copy(
    conn: &mut DbConnection,
    user: Uuid,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<(Uuid, bool), StoreError> {
    let open: Option<String> = personal_exports::table
        .filter(personal_exports::user_id.eq(ids::to_db(user)))
        .filter(personal_exports::ready_at.is_null())
        .filter(personal_exports::expires_at.gt(time::to_db(now)))
        .select(personal_exports::id)
        .first(conn)
        .optional()?;
    if let Some(open) = open {
        return Ok((ids::from_db(&open)?, false));
    }
    // A new copy replaces the made ones (their links stop working): what a
    // person keeps stored is bounded however often they ask.
    diesel::delete(
        personal_exports::table
            .filter(personal_exports::user_id.eq(ids::to_db(user)))
            .filter(personal_exports::ready_at.is_not_null()),
    )
    .execute(conn)?;
    let id = Uuid::now_v7();
    diesel::insert_into(personal_exports::table)
        .values((
            personal_exports::id.eq(ids::to_db(id)),
            personal_exports::user_id.eq(ids::to_db(user)),
            personal_exports::requested_at.eq(time::to_db(now)),
            personal_exports::expires_at.eq(time::to_db(expires_at)),
        ))
        .execute(conn)?;
    Ok((id, true))
}

/// Whose copy `id` is, while it waits to be made.
pub fn copy_to_make(conn: &mut DbConnection, id: Uuid) -> Result<Option<Uuid>, StoreError> {
    let user: Option<String> = personal_exports::table
        .find(ids::to_db(id))
        .filter(personal_exports::ready_at.is_null())
        .select(personal_exports::user_id)
        .first(conn)
        .optional()?;
    user.as_deref().map(ids::from_db).transpose()
}

/// Stores the made copy, downloadable with the token of `token_hash`
/// until `expires_at`.
pub fn store_copy(
    conn: &mut DbConnection,
    id: Uuid,
    document: &str,
    token_hash: &str,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<(), StoreError> {
    diesel::update(personal_exports::table.find(ids::to_db(id)))
        .set((
            personal_exports::document.eq(document),
            personal_exports::token_hash.eq(token_hash),
            personal_exports::ready_at.eq(time::to_db(now)),
            personal_exports::expires_at.eq(time::to_db(expires_at)),
        ))
        .execute(conn)?;
    Ok(())
}

/// The copy a link's token opens, while it has not expired.
pub fn ready_copy(conn: &mut DbConnection, token_hash: &str, now: DateTime<Utc>) -> Result<Option<String>, StoreError> {
    let document: Option<Option<String>> = personal_exports::table
        .filter(personal_exports::token_hash.eq(token_hash))
        .filter(personal_exports::expires_at.gt(time::to_db(now)))
        .select(personal_exports::document)
        .first(conn)
        .optional()?;
    Ok(document.flatten())
}

/// Removes copies past their time. Returns how many went.
pub fn purge_expired_copies(conn: &mut DbConnection, now: DateTime<Utc>) -> Result<usize, StoreError> {
    Ok(diesel::delete(personal_exports::table.filter(personal_exports::expires_at.le(time::to_db(now))))
        .execute(conn)?)
}
