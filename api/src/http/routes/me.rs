use actix_web::{HttpResponse, delete, get, patch, web};
use chrono::{DateTime, Utc};
use domain::{Locale, PersonName, TimeZone};
use persistence::accounts;
use persistence::users::{self, ProfileChange, User};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::flows::users as flows;
use crate::flows::{Actor, Origin};
use crate::http::caller::{CurrentUser, TokenUser};
use crate::http::extract::{JsonBody, parse_present};
use crate::http::pagination::{PageQuery, page_cursor};
use crate::http::problem::{ApiError, ParseFields, Problem};
use crate::http::routes::accounts::AccountView;
use crate::http::routes::members::AssignmentView;
use crate::http::schemas::{locale_or_null_schema, person_name_or_null_schema, time_zone_or_null_schema};
use crate::http::state::{AppState, RunFlow};

#[derive(Serialize, ToSchema)]
#[schema(example = json!({
    "id": "01937a2e-4c1d-7b6a-9f3e-2a1b0c9d8e7f", "email": "ada@example.com",
    "first_name": "Ada", "last_name": "Lovelace", "email_verified": false,
    "locale": "en-GB", "time_zone": "Europe/London",
    "created_at": "2026-11-22T09:30:00Z", "updated_at": "2026-11-22T09:30:00Z"
}))]
pub struct UserProfile {
    pub id: Uuid,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub email_verified: bool,
    /// The language emails to me are written in (BCP 47); null: the
    /// language of the invitation or account that writes, else the
    /// deployment's.
    #[schema(example = "de-AT")]
    pub locale: Option<String>,
    /// My IANA time zone: times in emails to me are in it; null: UTC.
    #[schema(example = "Europe/Vienna")]
    pub time_zone: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<User> for UserProfile {
    fn from(user: User) -> Self {
        UserProfile {
            id: user.id,
            email: user.email,
            first_name: user.first_name,
            last_name: user.last_name,
            email_verified: user.email_verified,
            locale: user.locale,
            time_zone: user.time_zone,
            created_at: user.created_at,
            updated_at: user.updated_at,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"first_name": "Augusta Ada", "locale": "de-AT", "time_zone": "Europe/Vienna"}))]
pub struct UpdateMeRequest {
    /// New first name; omit to keep.
    #[schema(schema_with = person_name_or_null_schema)]
    pub first_name: Option<String>,
    /// New last name; omit to keep.
    #[schema(schema_with = person_name_or_null_schema)]
    pub last_name: Option<String>,
    /// The language of emails to me, a BCP 47 tag (`de-AT`, `ja`); null
    /// forgets it; omit to keep.
    #[schema(schema_with = locale_or_null_schema)]
    #[serde(default, deserialize_with = "crate::http::extract::present")]
    pub locale: Option<Option<String>>,
    /// My IANA time zone (`Europe/Vienna`); null forgets it; omit to keep.
    #[schema(schema_with = time_zone_or_null_schema)]
    #[serde(default, deserialize_with = "crate::http::extract::present")]
    pub time_zone: Option<Option<String>>,
}

/// The signed-in user's profile.
#[utoipa::path(tag = "me", operation_id = "get_me", security(("bearer" = [])), responses((status = 200, description = "The profile", body = UserProfile)))]
#[get("/me")]
pub async fn get_me(state: web::Data<AppState>, TokenUser(me): TokenUser) -> Result<HttpResponse, ApiError> {
    // A token outliving its user is refused here, as CurrentUser would.
    let user = state.db(move |conn| Ok(users::find(conn, me.id)?)).await?.ok_or(ApiError::Unauthenticated)?;
    Ok(HttpResponse::Ok().json(UserProfile::from(user)))
}

/// Change the signed-in user's names, language and time zone (the email
/// cannot change here).
#[utoipa::path(
    tag = "me", operation_id = "update_me", security(("bearer" = [])), request_body = UpdateMeRequest,
    responses((status = 200, description = "The updated profile", body = UserProfile))
)]
#[patch("/me")]
pub async fn update_me(
    state: web::Data<AppState>,
    me: CurrentUser,
    origin: Origin,
    body: JsonBody<UpdateMeRequest>,
) -> Result<HttpResponse, ApiError> {
    let request = body.0;
    let optional = |raw: Option<String>| raw.map(|raw| PersonName::parse(&raw)).transpose();
    let (first_name, last_name, locale, time_zone) = (
        ("first_name", optional(request.first_name)),
        ("last_name", optional(request.last_name)),
        ("locale", parse_present(request.locale, Locale::parse)),
        ("time_zone", parse_present(request.time_zone, TimeZone::parse)),
    )
        .parse_fields()?;
    let user = state
        .flow(Actor::User(me.id), origin, move |conn, ctx| {
            let change = ProfileChange {
                first_name: first_name.as_ref(),
                last_name: last_name.as_ref(),
                locale: locale.as_ref().map(Option::as_ref),
                time_zone,
            };
            flows::update_profile(conn, ctx, me.id, change)
        })
        .await?;
    Ok(HttpResponse::Ok().json(UserProfile::from(user)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"password": "my current password"}))]
pub struct EraseMeRequest {
    /// Your password. Leave it out only right after signing in through
    /// single sign-on (within 10 minutes), which proves who you are instead.
    #[schema(schema_with = crate::http::schemas::password_schema)]
    pub password: Option<String>,
}

/// Erase my user, for good.
///
/// Needs your password, or a single sign-on within the last 10 minutes.
/// Refused while you are the last owner of an account (those accounts are
/// listed): hand ownership on, or delete them, first. Otherwise every
/// membership ends (each account's audit log records you leaving), your
/// pending invitations and join requests go, every session and token stops
/// working, and everything that named you (your email, names, addresses
/// you signed in from) is erased or reads as a pseudonym, including in the
/// audit logs, which stay verifiable. This cannot be undone; take a copy
/// with `GET /v1/me/export` first.
#[utoipa::path(
    tag = "me", operation_id = "delete_me", security(("bearer" = [])), request_body = EraseMeRequest,
    responses(
        (status = 204, description = "You are erased; your tokens no longer work"),
        (status = 403, description = "The password is wrong (`current_password_incorrect`), or none was given without a fresh single sign-on (`reauthentication_required`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "You are the last owner of the accounts in `accounts` (`last_owner`)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many wrong passwords (`rate_limited`): wait the seconds in `Retry-After`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/me")]
pub async fn delete_me(
    state: web::Data<AppState>,
    me: CurrentUser,
    origin: Origin,
    body: JsonBody<EraseMeRequest>,
) -> Result<HttpResponse, ApiError> {
    match body.0.password {
        Some(password) => {
            crate::http::routes::credentials::prove_password(&state, me, &origin, password).await?;
        }
        None => {
            let since = state.clock.now() - flows::FRESH_SIGN_IN;
            let Some(session) = me.session else { return Err(ApiError::ReauthenticationRequired) };
            let fresh = state
                .db(move |conn| Ok(persistence::sessions::signed_in_through_sso_since(conn, me.id, session, since)?))
                .await?;
            if !fresh {
                return Err(ApiError::ReauthenticationRequired);
            }
        }
    }
    state.flow(Actor::User(me.id), origin, move |conn, ctx| flows::erase(conn, ctx, me.id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Serialize, ToSchema)]
pub struct MyAccount {
    pub account: AccountView,
    /// Keys of the roles I hold account-wide.
    #[schema(example = json!(["owner"]))]
    pub roles: Vec<String>,
    /// Every role I hold there: account-wide (`group_id` null) first, then
    /// inside groups.
    pub assignments: Vec<AssignmentView>,
    /// Set when I am no member there but hold roles of its parent account
    /// that apply in linked accounts: the parent's id.
    pub inherited_from: Option<Uuid>,
    /// `suspended`: my membership there is suspended, and the account
    /// refuses my requests until it is restored.
    #[schema(value_type = crate::http::routes::members::MembershipStatusName)]
    pub status: &'static str,
}

#[derive(Serialize, ToSchema)]
pub struct MyAccountsPage {
    pub items: Vec<MyAccount>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// The accounts I belong to, with my roles in each.
#[utoipa::path(
    tag = "me", operation_id = "list_my_accounts", security(("bearer" = [])), params(PageQuery),
    responses((status = 200, description = "A page of accounts, oldest first", body = MyAccountsPage))
)]
#[get("/me/accounts")]
pub async fn list_my_accounts(
    state: web::Data<AppState>,
    me: CurrentUser,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let (limit, cursor) = (page.limit()?, page.cursor()?);
    let mut rows = state.db(move |conn| Ok(accounts::list_for_member(conn, me.id, cursor, limit + 1)?)).await?;
    let next_cursor = page_cursor(&mut rows, limit, |row| row.account.id.to_string());
    let items = rows
        .into_iter()
        .map(|row| MyAccount {
            account: row.account.into(),
            roles: persistence::memberships::account_role_keys(&row.assignments),
            assignments: AssignmentView::all(row.assignments),
            inherited_from: row.inherited_from,
            status: row.status.key(),
        })
        .collect();
    Ok(HttpResponse::Ok().json(MyAccountsPage { items, next_cursor }))
}
