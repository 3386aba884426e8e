//! `/metrics` in the Prometheus text format, served on its own address
//! (`ROSTER_METRICS_BIND`) so that it is not public with the API: request
//! counts and latency by route template and status, the database pool,
//! the job queue, and rate-limit refusals.

use std::sync::atomic::AtomicU64;

use actix_web::{HttpResponse, web};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::http::state::AppState;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    /// The route template (`/v1/accounts/{account_id}/members`), never the
    /// path itself: ids would make every request a series of its own.
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabel {
    kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LimitLabel {
    limit: String,
}

/// The metrics of one instance. Counters are updated as things happen;
/// gauges of shared state (pool, job queue) are read at each scrape.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Histogram>,
    pool_in_use: Gauge,
    pool_idle: Gauge,
    /// Requests waiting for a connection right now.
    pub pool_waiting: Gauge,
    authorization_cache_listening: Gauge,
    jobs_queued: Family<KindLabel, Gauge>,
    oldest_job_age: Family<KindLabel, Gauge<f64, AtomicU64>>,
    rate_limited: Family<LimitLabel, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("roster");
        // From 1 ms to about 16 s.
        let requests = Family::<RequestLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.001, 2.0, 15))
        });
        registry.register(
            "http_request_duration_seconds",
            "HTTP requests by method, route template and status, with their latency",
            requests.clone(),
        );
        let (pool_in_use, pool_idle, pool_waiting) = (Gauge::default(), Gauge::default(), Gauge::default());
        registry.register("db_pool_connections_in_use", "Database connections lent out", pool_in_use.clone());
        registry.register("db_pool_connections_idle", "Database connections open and free", pool_idle.clone());
        registry.register("db_pool_waiting", "Requests waiting for a database connection", pool_waiting.clone());
        let authorization_cache_listening = Gauge::default();
        registry.register(
            "authorization_cache_listening",
            "1 while this instance hears of other instances' changes and answers authorization from memory, else 0",
            authorization_cache_listening.clone(),
        );
        let jobs_queued = Family::<KindLabel, Gauge>::default();
        registry.register("jobs_queued", "Background jobs not done yet, by kind", jobs_queued.clone());
        let oldest_job_age = Family::<KindLabel, Gauge<f64, AtomicU64>>::default();
        registry.register(
            "jobs_oldest_age_seconds",
            "How long the oldest due job of each kind has been waiting",
            oldest_job_age.clone(),
        );
        let rate_limited = Family::<LimitLabel, Counter>::default();
        registry.register("rate_limited", "Requests refused by a rate limit, by limit", rate_limited.clone());
        Metrics {
            registry,
            requests,
            pool_in_use,
            pool_idle,
            pool_waiting,
            authorization_cache_listening,
            jobs_queued,
            oldest_job_age,
            rate_limited,
        }
    }
}

impl Metrics {
    pub fn count_refusal(&self, limit: &str) {
        self.rate_limited.get_or_create(&LimitLabel { limit: limit.to_owned() }).inc();
    }

    /// Times one request of the API (not of the metrics endpoint itself).
    pub fn observe(&self, method: &str, route: String, status: u16, seconds: f64) {
        let labels = RequestLabels { method: method.to_owned(), route, status };
        self.requests.get_or_create(&labels).observe(seconds);
    }
}

/// `GET /metrics`: reads the pool and the job queue, then encodes.
pub async fn scrape(state: web::Data<AppState>) -> HttpResponse {
    let pool = state.pool.state();
    let metrics = &state.metrics;
    metrics.pool_in_use.set(i64::from(pool.connections - pool.idle_connections));
    metrics.pool_idle.set(i64::from(pool.idle_connections));
    metrics.authorization_cache_listening.set(i64::from(state.access.listening()));
    let now = state.clock.now();
    let queue = state.db(move |conn| Ok(persistence::jobs::queue_by_kind(conn, now)?)).await;
    match queue {
        Ok(queue) => {
            metrics.jobs_queued.clear();
            metrics.oldest_job_age.clear();
            for kind in queue {
                let label = KindLabel { kind: kind.kind };
                metrics.jobs_queued.get_or_create(&label).set(kind.queued);
                let age = kind.oldest_due.map_or(0.0, |due| (now - due).num_milliseconds().max(0) as f64 / 1000.0);
                metrics.oldest_job_age.get_or_create(&label).set(age);
            }
        }
        // The database is away: say so by leaving the job series out.
        Err(error) => tracing::warn!(%error, "metrics: the job queue could not be read"),
    }
    let mut body = String::new();
    if let Err(error) = prometheus_client::encoding::text::encode(&mut body, &metrics.registry) {
        tracing::error!(%error, "metrics could not be encoded");
        return HttpResponse::InternalServerError().finish();
    }
    HttpResponse::Ok().content_type("application/openmetrics-text; version=1.0.0; charset=utf-8").body(body)
}
