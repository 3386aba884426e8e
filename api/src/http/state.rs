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
use crate::http::rate_limit::{self, Bucket, Hit, LocalCounters, RecentRefusals};
use crate::jobs::JobRunner;
use crate::metrics::Metrics;
use crate::outbound::Reach;

/// What every handler shares: built once at start-up, read-only afterwards.
pub struct AppState {
    pub pool: DbPool,
    /// Looks up the TXT records that verify an account's domains.
    pub dns: crate::dns::TxtResolver,
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
    /// Rate-limit refusals answered lately, answered again from memory.
    pub recent_refusals: RecentRefusals,
    /// The identity providers of accounts' single sign-on, with their
    /// cached metadata and keys.
    pub identity_providers: Arc<crate::oidc::Providers>,
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
    /// hop: `Err` is the 429 to answer with. A hit this instance refused a
    /// moment ago is refused again from memory, writing nothing.
    pub async fn limit(&self, hits: Vec<Hit>) -> Result<(), ApiError> {
        let now = self.clock.now();
        let refused = match self.recent_refusals.recall(&hits, now) {
            Some(answer) => answer,
            None => {
                let limits = self.settings.rate_limits.clone();
                let (counted, hits) =
                    self.db(move |conn| Ok((rate_limit::count_all(conn, &limits, now, &hits)?, hits))).await?;
                let Err(refusal) = counted else {
                    // Allowed again: what this instance remembered is over.
                    hits.iter().for_each(|hit| self.recent_refusals.forget(hit));
                    return Ok(());
                };
                self.recent_refusals.remember(refusal, now)
            }
        };
        if let ApiError::RateLimited { name, .. } = &refused {
            self.metrics.count_refusal(name);
        }
        Err(refused)
    }

    /// Forgets the counts of `hits`, here and in the database.
    pub async fn forgive(&self, hits: Vec<Hit>) -> Result<(), ApiError> {
        for hit in &hits {
            self.recent_refusals.forget(hit);
        }
        self.db(move |conn| {
            for hit in &hits {
                rate_limit::forgive(conn, hit)?;
            }
            Ok(())
        })
        .await
    }

    /// The right password for `email` came from `client_ip`: the guesses
    /// from that address are forgiven, and the attempt is taken back from
    /// the email's cap, which counts failures from everywhere.
    pub async fn signed_in(&self, email: &str, client_ip: Option<&str>) -> Result<(), ApiError> {
        let guesses = Hit::pair(Bucket::LoginGuess, email, client_ip);
        let attempt = Bucket::LoginEmail.hit(Some(email));
        self.recent_refusals.forget(&guesses);
        self.db(move |conn| {
            rate_limit::forgive(conn, &guesses)?;
            Ok(rate_limit::refund(conn, &attempt)?)
        })
        .await
    }

    /// Forgets every sign-in count of `email` (its password was reset).
    pub async fn forgive_sign_ins(&self, email: String) -> Result<(), ApiError> {
        self.recent_refusals.forget_pairs(Bucket::LoginGuess, &email);
        self.forgive(vec![Bucket::LoginEmail.hit(Some(email.clone()))]).await?;
        self.db(move |conn| Ok(rate_limit::forgive_pairs(conn, Bucket::LoginGuess, &email)?)).await
    }

    /// The hits a sign-in attempt for the typed `email` from `client_ip`
    /// counts: attempts from the address, guesses of the email from it,
    /// and attempts at the email from anywhere, in that order, so that one
    /// address flooding an email is stopped before it spends the email's
    /// cap, which the real person shares.
    pub fn sign_in_hits(email: &str, client_ip: Option<&str>) -> Vec<Hit> {
        vec![
            Bucket::LoginIp.hit(client_ip),
            Hit::pair(Bucket::LoginGuess, email, client_ip),
            Bucket::LoginEmail.hit(Some(email)),
        ]
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
