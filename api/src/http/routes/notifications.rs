//! Which non-transactional emails a member gets: their own choices per
//! account, the account's defaults (administrators), and the one-click
//! unsubscribe link those emails carry (RFC 8058).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use domain::Permission;
use domain::access::Requirement;
use domain::notification::{Choices, Topic};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::flows::notifications as flows;
use crate::flows::{Actor, Origin};
use crate::http::access::AccountMember;
use crate::http::caller::CurrentUser;
use crate::http::extract::{FormBody, JsonBody};
use crate::http::headers::if_match;
use crate::http::problem::{ApiError, Problem, field_error};
use crate::http::state::{AppState, RunFlow};

/// Whether each kind of non-transactional email is sent. Invitations,
/// address verification and password emails are always sent.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"join_requests": true, "import_reports": true, "access_review_reminders": true, "security_notices": false, "welcome": true}))]
pub struct NotificationPreferences {
    /// Someone asked to join through a join link (to those who review).
    pub join_requests: bool,
    /// A spreadsheet import finished (to whoever uploaded it).
    pub import_reports: bool,
    /// An access review waits for my decisions (to its reviewers).
    pub access_review_reminders: bool,
    /// New API keys, account links, ownership changes, disabled webhooks.
    pub security_notices: bool,
    /// The account's directory added me (how to sign in).
    pub welcome: bool,
}

impl From<Choices> for NotificationPreferences {
    fn from(choices: Choices) -> Self {
        let on = |topic| choices.get(&topic).copied().unwrap_or(true);
        NotificationPreferences {
            join_requests: on(Topic::JoinRequests),
            import_reports: on(Topic::ImportReports),
            access_review_reminders: on(Topic::AccessReviewReminders),
            security_notices: on(Topic::SecurityNotices),
            welcome: on(Topic::Welcome),
        }
    }
}

/// A change of preferences: topics omitted keep their value. Naming a
/// transactional email (`invitations`, `password_reset`, …) is refused
/// with `transactional_email`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"security_notices": false}))]
pub struct NotificationPreferencesPatch {
    pub join_requests: Option<bool>,
    pub import_reports: Option<bool>,
    pub access_review_reminders: Option<bool>,
    pub security_notices: Option<bool>,
    pub welcome: Option<bool>,
    // Transactional emails: named only to be refused by name.
    #[schema(ignore)]
    pub invitations: Option<Value>,
    #[schema(ignore)]
    pub email_verification: Option<Value>,
    #[schema(ignore)]
    pub password_reset: Option<Value>,
    #[schema(ignore)]
    pub email_change: Option<Value>,
}

impl NotificationPreferencesPatch {
    fn into_choices(self) -> Result<Choices, ApiError> {
        let transactional = [
            ("invitations", &self.invitations),
            ("email_verification", &self.email_verification),
            ("password_reset", &self.password_reset),
            ("email_change", &self.email_change),
        ];
        let errors: Vec<_> = transactional
            .into_iter()
            .filter(|(_, sent)| sent.is_some())
            .filter_map(|(key, _)| Topic::parse(key).err().map(|refused| field_error(key, refused)))
            .collect();
        if !errors.is_empty() {
            return Err(ApiError::Validation(errors));
        }
        let named = [
            (Topic::JoinRequests, self.join_requests),
            (Topic::ImportReports, self.import_reports),
            (Topic::AccessReviewReminders, self.access_review_reminders),
            (Topic::SecurityNotices, self.security_notices),
            (Topic::Welcome, self.welcome),
        ];
        Ok(named.into_iter().filter_map(|(topic, on)| on.map(|on| (topic, on))).collect())
    }
}

/// Which emails I get from an account.
#[utoipa::path(
    tag = "me", operation_id = "get_my_notification_preferences", security(("bearer" = [])),
    params(("account_id" = Uuid, Path, description = "An account I am a member of")),
    responses((status = 200, description = "My preferences there", body = NotificationPreferences))
)]
#[get("/me/accounts/{account_id}/notification-preferences")]
pub async fn get_my_notification_preferences(
    state: web::Data<AppState>,
    me: CurrentUser,
    account: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let account = account.into_inner();
    let choices = state.db(move |conn| Ok(flows::of_member(conn, account, me.id)?)).await?;
    Ok(HttpResponse::Ok().json(NotificationPreferences::from(choices)))
}

/// Choose which emails I get from an account; topics omitted keep their
/// value. Transactional emails cannot be turned off.
#[utoipa::path(
    tag = "me", operation_id = "update_my_notification_preferences", security(("bearer" = [])),
    request_body = NotificationPreferencesPatch,
    params(("account_id" = Uuid, Path, description = "An account I am a member of")),
    responses((status = 200, description = "My preferences there now", body = NotificationPreferences))
)]
#[patch("/me/accounts/{account_id}/notification-preferences")]
pub async fn update_my_notification_preferences(
    state: web::Data<AppState>,
    me: CurrentUser,
    origin: Origin,
    account: web::Path<Uuid>,
    body: JsonBody<NotificationPreferencesPatch>,
) -> Result<HttpResponse, ApiError> {
    let (account, change) = (account.into_inner(), body.0.into_choices()?);
    let choices = state
        .flow(Actor::User(me.id), origin, move |conn, ctx| flows::update_member(conn, ctx, account, me.id, &change))
        .await?;
    Ok(HttpResponse::Ok().json(NotificationPreferences::from(choices)))
}

/// What members who never chose get; `ETag` is the defaults' version.
#[utoipa::path(
    tag = "settings", operation_id = "get_notification_defaults", security(("bearer" = [])),
    params(("account_id" = Uuid, Path, description = "The account")),
    responses((status = 200, description = "The defaults; `ETag` is their version", body = NotificationPreferences)),
    extensions(("x-authorization" = json!(Requirement::account(Permission::SettingsRead))))
)]
#[get("/notification-defaults")]
pub async fn get_notification_defaults(
    state: web::Data<AppState>,
    member: AccountMember,
) -> Result<HttpResponse, ApiError> {
    let account = member.account_id;
    let defaults = state.db(move |conn| Ok(flows::account_defaults(conn, account)?)).await?;
    Ok(defaults_response(defaults))
}

fn defaults_response(defaults: Choices) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::ETAG, flows::defaults_tag(&defaults)))
        .json(NotificationPreferences::from(defaults))
}

/// Change what members who never chose get; topics omitted keep their
/// value. Send the defaults' `ETag` as `If-Match`.
#[utoipa::path(
    tag = "settings", operation_id = "update_notification_defaults", security(("bearer" = [])),
    request_body = NotificationPreferencesPatch,
    params(("account_id" = Uuid, Path, description = "The account"), ("If-Match" = String, Header, description = "The ETag last read; without it the answer is 428, with a stale one 412")),
    responses(
        (status = 200, description = "The defaults now; `ETag` is their new version", body = NotificationPreferences),
        (status = 412, description = "Changed since read (`precondition_failed`)", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing (`precondition_required`)", body = Problem, content_type = "application/problem+json"),
    ),
    extensions(("x-authorization" = json!(Requirement::account(Permission::SettingsManage))))
)]
#[patch("/notification-defaults")]
pub async fn update_notification_defaults(
    state: web::Data<AppState>,
    member: AccountMember,
    origin: Origin,
    request: HttpRequest,
    body: JsonBody<NotificationPreferencesPatch>,
) -> Result<HttpResponse, ApiError> {
    let (account, change, tag) = (member.account_id, body.0.into_choices()?, if_match(&request));
    let defaults = state
        .flow(member.actor(), origin, move |conn, ctx| {
            flows::update_defaults(conn, ctx, account, &change, tag.as_deref())
        })
        .await?;
    Ok(defaults_response(defaults))
}

#[derive(Deserialize, IntoParams)]
pub struct UnsubscribeQuery {
    /// The signed token from the email's `List-Unsubscribe` link.
    #[param(min_length = 1, max_length = 512)]
    pub token: String,
}

/// The one-click form body (RFC 8058).
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"List-Unsubscribe": "One-Click"}))]
pub struct OneClickUnsubscribe {
    #[serde(rename = "List-Unsubscribe")]
    #[schema(rename = "List-Unsubscribe", pattern = "^One-Click$")]
    pub list_unsubscribe: String,
}

/// What an unsubscribe link turned off.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"account_id": "0190c3a4-5b6d-7e8f-9a0b-1c2d3e4f5a6b", "topic": "import_reports", "enabled": false}))]
pub struct UnsubscribeResult {
    pub account_id: Uuid,
    /// The kind of email turned off.
    pub topic: &'static str,
    pub enabled: bool,
}

/// One-click unsubscribe (RFC 8058): what mail clients POST to the
/// `List-Unsubscribe` link of a non-transactional email. Turns that one
/// kind of email off for that one member, without signing in; following
/// it again changes nothing.
#[utoipa::path(
    tag = "me", operation_id = "unsubscribe", params(UnsubscribeQuery),
    request_body(content = OneClickUnsubscribe, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "That kind of email is off", body = UnsubscribeResult),
        (status = 409, description = "Altered link, or the membership ended (`unsubscribe_link_invalid`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/notification-preferences/unsubscribe")]
pub async fn unsubscribe(
    state: web::Data<AppState>,
    origin: Origin,
    query: web::Query<UnsubscribeQuery>,
    body: FormBody<OneClickUnsubscribe>,
) -> Result<HttpResponse, ApiError> {
    if body.0.list_unsubscribe != "One-Click" {
        return Err(ApiError::field("List-Unsubscribe", "invalid_value", "Send List-Unsubscribe=One-Click."));
    }
    let token = query.into_inner().token;
    let done = state.flow(Actor::Anonymous, origin, move |conn, ctx| flows::unsubscribe(conn, ctx, &token)).await?;
    Ok(HttpResponse::Ok().json(UnsubscribeResult {
        account_id: done.account_id,
        topic: done.topic.key(),
        enabled: false,
    }))
}
