//! The signed-in user's sessions: where they are signed in, and ending them.
//!
//! Ending a session revokes its refresh token at once; an access token
//! already issued to it keeps working until it expires (at most
//! `ROSTER_ACCESS_TOKEN_TTL_SECONDS`), since access tokens are checked
//! without a database round trip.

use actix_web::{HttpResponse, delete, get, web};
use chrono::{DateTime, Utc};
use persistence::sessions::Session;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::flows::sessions as flows;
use crate::flows::{Actor, Origin};
use crate::http::caller::CurrentUser;
use crate::http::problem::ApiError;
use crate::http::state::{AppState, RunFlow};

#[derive(Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193a3b1-5e2f-7c4d-8a9b-1c2d3e4f5a6b", "created_at": "2026-11-22T09:30:00Z",
    "last_used_at": "2026-11-23T08:10:00Z", "expires_at": "2026-12-23T08:10:00Z",
    "user_agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0", "client_ip": "203.0.113.7", "current": true
}))]
pub struct SessionView {
    pub id: Uuid,
    /// When the user signed in.
    pub created_at: DateTime<Utc>,
    /// When its tokens were last refreshed (or the sign-in, if never).
    pub last_used_at: DateTime<Utc>,
    /// When it ends unless refreshed.
    pub expires_at: DateTime<Utc>,
    pub user_agent: Option<String>,
    pub client_ip: Option<String>,
    /// Whether the access token of this request belongs to it.
    pub current: bool,
}

#[derive(Serialize, ToSchema)]
pub struct SessionList {
    pub items: Vec<SessionView>,
}

fn view(session: Session, current: Option<Uuid>) -> SessionView {
    SessionView {
        current: Some(session.id) == current,
        id: session.id,
        created_at: session.created_at,
        last_used_at: session.last_used_at,
        expires_at: session.expires_at,
        user_agent: session.user_agent,
        client_ip: session.client_ip,
    }
}

/// The signed-in user's live sessions, newest first; the current one is
/// marked.
#[utoipa::path(
    tag = "me", operation_id = "list_sessions", security(("bearer" = [])),
    responses((status = 200, description = "Live sessions, newest first", body = SessionList))
)]
#[get("/me/sessions")]
pub async fn list_sessions(state: web::Data<AppState>, me: CurrentUser) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    let sessions = state.db(move |conn| Ok(persistence::sessions::list_live(conn, me.id, now)?)).await?;
    let items = sessions.into_iter().map(|session| view(session, me.session)).collect();
    Ok(HttpResponse::Ok().json(SessionList { items }))
}

/// End one of the signed-in user's sessions (the current one too, which is
/// signing out).
#[utoipa::path(
    tag = "me", operation_id = "end_session", security(("bearer" = [])),
    params(("session_id" = Uuid, Path, description = "The session")),
    responses(
        (status = 204, description = "The session ended"),
        (status = 404, description = "No such live session of yours (`not_found`)", body = crate::http::problem::Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/me/sessions/{session_id}")]
pub async fn end_session(
    state: web::Data<AppState>,
    me: CurrentUser,
    origin: Origin,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let session = path.into_inner();
    state.flow(Actor::User(me.id), origin, move |conn, ctx| flows::end_one(conn, ctx, me.id, session)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// End every session of the signed-in user except the current one.
#[utoipa::path(
    tag = "me", operation_id = "end_other_sessions", security(("bearer" = [])),
    responses((status = 204, description = "Every other session ended"))
)]
#[delete("/me/sessions")]
pub async fn end_other_sessions(
    state: web::Data<AppState>,
    me: CurrentUser,
    origin: Origin,
) -> Result<HttpResponse, ApiError> {
    state.flow(Actor::User(me.id), origin, move |conn, ctx| flows::end_others(conn, ctx, me.id, me.session)).await?;
    Ok(HttpResponse::NoContent().finish())
}
