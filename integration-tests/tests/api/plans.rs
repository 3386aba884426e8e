//! Plans gate features: an account on a plan without a feature is refused
//! its operations with `plan_upgrade_required`, naming the plans that have
//! it; the plan and its seats are visible to members.

use integration_tests::{Backend, OPERATOR_TOKEN, TestApp, eventually, for_both_backends, roster_binary};
use persistence::DatabaseUrl;
use std::path::PathBuf;

use futures_util::future::join_all;
use serde_json::json;

for_both_backends!(
    a_plan_without_a_feature_names_the_plans_that_have_it,
    the_last_seat_goes_to_exactly_one_of_twenty_parallel_flows,
    an_import_past_the_seat_limit_refuses_the_rows_past_it,
    the_operator_sets_plans_with_the_operator_token,
    without_a_configured_token_the_operator_api_is_off,
);

const PLANS: &str = r#"
[[plans]]
key = "basic"
name = "Basic"
features = ["groups"]
seats = 3

[[plans]]
key = "professional"
name = "Professional"
features = ["groups", "custom_roles", "api_keys", "webhooks", "join_links", "spreadsheet_import"]
seats = 50
"#;

/// A server whose new accounts get `default` of `plans`, and the plans
/// file (in a directory of its own, removed by the caller).
pub(crate) async fn spawn_on_plan(backend: Backend, plans: &str, default: &str) -> Option<(TestApp, PathBuf)> {
    let dir = std::env::temp_dir().join(format!("roster-plans-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("plans.toml");
    std::fs::write(&file, plans).unwrap();
    let app = TestApp::spawn_with(backend, |s| {
        s.plans_file = Some(file.clone());
        s.default_plan = Some(default.into());
    })
    .await?;
    Some((app, file))
}

async fn a_plan_without_a_feature_names_the_plans_that_have_it(backend: Backend) {
    let Some((app, file)) = spawn_on_plan(backend, PLANS, "basic").await else { return };
    let dir = file.parent().unwrap().to_owned();
    let owner = app.sign_up("owner@example.com").await;
    let account = app.create_account(&owner, "Acme").await;
    let t = Some(owner.access_token.as_str());
    let invite = json!({"invitations": [{"email": "grace@example.com", "send_email": false}]});
    app.post(&format!("/v1/accounts/{account}/invitations"), t, invite).await.expect_status(200);

    let plan = app.get(&format!("/v1/accounts/{account}/plan"), t).await;
    assert_eq!(
        plan.expect_status(200),
        &json!({"key": "basic", "name": "Basic", "features": ["groups"], "seats": {"used": 2, "limit": 3}})
    );
    // Included: groups. Not included: partners and their keys, webhooks.
    app.post(&format!("/v1/accounts/{account}/groups"), t, json!({"name": "Design"})).await.expect_status(201);
    let refused = app.post(&format!("/v1/accounts/{account}/partners"), t, json!({"name": "Acme Logistics"})).await;
    refused.expect_problem(403, "plan_upgrade_required");
    assert_eq!((&refused.body["feature"], &refused.body["plans"]), (&json!("api_keys"), &json!(["professional"])));
    let hook = json!({"url": "https://hooks.example.com/x", "event_types": ["group.created"]});
    app.post(&format!("/v1/accounts/{account}/webhooks"), t, hook).await.expect_problem(403, "plan_upgrade_required");
    let domain = json!({"domain": "acme.example"});
    let refused = app.post(&format!("/v1/accounts/{account}/domains"), t, domain).await;
    refused.expect_problem(403, "plan_upgrade_required");
    // No plan of this deployment has it: none is named.
    assert_eq!((&refused.body["feature"], &refused.body["plans"]), (&json!("verified_domains"), &json!(null)));
    // A member lacking the permission hears about the permission first.
    let analyst = app.sign_up("analyst@example.com").await;
    app.add_member(&account, &analyst.id, &["analyst"]);
    let partners = format!("/v1/accounts/{account}/partners");
    app.post(&partners, Some(&analyst.access_token), json!({"name": "X"})).await.expect_problem(403, "forbidden");

    // The operator moves the account up: what was refused now works.
    let set_plan = |plan: &str| {
        let url = match &app.settings.database_url {
            DatabaseUrl::Sqlite(path) => format!("sqlite://{}", path.display()),
            DatabaseUrl::Postgres(url) => url.clone(),
        };
        std::process::Command::new(roster_binary())
            .args(["accounts", "set-plan", &account, plan])
            .env("ROSTER_DATABASE_URL", url)
            .env("ROSTER_DATA_DIR", &app.settings.data_dir)
            .env("ROSTER_PLANS_FILE", &file)
            .env("ROSTER_LOG", "error")
            .output()
            .expect("roster runs")
    };
    let unknown = set_plan("platinum");
    assert!(!unknown.status.success() && String::from_utf8_lossy(&unknown.stderr).contains("basic, professional"));
    assert!(set_plan("professional").status.success());
    let plan = app.get(&format!("/v1/accounts/{account}/plan"), t).await;
    assert_eq!(plan.expect_status(200)["seats"], json!({"used": 3, "limit": 50}));
    // The command is another process: the server hears of the change within
    // milliseconds (README, "Tokens and revocation"), not necessarily before
    // this next request.
    eventually("the new plan applying", std::time::Duration::from_secs(10), || async {
        let created = app.post(&partners, t, json!({"name": "Acme Logistics"})).await;
        created.status == 201 || {
            created.expect_problem(403, "plan_upgrade_required");
            false
        }
    })
    .await;
    app.run_jobs().await;
    let log = app.get(&format!("/v1/accounts/{account}/audit-events?action=account.plan_changed"), t).await;
    let event = &log.expect_status(200)["items"][0];
    assert_eq!(
        (&event["actor"]["type"], &event["changes"]["plan"]),
        (&json!("system"), &json!({"before": "basic", "after": "professional"}))
    );
    let _ = std::fs::remove_dir_all(&dir);
}

const TWO_SEATS: &str = r#"
[[plans]]
key = "duo"
name = "Duo"
features = ["join_links", "spreadsheet_import"]
seats = 2
"#;

/// With one seat left, ten invitations and ten join approvals race for it:
/// exactly one wins, the others hear `seat_limit_reached` naming the plan.
async fn the_last_seat_goes_to_exactly_one_of_twenty_parallel_flows(backend: Backend) {
    let Some((app, file)) = spawn_on_plan(backend, TWO_SEATS, "duo").await else { return };
    let owner = app.sign_up("owner@example.com").await;
    let account = app.create_account(&owner, "Acme").await;
    let t = Some(owner.access_token.as_str());
    let link = app.post(&format!("/v1/accounts/{account}/join-links"), t, json!({})).await;
    let token = link.expect_status(201)["url"].as_str().unwrap().split("token=").nth(1).unwrap().to_owned();
    let mut requests = Vec::new();
    for i in 0..10 {
        let person = app.sign_up(&format!("joiner{i}@example.com")).await;
        let joined = app.post("/v1/join-links/join", Some(&person.access_token), json!({"token": token})).await;
        requests.push(joined.expect_status(201)["id"].as_str().unwrap().to_owned());
    }
    // Join requests take no seat: one is still free.
    let plan = app.get(&format!("/v1/accounts/{account}/plan"), t).await;
    assert_eq!(plan.expect_status(200)["seats"], json!({"used": 1, "limit": 2}));

    let invitations = (0..10).map(|i| {
        let body = json!({"invitations": [{"email": format!("invitee{i}@example.com"), "send_email": false}]});
        let app = &app;
        let path = format!("/v1/accounts/{account}/invitations");
        async move {
            let reply = app.post(&path, t, body).await;
            let item = reply.expect_status(200)["results"][0].clone();
            (item["outcome"] == "created", item)
        }
    });
    let approvals = requests.iter().map(|id| {
        let app = &app;
        let path = format!("/v1/accounts/{account}/join-requests/{id}/approve");
        async move {
            let reply = app.post(&path, t, json!({"assignments": [{"role": "analyst"}]})).await;
            (reply.status == 200, reply.body.clone())
        }
    });
    let (invited, approved) = futures_util::future::join(join_all(invitations), join_all(approvals)).await;
    let winners = invited.iter().chain(&approved).filter(|(won, _)| *won).count();
    assert_eq!(winners, 1, "exactly one flow takes the last seat: {invited:?} {approved:?}");
    for (_, refusal) in invited.iter().chain(&approved).filter(|(won, _)| !*won) {
        let problem = if refusal["problem"].is_object() { &refusal["problem"] } else { refusal };
        assert_eq!(problem["code"], "seat_limit_reached", "{refusal}");
        assert!(problem["detail"].as_str().unwrap().contains("(Duo) allows 2 seats"), "{refusal}");
    }
    let plan = app.get(&format!("/v1/accounts/{account}/plan"), t).await;
    assert_eq!(plan.expect_status(200)["seats"], json!({"used": 2, "limit": 2}));
    let _ = std::fs::remove_dir_all(file.parent().unwrap());
}

/// An import takes the free seats in file order; the rows past them fail
/// with `seat_limit_reached`, and a revoked invitation frees its seat.
async fn an_import_past_the_seat_limit_refuses_the_rows_past_it(backend: Backend) {
    let three = TWO_SEATS.replace("seats = 2", "seats = 3");
    let Some((app, file)) = spawn_on_plan(backend, &three, "duo").await else { return };
    let owner = app.sign_up("owner@example.com").await;
    let account = app.create_account(&owner, "Acme").await;
    let t = Some(owner.access_token.as_str());
    let csv = "email,first_name,last_name,roles,groups\n\
               ada@example.com,Ada,,,\nowner@example.com,,,,\nalan@example.com,,,,\ngrace@example.com,,,,\n";
    let response = crate::imports::upload(&app, &owner, &account, csv.as_bytes().to_vec()).await;
    assert_eq!(response.status(), 202);
    let accepted: serde_json::Value = response.json().await.unwrap();
    let id = accepted["import_id"].as_str().unwrap().to_owned();
    crate::imports::wait_for_completion(&app, &owner, &account, &id).await;
    let report = app.get(&format!("/v1/accounts/{account}/invitation-imports/{id}/report"), t).await;
    let codes: Vec<(i64, String)> = report.expect_status(200)["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["row"].as_i64().unwrap(), e["code"].as_str().unwrap().to_owned()))
        .collect();
    let expected = [(2, "invited"), (3, "already_member"), (4, "invited"), (5, "seat_limit_reached")];
    assert_eq!(codes, expected.map(|(row, code)| (row, code.to_owned())));
    let plan = app.get(&format!("/v1/accounts/{account}/plan"), t).await;
    assert_eq!(plan.expect_status(200)["seats"], json!({"used": 3, "limit": 3}));

    // A full account refuses a single invitation too, until a seat is freed.
    let path = format!("/v1/accounts/{account}/invitations");
    let body = json!({"invitations": [{"email": "grace@example.com", "send_email": false}]});
    let refused = app.post(&path, t, body.clone()).await;
    assert_eq!(refused.expect_status(200)["results"][0]["problem"]["code"], "seat_limit_reached");
    let listed = app.get(&format!("{path}?status=pending"), t).await;
    let ada = listed.expect_status(200)["items"].as_array().unwrap()[0]["id"].as_str().unwrap().to_owned();
    app.post(&format!("{path}/{ada}/revoke"), t, json!({})).await.expect_status(200);
    let sent = app.post(&path, t, body).await;
    assert_eq!(sent.expect_status(200)["results"][0]["outcome"], "created");
    let _ = std::fs::remove_dir_all(file.parent().unwrap());
}

/// The operator API: a billing system moves an account between plans with
/// the operator token; nothing else gets in, and the change is audited.
async fn the_operator_sets_plans_with_the_operator_token(backend: Backend) {
    let Some((app, file)) = spawn_on_plan(backend, PLANS, "basic").await else { return };
    let owner = app.sign_up("owner@example.com").await;
    let account = app.create_account(&owner, "Acme").await;
    let path = format!("/v1/operator/accounts/{account}/plan");
    let op = Some(OPERATOR_TOKEN);
    let plan = app.get(&path, op).await;
    assert_eq!(plan.expect_status(200)["key"], "basic");
    // A user's token, a wrong token and no token are all refused alike.
    let upgrade = json!({"plan": "professional"});
    app.put(&path, Some(&owner.access_token), upgrade.clone()).await.expect_problem(401, "unauthenticated");
    app.put(&path, Some("not-the-operator-token"), upgrade.clone()).await.expect_problem(401, "unauthenticated");
    app.get(&path, None).await.expect_problem(401, "unauthenticated");

    let moved = app.put(&path, op, upgrade.clone()).await;
    assert_eq!(moved.expect_status(200)["seats"], json!({"used": 1, "limit": 50}));
    assert_eq!(moved.body["key"], "professional");
    let t = Some(owner.access_token.as_str());
    let partners = format!("/v1/accounts/{account}/partners");
    app.post(&partners, t, json!({"name": "Acme Logistics"})).await.expect_status(201);

    // Bad input changes nothing.
    let unknown = app.put(&path, op, json!({"plan": "platinum"})).await;
    unknown.expect_problem(422, "validation_failed");
    assert!(unknown.body["errors"][0]["message"].as_str().unwrap().contains("basic, professional"));
    app.put(&path, op, json!({"plan": "basic", "extra": 1})).await.expect_problem(422, "validation_failed");
    let elsewhere = format!("/v1/operator/accounts/{}/plan", uuid::Uuid::new_v4());
    app.put(&elsewhere, op, upgrade).await.expect_problem(404, "not_found");
    assert_eq!(app.get(&path, op).await.expect_status(200)["key"], "professional");

    // The downgrade removes nobody and nothing: it refuses what is new.
    app.put(&path, op, json!({"plan": "basic"})).await.expect_status(200);
    assert_eq!(app.get(&partners, t).await.expect_status(200)["items"].as_array().unwrap().len(), 1);
    app.post(&partners, t, json!({"name": "Other"})).await.expect_problem(403, "plan_upgrade_required");
    app.run_jobs().await;
    let log = app.get(&format!("/v1/accounts/{account}/audit-events?action=account.plan_changed"), t).await;
    let events = log.expect_status(200)["items"].as_array().unwrap().clone();
    assert_eq!(events.len(), 2);
    assert_eq!(
        (&events[0]["actor"]["type"], &events[0]["changes"]["plan"]),
        (&json!("operator"), &json!({"before": "professional", "after": "basic"}))
    );
    let _ = std::fs::remove_dir_all(file.parent().unwrap());
}

/// Without a configured digest the operator API is off.
async fn without_a_configured_token_the_operator_api_is_off(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, |s| s.operator_token_sha256 = None).await else { return };
    let owner = app.sign_up("owner@example.com").await;
    let account = app.create_account(&owner, "Acme").await;
    let path = format!("/v1/operator/accounts/{account}/plan");
    app.get(&path, Some(OPERATOR_TOKEN)).await.expect_problem(401, "unauthenticated");
}
