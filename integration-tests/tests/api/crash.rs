//! Real `roster` processes killed mid-work: emails queued when the process
//! dies are delivered later (they are jobs written in the same transaction
//! as the change, so a crash can delay an email but never lose it), email
//! files are never left half-written, an import resumes exactly once, and
//! an account's erasure finishes after a kill.
//! After a kill, `roster run-jobs` drains the queue and exits, so the tests
//! wait for that process rather than poll.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use diesel::RunQueryDsl;
use integration_tests::{Backend, MailSink, PASSWORD, fresh_database, roster_binary};
use persistence::DatabaseUrl;
use serde_json::{Value, json};

fn roster(
    command: &[&str],
    database: &DatabaseUrl,
    data_dir: &std::path::Path,
    port: u16,
    transport: &str,
    jobs: bool,
) -> Child {
    let url = match database {
        DatabaseUrl::Sqlite(path) => format!("sqlite://{}", path.display()),
        DatabaseUrl::Postgres(url) => url.clone(),
    };
    Command::new(roster_binary())
        .args(command)
        .env("ROSTER_DATABASE_URL", url)
        .env("ROSTER_DATA_DIR", data_dir)
        .env("ROSTER_BIND", format!("127.0.0.1:{port}"))
        .env("ROSTER_EMAIL_TRANSPORT", transport)
        .env("ROSTER_JOBS", jobs.to_string())
        .env("ROSTER_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("roster starts")
}

async fn wait_until_ready(client: &reqwest::Client, base: &str) {
    for _ in 0..200 {
        if client.get(format!("{base}/readyz")).send().await.is_ok_and(|r| r.status() == 200) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("roster did not become ready at {base}");
}

async fn post(client: &reqwest::Client, url: String, token: Option<&str>, body: Value) -> Value {
    let mut request = client.post(url).json(&body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("roster answers");
    assert!(response.status().is_success(), "{}", response.status());
    response.json().await.unwrap_or(Value::Null)
}

/// A data directory, a fresh database, an SMTP sink and a free port for
/// real `roster` processes.
struct Scene {
    data_dir: std::path::PathBuf,
    database: DatabaseUrl,
    _guard: Option<integration_tests::TestDatabase>,
    mail: MailSink,
    port: u16,
    base: String,
    client: reqwest::Client,
}

impl Scene {
    async fn new(backend: Backend) -> Option<Scene> {
        let data_dir = std::env::temp_dir().join(format!("roster-crash-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&data_dir).unwrap();
        let (database, guard) = fresh_database(backend, &data_dir)?;
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        Some(Scene {
            data_dir,
            database,
            _guard: guard,
            mail: MailSink::start().await,
            port,
            base: format!("http://127.0.0.1:{port}"),
            client: reqwest::Client::new(),
        })
    }

    /// A server, running its background jobs or not.
    async fn serve(&self, jobs: bool) -> Child {
        let child = roster(&["serve"], &self.database, &self.data_dir, self.port, &self.mail.url(), jobs);
        wait_until_ready(&self.client, &self.base).await;
        child
    }

    /// `roster run-jobs` with `arguments`, delivering email to `transport`.
    fn run_jobs(&self, transport: &str, arguments: &[&str]) -> Child {
        let command: Vec<&str> = ["run-jobs"].into_iter().chain(arguments.iter().copied()).collect();
        roster(&command, &self.database, &self.data_dir, self.port, transport, true)
    }

    /// `roster run-jobs` to the end: every due job (of the kinds named with
    /// `--kind`) has run.
    fn drain(&self, transport: &str, arguments: &[&str]) {
        let status = self.run_jobs(transport, arguments).wait().expect("run-jobs runs");
        assert!(status.success(), "roster run-jobs failed: {status}");
    }

    /// Uploads a spreadsheet of `people` new developers: (the imports' URL,
    /// the accepted import).
    async fn import_people(&self, token: &str, account: &str, people: usize) -> (String, Value) {
        let mut file = String::from("email,first_name,last_name,roles,groups\n");
        for i in 0..people {
            file.push_str(&format!("person{i}@example.com,Person,{i},developer,\n"));
        }
        let imports = format!("{}/v1/accounts/{account}/invitation-imports", self.base);
        let accepted = self.client.post(&imports).bearer_auth(token).header("content-type", "text/csv").body(file);
        let accepted: Value = accepted.send().await.unwrap().json().await.unwrap();
        (imports, accepted)
    }

    /// Registers and signs in an owner with an account: (access token, account id).
    async fn owner_with_account(&self) -> (String, String) {
        let (client, base) = (&self.client, &self.base);
        let owner =
            json!({"email": "owner@example.com", "password": PASSWORD, "first_name": "Ada", "last_name": "Lovelace"});
        post(client, format!("{base}/v1/auth/register"), None, owner).await;
        // Sending invitations needs a verified email.
        let mut conn =
            persistence::connect_pool(&self.database, 1, std::time::Duration::from_secs(10)).unwrap().get().unwrap();
        diesel::sql_query("UPDATE users SET email_verified = TRUE").execute(&mut *conn).unwrap();
        let credentials = json!({"email": "owner@example.com", "password": PASSWORD});
        let tokens = post(client, format!("{base}/v1/auth/login"), None, credentials).await;
        let token = tokens["access_token"].as_str().unwrap().to_owned();
        let account = post(client, format!("{base}/v1/accounts"), Some(&token), json!({"name": "Acme"})).await;
        (token, account["id"].as_str().unwrap().to_owned())
    }
}

impl Drop for Scene {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}

async fn queued_emails_survive_a_kill(backend: Backend) {
    let Some(scene) = Scene::new(backend).await else { return };
    let (client, base, mail) = (&scene.client, &scene.base, &scene.mail);
    // A server that runs no jobs: everything it queues is still queued at the kill.
    let mut first = scene.serve(false).await;
    let (token, account) = scene.owner_with_account().await;
    let invitees: Vec<String> = (0..12).map(|i| format!("invitee{i}@example.com")).collect();
    let items: Vec<Value> = invitees.iter().map(|email| json!({"email": email})).collect();
    let path = format!("{base}/v1/accounts/{account}/invitations");
    let results = post(client, path, Some(&token), json!({"invitations": items})).await;
    assert!(results["results"].as_array().unwrap().iter().all(|r| r["outcome"] == "created"));
    let mut conn =
        persistence::connect_pool(&scene.database, 1, std::time::Duration::from_secs(10)).unwrap().get().unwrap();
    assert_eq!(persistence::jobs::pending_count(&mut conn, "email").unwrap(), 13, "12 invitations and 1 verification");
    assert!(mail.all().is_empty());

    first.kill().expect("SIGKILL");
    first.wait().unwrap();

    scene.drain(&mail.url(), &[]);
    for invitee in &invitees {
        assert_eq!(mail.to(invitee).len(), 1, "{invitee}");
    }
    assert_eq!(mail.to("owner@example.com").len(), 1);
    assert_eq!(mail.all().len(), 13, "every queued email delivered exactly once");
    assert_eq!(persistence::jobs::pending_count(&mut conn, "email").unwrap(), 0);
}

/// The `.eml` files in `dir`, with their contents.
fn email_files(dir: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    entries
        .map(|entry| entry.unwrap())
        .map(|entry| (entry.file_name().into_string().unwrap(), entry.path()))
        .filter(|(name, _)| name.ends_with(".eml") && !name.starts_with('.'))
        .map(|(name, path)| (name, std::fs::read(path).unwrap_or_default()))
        .collect()
}

/// A complete email file: headers, both parts and the closing boundary.
fn is_whole(email: &[u8]) -> bool {
    let text = String::from_utf8_lossy(email);
    text.contains("Subject:") && text.contains("text/html") && text.trim_end().ends_with("--")
}

/// Kills the server while it writes emails as files: every file it leaves
/// is whole, and redelivery after the restart replaces a message's file
/// rather than adding a second one.
async fn email_files_are_whole_after_a_kill(backend: Backend) {
    let Some(scene) = Scene::new(backend).await else { return };
    let (client, base) = (&scene.client, &scene.base);
    let mail_dir = scene.data_dir.join("mail");
    let transport = format!("file://{}", mail_dir.display());
    let mut server = scene.serve(false).await;
    let (token, account) = scene.owner_with_account().await;
    for batch in 0..10 {
        let items: Vec<Value> = (0..20).map(|i| json!({"email": format!("p{batch}-{i}@example.com")})).collect();
        post(client, format!("{base}/v1/accounts/{account}/invitations"), Some(&token), json!({"invitations": items}))
            .await;
    }
    server.kill().expect("SIGKILL");
    server.wait().unwrap();

    // Killed while it writes the files: the kill has to land mid-delivery.
    let mut delivering = scene.run_jobs(&transport, &[]);
    for _ in 0..2_000 {
        if email_files(&mail_dir).len() >= 20 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    delivering.kill().expect("SIGKILL");
    delivering.wait().unwrap();
    let at_kill = email_files(&mail_dir);
    assert!(!at_kill.is_empty() && at_kill.len() < 201, "killed mid-delivery ({} files)", at_kill.len());
    assert!(at_kill.iter().all(|(_, email)| is_whole(email)), "no empty or truncated file survives a kill");

    // The jobs the killed process had claimed wait out its lease (two
    // minutes): let that time pass.
    let mut conn =
        persistence::connect_pool(&scene.database, 1, std::time::Duration::from_secs(10)).unwrap().get().unwrap();
    diesel::sql_query("UPDATE jobs SET available_at = created_at WHERE done_at IS NULL").execute(&mut *conn).unwrap();
    scene.drain(&transport, &[]);
    assert_eq!(persistence::jobs::pending_count(&mut conn, "email").unwrap(), 0);
    let files = email_files(&mail_dir);
    assert_eq!(files.len(), 201, "one file per email: 200 invitations and the owner's verification");
    assert!(files.iter().all(|(_, email)| is_whole(email)));
}

/// Kills the server in the middle of a 10,000-row import: after a restart
/// the job resumes where the last committed batch left it, and every row
/// ends with exactly one result and at most one invitation.
async fn an_import_killed_midway_resumes_exactly_once(backend: Backend) {
    let Some(scene) = Scene::new(backend).await else { return };
    let client = &scene.client;
    let mut first = scene.serve(true).await;
    let (token, account) = scene.owner_with_account().await;
    let (imports, accepted) = scene.import_people(&token, &account, 10_000).await;
    let id = accepted["import_id"].as_str().unwrap().to_owned();
    let status = || async {
        let reply = client.get(format!("{imports}/{id}")).bearer_auth(&token).send().await.unwrap();
        reply.json::<Value>().await.unwrap()
    };

    let mut seen = 0;
    for _ in 0..2_000 {
        seen = status().await["processed"].as_i64().unwrap();
        if seen > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    first.kill().expect("SIGKILL");
    first.wait().unwrap();
    let pool = persistence::connect_pool(&scene.database, 1, std::time::Duration::from_secs(10)).unwrap();
    let at_kill = {
        let mut conn = pool.get().unwrap();
        let import =
            persistence::imports::find(&mut conn, account.parse().unwrap(), id.parse().unwrap()).unwrap().unwrap();
        import.counts.processed
    };
    eprintln!("killed with {at_kill} of 10000 rows processed");
    assert!(seen > 0 && at_kill < 10_000, "the kill landed mid-import (processed {at_kill} of 10000)");

    // The import's job waits out the killed process's lease: let that time pass.
    {
        let mut conn = pool.get().unwrap();
        diesel::sql_query("UPDATE jobs SET available_at = created_at WHERE done_at IS NULL")
            .execute(&mut *conn)
            .unwrap();
    }
    let mut server = scene.serve(false).await;
    // This test is about rows: the 10,000 invitation emails stay queued.
    scene.drain(&scene.mail.url(), &["--kind", "import"]);
    let done = status().await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!((&done["processed"], &done["invited"]), (&json!(10_000), &json!(10_000)), "{done}");
    let report = client.get(format!("{imports}/{id}/report")).bearer_auth(&token).send().await.unwrap();
    let report: Value = report.json().await.unwrap();
    let entries = report["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 10_000);
    let rows: Vec<i64> = entries.iter().map(|entry| entry["row"].as_i64().unwrap()).collect();
    assert_eq!(rows, (2..=10_001).collect::<Vec<i64>>(), "one entry per row, in order");
    let invitations: std::collections::HashSet<&str> =
        entries.iter().map(|entry| entry["invitation_id"].as_str().unwrap()).collect();
    assert_eq!(invitations.len(), 10_000);
    {
        use diesel::prelude::*;
        use persistence::schema::invitations::dsl;
        let mut conn = pool.get().unwrap();
        let stored: i64 = dsl::invitations.filter(dsl::account_id.eq(&account)).count().get_result(&mut *conn).unwrap();
        assert_eq!(stored, 10_000, "no row was invited twice");
    }
    server.kill().unwrap();
    server.wait().unwrap();
}

/// Rows of the account's invitations and import results: what erasing it
/// removes a batch at a time.
fn rows_of_account(pool: &persistence::DbPool, account: &str) -> i64 {
    use diesel::prelude::*;
    use persistence::schema::{invitation_import_results, invitation_imports, invitations};
    let mut conn = pool.get().unwrap();
    let invited: i64 =
        invitations::table.filter(invitations::account_id.eq(account)).count().get_result(&mut *conn).unwrap();
    let imports =
        invitation_imports::table.filter(invitation_imports::account_id.eq(account)).select(invitation_imports::id);
    let results: i64 = invitation_import_results::table
        .filter(invitation_import_results::import_id.eq_any(imports))
        .count()
        .get_result(&mut *conn)
        .unwrap();
    invited + results
}

async fn an_erasure_killed_midway_finishes_after_a_restart(backend: Backend) {
    let Some(scene) = Scene::new(backend).await else { return };
    let client = &scene.client;
    let mut server = scene.serve(false).await;
    let (token, account) = scene.owner_with_account().await;
    let (_, accepted) = scene.import_people(&token, &account, 10_000).await;
    assert_eq!(accepted["status"], "queued", "{accepted}");
    scene.drain(&scene.mail.url(), &["--kind", "import"]);
    let deleted = client
        .delete(format!("{}/v1/accounts/{account}", scene.base))
        .bearer_auth(&token)
        .json(&json!({"confirm_name": "Acme"}))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 202);
    server.kill().expect("SIGKILL");
    server.wait().unwrap();

    // The grace period is over (the test moves it, not the clock).
    let pool = persistence::connect_pool(&scene.database, 1, std::time::Duration::from_secs(10)).unwrap();
    diesel::sql_query("UPDATE account_deletions SET erase_after = requested_at")
        .execute(&mut *pool.get().unwrap())
        .unwrap();
    let before = rows_of_account(&pool, &account);
    assert_eq!(before, 20_000, "10,000 invitations and 10,000 import results");

    // Killed while it erases: the kill has to land between two batches' commits.
    let mut erasing = scene.run_jobs(&scene.mail.url(), &["--kind", "account_erasure"]);
    for _ in 0..5_000 {
        if rows_of_account(&pool, &account) < before {
            break;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    erasing.kill().expect("SIGKILL");
    erasing.wait().unwrap();
    let at_kill = rows_of_account(&pool, &account);
    eprintln!("killed with {at_kill} of {before} rows left");
    assert!(at_kill < before && at_kill > 0, "the kill landed mid-erasure ({at_kill} of {before} rows left)");

    // The erasure job waits out the killed process's lease: let that time pass.
    diesel::sql_query("UPDATE jobs SET available_at = created_at WHERE done_at IS NULL")
        .execute(&mut *pool.get().unwrap())
        .unwrap();
    scene.drain(&scene.mail.url(), &["--kind", "account_erasure"]);
    assert_eq!(rows_of_account(&pool, &account), 0, "the restarted run finished the erasure");
    let left: i64 = {
        use diesel::prelude::*;
        use persistence::schema::accounts;
        accounts::table.filter(accounts::id.eq(&account)).count().get_result(&mut *pool.get().unwrap()).unwrap()
    };
    assert_eq!(left, 0, "and the account is gone");
}

mod sqlite {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn email_files_are_whole_after_a_kill() {
        super::email_files_are_whole_after_a_kill(integration_tests::Backend::Sqlite).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn queued_emails_survive_a_kill() {
        super::queued_emails_survive_a_kill(integration_tests::Backend::Sqlite).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_import_killed_midway_resumes_exactly_once() {
        super::an_import_killed_midway_resumes_exactly_once(integration_tests::Backend::Sqlite).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_erasure_killed_midway_finishes_after_a_restart() {
        super::an_erasure_killed_midway_finishes_after_a_restart(integration_tests::Backend::Sqlite).await;
    }
}

mod postgres {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn email_files_are_whole_after_a_kill() {
        super::email_files_are_whole_after_a_kill(integration_tests::Backend::Postgres).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn queued_emails_survive_a_kill() {
        super::queued_emails_survive_a_kill(integration_tests::Backend::Postgres).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_import_killed_midway_resumes_exactly_once() {
        super::an_import_killed_midway_resumes_exactly_once(integration_tests::Backend::Postgres).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_erasure_killed_midway_finishes_after_a_restart() {
        super::an_erasure_killed_midway_finishes_after_a_restart(integration_tests::Backend::Postgres).await;
    }
}
