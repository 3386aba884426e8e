//! Load generator: invite→accept flows per second over HTTP against a real
//! `roster` process (release build), on SQLite or PostgreSQL.
//!
//!   cargo build --release -p api --bin roster
//!   cargo run --release -p integration-tests --example invite_accept_flows -- sqlite 2000 8
//!
//! Arguments: backend (`sqlite` | `postgres`), flows, concurrency. Setup
//! (registering, signing in, verifying users, creating accounts) happens
//! before the clock starts, so password hashing is excluded. One flow is
//! `POST …/invitations` (send_email false) then `POST /v1/invitations/accept`
//! by the invited, signed-in, verified user.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use diesel::RunQueryDsl;
use integration_tests::{Backend, PASSWORD, fresh_database, roster_binary};
use persistence::DatabaseUrl;
use serde_json::{Value, json};

const USERS: usize = 20;

/// The server dies with the load generator, even when it panics.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        self.0.kill().ok();
        self.0.wait().ok();
    }
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let backend = match args.get(1).map(String::as_str) {
        Some("postgres") => Backend::Postgres,
        _ => Backend::Sqlite,
    };
    let flows: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(2000);
    let concurrency: usize = args.get(3).and_then(|a| a.parse().ok()).unwrap_or(8);
    let dir = std::env::temp_dir().join(format!("roster-bench-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("a temp dir");
    let (database, _guard) = fresh_database(backend, &dir).expect("a database");
    let url = match &database {
        DatabaseUrl::Sqlite(path) => format!("sqlite://{}", path.display()),
        DatabaseUrl::Postgres(url) => url.clone(),
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a port").port();
    let server = std::process::Command::new(roster_binary())
        .arg("serve")
        .env("ROSTER_DATABASE_URL", url)
        .env("ROSTER_DATA_DIR", &dir)
        .env("ROSTER_BIND", format!("127.0.0.1:{port}"))
        .env("ROSTER_EMAIL_TRANSPORT", format!("file://{}", dir.join("mail").display()))
        .env("ROSTER_LOG", "warn")
        // Setup registers and signs in 21 users from one address.
        .env("ROSTER_RATE_LIMIT_REGISTER_PER_IP", "1000000/1m")
        .env("ROSTER_RATE_LIMIT_LOGIN_PER_IP", "1000000/1m")
        // … and measures flows, not the limits on accounts and invitations.
        .env("ROSTER_RATE_LIMIT_ACCOUNTS_PER_USER", "1000000/1m")
        .env("ROSTER_RATE_LIMIT_INVITATIONS_PER_ACCOUNT", "1000000/1m")
        .env("ROSTER_RATE_LIMIT_INVITATIONS_PER_SENDER", "1000000/1m")
        .spawn()
        .expect("roster starts");
    let server = KillOnDrop(server);
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::builder().pool_max_idle_per_host(concurrency).build().expect("a client");
    while client.get(format!("{base}/readyz")).send().await.map_or(true, |r| r.status() != 200) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // Setup, untimed.
    let call = {
        let (client, base) = (client.clone(), base.clone());
        move |path: String, token: Option<String>, body: Value| {
            let client = client.clone();
            let base = base.clone();
            async move {
                let mut request = client.post(format!("{base}{path}")).json(&body);
                if let Some(token) = token {
                    request = request.bearer_auth(token);
                }
                let response = request.send().await.expect("roster answers");
                let status = response.status();
                let body: Value = response.json().await.unwrap_or(Value::Null);
                assert!(status.is_success(), "{path}: {status} {body}");
                body
            }
        }
    };
    let emails: Vec<String> = (0..=USERS).map(|i| format!("user{i}@example.com")).collect();
    for email in &emails {
        call(
            "/v1/auth/register".into(),
            None,
            json!({"email": email, "password": PASSWORD, "first_name": "Load", "last_name": "Test"}),
        )
        .await;
    }
    let mut conn = persistence::connect_pool(&database, 1, std::time::Duration::from_secs(10))
        .expect("a pool")
        .get()
        .expect("a connection");
    diesel::sql_query("UPDATE users SET email_verified = TRUE").execute(&mut *conn).expect("verify users");
    let mut tokens = Vec::new();
    for email in &emails {
        let session = call("/v1/auth/login".into(), None, json!({"email": email, "password": PASSWORD})).await;
        tokens.push(session["access_token"].as_str().expect("a token").to_owned());
    }
    let owner = tokens.remove(0);
    let accounts_needed = flows.div_ceil(USERS);
    let mut accounts = Vec::new();
    for i in 0..accounts_needed {
        let account = call("/v1/accounts".into(), Some(owner.clone()), json!({"name": format!("Account {i}")})).await;
        accounts.push(account["id"].as_str().expect("an id").to_owned());
    }
    let jobs: Arc<Vec<(String, String, String)>> = Arc::new(
        (0..flows)
            .map(|i| (accounts[i / USERS].clone(), emails[1 + i % USERS].clone(), tokens[i % USERS].clone()))
            .collect(),
    );

    // Timed: `concurrency` workers take flows from a shared counter.
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let (jobs, next, call) = (jobs.clone(), next.clone(), call.clone());
            let owner = owner.clone();
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    let Some((account, email, token)) = jobs.get(index).cloned() else { break };
                    let flow_started = Instant::now();
                    let results = call(
                        format!("/v1/accounts/{account}/invitations"),
                        Some(owner.clone()),
                        json!({"invitations": [{"email": email, "send_email": false}]}),
                    )
                    .await;
                    let link = results["results"][0]["accept_url"].as_str().expect("an accept URL").to_owned();
                    let invitation_token = link.split("token=").nth(1).expect("a token").to_owned();
                    call("/v1/invitations/accept".into(), Some(token), json!({"token": invitation_token})).await;
                    latencies.push(flow_started.elapsed());
                }
                latencies
            })
        })
        .collect();
    let mut latencies = Vec::new();
    for worker in workers {
        latencies.extend(worker.await.expect("a worker"));
    }
    let elapsed = started.elapsed();
    latencies.sort();
    let percentile = |p: f64| latencies[((latencies.len() as f64 - 1.0) * p) as usize].as_secs_f64() * 1000.0;
    println!(
        "backend={} flows={} concurrency={} elapsed={:.2}s flows/s={:.0} p50={:.1}ms p99={:.1}ms",
        match backend {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        },
        latencies.len(),
        concurrency,
        elapsed.as_secs_f64(),
        latencies.len() as f64 / elapsed.as_secs_f64(),
        percentile(0.5),
        percentile(0.99),
    );
    drop(server);
    drop(conn);
    let _ = std::fs::remove_dir_all(&dir);
}
