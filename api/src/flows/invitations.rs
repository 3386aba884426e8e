//! Invitation flows. Each public function is one database transaction: the
//! state change, its membership effects and its email (an outbox row) commit
//! together or not at all.

use domain::audit::AuditAction;
use domain::invitation::{InvitationClock, InvitationStatus, TransitionRefused};
use domain::membership::{Admission, AdmissionRefused, Candidate, check_admission};
use domain::{Email, PersonName};
use persistence::invitations::{self, Invitation, Lapsed, NewInvitation};
use persistence::users::User;
use persistence::{DbConnection, StoreError, accounts, memberships, users, write_transaction};
use uuid::Uuid;

use super::audit::Event;
use super::seats::Seats;
use super::users::Registration;
use super::{Actor, Ctx, Grantor, Shared, family_error};
use crate::auth::secrets::{self, OpaqueToken};
use crate::email::Message;
use crate::email::kinds;

#[derive(Debug, thiserror::Error)]
pub enum InvitationError {
    #[error("invitation token unknown")]
    UnknownToken,
    #[error("invitation expired")]
    Expired,
    #[error("invitation already accepted")]
    Accepted,
    #[error("invitation declined")]
    Declined,
    #[error("invitation revoked")]
    Revoked,
    #[error("the invitation changed meanwhile")]
    Changed,
    #[error("the invitation is addressed to another (verified) email")]
    EmailMismatch,
    #[error(transparent)]
    Admission(#[from] AdmissionRefused),
    /// Invitations go out in the sender's name: their email must be verified.
    #[error("the sender's email is not verified")]
    SenderUnverified,
    #[error("a user with the invited email exists")]
    EmailTaken,
    #[error(transparent)]
    Shared(Shared),
}
family_error!(InvitationError);

/// What an administrator asked for one invitee, already parsed.
pub struct InviteRequest {
    pub email: Email,
    pub first_name: String,
    pub last_name: String,
    /// Role keys (already checked for shape) and the group each applies
    /// in (`None`: account-wide).
    pub assignments: Vec<(String, Option<Uuid>)>,
    pub send_email: bool,
    /// The language to write to the invitee in while they chose none.
    pub locale: Option<domain::Locale>,
}

/// A created invitation and, when the caller delivers it, its link.
pub struct Invited {
    pub invitation: Invitation,
    pub accept_url: Option<String>,
}

pub fn accept_url(ctx: &Ctx<'_>, token: &OpaqueToken) -> String {
    ctx.link(&format!("/invitations/accept?token={}", token.expose()))
}

/// Whether `sender` proved they own their email address. Invitation emails
/// carry names the sender chose and go to any address, so only such a
/// sender may send them (in a batch, a resend or a spreadsheet).
pub fn sender_verified(conn: &mut DbConnection, ctx: &Ctx<'_>, sender: Uuid) -> Result<bool, Shared> {
    is_verified_sender(ctx, users::find(conn, sender)?.as_ref())
}

/// [`sender_verified`], for a sender already read (`None`: the user is gone).
fn is_verified_sender(ctx: &Ctx<'_>, sender: Option<&User>) -> Result<bool, Shared> {
    let sender = sender.ok_or(Shared::UserGone)?;
    ctx.met(sender);
    Ok(sender.email_verified)
}

/// Sends a batch as one transaction: each item in a savepoint of its own
/// (a batch of one is simply its own transaction), so that an item refused
/// for its content (already a member, a role the
/// sender cannot grant) leaves the others, while a failure of the database
/// fails the whole request and stores nothing. An unverified sender is
/// refused by the first item, before anything is written, and so the whole
/// batch is: each item reads the sender with the rest of what it depends
/// on, in one query.
pub fn invite_batch(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    by: &Grantor,
    mut requests: Vec<InviteRequest>,
) -> Result<Vec<Result<Invited, InvitationError>>, InvitationError> {
    if requests.len() == 1 {
        // One item is its own transaction: no savepoint to keep others.
        let outcome = invite(conn, ctx, by, requests.remove(0));
        return Ok(vec![within_batch(outcome, true)?]);
    }
    write_transaction(conn, |conn| {
        let mut results = Vec::with_capacity(requests.len());
        for request in requests {
            let first = results.is_empty();
            results.push(within_batch(invite(conn, ctx, by, request), first)?);
        }
        Ok(results)
    })
}

/// An item's outcome as its batch reports it, or the error that fails the
/// whole batch: an unverified sender (found by the first item) or the
/// database failing.
fn within_batch(
    outcome: Result<Invited, InvitationError>,
    first: bool,
) -> Result<Result<Invited, InvitationError>, InvitationError> {
    match outcome {
        Err(InvitationError::SenderUnverified) if first => Err(InvitationError::SenderUnverified),
        Err(InvitationError::Shared(Shared::Store(error))) if error.is_infrastructure() => {
            Err(InvitationError::Shared(Shared::Store(error)))
        }
        outcome => Ok(outcome),
    }
}

/// Creates one invitation of a batch.
pub fn invite(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    by: &Grantor,
    request: InviteRequest,
) -> Result<Invited, InvitationError> {
    write_transaction(conn, |conn| {
        let standing = accounts::invitee_standing(conn, by.account_id, by.user_id, request.email.as_str(), ctx.now)?
            .ok_or(InvitationError::Shared(Shared::NotFound))?;
        if !is_verified_sender(ctx, standing.sender.as_ref())? {
            return Err(InvitationError::SenderUnverified);
        }
        let seats = Seats::hold(conn, ctx, by.account_id)?;
        let assignments = super::roles::grantable(conn, ctx, by, &request.assignments, "assignments")?;
        if standing.has_lapsed_invitation {
            let lapsed = invitations::expire_lapsed_for(conn, by.account_id, &request.email, ctx.now)?;
            record_expired(conn, ctx, &lapsed)?;
        }
        let candidate = Candidate {
            is_member: standing.is_member,
            has_pending_invitation: standing.has_pending_invitation,
            has_user: standing.has_user,
            outside_allowed_domains: super::domains::refuses(
                conn,
                by.account_id,
                &standing.preferences,
                &request.email,
            )?,
        };
        let preferences = standing.preferences;
        check_admission(&candidate, Admission::Invitation(preferences.email_policy))?;
        seats.take_one(conn, ctx.now)?;
        let token = OpaqueToken::generate();
        let clock = InvitationClock::new(ctx.now, preferences.ttl);
        let next_reminder_at = clock.next_reminder_at(&preferences.reminders);
        let locale = request.locale.as_ref().map(ToString::to_string);
        let new = NewInvitation {
            locale: locale.as_deref(),
            account_id: by.account_id,
            email: &request.email,
            first_name: &request.first_name,
            last_name: &request.last_name,
            assignments: &assignments,
            groups: &[],
            invited_by: by.user_id,
            token_hash: &token.digest(),
            clock,
            next_reminder_at,
        };
        // The partial unique index settles two invitations racing.
        let invitation = invitations::insert(conn, new).map_err(|error| match error {
            StoreError::Conflict => InvitationError::Admission(AdmissionRefused::AlreadyInvited),
            other => other.into(),
        })?;
        let url = accept_url(ctx, &token);
        if request.send_email {
            enqueue_invitation_email(conn, ctx, &invitation, &url, false)?;
        }
        let event = about(&invitation, AuditAction::InvitationCreated)
            .set("email", &invitation.email)
            .set("first_name", &invitation.first_name)
            .set("last_name", &invitation.last_name)
            .set("assignments", assignments_of(&invitation))
            .set("groups", &invitation.groups)
            .set("expires_at", invitation.clock.expires_at)
            .set("email_sent", request.send_email);
        ctx.record(conn, event)?;
        Ok(Invited { invitation, accept_url: (!request.send_email).then_some(url) })
    })
}

/// An event about `invitation` in its account.
fn about(invitation: &Invitation, action: AuditAction) -> Event {
    Event::in_account(invitation.account_id, action).target("invitation", invitation.id, &invitation.email)
}

fn assignments_of(invitation: &Invitation) -> Vec<serde_json::Value> {
    invitation.assignments.iter().map(|a| serde_json::json!({"role": a.role_key, "group_id": a.group_id})).collect()
}

/// Records invitations that were just found expired.
pub fn record_expired(conn: &mut DbConnection, ctx: &Ctx<'_>, lapsed: &[Lapsed]) -> Result<(), StoreError> {
    for invitation in lapsed {
        let event = Event::in_account(invitation.account_id, AuditAction::InvitationExpired)
            .by(Actor::System)
            .target("invitation", invitation.id, &invitation.email)
            .change("status", "pending", "expired");
        ctx.record(conn, event)?;
    }
    Ok(())
}

fn enqueue_invitation_email(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    invitation: &Invitation,
    url: &str,
    reminder: bool,
) -> Result<(), InvitationError> {
    let account = accounts::find(conn, invitation.account_id)?.ok_or(InvitationError::Shared(Shared::NotFound))?;
    let inviter = match invitation.invited_by {
        Some(id) => users::find(conn, id)?,
        None => None,
    };
    let account_name = account.name_in_emails().to_owned();
    let inviter_name =
        inviter.map_or_else(|| account_name.clone(), |user| format!("{} {}", user.first_name, user.last_name));
    let said = kinds::Invitation {
        inviter_name,
        account_name,
        accept_url: url.to_owned(),
        expires_at: invitation.clock.expires_at,
        message: account.emails.invitation_message.clone(),
    };
    let email = if reminder { Message::InvitationReminder(said) } else { Message::Invitation(said) };
    let locale = invitation.locale.as_deref().or(account.emails.locale.as_deref());
    crate::email::enqueue(conn, &email.to(&invitation.email).in_locale(locale), ctx.now)?;
    Ok(())
}

/// A new token and validity window; the old link stops working at once.
pub fn resend(conn: &mut DbConnection, ctx: &Ctx<'_>, by: &Grantor, id: Uuid) -> Result<Invitation, InvitationError> {
    let account = by.account_id;
    write_transaction(conn, |conn| {
        if !sender_verified(conn, ctx, by.user_id)? {
            return Err(InvitationError::SenderUnverified);
        }
        let seats = Seats::hold(conn, ctx, account)?;
        let invitation = invitations::find(conn, account, id)?.ok_or(InvitationError::Shared(Shared::NotFound))?;
        let preferences =
            accounts::invitation_preferences(conn, account)?.ok_or(InvitationError::Shared(Shared::NotFound))?;
        let clock = invitation.clock.resend(ctx.now, preferences.ttl).map_err(refused)?;
        // A pending invitation holds its seat already; a lapsed one takes one again.
        if invitation.clock.status_at(ctx.now) != InvitationStatus::Pending {
            seats.take_one(conn, ctx.now)?;
        }
        let token = OpaqueToken::generate();
        let next_reminder_at = clock.next_reminder_at(&preferences.reminders);
        let resent =
            invitations::resend(conn, id, &token.digest(), clock, next_reminder_at).map_err(|error| match error {
                StoreError::Conflict => InvitationError::Admission(AdmissionRefused::AlreadyInvited),
                other => other.into(),
            })?;
        if !resent {
            return Err(lost_race(conn, ctx, account, id));
        }
        let resent = invitations::find(conn, account, id)?.ok_or(InvitationError::Shared(Shared::NotFound))?;
        enqueue_invitation_email(conn, ctx, &resent, &accept_url(ctx, &token), false)?;
        let event = about(&resent, AuditAction::InvitationResent)
            .change("status", invitation.clock.status_at(ctx.now).key(), resent.clock.status_at(ctx.now).key())
            .change("expires_at", invitation.clock.expires_at, resent.clock.expires_at);
        ctx.record(conn, event)?;
        Ok(resent)
    })
}

pub fn revoke(conn: &mut DbConnection, ctx: &Ctx<'_>, account: Uuid, id: Uuid) -> Result<Invitation, InvitationError> {
    write_transaction(conn, |conn| {
        let invitation = invitations::find(conn, account, id)?.ok_or(InvitationError::Shared(Shared::NotFound))?;
        invitation.clock.check_open(ctx.now).map_err(refused)?;
        if !invitations::decide(conn, id, InvitationStatus::Revoked, ctx.now)? {
            return Err(lost_race(conn, ctx, account, id));
        }
        ctx.record(conn, about(&invitation, AuditAction::InvitationRevoked).change("status", "pending", "revoked"))?;
        invitations::find(conn, account, id)?.ok_or(InvitationError::Shared(Shared::NotFound))
    })
}

/// An invitation that can no longer be acted on: each state has its own
/// error, so clients can tell the person what happened.
fn refused(refusal: TransitionRefused) -> InvitationError {
    match refusal {
        TransitionRefused::Expired => InvitationError::Expired,
        TransitionRefused::Final(InvitationStatus::Accepted) => InvitationError::Accepted,
        TransitionRefused::Final(InvitationStatus::Declined) => InvitationError::Declined,
        TransitionRefused::Final(_) => InvitationError::Revoked,
    }
}

/// Explains a conditional update that changed nothing: someone else
/// decided the invitation first, so report what it became.
fn lost_race(conn: &mut DbConnection, ctx: &Ctx<'_>, account: Uuid, id: Uuid) -> InvitationError {
    match invitations::find(conn, account, id) {
        Ok(Some(invitation)) => invitation.clock.check_open(ctx.now).err().map_or(InvitationError::Changed, refused),
        Ok(None) => InvitationError::Shared(Shared::NotFound),
        Err(error) => error.into(),
    }
}

/// The invitation a presented token belongs to, if it is still open.
pub fn open_invitation(conn: &mut DbConnection, ctx: &Ctx<'_>, token: &str) -> Result<Invitation, InvitationError> {
    open_invitation_as(conn, ctx, token, None).map(|(invitation, _)| invitation)
}

/// [`open_invitation`], read together with `reader` (`None` when that user
/// is gone).
fn open_invitation_as(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    token: &str,
    reader: Option<Uuid>,
) -> Result<(Invitation, Option<User>), InvitationError> {
    let (invitation, user) =
        invitations::open_by_token_hash(conn, &secrets::digest(token), reader)?.ok_or(InvitationError::UnknownToken)?;
    invitation.clock.check_open(ctx.now).map_err(refused)?;
    Ok((invitation, user))
}

/// Accepts on behalf of `user`, whose verified email must be the
/// invitation's. The status change is conditional, so of concurrent accepts
/// (or an accept racing a revoke) exactly one wins.
pub fn accept(conn: &mut DbConnection, ctx: &Ctx<'_>, token: &str, user: Uuid) -> Result<Invitation, InvitationError> {
    write_transaction(conn, |conn| {
        let (invitation, user) = open_invitation_as(conn, ctx, token, Some(user))?;
        let user = user.ok_or(InvitationError::Shared(Shared::UserGone))?;
        ctx.met(&user);
        if !user.email_verified || user.email != invitation.email {
            return Err(InvitationError::EmailMismatch);
        }
        let joined =
            invitations::accept(conn, invitation.id, invitation.account_id, user.id, ctx.now).map_err(|error| {
                match error {
                    StoreError::Conflict => InvitationError::Admission(AdmissionRefused::AlreadyMember),
                    other => other.into(),
                }
            })?;
        let Some(membership) = joined else {
            return Err(lost_race(conn, ctx, invitation.account_id, invitation.id));
        };
        let held: Vec<(Uuid, Option<Uuid>)> =
            invitation.assignments.iter().map(|assignment| (assignment.role_id, assignment.group_id)).collect();
        memberships::grant_on_joining(conn, membership, &held, &invitation.groups, ctx.now)?;
        let accepted = about(&invitation, AuditAction::InvitationAccepted)
            .by(Actor::User(user.id))
            .change("status", "pending", "accepted");
        let joined = Event::in_account(invitation.account_id, AuditAction::MemberJoined)
            .by(Actor::User(user.id))
            .target("user", user.id, &user.email)
            .target("invitation", invitation.id, &invitation.email)
            .set("assignments", assignments_of(&invitation))
            .set("groups", &invitation.groups);
        ctx.record_all(conn, vec![accepted, joined])?;
        Ok(invitation)
    })
}

pub fn decline(conn: &mut DbConnection, ctx: &Ctx<'_>, token: &str) -> Result<(), InvitationError> {
    write_transaction(conn, |conn| {
        let invitation = open_invitation(conn, ctx, token)?;
        if !invitations::decide(conn, invitation.id, InvitationStatus::Declined, ctx.now)? {
            return Err(lost_race(conn, ctx, invitation.account_id, invitation.id));
        }
        ctx.record(conn, about(&invitation, AuditAction::InvitationDeclined).change("status", "pending", "declined"))?;
        Ok(())
    })
}

/// Registers the invitee with the invitation's email (verified, since the
/// link reached that inbox) and accepts, in one transaction.
pub fn register_and_accept(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    token: &str,
    first_name: &PersonName,
    last_name: &PersonName,
    password_hash: &str,
) -> Result<Uuid, InvitationError> {
    write_transaction(conn, |conn| {
        let invitation = open_invitation(conn, ctx, token)?;
        let email = Email::parse(&invitation.email)
            .map_err(|e| InvitationError::Shared(Shared::Store(StoreError::Corrupt(e.message))))?;
        let registration = Registration { email: &email, first_name, last_name, password_hash };
        let user = super::users::insert(conn, ctx, &registration, true).map_err(|error| match error {
            StoreError::Conflict => InvitationError::EmailTaken,
            other => other.into(),
        })?;
        ctx.record(conn, super::users::registered(&user).change("email_verified", false, true))?;
        accept(conn, ctx, token, user.id)?;
        Ok(user.id)
    })
}

/// Sends one due reminder with a fresh link (earlier links stop working:
/// only digests are stored, so a reminder cannot repeat the original link).
/// Returns false when another instance sent it first.
pub fn send_reminder(conn: &mut DbConnection, ctx: &Ctx<'_>, invitation: &Invitation) -> Result<bool, InvitationError> {
    write_transaction(conn, |conn| {
        let preferences = accounts::invitation_preferences(conn, invitation.account_id)?
            .ok_or(InvitationError::Shared(Shared::NotFound))?;
        let after = InvitationClock { reminders_sent: invitation.clock.reminders_sent + 1, ..invitation.clock };
        let token = OpaqueToken::generate();
        if !invitations::record_reminder(
            conn,
            invitation,
            &token.digest(),
            after.next_reminder_at(&preferences.reminders),
        )? {
            return Ok(false);
        }
        enqueue_invitation_email(conn, ctx, invitation, &accept_url(ctx, &token), true)?;
        let event = about(invitation, AuditAction::InvitationReminded).by(Actor::System).change(
            "reminders_sent",
            invitation.clock.reminders_sent,
            after.reminders_sent,
        );
        ctx.record(conn, event)?;
        Ok(true)
    })
}
