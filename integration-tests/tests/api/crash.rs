//! Emails queued when the process dies are delivered after a restart: the
//! outbox is written in the same transaction as the change, so a crash can
//! delay an email but never lose it.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use integration_tests::{Backend, MailSink, PASSWORD, fresh_database, roster_binary};
use persistence::DatabaseUrl;
use serde_json::{Value, json};

fn start_roster(database: &DatabaseUrl, data_dir: &std::path::Path, port: u16, mail: &MailSink, poll_ms: u64) -> Child {
    let url = match database {
        DatabaseUrl::Sqlite(path) => format!("sqlite://{}", path.display()),
        DatabaseUrl::Postgres(url) => url.clone(),
    };
    Command::new(roster_binary())
        .arg("serve")
        .env("ROSTER_DATABASE_URL", url)
        .env("ROSTER_DATA_DIR", data_dir)
        .env("ROSTER_BIND", format!("127.0.0.1:{port}"))
        .env("ROSTER_EMAIL_TRANSPORT", mail.url())
        .env("ROSTER_OUTBOX_POLL_MS", poll_ms.to_string())
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

async fn queued_emails_survive_a_kill(backend: Backend) {
    let data_dir = std::env::temp_dir().join(format!("roster-crash-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&data_dir).unwrap();
    let Some((database, _guard)) = fresh_database(backend, &data_dir) else { return };
    let mail = MailSink::start().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();

    // The worker polls once at start-up and then sleeps for a minute, so
    // everything queued afterwards is still in the outbox at the kill.
    let mut first = start_roster(&database, &data_dir, port, &mail, 60_000);
    wait_until_ready(&client, &base).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let owner =
        json!({"email": "owner@example.com", "password": PASSWORD, "first_name": "Ada", "last_name": "Lovelace"});
    post(&client, format!("{base}/v1/auth/register"), None, owner.clone()).await;
    let credentials = json!({"email": "owner@example.com", "password": PASSWORD});
    let tokens = post(&client, format!("{base}/v1/auth/login"), None, credentials).await;
    let token = tokens["access_token"].as_str().unwrap().to_owned();
    let account = post(&client, format!("{base}/v1/accounts"), Some(&token), json!({"name": "Acme"})).await;
    let invitees: Vec<String> = (0..12).map(|i| format!("invitee{i}@example.com")).collect();
    let items: Vec<Value> = invitees.iter().map(|email| json!({"email": email})).collect();
    let path = format!("{base}/v1/accounts/{}/invitations", account["id"].as_str().unwrap());
    let results = post(&client, path, Some(&token), json!({"invitations": items})).await;
    assert!(results["results"].as_array().unwrap().iter().all(|r| r["outcome"] == "created"));
    let mut conn = persistence::connect_pool(&database, 1).unwrap().get().unwrap();
    assert_eq!(
        persistence::outbox::undelivered_count(&mut conn).unwrap(),
        13,
        "12 invitations and 1 verification queued"
    );
    assert!(mail.all().is_empty());

    first.kill().expect("SIGKILL");
    first.wait().unwrap();

    let mut second = start_roster(&database, &data_dir, port, &mail, 50);
    wait_until_ready(&client, &base).await;
    for invitee in &invitees {
        mail.wait_for(invitee, 1).await;
    }
    mail.wait_for("owner@example.com", 1).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(mail.all().len(), 13, "every queued email delivered exactly once");
    assert_eq!(persistence::outbox::undelivered_count(&mut conn).unwrap(), 0);
    second.kill().unwrap();
    second.wait().unwrap();
    drop(conn);
    let _ = std::fs::remove_dir_all(&data_dir);
}

mod sqlite {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn queued_emails_survive_a_kill() {
        super::queued_emails_survive_a_kill(integration_tests::Backend::Sqlite).await;
    }
}

mod postgres {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn queued_emails_survive_a_kill() {
        super::queued_emails_survive_a_kill(integration_tests::Backend::Postgres).await;
    }
}
