//! Who with an email at an account's verified domain comes in by
//! themselves: per domain, nobody (`manual`), they see the account and may
//! ask to join (`suggest`), or they become members when their email is
//! verified or at their next sign-in (`automatic`), with the domain's
//! default roles and groups, within the account's seats. A domain counts
//! only while it is verified and the account's plan has
//! `verified_domains`.

use domain::audit::AuditAction;
use domain::email_domain::{EmailDomain, Enrollment};
use domain::membership::{Admission, Candidate, check_admission};
use domain::plan::Feature;
use domain::{Email, check_role_count};
use persistence::domains::{self, AccountDomain};
use persistence::join_requests::{self, JoinRequest, NewJoinRequest};
use persistence::users::User;
use persistence::{DbConnection, StoreError, accounts, groups, memberships, users, write_transaction};
use uuid::Uuid;

use super::audit::Event;
use super::joins::{self, JoinError};
use super::seats::Seats;
use super::{Actor, Ctx, Grantor, Shared};

/// How people come in through one domain, as its managers ask.
pub struct EnrollmentChange {
    pub enrollment: Enrollment,
    /// Keys of account-wide roles.
    pub roles: Vec<String>,
    pub groups: Vec<Uuid>,
}

/// Sets how people come in through the account's domain `id` and what they
/// receive; each role within what `by` may give (no one gains through a
/// domain what its manager could not grant by hand).
pub fn configure(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    by: &Grantor,
    id: Uuid,
    change: &EnrollmentChange,
) -> Result<AccountDomain, Shared> {
    write_transaction(conn, |conn| {
        let before = domains::find(conn, by.account_id, id)?.ok_or(Shared::NotFound)?;
        let old = domains::enrollment_defaults(conn, id)?;
        let wanted: Vec<(String, Option<Uuid>)> = change.roles.iter().map(|key| (key.clone(), None)).collect();
        let roles = super::roles::grantable(conn, ctx, by, &wanted, "default_roles")?;
        for group in &change.groups {
            groups::find(conn, by.account_id, *group)?.ok_or(Shared::UnknownGroup { field: "default_groups" })?;
        }
        let mut group_ids = change.groups.clone();
        group_ids.sort_unstable();
        group_ids.dedup();
        let role_ids: Vec<Uuid> = roles.iter().map(|role| role.role_id).collect();
        domains::set_enrollment(conn, by.account_id, id, change.enrollment, &role_ids, &group_ids)?;
        let new = domains::enrollment_defaults(conn, id)?;
        let keys = |defaults: &domains::EnrollmentDefaults| -> Vec<String> {
            defaults.roles.iter().map(|(_, key)| key.clone()).collect()
        };
        let event = Event::in_account(by.account_id, AuditAction::DomainEnrollmentUpdated)
            .target("domain", id, &before.domain)
            .change("enrollment", before.enrollment.key(), change.enrollment.key())
            .change("default_roles", keys(&old), keys(&new))
            .change("default_groups", &old.groups, &new.groups);
        ctx.record(conn, event)?;
        domains::find(conn, by.account_id, id)?.ok_or(Shared::NotFound)
    })
}

/// The verified claim of `email`'s domain whose account takes people in
/// by themselves, if the account's plan still has verified domains.
fn enrolling_claim(conn: &mut DbConnection, ctx: &Ctx<'_>, email: &str) -> Result<Option<AccountDomain>, StoreError> {
    let Some(domain) = Email::parse(email).ok().as_ref().and_then(EmailDomain::of) else { return Ok(None) };
    let Some(claim) = domains::verified_claim(conn, domain.as_str())? else { return Ok(None) };
    if claim.enrollment == Enrollment::Manual {
        return Ok(None);
    }
    let plan = accounts::plan_of(conn, claim.account_id)?.unwrap_or_default();
    Ok(ctx.plans.of_account(&plan).includes(Feature::VerifiedDomains).then_some(claim))
}

/// An account suggested to a user, and where they stand with it.
pub struct Suggestion {
    pub account_id: Uuid,
    pub account_name: String,
    pub domain: String,
    /// Their join request waiting for a decision, if any.
    pub pending_request: Option<Uuid>,
}

/// The accounts `user` may ask to join because their verified email is at
/// a domain the account verified (at most one: a domain is verified by one
/// account), unless they are a member already.
pub fn suggestions(conn: &mut DbConnection, ctx: &Ctx<'_>, user: Uuid) -> Result<Vec<Suggestion>, Shared> {
    let user = users::find(conn, user)?.ok_or(Shared::UserGone)?;
    let Some(claim) = suggested_claim(conn, ctx, &user)? else { return Ok(Vec::new()) };
    let account_name = accounts::find(conn, claim.account_id)?.ok_or(Shared::NotFound)?.name;
    let pending_request = join_requests::pending_of(conn, claim.account_id, user.id)?;
    Ok(vec![Suggestion { account_id: claim.account_id, account_name, domain: claim.domain, pending_request }])
}

fn suggested_claim(conn: &mut DbConnection, ctx: &Ctx<'_>, user: &User) -> Result<Option<AccountDomain>, Shared> {
    if !user.email_verified {
        return Ok(None);
    }
    let Some(claim) = enrolling_claim(conn, ctx, &user.email)? else { return Ok(None) };
    if memberships::find(conn, claim.account_id, user.id)?.is_some() {
        return Ok(None);
    }
    Ok(Some(claim))
}

/// Files `user`'s request to join `account`, which must be among their
/// suggestions (404 otherwise: which accounts verified which domains is
/// nobody else's business).
pub fn ask(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    user: Uuid,
    account: Uuid,
    message: &str,
) -> Result<JoinRequest, JoinError> {
    write_transaction(conn, |conn| {
        let found = users::find(conn, user)?.ok_or(JoinError::Shared(Shared::UserGone))?;
        suggested_claim(conn, ctx, &found)?
            .filter(|claim| claim.account_id == account)
            .ok_or(JoinError::Shared(Shared::NotFound))?;
        let new = NewJoinRequest { account_id: account, user_id: user, link_id: None, group_id: None, message };
        joins::file(conn, ctx, new)
    })
}

/// What enrolling a user did.
#[derive(Debug, PartialEq, Eq)]
pub enum Enrolled {
    Nothing,
    /// They became a member of the account.
    Member(Uuid),
    /// The account had no seat left: they asked to join it instead.
    Requested(Uuid),
}

/// Makes `user` a member of the account that verified their email's
/// domain with automatic enrollment, if their email is verified and they
/// are not one yet. With no seat left they ask to join instead (once: a
/// pending request is not filed again). Call inside the flow's transaction
/// (email verification, sign-in); the audit actor is the system.
pub fn enroll(conn: &mut DbConnection, ctx: &Ctx<'_>, user: Uuid) -> Result<Enrolled, Shared> {
    let Some(user) = users::find(conn, user)? else { return Ok(Enrolled::Nothing) };
    let Some(claim) = suggested_claim(conn, ctx, &user)? else { return Ok(Enrolled::Nothing) };
    if claim.enrollment != Enrollment::Automatic {
        return Ok(Enrolled::Nothing);
    }
    let account = claim.account_id;
    let seats = Seats::hold(conn, ctx, account)?;
    let preferences = accounts::invitation_preferences(conn, account)?.ok_or(Shared::NotFound)?;
    let email = Email::parse(&user.email).map_err(|_| StoreError::Corrupt(format!("user {}: email", user.id)))?;
    let candidate = Candidate {
        is_member: false,
        outside_allowed_domains: super::domains::refuses(conn, account, &preferences, &email)?,
        ..Candidate::default()
    };
    if check_admission(&candidate, Admission::JoinRequest).is_err() {
        return Ok(Enrolled::Nothing);
    }
    if seats.take_one(conn, ctx.now).is_err() {
        return request_instead(conn, ctx, &user, &claim);
    }
    let defaults = domains::enrollment_defaults(conn, claim.id)?;
    check_role_count(defaults.roles.len())?;
    let held: Vec<(Uuid, Option<Uuid>)> = defaults.roles.iter().map(|(role, _)| (*role, None)).collect();
    memberships::admit(conn, account, user.id, &held, &defaults.groups, ctx.now)?;
    let roles: Vec<serde_json::Value> =
        defaults.roles.iter().map(|(_, key)| serde_json::json!({"role": key, "group_id": null})).collect();
    let joined = Event::in_account(account, AuditAction::MemberJoined)
        .by(Actor::System)
        .target("user", user.id, &user.email)
        .target("domain", claim.id, &claim.domain)
        .set("assignments", roles)
        .set("groups", &defaults.groups);
    ctx.record(conn, joined)?;
    Ok(Enrolled::Member(account))
}

fn request_instead(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    user: &User,
    claim: &AccountDomain,
) -> Result<Enrolled, Shared> {
    if let Some(pending) = join_requests::pending_of(conn, claim.account_id, user.id)? {
        return Ok(Enrolled::Requested(pending));
    }
    let new =
        NewJoinRequest { account_id: claim.account_id, user_id: user.id, link_id: None, group_id: None, message: "" };
    match joins::file(conn, ctx, new) {
        Ok(request) => Ok(Enrolled::Requested(request.id)),
        Err(JoinError::Shared(shared)) => Err(shared),
        Err(other) => Err(Shared::Store(StoreError::Corrupt(format!("automatic enrollment: {other}")))),
    }
}
