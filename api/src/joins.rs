//! Join link and join request flows. Each public function is one
//! transaction: the change, its membership effects and its emails (outbox
//! rows) commit together or not at all.

use chrono::{DateTime, Utc};
use domain::join::{JoinLinkLimits, JoinRequestStatus};
use domain::{Catalogue, Permission};
use persistence::join_links::{self, JoinLink, NewJoinLink};
use persistence::join_requests::{self, JoinRequest, NewJoinRequest};
use persistence::{DbConnection, StoreError, accounts, groups, memberships, outbox, roles, write_transaction};
use uuid::Uuid;

use crate::auth::secrets::{self, OpaqueToken};
use crate::email::templates::{self, JoinRequestEmail};
use crate::error::ApiError;
use crate::invitations::{Inviter, grantable_roles};

/// A link and, right after creation or rotation only, its URL.
pub struct IssuedLink {
    pub link: JoinLink,
    pub url: String,
}

pub fn join_url(public_url: &str, token: &OpaqueToken) -> String {
    format!("{}/join?token={}", public_url.trim_end_matches('/'), token.expose())
}

fn conflict(code: &'static str, detail: impl Into<String>) -> ApiError {
    ApiError::Conflict { code, detail: detail.into() }
}

pub fn create_link(
    conn: &mut DbConnection,
    account: Uuid,
    creator: Uuid,
    group: Option<Uuid>,
    limits: JoinLinkLimits,
    public_url: &str,
    now: DateTime<Utc>,
) -> Result<IssuedLink, ApiError> {
    write_transaction(conn, |conn| {
        if let Some(group) = group {
            groups::find(conn, account, group)?.ok_or_else(|| {
                ApiError::field("group_id", "unknown_group", "There is no such group in this account.")
            })?;
        }
        let token = OpaqueToken::generate();
        let new = NewJoinLink {
            account_id: account,
            group_id: group,
            limits,
            token_hash: &token.digest(),
            created_by: creator,
        };
        let link = join_links::create(conn, new, now)?;
        Ok(IssuedLink { link, url: join_url(public_url, &token) })
    })
}

/// A new token for the link; the old URL stops working at once.
pub fn rotate_link(
    conn: &mut DbConnection,
    account: Uuid,
    id: Uuid,
    public_url: &str,
    now: DateTime<Utc>,
) -> Result<IssuedLink, ApiError> {
    write_transaction(conn, |conn| {
        join_links::find(conn, account, id)?.ok_or(ApiError::NotFound)?;
        let token = OpaqueToken::generate();
        if !join_links::rotate(conn, account, id, &token.digest(), now)? {
            return Err(conflict("join_link_disabled", "A disabled link cannot be rotated; create a new one."));
        }
        let link = join_links::find(conn, account, id)?.ok_or(ApiError::NotFound)?;
        Ok(IssuedLink { link, url: join_url(public_url, &token) })
    })
}

pub fn disable_link(conn: &mut DbConnection, account: Uuid, id: Uuid, now: DateTime<Utc>) -> Result<(), ApiError> {
    write_transaction(conn, |conn| {
        join_links::find(conn, account, id)?.ok_or(ApiError::NotFound)?;
        join_links::disable(conn, account, id, now)?;
        Ok(())
    })
}

/// What the public preview shows of a link.
pub struct LinkPreview {
    pub link: JoinLink,
    pub account_name: String,
    pub group_name: Option<String>,
}

pub fn preview(conn: &mut DbConnection, token: &str) -> Result<LinkPreview, ApiError> {
    let link = join_links::find_by_token_hash(conn, &secrets::digest(token))?.ok_or(ApiError::JoinLinkUnknown)?;
    let account_name = accounts::find(conn, link.account_id)?.ok_or(ApiError::JoinLinkUnknown)?.name;
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
    catalogue: &Catalogue,
    token: &str,
    user: Uuid,
    message: &str,
    public_url: &str,
    now: DateTime<Utc>,
) -> Result<JoinRequest, ApiError> {
    write_transaction(conn, |conn| {
        let token_hash = secrets::digest(token);
        let link = join_links::find_by_token_hash(conn, &token_hash)?.ok_or(ApiError::JoinLinkUnknown)?;
        if memberships::find(conn, link.account_id, user)?.is_some() {
            return Err(conflict("already_member", "You are already a member of this account."));
        }
        if !join_links::use_once(conn, &token_hash, now)? {
            let refusal = join_links::find_by_token_hash(conn, &token_hash)?
                .and_then(|link| link.state.check_usable(now).err())
                .ok_or(ApiError::JoinLinkUnknown)?;
            return Err(ApiError::Gone { code: refusal.code(), detail: refusal.message().to_owned() });
        }
        let new = NewJoinRequest {
            account_id: link.account_id,
            user_id: user,
            link_id: link.id,
            group_id: link.group_id,
            message,
        };
        let request = join_requests::insert(conn, new, now).map_err(|error| match error {
            StoreError::Conflict => conflict(
                "join_request_pending",
                "You already asked to join this account; wait for the decision or withdraw that request.",
            ),
            other => other.into(),
        })?;
        notify_reviewers(conn, catalogue, &request, public_url, now)?;
        Ok(request)
    })
}

/// One email to each member who may review the request (account-wide).
fn notify_reviewers(
    conn: &mut DbConnection,
    catalogue: &Catalogue,
    request: &JoinRequest,
    public_url: &str,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let reviewing: Vec<Uuid> = roles::list_visible(conn, request.account_id)?
        .into_iter()
        .filter(|role| catalogue.role_permissions(&role.held(None)).contains(Permission::JoinRequestsReview))
        .map(|role| role.id)
        .collect();
    let requester = &request.requester;
    let name = format!("{} {}", requester.first_name, requester.last_name).trim().to_owned();
    let review_url =
        format!("{}/v1/accounts/{}/join-requests?status=pending", public_url.trim_end_matches('/'), request.account_id);
    let emails: Vec<_> = memberships::emails_holding(conn, request.account_id, &reviewing)?
        .iter()
        .map(|recipient| {
            templates::join_request_received(&JoinRequestEmail {
                recipient,
                requester_name: &name,
                requester_email: &requester.email,
                account_name: &request.account_name,
                message: &request.message,
                review_url: &review_url,
            })
        })
        .collect();
    outbox::enqueue_many(conn, &emails, now)?;
    Ok(())
}

/// The request as it is now, for explaining a conditional update that
/// changed nothing.
fn already_decided(status: JoinRequestStatus) -> ApiError {
    conflict(status.conflict_code(), format!("This join request is already {}.", status.key()))
}

fn decide(
    conn: &mut DbConnection,
    request: &JoinRequest,
    to: JoinRequestStatus,
    decided_by: Option<Uuid>,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    request.status.decide(to).map_err(already_decided)?;
    if !join_requests::decide(conn, request.id, to, decided_by, reason, now)? {
        let current = join_requests::find(conn, request.account_id, request.id)?.ok_or(ApiError::NotFound)?;
        return Err(already_decided(current.status));
    }
    Ok(())
}

/// Makes the requester a member with the roles the approver gives, each
/// within the approver's own permissions, in the link's group if it had
/// one.
pub fn approve(
    conn: &mut DbConnection,
    catalogue: &Catalogue,
    approver: &Inviter,
    id: Uuid,
    wanted: &[(String, Option<Uuid>)],
    public_url: &str,
    now: DateTime<Utc>,
) -> Result<JoinRequest, ApiError> {
    write_transaction(conn, |conn| {
        let request = join_requests::find(conn, approver.account_id, id)?.ok_or(ApiError::NotFound)?;
        request.status.decide(JoinRequestStatus::Approved).map_err(already_decided)?;
        let granted = grantable_roles(conn, catalogue, approver, wanted)?;
        decide(conn, &request, JoinRequestStatus::Approved, Some(approver.user_id), None, now)?;
        let membership = memberships::add(conn, request.account_id, request.requester.user_id, &[], now).map_err(
            |error| match error {
                StoreError::Conflict => conflict("already_member", "This person became a member meanwhile."),
                other => other.into(),
            },
        )?;
        let held: Vec<(Uuid, Option<Uuid>)> = granted.iter().map(|role| (role.role_id, role.group_id)).collect();
        memberships::replace_assignments(conn, membership, &held, now)?;
        let scoped = granted.iter().filter_map(|role| role.group_id);
        for group in scoped.chain(request.group_id) {
            groups::add_member(conn, group, membership, now)?;
        }
        let email =
            templates::join_request_decided(&request.requester.email, &request.account_name, true, None, public_url);
        outbox::enqueue(conn, &email, now)?;
        join_requests::find(conn, request.account_id, id)?.ok_or(ApiError::NotFound)
    })
}

pub fn deny(
    conn: &mut DbConnection,
    account: Uuid,
    denier: Uuid,
    id: Uuid,
    reason: &str,
    public_url: &str,
    now: DateTime<Utc>,
) -> Result<JoinRequest, ApiError> {
    write_transaction(conn, |conn| {
        let request = join_requests::find(conn, account, id)?.ok_or(ApiError::NotFound)?;
        let reason = Some(reason).filter(|reason| !reason.is_empty());
        decide(conn, &request, JoinRequestStatus::Denied, Some(denier), reason, now)?;
        let email =
            templates::join_request_decided(&request.requester.email, &request.account_name, false, reason, public_url);
        outbox::enqueue(conn, &email, now)?;
        join_requests::find(conn, account, id)?.ok_or(ApiError::NotFound)
    })
}

/// The requester takes their pending request back.
pub fn withdraw(conn: &mut DbConnection, user: Uuid, id: Uuid, now: DateTime<Utc>) -> Result<JoinRequest, ApiError> {
    write_transaction(conn, |conn| {
        let request = join_requests::find_for_user(conn, user, id)?.ok_or(ApiError::NotFound)?;
        decide(conn, &request, JoinRequestStatus::Withdrawn, Some(user), None, now)?;
        join_requests::find_for_user(conn, user, id)?.ok_or(ApiError::NotFound)
    })
}
