use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::from_fn;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, ResponseError, web};
use domain::Clock;
use persistence::{DbPool, connect_pool, run_migrations};
use utoipa_actix_web::AppExt;
use uuid::Uuid;

use crate::access_cache::{self, AccessCache};
use crate::auth::jwt::{KeyError, TokenKeys};
use crate::auth::passwords::{self, PasswordHasher};
use crate::auth::sealing::SealingKey;
use crate::config::Settings;
use crate::email::render::{Brand, EmailRenderer};
use crate::email::transport::EmailTransport;
use crate::flows::accounts::AccountError;
use crate::flows::{Actor, Ctx, Deployment, Origin};
use crate::http::access::RouteRequirements;
use crate::http::cors::AllowedOrigins;
use crate::http::docs::Docs;
use crate::http::extract::{self, BodyLimit};
use crate::http::methods::RouteMethods;
use crate::http::problem::ApiError;
use crate::http::state::AppState;
use crate::http::{edge, idempotency, openapi, routes};
use crate::jobs::JobRunner;
use crate::metrics::{self, Metrics};
use crate::outbound::Reach;

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Keys(#[from] KeyError),
    #[error(transparent)]
    Store(#[from] persistence::StoreError),
    #[error("permissions: {0}")]
    Catalogue(String),
    #[error("plans: {0}")]
    Plans(String),
    #[error("email: {0}")]
    Email(String),
    #[error("jobs: {0}")]
    Jobs(String),
    #[error("CORS: {0}")]
    Cors(String),
    #[error("single sign-on: {0}")]
    SingleSignOn(String),
    #[error(
        "the secrets key cannot open the webhook secrets stored in the database: set ROSTER_SECRETS_KEY_FILE \
         (--secrets-key-file) to the key they were sealed with"
    )]
    SealingKeyMismatch,
    #[error("OpenAPI document: {0}")]
    Document(serde_json::Error),
    #[error("route table: {0}")]
    Routes(String),
    #[error("cannot start the password hashing threads: {0}")]
    Threads(std::io::Error),
    #[error("cannot start the authorization cache's listener thread: {0}")]
    Listener(std::io::Error),
    #[error("DNS: {0}")]
    Dns(String),
    #[error("cannot listen on {address}: {source}")]
    Bind { address: std::net::SocketAddr, source: std::io::Error },
}

/// Opens the database and applies pending migrations.
pub fn prepare_database(settings: &Settings) -> Result<DbPool, StartupError> {
    let wait = std::time::Duration::from_millis(settings.db_connect_wait_ms);
    let pool = connect_pool(&settings.database_url, settings.pool_size(), wait)?;
    let mut conn = pool.get().map_err(persistence::StoreError::from)?;
    run_migrations(&mut conn)?;
    Ok(pool)
}

/// Opens one connection and applies pending migrations, for commands that
/// run once.
pub fn open_database(settings: &Settings) -> Result<persistence::DbConnection, StartupError> {
    let mut conn = persistence::connect(&settings.database_url)?;
    run_migrations(&mut conn)?;
    Ok(conn)
}

/// The permission catalogue, the plans and the sealing key, as configured.
pub fn load_deployment(settings: &Settings) -> Result<Deployment, StartupError> {
    Ok(Deployment {
        catalogue: crate::catalogue::load(settings).map_err(StartupError::Catalogue)?,
        plans: crate::plans::load(settings).map_err(StartupError::Plans)?,
        secrets: SealingKey::load(settings)?,
        public_url: settings.public_url.clone(),
        emails: load_emails(settings)?,
        deletion_grace: chrono::Duration::days(i64::from(settings.account_deletion_grace_days)),
        audit_archive: (settings.audit_archive_days > 0)
            .then(|| chrono::Duration::days(i64::from(settings.audit_archive_days))),
    })
}

/// The email templates and words, with the operator's brand; every
/// template (built-in or overridden) has rendered every sample.
pub fn load_emails(settings: &Settings) -> Result<EmailRenderer, StartupError> {
    let invalid = |setting: &str, reason: String| StartupError::Email(format!("invalid {setting}: {reason}"));
    let product_name = settings.product_name.trim();
    if product_name.is_empty() || product_name.chars().count() > 100 || product_name.chars().any(char::is_control) {
        return Err(invalid("ROSTER_PRODUCT_NAME", "give a name of 1 to 100 characters on one line".into()));
    }
    let support_email = match settings.support_email.as_deref() {
        Some(address) => Some(
            address.parse::<lettre::Address>().map_err(|e| invalid("ROSTER_SUPPORT_EMAIL", e.to_string()))?.to_string(),
        ),
        None => None,
    };
    let web_address = |setting: &str, value: Option<&str>, schemes: &[&str]| match value {
        Some(text) => match url::Url::parse(text) {
            Ok(url) if schemes.contains(&url.scheme()) && url.host().is_some() => Ok(Some(url.to_string())),
            _ => Err(invalid(setting, format!("give an absolute {} URL", schemes.join(" or ")))),
        },
        None => Ok(None),
    };
    let brand = Brand {
        product_name: product_name.to_owned(),
        support_email,
        support_url: web_address("ROSTER_SUPPORT_URL", settings.support_url.as_deref(), &["https", "http"])?,
        logo_url: web_address("ROSTER_LOGO_URL", settings.logo_url.as_deref(), &["https"])?,
    };
    let locale =
        domain::Locale::parse(&settings.default_locale).map_err(|e| invalid("ROSTER_DEFAULT_LOCALE", e.message))?;
    let renderer = EmailRenderer::new(brand, &locale, settings.email_templates_dir.as_deref())
        .map_err(|e| StartupError::Email(e.to_string()))?;
    if !renderer.overridden().is_empty() {
        tracing::info!(templates = ?renderer.overridden(), "email templates overridden");
    }
    Ok(renderer)
}

/// The sender of every email: the configured address, under the product's
/// name unless the address has a name of its own.
fn email_sender(settings: &Settings, brand: &Brand) -> Result<lettre::message::Mailbox, StartupError> {
    let mut from: lettre::message::Mailbox =
        settings.email_from.parse().map_err(|e| StartupError::Email(format!("invalid ROSTER_EMAIL_FROM: {e}")))?;
    if from.name.as_deref().is_none_or(str::is_empty) {
        from.name = Some(brand.product_name.clone());
    }
    Ok(from)
}

/// Refuses a sealing key that cannot open the stored secrets (a key file
/// replaced or lost): every webhook delivery would fail, so the server
/// should not start as if it could deliver them.
fn check_sealing_key(conn: &mut persistence::DbConnection, deployment: &Deployment) -> Result<(), StartupError> {
    match persistence::webhooks::newest_sealed_secret(conn)? {
        Some(sealed) if deployment.secrets.open(&sealed).is_err() => Err(StartupError::SealingKeyMismatch),
        _ => Ok(()),
    }
}

/// The job runner over `pool`, delivering email as configured.
fn job_runner(
    settings: &Settings,
    pool: DbPool,
    deployment: Arc<Deployment>,
    clock: Arc<dyn Clock>,
) -> Result<JobRunner, StartupError> {
    let sender = email_sender(settings, deployment.emails.brand())?;
    let audit_archive = deployment.audit_archive;
    JobRunner::new(
        pool,
        deployment,
        Reach { private_networks: settings.webhook_allow_private_networks },
        clock,
        EmailTransport::from_url(&settings.email_transport).map_err(StartupError::Email)?,
        sender,
        std::time::Duration::from_millis(settings.jobs_poll_ms),
        crate::jobs::periodic::Schedule {
            invitation_interval: std::time::Duration::from_millis(settings.scheduler_interval_ms),
            audit_retention: (settings.audit_retention_days > 0)
                .then(|| chrono::Duration::days(i64::from(settings.audit_retention_days))),
            audit_archive,
            domain_recheck: chrono::Duration::hours(i64::from(settings.domain_recheck_hours)),
        },
        crate::dns::TxtResolver::new(settings.dns_resolver).map_err(StartupError::Dns)?,
    )
    .map_err(StartupError::Jobs)
}

/// `roster run-jobs`: runs the due background jobs until none is left, then
/// returns how many ran. For operators (and tests) who drain the queue
/// from outside a server.
pub async fn run_jobs_until_idle(
    settings: &Settings,
    clock: Arc<dyn Clock>,
    only: Option<&[String]>,
) -> Result<usize, StartupError> {
    let deployment = Arc::new(load_deployment(settings)?);
    let pool = prepare_database(settings)?;
    let runner = job_runner(settings, pool, deployment, clock)?;
    runner.register_periodic().map_err(StartupError::Jobs)?;
    runner.run_kinds_until_idle(only).await.map_err(StartupError::Jobs)
}

/// `roster accounts set-plan`: puts `account` on `plan`, recorded in its
/// audit log as done by the system.
pub fn set_account_plan(settings: &Settings, clock: Arc<dyn Clock>, account: Uuid, plan: &str) -> Result<(), String> {
    let deployment = load_deployment(settings).map_err(|e| e.to_string())?;
    let mut conn = open_database(settings).map_err(|e| e.to_string())?;
    let ctx = Ctx::new(&deployment, clock.now(), Actor::System, Origin::default());
    crate::flows::accounts::set_plan(&mut conn, &ctx, account, plan).map_err(|error| match error {
        AccountError::UnknownPlan { key, known } => format!("no plan {key:?}; the plans are {}", known.join(", ")),
        other => other.to_string(),
    })
}

/// A bound, not yet running server.
pub struct Application {
    port: u16,
    server: Server,
    /// The metrics listener, when `ROSTER_METRICS_BIND` is set.
    metrics: Option<(u16, Server)>,
    jobs: Arc<JobRunner>,
    access: Arc<AccessCache>,
    /// Whether the job runner runs beside the server (`ROSTER_JOBS`).
    run_jobs: bool,
    /// On SQLite, this instance checkpoints the write-ahead log.
    database_url: persistence::DatabaseUrl,
}

/// How often SQLite's write-ahead log is copied into the database file.
const WAL_CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_millis(100);

/// Checkpoints SQLite's write-ahead log beside the requests, so that no
/// commit has to ([`persistence::checkpoint`]), on a connection of its own:
/// one taken from the pool would be one fewer for requests while it copies.
async fn checkpoint_wal(url: persistence::DatabaseUrl) {
    let mut conn: Option<persistence::DbConnection> = None;
    loop {
        tokio::time::sleep(WAL_CHECKPOINT_EVERY).await;
        let (url, kept) = (url.clone(), conn.take());
        let done = tokio::task::spawn_blocking(move || {
            let mut open = match kept {
                Some(open) => open,
                None => persistence::connect(&url)?,
            };
            persistence::checkpoint(&mut open)?;
            Ok::<_, persistence::StoreError>(open)
        })
        .await;
        match done {
            Ok(Ok(open)) => conn = Some(open),
            Ok(Err(error)) => tracing::warn!(%error, "SQLite's write-ahead log could not be checkpointed"),
            Err(_) => {}
        }
    }
}

impl Application {
    pub fn build(settings: Settings, clock: Arc<dyn Clock>) -> Result<Self, StartupError> {
        let tokens = TokenKeys::load(&settings)?;
        let deployment = Arc::new(load_deployment(&settings)?);
        let pool = prepare_database(&settings)?;
        let mut conn = pool.get().map_err(persistence::StoreError::from)?;
        check_sealing_key(&mut conn, &deployment)?;
        persistence::roles::sync_templates(&mut conn, deployment.catalogue.templates(), clock.now())?;
        drop(conn);
        let access = Arc::new(AccessCache::default());
        let jobs = Arc::new(
            job_runner(&settings, pool.clone(), deployment.clone(), clock.clone())?.with_access_cache(access.clone()),
        );
        jobs.register_periodic().map_err(StartupError::Jobs)?;
        passwords::warm_up();
        let passwords = PasswordHasher::start(
            settings.password_hashing_threads,
            std::time::Duration::from_millis(settings.password_hashing_wait_ms),
        )
        .map_err(StartupError::Threads)?;
        let listener =
            TcpListener::bind(settings.bind).map_err(|source| StartupError::Bind { address: settings.bind, source })?;
        let port =
            listener.local_addr().map_err(|source| StartupError::Bind { address: settings.bind, source })?.port();
        tracing::info!(port, database = %settings.database_url, "roster listening");
        access_cache::listen(
            &access,
            settings.database_url.clone(),
            format!("roster-{port}"),
            std::time::Duration::from_millis(settings.authorization_listener_retry_ms),
        )
        .map_err(StartupError::Listener)?;
        let workers = settings.workers;
        let document = openapi::document_for(&deployment.catalogue);
        let requirements = RouteRequirements::from_document(&document).map_err(StartupError::Routes)?;
        let methods = RouteMethods::from_document(&document);
        let docs = Docs::new(&document, &settings.public_url, deployment.emails.brand().product_name.as_str())
            .map_err(StartupError::Document)?;
        let origins =
            AllowedOrigins::parse(&settings.public_url, &settings.cors_allowed_origins).map_err(StartupError::Cors)?;
        let run_jobs = settings.jobs;
        let database_url = settings.database_url.clone();
        let dns = crate::dns::TxtResolver::new(settings.dns_resolver).map_err(StartupError::Dns)?;
        let identity_providers = Arc::new(
            crate::oidc::Providers::new(Reach { private_networks: settings.sso_allow_private_networks })
                .map_err(|e| StartupError::SingleSignOn(format!("the HTTP client: {e}")))?,
        );
        let state = web::Data::new(AppState {
            pool,
            dns,
            deployment,
            clock,
            tokens,
            passwords,
            reach: Reach { private_networks: settings.webhook_allow_private_networks },
            requirements,
            methods,
            settings,
            jobs: jobs.clone(),
            metrics: Arc::new(Metrics::default()),
            access: access.clone(),
            local_limits: Default::default(),
            recent_refusals: Default::default(),
            identity_providers,
        });
        let metrics = match state.settings.metrics_bind {
            Some(address) => Some(metrics_server(address, state.clone())?),
            None => None,
        };
        let mut server = HttpServer::new(move || {
            let limit = state.settings.body_limit_bytes;
            let (app, _) = App::new().into_utoipa_app().configure(routes::configure).split_for_parts();
            app.app_data(state.clone())
                .app_data(web::PayloadConfig::new(limit))
                .app_data(BodyLimit(limit))
                .app_data(extract::path_config())
                .app_data(extract::query_config())
                .configure(|cfg| docs.configure(cfg))
                .configure(crate::http::scim::configure)
                .default_service(web::to(unmatched_route))
                .wrap(from_fn(idempotency::idempotency_middleware))
                .wrap(from_fn(extract::refuse_undecodable_query))
                // Outside the handlers and idempotency, so that errors and
                // replays carry CORS headers too; inside the edge, so that a
                // refused preflight is a problem document.
                .wrap(origins.middleware())
                .wrap(from_fn(edge::edge))
        })
        .shutdown_timeout(30);
        if workers > 0 {
            server = server.workers(workers);
        }
        let server = server
            .listen(listener)
            .map_err(|source| StartupError::Bind { address: std::net::SocketAddr::from(([0, 0, 0, 0], port)), source })?
            .run();
        Ok(Self { port, server, metrics, jobs, access, run_jobs, database_url })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The port `/metrics` is served on, when it is.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics.as_ref().map(|(port, _)| *port)
    }

    /// The job runner, for driving background work by hand (tests, and
    /// instances started with `ROSTER_JOBS=false`).
    pub fn jobs(&self) -> Arc<JobRunner> {
        self.jobs.clone()
    }

    /// The instance's authorization cache (tests watch its listener).
    pub fn access_cache(&self) -> Arc<AccessCache> {
        self.access.clone()
    }

    /// Serves until SIGTERM or Ctrl-C, then drains in-flight requests. The
    /// job runner, unless turned off, runs beside the server and stops with
    /// it.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let background = self.run_jobs.then(|| tokio::spawn(self.jobs.clone().run()));
        let sqlite = matches!(self.database_url, persistence::DatabaseUrl::Sqlite(_));
        let checkpoints = sqlite.then(|| tokio::spawn(checkpoint_wal(self.database_url.clone())));
        let metrics = self.metrics.map(|(_, server)| {
            let handle = server.handle();
            (tokio::spawn(server), handle)
        });
        let outcome = self.server.await;
        if let Some((task, handle)) = metrics {
            handle.stop(true).await;
            let _ = task.await;
        }
        for task in [background, checkpoints].into_iter().flatten() {
            task.abort();
        }
        outcome
    }
}

/// The listener of `GET /metrics`, apart from the API's: one worker is
/// plenty for a scraper.
fn metrics_server(address: std::net::SocketAddr, state: web::Data<AppState>) -> Result<(u16, Server), StartupError> {
    let bind_error = |source| StartupError::Bind { address, source };
    let listener = TcpListener::bind(address).map_err(bind_error)?;
    let port = listener.local_addr().map_err(bind_error)?.port();
    let server =
        HttpServer::new(move || App::new().app_data(state.clone()).route("/metrics", web::get().to(metrics::scrape)))
            .workers(1)
            .disable_signals()
            .listen(listener)
            .map_err(bind_error)?
            .run();
    tracing::info!(port, "metrics listening");
    Ok((port, server))
}

/// 405 with `Allow` when the path exists with other methods, else 404.
async fn unmatched_route(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let allow = state.methods.allow(req.path()).or_else(|| {
        // Undocumented routes (the API explorer) are GET only.
        req.resource_map().has_resource(req.path()).then(|| "GET".to_owned())
    });
    match allow.and_then(|allow| HeaderValue::from_str(&allow).ok()) {
        Some(allow) => {
            let mut response = ApiError::MethodNotAllowed.error_response();
            response.headers_mut().insert(header::ALLOW, allow);
            response
        }
        None => ApiError::RouteNotFound.error_response(),
    }
}
