//! Defects found trying Roster as an attacker and as an administrator
//! would: each test failed before its fix.

use futures_util::future::join_all;
use integration_tests::{Backend, PASSWORD, SignedIn, TestApp, on_both_backends};
use serde_json::{Value, json};

use crate::imports::{upload, wait_for_completion};
use crate::roles::put_roles;

on_both_backends!(
    group_scoped_roles_show_wherever_members_are_shown,
    inviting_needs_a_verified_email,
    nul_characters_and_huge_searches_are_422_not_500,
    a_deleted_users_token_is_401_everywhere,
    json_arrays_are_refused_where_the_contract_says_object,
    preconditions_come_before_the_last_owner_rule,
    formula_names_are_kept_as_given,
);

/// The flood itself runs against a server with one hashing thread and no
/// wait, so that every sign-in beyond the one in progress is refused.
async fn flood(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, |settings| {
        settings.password_hashing_threads = 1;
        settings.password_hashing_wait_ms = 0;
    })
    .await
    else {
        return;
    };
    let user = app.sign_up("ada@example.com").await;
    let wrong = json!({"email": user.email, "password": "not the password at all"});
    let attempts = (0..16).map(|_| app.post("/v1/auth/login", None, wrong.clone()));
    let replies = join_all(attempts).await;
    let refused: Vec<_> = replies.iter().filter(|reply| reply.status == 503).collect();
    assert!(!refused.is_empty(), "16 parallel sign-ins on one hashing thread: some must be refused");
    for reply in &refused {
        reply.expect_problem(503, "overloaded");
        assert_eq!(reply.headers["retry-after"], "1");
    }
    assert!(replies.iter().all(|reply| reply.status == 503 || reply.status == 401));
    // Once the flood is over, the right password works.
    app.post("/v1/auth/login", None, json!({"email": user.email, "password": PASSWORD})).await.expect_status(200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_flood_on_sqlite() {
    flood(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_flood_on_postgres() {
    flood(Backend::Postgres).await;
}

async fn owner_with_account(app: &TestApp) -> (SignedIn, String) {
    let owner = app.sign_up("owner@example.com").await;
    let account = app.create_account(&owner, "Acme").await;
    (owner, account)
}

async fn create_group(app: &TestApp, owner: &SignedIn, account: &str, name: &str) -> String {
    let path = format!("/v1/accounts/{account}/groups");
    let created = app.post(&path, Some(&owner.access_token), json!({"name": name})).await;
    created.expect_status(201)["id"].as_str().unwrap().to_owned()
}

async fn group_scoped_roles_show_wherever_members_are_shown(app: TestApp) {
    let (owner, account) = owner_with_account(&app).await;
    let group = create_group(&app, &owner, &account, "Design").await;
    let grace = app.sign_up("grace@example.com").await;
    app.add_member(&account, &grace.id, &["analyst"]);
    let member_path = format!("/v1/accounts/{account}/members/{}", grace.id);
    let read = app.get(&member_path, Some(&owner.access_token)).await;
    let tag = read.headers["etag"].to_str().unwrap().to_owned();
    let both = json!([{"role": "analyst", "group_id": null}, {"role": "developer", "group_id": group}]);
    put_roles(&app, &owner.access_token, &account, &grace.id, Some(&tag), both.clone()).await.expect_status(200);

    // Every view of the member shows both roles with their scope.
    let read = app.get(&member_path, Some(&owner.access_token)).await;
    assert_eq!(read.expect_status(200)["assignments"], both);
    assert_eq!(read.body["roles"], json!(["analyst"]), "roles stays the account-wide keys");
    let in_group = app.get(&format!("/v1/accounts/{account}/groups/{group}/members"), Some(&owner.access_token)).await;
    assert_eq!(in_group.expect_status(200)["items"][0]["assignments"], both);
    let mine = app.get("/v1/me/accounts", Some(&grace.access_token)).await;
    assert_eq!(mine.expect_status(200)["items"][0]["assignments"], both);
    let holders = app.get(&format!("/v1/accounts/{account}/members?role=developer"), Some(&owner.access_token)).await;
    assert_eq!(
        holders.expect_status(200)["items"][0]["user_id"],
        grace.id.as_str(),
        "role matches group-scoped holders"
    );

    // Writing back what was read keeps the group-scoped role.
    let tag = read.headers["etag"].to_str().unwrap().to_owned();
    let read_back = read.body["assignments"].clone();
    put_roles(&app, &owner.access_token, &account, &grace.id, Some(&tag), read_back).await.expect_status(200);
    assert_eq!(app.get(&member_path, Some(&owner.access_token)).await.body["assignments"], both);

    // The invitee sees where each offered role applies.
    let item = json!({"email": "new@example.com", "assignments": both, "send_email": false});
    let path = format!("/v1/accounts/{account}/invitations");
    let invited = app.post(&path, Some(&owner.access_token), json!({"invitations": [item]})).await;
    let invited = invited.expect_status(200)["results"][0].clone();
    let token = invited["accept_url"].as_str().unwrap().split("token=").nth(1).unwrap().to_owned();
    let preview = app.get(&format!("/v1/invitations/preview?token={token}"), None).await;
    let offered = preview.expect_status(200)["assignments"].clone();
    assert!(offered.as_array().unwrap().contains(&json!({"role": "analyst", "group_id": null, "group_name": null})));
    assert!(
        offered.as_array().unwrap().contains(&json!({"role": "developer", "group_id": group, "group_name": "Design"}))
    );
}

async fn inviting_needs_a_verified_email(app: TestApp) {
    let (owner, account) = owner_with_account(&app).await;
    let admin = app.sign_up_unverified("admin@example.com").await;
    app.add_member(&account, &admin.id, &["administrator"]);
    let invitations = format!("/v1/accounts/{account}/invitations");
    let batch = json!({"invitations": [{"email": "stranger@example.com", "first_name": "Click", "last_name": "Here"}]});
    app.post(&invitations, Some(&admin.access_token), batch.clone()).await.expect_problem(403, "email_unverified");
    // The whole batch, even when its first item would fail on its own.
    let two = json!({"invitations": [{"email": "a@example.com", "roles": ["ghost"]}, {"email": "b@example.com"}]});
    app.post(&invitations, Some(&admin.access_token), two).await.expect_problem(403, "email_unverified");
    let listed = app.get(&invitations, Some(&owner.access_token)).await;
    assert_eq!(listed.expect_status(200)["items"], json!([]), "nothing was invited");
    let upload_reply =
        upload(&app, &admin, &account, b"email,first_name,last_name,roles,groups\nx@example.com,,,,\n".to_vec());
    TestApp::read(upload_reply.await).await.expect_problem(403, "email_unverified");
    let imports = app.get(&format!("/v1/accounts/{account}/invitation-imports"), Some(&owner.access_token)).await;
    assert_eq!(imports.expect_status(200)["items"], json!([]));

    // The owner (verified) may; resending is sending too.
    let created = app.post(&invitations, Some(&owner.access_token), batch.clone()).await;
    let id = created.expect_status(200)["results"][0]["invitation"]["id"].as_str().unwrap().to_owned();
    let resend = format!("{invitations}/{id}/resend");
    app.post(&resend, Some(&admin.access_token), json!({})).await.expect_problem(403, "email_unverified");
    app.mark_verified(&admin.id);
    app.post(&resend, Some(&admin.access_token), json!({})).await.expect_status(200);
}

async fn nul_characters_and_huge_searches_are_422_not_500(app: TestApp) {
    let (owner, account) = owner_with_account(&app).await;
    let token = Some(owner.access_token.as_str());
    for list in ["members", "invitations"] {
        let nul = app.get(&format!("/v1/accounts/{account}/{list}?q=a%00b"), token).await;
        nul.expect_problem(422, "validation_failed");
        assert_eq!(nul.body["errors"][0]["field"], "q");
        let huge = app.get(&format!("/v1/accounts/{account}/{list}?q={}", "a".repeat(50_001)), token).await;
        assert_eq!(huge.expect_problem(422, "validation_failed").body["errors"][0]["code"], "too_long");
        app.get(&format!("/v1/accounts/{account}/{list}?q={}", "é".repeat(200)), token).await.expect_status(200);
    }
    app.get(&format!("/v1/accounts/{account}/members?role=dev%00"), token)
        .await
        .expect_problem(422, "validation_failed");

    let groups = format!("/v1/accounts/{account}/groups");
    let reply = app.post(&groups, token, json!({"name": "Design", "description": "a\u{0}b"})).await;
    assert_eq!(reply.expect_problem(422, "validation_failed").body["errors"][0]["field"], "description");
    let role = json!({"key": "support", "name": "Support", "description": "x\u{0}", "permissions": []});
    let reply = app.post(&format!("/v1/accounts/{account}/roles"), token, role).await;
    assert_eq!(reply.expect_problem(422, "validation_failed").body["errors"][0]["field"], "description");
    assert_eq!(app.get(&groups, token).await.body["items"], json!([]), "nothing was created");

    // A NUL in a spreadsheet fails that row only.
    let file = b"email,first_name,last_name,roles,groups\nok@example.com,Ok,,,\nnul@example.com,Gr\0ace,,,\n".to_vec();
    let uploaded = TestApp::read(upload(&app, &owner, &account, file).await).await;
    let id = uploaded.expect_status(202)["import_id"].as_str().unwrap().to_owned();
    let done = wait_for_completion(&app, &owner, &account, &id).await;
    assert_eq!((done["invited"].as_i64(), done["failed"].as_i64()), (Some(1), Some(1)));
    let report = app.get(&format!("/v1/accounts/{account}/invitation-imports/{id}/report"), token).await;
    assert_eq!(report.body["entries"][1]["code"], "malformed_row");
}

async fn a_deleted_users_token_is_401_everywhere(app: TestApp) {
    let (owner, account) = owner_with_account(&app).await;
    let link = app.post(&format!("/v1/accounts/{account}/join-links"), Some(&owner.access_token), json!({})).await;
    let join_token = link.expect_status(201)["url"].as_str().unwrap().split("token=").nth(1).unwrap().to_owned();
    let ghost = app.sign_up("ghost@example.com").await;
    // The account can create accounts before the user is gone.
    app.create_account(&ghost, "Before").await;
    {
        use diesel::prelude::*;
        use persistence::schema::users;
        diesel::delete(users::table.find(&ghost.id)).execute(&mut app.db()).unwrap();
    }
    let token = Some(ghost.access_token.as_str());
    app.get("/v1/me", token).await.expect_problem(401, "unauthenticated");
    app.post("/v1/accounts", token, json!({"name": "Ghost Corp"})).await.expect_problem(401, "unauthenticated");
    app.post("/v1/join-links/join", token, json!({"token": join_token})).await.expect_problem(401, "unauthenticated");
    let with_key = app
        .client
        .post(app.url("/v1/accounts"))
        .bearer_auth(&ghost.access_token)
        .header("idempotency-key", "ghost-1")
        .json(&json!({"name": "Ghost Corp"}))
        .send()
        .await
        .unwrap();
    TestApp::read(with_key).await.expect_problem(401, "unauthenticated");
}

async fn json_arrays_are_refused_where_the_contract_says_object(app: TestApp) {
    let (owner, account) = owner_with_account(&app).await;
    let token = Some(owner.access_token.as_str());
    let me = app.patch("/v1/me", token, json!(["Mallory", "Array"])).await;
    assert_eq!(me.expect_problem(422, "validation_failed").body["errors"][0]["code"], "invalid_type");
    assert_eq!(app.get("/v1/me", token).await.body["first_name"], "Ada", "the names did not change");
    app.post("/v1/accounts", token, json!(["Array Corp"])).await.expect_problem(422, "validation_failed");
    let mine = app.get("/v1/me/accounts", token).await;
    assert_eq!(mine.body["items"].as_array().unwrap().len(), 1, "no account was created");
    let group = create_group(&app, &owner, &account, "Design").await;
    let patched = app.patch(&format!("/v1/accounts/{account}/groups/{group}"), token, json!([null, null])).await;
    patched.expect_problem(422, "validation_failed");
    let nested = json!({"invitations": [["someone@example.com", "Some", "One"]]});
    let reply = app.post(&format!("/v1/accounts/{account}/invitations"), token, nested).await;
    assert_eq!(reply.expect_problem(422, "validation_failed").body["errors"][0]["field"], "invitations.0");
}

async fn preconditions_come_before_the_last_owner_rule(app: TestApp) {
    let (owner, account) = owner_with_account(&app).await;
    let path = format!("/v1/accounts/{account}/members/{}", owner.id);
    let demote = json!([{"role": "administrator"}]);
    let put =
        |tag: Option<&'static str>| put_roles(&app, &owner.access_token, &account, &owner.id, tag, demote.clone());
    put(None).await.expect_problem(428, "precondition_required");
    put(Some("\"stale\"")).await.expect_problem(412, "precondition_failed");
    let tag = app.get(&path, Some(&owner.access_token)).await.headers["etag"].to_str().unwrap().to_owned();
    put_roles(&app, &owner.access_token, &account, &owner.id, Some(&tag), demote.clone())
        .await
        .expect_problem(409, "last_owner");

    let unnamed = app.post("/v1/accounts", Some(&owner.access_token), json!({"name": " "})).await;
    assert_eq!(unnamed.expect_problem(422, "validation_failed").body["errors"][0]["message"], "Enter an account name.");
}

async fn formula_names_are_kept_as_given(app: TestApp) {
    let (owner, account) = owner_with_account(&app).await;
    let formula = "=HYPERLINK(\"http://evil.example\",\"Click\")";
    let file = format!(
        "email,first_name,last_name,roles,groups\nf@example.com,\"{}\",Smith,,\n",
        formula.replace('"', "\"\"")
    );
    let uploaded = TestApp::read(upload(&app, &owner, &account, file.into_bytes()).await).await;
    let id = uploaded.expect_status(202)["import_id"].as_str().unwrap().to_owned();
    wait_for_completion(&app, &owner, &account, &id).await;
    let invitations = app.get(&format!("/v1/accounts/{account}/invitations"), Some(&owner.access_token)).await;
    let stored: &Value = &invitations.expect_status(200)["items"][0];
    assert_eq!(stored["first_name"], formula, "stored as given");
}
