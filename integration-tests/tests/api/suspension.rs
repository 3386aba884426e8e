//! Suspended members: refused everywhere in the account (their requests,
//! their API keys, checks about them), on every instance within the
//! authorization cache's bound, while their roles, groups and seat stay on
//! record; restored with exactly what they had.

use std::time::Duration;

use integration_tests::{SignedIn, TestApp, eventually, on_both_backends};
use serde_json::{Value, json};

on_both_backends!(
    a_suspended_member_is_refused_everywhere_until_restored_with_what_they_had,
    only_owners_suspend_owners_and_nobody_suspends_themselves,
);

/// As in access_cache.rs: far above what another instance takes to hear.
const BOUND: Duration = Duration::from_secs(10);

async fn allowed(app: &TestApp, base: &str, account: &str, token: &str, about: &str) -> Value {
    let url = format!("{base}/v1/accounts/{account}/authorization-checks");
    let body = json!({"user_id": about, "permissions": ["members:read"]});
    TestApp::read(app.client.post(url).bearer_auth(token).json(&body).send().await.unwrap()).await.body["allowed"]
        .clone()
}

async fn status_at(app: &TestApp, base: &str, path: &str, token: &str) -> u16 {
    app.client.get(format!("{base}{path}")).bearer_auth(token).send().await.unwrap().status().as_u16()
}

async fn suspend(app: &TestApp, by: &SignedIn, account: &str, user: &str, action: &str) -> integration_tests::Reply {
    app.post(&format!("/v1/accounts/{account}/members/{user}/{action}"), Some(&by.access_token), json!({})).await
}

async fn a_suspended_member_is_refused_everywhere_until_restored_with_what_they_had(app: TestApp) {
    let sibling = app.spawn_sibling();
    let owner = app.sign_up("owner@example.com").await;
    let account = app.create_account(&owner, "Acme").await;
    let admin = app.sign_up("admin@example.com").await;
    app.add_member(&account, &admin.id, &["administrator"]);
    let t = Some(owner.access_token.as_str());
    let group = app.post(&format!("/v1/accounts/{account}/groups"), t, json!({"name": "Design"})).await;
    let group = group.expect_status(201)["id"].as_str().unwrap().to_owned();
    let into_group = format!("/v1/accounts/{account}/groups/{group}/members/{}", admin.id);
    app.request(reqwest::Method::PUT, &into_group, t, None).await.expect_status(204);
    let a = Some(admin.access_token.as_str());
    let partner = app.post(&format!("/v1/accounts/{account}/partners"), a, json!({"name": "Backend"})).await;
    let partner = partner.expect_status(201)["id"].as_str().unwrap().to_owned();
    let key = app
        .post(
            &format!("/v1/accounts/{account}/api-keys"),
            a,
            json!({"name": "Backend", "partner_id": partner, "permissions": ["members:read"]}),
        )
        .await;
    let key = key.expect_status(201)["secret"].as_str().unwrap().to_owned();
    let here = format!("/v1/accounts/{account}");
    let member_path = format!("{here}/members/{}", admin.id);
    let before = app.get(&member_path, t).await.expect_status(200).clone();
    assert_eq!(before["status"], "active");
    // Both instances answer (and remember) before the change.
    for base in [&app.address, &sibling.address] {
        assert_eq!(status_at(&app, base, &here, &admin.access_token).await, 200);
        assert_eq!(allowed(&app, base, &account, &owner.access_token, &admin.id).await, json!(true));
        assert_eq!(status_at(&app, base, &format!("{here}/members"), &key).await, 200);
    }

    let suspended = suspend(&app, &owner, &account, &admin.id, "suspend").await;
    assert_eq!(suspended.expect_status(200)["status"], "suspended");
    assert_eq!(suspended.body["assignments"], before["assignments"], "roles stay on record");
    // At once here, within the bound there.
    assert_eq!(status_at(&app, &app.address, &here, &admin.access_token).await, 404);
    assert_eq!(status_at(&app, &app.address, &format!("{here}/members"), &key).await, 401);
    assert_eq!(allowed(&app, &app.address, &account, &owner.access_token, &admin.id).await, json!(false));
    let took = eventually("the sibling refusing the suspended member", BOUND, || async {
        status_at(&app, &sibling.address, &here, &admin.access_token).await == 404
            && status_at(&app, &sibling.address, &format!("{here}/members"), &key).await == 401
            && allowed(&app, &sibling.address, &account, &owner.access_token, &admin.id).await == json!(false)
    })
    .await;
    assert!(took < BOUND);
    // Listed as suspended, in their group still, and not invited over.
    let listed = app.get(&format!("{here}/members?status=suspended"), t).await;
    let listed = listed.expect_status(200)["items"].as_array().unwrap().clone();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["user_id"], json!(admin.id));
    let in_group = app.get(&format!("{here}/groups/{group}/members"), t).await;
    assert_eq!(in_group.expect_status(200)["items"][0]["user_id"], json!(admin.id));
    let invited = app
        .post(
            &format!("{here}/invitations"),
            t,
            json!({"invitations": [{"email": "admin@example.com", "send_email": false}]}),
        )
        .await;
    assert_eq!(invited.expect_status(200)["results"][0]["problem"]["code"], "already_member");
    // Elsewhere and as a user they go on, and they see why.
    app.get("/v1/me", Some(&admin.access_token)).await.expect_status(200);
    let mine = app.get("/v1/me/accounts", Some(&admin.access_token)).await;
    assert_eq!(mine.expect_status(200)["items"][0]["status"], "suspended");

    let restored = suspend(&app, &owner, &account, &admin.id, "reactivate").await;
    assert_eq!(restored.expect_status(200)["status"], "active");
    assert_eq!(restored.body["assignments"], before["assignments"], "exactly what they had");
    assert_eq!(status_at(&app, &app.address, &here, &admin.access_token).await, 200);
    assert_eq!(status_at(&app, &app.address, &format!("{here}/members"), &key).await, 200);
    eventually("the sibling admitting the member again", BOUND, || async {
        status_at(&app, &sibling.address, &here, &admin.access_token).await == 200
    })
    .await;

    app.run_jobs().await;
    for action in ["member.suspended", "member.reactivated"] {
        let log = app.get(&format!("{here}/audit-events?action={action}"), t).await;
        assert_eq!(log.expect_status(200)["items"].as_array().unwrap().len(), 1, "{action}");
    }
}

async fn only_owners_suspend_owners_and_nobody_suspends_themselves(app: TestApp) {
    let owner = app.sign_up("owner@example.com").await;
    let account = app.create_account(&owner, "Acme").await;
    let (second, admin) = (app.sign_up("second@example.com").await, app.sign_up("admin@example.com").await);
    app.add_member(&account, &second.id, &["owner"]);
    app.add_member(&account, &admin.id, &["administrator"]);
    suspend(&app, &admin, &account, &second.id, "suspend").await.expect_problem(403, "forbidden");
    suspend(&app, &owner, &account, &owner.id, "suspend").await.expect_problem(409, "same_user");
    let member = app.sign_up("member@example.com").await;
    app.add_member(&account, &member.id, &[]);
    suspend(&app, &member, &account, &admin.id, "suspend").await.expect_problem(403, "forbidden");
    assert_eq!(suspend(&app, &owner, &account, &second.id, "suspend").await.expect_status(200)["status"], "suspended");
    // A suspended owner acts no more, and the account keeps its active owner.
    suspend(&app, &second, &account, &owner.id, "suspend").await.expect_problem(404, "not_found");
    suspend(&app, &owner, &account, &second.id, "suspend").await.expect_status(200);
}
