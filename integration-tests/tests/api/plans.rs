//! Plans gate features: an account on a plan without a feature is refused
//! its operations with `plan_upgrade_required`, naming the plans that have
//! it; the plan and its seats are visible to members.

use integration_tests::{Backend, TestApp, for_both_backends, roster_binary};
use persistence::DatabaseUrl;
use serde_json::json;

for_both_backends!(a_plan_without_a_feature_names_the_plans_that_have_it);

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

async fn a_plan_without_a_feature_names_the_plans_that_have_it(backend: Backend) {
    let dir = std::env::temp_dir().join(format!("roster-plans-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("plans.toml");
    std::fs::write(&file, PLANS).unwrap();
    let Some(app) = TestApp::spawn_with(backend, |s| {
        s.plans_file = Some(file.clone());
        s.default_plan = Some("basic".into());
    })
    .await
    else {
        return;
    };
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
    app.post(&format!("/v1/accounts/{account}/partners"), t, json!({"name": "Acme Logistics"}))
        .await
        .expect_status(201);
    app.run_jobs().await;
    let log = app.get(&format!("/v1/accounts/{account}/audit-events?action=account.plan_changed"), t).await;
    let event = &log.expect_status(200)["items"][0];
    assert_eq!(
        (&event["actor"]["type"], &event["changes"]["plan"]),
        (&json!("system"), &json!({"before": "basic", "after": "professional"}))
    );
    let _ = std::fs::remove_dir_all(&dir);
}
