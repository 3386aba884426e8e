//! Invitation flows. Each public function is one database transaction: the
//! state change, its membership effects and its email (an outbox row) commit
//! together or not at all.

use chrono::{DateTime, Utc};
use domain::invitation::{InvitationClock, InvitationStatus, TransitionRefused};
use domain::{Catalogue, Email, HeldRole, PermissionSet, may_grant, may_remove};
use persistence::invitations::{self, Invitation, InvitedRole, NewInvitation};
use persistence::roles;
use persistence::{DbConnection, StoreError, accounts, memberships, outbox, users, write_transaction};
use uuid::Uuid;

use crate::auth::secrets::{self, OpaqueToken};
use crate::email::templates::{self, InvitationEmail};
use crate::error::ApiError;

/// What an administrator asked for one invitee, already parsed.
pub struct InviteRequest {
    pub email: Email,
    pub first_name: String,
    pub last_name: String,
    /// Role keys (already checked for shape) and the group each applies
    /// in (`None`: account-wide).
    pub assignments: Vec<(String, Option<Uuid>)>,
    pub send_email: bool,
}

/// Who hands out roles, with the roles they hold (for scoped checks).
pub struct Inviter {
    pub account_id: Uuid,
    pub user_id: Uuid,
    pub roles: Vec<HeldRole>,
    pub permissions: PermissionSet,
}

/// A created invitation and, when the caller delivers it, its link.
pub struct Invited {
    pub invitation: Invitation,
    pub accept_url: Option<String>,
}

pub fn accept_url(public_url: &str, token: &OpaqueToken) -> String {
    format!("{}/invitations/accept?token={}", public_url.trim_end_matches('/'), token.expose())
}

fn conflict(code: &'static str, detail: impl Into<String>) -> ApiError {
    ApiError::Conflict { code, detail: detail.into() }
}

/// Creates one invitation of a batch.
pub fn invite(
    conn: &mut DbConnection,
    catalogue: &Catalogue,
    inviter: &Inviter,
    request: InviteRequest,
    public_url: &str,
    now: DateTime<Utc>,
) -> Result<Invited, ApiError> {
    write_transaction(conn, |conn| {
        let assignments = grantable_roles(conn, catalogue, inviter, &request.assignments)?;
        let preferences = accounts::invitation_preferences(conn, inviter.account_id)?.ok_or(ApiError::NotFound)?;
        let existing_user = users::find_by_email(conn, &request.email)?;
        if let Some(user) = &existing_user
            && memberships::find(conn, inviter.account_id, user.id)?.is_some()
        {
            return Err(conflict("already_member", format!("{} is already a member of this account.", request.email)));
        }
        if !preferences.email_policy.allows(existing_user.is_some()) {
            return Err(conflict(
                "email_policy_refused",
                "This account only invites people who have no Roster user yet (policy new_users_only).",
            ));
        }
        invitations::expire_lapsed_for(conn, inviter.account_id, &request.email, now)?;
        let token = OpaqueToken::generate();
        let clock = InvitationClock::new(now, preferences.ttl);
        let next_reminder_at = clock.next_reminder_at(&preferences.reminders);
        let new = NewInvitation {
            account_id: inviter.account_id,
            email: &request.email,
            first_name: &request.first_name,
            last_name: &request.last_name,
            assignments: &assignments,
            groups: &[],
            invited_by: inviter.user_id,
            token_hash: &token.digest(),
            clock,
            next_reminder_at,
        };
        let invitation = invitations::insert(conn, new).map_err(|error| match error {
            StoreError::Conflict => conflict(
                "already_invited",
                format!("{} already has a pending invitation to this account.", request.email),
            ),
            other => other.into(),
        })?;
        let url = accept_url(public_url, &token);
        if request.send_email {
            enqueue_invitation_email(conn, &invitation, &url, false, now)?;
        }
        Ok(Invited { invitation, accept_url: (!request.send_email).then_some(url) })
    })
}

fn enqueue_invitation_email(
    conn: &mut DbConnection,
    invitation: &Invitation,
    url: &str,
    reminder: bool,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let account = accounts::find(conn, invitation.account_id)?.ok_or(ApiError::NotFound)?;
    let inviter = match invitation.invited_by {
        Some(id) => users::find(conn, id)?,
        None => None,
    };
    let inviter_name =
        inviter.map_or_else(|| account.name.clone(), |user| format!("{} {}", user.first_name, user.last_name));
    let email = templates::invitation(&InvitationEmail {
        recipient: &invitation.email,
        inviter_name: &inviter_name,
        account_name: &account.name,
        accept_url: url,
        expires_at: invitation.clock.expires_at,
        reminder,
    });
    outbox::enqueue(conn, &email, now)?;
    Ok(())
}

/// A new token and validity window; the old link stops working at once.
pub fn resend(
    conn: &mut DbConnection,
    account: Uuid,
    id: Uuid,
    public_url: &str,
    now: DateTime<Utc>,
) -> Result<Invitation, ApiError> {
    write_transaction(conn, |conn| {
        let invitation = invitations::find(conn, account, id)?.ok_or(ApiError::NotFound)?;
        let preferences = accounts::invitation_preferences(conn, account)?.ok_or(ApiError::NotFound)?;
        let clock = invitation.clock.resend(now, preferences.ttl).map_err(refused)?;
        let token = OpaqueToken::generate();
        let next_reminder_at = clock.next_reminder_at(&preferences.reminders);
        let resent =
            invitations::resend(conn, id, &token.digest(), clock, next_reminder_at).map_err(|error| match error {
                StoreError::Conflict => {
                    conflict("already_invited", "Another pending invitation exists for this email.")
                }
                other => other.into(),
            })?;
        if !resent {
            return Err(lost_race(conn, account, id, now));
        }
        let invitation = invitations::find(conn, account, id)?.ok_or(ApiError::NotFound)?;
        enqueue_invitation_email(conn, &invitation, &accept_url(public_url, &token), false, now)?;
        Ok(invitation)
    })
}

pub fn revoke(conn: &mut DbConnection, account: Uuid, id: Uuid, now: DateTime<Utc>) -> Result<Invitation, ApiError> {
    write_transaction(conn, |conn| {
        let invitation = invitations::find(conn, account, id)?.ok_or(ApiError::NotFound)?;
        invitation.clock.check_open(now).map_err(refused)?;
        if !invitations::decide(conn, id, InvitationStatus::Revoked, now)? {
            return Err(lost_race(conn, account, id, now));
        }
        invitations::find(conn, account, id)?.ok_or(ApiError::NotFound)
    })
}

/// The problem for an invitation that can no longer be acted on: each
/// state has its own code, so clients can tell the person what happened.
fn refused(refusal: TransitionRefused) -> ApiError {
    match refusal {
        TransitionRefused::Expired => ApiError::InvitationExpired,
        TransitionRefused::Final(InvitationStatus::Accepted) => {
            conflict("invitation_accepted", "This invitation was already accepted.")
        }
        TransitionRefused::Final(InvitationStatus::Declined) => {
            conflict("invitation_declined", "This invitation was declined.")
        }
        TransitionRefused::Final(_) => {
            conflict("invitation_revoked", "This invitation was revoked by the account's administrators.")
        }
    }
}

/// Explains a conditional update that changed nothing: someone else
/// decided the invitation first, so report what it became.
fn lost_race(conn: &mut DbConnection, account: Uuid, id: Uuid, now: DateTime<Utc>) -> ApiError {
    match invitations::find(conn, account, id) {
        Ok(Some(invitation)) => invitation
            .clock
            .check_open(now)
            .err()
            .map_or_else(|| conflict("invitation_changed", "The invitation changed meanwhile; try again."), refused),
        Ok(None) => ApiError::NotFound,
        Err(error) => error.into(),
    }
}

/// The invitation a presented token belongs to, if it is still open.
fn open_invitation(conn: &mut DbConnection, token: &str, now: DateTime<Utc>) -> Result<Invitation, ApiError> {
    let invitation = invitations::find_by_token_hash(conn, &secrets::digest(token))?.ok_or_else(unknown_token)?;
    invitation.clock.check_open(now).map_err(refused)?;
    Ok(invitation)
}

pub fn unknown_token() -> ApiError {
    ApiError::InvitationUnknown
}

/// The open invitation a token belongs to, for the public preview.
pub fn preview(conn: &mut DbConnection, token: &str, now: DateTime<Utc>) -> Result<Invitation, ApiError> {
    open_invitation(conn, token, now)
}

/// Accepts on behalf of `user`, whose verified email must be the
/// invitation's. The status change is conditional, so of concurrent accepts
/// (or an accept racing a revoke) exactly one wins.
pub fn accept(conn: &mut DbConnection, token: &str, user: Uuid, now: DateTime<Utc>) -> Result<Invitation, ApiError> {
    write_transaction(conn, |conn| {
        let invitation = open_invitation(conn, token, now)?;
        let user = users::find(conn, user)?.ok_or(ApiError::Unauthenticated)?;
        if !user.email_verified || user.email != invitation.email {
            return Err(ApiError::InvitationEmailMismatch);
        }
        if !invitations::decide(conn, invitation.id, InvitationStatus::Accepted, now)? {
            return Err(lost_race(conn, invitation.account_id, invitation.id, now));
        }
        let membership =
            memberships::add(conn, invitation.account_id, user.id, &[], now).map_err(|error| match error {
                StoreError::Conflict => conflict("already_member", "You are already a member of this account."),
                other => other.into(),
            })?;
        let held: Vec<(Uuid, Option<Uuid>)> =
            invitation.assignments.iter().map(|assignment| (assignment.role_id, assignment.group_id)).collect();
        let scoped = invitation.assignments.iter().filter_map(|assignment| assignment.group_id);
        for group in scoped.chain(invitation.groups.iter().copied()) {
            persistence::groups::add_member(conn, group, membership, now)?;
        }
        memberships::replace_assignments(conn, membership, &held, now)?;
        Ok(invitation)
    })
}

pub fn decline(conn: &mut DbConnection, token: &str, now: DateTime<Utc>) -> Result<(), ApiError> {
    write_transaction(conn, |conn| {
        let invitation = open_invitation(conn, token, now)?;
        if !invitations::decide(conn, invitation.id, InvitationStatus::Declined, now)? {
            return Err(lost_race(conn, invitation.account_id, invitation.id, now));
        }
        Ok(())
    })
}

/// Removes a member and revokes their pending invitations to the account,
/// so no old link lets them back in.
///
/// `remover` is the permissions of whoever removes them, or `None` when
/// members leave themselves.
pub fn remove_member(
    conn: &mut DbConnection,
    account: Uuid,
    user: Uuid,
    remover: Option<&PermissionSet>,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    write_transaction(conn, |conn| {
        let email = users::find(conn, user)?.map(|user| user.email);
        let allowed =
            |target: &memberships::Membership| remover.is_none_or(|remover| may_remove(remover, target.is_owner()));
        match memberships::remove(conn, account, user, allowed)? {
            memberships::Removal::Removed => {}
            memberships::Removal::NotAllowed => {
                return Err(ApiError::Forbidden(domain::Permission::OwnershipTransfer.key().to_owned()));
            }
            memberships::Removal::NotAMember => return Err(ApiError::NotFound),
            memberships::Removal::LastOwner => {
                return Err(conflict(
                    "last_owner",
                    "The account's last owner cannot leave or be removed; transfer ownership first.",
                ));
            }
        }
        if let Some(email) = email {
            invitations::revoke_pending_for(conn, account, &email, now)?;
        }
        Ok(())
    })
}

/// Registers the invitee with the invitation's email (verified, since the
/// link reached that inbox) and accepts, in one transaction.
pub fn register_and_accept(
    conn: &mut DbConnection,
    token: &str,
    first_name: &domain::PersonName,
    last_name: &domain::PersonName,
    password_hash: &str,
    now: DateTime<Utc>,
) -> Result<Uuid, ApiError> {
    write_transaction(conn, |conn| {
        let invitation = open_invitation(conn, token, now)?;
        let email = Email::parse(&invitation.email).map_err(ApiError::internal)?;
        let new = users::NewUser {
            id: Uuid::now_v7(),
            email: &email,
            first_name,
            last_name,
            password_hash: Some(password_hash),
            email_verified: true,
            now,
        };
        let user = users::insert(conn, new).map_err(|error| match error {
            StoreError::Conflict => {
                conflict("email_taken", "A user with this email exists: sign in, then accept the invitation.")
            }
            other => other.into(),
        })?;
        accept(conn, token, user.id, now)?;
        Ok(user.id)
    })
}

/// Sends one due reminder with a fresh link (earlier links stop working:
/// only digests are stored, so a reminder cannot repeat the original link).
/// Returns false when another instance sent it first.
pub fn send_reminder(
    conn: &mut DbConnection,
    invitation: &Invitation,
    public_url: &str,
    now: DateTime<Utc>,
) -> Result<bool, ApiError> {
    write_transaction(conn, |conn| {
        let preferences = accounts::invitation_preferences(conn, invitation.account_id)?.ok_or(ApiError::NotFound)?;
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
        enqueue_invitation_email(conn, invitation, &accept_url(public_url, &token), true, now)?;
        Ok(true)
    })
}

/// Resolves wanted assignments to roles the account can use, inside groups
/// it has: unknown roles or groups are 422, and a role carrying permissions
/// the grantor lacks where it would apply is 403. Nobody hands out more than
/// they hold.
pub fn grantable_roles(
    conn: &mut DbConnection,
    catalogue: &Catalogue,
    grantor: &Inviter,
    wanted: &[(String, Option<Uuid>)],
) -> Result<Vec<InvitedRole>, ApiError> {
    let keys: Vec<&str> = wanted.iter().map(|(key, _)| key.as_str()).collect();
    let found = roles::list_visible_by_keys(conn, grantor.account_id, &keys)?;
    let mut granted = Vec::new();
    for (key, group) in wanted {
        let role = found.iter().find(|role| &role.key == key).ok_or_else(|| {
            ApiError::field("roles", "unknown_role", format!("There is no role {key:?} in this account."))
        })?;
        if let Some(group) = group {
            persistence::groups::find(conn, grantor.account_id, *group)?.ok_or_else(|| {
                ApiError::field("assignments", "unknown_group", "There is no such group in this account.")
            })?;
        }
        let holder = catalogue.effective(&grantor.roles, *group);
        let offered = catalogue.role_permissions(&role.held(*group));
        if !may_grant(&holder, &offered) {
            let missing = holder.missing_from(&offered).first().map(|key| (*key).to_owned()).unwrap_or_default();
            return Err(ApiError::Forbidden(missing));
        }
        let invited = InvitedRole { role_id: role.id, role_key: role.key.clone(), group_id: *group };
        if !granted.contains(&invited) {
            granted.push(invited);
        }
    }
    Ok(granted)
}
