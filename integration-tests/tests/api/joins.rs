use futures_util::future::join_all;
use integration_tests::{SignedIn, TestApp, on_both_backends};
use serde_json::{Value, json};

on_both_backends!(
    a_link_leads_to_a_request_approved_with_group_roles,
    requests_are_denied_withdrawn_and_never_escalate,
    links_expire_rotate_and_disable,
    max_uses_holds_under_fifty_parallel_joins,
);

fn token_of(link: &Value) -> String {
    link["url"].as_str().unwrap().split("token=").nth(1).unwrap().to_owned()
}

async fn create_link(app: &TestApp, admin: &SignedIn, account: &str, body: Value) -> Value {
    let reply = app.post(&format!("/v1/accounts/{account}/join-links"), Some(&admin.access_token), body).await;
    reply.expect_status(201).clone()
}

async fn join(app: &TestApp, user: &SignedIn, token: &str) -> integration_tests::Reply {
    app.post("/v1/join-links/join", Some(&user.access_token), json!({"token": token})).await
}

async fn a_link_leads_to_a_request_approved_with_group_roles(app: TestApp) {
    let owner = app.sign_up("owner@example.com").await;
    let account = app.create_account(&owner, "Acme").await;
    let admin = app.sign_up("admin@example.com").await;
    app.add_member(&account, &admin.id, &["administrator"]);
    let developer = app.sign_up("dev@example.com").await;
    app.add_member(&account, &developer.id, &["developer"]);
    let groups = format!("/v1/accounts/{account}/groups");
    let emea = app.post(&groups, Some(&owner.access_token), json!({"name": "EMEA"})).await;
    let emea = emea.expect_status(201)["id"].as_str().unwrap().to_owned();

    let link = create_link(&app, &owner, &account, json!({"group_id": emea})).await;
    assert_eq!((&link["status"], &link["uses"], &link["group_id"]), (&json!("active"), &json!(0), &json!(emea)));
    let token = token_of(&link);
    let listed = app.get(&format!("/v1/accounts/{account}/join-links"), Some(&owner.access_token)).await;
    let listed = listed.expect_status(200)["items"].as_array().unwrap().clone();
    assert_eq!(listed.len(), 1);
    assert!(listed[0].get("url").is_none(), "the token is shown once, at creation");

    let preview = app.get(&format!("/v1/join-links/preview?token={token}"), None).await;
    assert_eq!(
        preview.expect_status(200),
        &json!({"account_name": "Acme", "group_name": "EMEA", "usable": true, "reason": null})
    );

    // Anyone signed in, with whatever email they chose, may ask.
    let grace = app.sign_up("grace.hopper@personal.example").await;
    let asked = app
        .post("/v1/join-links/join", Some(&grace.access_token), json!({"token": token, "message": "EMEA sales, hi!"}))
        .await;
    let request = asked.expect_status(201).clone();
    assert_eq!((&request["status"], &request["email"]), (&json!("pending"), &json!("grace.hopper@personal.example")));
    let id = request["id"].as_str().unwrap().to_owned();
    join(&app, &grace, &token).await.expect_problem(409, "join_request_pending");

    for reviewer in ["owner@example.com", "admin@example.com"] {
        let mail = app.emails_to(reviewer, 2).await;
        let notice = mail.iter().find(|m| m.header("subject").unwrap().contains("asks to join Acme")).unwrap();
        assert!(notice.decoded().contains("EMEA sales, hi!"));
    }
    assert!(
        app.mail.to("dev@example.com").iter().all(|m| !m.header("subject").unwrap().contains("asks to join")),
        "only reviewers are told"
    );

    let requests = format!("/v1/accounts/{account}/join-requests");
    let pending = app.get(&format!("{requests}?status=pending"), Some(&admin.access_token)).await;
    assert_eq!(pending.expect_status(200)["items"][0]["id"], json!(id));
    let approve = json!({"assignments": [{"role": "developer"}, {"role": "analyst", "group_id": emea}]});
    let approved = app.post(&format!("{requests}/{id}/approve"), Some(&admin.access_token), approve.clone()).await;
    let approved = approved.expect_status(200);
    assert_eq!((&approved["status"], &approved["decided_by"]), (&json!("approved"), &json!(admin.id)));
    let told = app.emails_to("grace.hopper@personal.example", 2).await;
    assert!(told.iter().any(|m| m.header("subject").unwrap() == "You are now a member of Acme"));

    let mine = app.get("/v1/me/accounts", Some(&grace.access_token)).await;
    assert_eq!(mine.body["items"][0]["roles"], json!(["developer"]));
    let membership = persistence::memberships::find(&mut app.db(), account.parse().unwrap(), grace.id.parse().unwrap());
    let mut held: Vec<(String, Option<String>)> = membership
        .unwrap()
        .unwrap()
        .assignments
        .into_iter()
        .map(|a| (a.role.key, a.group_id.map(|g| g.to_string())))
        .collect();
    held.sort();
    assert_eq!(held, [("analyst".to_owned(), Some(emea.clone())), ("developer".to_owned(), None)]);
    let in_group = app.get(&format!("{groups}/{emea}/members"), Some(&owner.access_token)).await;
    assert_eq!(in_group.body["items"][0]["user_id"], json!(grace.id));

    app.post(&format!("{requests}/{id}/approve"), Some(&admin.access_token), approve)
        .await
        .expect_problem(409, "join_request_approved");
    join(&app, &grace, &token).await.expect_problem(409, "already_member");
    let history = app.get("/v1/me/join-requests", Some(&grace.access_token)).await;
    let history = history.expect_status(200)["items"].as_array().unwrap().clone();
    assert_eq!((history.len(), &history[0]["status"]), (1, &json!("approved")));
    let links = app.get(&format!("/v1/accounts/{account}/join-links"), Some(&owner.access_token)).await;
    assert_eq!(links.body["items"][0]["uses"], 1, "refused joins use nothing");
}

async fn requests_are_denied_withdrawn_and_never_escalate(app: TestApp) {
    let owner = app.sign_up("owner@example.com").await;
    let account = app.create_account(&owner, "Acme").await;
    let reviewer_role =
        json!({"key": "gatekeeper", "name": "Gatekeeper", "permissions": ["join_requests:review", "members:read"]});
    app.post(&format!("/v1/accounts/{account}/roles"), Some(&owner.access_token), reviewer_role)
        .await
        .expect_status(201);
    let gatekeeper = app.sign_up("gate@example.com").await;
    app.add_member(&account, &gatekeeper.id, &["gatekeeper"]);
    let token = token_of(&create_link(&app, &owner, &account, json!({})).await);
    let requests = format!("/v1/accounts/{account}/join-requests");

    let mallory = app.sign_up("mallory@example.com").await;
    let id = join(&app, &mallory, &token).await.expect_status(201)["id"].as_str().unwrap().to_owned();
    // A reviewer hands out nothing they do not hold.
    let escalate = json!({"assignments": [{"role": "administrator"}]});
    app.post(&format!("{requests}/{id}/approve"), Some(&gatekeeper.access_token), escalate).await.expect_status(403);
    let unknown = json!({"assignments": [{"role": "wizard"}]});
    app.post(&format!("{requests}/{id}/approve"), Some(&gatekeeper.access_token), unknown)
        .await
        .expect_problem(422, "validation_failed");
    let still = app.get(&format!("{requests}?status=pending"), Some(&owner.access_token)).await;
    assert_eq!(still.body["items"].as_array().unwrap().len(), 1, "a refused approval changes nothing");

    let denied = app
        .post(&format!("{requests}/{id}/deny"), Some(&gatekeeper.access_token), json!({"reason": "Not on the team."}))
        .await;
    assert_eq!(denied.expect_status(200)["status"], "denied");
    assert_eq!(denied.body["reason"], "Not on the team.");
    let told = app.emails_to("mallory@example.com", 2).await;
    let decision = told.iter().find(|m| m.header("subject").unwrap().contains("was declined")).unwrap();
    assert!(decision.decoded().contains("Not on the team."));
    app.post(&format!("{requests}/{id}/deny"), Some(&gatekeeper.access_token), json!({}))
        .await
        .expect_problem(409, "join_request_denied");
    app.post(&format!("{requests}/{id}/approve"), Some(&gatekeeper.access_token), json!({"assignments": []}))
        .await
        .expect_problem(409, "join_request_denied");
    let members = app.get(&format!("/v1/accounts/{account}/members"), Some(&owner.access_token)).await;
    assert_eq!(members.body["items"].as_array().unwrap().len(), 2, "denied people do not join");

    // A denied person may ask again; then thinks better of it.
    let again = join(&app, &mallory, &token).await.expect_status(201)["id"].as_str().unwrap().to_owned();
    let withdraw = format!("/v1/me/join-requests/{again}/withdraw");
    app.request(reqwest::Method::POST, &withdraw, Some(&owner.access_token), None)
        .await
        .expect_problem(404, "not_found");
    let withdrawn = app.request(reqwest::Method::POST, &withdraw, Some(&mallory.access_token), None).await;
    assert_eq!(withdrawn.expect_status(200)["status"], "withdrawn");
    app.request(reqwest::Method::POST, &withdraw, Some(&mallory.access_token), None)
        .await
        .expect_problem(409, "join_request_withdrawn");
    app.post(&format!("{requests}/{again}/approve"), Some(&owner.access_token), json!({}))
        .await
        .expect_problem(409, "join_request_withdrawn");
    let mine = app.get("/v1/me/join-requests?status=withdrawn", Some(&mallory.access_token)).await;
    assert_eq!(mine.body["items"].as_array().unwrap().len(), 1);

    // Bad input is refused with the field named, and changes nothing.
    let long = json!({"token": token, "message": "x".repeat(1001)});
    app.post("/v1/join-links/join", Some(&mallory.access_token), long).await.expect_problem(422, "validation_failed");
    app.get(&format!("{requests}?status=maybe"), Some(&owner.access_token))
        .await
        .expect_problem(422, "validation_failed");
    let links = format!("/v1/accounts/{account}/join-links");
    let bad =
        app.post(&links, Some(&owner.access_token), json!({"max_uses": 0, "expires_at": "2001-01-01T00:00:00Z"})).await;
    assert_eq!(bad.expect_problem(422, "validation_failed").body["errors"].as_array().unwrap().len(), 2);
    let nowhere = json!({"group_id": uuid::Uuid::new_v4()});
    app.post(&links, Some(&owner.access_token), nowhere).await.expect_problem(422, "validation_failed");
    let pending = join(&app, &mallory, &token).await.expect_status(201)["id"].as_str().unwrap().to_owned();
    let long = json!({"reason": "x".repeat(1001)});
    app.post(&format!("{requests}/{pending}/deny"), Some(&owner.access_token), long)
        .await
        .expect_problem(422, "validation_failed");
    app.post(&format!("{requests}/not-a-uuid/deny"), Some(&owner.access_token), json!({}))
        .await
        .expect_problem(400, "invalid_path_parameter");
    join(&app, &mallory, "made-up").await.expect_problem(404, "join_link_unknown");
    app.post("/v1/join-links/join", None, json!({"token": token})).await.expect_problem(401, "unauthenticated");
}

async fn links_expire_rotate_and_disable(app: TestApp) {
    let owner = app.sign_up("owner@example.com").await;
    let account = app.create_account(&owner, "Acme").await;
    let expires_at = (app.now() + chrono::Duration::hours(1)).to_rfc3339();
    let link = create_link(&app, &owner, &account, json!({"expires_at": expires_at})).await;
    let link_id = link["id"].as_str().unwrap().to_owned();
    let first = token_of(&link);
    let links = format!("/v1/accounts/{account}/join-links");

    // Rotation kills the old URL at once.
    let rotated = app.post(&format!("{links}/{link_id}/rotate"), Some(&owner.access_token), json!({})).await;
    let second = token_of(rotated.expect_status(200));
    assert_ne!(first, second);
    app.get(&format!("/v1/join-links/preview?token={first}"), None).await.expect_problem(404, "join_link_unknown");
    let ada = app.sign_up("ada@example.com").await;
    join(&app, &ada, &first).await.expect_problem(404, "join_link_unknown");
    join(&app, &ada, &second).await.expect_status(201);

    // Expiry.
    app.advance(chrono::Duration::hours(2)).await;
    let preview = app.get(&format!("/v1/join-links/preview?token={second}"), None).await;
    assert_eq!((&preview.body["usable"], &preview.body["reason"]), (&json!(false), &json!("join_link_expired")));
    let bob = app.sign_up("bob@example.com").await;
    join(&app, &bob, &second).await.expect_problem(410, "join_link_expired");
    let listed = app.get(&links, Some(&owner.access_token)).await;
    assert_eq!(listed.body["items"][0]["status"], "expired");

    // Disabling.
    let open = token_of(&create_link(&app, &owner, &account, json!({})).await);
    let open_id = app.get(&links, Some(&owner.access_token)).await.body["items"][1]["id"].as_str().unwrap().to_owned();
    app.delete(&format!("{links}/{open_id}"), Some(&owner.access_token)).await.expect_status(204);
    app.delete(&format!("{links}/{open_id}"), Some(&owner.access_token)).await.expect_status(204);
    join(&app, &bob, &open).await.expect_problem(410, "join_link_disabled");
    let preview = app.get(&format!("/v1/join-links/preview?token={open}"), None).await;
    assert_eq!(preview.body["reason"], "join_link_disabled");
    app.post(&format!("{links}/{open_id}/rotate"), Some(&owner.access_token), json!({}))
        .await
        .expect_problem(409, "join_link_disabled");
    let missing = uuid::Uuid::new_v4();
    app.delete(&format!("{links}/{missing}"), Some(&owner.access_token)).await.expect_problem(404, "not_found");

    // Another account's administrators cannot touch this account's links.
    let other = app.sign_up("other@example.com").await;
    let elsewhere = app.create_account(&other, "Elsewhere").await;
    app.delete(&format!("/v1/accounts/{elsewhere}/join-links/{link_id}"), Some(&other.access_token))
        .await
        .expect_problem(404, "not_found");
}

async fn max_uses_holds_under_fifty_parallel_joins(app: TestApp) {
    let owner = app.sign_up("owner@example.com").await;
    let account = app.create_account(&owner, "Acme").await;
    let token = token_of(&create_link(&app, &owner, &account, json!({"max_uses": 5})).await);
    let people = join_all((0..50).map(|i| {
        let email = format!("person{i}@example.com");
        let app = &app;
        async move { app.sign_up(&email).await }
    }))
    .await;
    let replies = join_all(people.iter().map(|person| join(&app, person, &token))).await;
    assert_eq!(replies.iter().filter(|r| r.status == 201).count(), 5, "exactly max_uses joins succeed");
    for refused in replies.iter().filter(|r| r.status != 201) {
        refused.expect_problem(410, "join_link_used_up");
    }
    let links = app.get(&format!("/v1/accounts/{account}/join-links"), Some(&owner.access_token)).await;
    assert_eq!((&links.body["items"][0]["uses"], &links.body["items"][0]["status"]), (&json!(5), &json!("used_up")));
    let path = format!("/v1/accounts/{account}/join-requests?status=pending&limit=100");
    let pending = app.get(&path, Some(&owner.access_token)).await;
    assert_eq!(pending.body["items"].as_array().unwrap().len(), 5);
}
