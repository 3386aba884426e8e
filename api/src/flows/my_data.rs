//! A person's copy of their data (`GET /v1/me/export`): served at once for
//! an ordinary history; for a long one (or when asked), made by the job
//! runner and reached through an emailed link whose token is stored hashed.
//! The copy expires, and goes with the person's erasure.

use chrono::Duration;
use persistence::personal_data;
use persistence::{DbConnection, StoreError, jobs, users, write_transaction};
use uuid::Uuid;

use super::Ctx;
use crate::auth::secrets::OpaqueToken;
use crate::email::kinds::PersonalExportReady;
use crate::email::{self, Message};

pub const JOB_KIND: &str = "personal_export";
/// How long a copy made in the background can be downloaded.
pub const COPY_LIFETIME: Duration = Duration::days(7);
/// Up to this many audit events about the person (as
/// `audit_event_estimate` counts them), the copy is served at once (a few
/// megabytes at most); beyond, it is made in the background.
pub const INLINE_EVENTS: i64 = 10_000;

/// Asks for a copy of `user`'s data made in the background (asking again
/// while one is being made gives that one). Returns its id.
pub fn request_copy(conn: &mut DbConnection, ctx: &Ctx<'_>, user: Uuid) -> Result<Uuid, StoreError> {
    write_transaction(conn, |conn| {
        let (id, new) = personal_data::request_copy(conn, user, ctx.now, ctx.now + COPY_LIFETIME)?;
        if new {
            let job = serde_json::json!({ "export_id": id }).to_string();
            jobs::enqueue(conn, JOB_KIND, &job, ctx.now)?;
        }
        Ok(id)
    })
}

/// Makes the copy `id` and emails its owner the link to it. A copy whose
/// owner is gone, or made already, is left.
pub fn make_copy(conn: &mut DbConnection, ctx: &Ctx<'_>, id: Uuid) -> Result<(), StoreError> {
    let Some(user) = personal_data::copy_to_make(conn, id)? else { return Ok(()) };
    let Some(copy) = crate::personal_export::collect(conn, user, ctx.now)? else { return Ok(()) };
    let document = serde_json::to_string(&copy).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let token = OpaqueToken::generate();
    let expires_at = ctx.now + COPY_LIFETIME;
    write_transaction(conn, |conn| {
        let Some(owner) = users::find(conn, user)? else { return Ok(()) };
        personal_data::store_copy(conn, id, &document, &token.digest(), ctx.now, expires_at)?;
        let download_url = ctx.link(&format!("/v1/me/export/download?token={}", token.expose()));
        let ready = Message::PersonalExportReady(PersonalExportReady { download_url, expires_at });
        email::enqueue(conn, &ready.to(&owner.email), ctx.now)
    })
}
