//! The directory behind a SCIM request: `Authorization: Bearer scim_…`,
//! looked up by digest, live, on a plan with `directory_sync`, within its
//! rate limit. Its account is the only one the request can touch.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use chrono::Duration;
use domain::plan::Feature;
use persistence::scim_tokens;
use uuid::Uuid;

use super::error::ScimError;
use crate::flows::Actor;
use crate::flows::scim_tokens::PREFIX;
use crate::http::caller::bearer_token;
use crate::http::problem::ApiError;
use crate::http::rate_limit::Bucket;
use crate::http::state::AppState;

/// How often a token's `last_used_at` is written: per request would cost
/// a write each.
const TOUCH_EVERY: i64 = 60;

#[derive(Debug, Clone, Copy)]
pub struct Directory {
    pub account_id: Uuid,
    pub token_id: Uuid,
}

impl Directory {
    pub fn actor(&self) -> Actor {
        Actor::Directory(self.token_id)
    }
}

impl FromRequest for Directory {
    type Error = ScimError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ScimError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let presented = bearer_token(req).filter(|token| token.starts_with(PREFIX)).map(crate::auth::secrets::digest);
        Box::pin(async move {
            let state = state.ok_or_else(|| ApiError::internal("application state is not registered"))?;
            let digest = presented.ok_or(ApiError::Unauthenticated)?;
            let (token, plan) = state
                .db(move |conn| Ok(scim_tokens::live_with_plan(conn, &digest)?))
                .await?
                .ok_or(ApiError::Unauthenticated)?;
            crate::http::access::check_feature(&state.deployment.plans, Some(plan), Feature::DirectorySync)?;
            let now = state.clock.now();
            let limits = &state.settings.rate_limits;
            let subject = token.id.to_string();
            if let Err(refused) = state.local_limits.count(limits, now, Bucket::ScimToken, &subject) {
                state.metrics.count_refusal(Bucket::ScimToken.name());
                return Err(refused.into());
            }
            if token.last_used_at.is_none_or(|at| now - at >= Duration::seconds(TOUCH_EVERY)) {
                let id = token.id;
                state.db(move |conn| Ok(scim_tokens::touch(conn, id, now)?)).await?;
            }
            Ok(Directory { account_id: token.account_id, token_id: token.id })
        })
    }
}
