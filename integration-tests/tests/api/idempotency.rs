use futures_util::future::join_all;
use integration_tests::{SignedIn, TestApp, on_both_backends};
use serde_json::{Value, json};

on_both_backends!(
    a_retried_create_is_answered_once,
    keys_are_per_user_per_request_and_expire,
    only_a_spreadsheet_under_a_key_may_pass_the_body_limit
);

async fn post_with_key(app: &TestApp, user: &SignedIn, path: &str, key: &str, body: Value) -> integration_tests::Reply {
    let request = app.client.post(app.url(path)).bearer_auth(&user.access_token).header("idempotency-key", key);
    TestApp::read(request.json(&body).send().await.unwrap()).await
}

async fn a_retried_create_is_answered_once(app: TestApp) {
    let owner = app.sign_up("owner@example.com").await;
    let account = app.create_account(&owner, "Acme").await;
    let links = format!("/v1/accounts/{account}/join-links");

    let first = post_with_key(&app, &owner, &links, "link-1", json!({"max_uses": 3})).await;
    let created = first.expect_status(201).clone();
    assert!(first.headers.get("idempotent-replayed").is_none());
    let retry = post_with_key(&app, &owner, &links, "link-1", json!({"max_uses": 3})).await;
    assert_eq!(retry.expect_status(201), &created, "the retry gets the first response, token and all");
    assert_eq!(retry.headers["idempotent-replayed"], "true");
    assert_eq!(retry.headers["location"], first.headers["location"]);
    let listed = app.get(&links, Some(&owner.access_token)).await;
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 1, "one link, not two");

    // Parallel retries: one runs; the others replay it or are told to wait.
    let racing =
        join_all((0..10).map(|_| post_with_key(&app, &owner, &links, "link-race", json!({"max_uses": 9})))).await;
    let ran = racing.iter().filter(|r| r.status == 201 && r.headers.get("idempotent-replayed").is_none()).count();
    assert_eq!(ran, 1, "exactly one of the parallel requests runs");
    for reply in racing.iter().filter(|r| r.status != 201) {
        reply.expect_problem(409, "idempotency_key_in_progress");
    }
    let listed = app.get(&links, Some(&owner.access_token)).await;
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 2);

    // Refusals are remembered too: a retry does not run again.
    let refused = post_with_key(&app, &owner, &links, "link-2", json!({"max_uses": 0})).await;
    refused.expect_problem(422, "validation_failed");
    let again = post_with_key(&app, &owner, &links, "link-2", json!({"max_uses": 0})).await;
    again.expect_problem(422, "validation_failed");
    assert_eq!(again.headers["idempotent-replayed"], "true");

    // A spreadsheet uploaded twice with one key is imported once.
    let imports = format!("/v1/accounts/{account}/invitation-imports");
    let upload = || {
        app.client
            .post(app.url(&imports))
            .bearer_auth(&owner.access_token)
            .header("idempotency-key", "team-upload")
            .header("content-type", "text/csv")
            .body("email,first_name,last_name,roles,groups\nnew@example.com,,,,\n")
            .send()
    };
    let first = TestApp::read(upload().await.unwrap()).await;
    let second = TestApp::read(upload().await.unwrap()).await;
    assert_eq!(first.expect_status(202)["import_id"], second.expect_status(202)["import_id"]);
    let listed = app.get(&imports, Some(&owner.access_token)).await;
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 1);
}

async fn keys_are_per_user_per_request_and_expire(app: TestApp) {
    let owner = app.sign_up("owner@example.com").await;
    let other = app.sign_up("other@example.com").await;
    let account = app.create_account(&owner, "Acme").await;
    let elsewhere = app.create_account(&other, "Elsewhere").await;
    let groups = format!("/v1/accounts/{account}/groups");

    post_with_key(&app, &owner, &groups, "k", json!({"name": "Design"})).await.expect_status(201);
    // The same key for another request is a client bug, refused.
    post_with_key(&app, &owner, &groups, "k", json!({"name": "Sales"}))
        .await
        .expect_problem(409, "idempotency_key_reused");
    // Another user's key space is their own.
    let theirs = format!("/v1/accounts/{elsewhere}/groups");
    post_with_key(&app, &other, &theirs, "k", json!({"name": "Design"})).await.expect_status(201);
    post_with_key(&app, &owner, &groups, &"x".repeat(256), json!({"name": "Ops"}))
        .await
        .expect_problem(422, "validation_failed");

    // After a day the key is forgotten: the same request runs again (and
    // here meets the group it made the first time).
    app.advance(chrono::Duration::hours(25)).await;
    let rerun = post_with_key(&app, &owner, &groups, "k", json!({"name": "Design"})).await;
    assert_eq!(rerun.status, 409, "{}", rerun.body);
    assert!(rerun.headers.get("idempotent-replayed").is_none());
    let listed = app.get(&groups, Some(&owner.access_token)).await;
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 1);
}

/// The middleware holds a keyed body to fingerprint it: up to the body
/// limit (1 MiB here), and up to the spreadsheet limit only for uploads.
async fn only_a_spreadsheet_under_a_key_may_pass_the_body_limit(app: TestApp) {
    let owner = app.sign_up("owner@example.com").await;
    let account = app.create_account(&owner, "Acme").await;
    let large = json!({"name": "x".repeat(1_200_000)});
    post_with_key(&app, &owner, "/v1/accounts", "large-json", large).await.expect_problem(413, "payload_too_large");

    let mut csv = b"email,first_name,last_name,roles,groups\n".to_vec();
    for i in 0.. {
        if csv.len() > 1_200_000 {
            break;
        }
        csv.extend_from_slice(format!("person{i}@example.com,Person,{i},,\n").as_bytes());
    }
    let upload = app
        .client
        .post(app.url(&format!("/v1/accounts/{account}/invitation-imports")))
        .bearer_auth(&owner.access_token)
        .header("content-type", "text/csv")
        .header("idempotency-key", "large-spreadsheet")
        .body(csv)
        .send()
        .await
        .unwrap();
    let reply = TestApp::read(upload).await;
    assert_eq!(reply.status, 202, "{}", reply.body);
}
