use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, patch, web};
use domain::Permission;
use domain::access::Requirement;
use domain::invitation::{EmailPolicy, InvitationPreferences, InvitationTtl, ReminderSchedule};
use persistence::accounts;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::flows::Origin;
use crate::flows::accounts::{self as flows, PreferencesChange};
use crate::http::access::AccountMember;
use crate::http::extract::JsonBody;
use crate::http::problem::{ApiError, Problem, field_error};
use crate::http::state::{AppState, RunFlow};

#[derive(Serialize, ToSchema)]
#[schema(example = json!({"invitation_ttl_days": 90, "reminder_days": [3, 14, 60], "invitation_email_policy": "any", "invitations_restricted_to_domains": false}))]
pub struct PreferencesView {
    /// Days an invitation stays valid after it is sent (1 to 365).
    pub invitation_ttl_days: u16,
    /// Days after sending on which pending invitations are re-sent.
    pub reminder_days: Vec<u16>,
    /// `any`, or `new_users_only` (refuse emails that already have a user).
    pub invitation_email_policy: &'static str,
    /// Only emails at the account's verified domains may be invited (by
    /// batch or spreadsheet) or join through a link; others are refused
    /// with `email_domain_not_allowed`.
    pub invitations_restricted_to_domains: bool,
}

impl From<InvitationPreferences> for PreferencesView {
    fn from(preferences: InvitationPreferences) -> Self {
        PreferencesView {
            invitation_ttl_days: preferences.ttl.days(),
            reminder_days: preferences.reminders.days().to_vec(),
            invitation_email_policy: preferences.email_policy.key(),
            invitations_restricted_to_domains: preferences.restricted_to_domains,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"invitation_ttl_days": 30, "invitation_email_policy": "new_users_only"}))]
pub struct PreferencesPatch {
    /// Days a new invitation is valid, 1 to 365.
    #[schema(minimum = 1, maximum = 365)]
    #[serde(default, deserialize_with = "crate::http::extract::whole::option")]
    pub invitation_ttl_days: Option<i64>,
    /// Days after sending on which reminders go out: each 1 to 365, once
    /// each, at most ten (kept in increasing order).
    #[schema(schema_with = reminder_days_schema)]
    #[serde(default, deserialize_with = "crate::http::extract::whole::option_list")]
    pub reminder_days: Option<Vec<i64>>,
    /// Who may be invited: `any`, or `new_users_only` (people without a
    /// Roster user yet).
    #[schema(value_type = Option<EmailPolicyName>)]
    pub invitation_email_policy: Option<String>,
    /// Invite only emails at the account's verified domains.
    pub invitations_restricted_to_domains: Option<bool>,
}

fn reminder_days_schema() -> utoipa::openapi::schema::Array {
    use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, SchemaType, Type};
    let day = ObjectBuilder::new().schema_type(Type::Integer).minimum(Some(1)).maximum(Some(365));
    ArrayBuilder::new()
        .schema_type(SchemaType::from_iter([Type::Array, Type::Null]))
        .items(day)
        .max_items(Some(domain::invitation::ReminderSchedule::MAX_REMINDERS))
        .unique_items(true)
        .build()
}

/// An invitation email policy.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case", example = "new_users_only")]
#[allow(dead_code)] // only its schema is used: the patch parses the text
pub enum EmailPolicyName {
    Any,
    NewUsersOnly,
}

/// The account's invitation preferences; `ETag` is their version.
#[utoipa::path(
    tag = "accounts", operation_id = "get_preferences", security(("bearer" = [])),
    params(("account_id" = Uuid, Path, description = "The account")),
    responses((status = 200, description = "The preferences; `ETag` is their version", body = PreferencesView)),
    extensions(("x-authorization" = json!(Requirement::account(Permission::SettingsManage))))
)]
#[get("/preferences")]
pub async fn get_preferences(state: web::Data<AppState>, member: AccountMember) -> Result<HttpResponse, ApiError> {
    let account = member.account_id;
    let preferences =
        state.db(move |conn| Ok(accounts::invitation_preferences(conn, account)?)).await?.ok_or(ApiError::NotFound)?;
    Ok(with_tag(preferences))
}

fn with_tag(preferences: InvitationPreferences) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::ETAG, flows::preferences_tag(&preferences)))
        .json(PreferencesView::from(preferences))
}

/// Change invitation preferences; omitted fields keep their value. Send
/// their `ETag` as `If-Match` (428 without it, 412 when stale).
#[utoipa::path(
    tag = "accounts", operation_id = "update_preferences", security(("bearer" = [])), request_body = PreferencesPatch,
    params(("account_id" = Uuid, Path, description = "The account"), ("If-Match" = String, Header, description = "The ETag last read; without it the answer is 428, with a stale one 412")),
    responses(
        (status = 200, description = "The updated preferences; `ETag` is their new version", body = PreferencesView),
        (status = 412, description = "Changed since read (`precondition_failed`)", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing (`precondition_required`)", body = Problem, content_type = "application/problem+json"),
    ),
    extensions(("x-authorization" = json!(Requirement::account(Permission::SettingsManage))))
)]
#[patch("/preferences")]
pub async fn update_preferences(
    state: web::Data<AppState>,
    member: AccountMember,
    origin: Origin,
    request: HttpRequest,
    body: JsonBody<PreferencesPatch>,
) -> Result<HttpResponse, ApiError> {
    let patch = body.0;
    let mut errors = Vec::new();
    let ttl = patch
        .invitation_ttl_days
        .map(InvitationTtl::from_days)
        .transpose()
        .map_err(|e| errors.push(field_error("invitation_ttl_days", e)))
        .ok()
        .flatten();
    let reminders = patch
        .reminder_days
        .as_deref()
        .map(ReminderSchedule::from_days)
        .transpose()
        .map_err(|e| errors.push(field_error("reminder_days", e)))
        .ok()
        .flatten();
    let policy = patch
        .invitation_email_policy
        .as_deref()
        .map(EmailPolicy::parse)
        .transpose()
        .map_err(|e| errors.push(field_error("invitation_email_policy", e)))
        .ok()
        .flatten();
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let change = PreferencesChange {
        ttl,
        reminders,
        email_policy: policy,
        restricted_to_domains: patch.invitations_restricted_to_domains,
    };
    let account = member.account_id;
    let tag = crate::http::headers::if_match(&request);
    let updated = state
        .flow(member.actor(), origin, move |conn, ctx| {
            flows::update_preferences(conn, ctx, account, change, tag.as_deref())
        })
        .await?;
    Ok(with_tag(updated))
}
