use std::sync::Arc;

use actix_web::web;
use domain::Clock;
use persistence::{DbConnection, DbPool};

use crate::access_cache::AccessCache;
use crate::auth::jwt::TokenKeys;
use crate::auth::passwords::PasswordHasher;
use crate::config::Settings;
use crate::flows::{Actor, Ctx, Deployment, Origin};
use crate::http::access::RouteRequirements;
use crate::http::methods::RouteMethods;
use crate::http::problem::ApiError;
use crate::http::rate_limit::{self, Hit, LocalCounters};
use crate::jobs::JobRunner;
use crate::metrics::Metrics;
use crate::outbound::Reach;

/// What every handler shares: built once at start-up, read-only afterwards.
pub struct AppState {
    pub pool: DbPool,
    /// The catalogue, plans and keys flows consult.
    pub deployment: Arc<Deployment>,
    pub clock: Arc<dyn Clock>,
    pub tokens: TokenKeys,
    pub passwords: PasswordHasher,
    /// Where webhooks may be sent.
    pub reach: Reach,
    /// What each account-scoped route requires, as its handler declares it.
    pub requirements: RouteRequirements,
    /// Which methods each documented path supports, for `Allow`.
    pub methods: RouteMethods,
    pub settings: Settings,
    /// The background job runner; woken when a flow may have queued work.
    pub jobs: Arc<JobRunner>,
    pub metrics: Arc<Metrics>,
    /// Who holds what, kept between requests ([`crate::access_cache`]).
    pub access: Arc<AccessCache>,
    /// Rate-limit counters too hot for the database (API keys).
    pub local_limits: LocalCounters,
}

impl AppState {
    /// Runs blocking database work on actix's blocking pool, so that diesel's
    /// synchronous calls never stall the async workers.
    pub async fn db<T, F>(&self, work: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, ApiError> + Send + 'static,
    {
        let (pool, metrics, access) = (self.pool.clone(), self.metrics.clone(), self.access.clone());
        web::block(move || {
            metrics.pool_waiting.inc();
            let conn = pool.get();
            metrics.pool_waiting.dec();
            let mut conn = conn.map_err(|e| ApiError::Unavailable(e.to_string()))?;
            let outcome = work(&mut conn);
            // Before the response: a change is in force at once here.
            access.forget_committed();
            outcome
        })
        .await?
    }
}

impl AppState {
    /// Counts `hits` against the configured rate limits, in one database
    /// hop: `Err` is the 429 to answer with.
    pub async fn limit(&self, hits: Vec<Hit>) -> Result<(), ApiError> {
        let (limits, now) = (self.settings.rate_limits.clone(), self.clock.now());
        let counted = self.db(move |conn| rate_limit::count_all(conn, &limits, now, &hits)).await;
        if let Err(ApiError::RateLimited { name, .. }) = &counted {
            self.metrics.count_refusal(name);
        }
        counted
    }
}

/// Runs flows: on the blocking pool, with a [`Ctx`] for this moment.
pub trait RunFlow {
    /// Runs `work` as `actor` from `origin`; its typed error becomes a
    /// problem at the edge.
    fn flow<T, E, F>(&self, actor: Actor, origin: Origin, work: F) -> impl Future<Output = Result<T, ApiError>>
    where
        T: Send + 'static,
        E: Send + 'static,
        ApiError: From<E>,
        F: FnOnce(&mut DbConnection, &Ctx<'_>) -> Result<T, E> + Send + 'static;
}

impl RunFlow for web::Data<AppState> {
    async fn flow<T, E, F>(&self, actor: Actor, origin: Origin, work: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        E: Send + 'static,
        ApiError: From<E>,
        F: FnOnce(&mut DbConnection, &Ctx<'_>) -> Result<T, E> + Send + 'static,
    {
        let state = self.clone();
        self.db(move |conn| {
            let ctx = Ctx::new(&state.deployment, state.clock.now(), actor, origin);
            Ok(work(conn, &ctx)?)
        })
        .await
        .inspect(|_| self.jobs.wake())
    }
}
