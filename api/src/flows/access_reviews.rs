//! Access reviews: started by a member over the account or one group (or by
//! the account's schedule), decided member by member by its reviewers, and
//! completed in one transaction that applies every decision. The review
//! clock reminds reviewers before and after the due date and, where the
//! account's policy says so, revokes what nobody decided.

use chrono::{DateTime, Duration, Utc};
use domain::access_review::{
    self as rules, Decision, DecisionFacts, DecisionRefused, HeldAssignment, Outcome, REMIND_OVERDUE_EVERY,
    UndecidedPolicy,
};
use domain::audit::AuditAction;
use domain::notification::Topic;
use domain::{BuiltInRole, Catalogue, InvalidValue, Permission};
use persistence::access_reviews::{self as store, Item, NewItem, NewReview, Review, ReviewSettings, Reviewer};
use persistence::memberships::{self, MemberFilter, Membership};
use persistence::{DbConnection, StoreError, accounts, groups, write_transaction};
use uuid::Uuid;

use super::audit::{Event, user_label};
use super::members::{MemberError, Removal};
use super::{Ctx, Grantor, Precondition, Shared, check_precondition, entity_tag, family_error};
use crate::email::Message;
use crate::email::kinds::AccessReview;

#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    #[error(transparent)]
    Refused(#[from] DecisionRefused),
    /// A requested reviewer does not hold `access_reviews:manage` where the
    /// review applies.
    #[error("not every reviewer may review here")]
    NotEligible { user: Uuid },
    #[error(transparent)]
    Invalid(#[from] InvalidValue),
    #[error(transparent)]
    Member(#[from] MemberError),
    #[error(transparent)]
    Precondition(#[from] Precondition),
    #[error(transparent)]
    Shared(Shared),
}
family_error!(ReviewError);

const MANAGE: Permission = Permission::AccessReviewsManage;

/// What a member asks to review.
pub struct ReviewRequest {
    pub group: Option<Uuid>,
    /// `None`: everyone who may review there.
    pub reviewers: Option<Vec<Uuid>>,
    pub due_at: DateTime<Utc>,
}

/// Whether `by` may see and run reviews of `group` (`None`: the account).
pub fn may_manage(catalogue: &Catalogue, by: &Grantor, group: Option<Uuid>) -> bool {
    by.holds_in(catalogue, group).contains(MANAGE)
}

fn visible(ctx: &Ctx<'_>, by: &Grantor, review: Review) -> Result<Review, ReviewError> {
    if may_manage(ctx.catalogue, by, review.group_id) || review.reviewers.iter().any(|r| r.user_id == by.user_id) {
        Ok(review)
    } else {
        Err(ReviewError::Shared(Shared::NotFound))
    }
}

/// Every direct member of the account (not those whose access is
/// inherited: their reviews happen in the parent), or of one group.
fn members_of(
    conn: &mut DbConnection,
    account: Uuid,
    group: Option<Uuid>,
) -> Result<Vec<(memberships::Member, Membership)>, StoreError> {
    const PAGE: i64 = 500;
    let mut listed = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let filter = MemberFilter {
            user: None,
            search: None,
            after: after.as_deref(),
            limit: PAGE,
            role: None,
            group,
            inactive_since: None,
            status: None,
        };
        let page = memberships::load_members(conn, account, filter)?;
        let full = page.len() as i64 == PAGE;
        after = page.last().map(|(cursor, _)| cursor.clone());
        listed.extend(page.into_iter().filter(|(_, member)| member.inherited_from.is_none()).map(|(_, m)| m));
        if !full {
            break;
        }
    }
    let users: Vec<Uuid> = listed.iter().map(|member| member.user_id).collect();
    let mut found = memberships::find_many(conn, account, &users)?;
    Ok(listed.into_iter().filter_map(|member| found.remove(&member.user_id).map(|m| (member, m))).collect())
}

/// Who may review `group` (`None`: the account): holders of
/// `access_reviews:manage` account-wide, or inside that group.
fn eligible_reviewers(
    catalogue: &Catalogue,
    everyone: &[(memberships::Member, Membership)],
    group: Option<Uuid>,
) -> Vec<Reviewer> {
    everyone
        .iter()
        .filter(|(_, membership)| catalogue.effective(&membership.held_roles(), group).contains(MANAGE))
        .map(|(member, _)| Reviewer { user_id: member.user_id, email: member.email.clone() })
        .collect()
}

/// The assignments a review covers: in a group review, the roles held in
/// that group; otherwise every role.
fn covered(membership: &Membership, group: Option<Uuid>) -> Vec<HeldAssignment> {
    let mut held: Vec<HeldAssignment> = membership
        .assignments
        .iter()
        .filter(|a| group.is_none() || a.group_id == group)
        .map(|a| HeldAssignment { role: a.role.key.clone(), group_id: a.group_id })
        .collect();
    held.sort();
    held
}

/// Starts a review: `by` a member, or by the account's schedule (`None`).
pub fn start(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    by: Option<&Grantor>,
    account: Uuid,
    request: &ReviewRequest,
) -> Result<Review, ReviewError> {
    rules::check_due(ctx.now, request.due_at)?;
    write_transaction(conn, |conn| {
        let group = match request.group {
            Some(id) => Some(
                groups::find(conn, account, id)?
                    .ok_or(ReviewError::Shared(Shared::UnknownGroup { field: "group_id" }))?,
            ),
            None => None,
        };
        let scope = group.as_ref().map(|g| g.id);
        if let Some(by) = by
            && !may_manage(ctx.catalogue, by, scope)
        {
            return Err(ReviewError::Shared(Shared::Forbidden(MANAGE)));
        }
        let everyone = members_of(conn, account, None)?;
        let eligible = eligible_reviewers(ctx.catalogue, &everyone, scope);
        let reviewers = match &request.reviewers {
            None => eligible,
            Some(wanted) => {
                let mut chosen = Vec::new();
                for user in wanted {
                    let reviewer = eligible.iter().find(|r| r.user_id == *user);
                    chosen.push(reviewer.cloned().ok_or(ReviewError::NotEligible { user: *user })?);
                }
                chosen.dedup_by_key(|r| r.user_id);
                chosen
            }
        };
        let subjects = match scope {
            None => everyone,
            Some(group) => members_of(conn, account, Some(group))?,
        };
        let items: Vec<NewItem> = subjects
            .iter()
            .map(|(member, membership)| NewItem {
                user_id: member.user_id,
                email: member.email.clone(),
                assignments: covered(membership, scope),
                permissions: ctx
                    .catalogue
                    .effective(&membership.held_roles(), scope)
                    .keys()
                    .map(str::to_owned)
                    .collect(),
                last_active_at: member.last_active_at,
                last_reviewed_at: member.last_reviewed_at,
            })
            .collect();
        let settings = store::settings(conn, account)?;
        let new = NewReview {
            account_id: account,
            group: group.as_ref().map(|g| (g.id, g.name.as_str())),
            undecided: settings.undecided,
            due_at: request.due_at,
            started_by: by.map(|by| by.user_id),
            started_at: ctx.now,
            first_reminder_at: rules::first_reminder(ctx.now, request.due_at),
            reviewers: &reviewers,
            items: &items,
        };
        let id = store::insert(conn, &new)?;
        let review = store::find(conn, account, id)?.ok_or(ReviewError::Shared(Shared::NotFound))?;
        let event = about(&review, AuditAction::AccessReviewStarted)
            .set("due_at", review.due_at)
            .set("members", items.len())
            .set("reviewers", reviewers.iter().map(|r| r.email.as_str()).collect::<Vec<_>>());
        ctx.record(conn, event)?;
        remind(conn, ctx, &review, ReviewNotice::Started, items.len())?;
        Ok(review)
    })
}

fn about(review: &Review, action: AuditAction) -> Event {
    let label = review.group_name.as_deref().map_or("account".to_owned(), |group| format!("group {group}"));
    let event = Event::in_account(review.account_id, action).target("access_review", review.id, label);
    match review.group_id {
        Some(group) => event.set("group_id", group),
        None => event,
    }
}

/// Why reviewers hear of an access review.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ReviewNotice {
    Started,
    DueSoon,
    Overdue,
}

/// Emails the reviewers (those who did not turn these emails off).
fn remind(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    review: &Review,
    notice: ReviewNotice,
    undecided: usize,
) -> Result<(), StoreError> {
    let account = super::notifications::name_in_emails(conn, review.account_id)?;
    let url = ctx.link(&format!("/v1/accounts/{}/access-reviews/{}", review.account_id, review.id));
    let reviewers: Vec<Uuid> = review.reviewers.iter().map(|r| r.user_id).collect();
    let topic = Topic::AccessReviewReminders;
    super::notifications::notify_members(conn, ctx, review.account_id, &reviewers, topic, |recipient| {
        let said = AccessReview {
            account_name: account.clone(),
            group_name: review.group_name.clone(),
            due_at: review.due_at,
            undecided,
            review_url: url.clone(),
        };
        let message = match notice {
            ReviewNotice::Started => Message::AccessReviewStarted(said),
            ReviewNotice::DueSoon => Message::AccessReviewDueSoon(said),
            ReviewNotice::Overdue => Message::AccessReviewOverdue(said),
        };
        message.to(recipient)
    })
}

/// A review with its members, as `by` may see it.
pub fn read(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    by: &Grantor,
    account: Uuid,
    id: Uuid,
) -> Result<(Review, Vec<Item>), ReviewError> {
    let review = store::find(conn, account, id)?.ok_or(ReviewError::Shared(Shared::NotFound))?;
    let review = visible(ctx, by, review)?;
    let items = store::items(conn, review.id)?;
    Ok((review, items))
}

/// The reviews `by` may see among the account's next `limit` (newest
/// first), and the cursor past those `limit`: group reviewers may see
/// fewer than a page, but never miss one.
pub fn list(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    by: &Grantor,
    account: Uuid,
    before: Option<Uuid>,
    limit: i64,
) -> Result<(Vec<Review>, Option<Uuid>), ReviewError> {
    let mut reviews = store::list(conn, account, before, limit + 1)?;
    let next = if reviews.len() as i64 > limit {
        reviews.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        reviews.last().map(|review| review.id)
    } else {
        None
    };
    Ok((reviews.into_iter().filter_map(|review| visible(ctx, by, review).ok()).collect(), next))
}

/// One member of one review of an account.
#[derive(Debug, Clone, Copy)]
pub struct ItemRef {
    pub account: Uuid,
    pub review: Uuid,
    pub user: Uuid,
}

/// One reviewer's decision on one member; the review is returned beside
/// the member's line.
pub fn decide(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    by: &Grantor,
    at: ItemRef,
    decision: &Decision,
    comment: &str,
) -> Result<(Review, Item), ReviewError> {
    let ItemRef { account, review: id, user } = at;
    write_transaction(conn, |conn| {
        let review = store::find(conn, account, id)?.ok_or(ReviewError::Shared(Shared::NotFound))?;
        let review = visible(ctx, by, review)?;
        let item = store::item(conn, id, user)?.ok_or(ReviewError::Shared(Shared::NotFound))?;
        let owner = BuiltInRole::Owner.key();
        let facts = DecisionFacts {
            open: review.status == store::ReviewStatus::Open,
            reviewer_is_listed: review.reviewers.iter().any(|r| r.user_id == by.user_id),
            reviewer_is_subject: user == by.user_id,
            reviewer_may_demote_owners: by.holds_in(ctx.catalogue, None).contains(Permission::OwnershipTransfer),
            snapshot: &item.assignments,
            owner_role: owner,
        };
        rules::check_decision(decision, &facts)?;
        store::decide(conn, id, user, decision, comment, by.user_id, ctx.now)?;
        let mut event = about(&review, AuditAction::AccessReviewDecided)
            .target("user", user, &item.email)
            .change("decision", item.decision.as_ref().map(Decision::key), decision.key())
            .set("comment", comment);
        if let Decision::Reduce(kept) = decision {
            event = event.set("kept", kept);
        }
        ctx.record(conn, event)?;
        let item = store::item(conn, id, user)?.ok_or(ReviewError::Shared(Shared::NotFound))?;
        Ok((review, item))
    })
}

/// Completes an open review, applying every decision in this one
/// transaction; the undecided follow the review's policy. `by`: a
/// reviewer, or `None` for the review clock at the due date. Returns the
/// completed review with each member's outcome.
pub fn complete(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    by: Option<&Grantor>,
    account: Uuid,
    id: Uuid,
) -> Result<(Review, Vec<Item>), ReviewError> {
    write_transaction(conn, |conn| {
        accounts::lock(conn, account)?;
        let review = store::find(conn, account, id)?.ok_or(ReviewError::Shared(Shared::NotFound))?;
        let review = match by {
            Some(by) => visible(ctx, by, review)?,
            None => review,
        };
        if let Some(by) = by
            && !review.reviewers.iter().any(|r| r.user_id == by.user_id)
        {
            return Err(DecisionRefused::NotAReviewer.into());
        }
        if !store::complete(conn, id, by.map(|by| by.user_id), ctx.now)? {
            return Err(DecisionRefused::Closed.into());
        }
        let items = store::items(conn, id)?;
        let users: Vec<Uuid> = items.iter().map(|item| item.user_id).collect();
        let mut current = memberships::find_many(conn, account, &users)?;
        let mut counts = std::collections::BTreeMap::<&str, usize>::new();
        for item in items {
            let outcome = match current.remove(&item.user_id) {
                Some(membership) => apply(conn, ctx, &review, &item, &membership)?,
                None => "no_longer_a_member",
            };
            *counts.entry(outcome).or_default() += 1;
            store::set_outcome(conn, id, item.user_id, outcome)?;
        }
        let event = about(&review, AuditAction::AccessReviewCompleted)
            .change("status", "open", "completed")
            .set("outcomes", &counts);
        ctx.record(conn, event)?;
        let completed = store::find(conn, account, id)?.ok_or(ReviewError::Shared(Shared::NotFound))?;
        Ok((completed, store::items(conn, id)?))
    })
}

/// Applies the decision on one member; returns the outcome's key.
fn apply(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    review: &Review,
    item: &Item,
    membership: &Membership,
) -> Result<&'static str, ReviewError> {
    let account = review.account_id;
    let outcome = rules::outcome(item.decision.as_ref(), review.undecided, membership.is_owner());
    match (&outcome, item.decision.as_ref()) {
        (Outcome::Kept, _) => store::mark_reviewed(conn, account, item.user_id, ctx.now)?,
        (Outcome::Reduced, Some(decision)) => {
            let gone = rules::removed(&item.assignments, decision);
            let remaining: Vec<(Uuid, Option<Uuid>)> = membership
                .assignments
                .iter()
                .filter(|a| !gone.iter().any(|g| g.role == a.role.key && g.group_id == a.group_id))
                .map(|a| (a.role.id, a.group_id))
                .collect();
            memberships::replace_assignments(conn, membership.id, &remaining, ctx.now)?;
            let removed: Vec<_> =
                gone.iter().map(|g| serde_json::json!({"role": g.role, "group_id": g.group_id})).collect();
            let event = Event::in_account(account, AuditAction::MemberRolesUpdated)
                .target("user", item.user_id, &item.email)
                .set("access_review_id", review.id)
                .unset("removed_assignments", removed);
            ctx.record(conn, event)?;
            store::mark_reviewed(conn, account, item.user_id, ctx.now)?;
        }
        (Outcome::Removed | Outcome::Revoked, _) => match review.group_id {
            None => super::members::remove(conn, ctx, account, item.user_id, Removal::Review)?,
            Some(group) => {
                if groups::remove_member(conn, group, membership.id, ctx.now)? {
                    let dropped = covered(membership, Some(group));
                    let keep: Vec<(Uuid, Option<Uuid>)> = membership
                        .assignments
                        .iter()
                        .filter(|a| a.group_id != Some(group))
                        .map(|a| (a.role.id, a.group_id))
                        .collect();
                    memberships::replace_assignments(conn, membership.id, &keep, ctx.now)?;
                    let event = Event::in_account(account, AuditAction::GroupMemberRemoved)
                        .target("group", group, review.group_name.as_deref().unwrap_or_default())
                        .target("user", item.user_id, user_label(conn, item.user_id)?)
                        .set("access_review_id", review.id)
                        .unset("roles_in_group", dropped.iter().map(|d| d.role.as_str()).collect::<Vec<_>>());
                    ctx.record(conn, event)?;
                }
                store::mark_reviewed(conn, account, item.user_id, ctx.now)?;
            }
        },
        (Outcome::KeptFlagged, _) | (Outcome::Reduced, None) => {}
    }
    Ok(outcome.key())
}

/// The version of an account's review settings for `ETag`/`If-Match`.
pub fn settings_tag(settings: &ReviewSettings) -> String {
    entity_tag(&format!("{}\n{:?}\n{}", settings.undecided.key(), settings.every_days, settings.due_in_days))
}

/// A change of review settings: `None` keeps the current value; a
/// schedule of `Some(None)` is turned off.
pub struct SettingsChange {
    pub undecided: Option<UndecidedPolicy>,
    pub every_days: Option<Option<u16>>,
    pub due_in_days: Option<u16>,
}

pub fn update_settings(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    account: Uuid,
    change: &SettingsChange,
    if_match: Option<&str>,
) -> Result<ReviewSettings, ReviewError> {
    write_transaction(conn, |conn| {
        accounts::lock(conn, account)?;
        let before = store::settings(conn, account)?;
        check_precondition(if_match, &settings_tag(&before))?;
        let every_days = change.every_days.unwrap_or(before.every_days);
        let next_start_at = match every_days {
            None => None,
            // The first scheduled review comes one period after the
            // schedule is set or its period changes.
            Some(days) if every_days != before.every_days => Some(ctx.now + Duration::days(days.into())),
            Some(_) => before.next_start_at,
        };
        let after = ReviewSettings {
            undecided: change.undecided.unwrap_or(before.undecided),
            every_days,
            due_in_days: change.due_in_days.unwrap_or(before.due_in_days),
            next_start_at,
        };
        store::save_settings(conn, account, &after, ctx.now)?;
        let event = Event::in_account(account, AuditAction::AccessReviewSettingsUpdated)
            .target("account", account, "access review settings")
            .change("undecided", before.undecided.key(), after.undecided.key())
            .change("every_days", before.every_days, after.every_days)
            .change("due_in_days", before.due_in_days, after.due_in_days);
        ctx.record(conn, event)?;
        Ok(after)
    })
}

/// The review clock: starts the reviews schedules call for, reminds
/// reviewers before and after due dates, and at a due date revokes what
/// nobody decided where the policy says so. Returns what it did.
pub fn clock(conn: &mut DbConnection, ctx: &Ctx<'_>) -> Result<usize, ReviewError> {
    let mut done = 0;
    for account in store::due_schedules(conn, ctx.now)? {
        write_transaction(conn, |conn| {
            let settings = store::settings(conn, account)?;
            let (Some(every), Some(mut next)) = (settings.every_days, settings.next_start_at) else { return Ok(()) };
            if next > ctx.now {
                return Ok(()); // another instance started it
            }
            let request = ReviewRequest {
                group: None,
                reviewers: None,
                due_at: ctx.now + Duration::days(settings.due_in_days.into()),
            };
            start(conn, ctx, None, account, &request)?;
            while next <= ctx.now {
                next += Duration::days(every.into());
            }
            store::set_next_start(conn, account, Some(next))?;
            done += 1;
            Ok::<(), ReviewError>(())
        })?;
    }
    for review in store::due_reminders(conn, ctx.now)? {
        let undecided = store::items(conn, review.id)?.iter().filter(|item| item.decision.is_none()).count();
        if ctx.now >= review.due_at && review.undecided == UndecidedPolicy::Revoke {
            match complete(conn, ctx, None, review.account_id, review.id) {
                Err(ReviewError::Refused(DecisionRefused::Closed)) => {}
                other => drop(other?),
            }
        } else {
            let (notice, next) = if ctx.now < review.due_at {
                (ReviewNotice::DueSoon, review.due_at)
            } else {
                (ReviewNotice::Overdue, ctx.now + REMIND_OVERDUE_EVERY)
            };
            // Claimed and queued together: sent once, however many
            // instances run the clock.
            write_transaction(conn, |conn| {
                if store::claim_reminder(conn, &review, Some(next))? {
                    remind(conn, ctx, &review, notice, undecided)?;
                }
                Ok::<(), StoreError>(())
            })?;
        }
        done += 1;
    }
    Ok(done)
}
