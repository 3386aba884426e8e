use integration_tests::{TestApp, on_both_backends};
use reqwest::Method;
use serde_json::json;
use uuid::Uuid;

on_both_backends!(
    creating_an_account_makes_the_caller_its_owner,
    owners_rename_their_account,
    non_members_cannot_tell_an_account_exists,
    members_without_the_permission_get_403,
    account_input_is_validated,
    my_accounts_are_paginated_with_a_cursor,
);

async fn creating_an_account_makes_the_caller_its_owner(app: TestApp) {
    let owner = app.sign_up("owner@example.com").await;
    let created = app.post("/v1/accounts", Some(&owner.access_token), json!({"name": "  Acme GmbH "})).await;
    let account = created.expect_status(201).clone();
    assert_eq!(account["name"], "Acme GmbH");
    let id = account["id"].as_str().unwrap();
    assert_eq!(created.headers["location"], format!("/v1/accounts/{id}").as_str());

    let read = app.get(&format!("/v1/accounts/{id}"), Some(&owner.access_token)).await;
    assert_eq!(read.expect_status(200), &account);
    let mine = app.get("/v1/me/accounts", Some(&owner.access_token)).await;
    let mine = mine.expect_status(200);
    assert_eq!(mine["items"][0]["account"], account);
    assert_eq!(mine["items"][0]["roles"], json!(["owner"]));
    assert_eq!(mine["next_cursor"], serde_json::Value::Null);
}

async fn owners_rename_their_account(app: TestApp) {
    let owner = app.sign_up("owner@example.com").await;
    let id = app.create_account(&owner, "Acme").await;
    let path = format!("/v1/accounts/{id}");
    let token = owner.access_token.as_str();
    let tag = app.etag_of(&path, token).await;
    let rename = |name: &str| Some(json!({"name": name}));
    // Only from the version read: none → 428; two writers from one read →
    // one wins, the other is told it changed.
    app.patch(&path, Some(token), json!({"name": "Acme Europe"})).await.expect_problem(428, "precondition_required");
    let (a, b) = futures_util::future::join(
        app.request_if_match(Method::PATCH, &path, token, Some(&tag), rename("Acme Europe")),
        app.request_if_match(Method::PATCH, &path, token, Some(&tag), rename("Acme Americas")),
    )
    .await;
    let mut statuses = [a.status.as_u16(), b.status.as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 412]);
    let winner = if a.status == 200 { &a } else { &b };
    let read = app.get(&path, Some(token)).await;
    assert_eq!(read.body["name"], winner.body["name"]);
    assert_eq!(read.headers["etag"], winner.headers["etag"]);
}

async fn non_members_cannot_tell_an_account_exists(app: TestApp) {
    let owner = app.sign_up("owner@example.com").await;
    let stranger = app.sign_up("stranger@example.com").await;
    let id = app.create_account(&owner, "Acme").await;
    let existing = format!("/v1/accounts/{id}");
    let missing = format!("/v1/accounts/{}", Uuid::new_v4());
    for path in [&existing, &missing] {
        let read = app.get(path, Some(&stranger.access_token)).await;
        read.expect_problem(404, "not_found");
        let write = app.patch(path, Some(&stranger.access_token), json!({"name": "Mine now"})).await;
        write.expect_problem(404, "not_found");
    }
    let read_existing = app.get(&existing, Some(&stranger.access_token)).await;
    let read_missing = app.get(&missing, Some(&stranger.access_token)).await;
    assert_eq!(read_existing.body, read_missing.body, "the two 404s must not differ");
    app.get(&existing, None).await.expect_problem(401, "unauthenticated");
    assert_eq!(app.get(&existing, Some(&owner.access_token)).await.body["name"], "Acme");
    assert!(
        app.get("/v1/me/accounts", Some(&stranger.access_token)).await.body["items"].as_array().unwrap().is_empty()
    );
}

async fn members_without_the_permission_get_403(app: TestApp) {
    let owner = app.sign_up("owner@example.com").await;
    let member = app.sign_up("member@example.com").await;
    let admin = app.sign_up("admin@example.com").await;
    let id = app.create_account(&owner, "Acme").await;
    app.add_member(&id, &member.id, &[]);
    app.add_member(&id, &admin.id, &["administrator"]);

    let path = format!("/v1/accounts/{id}");
    app.get(&path, Some(&member.access_token)).await.expect_status(200);
    let refused = app.patch(&path, Some(&member.access_token), json!({"name": "Hijacked"})).await;
    refused.expect_problem(403, "forbidden");
    assert!(refused.body["detail"].as_str().unwrap().contains("settings:manage"));
    let tag = app.etag_of(&path, &admin.access_token).await;
    let renamed = json!({"name": "Renamed by admin"});
    app.request_if_match(Method::PATCH, &path, &admin.access_token, Some(&tag), Some(renamed)).await.expect_status(200);
    assert_eq!(app.get(&path, Some(&owner.access_token)).await.body["name"], "Renamed by admin");
    let roles = app.get("/v1/me/accounts", Some(&admin.access_token)).await;
    assert_eq!(roles.body["items"][0]["roles"], json!(["administrator"]));
}

async fn account_input_is_validated(app: TestApp) {
    let owner = app.sign_up("owner@example.com").await;
    let token = Some(owner.access_token.as_str());
    for body in [
        json!({}),
        json!({"name": ""}),
        json!({"name": 7}),
        json!({"name": "x".repeat(201)}),
        json!({"name": "Acme", "plan": "free"}),
    ] {
        app.post("/v1/accounts", token, body).await.expect_problem(422, "validation_failed");
    }
    app.get("/v1/accounts/not-a-uuid", token).await.expect_problem(400, "invalid_path_parameter");
    app.patch("/v1/accounts/not-a-uuid", token, json!({"name": "x"}))
        .await
        .expect_problem(400, "invalid_path_parameter");
    app.post("/v1/accounts", None, json!({"name": "Acme"})).await.expect_problem(401, "unauthenticated");
    assert!(app.get("/v1/me/accounts", token).await.body["items"].as_array().unwrap().is_empty());
}

async fn my_accounts_are_paginated_with_a_cursor(app: TestApp) {
    let owner = app.sign_up("owner@example.com").await;
    let token = Some(owner.access_token.as_str());
    let mut created = Vec::new();
    for name in ["One", "Two", "Three"] {
        created.push(app.create_account(&owner, name).await);
    }
    let mut seen = Vec::new();
    let mut path = "/v1/me/accounts?limit=2".to_owned();
    loop {
        let page = app.get(&path, token).await;
        let page = page.expect_status(200);
        seen.extend(
            page["items"].as_array().unwrap().iter().map(|item| item["account"]["id"].as_str().unwrap().to_owned()),
        );
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/v1/me/accounts?limit=2&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen, created);
    app.get("/v1/me/accounts?limit=0", token).await.expect_problem(422, "validation_failed");
    app.get("/v1/me/accounts?limit=101", token).await.expect_problem(422, "validation_failed");
    app.get("/v1/me/accounts?limit=ten", token).await.expect_problem(400, "invalid_query");
    app.get("/v1/me/accounts?cursor=nope", token).await.expect_problem(422, "validation_failed");
}
