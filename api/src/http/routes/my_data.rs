//! `GET /v1/me/export` and the download link of a copy made in the
//! background (see [`crate::flows::my_data`]).

use actix_web::http::header;
use actix_web::{HttpResponse, get, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::flows::my_data as flows;
use crate::flows::{Actor, Origin};
use crate::http::caller::CurrentUser;
use crate::http::problem::{ApiError, Problem};
use crate::http::state::{AppState, RunFlow};
use crate::personal_export::{PersonalDataExport, collect};

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// `email`: make the copy in the background and email a link to it,
    /// as happens anyway for a long history.
    #[param(value_type = Option<String>, pattern = "^email$")]
    pub delivery: Option<Delivery>,
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Delivery {
    Email,
}

/// A copy being made in the background.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"id": "01937a2e-3333-7000-8000-000000000001", "status": "preparing"}))]
pub struct ExportPreparing {
    pub id: Uuid,
    pub status: ExportStatus,
}

/// `preparing`: a link to it will be emailed to you.
#[derive(Serialize, ToSchema, Clone, Copy)]
#[serde(rename_all = "snake_case")]
#[schema(example = "preparing")]
pub enum ExportStatus {
    Preparing,
}

/// Download everything Roster holds about me.
///
/// One JSON document: your profile, memberships (with roles, groups and the
/// emails you chose), invitations you received and sent, join requests,
/// sessions, and the audit events you are the actor or a subject of. It
/// names nobody else: other people appear by id. Served as an attachment,
/// never cached. For a long history (over 10,000 audit events), or with
/// `delivery=email`, the copy is made in the background instead (202) and
/// a link to it, working for 7 days, is emailed to you; asking again while
/// it is being made gives the same copy, and a new copy ends the links to
/// older ones.
#[utoipa::path(
    tag = "me", operation_id = "export_me", security(("bearer" = [])), params(ExportQuery),
    responses(
        (status = 200, description = "Your data", body = PersonalDataExport),
        (status = 202, description = "Your copy is being made; a link to it will be emailed", body = ExportPreparing),
    )
)]
#[get("/me/export")]
pub async fn export_me(
    state: web::Data<AppState>,
    me: CurrentUser,
    origin: Origin,
    query: web::Query<ExportQuery>,
) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    let asked_by_email = query.delivery == Some(Delivery::Email);
    let copy = state
        .db(move |conn| {
            // Counted, not listed: a long history is told without reading it.
            let long = persistence::personal_data::audit_event_estimate(conn, me.id)? > flows::INLINE_EVENTS;
            if asked_by_email || long { Ok(None) } else { Ok(Some(collect(conn, me.id, now)?)) }
        })
        .await?;
    match copy {
        Some(copy) => Ok(attachment(HttpResponse::Ok().json(copy.ok_or(ApiError::Unauthenticated)?))),
        None => {
            let id =
                state.flow(Actor::User(me.id), origin, move |conn, ctx| flows::request_copy(conn, ctx, me.id)).await?;
            Ok(HttpResponse::Accepted().json(ExportPreparing { id, status: ExportStatus::Preparing }))
        }
    }
}

#[derive(Deserialize, IntoParams)]
pub struct DownloadQuery {
    /// The token from the emailed link.
    #[param(min_length = 1, max_length = 512)]
    pub token: String,
}

/// Download a copy of my data made in the background.
///
/// The link emailed when it was ready; it needs no sign-in (the token is
/// the credential) and works for 7 days, or until you erase yourself.
#[utoipa::path(
    tag = "me", operation_id = "download_my_export", params(DownloadQuery),
    responses(
        (status = 200, description = "Your data", body = PersonalDataExport),
        (status = 404, description = "Unknown or expired link (`export_link_invalid`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/me/export/download")]
pub async fn download_my_export(
    state: web::Data<AppState>,
    query: web::Query<DownloadQuery>,
) -> Result<HttpResponse, ApiError> {
    let (digest, now) = (crate::auth::secrets::digest(&query.token), state.clock.now());
    let copy = state.db(move |conn| Ok(persistence::personal_data::ready_copy(conn, &digest, now)?)).await?;
    let copy = copy.ok_or(ApiError::ExportLinkInvalid)?;
    Ok(attachment(HttpResponse::Ok().content_type("application/json").body(copy)))
}

fn attachment(mut response: HttpResponse) -> HttpResponse {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
    headers
        .insert(header::CONTENT_DISPOSITION, header::HeaderValue::from_static("attachment; filename=\"my-data.json\""));
    response
}
