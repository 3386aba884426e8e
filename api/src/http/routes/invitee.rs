//! The invited person's side: accept (signed in), register through the
//! invitation, decline, and see what is waiting for them.

use actix_web::{HttpResponse, get, post, web};
use domain::{NewPassword, PersonName};
use persistence::{invitations, users};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::flows::invitations as flows;
use crate::flows::sessions;
use crate::flows::{Actor, Origin};
use crate::http::caller::{CurrentUser, TokenUser};
use crate::http::extract::JsonBody;
use crate::http::problem::{ApiError, ParseFields, Problem};
use crate::http::routes::auth::{TokenResponse, session_policy};
use crate::http::routes::invitations::InvitationView;
use crate::http::schemas::{new_password_schema, person_name_schema, token_schema};
use crate::http::state::{AppState, RunFlow};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"token": "vJ3xN0c9b1Qe8rTz5LwYk2HdA7sFpG4mUoI6aRyEn1M"}))]
pub struct InvitationTokenRequest {
    #[schema(schema_with = token_schema)]
    pub token: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"token": "vJ3xN0c9b1Qe8rTz5LwYk2HdA7sFpG4mUoI6aRyEn1M", "password": "correct horse battery", "first_name": "Grace", "last_name": "Hopper"}))]
pub struct RegisterWithInvitationRequest {
    #[schema(schema_with = token_schema)]
    pub token: String,
    #[schema(schema_with = new_password_schema)]
    pub password: String,
    #[schema(schema_with = person_name_schema)]
    pub first_name: String,
    #[schema(schema_with = person_name_schema)]
    pub last_name: String,
}

#[derive(Serialize, ToSchema)]
pub struct AcceptedInvitation {
    pub account_id: uuid::Uuid,
    pub roles: Vec<String>,
}

/// Accept an invitation as the signed-in user.
///
/// The user's verified email must be the invitation's.
#[utoipa::path(
    tag = "invitations", operation_id = "accept_invitation", security(("bearer" = [])), request_body = InvitationTokenRequest,
    responses(
        (status = 200, description = "You are now a member", body = AcceptedInvitation),
        (status = 403, description = "Signed in as another or an unverified email (`invitation_email_mismatch`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown or replaced link (`invitation_unknown`)", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "Expired (`invitation_expired`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Accepted (`invitation_accepted`), declined (`invitation_declined`) or revoked (`invitation_revoked`), or changed meanwhile (`invitation_changed`); already a member (`already_member`), or the account takes only people without a user yet (`email_policy_refused`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/invitations/accept")]
pub async fn accept_invitation(
    state: web::Data<AppState>,
    TokenUser(me): TokenUser,
    origin: Origin,
    body: JsonBody<InvitationTokenRequest>,
) -> Result<HttpResponse, ApiError> {
    // The flow reads the user with the invitation (401 when they are gone).
    let token = body.0.token;
    let invitation =
        state.flow(Actor::User(me.id), origin, move |conn, ctx| flows::accept(conn, ctx, &token, me.id)).await?;
    Ok(HttpResponse::Ok().json(AcceptedInvitation { account_id: invitation.account_id, roles: invitation.role_keys() }))
}

/// Register through an invitation and accept it; returns tokens as `login`.
///
/// The account's email is the invitation's and cannot be chosen.
#[utoipa::path(
    tag = "invitations", operation_id = "register_with_invitation", request_body = RegisterWithInvitationRequest,
    responses(
        (status = 201, description = "Registered, member, signed in", body = TokenResponse),
        (status = 404, description = "Unknown or replaced link (`invitation_unknown`)", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "Expired (`invitation_expired`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Accepted (`invitation_accepted`), declined (`invitation_declined`) or revoked (`invitation_revoked`), or changed meanwhile (`invitation_changed`), or the email already has a user (`email_taken`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/invitations/register")]
pub async fn register_with_invitation(
    state: web::Data<AppState>,
    origin: Origin,
    body: JsonBody<RegisterWithInvitationRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let token = body.token.clone();
    let email = state
        .flow(Actor::Anonymous, origin.clone(), move |conn, ctx| flows::open_invitation(conn, ctx, &token))
        .await?
        .email;
    let (password, first_name, last_name) = (
        ("password", NewPassword::parse(&body.password, &email)),
        ("first_name", PersonName::parse(&body.first_name)),
        ("last_name", PersonName::parse(&body.last_name)),
    )
        .parse_fields()?;
    let hash = state.passwords.hash(password).await?;
    let shared = state.clone();
    let session = state
        .flow(Actor::Anonymous, origin, move |conn, ctx| -> Result<_, ApiError> {
            // Registered and a member even if signing in then fails: they
            // can sign in with `login`.
            let user = flows::register_and_accept(conn, ctx, &body.token, &first_name, &last_name, &hash)?;
            Ok(sessions::start(conn, ctx, &session_policy(&shared), user)?)
        })
        .await?;
    Ok(HttpResponse::Created().json(TokenResponse::from(session)))
}

/// Decline an invitation (no sign-in needed: the link is the proof).
#[utoipa::path(
    tag = "invitations", operation_id = "decline_invitation", request_body = InvitationTokenRequest,
    responses(
        (status = 204, description = "Declined"),
        (status = 404, description = "Unknown or replaced link (`invitation_unknown`)", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "Expired (`invitation_expired`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Accepted (`invitation_accepted`), declined (`invitation_declined`) or revoked (`invitation_revoked`), or changed meanwhile (`invitation_changed`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/invitations/decline")]
pub async fn decline_invitation(
    state: web::Data<AppState>,
    origin: Origin,
    body: JsonBody<InvitationTokenRequest>,
) -> Result<HttpResponse, ApiError> {
    let token = body.0.token;
    state.flow(Actor::Anonymous, origin, move |conn, ctx| flows::decline(conn, ctx, &token)).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Serialize, ToSchema)]
pub struct MyInvitations {
    pub items: Vec<InvitationView>,
}

/// Pending invitations addressed to my (verified) email.
#[utoipa::path(
    tag = "me", operation_id = "list_my_invitations", security(("bearer" = [])),
    responses((status = 200, description = "Open invitations to my email", body = MyInvitations))
)]
#[get("/me/invitations")]
pub async fn list_my_invitations(state: web::Data<AppState>, me: CurrentUser) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    let items = state
        .db(move |conn| {
            let user = users::find(conn, me.id)?.ok_or(ApiError::Unauthenticated)?;
            if !user.email_verified {
                return Ok(Vec::new());
            }
            Ok(invitations::list_open_for_email(conn, &user.email, now)?)
        })
        .await?;
    Ok(HttpResponse::Ok()
        .json(MyInvitations { items: items.into_iter().map(|i| InvitationView::new(i, now)).collect() }))
}
