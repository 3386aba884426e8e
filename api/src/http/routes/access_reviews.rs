//! Access reviews: start one over the account or a group, decide per
//! member, complete it (every decision applied at once), export the
//! report; and the account's policy for the undecided and its schedule.
//! Needs `access_reviews:manage` (account-wide, or in the group reviewed)
//! and the plan's `access_reviews` feature.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, patch, post, put, web};
use chrono::{DateTime, Utc};
use domain::access::Requirement;
use domain::access_review::{self as rules, Decision, HeldAssignment, UndecidedPolicy};
use domain::plan::Feature;
use domain::{Description, Permission};
use persistence::access_reviews::{Item, Review, ReviewSettings};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::flows::Origin;
use crate::flows::access_reviews::{self as flows, ReviewRequest, SettingsChange};
use crate::http::access::AccountMember;
use crate::http::extract::JsonBody;
use crate::http::headers::if_match;
use crate::http::pagination::PageQuery;
use crate::http::problem::{ApiError, ParseFields, Problem};
use crate::http::routes::members::{AssignmentRequest, AssignmentView};
use crate::http::schemas::required_free_text_schema;
use crate::http::spreadsheet::SafeCsv;
use crate::http::state::{AppState, RunFlow};

const MANAGE: Requirement = Requirement::in_any_group(Permission::AccessReviewsManage).needs(Feature::AccessReviews);
const SETTINGS: Requirement = Requirement::account(Permission::AccessReviewsManage).needs(Feature::AccessReviews);

fn assignment_view(held: &HeldAssignment) -> AssignmentView {
    AssignmentView { role: held.role.clone(), group_id: held.group_id }
}

#[derive(Serialize, ToSchema)]
#[schema(example = json!({"user_id": "01937a2e-7000-7000-8000-000000000002", "email": "ada@example.com"}))]
pub struct ReviewerView {
    pub user_id: Uuid,
    pub email: String,
}

/// An access review.
#[derive(Serialize, ToSchema)]
#[schema(as = AccessReview, example = json!({
    "id": "01937a2e-7000-7000-8000-000000000010", "group_id": null, "group_name": null, "status": "open",
    "undecided": "keep_and_flag", "due_at": "2026-12-06T10:00:00Z", "started_by": "01937a2e-7000-7000-8000-000000000002",
    "started_at": "2026-11-22T10:00:00Z", "completed_by": null, "completed_at": null,
    "reviewers": [{"user_id": "01937a2e-7000-7000-8000-000000000002", "email": "ada@example.com"}]
}))]
pub struct ReviewView {
    pub id: Uuid,
    /// A group review's group; null: the whole account.
    pub group_id: Option<Uuid>,
    pub group_name: Option<String>,
    /// `open` or `completed`.
    #[schema(value_type = ReviewStatusName)]
    pub status: &'static str,
    /// What happens to members nobody decided on: `keep_and_flag` or `revoke`.
    #[schema(value_type = UndecidedName)]
    pub undecided: &'static str,
    pub due_at: DateTime<Utc>,
    /// Null: the account's schedule started it.
    pub started_by: Option<Uuid>,
    pub started_at: DateTime<Utc>,
    /// Null while open, or when the due date completed it.
    pub completed_by: Option<Uuid>,
    pub completed_at: Option<DateTime<Utc>>,
    pub reviewers: Vec<ReviewerView>,
}

impl From<Review> for ReviewView {
    fn from(review: Review) -> Self {
        ReviewView {
            id: review.id,
            group_id: review.group_id,
            group_name: review.group_name,
            status: review.status.key(),
            undecided: review.undecided.key(),
            due_at: review.due_at,
            started_by: review.started_by,
            started_at: review.started_at,
            completed_by: review.completed_by,
            completed_at: review.completed_at,
            reviewers: review
                .reviewers
                .into_iter()
                .map(|r| ReviewerView { user_id: r.user_id, email: r.email })
                .collect(),
        }
    }
}

/// One member in a review: their access when it began, and the decision.
#[derive(Serialize, ToSchema)]
#[schema(as = AccessReviewItem, example = json!({
    "user_id": "01937a2e-7000-7000-8000-000000000003", "email": "grace@example.com",
    "assignments": [{"role": "billing", "group_id": null}, {"role": "support", "group_id": null}],
    "permissions": ["members:read", "settings:read"],
    "last_active_at": "2026-11-20T09:00:00Z", "last_reviewed_at": null, "decision": "reduce",
    "kept": [{"role": "support", "group_id": null}], "comment": "Moved to support", "decided_by": "01937a2e-7000-7000-8000-000000000002",
    "decided_at": "2026-11-23T10:00:00Z", "flagged": false, "outcome": null
}))]
pub struct ItemView {
    pub user_id: Uuid,
    pub email: String,
    /// The roles the review covers, as held when it began.
    pub assignments: Vec<AssignmentView>,
    /// The effective permissions then (in a group review: in that group).
    pub permissions: Vec<String>,
    pub last_active_at: Option<DateTime<Utc>>,
    /// When a review last decided on this member before this one.
    pub last_reviewed_at: Option<DateTime<Utc>>,
    /// `keep`, `reduce`, `remove`, or null: undecided.
    #[schema(value_type = Option<DecisionName>)]
    pub decision: Option<&'static str>,
    /// For `reduce`: the assignments kept.
    pub kept: Vec<AssignmentView>,
    pub comment: Option<String>,
    pub decided_by: Option<Uuid>,
    pub decided_at: Option<DateTime<Utc>>,
    /// Undecided past the due date (or at completion): kept, but flagged.
    pub flagged: bool,
    /// Once completed: `kept`, `reduced`, `removed`, `kept_flagged`,
    /// `revoked` or `no_longer_a_member`.
    #[schema(value_type = Option<ReviewOutcomeName>)]
    pub outcome: Option<String>,
}

/// Where an access review stands.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case", example = "open")]
#[allow(dead_code)] // only its schema is used: the view carries the text
pub enum ReviewStatusName {
    Open,
    Completed,
}

/// What a completed review did to a member.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case", example = "kept")]
#[allow(dead_code)] // only its schema is used: the view carries the text
pub enum ReviewOutcomeName {
    Kept,
    Reduced,
    Removed,
    KeptFlagged,
    Revoked,
    NoLongerAMember,
}

fn item_view(item: Item, review: &Review, now: DateTime<Utc>) -> ItemView {
    let kept = match &item.decision {
        Some(Decision::Reduce(kept)) => kept.iter().map(assignment_view).collect(),
        _ => Vec::new(),
    };
    let overdue = review.completed_at.is_some() || now >= review.due_at;
    ItemView {
        user_id: item.user_id,
        email: item.email,
        assignments: item.assignments.iter().map(assignment_view).collect(),
        permissions: item.permissions,
        last_active_at: item.last_active_at,
        last_reviewed_at: item.last_reviewed_at,
        decision: item.decision.as_ref().map(Decision::key),
        kept,
        comment: item.comment,
        decided_by: item.decided_by,
        decided_at: item.decided_at,
        flagged: item.decision.is_none() && overdue,
        outcome: item.outcome,
    }
}

/// A review with every member in it: the report.
#[derive(Serialize, ToSchema)]
#[schema(as = AccessReviewReport, example = json!({
    "id": "01937a2e-7000-7000-8000-000000000010", "group_id": null, "group_name": null, "status": "completed",
    "undecided": "keep_and_flag", "due_at": "2026-12-06T10:00:00Z", "started_by": "01937a2e-7000-7000-8000-000000000002",
    "started_at": "2026-11-22T10:00:00Z", "completed_by": "01937a2e-7000-7000-8000-000000000002",
    "completed_at": "2026-11-30T10:00:00Z",
    "reviewers": [{"user_id": "01937a2e-7000-7000-8000-000000000002", "email": "ada@example.com"}],
    "items": [{
        "user_id": "01937a2e-7000-7000-8000-000000000003", "email": "grace@example.com",
        "assignments": [{"role": "billing", "group_id": null}, {"role": "support", "group_id": null}],
        "permissions": ["members:read", "settings:read"], "last_active_at": "2026-11-20T09:00:00Z",
        "last_reviewed_at": null, "decision": "reduce", "kept": [{"role": "support", "group_id": null}],
        "comment": "Moved to support", "decided_by": "01937a2e-7000-7000-8000-000000000002",
        "decided_at": "2026-11-23T10:00:00Z", "flagged": false, "outcome": "reduced"
    }]
}))]
pub struct ReportView {
    #[serde(flatten)]
    pub review: ReviewView,
    pub items: Vec<ItemView>,
}

fn report(review: Review, items: Vec<Item>, now: DateTime<Utc>) -> ReportView {
    let items = items.into_iter().map(|item| item_view(item, &review, now)).collect();
    ReportView { review: ReviewView::from(review), items }
}

#[derive(Serialize, ToSchema)]
pub struct ReviewPage {
    pub items: Vec<ReviewView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"group_id": null, "due_at": "2026-12-06T10:00:00Z"}))]
pub struct NewReviewRequest {
    /// Review one group's members and their roles in it; omit for the
    /// whole account.
    pub group_id: Option<Uuid>,
    /// Who decides: members holding `access_reviews:manage` there. Omit
    /// for all of them.
    #[schema(min_items = 1, max_items = 50)]
    pub reviewers: Option<Vec<Uuid>>,
    /// Within a year from now.
    pub due_at: DateTime<Utc>,
}

/// Start an access review of the account or one group. It snapshots each
/// member's roles, effective permissions, last activity and last review,
/// and emails the reviewers.
#[utoipa::path(
    tag = "access-reviews", operation_id = "start_access_review", security(("bearer" = [])), request_body = NewReviewRequest,
    params(("account_id" = Uuid, Path, description = "The account")),
    responses(
        (status = 201, description = "The review, open", body = ReviewView),
        (status = 422, description = "`validation_failed`, the field errors naming a due date in the past or too far (`due_at`: `in_the_past`, `too_far`), an unknown group (`unknown_group`), a reviewer who may not review there (`not_a_reviewer`)", body = Problem, content_type = "application/problem+json"),
    ),
    extensions(("x-authorization" = json!(MANAGE)))
)]
#[post("/access-reviews")]
pub async fn start_access_review(
    state: web::Data<AppState>,
    member: AccountMember,
    origin: Origin,
    body: JsonBody<NewReviewRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    if body.reviewers.as_ref().is_some_and(|r| r.is_empty() || r.len() > 50) {
        return Err(ApiError::field("reviewers", "out_of_range", "Name 1 to 50 reviewers, or omit for all."));
    }
    let (account, by) = (member.account_id, member.grantor());
    let request = ReviewRequest { group: body.group_id, reviewers: body.reviewers, due_at: body.due_at };
    let review = state
        .flow(member.actor(), origin, move |conn, ctx| flows::start(conn, ctx, Some(&by), account, &request))
        .await?;
    let location = format!("/v1/accounts/{account}/access-reviews/{}", review.id);
    Ok(HttpResponse::Created().insert_header((header::LOCATION, location)).json(ReviewView::from(review)))
}

/// The account's access reviews I may see, newest first.
#[utoipa::path(
    tag = "access-reviews", operation_id = "list_access_reviews", security(("bearer" = [])),
    params(("account_id" = Uuid, Path, description = "The account"), PageQuery),
    responses((status = 200, description = "A page of reviews", body = ReviewPage)),
    extensions(("x-authorization" = json!(MANAGE)))
)]
#[get("/access-reviews")]
pub async fn list_access_reviews(
    state: web::Data<AppState>,
    member: AccountMember,
    origin: Origin,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let (limit, cursor, account, by) = (page.limit()?, page.cursor()?, member.account_id, member.grantor());
    let (rows, next) = state
        .flow(member.actor(), origin, move |conn, ctx| flows::list(conn, ctx, &by, account, cursor, limit))
        .await?;
    let (items, next_cursor) = (rows.into_iter().map(ReviewView::from).collect(), next.map(|id| id.to_string()));
    Ok(HttpResponse::Ok().json(ReviewPage { items, next_cursor }))
}

/// A review with each member's snapshot and decision.
#[utoipa::path(
    tag = "access-reviews", operation_id = "get_access_review", security(("bearer" = [])),
    params(("account_id" = Uuid, Path, description = "The account"), ("review_id" = Uuid, Path, description = "The review")),
    responses((status = 200, description = "The review and its members", body = ReportView)),
    extensions(("x-authorization" = json!(MANAGE)))
)]
#[get("/access-reviews/{review_id}")]
pub async fn get_access_review(
    state: web::Data<AppState>,
    member: AccountMember,
    origin: Origin,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let (account, id) = path.into_inner();
    let by = member.grantor();
    let (review, items) =
        state.flow(member.actor(), origin, move |conn, ctx| flows::read(conn, ctx, &by, account, id)).await?;
    Ok(HttpResponse::Ok().json(report(review, items, state.clock.now())))
}

/// A reviewer's decision on one member, with the reason: `reduce` names the
/// assignments to keep, `keep` and `remove` name none.
#[derive(Deserialize, ToSchema)]
#[serde(tag = "decision", rename_all = "snake_case", deny_unknown_fields)]
#[schema(example = json!({"decision": "reduce", "roles": [{"role": "support", "group_id": null}], "comment": "Moved to support in October"}))]
pub enum DecisionRequest {
    Keep {
        #[schema(schema_with = required_free_text_schema)]
        comment: String,
    },
    Reduce {
        /// Which of the member's assignments to keep: some, not all.
        #[schema(min_items = 1, max_items = 100)]
        roles: Vec<AssignmentRequest>,
        #[schema(schema_with = required_free_text_schema)]
        comment: String,
    },
    Remove {
        #[schema(schema_with = required_free_text_schema)]
        comment: String,
    },
}

impl DecisionRequest {
    fn parse(self) -> Result<(Decision, Description), ApiError> {
        let (decision, comment) = match self {
            DecisionRequest::Keep { comment } => (Decision::Keep, comment),
            DecisionRequest::Remove { comment } => (Decision::Remove, comment),
            DecisionRequest::Reduce { roles, comment } => (
                Decision::Reduce(
                    roles.into_iter().map(|r| HeldAssignment { role: r.role, group_id: r.group_id }).collect(),
                ),
                comment,
            ),
        };
        let comment = Description::parse(&comment).map_err(|e| ApiError::field("comment", e.code, e.message))?;
        if comment.as_str().is_empty() {
            return Err(ApiError::field("comment", "required", "Say why, in a few words."));
        }
        Ok((decision, comment))
    }
}

/// A reviewer's decision.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case", example = "keep")]
#[allow(dead_code)] // only its schema is used: the request parses the text
pub enum DecisionName {
    Keep,
    Reduce,
    Remove,
}

/// Decide on one member: keep, reduce to some of their roles, or remove.
/// Nobody decides on their own access. Takes effect when the review is
/// completed; until then a decision can be changed.
#[utoipa::path(
    tag = "access-reviews", operation_id = "decide_access_review_item", security(("bearer" = [])), request_body = DecisionRequest,
    params(("account_id" = Uuid, Path, description = "The account"), ("review_id" = Uuid, Path, description = "The review"), ("user_id" = Uuid, Path, description = "The member decided on")),
    responses(
        (status = 200, description = "The member's line with the decision", body = ItemView),
        (status = 403, description = "Your own access (`self_review`), not a reviewer of this review (`not_a_reviewer`), or an owner's access without being an owner (`owner_only`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The review is completed (`review_closed`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`, the field errors naming a reduction to roles the member did not hold, or to none (`roles`: `not_a_subset`)", body = Problem, content_type = "application/problem+json"),
    ),
    extensions(("x-authorization" = json!(MANAGE)))
)]
#[put("/access-reviews/{review_id}/decisions/{user_id}")]
pub async fn decide_access_review_item(
    state: web::Data<AppState>,
    member: AccountMember,
    origin: Origin,
    path: web::Path<(Uuid, Uuid, Uuid)>,
    body: JsonBody<DecisionRequest>,
) -> Result<HttpResponse, ApiError> {
    let (account, id, user) = path.into_inner();
    let (decision, comment) = body.0.parse()?;
    let (by, at) = (member.grantor(), flows::ItemRef { account, review: id, user });
    let (review, item) = state
        .flow(member.actor(), origin, move |conn, ctx| flows::decide(conn, ctx, &by, at, &decision, comment.as_str()))
        .await?;
    Ok(HttpResponse::Ok().json(item_view(item, &review, state.clock.now())))
}

/// Complete a review: every decision is applied in one transaction (roles
/// taken away, members removed), the undecided follow the review's policy,
/// and each change is in the audit log. Only its reviewers complete it.
#[utoipa::path(
    tag = "access-reviews", operation_id = "complete_access_review", security(("bearer" = [])),
    params(("account_id" = Uuid, Path, description = "The account"), ("review_id" = Uuid, Path, description = "The review")),
    responses(
        (status = 200, description = "The completed review and what happened to each member", body = ReportView),
        (status = 403, description = "Not a reviewer of this review (`not_a_reviewer`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already completed (`review_closed`), or it would leave the account without an owner (`last_owner`)", body = Problem, content_type = "application/problem+json"),
    ),
    extensions(("x-authorization" = json!(MANAGE)))
)]
#[post("/access-reviews/{review_id}/complete")]
pub async fn complete_access_review(
    state: web::Data<AppState>,
    member: AccountMember,
    origin: Origin,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let (account, id) = path.into_inner();
    let by = member.grantor();
    let (review, items) =
        state.flow(member.actor(), origin, move |conn, ctx| flows::complete(conn, ctx, Some(&by), account, id)).await?;
    Ok(HttpResponse::Ok().json(report(review, items, state.clock.now())))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportFormat {
    /// `json` (the default) or `csv`.
    #[param(inline, value_type = Option<ReportFormatName>)]
    pub format: Option<String>,
}

/// A report's format.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)] // only its schema is used
pub enum ReportFormatName {
    Json,
    Csv,
}

const CSV_HEADER: [&str; 13] = [
    "user_id",
    "email",
    "roles",
    "permissions",
    "last_active_at",
    "last_reviewed_at",
    "decision",
    "kept_roles",
    "comment",
    "decided_by",
    "decided_at",
    "flagged",
    "outcome",
];

fn roles_cell(assignments: &[AssignmentView]) -> String {
    let named: Vec<String> = assignments
        .iter()
        .map(|a| match a.group_id {
            Some(group) => format!("{}@{group}", a.role),
            None => a.role.clone(),
        })
        .collect();
    named.join(" ")
}

fn csv_of(report: &ReportView) -> Result<Vec<u8>, ApiError> {
    let mut csv = SafeCsv::new(&CSV_HEADER)?;
    let time = |at: Option<DateTime<Utc>>| at.map(|at| at.to_rfc3339()).unwrap_or_default();
    for item in &report.items {
        let cells = [
            item.user_id.to_string(),
            item.email.clone(),
            roles_cell(&item.assignments),
            item.permissions.join(" "),
            time(item.last_active_at),
            time(item.last_reviewed_at),
            item.decision.unwrap_or_default().to_owned(),
            roles_cell(&item.kept),
            item.comment.clone().unwrap_or_default(),
            item.decided_by.map(|id| id.to_string()).unwrap_or_default(),
            time(item.decided_at),
            item.flagged.to_string(),
            item.outcome.clone().unwrap_or_default(),
        ];
        csv.row(cells.iter().map(String::as_str))?;
    }
    csv.finish()
}

/// The review's report, as JSON or CSV (cells a spreadsheet would run as a
/// formula are prefixed with `'`).
#[utoipa::path(
    tag = "access-reviews", operation_id = "export_access_review", security(("bearer" = [])),
    params(("account_id" = Uuid, Path, description = "The account"), ("review_id" = Uuid, Path, description = "The review"), ReportFormat),
    responses((status = 200, description = "The report", content(
        (ReportView = "application/json"),
        (String = "text/csv")
    ))),
    extensions(("x-authorization" = json!(MANAGE)))
)]
#[get("/access-reviews/{review_id}/report")]
pub async fn export_access_review(
    state: web::Data<AppState>,
    member: AccountMember,
    origin: Origin,
    path: web::Path<(Uuid, Uuid)>,
    format: web::Query<ReportFormat>,
) -> Result<HttpResponse, ApiError> {
    let (account, id) = path.into_inner();
    let csv = match format.format.as_deref() {
        None | Some("json") => false,
        Some("csv") => true,
        Some(_) => return Err(ApiError::field("format", "unknown_format", "Use json or csv.")),
    };
    let by = member.grantor();
    let (review, items) =
        state.flow(member.actor(), origin, move |conn, ctx| flows::read(conn, ctx, &by, account, id)).await?;
    let report = report(review, items, state.clock.now());
    if !csv {
        return Ok(HttpResponse::Ok().json(report));
    }
    let file = format!("attachment; filename=\"access-review-{id}.csv\"");
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((header::CONTENT_DISPOSITION, file))
        .body(csv_of(&report)?))
}

/// How the account runs access reviews.
#[derive(Serialize, ToSchema)]
#[schema(as = AccessReviewSettings, example = json!({"undecided": "keep_and_flag", "every_days": 90, "due_in_days": 14, "next_start_at": "2027-02-20T10:00:00Z"}))]
pub struct SettingsView {
    /// Members nobody decided on by the due date: `keep_and_flag` (the
    /// default: kept, flagged in the report) or `revoke` (removed when the
    /// due date completes the review; never owners).
    #[schema(value_type = UndecidedName)]
    pub undecided: &'static str,
    /// A review of the whole account starts by itself this often; null: off.
    pub every_days: Option<u16>,
    /// Scheduled reviews are due this many days after they start.
    pub due_in_days: u16,
    /// When the schedule starts the next one.
    pub next_start_at: Option<DateTime<Utc>>,
}

fn settings_response(settings: ReviewSettings) -> HttpResponse {
    HttpResponse::Ok().insert_header((header::ETAG, flows::settings_tag(&settings))).json(SettingsView {
        undecided: settings.undecided.key(),
        every_days: settings.every_days,
        due_in_days: settings.due_in_days,
        next_start_at: settings.next_start_at,
    })
}

/// The account's access review policy and schedule; `ETag` is their version.
#[utoipa::path(
    tag = "access-reviews", operation_id = "get_access_review_settings", security(("bearer" = [])),
    params(("account_id" = Uuid, Path, description = "The account")),
    responses((status = 200, description = "The settings; `ETag` is their version", body = SettingsView)),
    extensions(("x-authorization" = json!(SETTINGS)))
)]
#[get("/access-review-settings")]
pub async fn get_access_review_settings(
    state: web::Data<AppState>,
    member: AccountMember,
) -> Result<HttpResponse, ApiError> {
    let account = member.account_id;
    let settings = state.db(move |conn| Ok(persistence::access_reviews::settings(conn, account)?)).await?;
    Ok(settings_response(settings))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"undecided": "revoke", "every_days": 90}))]
pub struct SettingsPatch {
    #[schema(value_type = Option<UndecidedName>)]
    pub undecided: Option<String>,
    /// 7 to 3650; null turns the schedule off.
    #[schema(minimum = 7, maximum = 3650)]
    #[serde(default, deserialize_with = "present")]
    pub every_days: Option<Option<i64>>,
    /// 1 to 365.
    #[schema(minimum = 1, maximum = 365)]
    #[serde(default, deserialize_with = "crate::http::extract::whole::option")]
    pub due_in_days: Option<i64>,
}

/// A field sent, even as null (`Some(None)`), against one left out (`None`).
fn present<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<Option<i64>>, D::Error> {
    crate::http::extract::whole::option(deserializer).map(Some)
}

/// What happens to members nobody decided on.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case", example = "keep_and_flag")]
#[allow(dead_code)] // only its schema is used: the patch parses the text
pub enum UndecidedName {
    KeepAndFlag,
    Revoke,
}

/// Change the policy or the schedule; omitted fields keep their value.
/// Send the settings' `ETag` as `If-Match`.
#[utoipa::path(
    tag = "access-reviews", operation_id = "update_access_review_settings", security(("bearer" = [])), request_body = SettingsPatch,
    params(("account_id" = Uuid, Path, description = "The account"), ("If-Match" = String, Header, description = "The ETag last read; without it the answer is 428, with a stale one 412")),
    responses(
        (status = 200, description = "The settings now; `ETag` is their new version", body = SettingsView),
        (status = 412, description = "Changed since read (`precondition_failed`)", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing (`precondition_required`)", body = Problem, content_type = "application/problem+json"),
    ),
    extensions(("x-authorization" = json!(SETTINGS)))
)]
#[patch("/access-review-settings")]
pub async fn update_access_review_settings(
    state: web::Data<AppState>,
    member: AccountMember,
    origin: Origin,
    request: HttpRequest,
    body: JsonBody<SettingsPatch>,
) -> Result<HttpResponse, ApiError> {
    let patch = body.0;
    let (undecided, every_days, due_in_days) = (
        ("undecided", patch.undecided.as_deref().map(UndecidedPolicy::parse).transpose()),
        ("every_days", patch.every_days.map(|days| days.map(rules::check_every_days).transpose()).transpose()),
        ("due_in_days", patch.due_in_days.map(rules::check_due_in_days).transpose()),
    )
        .parse_fields()?;
    let change = SettingsChange { undecided, every_days, due_in_days };
    let (account, tag) = (member.account_id, if_match(&request));
    let settings = state
        .flow(member.actor(), origin, move |conn, ctx| {
            flows::update_settings(conn, ctx, account, &change, tag.as_deref())
        })
        .await?;
    Ok(settings_response(settings))
}
