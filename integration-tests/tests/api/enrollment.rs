//! Who with an email at a verified domain comes in by themselves: the
//! account is suggested to them (`suggest`), or they become members when
//! their email is verified or at their next sign-in (`automatic`, within
//! the seats); invitations can be restricted to the verified domains.

use integration_tests::{Backend, PASSWORD, SignedIn, TestApp, for_both_backends, on_both_backends};
use serde_json::{Value, json};

use crate::domains::verified_domain;
use crate::imports::{upload, wait_for_completion};
use crate::invitations::{invite, token_from_email};
use crate::plans::spawn_on_plan;

on_both_backends!(
    a_suggested_account_takes_a_join_request_from_people_at_its_domain,
    automatic_enrollment_admits_at_email_verification_and_at_sign_in,
    default_roles_are_within_what_their_manager_may_give,
    invitations_restricted_to_verified_domains_refuse_other_emails,
);

for_both_backends!(with_no_seat_left_automatic_enrollment_files_a_join_request);

async fn set_enrollment(app: &TestApp, owner: &SignedIn, account: &str, domain: &str, body: Value) -> Value {
    let path = format!("/v1/accounts/{account}/domains/{domain}");
    app.patch(&path, Some(&owner.access_token), body).await.expect_status(200).clone()
}

async fn suggested(app: &TestApp, user: &SignedIn) -> Vec<Value> {
    let reply = app.get("/v1/me/suggested-accounts", Some(&user.access_token)).await;
    reply.expect_status(200)["items"].as_array().unwrap().clone()
}

async fn roles_in(app: &TestApp, user: &SignedIn, account: &str) -> Option<Value> {
    let mine = app.get("/v1/me/accounts", Some(&user.access_token)).await;
    let items = mine.expect_status(200)["items"].as_array().unwrap().clone();
    items.into_iter().find(|item| item["account"]["id"] == account).map(|item| item["roles"].clone())
}

async fn sign_in(app: &TestApp, email: &str) -> Value {
    app.post("/v1/auth/login", None, json!({"email": email, "password": PASSWORD})).await.expect_status(200).clone()
}

async fn a_suggested_account_takes_a_join_request_from_people_at_its_domain(app: TestApp) {
    let owner = app.sign_up("owner@acme.example").await;
    let account = app.create_account(&owner, "Acme").await;
    let domain = verified_domain(&app, &owner, &account, "acme.example").await;
    let grace = app.sign_up("grace@acme.example").await;
    let unverified = app.sign_up_unverified("linus@acme.example").await;
    let elsewhere = app.sign_up("ada@sub.acme.example").await;

    // Manual (the default): nothing is suggested.
    assert_eq!(suggested(&app, &grace).await, Vec::<Value>::new());
    let opened = set_enrollment(&app, &owner, &account, &domain, json!({"enrollment": "suggest"})).await;
    assert_eq!(opened["enrollment"], "suggest");

    let found = suggested(&app, &grace).await;
    assert_eq!(
        found,
        [
            json!({"account_id": account, "account_name": "Acme", "domain": "acme.example", "pending_join_request_id": null})
        ]
    );
    assert!(suggested(&app, &unverified).await.is_empty(), "an unverified email proves nothing");
    assert!(suggested(&app, &elsewhere).await.is_empty(), "a subdomain is another domain");
    assert!(suggested(&app, &owner).await.is_empty(), "members are not offered their own account");

    // Asking files an ordinary join request, reviewed as any other.
    let ask = format!("/v1/me/suggested-accounts/{account}/join-requests");
    let request = app.post(&ask, Some(&grace.access_token), json!({"message": "Berlin office"})).await;
    let request = request.expect_status(201).clone();
    assert_eq!((&request["status"], &request["message"]), (&json!("pending"), &json!("Berlin office")));
    assert_eq!(suggested(&app, &grace).await[0]["pending_join_request_id"], request["id"]);
    app.post(&ask, Some(&grace.access_token), json!({})).await.expect_problem(409, "join_request_pending");
    app.post(&ask, Some(&unverified.access_token), json!({})).await.expect_problem(404, "not_found");
    let other = app.create_account(&elsewhere, "Other").await;
    app.post(&format!("/v1/me/suggested-accounts/{other}/join-requests"), Some(&grace.access_token), json!({}))
        .await
        .expect_problem(404, "not_found");
    let reviewers = app.emails_to("owner@acme.example", 1).await;
    assert!(reviewers.iter().any(|m| m.header("subject").unwrap().contains("asks to join Acme")));

    let approve = format!("/v1/accounts/{account}/join-requests/{}/approve", request["id"].as_str().unwrap());
    app.post(&approve, Some(&owner.access_token), json!({"assignments": [{"role": "developer"}]}))
        .await
        .expect_status(200);
    assert_eq!(roles_in(&app, &grace, &account).await, Some(json!(["developer"])));
    assert!(suggested(&app, &grace).await.is_empty(), "a member is not offered the account again");

    // Back to manual: nothing suggested, nothing to ask.
    set_enrollment(&app, &owner, &account, &domain, json!({"enrollment": "manual"})).await;
    let late = app.sign_up("late@acme.example").await;
    assert!(suggested(&app, &late).await.is_empty());
    app.post(&ask, Some(&late.access_token), json!({})).await.expect_problem(404, "not_found");
}

async fn automatic_enrollment_admits_at_email_verification_and_at_sign_in(app: TestApp) {
    let owner = app.sign_up("owner@acme.example").await;
    let account = app.create_account(&owner, "Acme").await;
    let groups = format!("/v1/accounts/{account}/groups");
    let berlin = app.post(&groups, Some(&owner.access_token), json!({"name": "Berlin"})).await;
    let berlin = berlin.expect_status(201)["id"].as_str().unwrap().to_owned();
    let domain = verified_domain(&app, &owner, &account, "acme.example").await;
    // Signed up before the domain opened: enrolled at the next sign-in.
    let early = app.sign_up("early@acme.example").await;
    let outsider = app.sign_up("outsider@example.com").await;
    let body = json!({"enrollment": "automatic", "default_roles": ["developer"], "default_groups": [berlin]});
    let opened = set_enrollment(&app, &owner, &account, &domain, body).await;
    assert_eq!((&opened["default_roles"], &opened["default_groups"]), (&json!(["developer"]), &json!([berlin])));
    assert_eq!(roles_in(&app, &early, &account).await, None, "nothing happens before they sign in");

    sign_in(&app, "early@acme.example").await;
    assert_eq!(roles_in(&app, &early, &account).await, Some(json!(["developer"])));
    let in_group = app.get(&format!("{groups}/{berlin}/members"), Some(&owner.access_token)).await;
    assert_eq!(in_group.expect_status(200)["items"][0]["user_id"], json!(early.id));
    sign_in(&app, "outsider@example.com").await;
    assert_eq!(roles_in(&app, &outsider, &account).await, None);

    // Registered now: a member once the email is verified, not before.
    let fresh = app.sign_up_unverified("fresh@acme.example").await;
    assert_eq!(roles_in(&app, &fresh, &account).await, None, "an unverified email proves nothing");
    let token = token_from_email(&app, "fresh@acme.example", 1).await;
    app.post("/v1/auth/verify-email", None, json!({"token": token})).await.expect_status(204);
    assert_eq!(roles_in(&app, &fresh, &account).await, Some(json!(["developer"])));

    // A second sign-in changes nothing; the log says the system did it.
    sign_in(&app, "early@acme.example").await;
    app.run_jobs().await;
    let log =
        app.get(&format!("/v1/accounts/{account}/audit-events?action=member.joined"), Some(&owner.access_token)).await;
    let joined: Vec<Value> = log.expect_status(200)["items"].as_array().unwrap().clone();
    assert_eq!(joined.len(), 2, "{joined:?}");
    for event in &joined {
        assert_eq!(event["actor"]["type"], "system", "{event}");
    }

    // A domain that stops being verified enrolls nobody.
    app.delete(&format!("/v1/accounts/{account}/domains/{domain}"), Some(&owner.access_token)).await.expect_status(204);
    let after = app.sign_up("after@acme.example").await;
    sign_in(&app, "after@acme.example").await;
    assert_eq!(roles_in(&app, &after, &account).await, None);
}

async fn default_roles_are_within_what_their_manager_may_give(app: TestApp) {
    let owner = app.sign_up("owner@acme.example").await;
    let account = app.create_account(&owner, "Acme").await;
    let domain = verified_domain(&app, &owner, &account, "acme.example").await;
    let path = format!("/v1/accounts/{account}/domains/{domain}");
    let settings = json!({"key": "settings", "name": "Settings", "permissions": ["settings:manage", "settings:read"]});
    app.post(&format!("/v1/accounts/{account}/roles"), Some(&owner.access_token), settings).await.expect_status(201);
    let manager = app.sign_up("manager@acme.example").await;
    app.add_member(&account, &manager.id, &["settings"]);
    let m = Some(manager.access_token.as_str());

    let escalate = json!({"enrollment": "automatic", "default_roles": ["administrator"]});
    app.patch(&path, m, escalate).await.expect_problem(403, "forbidden");
    let refused = app.patch(&path, m, json!({"default_roles": ["nope"]})).await;
    refused.expect_problem(422, "validation_failed");
    assert_eq!(refused.body["errors"][0]["field"], "default_roles");
    app.patch(&path, m, json!({"enrollment": "everyone"})).await.expect_problem(422, "validation_failed");
    let unknown_group = json!({"default_groups": ["01937a2e-e000-7000-8000-000000000001"]});
    app.patch(&path, m, unknown_group).await.expect_problem(422, "validation_failed");
    let current = app.get(&path, m).await;
    assert_eq!(
        (&current.body["enrollment"], &current.body["default_roles"]),
        (&json!("manual"), &json!([])),
        "nothing changed"
    );

    // What the manager holds may be given; the owner may give more.
    let own = set_enrollment(
        &app,
        &owner,
        &account,
        &domain,
        json!({"default_roles": ["settings"], "enrollment": "suggest"}),
    )
    .await;
    assert_eq!(own["default_roles"], json!(["settings"]));
    app.patch(&path, m, json!({"enrollment": "automatic"})).await.expect_status(200);
    let member = app.sign_up("member@example.com").await;
    app.add_member(&account, &member.id, &[]);
    app.patch(&path, Some(&member.access_token), json!({"enrollment": "manual"}))
        .await
        .expect_problem(403, "forbidden");
}

async fn invitations_restricted_to_verified_domains_refuse_other_emails(app: TestApp) {
    let owner = app.sign_up("owner@acme.example").await;
    let account = app.create_account(&owner, "Acme").await;
    let link = app.post(&format!("/v1/accounts/{account}/join-links"), Some(&owner.access_token), json!({})).await;
    let token = link.expect_status(201)["url"].as_str().unwrap().split("token=").nth(1).unwrap().to_owned();
    verified_domain(&app, &owner, &account, "acme.example").await;

    // Not restricted yet: anyone may be invited.
    let open = invite(&app, &owner, &account, json!([{"email": "before@example.com", "send_email": false}])).await;
    assert_eq!(open[0]["outcome"], "created");

    let preferences = format!("/v1/accounts/{account}/preferences");
    let tag = app.etag_of(&preferences, &owner.access_token).await;
    let restrict = json!({"invitations_restricted_to_domains": true});
    let set = app
        .request_if_match(reqwest::Method::PATCH, &preferences, &owner.access_token, Some(&tag), Some(restrict))
        .await;
    assert_eq!(set.expect_status(200)["invitations_restricted_to_domains"], true);

    let results = invite(
        &app,
        &owner,
        &account,
        json!([
            {"email": "grace@acme.example", "send_email": false},
            {"email": "ada@example.com", "send_email": false},
            {"email": "linus@eu.acme.example", "send_email": false},
        ]),
    )
    .await;
    assert_eq!(results[0]["outcome"], "created");
    for refused in &results.as_array().unwrap()[1..] {
        assert_eq!(
            (&refused["outcome"], &refused["problem"]["code"]),
            (&json!("failed"), &json!("email_domain_not_allowed")),
            "{refused}"
        );
    }

    // Spreadsheet rows are reported one by one.
    let csv =
        b"email,first_name,last_name,roles,groups\nrow@acme.example,Row,One,,\nrow@example.com,Row,Two,,\n".to_vec();
    let import = upload(&app, &owner, &account, csv).await;
    assert_eq!(import.status(), 202);
    let id = import.json::<Value>().await.unwrap()["import_id"].as_str().unwrap().to_owned();
    wait_for_completion(&app, &owner, &account, &id).await;
    let report =
        app.get(&format!("/v1/accounts/{account}/invitation-imports/{id}/report"), Some(&owner.access_token)).await;
    let codes: Vec<&Value> =
        report.expect_status(200)["entries"].as_array().unwrap().iter().map(|row| &row["code"]).collect();
    assert_eq!(codes, [&json!("invited"), &json!("email_domain_not_allowed")]);

    // Join links take only people at the domain; the refused use is not spent.
    let stranger = app.sign_up("stranger@example.com").await;
    let join = json!({"token": token});
    app.post("/v1/join-links/join", Some(&stranger.access_token), join.clone())
        .await
        .expect_problem(409, "email_domain_not_allowed");
    let colleague = app.sign_up("colleague@acme.example").await;
    app.post("/v1/join-links/join", Some(&colleague.access_token), join).await.expect_status(201);
    let links = app.get(&format!("/v1/accounts/{account}/join-links"), Some(&owner.access_token)).await;
    assert_eq!(links.expect_status(200)["items"][0]["uses"], 1);
}

const ONE_SEAT: &str = r#"
[[plans]]
key = "small"
name = "Small"
features = ["verified_domains", "groups"]
seats = 1
"#;

async fn with_no_seat_left_automatic_enrollment_files_a_join_request(backend: Backend) {
    let Some((app, plans)) = spawn_on_plan(backend, ONE_SEAT, "small").await else { return };
    let owner = app.sign_up("owner@acme.example").await;
    let account = app.create_account(&owner, "Acme").await;
    let domain = verified_domain(&app, &owner, &account, "acme.example").await;
    set_enrollment(&app, &owner, &account, &domain, json!({"enrollment": "automatic"})).await;

    let grace = app.sign_up("grace@acme.example").await;
    sign_in(&app, "grace@acme.example").await;
    assert_eq!(roles_in(&app, &grace, &account).await, None, "the owner holds the only seat");
    let requests = format!("/v1/accounts/{account}/join-requests?status=pending");
    let pending = app.get(&requests, Some(&owner.access_token)).await;
    let pending = pending.expect_status(200)["items"].as_array().unwrap().clone();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0]["user_id"], json!(grace.id));
    // Signing in again files nothing more.
    sign_in(&app, "grace@acme.example").await;
    let again = app.get(&requests, Some(&owner.access_token)).await;
    assert_eq!(again.expect_status(200)["items"].as_array().unwrap().len(), 1);
    std::fs::remove_dir_all(plans.parent().unwrap()).ok();
}
