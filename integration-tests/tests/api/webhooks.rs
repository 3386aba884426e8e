//! Webhooks to a real HTTP receiver: signed as the Standard Webhooks
//! specification says (checked with the receiver's own implementation),
//! retried on the schedule with a stable id, redelivered on request,
//! signed with both secrets while a rotation overlaps, disabled by a 410
//! or days of failures, and never sent to internal addresses.

use chrono::Duration;
use integration_tests::{Backend, SignedIn, TestApp, WebhookReceiver, on_both_backends};
use serde_json::{Value, json};

on_both_backends!(
    deliveries_are_signed_retried_with_a_stable_id_and_redelivered,
    a_rotated_secret_signs_beside_the_old_one_for_a_day,
    a_gone_receiver_or_days_of_failures_disable_the_endpoint,
    a_secret_the_key_cannot_open_is_a_recorded_failure_and_stops_start_up,
);

async fn owner_with_account(app: &TestApp) -> (SignedIn, String) {
    let owner = app.sign_up("owner@example.com").await;
    let account = app.create_account(&owner, "Acme").await;
    (owner, account)
}

/// Adds an endpoint to the receiver for `event_types`; returns (id, secret).
async fn subscribe(
    app: &TestApp,
    owner: &SignedIn,
    account: &str,
    url: &str,
    event_types: &[&str],
) -> (String, String) {
    let body = json!({"url": url, "event_types": event_types, "description": "CRM sync"});
    let created = app.post(&format!("/v1/accounts/{account}/webhooks"), Some(&owner.access_token), body).await;
    assert_eq!(created.headers["cache-control"], "no-store", "the secret is not for caches");
    let created = created.expect_status(201);
    (created["id"].as_str().unwrap().to_owned(), created["secret"].as_str().unwrap().to_owned())
}

async fn create_group(app: &TestApp, owner: &SignedIn, account: &str, name: &str) {
    let path = format!("/v1/accounts/{account}/groups");
    app.post(&path, Some(&owner.access_token), json!({"name": name})).await.expect_status(201);
}

async fn deliveries(app: &TestApp, owner: &SignedIn, account: &str, webhook: &str) -> Vec<Value> {
    let path = format!("/v1/accounts/{account}/webhooks/{webhook}/deliveries");
    let log = app.get(&path, Some(&owner.access_token)).await;
    log.expect_status(200)["items"].as_array().unwrap().clone()
}

async fn deliveries_are_signed_retried_with_a_stable_id_and_redelivered(app: TestApp) {
    let receiver = WebhookReceiver::start().await;
    let (owner, account) = owner_with_account(&app).await;
    let (webhook, secret) = subscribe(&app, &owner, &account, &receiver.url(), &["group.created"]).await;
    assert!(secret.starts_with("whsec_"));
    let shown = app.get(&format!("/v1/accounts/{account}/webhooks/{webhook}"), Some(&owner.access_token)).await;
    assert!(shown.expect_status(200).get("secret").is_none(), "the secret is shown once");

    create_group(&app, &owner, &account, "Design").await;
    app.run_jobs().await;
    let received = receiver.received();
    assert_eq!(received.len(), 1);
    let first = &received[0];
    assert!(first.signed_with(&secret), "signed as the specification says: {first:?}");
    assert_eq!(first.content_type, "application/json");
    assert_eq!(first.timestamp, app.now().timestamp().to_string());
    let body = first.json();
    assert_eq!(body["type"], "group.created");
    assert_eq!(body["data"]["account_id"], account.as_str());
    assert_eq!(body["data"]["targets"][0]["label"], "Design");
    assert_eq!(body["data"]["actor"]["id"], owner.id.as_str());
    let log = deliveries(&app, &owner, &account, &webhook).await;
    assert_eq!((log[0]["status"].as_str(), log[0]["attempts"].as_i64()), (Some("succeeded"), Some(1)));
    assert_eq!(log[0]["id"], first.id.as_str(), "the delivery's id is the webhook-id");

    // Two failures, then success: three requests with one webhook-id.
    receiver.answer_with(&[500, 503]);
    create_group(&app, &owner, &account, "Research").await;
    app.run_jobs().await;
    assert_eq!(receiver.received().len(), 2);
    let log = deliveries(&app, &owner, &account, &webhook).await;
    assert_eq!((log[0]["status"].as_str(), log[0]["last_status_code"].as_i64()), (Some("pending"), Some(500)));
    app.advance(Duration::seconds(5)).await;
    app.advance(Duration::minutes(5)).await;
    let tries: Vec<_> = receiver.received().into_iter().skip(1).collect();
    assert_eq!(tries.len(), 3);
    assert!(tries.iter().all(|attempt| attempt.id == tries[0].id && attempt.signed_with(&secret)));
    let log = deliveries(&app, &owner, &account, &webhook).await;
    assert_eq!((log[0]["status"].as_str(), log[0]["attempts"].as_i64()), (Some("succeeded"), Some(3)));

    // Redelivery of the first delivery, under its id.
    let first_delivery = first.id.clone();
    let redeliver = format!("/v1/accounts/{account}/webhooks/{webhook}/deliveries/{first_delivery}/redeliver");
    app.post(&redeliver, Some(&owner.access_token), json!({})).await.expect_status(202);
    app.run_jobs().await;
    let again = receiver.received().pop().unwrap();
    assert_eq!(again.id, first_delivery);
    assert_eq!(again.body, first.body, "the same event, byte for byte");
    assert!(again.signed_with(&secret));
}

async fn a_secret_the_key_cannot_open_is_a_recorded_failure_and_stops_start_up(app: TestApp) {
    let receiver = WebhookReceiver::start().await;
    let (owner, account) = owner_with_account(&app).await;
    let (webhook, _) = subscribe(&app, &owner, &account, &receiver.url(), &["group.created"]).await;
    create_group(&app, &owner, &account, "Design").await;
    app.run_jobs().await;
    assert_eq!(receiver.received().len(), 1, "the key opens the secret it sealed");

    // Another key: a server started with it refuses, naming the setting.
    let other_key = app.settings.data_dir.join("other-secrets.key");
    std::fs::write(&other_key, "q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=").unwrap();
    let mut settings = app.settings.clone();
    settings.secrets_key_file = Some(other_key);
    settings.bind = "127.0.0.1:0".parse().unwrap();
    let refused = api::Application::build(settings, std::sync::Arc::new(domain::SystemClock)).err();
    assert!(
        refused.as_ref().is_some_and(|error| error.to_string().contains("ROSTER_SECRETS_KEY_FILE")),
        "{:?}",
        refused.map(|error| error.to_string())
    );

    // A secret this server's key cannot open (sealed under another key):
    // the delivery log shows the attempt and why, and it is retried.
    use diesel::RunQueryDsl;
    diesel::sql_query("UPDATE webhook_endpoints SET secret_sealed = 'q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA='")
        .execute(&mut *app.db())
        .unwrap();
    create_group(&app, &owner, &account, "Research").await;
    app.run_jobs().await;
    assert_eq!(receiver.received().len(), 1, "nothing unsigned is sent");
    let log = deliveries(&app, &owner, &account, &webhook).await;
    assert_eq!((log[0]["status"].as_str(), log[0]["attempts"].as_i64()), (Some("pending"), Some(1)), "{log:?}");
    let error = log[0]["last_error"].as_str().unwrap_or_default();
    assert!(error.contains("cannot be opened") && error.contains("ROSTER_SECRETS_KEY_FILE"), "{error}");
}

async fn a_rotated_secret_signs_beside_the_old_one_for_a_day(app: TestApp) {
    let receiver = WebhookReceiver::start().await;
    let (owner, account) = owner_with_account(&app).await;
    let (webhook, old) = subscribe(&app, &owner, &account, &receiver.url(), &["group.created"]).await;
    let rotate = format!("/v1/accounts/{account}/webhooks/{webhook}/rotate-secret");
    let rotated = app.post(&rotate, Some(&owner.access_token), json!({})).await;
    let new = rotated.expect_status(200)["secret"].as_str().unwrap().to_owned();
    assert_ne!(new, old);
    assert!(rotated.body["previous_secret_signs_until"].is_string());

    create_group(&app, &owner, &account, "During").await;
    app.run_jobs().await;
    let during = receiver.received().pop().unwrap();
    assert!(during.signed_with(&new) && during.signed_with(&old), "both secrets verify during the overlap");
    assert_eq!(during.signature.split(' ').count(), 2);

    app.advance(Duration::hours(25)).await;
    create_group(&app, &owner, &account, "After").await;
    app.run_jobs().await;
    let after = receiver.received().pop().unwrap();
    assert!(after.signed_with(&new) && !after.signed_with(&old), "the old secret stopped signing");
}

async fn a_gone_receiver_or_days_of_failures_disable_the_endpoint(app: TestApp) {
    let receiver = WebhookReceiver::start().await;
    let (owner, account) = owner_with_account(&app).await;
    let webhooks = format!("/v1/accounts/{account}/webhooks");
    let (gone, _) = subscribe(&app, &owner, &account, &receiver.url(), &["group.created"]).await;
    receiver.answer_with(&[410]);
    create_group(&app, &owner, &account, "One").await;
    app.run_jobs().await;
    let endpoint = app.get(&format!("{webhooks}/{gone}"), Some(&owner.access_token)).await.body;
    assert_eq!(endpoint["enabled"], false);
    assert!(endpoint["disabled_reason"].as_str().unwrap().contains("410"));
    // A disabled endpoint gets nothing more (it got one before).
    create_group(&app, &owner, &account, "Two").await;
    app.run_jobs().await;
    assert_eq!(receiver.received().len(), 1);
    let path = format!("/v1/accounts/{account}/audit-events?action=webhook.disabled");
    let disabled = app.get(&path, Some(&owner.access_token)).await.body["items"].clone();
    assert_eq!(disabled[0]["actor"]["type"], "system");
    let redeliver = format!("{webhooks}/{gone}/deliveries/{}/redeliver", receiver.received()[0].id);
    app.post(&redeliver, Some(&owner.access_token), json!({})).await.expect_problem(409, "webhook_disabled");

    // An endpoint that fails every attempt for three days is disabled too,
    // and the account's webhook administrators are told.
    let (failing, _) = subscribe(&app, &owner, &account, &receiver.url(), &["group.created"]).await;
    receiver.answer_with(&[500; 20]);
    create_group(&app, &owner, &account, "Three").await;
    app.run_jobs().await;
    // The clock follows the retry schedule: 5 s, 5 min, 30 min, 2, 5, 10,
    // 14, 20 and 24 hours.
    for wait in [5, 300, 1_800, 7_200, 18_000, 36_000, 50_400, 72_000, 86_400] {
        let endpoint = app.get(&format!("{webhooks}/{failing}"), Some(&owner.access_token)).await.body;
        assert_eq!(endpoint["enabled"], true, "still trying before three days");
        app.advance(Duration::seconds(wait)).await;
    }
    let endpoint = app.get(&format!("{webhooks}/{failing}"), Some(&owner.access_token)).await.body;
    assert_eq!(endpoint["enabled"], false, "{endpoint}");
    assert!(endpoint["disabled_reason"].as_str().unwrap().contains("three days"));
    assert_eq!(receiver.received().len() - 1, 10, "every attempt of the schedule, the last past three days");
    let told = app.emails_to(&owner.email, 1).await;
    assert!(told.iter().any(|mail| mail.header("subject").unwrap().contains("were disabled")));
    // Enabling it again forgets the failures.
    let enabled =
        app.patch(&format!("{webhooks}/{failing}"), Some(&owner.access_token), json!({"enabled": true})).await;
    assert_eq!(enabled.expect_status(200)["disabled_reason"], Value::Null);
}

/// On a server guarding private networks, as in production.
async fn ssrf(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, |settings| settings.webhook_allow_private_networks = false).await
    else {
        return;
    };
    let (owner, account) = owner_with_account(&app).await;
    let webhooks = format!("/v1/accounts/{account}/webhooks");
    let t = Some(owner.access_token.as_str());
    let refused = |url: &str, code: &'static str| {
        let url = url.to_owned();
        let body = json!({"url": url, "event_types": ["group.created"]});
        let (app, webhooks) = (&app, &webhooks);
        async move {
            let reply = app.post(webhooks, t, body).await;
            reply.expect_problem(422, "validation_failed");
            assert_eq!(reply.body["errors"][0]["field"], "url", "{url}");
            assert_eq!(reply.body["errors"][0]["code"], code, "{url}");
        }
    };
    refused("https://127.0.0.1/hook", "private_address").await;
    refused("https://10.0.0.1/hook", "private_address").await;
    refused("https://169.254.169.254/latest/meta-data", "private_address").await;
    refused("https://[::1]/hook", "private_address").await;
    // IPv6 forms that carry a private IPv4 address inside.
    for embedded in ["2002:7f00:1::", "::ffff:0:7f00:1", "2001:0:a00:1::1", "64:ff9b::a00:1", "64:ff9b:1::808:808"] {
        refused(&format!("https://[{embedded}]/h"), "private_address").await;
    }
    refused("https://localhost/hook", "private_address").await;
    refused("http://hooks.example.com/roster", "https_required").await;
    refused("not a url", "invalid_url").await;
    let unknown =
        app.post(&webhooks, t, json!({"url": "https://hooks.example.com/", "event_types": ["group.exploded"]}));
    assert_eq!(unknown.await.expect_problem(422, "validation_failed").body["errors"][0]["code"], "unknown_event_type");
    let long = json!({"url": "https://hooks.example.com/", "event_types": ["group.created"], "description": "x".repeat(1_001)});
    assert_eq!(
        app.post(&webhooks, t, long).await.expect_problem(422, "validation_failed").body["errors"][0]["field"],
        "description"
    );
    let none = json!({"url": "https://hooks.example.com/", "event_types": []});
    app.post(&webhooks, t, none).await.expect_problem(422, "validation_failed");
    assert_eq!(app.get(&webhooks, t).await.expect_status(200)["items"], json!([]), "nothing was written");
    let events = app.get(&format!("/v1/accounts/{account}/audit-events?action_prefix=webhook."), t).await;
    assert_eq!(events.body["items"], json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ssrf_refusals_on_sqlite() {
    ssrf(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ssrf_refusals_on_postgres() {
    ssrf(Backend::Postgres).await;
}
