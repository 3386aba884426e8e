//! How an account speaks in its emails (the "set up user invitations"
//! step): the name they give it, a message its invitations carry, and the
//! language of its emails to people who chose none.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, patch, web};
use domain::access::Requirement;
use domain::{AccountName, InvitationMessage, Locale, Permission};
use persistence::accounts::{self, EmailSettings};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::flows::Origin;
use crate::flows::accounts::{self as flows, EmailSettingsChange};
use crate::http::access::AccountMember;
use crate::http::extract::{JsonBody, parse_present};
use crate::http::problem::{ApiError, ParseFields, Problem};
use crate::http::schemas::{free_text_or_null_schema, label_or_null_schema, locale_or_null_schema};
use crate::http::state::{AppState, RunFlow};

#[derive(Serialize, ToSchema)]
#[schema(example = json!({
    "display_name": "Acme Developer Program",
    "invitation_message": "Welcome to the Acme developer program! Your team lead is Grace.",
    "locale": "de"
}))]
pub struct EmailSettingsView {
    /// The name emails give the account in place of its name; null: its name.
    pub display_name: Option<String>,
    /// Plain text every invitation carries, quoted and escaped (links are
    /// not made clickable); null: none.
    pub invitation_message: Option<String>,
    /// The language (BCP 47) of the account's emails to people who chose
    /// none; null: the deployment's default.
    pub locale: Option<String>,
}

impl From<EmailSettings> for EmailSettingsView {
    fn from(settings: EmailSettings) -> Self {
        Self {
            display_name: settings.display_name,
            invitation_message: settings.invitation_message,
            locale: settings.locale,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"display_name": "Acme Developer Program", "locale": "de"}))]
pub struct EmailSettingsPatch {
    /// 1 to 200 characters; null: the account's name. Omit to keep.
    #[schema(schema_with = label_or_null_schema)]
    #[serde(default, deserialize_with = "crate::http::extract::present")]
    pub display_name: Option<Option<String>>,
    /// Up to 1,000 characters of plain text; null or blank: none. Omit to keep.
    #[schema(schema_with = free_text_or_null_schema)]
    #[serde(default, deserialize_with = "crate::http::extract::present")]
    pub invitation_message: Option<Option<String>>,
    /// A BCP 47 language tag; null: the deployment's default. Omit to keep.
    #[schema(schema_with = locale_or_null_schema)]
    #[serde(default, deserialize_with = "crate::http::extract::present")]
    pub locale: Option<Option<String>>,
}

fn with_tag(settings: EmailSettings) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::ETAG, flows::email_settings_tag(&settings)))
        .json(EmailSettingsView::from(settings))
}

/// How the account's emails speak; `ETag` is the settings' version.
#[utoipa::path(
    tag = "accounts", operation_id = "get_email_settings", security(("bearer" = [])),
    params(("account_id" = Uuid, Path, description = "The account")),
    responses((status = 200, description = "The settings; `ETag` is their version", body = EmailSettingsView)),
    extensions(("x-authorization" = json!(Requirement::account(Permission::SettingsManage))))
)]
#[get("/email-settings")]
pub async fn get_email_settings(state: web::Data<AppState>, member: AccountMember) -> Result<HttpResponse, ApiError> {
    let account = member.account_id;
    let found = state.db(move |conn| Ok(accounts::find(conn, account)?)).await?.ok_or(ApiError::NotFound)?;
    Ok(with_tag(found.emails))
}

/// Change how the account's emails speak: the name they give it, the
/// message its invitations carry, their language. Omitted fields keep
/// their value; null clears one. Send the settings' `ETag` as `If-Match`
/// (428 without it, 412 when stale).
#[utoipa::path(
    tag = "accounts", operation_id = "update_email_settings", security(("bearer" = [])), request_body = EmailSettingsPatch,
    params(("account_id" = Uuid, Path, description = "The account"), ("If-Match" = String, Header, description = "The ETag last read; without it the answer is 428, with a stale one 412")),
    responses(
        (status = 200, description = "The settings now; `ETag` is their new version", body = EmailSettingsView),
        (status = 412, description = "Changed since read (`precondition_failed`)", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing (`precondition_required`)", body = Problem, content_type = "application/problem+json"),
    ),
    extensions(("x-authorization" = json!(Requirement::account(Permission::SettingsManage))))
)]
#[patch("/email-settings")]
pub async fn update_email_settings(
    state: web::Data<AppState>,
    member: AccountMember,
    origin: Origin,
    request: HttpRequest,
    body: JsonBody<EmailSettingsPatch>,
) -> Result<HttpResponse, ApiError> {
    let patch = body.0;
    let (display_name, invitation_message, locale) = (
        ("display_name", parse_present(patch.display_name, AccountName::parse)),
        // A blank message is none.
        (
            "invitation_message",
            parse_present(patch.invitation_message, InvitationMessage::parse).map(|m| m.map(Option::flatten)),
        ),
        ("locale", parse_present(patch.locale, Locale::parse)),
    )
        .parse_fields()?;
    let change = EmailSettingsChange { display_name, invitation_message, locale };
    let (account, tag) = (member.account_id, crate::http::headers::if_match(&request));
    let updated = state
        .flow(member.actor(), origin, move |conn, ctx| {
            flows::update_email_settings(conn, ctx, account, change, tag.as_deref())
        })
        .await?;
    Ok(with_tag(updated))
}
