use std::net::TcpListener;
use std::sync::Arc;

use actix_web::body::EitherBody;
use actix_web::dev::{Server, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::{ErrorHandlerResponse, ErrorHandlers, from_fn};
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, ResponseError, web};
use domain::Clock;
use persistence::{DbPool, connect_pool, run_migrations};
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::SwaggerUi;

use crate::auth::jwt::{KeyError, TokenKeys};
use crate::auth::passwords;
use crate::config::Settings;
use crate::email::transport::EmailTransport;
use crate::email::worker::OutboxWorker;
use crate::error::{ApiError, PROBLEM_JSON};
use crate::extract::{self, BodyLimit};
use crate::import_worker::ImportWorker;
use crate::scheduler::InvitationScheduler;
use crate::state::AppState;
use crate::{idempotency, openapi, routes, telemetry};

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Keys(#[from] KeyError),
    #[error(transparent)]
    Store(#[from] persistence::StoreError),
    #[error("permissions: {0}")]
    Catalogue(String),
    #[error("email: {0}")]
    Email(String),
    #[error("cannot listen on {address}: {source}")]
    Bind { address: std::net::SocketAddr, source: std::io::Error },
}

/// Opens the database and applies pending migrations.
pub fn prepare_database(settings: &Settings) -> Result<DbPool, StartupError> {
    let pool = connect_pool(&settings.database_url, settings.db_pool_size)?;
    let mut conn = pool.get().map_err(persistence::StoreError::from)?;
    run_migrations(&mut conn)?;
    Ok(pool)
}

/// A bound, not yet running server.
pub struct Application {
    port: u16,
    server: Server,
    outbox_worker: OutboxWorker,
    scheduler: InvitationScheduler,
    import_worker: ImportWorker,
}

impl Application {
    pub fn build(settings: Settings, clock: Arc<dyn Clock>) -> Result<Self, StartupError> {
        let tokens = TokenKeys::load(&settings)?;
        let catalogue = crate::catalogue::load(&settings).map_err(StartupError::Catalogue)?;
        let pool = prepare_database(&settings)?;
        let mut conn = pool.get().map_err(persistence::StoreError::from)?;
        persistence::roles::sync_templates(&mut conn, catalogue.templates(), clock.now())?;
        drop(conn);
        let outbox_worker = OutboxWorker {
            pool: pool.clone(),
            clock: clock.clone(),
            transport: EmailTransport::from_url(&settings.email_transport).map_err(StartupError::Email)?,
            from: settings
                .email_from
                .parse()
                .map_err(|e| StartupError::Email(format!("invalid ROSTER_EMAIL_FROM: {e}")))?,
            poll: std::time::Duration::from_millis(settings.outbox_poll_ms),
        };
        let scheduler = InvitationScheduler {
            pool: pool.clone(),
            clock: clock.clone(),
            public_url: settings.public_url.clone(),
            interval: std::time::Duration::from_millis(settings.scheduler_interval_ms),
        };
        let import_wake = Arc::new(tokio::sync::Notify::new());
        let import_worker = ImportWorker {
            pool: pool.clone(),
            catalogue: catalogue.clone(),
            clock: clock.clone(),
            public_url: settings.public_url.clone(),
            poll: std::time::Duration::from_millis(settings.import_poll_ms),
            wake: import_wake.clone(),
        };
        passwords::warm_up();
        let listener =
            TcpListener::bind(settings.bind).map_err(|source| StartupError::Bind { address: settings.bind, source })?;
        let port =
            listener.local_addr().map_err(|source| StartupError::Bind { address: settings.bind, source })?.port();
        tracing::info!(port, database = %settings.database_url, "roster listening");
        let workers = settings.workers;
        let state = web::Data::new(AppState { pool, catalogue, clock, tokens, settings, import_wake });
        let document = openapi::document();
        let mut server = HttpServer::new(move || {
            let limit = state.settings.body_limit_bytes;
            let (app, _) = App::new().into_utoipa_app().configure(routes::configure).split_for_parts();
            app.app_data(state.clone())
                .app_data(web::PayloadConfig::new(limit))
                .app_data(BodyLimit(limit))
                .app_data(extract::path_config())
                .app_data(extract::query_config())
                .service(SwaggerUi::new("/docs/{_:.*}").url("/openapi.json", document.clone()))
                .service(web::redirect("/docs", "/docs/"))
                .default_service(web::to(unmatched_route))
                .wrap(from_fn(idempotency::idempotency_middleware))
                .wrap(ErrorHandlers::new().default_handler(problem_for_bare_errors))
                .wrap(from_fn(telemetry::request_id_middleware))
        })
        .shutdown_timeout(30);
        if workers > 0 {
            server = server.workers(workers);
        }
        let server = server
            .listen(listener)
            .map_err(|source| StartupError::Bind { address: std::net::SocketAddr::from(([0, 0, 0, 0], port)), source })?
            .run();
        Ok(Self { port, server, outbox_worker, scheduler, import_worker })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until SIGTERM or Ctrl-C, then drains in-flight requests.
    /// The outbox worker, the scheduler and the import job run beside the
    /// server and stop with it.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let background = [
            tokio::spawn(self.outbox_worker.run()),
            tokio::spawn(self.scheduler.run()),
            tokio::spawn(self.import_worker.run()),
        ];
        let outcome = self.server.await;
        for task in background {
            task.abort();
        }
        outcome
    }
}

/// 405 when the path exists with other methods, else 404.
async fn unmatched_route(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(if req.resource_map().has_resource(req.path()) { ApiError::MethodNotAllowed } else { ApiError::RouteNotFound })
}

/// Error responses made outside our handlers (actix's router and extractors)
/// get the problem format too; ours already have it.
fn problem_for_bare_errors<B>(response: ServiceResponse<B>) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let is_problem = response.headers().get(header::CONTENT_TYPE).is_some_and(|value| value == PROBLEM_JSON);
    if is_problem {
        return Ok(ErrorHandlerResponse::Response(response.map_into_left_body()));
    }
    let status = response.status();
    let (request, _) = response.into_parts();
    let problem = ApiError::from_status(status).error_response();
    let response: ServiceResponse<EitherBody<B>> = ServiceResponse::new(request, problem).map_into_right_body();
    Ok(ErrorHandlerResponse::Response(response))
}
