//! A person erasing themselves (`DELETE /v1/me`): what Roster holds about
//! them goes or gives way to a pseudonym, in two steps.
//!
//! [`forget`] runs in the transaction that ends their memberships: their
//! sessions, tokens, sign-in identities and join requests go; every copy of
//! their email in accounts' records (invitations to them, spreadsheet rows,
//! access reviews) becomes the pseudonym's address; their own row keeps its
//! id under the pseudonym, since accounts' records still point at it. It
//! leaves a [`person_erasures`] row for [`finish`], which the job runner
//! calls once the events recorded about their leaving are sealed: it takes
//! them out of the audit log's personal part and of queued payloads, and
//! removes the row.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::Text;
use domain::erasure::ErasedPerson;
use domain::invitation::InvitationStatus;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::schema::{
    access_review_items, access_review_reviewers, accounts, idempotency_keys, invitation_import_results,
    invitation_import_rows, invitations, join_requests, person_erasures, personal_exports, rate_limits, refresh_tokens,
    sessions, sso_grants, sso_identities, user_tokens, users,
};
use crate::{DbConnection, StoreError, ids, time};

/// What [`finish`] needs, kept until it has run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingErasure {
    pub user_id: Uuid,
    pub ids: Vec<String>,
    pub emails: Vec<String>,
    pub names: Vec<String>,
    pub pseudonym: String,
    pub pseudonym_email: String,
}

impl PendingErasure {
    pub fn person(&self) -> ErasedPerson {
        ErasedPerson {
            ids: self.ids.iter().cloned().collect(),
            emails: self.emails.clone(),
            names: self.names.clone(),
            pseudonym: self.pseudonym.clone(),
        }
    }
}

/// The ids that stand for `user` in the audit log: theirs, and those of
/// invitations to their emails and of their join requests.
pub fn ids_of(conn: &mut DbConnection, user: Uuid, emails: &[String]) -> Result<Vec<String>, StoreError> {
    let mut found = vec![ids::to_db(user)];
    found.extend(
        invitations::table.filter(invitations::email.eq_any(emails)).select(invitations::id).load::<String>(conn)?,
    );
    found.extend(
        join_requests::table
            .filter(join_requests::user_id.eq(ids::to_db(user)))
            .select(join_requests::id)
            .load::<String>(conn)?,
    );
    Ok(found)
}

/// Every email address `user` had: `current`, and those their own audit
/// chain shows them moving from and to.
pub fn emails_of(conn: &mut DbConnection, user: Uuid, current: &str) -> Result<Vec<String>, StoreError> {
    use crate::schema::{audit_events, audit_personal_data};
    let changes: Vec<String> =
        audit_events::table
            .inner_join(audit_personal_data::table.on(
                audit_personal_data::chain.eq(audit_events::chain).and(audit_personal_data::seq.eq(audit_events::seq)),
            ))
            .filter(audit_events::chain.eq(format!("user:{user}")))
            .filter(audit_events::action.eq("user.email_changed"))
            .select(audit_personal_data::changes)
            .load(conn)?;
    let mut emails = vec![current.to_owned()];
    for change in changes {
        let change: serde_json::Value = serde_json::from_str(&change).unwrap_or_default();
        for side in ["before", "after"] {
            if let Some(email) = change["email"][side].as_str() {
                emails.push(email.to_lowercase());
            }
        }
    }
    emails.sort_unstable();
    emails.dedup();
    Ok(emails)
}

/// The first step, in the caller's transaction (see the module). Call once
/// their memberships have ended and their pending invitations are revoked.
pub fn forget(conn: &mut DbConnection, erasure: &PendingErasure, now: DateTime<Utc>) -> Result<(), StoreError> {
    let user = ids::to_db(erasure.user_id);
    let emails = &erasure.emails;
    let alias = erasure.pseudonym_email.as_str();
    diesel::delete(sessions::table.filter(sessions::user_id.eq(&user))).execute(conn)?;
    diesel::delete(refresh_tokens::table.filter(refresh_tokens::user_id.eq(&user))).execute(conn)?;
    diesel::delete(user_tokens::table.filter(user_tokens::user_id.eq(&user).or(user_tokens::email.eq_any(emails))))
        .execute(conn)?;
    diesel::delete(idempotency_keys::table.filter(idempotency_keys::user_id.eq(&user))).execute(conn)?;
    diesel::delete(sso_identities::table.filter(sso_identities::user_id.eq(&user))).execute(conn)?;
    diesel::delete(sso_grants::table.filter(sso_grants::user_id.eq(&user))).execute(conn)?;
    diesel::delete(join_requests::table.filter(join_requests::user_id.eq(&user))).execute(conn)?;
    diesel::delete(personal_exports::table.filter(personal_exports::user_id.eq(&user))).execute(conn)?;
    // An account whose single sign-on has them as its break-glass owner
    // falls back to having none (owners set another).
    diesel::update(accounts::table.filter(accounts::sso_break_glass_user_id.eq(&user)))
        .set(accounts::sso_break_glass_user_id.eq(None::<String>))
        .execute(conn)?;
    for email in emails {
        let pattern = crate::search::contains_pattern(email).unwrap_or_default();
        diesel::delete(rate_limits::table.filter(rate_limits::key.like(pattern).escape(crate::search::ESCAPE)))
            .execute(conn)?;
    }
    // Pending invitations to them are revoked: an old link must not work.
    diesel::update(
        invitations::table
            .filter(invitations::email.eq_any(emails))
            .filter(invitations::status.eq(InvitationStatus::Pending.key())),
    )
    .set((invitations::status.eq(InvitationStatus::Revoked.key()), invitations::decided_at.eq(time::to_db(now))))
    .execute(conn)?;
    diesel::update(invitations::table.filter(invitations::email.eq_any(emails)))
        .set((invitations::email.eq(alias), invitations::first_name.eq(""), invitations::last_name.eq("")))
        .execute(conn)?;
    diesel::update(invitation_import_rows::table.filter(invitation_import_rows::email.eq_any(emails)))
        .set((
            invitation_import_rows::email.eq(alias),
            invitation_import_rows::first_name.eq(""),
            invitation_import_rows::last_name.eq(""),
        ))
        .execute(conn)?;
    diesel::update(invitation_import_results::table.filter(invitation_import_results::email.eq_any(emails)))
        .set(invitation_import_results::email.eq(alias))
        .execute(conn)?;
    diesel::update(
        access_review_reviewers::table
            .filter(access_review_reviewers::user_id.eq(&user).or(access_review_reviewers::email.eq_any(emails))),
    )
    .set(access_review_reviewers::email.eq(alias))
    .execute(conn)?;
    diesel::update(
        access_review_items::table
            .filter(access_review_items::user_id.eq(&user).or(access_review_items::email.eq_any(emails))),
    )
    .set(access_review_items::email.eq(alias))
    .execute(conn)?;
    diesel::update(users::table.find(&user))
        .set((
            users::email.eq(alias),
            users::first_name.eq(""),
            users::last_name.eq(""),
            users::password_hash.eq(None::<String>),
            users::email_verified.eq(false),
            users::locale.eq(None::<String>),
            users::time_zone.eq(None::<String>),
            users::updated_at.eq(time::to_db(now)),
            users::erased_at.eq(Some(time::to_db(now))),
        ))
        .execute(conn)?;
    let person = serde_json::to_string(erasure).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    diesel::insert_into(person_erasures::table)
        .values((
            person_erasures::user_id.eq(&user),
            person_erasures::person.eq(person),
            person_erasures::requested_at.eq(time::to_db(now)),
        ))
        .execute(conn)?;
    Ok(())
}

/// Whether an erasure waits for its second step.
pub fn any_pending(conn: &mut DbConnection) -> Result<bool, StoreError> {
    Ok(diesel::select(diesel::dsl::exists(person_erasures::table.select(person_erasures::user_id))).get_result(conn)?)
}

/// Runs the second step of up to `limit` erasures, oldest first, in the
/// caller's transaction; call when nothing recorded waits to be sealed.
/// Returns how many were finished.
pub fn finish_due(conn: &mut DbConnection, limit: i64, now: DateTime<Utc>) -> Result<usize, StoreError> {
    let due: Vec<String> = person_erasures::table
        .order(person_erasures::requested_at.asc())
        .limit(limit)
        .select(person_erasures::person)
        .load(conn)?;
    for person in &due {
        let erasure: PendingErasure = serde_json::from_str(person).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let events = finish(conn, &erasure, now)?;
        tracing::info!(user = %erasure.user_id, events, "a person was erased from the audit log");
    }
    Ok(due.len())
}

/// The second step, in the caller's transaction, once nothing about the
/// person waits to be sealed: the audit log's personal part, then every
/// payload that may still carry their email (queued and kept jobs, webhook
/// deliveries, stored idempotent responses). Returns the events rewritten.
fn finish(conn: &mut DbConnection, erasure: &PendingErasure, now: DateTime<Utc>) -> Result<usize, StoreError> {
    let person = erasure.person();
    let chain = format!("user:{}", erasure.user_id);
    let events = crate::audit::erase_person(conn, &person, &chain, now)?;
    // Payloads are JSON made from what was recorded: their emails, and
    // their full name (a part of it may be part of other words), go.
    let full_name = erasure.names.first().filter(|name| name.contains(' '));
    let replaced = erasure
        .emails
        .iter()
        .filter(|email| !email.is_empty())
        .map(|email| (email, &erasure.pseudonym_email))
        .chain(full_name.map(|name| (name, &erasure.pseudonym)));
    for (text, with) in replaced {
        for (table, column) in [
            ("jobs", "payload"),
            ("jobs", "last_error"),
            ("webhook_deliveries", "payload"),
            ("idempotency_keys", "body"),
        ] {
            diesel::sql_query(format!(
                "UPDATE {table} SET {column} = REPLACE({column}, $1, $2) WHERE {column} LIKE $3"
            ))
            .bind::<Text, _>(text)
            .bind::<Text, _>(with)
            .bind::<Text, _>(format!("%{text}%"))
            .execute(conn)?;
        }
    }
    diesel::delete(person_erasures::table.find(ids::to_db(erasure.user_id))).execute(conn)?;
    Ok(events)
}
