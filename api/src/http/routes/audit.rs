//! The audit log of an account: a filtered, paginated listing (newest
//! first) and an export as JSON Lines or CSV that streams page by page, so
//! that a million events never sit in memory.

use std::borrow::Cow;

use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{HttpResponse, get, web};
use chrono::{DateTime, Utc};
use domain::Permission;
use domain::access::Requirement;
use domain::audit::AuditAction;
use domain::plan::Feature;
use persistence::audit::{self, AuditEvent, EventFilter};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::{IntoParams, PartialSchema, ToSchema};
use uuid::Uuid;

use crate::http::access::AccountMember;
use crate::http::pagination::{SequencePageQuery, page_cursor};
use crate::http::problem::{ApiError, field_error};
use crate::http::spreadsheet::SafeCsv;
use crate::http::state::AppState;

/// The list of actions, published as an enum: the same list webhooks
/// subscribe to.
pub struct AuditActionName;

impl PartialSchema for AuditActionName {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some("What happened: a stable dotted key."))
            .enum_values(Some(AuditAction::ALL.iter().map(|action| action.key())))
            .examples([serde_json::json!("member.removed")])
            .into()
    }
}

impl ToSchema for AuditActionName {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("AuditAction")
    }
}

/// Who made a change.
#[derive(Serialize, ToSchema)]
pub struct AuditActor {
    /// `user`, `api_key`, `operator`, `system` or `anonymous`.
    #[serde(rename = "type")]
    #[schema(value_type = AuditActorTypeName)]
    pub kind: String,
    pub id: Option<Uuid>,
    /// The name shown at the time of the change.
    pub name: String,
}

/// Who made a change.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case", example = "user")]
#[allow(dead_code)] // only its schema is used: the view carries the text
pub enum AuditActorTypeName {
    User,
    ApiKey,
    Operator,
    System,
    Anonymous,
    /// An account's directory (SCIM); `id` is its token's.
    Directory,
}

/// What a change was about.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct AuditTarget {
    /// `account`, `user`, `invitation`, `role`, `group`, …
    #[serde(rename = "type")]
    pub kind: String,
    pub id: Uuid,
    pub label: String,
}

#[derive(Serialize, ToSchema)]
#[schema(as = AuditEvent, example = json!({
    "id": "01937a2e-c000-7000-8000-000000000001", "seq": 42, "occurred_at": "2026-11-22T10:00:00Z",
    "action": "member.removed",
    "actor": {"type": "user", "id": "01937a2e-4c1d-7b6a-9f3e-2a1b0c9d8e7f", "name": "Ada Lovelace"},
    "targets": [{"type": "user", "id": "01937a2e-5000-7000-8000-000000000002", "label": "grace@example.com"}],
    "changes": {"assignments": {"before": [{"role": "developer", "group_id": null}], "after": null}},
    "request_id": "0b6a5c8e-1f7d-4c35-9a60-2f1e3d4c5b6a", "client_ip": "203.0.113.7", "user_agent": "curl/8.5.0",
    "prev_hash": "9f2c…", "hash": "4b1d…"
}))]
pub struct AuditEventView {
    pub id: Uuid,
    /// Position in the account's chain, from 1.
    pub seq: i64,
    pub occurred_at: DateTime<Utc>,
    #[schema(value_type = AuditActionName)]
    pub action: String,
    pub actor: AuditActor,
    pub targets: Vec<AuditTarget>,
    /// Each changed field with its value `before` and `after` (null: did
    /// not exist). Secrets and token digests are never recorded.
    #[schema(value_type = Object)]
    pub changes: Value,
    pub request_id: Option<String>,
    pub client_ip: Option<String>,
    pub user_agent: Option<String>,
    /// SHA-256 of the previous event of the account (hex).
    pub prev_hash: String,
    /// SHA-256 over `prev_hash` and this event's content (hex): its ids
    /// and a salted digest of what it says about people, so that erasing a
    /// person (whose names then read as a pseudonym) leaves the chain
    /// verifiable.
    pub hash: String,
}

impl AuditEventView {
    fn new(event: AuditEvent) -> Self {
        AuditEventView {
            id: event.id.parse().unwrap_or_default(),
            seq: event.seq,
            occurred_at: event.occurred_at(),
            actor: AuditActor {
                kind: event.actor_type.clone(),
                id: event.actor_id.as_deref().and_then(|id| id.parse().ok()),
                name: event.actor_name.clone(),
            },
            targets: serde_json::from_str(&event.targets).unwrap_or_default(),
            changes: serde_json::from_str(&event.changes).unwrap_or(Value::Null),
            action: event.action,
            request_id: event.request_id,
            client_ip: event.client_ip,
            user_agent: event.user_agent,
            prev_hash: event.prev_hash,
            hash: event.hash,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct AuditEventPage {
    pub items: Vec<AuditEventView>,
    pub next_cursor: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Only events with this action.
    #[param(value_type = Option<AuditActionName>)]
    pub action: Option<String>,
    /// Only events whose action starts with this, e.g. `member.` (one that
    /// starts no action selects nothing).
    #[param(max_length = 64, pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$", example = "member.")]
    pub action_prefix: Option<String>,
    /// Only events by this actor (a user id).
    pub actor: Option<Uuid>,
    /// Only events about this (a user, invitation, role, group, … id).
    pub target: Option<Uuid>,
    /// Only events at or after this time.
    pub from: Option<DateTime<Utc>>,
    /// Only events before this time (at or before `from`: nothing).
    pub to: Option<DateTime<Utc>>,
}

impl AuditQuery {
    fn filter(&self) -> Result<EventFilter, ApiError> {
        let mut errors = Vec::new();
        if let Some(action) = &self.action
            && AuditAction::parse(action).is_none()
        {
            errors.push(field_error(
                "action",
                domain::InvalidValue::new("unknown_action", format!("There is no action {action:?}.")),
            ));
        }
        if let Some(prefix) = &self.action_prefix
            && (prefix.chars().count() > 64 || prefix.chars().any(char::is_control))
        {
            errors.push(field_error(
                "action_prefix",
                domain::InvalidValue::new("invalid_characters", "Up to 64 characters, no control characters."),
            ));
        }
        if !errors.is_empty() {
            return Err(ApiError::Validation(errors));
        }
        Ok(EventFilter {
            action: self.action.clone(),
            action_prefix: self.action_prefix.clone(),
            actor: self.actor,
            target: self.target,
            from: self.from,
            to: self.to,
        })
    }
}

/// An account's audit log, newest first.
///
/// Every change to the account (members, roles, invitations, links,
/// groups, settings, webhooks) is an event. An event is listed moments
/// after its change, once it has its place in the chain. Needs
/// `audit:read`.
#[utoipa::path(
    tag = "audit", operation_id = "list_audit_events", security(("bearer" = [])),
    params(("account_id" = Uuid, Path, description = "The account"), AuditQuery, SequencePageQuery),
    responses((status = 200, description = "A page of events", body = AuditEventPage)),
    extensions(("x-authorization" = json!(Requirement::account(Permission::AuditRead))))
)]
#[get("/audit-events")]
pub async fn list_audit_events(
    state: web::Data<AppState>,
    member: AccountMember,
    query: web::Query<AuditQuery>,
    page: web::Query<SequencePageQuery>,
) -> Result<HttpResponse, ApiError> {
    let (filter, limit, before) = (query.filter()?, page.limit()?, page.position()?);
    let chain = member.account_id.to_string();
    let mut rows = state.db(move |conn| Ok(audit::list(conn, &chain, &filter, before, limit + 1)?)).await?;
    let next_cursor = page_cursor(&mut rows, limit, |event| event.seq.to_string());
    Ok(HttpResponse::Ok()
        .json(AuditEventPage { items: rows.into_iter().map(AuditEventView::new).collect(), next_cursor }))
}

#[derive(Deserialize, IntoParams, Clone, Copy)]
#[into_params(parameter_in = Query)]
pub struct ExportFormat {
    /// `jsonl` (one event per line, the default) or `csv`.
    #[param(value_type = Option<String>, pattern = "^(jsonl|csv)$")]
    pub format: Option<Format>,
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Jsonl,
    Csv,
}

const CSV_HEADER: [&str; 13] = [
    "seq",
    "occurred_at",
    "action",
    "actor_type",
    "actor_id",
    "actor_name",
    "targets",
    "changes",
    "request_id",
    "client_ip",
    "user_agent",
    "prev_hash",
    "hash",
];

/// Events per database round trip of an export.
const EXPORT_PAGE: i64 = 1_000;

fn encode(events: Vec<AuditEvent>, format: Format, first: bool) -> Result<Bytes, ApiError> {
    match format {
        Format::Jsonl => {
            let mut out = Vec::new();
            for event in events {
                serde_json::to_writer(&mut out, &AuditEventView::new(event)).map_err(ApiError::internal)?;
                out.push(b'\n');
            }
            Ok(Bytes::from(out))
        }
        Format::Csv => {
            let mut csv = if first { SafeCsv::new(&CSV_HEADER)? } else { SafeCsv::continuing() };
            for event in events {
                let (seq, at) = (event.seq.to_string(), event.occurred_at().to_rfc3339());
                csv.row([
                    seq.as_str(),
                    &at,
                    &event.action,
                    &event.actor_type,
                    event.actor_id.as_deref().unwrap_or_default(),
                    &event.actor_name,
                    &event.targets,
                    &event.changes,
                    event.request_id.as_deref().unwrap_or_default(),
                    event.client_ip.as_deref().unwrap_or_default(),
                    event.user_agent.as_deref().unwrap_or_default(),
                    &event.prev_hash,
                    &event.hash,
                ])?;
            }
            Ok(Bytes::from(csv.finish()?))
        }
    }
}

/// Export an account's audit log, newest first, as JSON Lines or CSV.
///
/// The same filters as the listing; the whole log is streamed page by
/// page. CSV cells a spreadsheet would run as a formula are prefixed with
/// `'`. Needs `audit:read`.
#[utoipa::path(
    tag = "audit", operation_id = "export_audit_events", security(("bearer" = [])),
    params(("account_id" = Uuid, Path, description = "The account"), AuditQuery, ExportFormat),
    responses((status = 200, description = "Every matching event", content(
        (String = "application/x-ndjson"),
        (String = "text/csv")
    ))),
    extensions(("x-authorization" = json!(Requirement::account(Permission::AuditRead).needs(Feature::AuditExport))))
)]
#[get("/audit-events/export")]
pub async fn export_audit_events(
    state: web::Data<AppState>,
    member: AccountMember,
    query: web::Query<AuditQuery>,
    format: web::Query<ExportFormat>,
) -> Result<HttpResponse, ApiError> {
    let filter = query.filter()?;
    let format = format.format.unwrap_or(Format::Jsonl);
    Ok(stream_chain(state, member.account_id, filter, format))
}

/// A whole chain (its events that match `filter`), newest first, as a
/// streamed attachment a page of events at a time.
pub(crate) fn stream_chain(
    state: web::Data<AppState>,
    account: Uuid,
    filter: EventFilter,
    format: Format,
) -> HttpResponse {
    let chain = account.to_string();
    // One page per step: (next position, done, first page).
    let pages = futures_util::stream::unfold((None::<i64>, false, true), move |(before, done, first)| {
        let (state, chain, filter) = (state.clone(), chain.clone(), filter.clone());
        async move {
            if done {
                return None;
            }
            let events = state.db(move |conn| Ok(audit::list(conn, &chain, &filter, before, EXPORT_PAGE)?)).await;
            let events = match events {
                Ok(events) => events,
                Err(error) => return Some((Err(error), (before, true, false))),
            };
            let last = events.last().map(|event| event.seq);
            let finished = (events.len() as i64) < EXPORT_PAGE;
            let chunk = encode(events, format, first);
            Some((chunk, (last.or(before), finished, false)))
        }
    });
    let (content_type, extension) = match format {
        Format::Jsonl => ("application/x-ndjson", "jsonl"),
        Format::Csv => ("text/csv; charset=utf-8", "csv"),
    };
    let file = format!("attachment; filename=\"audit-{account}.{extension}\"");
    HttpResponse::Ok().content_type(content_type).insert_header((header::CONTENT_DISPOSITION, file)).streaming(pages)
}
