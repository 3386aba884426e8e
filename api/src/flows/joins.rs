//! Join link and join request flows. Each public function is one
//! transaction: the change, its membership effects and its emails (outbox
//! rows) commit together or not at all.

use domain::audit::AuditAction;
use domain::join::{JoinLinkLimits, JoinRequestStatus, LinkUnusable};
use domain::membership::{Admission, AdmissionRefused, Candidate, check_admission};
use domain::notification::Topic;
use domain::{Email, Permission};
use persistence::join_links::{self, JoinLink, NewJoinLink};
use persistence::join_requests::{self, JoinRequest, NewJoinRequest};
use persistence::{DbConnection, StoreError, accounts, groups, memberships, users, write_transaction};
use uuid::Uuid;

use super::audit::Event;
use super::notifications::notify_holders;
use super::seats::Seats;
use super::{Ctx, Grantor, Shared, family_error};
use crate::auth::secrets::{self, OpaqueToken};
use crate::email::Message;
use crate::email::kinds::{JoinRequestDecided, JoinRequestReceived};

#[derive(Debug, thiserror::Error)]
pub enum JoinError {
    #[error("join link token unknown")]
    LinkUnknown,
    #[error("the join link cannot be used: {0:?}")]
    LinkUnusable(LinkUnusable),
    #[error("a disabled link cannot be rotated")]
    RotateDisabled,
    #[error("a join request of this user is pending")]
    RequestPending,
    #[error("the join request is {0:?} already")]
    AlreadyDecided(JoinRequestStatus),
    #[error(transparent)]
    Admission(#[from] AdmissionRefused),
    #[error(transparent)]
    Shared(Shared),
}
family_error!(JoinError);

/// A link and, right after creation or rotation only, its URL.
pub struct IssuedLink {
    pub link: JoinLink,
    pub url: String,
}

fn join_url(ctx: &Ctx<'_>, token: &OpaqueToken) -> String {
    ctx.link(&format!("/join?token={}", token.expose()))
}

pub fn create_link(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    by: &Grantor,
    group: Option<Uuid>,
    limits: JoinLinkLimits,
) -> Result<IssuedLink, JoinError> {
    write_transaction(conn, |conn| {
        if let Some(group) = group {
            groups::find(conn, by.account_id, group)?
                .ok_or(JoinError::Shared(Shared::UnknownGroup { field: "group_id" }))?;
        }
        let token = OpaqueToken::generate();
        let new = NewJoinLink {
            account_id: by.account_id,
            group_id: group,
            limits,
            token_hash: &token.digest(),
            created_by: by.user_id,
        };
        let link = join_links::create(conn, new, ctx.now)?;
        let event = link_event(&link, AuditAction::JoinLinkCreated)
            .set("group_id", link.group_id)
            .set("expires_at", link.state.limits.expires_at)
            .set("max_uses", link.state.limits.max_uses);
        ctx.record(conn, event)?;
        Ok(IssuedLink { link, url: join_url(ctx, &token) })
    })
}

/// A new token for the link; the old URL stops working at once.
pub fn rotate_link(conn: &mut DbConnection, ctx: &Ctx<'_>, account: Uuid, id: Uuid) -> Result<IssuedLink, JoinError> {
    write_transaction(conn, |conn| {
        join_links::find(conn, account, id)?.ok_or(JoinError::Shared(Shared::NotFound))?;
        let token = OpaqueToken::generate();
        if !join_links::rotate(conn, account, id, &token.digest(), ctx.now)? {
            return Err(JoinError::RotateDisabled);
        }
        let link = join_links::find(conn, account, id)?.ok_or(JoinError::Shared(Shared::NotFound))?;
        ctx.record(conn, link_event(&link, AuditAction::JoinLinkRotated).change("url", "previous", "new"))?;
        Ok(IssuedLink { link, url: join_url(ctx, &token) })
    })
}

pub fn disable_link(conn: &mut DbConnection, ctx: &Ctx<'_>, account: Uuid, id: Uuid) -> Result<(), JoinError> {
    write_transaction(conn, |conn| {
        let link = join_links::find(conn, account, id)?.ok_or(JoinError::Shared(Shared::NotFound))?;
        join_links::disable(conn, account, id, ctx.now)?;
        let was = link.state.status_at(ctx.now);
        ctx.record(conn, link_event(&link, AuditAction::JoinLinkDisabled).change("status", was, "disabled"))?;
        Ok(())
    })
}

fn link_event(link: &JoinLink, action: AuditAction) -> Event {
    Event::in_account(link.account_id, action).target("join_link", link.id, "join link")
}

fn request_event(request: &JoinRequest, action: AuditAction) -> Event {
    Event::in_account(request.account_id, action).target("join_request", request.id, &request.requester.email).target(
        "user",
        request.requester.user_id,
        &request.requester.email,
    )
}

/// Whether `account` takes only emails at its verified domains and
/// `user`'s is at none of them.
fn outside_allowed(conn: &mut DbConnection, account: Uuid, user: Uuid) -> Result<bool, JoinError> {
    let preferences = accounts::invitation_preferences(conn, account)?.ok_or(JoinError::Shared(Shared::NotFound))?;
    if !preferences.restricted_to_domains {
        return Ok(false);
    }
    let user = users::find(conn, user)?.ok_or(JoinError::Shared(Shared::UserGone))?;
    let email = Email::parse(&user.email).map_err(|_| StoreError::Corrupt(format!("user {}: email", user.id)))?;
    Ok(super::domains::refuses(conn, account, &preferences, &email)?)
}

/// What the public preview shows of a link.
pub struct LinkPreview {
    pub link: JoinLink,
    pub account_name: String,
    pub group_name: Option<String>,
}

pub fn preview(conn: &mut DbConnection, token: &str) -> Result<LinkPreview, JoinError> {
    let link = join_links::find_by_token_hash(conn, &secrets::digest(token))?.ok_or(JoinError::LinkUnknown)?;
    let account_name = accounts::find(conn, link.account_id)?.ok_or(JoinError::LinkUnknown)?.name;
    let group_name = match link.group_id {
        Some(group) => groups::find(conn, link.account_id, group)?.map(|group| group.name),
        None => None,
    };
    Ok(LinkPreview { link, account_name, group_name })
}

/// Files `user`'s request to join through the link with this token, using
/// one of its uses, and tells every reviewer.
pub fn join(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    token: &str,
    user: Uuid,
    message: &str,
) -> Result<JoinRequest, JoinError> {
    write_transaction(conn, |conn| {
        let token_hash = secrets::digest(token);
        let link = join_links::find_by_token_hash(conn, &token_hash)?.ok_or(JoinError::LinkUnknown)?;
        let candidate = Candidate {
            is_member: memberships::find(conn, link.account_id, user)?.is_some(),
            outside_allowed_domains: outside_allowed(conn, link.account_id, user)?,
            ..Candidate::default()
        };
        check_admission(&candidate, Admission::JoinRequest)?;
        if !join_links::use_once(conn, &token_hash, ctx.now)? {
            let refusal = join_links::find_by_token_hash(conn, &token_hash)?
                .and_then(|link| link.state.check_usable(ctx.now).err())
                .ok_or(JoinError::LinkUnknown)?;
            return Err(JoinError::LinkUnusable(refusal));
        }
        let new = NewJoinRequest {
            account_id: link.account_id,
            user_id: user,
            link_id: Some(link.id),
            group_id: link.group_id,
            message,
        };
        file(conn, ctx, new)
    })
}

/// Files a join request and tells every reviewer; call inside the flow's
/// transaction, after the admission checks.
pub(crate) fn file(conn: &mut DbConnection, ctx: &Ctx<'_>, new: NewJoinRequest<'_>) -> Result<JoinRequest, JoinError> {
    let link = new.link_id;
    let request = join_requests::insert(conn, new, ctx.now).map_err(|error| match error {
        StoreError::MissingReference => JoinError::Shared(Shared::UserGone),
        StoreError::Conflict => JoinError::RequestPending,
        other => other.into(),
    })?;
    notify_reviewers(conn, ctx, &request)?;
    let mut event = request_event(&request, AuditAction::JoinRequestCreated)
        .set("message", &request.message)
        .set("group_id", request.group_id);
    if let Some(link) = link {
        event = event.target("join_link", link, "join link");
    }
    ctx.record(conn, event)?;
    Ok(request)
}

/// One email to each member who may review the request (account-wide).
fn notify_reviewers(conn: &mut DbConnection, ctx: &Ctx<'_>, request: &JoinRequest) -> Result<(), JoinError> {
    let requester = &request.requester;
    let name = format!("{} {}", requester.first_name, requester.last_name).trim().to_owned();
    let review_url = ctx.link(&format!("/v1/accounts/{}/join-requests?status=pending", request.account_id));
    let may_review =
        |role: &domain::HeldRole| ctx.catalogue.role_permissions(role).contains(Permission::JoinRequestsReview);
    notify_holders(conn, ctx, request.account_id, Topic::JoinRequests, may_review, |recipient| {
        Message::JoinRequestReceived(JoinRequestReceived {
            requester_name: name.clone(),
            requester_email: requester.email.clone(),
            account_name: request.account_name.clone(),
            message: request.message.clone(),
            review_url: review_url.clone(),
        })
        .to(recipient)
    })?;
    Ok(())
}

fn decide(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    request: &JoinRequest,
    to: JoinRequestStatus,
    decided_by: Option<Uuid>,
    reason: Option<&str>,
) -> Result<(), JoinError> {
    request.status.decide(to).map_err(JoinError::AlreadyDecided)?;
    if !join_requests::decide(conn, request.id, to, decided_by, reason, ctx.now)? {
        let current =
            join_requests::find(conn, request.account_id, request.id)?.ok_or(JoinError::Shared(Shared::NotFound))?;
        return Err(JoinError::AlreadyDecided(current.status));
    }
    Ok(())
}

/// Makes the requester a member with the roles the approver gives, each
/// within the approver's own permissions, in the link's group if it had
/// one.
pub fn approve(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    by: &Grantor,
    id: Uuid,
    wanted: &[(String, Option<Uuid>)],
) -> Result<JoinRequest, JoinError> {
    write_transaction(conn, |conn| {
        let seats = Seats::hold(conn, ctx, by.account_id)?;
        let request = join_requests::find(conn, by.account_id, id)?.ok_or(JoinError::Shared(Shared::NotFound))?;
        request.status.decide(JoinRequestStatus::Approved).map_err(JoinError::AlreadyDecided)?;
        let granted = super::roles::grantable(conn, ctx, by, wanted, "assignments")?;
        let requester = request.requester.user_id;
        let candidate = Candidate {
            is_member: memberships::find(conn, by.account_id, requester)?.is_some(),
            outside_allowed_domains: outside_allowed(conn, by.account_id, requester)?,
            ..Candidate::default()
        };
        check_admission(&candidate, Admission::JoinRequest)?;
        seats.take_one(conn, ctx.now)?;
        decide(conn, ctx, &request, JoinRequestStatus::Approved, Some(by.user_id), None)?;
        let held: Vec<(Uuid, Option<Uuid>)> = granted.iter().map(|role| (role.role_id, role.group_id)).collect();
        let groups: Vec<Uuid> = request.group_id.into_iter().collect();
        memberships::admit(conn, request.account_id, requester, &held, &groups, ctx.now).map_err(
            |error| match error {
                StoreError::Conflict => JoinError::Admission(AdmissionRefused::AlreadyMember),
                other => other.into(),
            },
        )?;
        let decided =
            JoinRequestDecided { account_name: request.account_name.clone(), reason: None, url: ctx.link("/") };
        let email = Message::JoinRequestApproved(decided).to(&request.requester.email);
        crate::email::enqueue(conn, &email, ctx.now)?;
        let assignments: Vec<serde_json::Value> =
            granted.iter().map(|role| serde_json::json!({"role": role.role_key, "group_id": role.group_id})).collect();
        let approved =
            request_event(&request, AuditAction::JoinRequestApproved).change("status", "pending", "approved");
        ctx.record(conn, approved)?;
        let joined = Event::in_account(request.account_id, AuditAction::MemberJoined)
            .target("user", requester, &request.requester.email)
            .target("join_request", request.id, &request.requester.email)
            .set("assignments", assignments)
            .set("groups", &groups);
        ctx.record(conn, joined)?;
        join_requests::find(conn, request.account_id, id)?.ok_or(JoinError::Shared(Shared::NotFound))
    })
}

pub fn deny(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    by: &Grantor,
    id: Uuid,
    reason: &str,
) -> Result<JoinRequest, JoinError> {
    write_transaction(conn, |conn| {
        let request = join_requests::find(conn, by.account_id, id)?.ok_or(JoinError::Shared(Shared::NotFound))?;
        let reason = Some(reason).filter(|reason| !reason.is_empty());
        decide(conn, ctx, &request, JoinRequestStatus::Denied, Some(by.user_id), reason)?;
        let decided = JoinRequestDecided {
            account_name: request.account_name.clone(),
            reason: reason.map(str::to_owned),
            url: ctx.link("/"),
        };
        let email = Message::JoinRequestDeclined(decided).to(&request.requester.email);
        crate::email::enqueue(conn, &email, ctx.now)?;
        let event = request_event(&request, AuditAction::JoinRequestDenied)
            .change("status", "pending", "denied")
            .set("reason", reason);
        ctx.record(conn, event)?;
        join_requests::find(conn, by.account_id, id)?.ok_or(JoinError::Shared(Shared::NotFound))
    })
}

/// The requester takes their pending request back.
pub fn withdraw(conn: &mut DbConnection, ctx: &Ctx<'_>, user: Uuid, id: Uuid) -> Result<JoinRequest, JoinError> {
    write_transaction(conn, |conn| {
        let request = join_requests::find_for_user(conn, user, id)?.ok_or(JoinError::Shared(Shared::NotFound))?;
        decide(conn, ctx, &request, JoinRequestStatus::Withdrawn, Some(user), None)?;
        ctx.record(
            conn,
            request_event(&request, AuditAction::JoinRequestWithdrawn).change("status", "pending", "withdrawn"),
        )?;
        join_requests::find_for_user(conn, user, id)?.ok_or(JoinError::Shared(Shared::NotFound))
    })
}
