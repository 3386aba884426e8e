//! Access reviews: the account's review settings, each review with its
//! reviewers, and per member a snapshot of their access with the decision
//! taken on it. Every query is scoped to one account or one review of it.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use domain::access_review::{Decision, HeldAssignment, UndecidedPolicy};
use uuid::Uuid;

use crate::db::insert_all;
use crate::schema::{
    access_review_items, access_review_reviewers, access_review_settings, access_reviews, memberships,
};
use crate::{DbConnection, StoreError, ids, time};

/// How an account runs reviews.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewSettings {
    pub undecided: UndecidedPolicy,
    /// A schedule starts an account-wide review this often; `None`: never.
    pub every_days: Option<u16>,
    /// Reviews the schedule starts are due this many days later.
    pub due_in_days: u16,
    /// When the schedule starts the next review.
    pub next_start_at: Option<DateTime<Utc>>,
}

impl Default for ReviewSettings {
    fn default() -> Self {
        ReviewSettings {
            undecided: UndecidedPolicy::KeepAndFlag,
            every_days: None,
            due_in_days: 14,
            next_start_at: None,
        }
    }
}

fn corrupt(what: &str, error: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {error}"))
}

fn policy(raw: &str) -> Result<UndecidedPolicy, StoreError> {
    UndecidedPolicy::parse(raw).map_err(|e| corrupt("access review policy", e))
}

type SettingsRow = (String, Option<i32>, i32, Option<NaiveDateTime>);

fn settings_of(row: SettingsRow) -> Result<ReviewSettings, StoreError> {
    let (undecided, every_days, due_in_days, next_start_at) = row;
    Ok(ReviewSettings {
        undecided: policy(&undecided)?,
        every_days: every_days.map(|d| u16::try_from(d).map_err(|e| corrupt("every_days", e))).transpose()?,
        due_in_days: u16::try_from(due_in_days).map_err(|e| corrupt("due_in_days", e))?,
        next_start_at: next_start_at.map(time::from_db),
    })
}

/// The account's settings; the defaults until changed.
pub fn settings(conn: &mut DbConnection, account: Uuid) -> Result<ReviewSettings, StoreError> {
    let row: Option<SettingsRow> = access_review_settings::table
        .filter(access_review_settings::account_id.eq(ids::to_db(account)))
        .select((
            access_review_settings::undecided,
            access_review_settings::every_days,
            access_review_settings::due_in_days,
            access_review_settings::next_start_at,
        ))
        .first(conn)
        .optional()?;
    row.map(settings_of).transpose().map(Option::unwrap_or_default)
}

pub fn save_settings(
    conn: &mut DbConnection,
    account: Uuid,
    settings: &ReviewSettings,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let account = ids::to_db(account);
    diesel::delete(access_review_settings::table.filter(access_review_settings::account_id.eq(&account)))
        .execute(conn)?;
    diesel::insert_into(access_review_settings::table)
        .values((
            access_review_settings::account_id.eq(&account),
            access_review_settings::undecided.eq(settings.undecided.key()),
            access_review_settings::every_days.eq(settings.every_days.map(i32::from)),
            access_review_settings::due_in_days.eq(i32::from(settings.due_in_days)),
            access_review_settings::next_start_at.eq(settings.next_start_at.map(time::to_db)),
            access_review_settings::updated_at.eq(time::to_db(now)),
        ))
        .execute(conn)?;
    Ok(())
}

/// Accounts whose schedule is due to start a review.
pub fn due_schedules(conn: &mut DbConnection, now: DateTime<Utc>) -> Result<Vec<Uuid>, StoreError> {
    let rows: Vec<String> = access_review_settings::table
        .filter(access_review_settings::next_start_at.le(time::to_db(now)))
        .select(access_review_settings::account_id)
        .load(conn)?;
    rows.iter().map(|id| ids::from_db(id)).collect()
}

/// Moves an account's schedule on to its next start.
pub fn set_next_start(conn: &mut DbConnection, account: Uuid, at: Option<DateTime<Utc>>) -> Result<(), StoreError> {
    diesel::update(access_review_settings::table.filter(access_review_settings::account_id.eq(ids::to_db(account))))
        .set(access_review_settings::next_start_at.eq(at.map(time::to_db)))
        .execute(conn)?;
    Ok(())
}

/// Whether a review waits for decisions or is done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewStatus {
    Open,
    Completed,
}

impl ReviewStatus {
    pub fn key(self) -> &'static str {
        match self {
            ReviewStatus::Open => "open",
            ReviewStatus::Completed => "completed",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reviewer {
    pub user_id: Uuid,
    pub email: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Review {
    pub id: Uuid,
    pub account_id: Uuid,
    /// A group review's group (`None`: the whole account).
    pub group_id: Option<Uuid>,
    pub group_name: Option<String>,
    pub status: ReviewStatus,
    pub undecided: UndecidedPolicy,
    pub due_at: DateTime<Utc>,
    /// `None`: the account's schedule started it.
    pub started_by: Option<Uuid>,
    pub started_at: DateTime<Utc>,
    pub completed_by: Option<Uuid>,
    pub completed_at: Option<DateTime<Utc>>,
    pub next_reminder_at: Option<DateTime<Utc>>,
    pub reviewers: Vec<Reviewer>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = access_reviews)]
struct ReviewRow {
    id: String,
    account_id: String,
    group_id: Option<String>,
    group_name: Option<String>,
    status: String,
    undecided: String,
    due_at: NaiveDateTime,
    started_by: Option<String>,
    started_at: NaiveDateTime,
    completed_by: Option<String>,
    completed_at: Option<NaiveDateTime>,
    next_reminder_at: Option<NaiveDateTime>,
}

fn review_of(row: ReviewRow, reviewers: Vec<Reviewer>) -> Result<Review, StoreError> {
    let optional_id = |id: Option<String>| id.as_deref().map(ids::from_db).transpose();
    Ok(Review {
        id: ids::from_db(&row.id)?,
        account_id: ids::from_db(&row.account_id)?,
        group_id: optional_id(row.group_id)?,
        group_name: row.group_name,
        status: match row.status.as_str() {
            "open" => ReviewStatus::Open,
            "completed" => ReviewStatus::Completed,
            other => return Err(corrupt("access review status", other)),
        },
        undecided: policy(&row.undecided)?,
        due_at: time::from_db(row.due_at),
        started_by: optional_id(row.started_by)?,
        started_at: time::from_db(row.started_at),
        completed_by: optional_id(row.completed_by)?,
        completed_at: row.completed_at.map(time::from_db),
        next_reminder_at: row.next_reminder_at.map(time::from_db),
        reviewers,
    })
}

/// What a review starts with.
pub struct NewReview<'a> {
    pub account_id: Uuid,
    pub group: Option<(Uuid, &'a str)>,
    pub undecided: UndecidedPolicy,
    pub due_at: DateTime<Utc>,
    pub started_by: Option<Uuid>,
    pub started_at: DateTime<Utc>,
    pub first_reminder_at: DateTime<Utc>,
    pub reviewers: &'a [Reviewer],
    pub items: &'a [NewItem],
}

/// One member's access when the review began.
pub struct NewItem {
    pub user_id: Uuid,
    pub email: String,
    pub assignments: Vec<HeldAssignment>,
    pub permissions: Vec<String>,
    pub last_active_at: Option<DateTime<Utc>>,
    pub last_reviewed_at: Option<DateTime<Utc>>,
}

fn to_json(value: &impl serde::Serialize) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| corrupt("access review JSON", e))
}

fn from_json<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| corrupt("access review JSON", e))
}

#[derive(Insertable)]
#[diesel(table_name = access_review_reviewers, treat_none_as_default_value = false)]
struct ReviewerRow<'a> {
    review_id: &'a str,
    user_id: String,
    email: &'a str,
}

#[derive(Insertable)]
#[diesel(table_name = access_review_items, treat_none_as_default_value = false)]
struct ItemInsert<'a> {
    review_id: &'a str,
    user_id: String,
    email: &'a str,
    assignments: String,
    permissions: String,
    last_active_at: Option<NaiveDateTime>,
    last_reviewed_at: Option<NaiveDateTime>,
}

pub fn insert(conn: &mut DbConnection, new: &NewReview<'_>) -> Result<Uuid, StoreError> {
    let id = Uuid::now_v7();
    let review = ids::to_db(id);
    diesel::insert_into(access_reviews::table)
        .values((
            access_reviews::id.eq(&review),
            access_reviews::account_id.eq(ids::to_db(new.account_id)),
            access_reviews::group_id.eq(new.group.map(|(group, _)| ids::to_db(group))),
            access_reviews::group_name.eq(new.group.map(|(_, name)| name)),
            access_reviews::status.eq(ReviewStatus::Open.key()),
            access_reviews::undecided.eq(new.undecided.key()),
            access_reviews::due_at.eq(time::to_db(new.due_at)),
            access_reviews::started_by.eq(new.started_by.map(ids::to_db)),
            access_reviews::started_at.eq(time::to_db(new.started_at)),
            access_reviews::next_reminder_at.eq(Some(time::to_db(new.first_reminder_at))),
        ))
        .execute(conn)?;
    let reviewers: Vec<ReviewerRow<'_>> = new
        .reviewers
        .iter()
        .map(|reviewer| ReviewerRow {
            review_id: &review,
            user_id: ids::to_db(reviewer.user_id),
            email: &reviewer.email,
        })
        .collect();
    insert_all!(conn, access_review_reviewers::table, reviewers)?;
    let items = new
        .items
        .iter()
        .map(|item| {
            Ok(ItemInsert {
                review_id: &review,
                user_id: ids::to_db(item.user_id),
                email: &item.email,
                assignments: to_json(&item.assignments)?,
                permissions: to_json(&item.permissions)?,
                last_active_at: item.last_active_at.map(time::to_db),
                last_reviewed_at: item.last_reviewed_at.map(time::to_db),
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    insert_all!(conn, access_review_items::table, items)?;
    Ok(id)
}

fn reviewers_of(conn: &mut DbConnection, reviews: &[String]) -> Result<Vec<(String, Reviewer)>, StoreError> {
    let rows: Vec<(String, String, String)> = access_review_reviewers::table
        .filter(access_review_reviewers::review_id.eq_any(reviews))
        .select((access_review_reviewers::review_id, access_review_reviewers::user_id, access_review_reviewers::email))
        .order((access_review_reviewers::review_id, access_review_reviewers::email))
        .load(conn)?;
    rows.into_iter()
        .map(|(review, user, email)| Ok((review, Reviewer { user_id: ids::from_db(&user)?, email })))
        .collect()
}

fn with_reviewers(conn: &mut DbConnection, rows: Vec<ReviewRow>) -> Result<Vec<Review>, StoreError> {
    let ids: Vec<String> = rows.iter().map(|row| row.id.clone()).collect();
    let mut reviewers = reviewers_of(conn, &ids)?;
    rows.into_iter()
        .map(|row| {
            let (mine, rest): (Vec<_>, Vec<_>) = reviewers.drain(..).partition(|(review, _)| *review == row.id);
            reviewers = rest;
            review_of(row, mine.into_iter().map(|(_, reviewer)| reviewer).collect())
        })
        .collect()
}

pub fn find(conn: &mut DbConnection, account: Uuid, id: Uuid) -> Result<Option<Review>, StoreError> {
    let rows: Vec<ReviewRow> = access_reviews::table
        .filter(access_reviews::account_id.eq(ids::to_db(account)))
        .filter(access_reviews::id.eq(ids::to_db(id)))
        .select(ReviewRow::as_select())
        .load(conn)?;
    Ok(with_reviewers(conn, rows)?.pop())
}

/// The account's reviews, newest first; the cursor is the last id seen.
pub fn list(
    conn: &mut DbConnection,
    account: Uuid,
    before: Option<Uuid>,
    limit: i64,
) -> Result<Vec<Review>, StoreError> {
    let mut query = access_reviews::table
        .filter(access_reviews::account_id.eq(ids::to_db(account)))
        .select(ReviewRow::as_select())
        .order(access_reviews::id.desc())
        .limit(limit)
        .into_boxed();
    if let Some(before) = before {
        query = query.filter(access_reviews::id.lt(ids::to_db(before)));
    }
    let rows = query.load(conn)?;
    with_reviewers(conn, rows)
}

/// Open reviews whose next reminder (or due date handling) is due.
pub fn due_reminders(conn: &mut DbConnection, now: DateTime<Utc>) -> Result<Vec<Review>, StoreError> {
    let rows: Vec<ReviewRow> = access_reviews::table
        .filter(access_reviews::status.eq(ReviewStatus::Open.key()))
        .filter(access_reviews::next_reminder_at.le(time::to_db(now)))
        .select(ReviewRow::as_select())
        .order(access_reviews::id.asc())
        .load(conn)?;
    with_reviewers(conn, rows)
}

/// Moves a reminder on, if it is still the one that was due (so that two
/// instances do not both send it).
pub fn claim_reminder(
    conn: &mut DbConnection,
    review: &Review,
    next: Option<DateTime<Utc>>,
) -> Result<bool, StoreError> {
    let claimed = diesel::update(
        access_reviews::table
            .filter(access_reviews::id.eq(ids::to_db(review.id)))
            .filter(access_reviews::next_reminder_at.eq(review.next_reminder_at.map(time::to_db))),
    )
    .set(access_reviews::next_reminder_at.eq(next.map(time::to_db)))
    .execute(conn)?;
    Ok(claimed == 1)
}

/// One member's line of a review.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub user_id: Uuid,
    pub email: String,
    pub assignments: Vec<HeldAssignment>,
    pub permissions: Vec<String>,
    pub last_active_at: Option<DateTime<Utc>>,
    pub last_reviewed_at: Option<DateTime<Utc>>,
    pub decision: Option<Decision>,
    pub comment: Option<String>,
    pub decided_by: Option<Uuid>,
    pub decided_at: Option<DateTime<Utc>>,
    /// Set at completion: what happened to the member.
    pub outcome: Option<String>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = access_review_items)]
struct ItemRow {
    user_id: String,
    email: String,
    assignments: String,
    permissions: String,
    last_active_at: Option<NaiveDateTime>,
    last_reviewed_at: Option<NaiveDateTime>,
    decision: Option<String>,
    kept: Option<String>,
    comment: Option<String>,
    decided_by: Option<String>,
    decided_at: Option<NaiveDateTime>,
    outcome: Option<String>,
}

impl TryFrom<ItemRow> for Item {
    type Error = StoreError;

    fn try_from(row: ItemRow) -> Result<Self, StoreError> {
        let decision = match (row.decision.as_deref(), row.kept.as_deref()) {
            (None, _) => None,
            (Some("keep"), _) => Some(Decision::Keep),
            (Some("remove"), _) => Some(Decision::Remove),
            (Some("reduce"), Some(kept)) => Some(Decision::Reduce(from_json(kept)?)),
            (Some(other), _) => return Err(corrupt("access review decision", other)),
        };
        Ok(Item {
            user_id: ids::from_db(&row.user_id)?,
            email: row.email,
            assignments: from_json(&row.assignments)?,
            permissions: from_json(&row.permissions)?,
            last_active_at: row.last_active_at.map(time::from_db),
            last_reviewed_at: row.last_reviewed_at.map(time::from_db),
            decision,
            comment: row.comment,
            decided_by: row.decided_by.as_deref().map(ids::from_db).transpose()?,
            decided_at: row.decided_at.map(time::from_db),
            outcome: row.outcome,
        })
    }
}

/// The review's members, by email.
pub fn items(conn: &mut DbConnection, review: Uuid) -> Result<Vec<Item>, StoreError> {
    access_review_items::table
        .filter(access_review_items::review_id.eq(ids::to_db(review)))
        .select(ItemRow::as_select())
        .order(access_review_items::email.asc())
        .load(conn)?
        .into_iter()
        .map(Item::try_from)
        .collect()
}

pub fn item(conn: &mut DbConnection, review: Uuid, user: Uuid) -> Result<Option<Item>, StoreError> {
    access_review_items::table
        .filter(access_review_items::review_id.eq(ids::to_db(review)))
        .filter(access_review_items::user_id.eq(ids::to_db(user)))
        .select(ItemRow::as_select())
        .first(conn)
        .optional()?
        .map(Item::try_from)
        .transpose()
}

/// Records a decision, replacing an earlier one on the same member.
pub fn decide(
    conn: &mut DbConnection,
    review: Uuid,
    user: Uuid,
    decision: &Decision,
    comment: &str,
    by: Uuid,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let kept = match decision {
        Decision::Reduce(kept) => Some(to_json(kept)?),
        Decision::Keep | Decision::Remove => None,
    };
    diesel::update(
        access_review_items::table
            .filter(access_review_items::review_id.eq(ids::to_db(review)))
            .filter(access_review_items::user_id.eq(ids::to_db(user))),
    )
    .set((
        access_review_items::decision.eq(Some(decision.key())),
        access_review_items::kept.eq(kept),
        access_review_items::comment.eq(Some(comment)),
        access_review_items::decided_by.eq(Some(ids::to_db(by))),
        access_review_items::decided_at.eq(Some(time::to_db(now))),
    ))
    .execute(conn)?;
    Ok(())
}

pub fn set_outcome(conn: &mut DbConnection, review: Uuid, user: Uuid, outcome: &str) -> Result<(), StoreError> {
    diesel::update(
        access_review_items::table
            .filter(access_review_items::review_id.eq(ids::to_db(review)))
            .filter(access_review_items::user_id.eq(ids::to_db(user))),
    )
    .set(access_review_items::outcome.eq(Some(outcome)))
    .execute(conn)?;
    Ok(())
}

/// Closes an open review; `false` if it was not open (completed meanwhile).
pub fn complete(
    conn: &mut DbConnection,
    review: Uuid,
    by: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let closed = diesel::update(
        access_reviews::table
            .filter(access_reviews::id.eq(ids::to_db(review)))
            .filter(access_reviews::status.eq(ReviewStatus::Open.key())),
    )
    .set((
        access_reviews::status.eq(ReviewStatus::Completed.key()),
        access_reviews::completed_by.eq(by.map(ids::to_db)),
        access_reviews::completed_at.eq(Some(time::to_db(now))),
        access_reviews::next_reminder_at.eq(None::<NaiveDateTime>),
    ))
    .execute(conn)?;
    Ok(closed == 1)
}

/// Records that a member's access was reviewed at `now`.
pub fn mark_reviewed(conn: &mut DbConnection, account: Uuid, user: Uuid, now: DateTime<Utc>) -> Result<(), StoreError> {
    diesel::update(
        memberships::table
            .filter(memberships::account_id.eq(ids::to_db(account)))
            .filter(memberships::user_id.eq(ids::to_db(user))),
    )
    .set(memberships::last_reviewed_at.eq(Some(time::to_db(now))))
    .execute(conn)?;
    Ok(())
}
