//! The test harness: a real Roster server on a random port, against a fresh
//! database per test, talked to over real HTTP.
//!
//! Every test is written once as `async fn name(app: TestApp)` and listed in
//! [`on_both_backends!`], which runs it on SQLite and on PostgreSQL.

pub mod contract;
pub mod dns;
pub mod oidc;
mod postgres;
pub mod scim;
mod smtp;
mod webhooks;

use std::path::PathBuf;
use std::sync::Arc;

use api::jobs::JobRunner;
use api::{Application, Settings};
use domain::{Clock, ManualClock, SystemClock};
use persistence::{DatabaseUrl, DbPool};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

pub use postgres::{OwnCluster, TestDatabase};
pub use smtp::{MailSink, ReceivedEmail};
pub use webhooks::{ReceivedWebhook, WebhookReceiver};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A running server with its own database and data directory, removed when
/// the value is dropped.
pub struct TestApp {
    pub address: String,
    /// Where `/metrics` is served, when the test asked for it
    /// (`settings.metrics_bind`).
    pub metrics_address: Option<String>,
    pub client: reqwest::Client,
    pub backend: Backend,
    /// A separate pool on the server's database, for arranging state that
    /// no endpoint creates yet and for checking what was stored.
    pub pool: DbPool,
    pub settings: Settings,
    /// The SMTP server the app delivers email to.
    pub mail: MailSink,
    /// The DNS server the app looks domains' records up on.
    pub dns: dns::DnsServer,
    /// The server's clock: it moves only when a test advances it.
    pub clock: Arc<ManualClock>,
    /// The server's background jobs, which run only when a test runs them.
    pub jobs: Arc<JobRunner>,
    data_dir: PathBuf,
    _database: Option<TestDatabase>,
}

/// Another instance of the server under test.
pub struct Sibling {
    pub address: String,
    pub jobs: Arc<JobRunner>,
    /// Its authorization cache, whose listener tests watch.
    pub access: Arc<api::access_cache::AccessCache>,
}

/// A response with its body already read.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Reply {
    /// Asserts the status and, for errors, that the body is a problem
    /// document with the given `code`.
    #[track_caller]
    pub fn expect_problem(&self, status: u16, code: &str) -> &Self {
        assert_eq!(self.status.as_u16(), status, "unexpected status; body: {}", self.body);
        let content_type = self.headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default();
        assert_eq!(content_type, "application/problem+json", "errors must be problem+json; body: {}", self.body);
        assert_eq!(self.body["code"], code, "unexpected problem: {}", self.body);
        assert_eq!(self.body["status"], status);
        assert!(self.body["title"].is_string() && self.body["detail"].is_string() && self.body["type"].is_string());
        self
    }

    #[track_caller]
    pub fn expect_status(&self, status: u16) -> &Value {
        assert_eq!(self.status.as_u16(), status, "unexpected status; body: {}", self.body);
        &self.body
    }
}

/// A registered, signed-in user.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub id: String,
    pub email: String,
    pub password: String,
    pub access_token: String,
    pub refresh_token: String,
}

pub const PASSWORD: &str = "correct horse battery";

/// Asks `condition` every millisecond until it holds and returns how long
/// that took; fails past `bound`, naming `what`. For what the product
/// promises "within a bound" (another instance, another process hears of a
/// change), never for background work: tests drive that (`run_jobs`).
pub async fn eventually<F, Fut>(what: &str, bound: std::time::Duration, mut condition: F) -> std::time::Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = std::time::Instant::now();
    loop {
        if condition().await {
            return started.elapsed();
        }
        assert!(started.elapsed() < bound, "{what}: not after {bound:?}");
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
}

/// The operator token every test server accepts (its SHA-256 is configured).
pub const OPERATOR_TOKEN: &str = "test-operator-token-0123456789abcdef";

impl TestApp {
    /// Starts a server on `backend`. `None` when PostgreSQL cannot be had
    /// outside CI (the harness has said so loudly); under `CI=true` that
    /// fails the test instead.
    pub async fn spawn(backend: Backend) -> Option<TestApp> {
        Self::spawn_with(backend, |_| {}).await
    }

    pub async fn spawn_with(backend: Backend, adjust: impl FnOnce(&mut Settings)) -> Option<TestApp> {
        let data_dir = std::env::temp_dir().join(format!("roster-test-{}", uuid::Uuid::new_v4().simple()));
        let (database_url, database) = match backend {
            Backend::Sqlite => (DatabaseUrl::Sqlite(data_dir.join("roster.db")), None),
            Backend::Postgres => {
                let database = TestDatabase::create()?;
                (DatabaseUrl::Postgres(database.url.clone()), Some(database))
            }
        };
        let mut settings = Settings::defaults();
        settings.database_url = database_url.clone();
        settings.bind = "127.0.0.1:0".parse().expect("a valid socket address");
        settings.data_dir = data_dir.clone();
        settings.workers = 2;
        settings.db_pool_size = 5;
        let mail = MailSink::start().await;
        settings.email_transport = mail.url();
        let dns = dns::DnsServer::start().await;
        settings.dns_resolver = Some(dns.address);
        // Background work runs when a test says so (`run_jobs`), never on
        // its own: what a test asserts about it cannot depend on timing.
        settings.jobs = false;
        // The test receivers listen on 127.0.0.1; the SSRF guard is tested
        // on servers started with it on.
        settings.webhook_allow_private_networks = true;
        // The test OpenID providers run on 127.0.0.1 over http too.
        settings.sso_allow_private_networks = true;
        settings.sso_redirect_uris = vec![oidc::FRONTEND.to_owned()];
        // Eight servers share two cores while the suite runs: sign-ins may
        // wait for a hashing thread far longer than in production.
        settings.password_hashing_wait_ms = 30_000;
        // Every test signs its users in from 127.0.0.1; the limits are
        // tested by tests that set them.
        settings.rate_limits = api::config::RateLimitSettings::off();
        settings.operator_token_sha256 = Some(api::auth::secrets::digest(OPERATOR_TOKEN).parse().expect("a digest"));
        adjust(&mut settings);
        let clock = Arc::new(ManualClock::starting_at(SystemClock.now()));
        let app = Application::build(settings.clone(), clock.clone()).expect("the server starts");
        let address = format!("http://127.0.0.1:{}", app.port());
        let metrics_address = app.metrics_port().map(|port| format!("http://127.0.0.1:{port}"));
        let jobs = app.jobs();
        tokio::spawn(app.run_until_stopped());
        let pool = persistence::connect_pool(&database_url, 2, std::time::Duration::from_secs(10))
            .expect("the test pool connects");
        Some(TestApp {
            address,
            metrics_address,
            // Idle connections are dropped before the server's keep-alive
            // (5 s) ends them: a connection the server is closing, reused
            // for the next request, fails as IncompleteMessage (seen when
            // fifty parallel sign-ups outlast it on a loaded machine).
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .pool_idle_timeout(std::time::Duration::from_secs(2))
                .build()
                .expect("a client"),
            backend,
            pool,
            settings,
            mail,
            dns,
            clock,
            jobs,
            data_dir,
            _database: database,
        })
    }

    /// Starts a second server on the same database, signing key, clock and
    /// SMTP server, as another instance behind a load balancer would be.
    /// It runs until the test ends.
    pub fn spawn_sibling(&self) -> Sibling {
        self.spawn_sibling_with(|_| {})
    }

    /// [`TestApp::spawn_sibling`] with settings of its own.
    pub fn spawn_sibling_with(&self, adjust: impl FnOnce(&mut Settings)) -> Sibling {
        let mut settings = self.settings.clone();
        settings.bind = "127.0.0.1:0".parse().expect("a valid socket address");
        adjust(&mut settings);
        let app = Application::build(settings, self.clock.clone()).expect("the sibling starts");
        let address = format!("http://127.0.0.1:{}", app.port());
        let sibling = Sibling { address, jobs: app.jobs(), access: app.access_cache() };
        tokio::spawn(app.run_until_stopped());
        sibling
    }

    /// Runs the server's due background jobs until none is left.
    pub async fn run_jobs(&self) -> usize {
        self.jobs.run_until_idle().await.expect("the jobs run")
    }

    /// Moves the server's clock forward and runs the jobs that became due.
    pub async fn advance(&self, by: chrono::Duration) {
        self.clock.advance(by);
        self.run_jobs().await;
    }

    /// The emails `recipient` has received once every queued job ran; at
    /// least `count` of them.
    #[track_caller]
    pub fn emails_to(&self, recipient: &str, count: usize) -> impl std::future::Future<Output = Vec<ReceivedEmail>> {
        let caller = std::panic::Location::caller();
        async move {
            self.run_jobs().await;
            let mail = self.mail.to(recipient);
            assert!(mail.len() >= count, "{caller}: {recipient} received {} email(s), expected {count}", mail.len());
            mail
        }
    }

    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn request(&self, method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> Reply {
        let mut request = self.client.request(method.clone(), self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let reply = Self::read(request.send().await.expect("the server answers")).await;
        contract::check_problem(&method, path, &reply);
        reply
    }

    pub async fn read(response: reqwest::Response) -> Reply {
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.expect("a readable body");
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        Reply { status, headers, body }
    }

    /// The `ETag` of what `path` answers to a GET.
    pub async fn etag_of(&self, path: &str, token: &str) -> String {
        let read = self.get(path, Some(token)).await;
        read.headers.get("etag").and_then(|v| v.to_str().ok()).expect("an ETag").to_owned()
    }

    /// A request naming the version it was read at (`If-Match`), if any.
    pub async fn request_if_match(
        &self,
        method: Method,
        path: &str,
        token: &str,
        if_match: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut request = self.client.request(method.clone(), self.url(path)).bearer_auth(token);
        if let Some(tag) = if_match {
            request = request.header("if-match", tag);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let reply = Self::read(request.send().await.expect("the server answers")).await;
        contract::check_problem(&method, path, &reply);
        reply
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Reply {
        self.request(Method::GET, path, token, None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Reply {
        self.request(Method::POST, path, token, Some(body)).await
    }

    pub async fn delete(&self, path: &str, token: Option<&str>) -> Reply {
        self.request(Method::DELETE, path, token, None).await
    }

    pub async fn put(&self, path: &str, token: Option<&str>, body: Value) -> Reply {
        self.request(Method::PUT, path, token, Some(body)).await
    }

    pub async fn patch(&self, path: &str, token: Option<&str>, body: Value) -> Reply {
        self.request(Method::PATCH, path, token, Some(body)).await
    }

    /// Sends raw bytes with the given content type.
    pub async fn post_raw(&self, path: &str, content_type: &str, body: impl Into<reqwest::Body>) -> Reply {
        let response = self
            .client
            .post(self.url(path))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .expect("the server answers");
        Self::read(response).await
    }

    pub async fn register(&self, email: &str) -> Reply {
        self.post(
            "/v1/auth/register",
            None,
            json!({"email": email, "password": PASSWORD, "first_name": "Ada", "last_name": "Lovelace"}),
        )
        .await
    }

    /// Registers, proves the email address (as its verification link
    /// would) and signs in: a user who may do everything a person may.
    pub async fn sign_up(&self, email: &str) -> SignedIn {
        let user = self.sign_up_unverified(email).await;
        self.mark_verified(&user.id);
        user
    }

    /// Registers and signs in without confirming the email address.
    pub async fn sign_up_unverified(&self, email: &str) -> SignedIn {
        self.register(email).await.expect_status(202);
        let tokens = self.post("/v1/auth/login", None, json!({"email": email, "password": PASSWORD})).await;
        let tokens = tokens.expect_status(200);
        let access_token = tokens["access_token"].as_str().expect("an access token");
        let me = self.get("/v1/me", Some(access_token)).await;
        SignedIn {
            id: me.expect_status(200)["id"].as_str().expect("an id").to_owned(),
            email: email.to_lowercase(),
            password: PASSWORD.into(),
            access_token: tokens["access_token"].as_str().expect("an access token").to_owned(),
            refresh_token: tokens["refresh_token"].as_str().expect("a refresh token").to_owned(),
        }
    }

    /// Creates an account owned by `owner` and returns its id.
    pub async fn create_account(&self, owner: &SignedIn, name: &str) -> String {
        let reply = self.post("/v1/accounts", Some(&owner.access_token), json!({"name": name})).await;
        reply.expect_status(201)["id"].as_str().expect("an account id").to_owned()
    }

    /// Makes `user` a member of `account` with the given roles (by key),
    /// directly in the database: for arranging members no endpoint adds.
    pub fn add_member(&self, account: &str, user: &str, role_keys: &[&str]) {
        let mut conn = self.db();
        let account = uuid::Uuid::parse_str(account).expect("an account id");
        let roles = persistence::roles::list_visible_by_keys(&mut conn, account, role_keys).expect("roles load");
        assert_eq!(roles.len(), role_keys.len(), "unknown role among {role_keys:?}");
        let role_ids: Vec<uuid::Uuid> = roles.iter().map(|role| role.id).collect();
        let user = uuid::Uuid::parse_str(user).expect("a user id");
        persistence::memberships::add(&mut conn, account, user, &role_ids, chrono::Utc::now())
            .expect("membership added");
    }

    /// Sets the user's email as verified, directly in the database.
    pub fn mark_verified(&self, user: &str) {
        use diesel::prelude::*;
        use persistence::schema::users;
        let updated = diesel::update(users::table.find(user))
            .set(users::email_verified.eq(true))
            .execute(&mut self.db())
            .expect("the user is updated");
        assert_eq!(updated, 1, "no user {user}");
    }

    pub fn db(&self) -> persistence::PooledConnection {
        self.pool.get().expect("a test connection")
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}

/// Runs each listed `async fn(TestApp)` once on SQLite and once on
/// PostgreSQL, as `sqlite::NAME` and `postgres::NAME`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let app = $crate::TestApp::spawn($crate::Backend::Sqlite).await.expect("SQLite is always available");
                    super::$name(app).await;
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(app) = $crate::TestApp::spawn($crate::Backend::Postgres).await else { return };
                    super::$name(app).await;
                }
            )+
        }
    };
}

/// Like [`on_both_backends!`], for tests that start their own servers (with
/// settings of their own): each function takes the [`Backend`].
#[macro_export]
macro_rules! for_both_backends {
    ($($name:ident),+ $(,)?) => {
        mod sqlite_servers {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::Backend::Sqlite).await;
                }
            )+
        }
        mod postgres_servers {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::Backend::Postgres).await;
                }
            )+
        }
    };
}

/// The `roster` binary built next to the test executable (`make test`
/// builds it), for tests that must run the real process.
pub fn roster_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("the test executable's path");
    let dir = exe.parent().and_then(|deps| deps.parent()).expect("target/<profile>");
    let binary = dir.join("roster");
    assert!(binary.exists(), "{} is missing: run `cargo build -p api --bin roster` (make test does)", binary.display());
    binary
}

/// A fresh, empty database for a test that runs its own server process.
pub fn fresh_database(backend: Backend, dir: &std::path::Path) -> Option<(DatabaseUrl, Option<TestDatabase>)> {
    match backend {
        Backend::Sqlite => Some((DatabaseUrl::Sqlite(dir.join("roster.db")), None)),
        Backend::Postgres => {
            let database = TestDatabase::create()?;
            Some((DatabaseUrl::Postgres(database.url.clone()), Some(database)))
        }
    }
}
