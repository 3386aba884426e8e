//! Every error leaves the service as one RFC 9457 `application/problem+json`
//! document, mapped here and nowhere else. Internal details are logged with
//! the request id and never sent.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use domain::Permission;
use domain::import::FileRefused;
use domain::membership::AdmissionRefused;
use persistence::StoreError;

use crate::flows::access_reviews::ReviewError;
use crate::flows::accounts::AccountError;
use crate::flows::addresses::AddressError;
use crate::flows::api_keys::ApiKeyError;
use crate::flows::contacts::ContactError;
use crate::flows::credentials::CredentialError;
use crate::flows::groups::GroupError;
use crate::flows::imports::ImportError;
use crate::flows::invitations::InvitationError;
use crate::flows::joins::JoinError;
use crate::flows::links::LinkError;
use crate::flows::members::MemberError;
use crate::flows::notifications::NotificationError;
use crate::flows::roles::RoleError;
use crate::flows::sessions::SessionError;
use crate::flows::users::UserError;
use crate::flows::webhooks::WebhookError;
use crate::flows::{Precondition, Shared};
use domain::api_key::KeyPermissionsRefused;
use serde::Serialize;
use utoipa::ToSchema;

pub const PROBLEM_JSON: &str = "application/problem+json";

/// An RFC 9457 problem document.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "type": "/problems/validation-failed",
    "code": "validation_failed",
    "title": "The request has invalid fields",
    "status": 422,
    "detail": "Fix the fields listed in `errors` and try again.",
    "errors": [{"field": "email", "code": "invalid_format", "message": "Enter an email address like name@example.com."}]
}))]
pub struct Problem {
    /// URI reference naming the problem type; stable, safe to match on.
    #[serde(rename = "type")]
    pub problem_type: String,
    /// The problem type as a short snake_case code.
    pub code: &'static str,
    /// Short summary of the problem type.
    pub title: &'static str,
    /// HTTP status code.
    pub status: u16,
    /// Explanation of this occurrence, written for a person.
    pub detail: String,
    /// Field problems, for validation failures.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// The feature the account's plan lacks (`plan_upgrade_required`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub feature: Option<&'static str>,
    /// The plans that include it (`plan_upgrade_required`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub plans: Vec<String>,
    /// Where single sign-on starts (`sso_required`); add `redirect_uri`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sso_start_url: Option<String>,
    /// The accounts the caller is the last owner of (`last_owner`, when
    /// erasing themselves).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub accounts: Vec<OwnedAccount>,
}

/// An account named in a problem.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OwnedAccount {
    pub id: uuid::Uuid,
    pub name: String,
}

/// One invalid field of a request.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FieldError {
    /// Path of the field in the request, e.g. `email`.
    pub field: String,
    /// Machine-readable reason, e.g. `too_short`.
    pub code: String,
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("request has invalid fields")]
    Validation(Vec<FieldError>),
    #[error("request body cannot be parsed: {0}")]
    MalformedBody(String),
    /// The body is not of a media type the operation reads; names those it does.
    #[error("request body has the wrong content type")]
    UnsupportedMediaType { expected: &'static str },
    #[error("request body exceeds {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("invalid path parameter: {0}")]
    InvalidPath(String),
    #[error("invalid query string: {0}")]
    InvalidQuery(String),
    #[error("missing or invalid access token")]
    Unauthenticated,
    #[error("wrong email or password")]
    InvalidCredentials,
    #[error("refresh token invalid, expired or already used")]
    InvalidRefreshToken,
    /// The caller lacks this permission (a catalogue key).
    #[error("missing permission {0}")]
    Forbidden(String),
    #[error("not found")]
    NotFound,
    #[error("invitation addressed to another email")]
    InvitationEmailMismatch,
    /// Sending invitations needs a verified email address.
    #[error("the sender's email is not verified")]
    EmailUnverified,
    /// A change to how the caller signs in, without their current password.
    #[error("current password incorrect")]
    PasswordIncorrect,
    /// A download link of a copy of one's data that is unknown or expired.
    #[error("export link unknown or expired")]
    ExportLinkInvalid,
    /// Erasing oneself needs the password, or a sign-in through single
    /// sign-on moments ago.
    #[error("re-authentication required")]
    ReauthenticationRequired,
    /// Erasing oneself while the last owner of these accounts.
    #[error("the last owner of accounts")]
    LastOwnerOf(Vec<OwnedAccount>),
    #[error("If-Match missing")]
    PreconditionRequired,
    #[error("If-Match stale")]
    PreconditionFailed,
    #[error("invitation token unknown")]
    InvitationUnknown,
    #[error("invitation expired")]
    InvitationExpired,
    #[error("join link token unknown")]
    JoinLinkUnknown,
    /// The resource existed but can no longer be used (410).
    #[error("{detail}")]
    Gone { code: &'static str, detail: String },
    #[error("route not found")]
    RouteNotFound,
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("{detail}")]
    Conflict { code: &'static str, detail: String },
    /// Refused for who the caller is in this matter, not for a missing
    /// permission (reviewing one's own access).
    #[error("{detail}")]
    Refused { code: &'static str, detail: String },
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// The account requires this person to sign in through its identity
    /// provider, which starts at `start_url`.
    #[error("single sign-on required")]
    SsoRequired { start_url: String },
    /// A single sign-on step refused (a bad state or code, an ID token that
    /// fails validation, an untrusted email, the provider's own refusal).
    #[error("{detail}")]
    SignInRefused { status: StatusCode, code: &'static str, detail: String },
    /// Past the rate limit `name`; the other fields are the
    /// `RateLimit-Policy` and `RateLimit` header values and the seconds to
    /// wait.
    #[error("rate limited: {policy}")]
    RateLimited { name: &'static str, policy: String, limit: String, retry_after: i64 },
    /// The account's plan does not include `feature`; `plans` do.
    #[error("the plan lacks {feature}")]
    PlanUpgradeRequired { feature: &'static str, plans: Vec<String> },
    /// The account waits for its deletion: nothing in it changes until an
    /// owner restores it.
    #[error("the account is pending deletion")]
    AccountPendingDeletion,
    /// Every seat of the account's plan is taken.
    #[error(transparent)]
    SeatLimitReached(#[from] domain::plan::SeatLimitReached),
    /// Every password hashing thread stayed busy for the whole wait.
    #[error("password hashing is saturated")]
    Overloaded,
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    pub fn internal(error: impl std::fmt::Display) -> Self {
        ApiError::Internal(error.to_string())
    }

    pub fn field(field: &str, code: &str, message: impl Into<String>) -> Self {
        ApiError::Validation(vec![FieldError {
            field: field.to_owned(),
            code: code.to_owned(),
            message: message.into(),
        }])
    }

    /// The problem for an error response produced outside our handlers
    /// (actix's router, a middleware): only its status is known.
    pub fn from_status(status: StatusCode) -> Self {
        match status {
            StatusCode::NOT_FOUND => ApiError::RouteNotFound,
            StatusCode::METHOD_NOT_ALLOWED => ApiError::MethodNotAllowed,
            StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge { limit: 0 },
            StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::UnsupportedMediaType { expected: "application/json" },
            StatusCode::UNAUTHORIZED => ApiError::Unauthenticated,
            StatusCode::SERVICE_UNAVAILABLE => ApiError::Unavailable(status.to_string()),
            s if s.is_client_error() => ApiError::MalformedBody(status.to_string()),
            _ => ApiError::Internal(status.to_string()),
        }
    }

    fn parts(&self) -> (StatusCode, &'static str, &'static str, String) {
        use ApiError::*;
        match self {
            Validation(_) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
                "The request has invalid fields",
                "Fix the fields listed in `errors` and try again.".into(),
            ),
            MalformedBody(reason) => {
                (StatusCode::BAD_REQUEST, "malformed_body", "The request body cannot be parsed", reason.clone())
            }
            UnsupportedMediaType { expected } => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "Unsupported content type",
                format!("Send the body as {expected}."),
            ),
            PayloadTooLarge { limit } if *limit > 0 => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "The request body is too large",
                format!("The body may be at most {limit} bytes."),
            ),
            PayloadTooLarge { .. } => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "The request body is too large",
                "Send a smaller body.".into(),
            ),
            InvalidPath(reason) => {
                (StatusCode::BAD_REQUEST, "invalid_path_parameter", "A path parameter is invalid", reason.clone())
            }
            InvalidQuery(reason) => {
                (StatusCode::BAD_REQUEST, "invalid_query", "The query string is invalid", reason.clone())
            }
            Unauthenticated => (
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "Authentication required",
                "Send a valid access token as `Authorization: Bearer <token>`.".into(),
            ),
            InvalidCredentials => (
                StatusCode::UNAUTHORIZED,
                "invalid_credentials",
                "Wrong email or password",
                "The email and password do not match an account.".into(),
            ),
            InvalidRefreshToken => (
                StatusCode::UNAUTHORIZED,
                "invalid_refresh_token",
                "The refresh token is not valid",
                "Sign in again: the refresh token is unknown, expired, revoked or was already used.".into(),
            ),
            Forbidden(permission) => (
                StatusCode::FORBIDDEN,
                "forbidden",
                "Permission required",
                format!("This action needs the `{permission}` permission."),
            ),
            PreconditionRequired => (
                StatusCode::PRECONDITION_REQUIRED,
                "precondition_required",
                "If-Match required",
                "Send the ETag you last read as If-Match, so that you cannot overwrite a change you have not seen."
                    .into(),
            ),
            PreconditionFailed => (
                StatusCode::PRECONDITION_FAILED,
                "precondition_failed",
                "The resource changed",
                "It changed since you read it: read it again (new ETag), then retry.".into(),
            ),
            InvitationUnknown => (
                StatusCode::NOT_FOUND,
                "invitation_unknown",
                "Unknown invitation link",
                "This invitation link is not valid: it was mistyped, or replaced by a newer email.".into(),
            ),
            InvitationExpired => (
                StatusCode::GONE,
                "invitation_expired",
                "The invitation has expired",
                "Ask the account's administrators to send the invitation again.".into(),
            ),
            JoinLinkUnknown => (
                StatusCode::NOT_FOUND,
                "join_link_unknown",
                "Unknown join link",
                "This join link is not valid: it was mistyped, or the account's administrators replaced it.".into(),
            ),
            Gone { code, detail } => (StatusCode::GONE, code, "No longer usable", detail.clone()),
            InvitationEmailMismatch => (
                StatusCode::FORBIDDEN,
                "invitation_email_mismatch",
                "The invitation is for another email",
                "Sign in as the invited address with a verified email, or register through the invitation link.".into(),
            ),
            EmailUnverified => (
                StatusCode::FORBIDDEN,
                "email_unverified",
                "Verify your email address first",
                "Invitations go out in your name: confirm your email address with the link we sent you \
                 (POST /v1/auth/verify-email/resend sends a new one), then try again."
                    .into(),
            ),
            NotFound => (
                StatusCode::NOT_FOUND,
                "not_found",
                "Not found",
                "The resource does not exist or you cannot see it.".into(),
            ),
            RouteNotFound => (
                StatusCode::NOT_FOUND,
                "route_not_found",
                "No such route",
                "No endpoint matches this path; see /openapi.json.".into(),
            ),
            MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "Method not allowed",
                "This endpoint does not support this HTTP method; see /openapi.json.".into(),
            ),
            Conflict { code, detail } => {
                (StatusCode::CONFLICT, code, "The request conflicts with the current state", detail.clone())
            }
            Refused { code, detail } => (StatusCode::FORBIDDEN, code, "Not yours to do", detail.clone()),
            SignInRefused { status, code, detail } => (*status, code, "Single sign-on refused", detail.clone()),
            SsoRequired { start_url } => (
                StatusCode::FORBIDDEN,
                "sso_required",
                "Sign in through the account's identity provider",
                format!(
                    "This account requires its people to sign in through its identity provider: start at {start_url} \
                     (add redirect_uri), then use the tokens that sign-in gives."
                ),
            ),
            Unavailable(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "Service unavailable",
                "The service cannot handle the request right now; retry shortly.".into(),
            ),
            ExportLinkInvalid => (
                StatusCode::NOT_FOUND,
                "export_link_invalid",
                "Export link unknown or expired",
                "This link to a copy of your data is unknown or has expired (links work for 7 days): ask for \
                 a new copy."
                    .into(),
            ),
            ReauthenticationRequired => (
                StatusCode::FORBIDDEN,
                "reauthentication_required",
                "Re-authentication required",
                "Erasing your user needs your password (`password`), or a single sign-on moments ago: sign in \
                 through your identity provider again, then retry."
                    .into(),
            ),
            LastOwnerOf(accounts) => (
                StatusCode::CONFLICT,
                "last_owner",
                "The last owner of accounts",
                format!(
                    "You are the last owner of {} account(s), listed in `accounts`: make another member an owner, \
                     or delete the account, then retry.",
                    accounts.len()
                ),
            ),
            PasswordIncorrect => (
                StatusCode::FORBIDDEN,
                "current_password_incorrect",
                "Current password incorrect",
                "Changing how you sign in needs your current password; the one given is not it.".into(),
            ),
            PlanUpgradeRequired { feature, plans } => (
                StatusCode::FORBIDDEN,
                "plan_upgrade_required",
                "The account's plan does not include this",
                if plans.is_empty() {
                    format!("The account's plan does not include {feature}, and no plan does.")
                } else {
                    format!("The account's plan does not include {feature}; these plans do: {}.", plans.join(", "))
                },
            ),
            AccountPendingDeletion => (
                StatusCode::CONFLICT,
                "account_pending_deletion",
                "The account is to be deleted",
                "An owner deleted this account: nothing in it can change, and it is erased when its grace period \
                 ends. An owner can restore it until then (POST /v1/accounts/{account_id}/restore)."
                    .into(),
            ),
            SeatLimitReached(refused) => (
                StatusCode::FORBIDDEN,
                "seat_limit_reached",
                "No seat is left on the account's plan",
                refused.to_string(),
            ),
            RateLimited { retry_after, .. } => (
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                "Too many requests",
                format!("Too many attempts; try again in {retry_after} seconds (see Retry-After)."),
            ),
            Overloaded => (
                StatusCode::SERVICE_UNAVAILABLE,
                "overloaded",
                "Too many requests in progress",
                "The service is handling too many sign-ins at once; retry after the number of seconds in Retry-After."
                    .into(),
            ),
            Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal_error",
                "Internal error",
                "Something went wrong on our side; the request id identifies it in our logs.".into(),
            ),
        }
    }

    pub fn problem(&self) -> Problem {
        let (status, code, title, detail) = self.parts();
        Problem {
            problem_type: format!("/problems/{}", code.replace('_', "-")),
            code,
            title,
            status: status.as_u16(),
            detail,
            errors: match self {
                ApiError::Validation(errors) => errors.clone(),
                _ => Vec::new(),
            },
            feature: match self {
                ApiError::PlanUpgradeRequired { feature, .. } => Some(feature),
                _ => None,
            },
            plans: match self {
                ApiError::PlanUpgradeRequired { plans, .. } => plans.clone(),
                _ => Vec::new(),
            },
            sso_start_url: match self {
                ApiError::SsoRequired { start_url } => Some(start_url.clone()),
                _ => None,
            },
            accounts: match self {
                ApiError::LastOwnerOf(accounts) => accounts.clone(),
                _ => Vec::new(),
            },
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.parts().0
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            ApiError::Internal(reason) => tracing::error!(%reason, "request failed"),
            ApiError::Unavailable(reason) => tracing::warn!(%reason, "request refused: unavailable"),
            _ => {}
        }
        let mut response = HttpResponse::build(self.status_code());
        response.insert_header((header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON)));
        if matches!(self, ApiError::Unauthenticated) {
            response.insert_header((header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer")));
        }
        if self.status_code() == StatusCode::SERVICE_UNAVAILABLE {
            response.insert_header((header::RETRY_AFTER, HeaderValue::from_static("1")));
        }
        if let ApiError::RateLimited { policy, limit, retry_after, .. } = self {
            response.insert_header((header::RETRY_AFTER, retry_after.to_string()));
            response.insert_header((crate::http::rate_limit::RATE_LIMIT_POLICY, policy.as_str()));
            response.insert_header((crate::http::rate_limit::RATE_LIMIT, limit.as_str()));
        }
        response.json(self.problem())
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Pool(e) => ApiError::Unavailable(e.to_string()),
            StoreError::ConnectionLost(e) => ApiError::Unavailable(e.to_string()),
            StoreError::MissingReference => ApiError::Conflict {
                code: "reference_gone",
                detail: "Something this request refers to was removed meanwhile; read it again and retry.".into(),
            },
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<persistence::QueryError> for ApiError {
    fn from(error: persistence::QueryError) -> Self {
        StoreError::from(error).into()
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(error: actix_web::error::BlockingError) -> Self {
        ApiError::Internal(error.to_string())
    }
}

impl From<crate::flows::domains::DomainError> for ApiError {
    fn from(error: crate::flows::domains::DomainError) -> Self {
        use crate::flows::domains::DomainError;
        match error {
            DomainError::PublicMailDomain => ApiError::field(
                "domain",
                "public_email_domain",
                "This is a public mail provider's domain, which no account can claim; claim your company's own.",
            ),
            DomainError::Taken => conflict("domain_taken", "Another account has verified this domain."),
            DomainError::AlreadyClaimed => conflict("domain_exists", "The account has claimed this domain already."),
            DomainError::RecordNotFound => conflict(
                "verification_record_not_found",
                "The TXT record was not found at its name: publish it as shown in `record`, wait for DNS, then verify again.",
            ),
            DomainError::Shared(shared) => shared.into(),
        }
    }
}

impl From<crate::auth::passwords::HashingError> for ApiError {
    fn from(error: crate::auth::passwords::HashingError) -> Self {
        match error {
            crate::auth::passwords::HashingError::Busy => ApiError::Overloaded,
            crate::auth::passwords::HashingError::Failed(reason) => ApiError::Internal(reason),
        }
    }
}

fn conflict(code: &'static str, detail: impl Into<String>) -> ApiError {
    ApiError::Conflict { code, detail: detail.into() }
}

// What each flow family's refusals mean over HTTP: the one place where
// typed errors become problem documents.

impl From<Shared> for ApiError {
    fn from(error: Shared) -> Self {
        match error {
            Shared::NotFound => ApiError::NotFound,
            Shared::Forbidden(permission) => ApiError::Forbidden(permission.key().to_owned()),
            Shared::Grant(refused) => ApiError::Forbidden(refused.permission),
            Shared::TooManyRoles(_) => ApiError::field(
                "assignments",
                "too_many",
                format!("A member holds at most {} roles.", domain::role::MAX_ROLES_PER_MEMBER),
            ),
            Shared::UnknownRole { field, key } => {
                ApiError::field(field, "unknown_role", format!("There is no role {key:?} in this account."))
            }
            Shared::UnknownGroup { field } => {
                ApiError::field(field, "unknown_group", "There is no such group in this account.")
            }
            Shared::UserGone => ApiError::Unauthenticated,
            Shared::SeatLimit(refused) => ApiError::SeatLimitReached(refused),
            Shared::Store(error) => error.into(),
        }
    }
}

impl From<Precondition> for ApiError {
    fn from(error: Precondition) -> Self {
        match error {
            Precondition::Required => ApiError::PreconditionRequired,
            Precondition::Failed => ApiError::PreconditionFailed,
        }
    }
}

fn sign_in_refused(status: StatusCode, code: &'static str, detail: impl Into<String>) -> ApiError {
    ApiError::SignInRefused { status, code, detail: detail.into() }
}

impl From<crate::flows::sso::SsoError> for ApiError {
    fn from(error: crate::flows::sso::SsoError) -> Self {
        use crate::flows::sso::SsoError;
        let detail = error.to_string();
        match error {
            SsoError::ConnectionNotFound => sign_in_refused(
                StatusCode::NOT_FOUND,
                "sso_connection_not_found",
                "No account has single sign-on for this email's domain, or no such connection.",
            ),
            SsoError::ConnectionDisabled => {
                conflict("sso_connection_disabled", "This single sign-on connection is disabled by its account.")
            }
            SsoError::StateInvalid => sign_in_refused(
                StatusCode::BAD_REQUEST,
                "sso_state_invalid",
                "This sign-in is unknown, already finished or expired (10 minutes): start again.",
            ),
            SsoError::CodeInvalid => sign_in_refused(
                StatusCode::UNAUTHORIZED,
                "sso_code_invalid",
                "The code is unknown, already used or expired (2 minutes): sign in again.",
            ),
            SsoError::EmailMissing(_) => sign_in_refused(StatusCode::UNAUTHORIZED, "sso_email_missing", detail),
            SsoError::EmailNotTrusted => sign_in_refused(StatusCode::FORBIDDEN, "sso_email_not_trusted", detail),
            SsoError::EmailInUse => conflict(
                "sso_email_in_use",
                "A user already has this email, which is at none of the domains this account verified: its provider cannot sign in as them. They sign in with their password, or the account verifies the domain.",
            ),
            SsoError::ConnectionRequired => conflict(
                "sso_connection_required",
                "Connect and enable an identity provider first: people must have a way to sign in.",
            ),
            SsoError::VerifiedDomainRequired => conflict(
                "verified_domain_required",
                "Verify an email domain first: single sign-on is required of the people at the account's verified domains.",
            ),
            SsoError::BreakGlassNotOwner => ApiError::field(
                "break_glass_owner_id",
                "not_an_owner",
                "Name an owner of the account (or be one): one owner keeps password access in case the provider fails.",
            ),
            SsoError::OwnerNotMappable => ApiError::field(
                "group_rules",
                "owner_not_mappable",
                "A provider's groups cannot make owners: map them to other roles (owners hand ownership over themselves).",
            ),
            SsoError::Sealing => ApiError::internal("a stored single sign-on secret cannot be opened"),
            SsoError::Session(session) => (*session).into(),
            SsoError::Shared(shared) => shared.into(),
        }
    }
}

impl From<crate::oidc::OidcError> for ApiError {
    fn from(error: crate::oidc::OidcError) -> Self {
        use crate::oidc::OidcError;
        match error {
            OidcError::Unavailable(reason) => ApiError::Unavailable(reason),
            OidcError::CodeRefused(_) => {
                sign_in_refused(StatusCode::UNAUTHORIZED, "sso_code_refused", error.to_string())
            }
            OidcError::InvalidIdToken(_) => {
                sign_in_refused(StatusCode::UNAUTHORIZED, "id_token_invalid", error.to_string())
            }
        }
    }
}

/// The JSON API's side of the directory's flows (its settings); the SCIM
/// side maps them in [`crate::http::scim`].
impl From<crate::flows::directory::DirectoryError> for ApiError {
    fn from(error: crate::flows::directory::DirectoryError) -> Self {
        use crate::flows::directory::DirectoryError;
        match error {
            DirectoryError::OwnerNotGiven => ApiError::field(
                "default_roles",
                "owner_not_mappable",
                "The directory's people cannot start as owners (owners hand ownership over themselves).",
            ),
            DirectoryError::Shared(shared) => shared.into(),
            DirectoryError::Precondition(precondition) => precondition.into(),
            other => ApiError::internal(format!("a SCIM refusal reached the JSON API: {other}")),
        }
    }
}

impl From<AdmissionRefused> for ApiError {
    fn from(error: AdmissionRefused) -> Self {
        match error {
            AdmissionRefused::AlreadyMember => {
                conflict("already_member", "This person is already a member of the account.")
            }
            AdmissionRefused::AlreadyInvited => {
                conflict("already_invited", "This email already has a pending invitation to the account.")
            }
            AdmissionRefused::EmailPolicyRefused => conflict(
                "email_policy_refused",
                "This account only invites people who have no user yet (policy new_users_only).",
            ),
            AdmissionRefused::EmailDomainNotAllowed => conflict(
                "email_domain_not_allowed",
                "This account takes only emails at its verified domains (invitations_restricted_to_domains), and this one is at none of them.",
            ),
        }
    }
}

impl From<AccountError> for ApiError {
    fn from(error: AccountError) -> Self {
        match error {
            AccountError::Precondition(precondition) => precondition.into(),
            AccountError::UnknownPlan { key, known } => ApiError::field(
                "plan",
                "unknown_plan",
                format!("There is no plan {key:?}; the plans are {}.", known.join(", ")),
            ),
            AccountError::NameMismatch => ApiError::field(
                "confirm_name",
                "name_mismatch",
                "Repeat the account's name exactly, to confirm which account is deleted.",
            ),
            AccountError::PendingDeletion => ApiError::AccountPendingDeletion,
            AccountError::NotPendingDeletion => ApiError::Conflict {
                code: "account_not_pending_deletion",
                detail: "The account is not waiting for its deletion: there is nothing to restore.".into(),
            },
            AccountError::Shared(shared) => shared.into(),
        }
    }
}

impl From<AddressError> for ApiError {
    fn from(error: AddressError) -> Self {
        match error {
            AddressError::Precondition(precondition) => precondition.into(),
            AddressError::Shared(shared) => shared.into(),
        }
    }
}

impl From<ReviewError> for ApiError {
    fn from(error: ReviewError) -> Self {
        use domain::access_review::DecisionRefused;
        match error {
            ReviewError::Refused(refused @ DecisionRefused::Closed) => conflict(refused.code(), refused.to_string()),
            ReviewError::Refused(refused @ DecisionRefused::NotASubset) => {
                ApiError::field("roles", refused.code(), refused.to_string())
            }
            ReviewError::Refused(refused) => ApiError::Refused { code: refused.code(), detail: refused.to_string() },
            ReviewError::NotEligible { user } => ApiError::field(
                "reviewers",
                "not_a_reviewer",
                format!("{user} does not hold access_reviews:manage where this review applies."),
            ),
            ReviewError::Invalid(invalid) => ApiError::Validation(vec![field_error("due_at", invalid)]),
            ReviewError::Member(error) => error.into(),
            ReviewError::Precondition(precondition) => precondition.into(),
            ReviewError::Shared(shared) => shared.into(),
        }
    }
}

impl From<NotificationError> for ApiError {
    fn from(error: NotificationError) -> Self {
        match error {
            NotificationError::LinkInvalid => conflict(
                "unsubscribe_link_invalid",
                "This unsubscribe link is not valid (altered, or the membership ended).",
            ),
            NotificationError::Precondition(precondition) => precondition.into(),
            NotificationError::Shared(shared) => shared.into(),
        }
    }
}

impl From<ContactError> for ApiError {
    fn from(error: ContactError) -> Self {
        match error {
            ContactError::PrimaryTaken(taken) => conflict("primary_contact_exists", taken.to_string()),
            ContactError::Precondition(precondition) => precondition.into(),
            ContactError::Shared(shared) => shared.into(),
        }
    }
}

impl From<LinkError> for ApiError {
    fn from(error: LinkError) -> Self {
        match error {
            LinkError::Refused(refused @ domain::account_link::LinkRefused::SelfLink) => {
                ApiError::field("child_account_id", refused.code(), refused.to_string())
            }
            LinkError::Refused(refused) => conflict(refused.code(), refused.to_string()),
            LinkError::UnknownAccount => {
                ApiError::field("child_account_id", "unknown_account", "There is no account with this id.")
            }
            LinkError::NotAwaitingAcceptance => {
                conflict("link_not_pending", "Only the child account accepts a link, and only while it is pending.")
            }
            LinkError::NotInheritable(refused) => ApiError::field("roles", "not_inheritable", refused.to_string()),
            LinkError::RoleNotHeld(key) => ApiError::field(
                "roles",
                "role_not_held",
                format!("The member does not hold {key:?} account-wide; give it to them first."),
            ),
            LinkError::Shared(shared) => shared.into(),
        }
    }
}

impl From<UserError> for ApiError {
    fn from(error: UserError) -> Self {
        match error {
            UserError::VerificationInvalid => conflict(
                "verification_invalid",
                "This verification link is unknown, used or expired; ask for a new one.",
            ),
            UserError::AlreadyVerified => conflict("already_verified", "Your email is already verified."),
            UserError::LastOwnerOf(accounts) => {
                ApiError::LastOwnerOf(accounts.into_iter().map(|(id, name)| OwnedAccount { id, name }).collect())
            }
            UserError::Shared(shared) => shared.into(),
        }
    }
}

impl From<CredentialError> for ApiError {
    fn from(error: CredentialError) -> Self {
        match error {
            CredentialError::ResetInvalid => {
                conflict("password_reset_invalid", "This reset link is unknown, used or expired; ask for a new one.")
            }
            CredentialError::EmailChangeInvalid => conflict(
                "email_change_invalid",
                "This confirmation link is unknown, used or expired; ask for a new one.",
            ),
            CredentialError::EmailTaken => conflict("email_taken", "Another user signs in with this email address."),
            CredentialError::EmailUnchanged => {
                ApiError::field("email", "unchanged", "This is the address you sign in with already.")
            }
            CredentialError::Shared(shared) => shared.into(),
        }
    }
}

impl From<SessionError> for ApiError {
    fn from(error: SessionError) -> Self {
        match error {
            SessionError::InvalidRefreshToken => ApiError::InvalidRefreshToken,
            SessionError::SessionUnknown => ApiError::NotFound,
            SessionError::Signing(reason) => ApiError::Internal(reason),
            SessionError::Shared(shared) => shared.into(),
        }
    }
}

impl From<InvitationError> for ApiError {
    fn from(error: InvitationError) -> Self {
        match error {
            InvitationError::UnknownToken => ApiError::InvitationUnknown,
            InvitationError::Expired => ApiError::InvitationExpired,
            InvitationError::Accepted => conflict("invitation_accepted", "This invitation was already accepted."),
            InvitationError::Declined => conflict("invitation_declined", "This invitation was declined."),
            InvitationError::Revoked => {
                conflict("invitation_revoked", "This invitation was revoked by the account's administrators.")
            }
            InvitationError::Changed => conflict("invitation_changed", "The invitation changed meanwhile; try again."),
            InvitationError::EmailMismatch => ApiError::InvitationEmailMismatch,
            InvitationError::Admission(refused) => refused.into(),
            InvitationError::SenderUnverified => ApiError::EmailUnverified,
            InvitationError::EmailTaken => {
                conflict("email_taken", "A user with this email exists: sign in, then accept the invitation.")
            }
            InvitationError::Shared(shared) => shared.into(),
        }
    }
}

impl From<MemberError> for ApiError {
    fn from(error: MemberError) -> Self {
        match error {
            MemberError::LastOwner(_) => conflict(
                "last_owner",
                "The account's last owner cannot leave, be removed or be demoted; transfer ownership first.",
            ),
            MemberError::OwnershipRequired => ApiError::Forbidden(Permission::OwnershipTransfer.key().to_owned()),
            MemberError::TransferToSelf => conflict("same_user", "You are an owner already; name another member."),
            MemberError::TransferToNonMember => {
                conflict("not_a_member", "Only members of the account can become owners; invite them first.")
            }
            MemberError::Precondition(precondition) => precondition.into(),
            MemberError::SuspendSelf => {
                conflict("same_user", "You cannot suspend yourself; another member who manages members can.")
            }
            MemberError::Shared(shared) => shared.into(),
        }
    }
}

impl From<RoleError> for ApiError {
    fn from(error: RoleError) -> Self {
        match error {
            RoleError::KeyTaken(key) => conflict("role_key_taken", format!("A role with the key {key:?} exists.")),
            RoleError::ReadOnly => {
                conflict("role_read_only", "Built-in and template roles cannot be changed or deleted.")
            }
            RoleError::InUse => conflict(
                "role_in_use",
                "The role is still assigned or offered in pending invitations; name a role to reassign them to (reassign_to).",
            ),
            RoleError::ReassignToItself => {
                ApiError::field("reassign_to", "same_role", "Reassign to another role than the one deleted.")
            }
            RoleError::ReassignToUnknown => {
                ApiError::field("reassign_to", "unknown_role", "There is no such role in this account.")
            }
            RoleError::Precondition(precondition) => precondition.into(),
            RoleError::Shared(shared) => shared.into(),
        }
    }
}

impl From<GroupError> for ApiError {
    fn from(error: GroupError) -> Self {
        match error {
            GroupError::NameTaken(name) => {
                conflict("group_name_taken", format!("The account has a group named {name:?}."))
            }
            GroupError::NotAMember => {
                conflict("not_a_member", "Only members of the account can join its groups; invite them first.")
            }
            GroupError::OwnerNotGiven => ApiError::field(
                "roles",
                "owner_not_mappable",
                "A group cannot make owners (owners hand ownership over themselves).",
            ),
            GroupError::Shared(shared) => shared.into(),
        }
    }
}

impl From<JoinError> for ApiError {
    fn from(error: JoinError) -> Self {
        match error {
            JoinError::LinkUnknown => ApiError::JoinLinkUnknown,
            JoinError::LinkUnusable(refusal) => {
                ApiError::Gone { code: refusal.code(), detail: refusal.message().to_owned() }
            }
            JoinError::RotateDisabled => {
                conflict("join_link_disabled", "A disabled link cannot be rotated; create a new one.")
            }
            JoinError::RequestPending => conflict(
                "join_request_pending",
                "You already asked to join this account; wait for the decision or withdraw that request.",
            ),
            JoinError::AlreadyDecided(status) => {
                conflict(status.conflict_code(), format!("This join request is already {}.", status.key()))
            }
            JoinError::Admission(refused) => refused.into(),
            JoinError::Shared(shared) => shared.into(),
        }
    }
}

impl From<WebhookError> for ApiError {
    fn from(error: WebhookError) -> Self {
        match error {
            WebhookError::Disabled => {
                conflict("webhook_disabled", "The endpoint is disabled; enable it (PATCH enabled: true) first.")
            }
            WebhookError::Sealing(error) => ApiError::Internal(error.to_string()),
            WebhookError::Shared(shared) => shared.into(),
        }
    }
}

impl From<ApiKeyError> for ApiError {
    fn from(error: ApiKeyError) -> Self {
        match error {
            ApiKeyError::PartnerExists => conflict("partner_exists", "The account has a partner of that name."),
            ApiKeyError::UnknownPartner => {
                ApiError::field("partner_id", "unknown_partner", "There is no such partner in this account.")
            }
            ApiKeyError::Permissions(KeyPermissionsRefused::Empty) => {
                ApiError::field("permissions", "required", "A key carries at least one permission.")
            }
            ApiKeyError::Permissions(KeyPermissionsRefused::Reserved(key)) => ApiError::field(
                "permissions",
                "reserved_permission",
                format!("No API key may carry {key}: keys never manage ownership, keys or webhooks."),
            ),
            // Like a grant: nobody hands out what they do not hold.
            ApiKeyError::Permissions(KeyPermissionsRefused::NotHeld(key)) => ApiError::Forbidden(key),
            ApiKeyError::Shared(shared) => shared.into(),
        }
    }
}

impl From<ImportError> for ApiError {
    fn from(error: ImportError) -> Self {
        match error {
            ImportError::File(FileRefused::TooLarge) => ApiError::PayloadTooLarge { limit: domain::import::MAX_BYTES },
            ImportError::File(refused) => ApiError::field("file", refused.code(), refused.to_string()),
            ImportError::SenderUnverified => ApiError::EmailUnverified,
            ImportError::AccountPendingDeletion => ApiError::AccountPendingDeletion,
            ImportError::ConcurrentInvitation => {
                conflict("already_invited", "An invitation was created concurrently; the batch runs again.")
            }
            ImportError::Shared(shared) => shared.into(),
        }
    }
}

pub fn field_error(field: &str, error: domain::InvalidValue) -> FieldError {
    FieldError { field: field.to_owned(), code: error.code.to_owned(), message: error.message }
}

/// Parses several fields at once, so that a 422 lists every invalid field
/// rather than the first: `(("email", Email::parse(..)), ("name", ..)).parse_fields()?`.
pub trait ParseFields {
    type Parsed;
    fn parse_fields(self) -> Result<Self::Parsed, ApiError>;
}

macro_rules! parse_fields_for_tuple {
    ($($value:ident),+) => {
        impl<$($value),+> ParseFields for ($((&str, Result<$value, domain::InvalidValue>),)+) {
            type Parsed = ($($value,)+);

            #[allow(non_snake_case)]
            fn parse_fields(self) -> Result<Self::Parsed, ApiError> {
                let ($($value,)+) = self;
                let mut errors = Vec::new();
                $(let $value = match $value.1 {
                    Ok(value) => Some(value),
                    Err(error) => {
                        errors.push(field_error($value.0, error));
                        None
                    }
                };)+
                match ($($value,)+) {
                    ($(Some($value),)+) => Ok(($($value,)+)),
                    _ => Err(ApiError::Validation(errors)),
                }
            }
        }
    };
}

parse_fields_for_tuple!(A);
parse_fields_for_tuple!(A, B);
parse_fields_for_tuple!(A, B, C);
parse_fields_for_tuple!(A, B, C, D);
parse_fields_for_tuple!(A, B, C, D, E);
