//! Last activity: each membership records when the member last made an
//! authenticated request in the account, at most every five minutes, shown
//! on members and filterable as "inactive for more than N days".

use chrono::Duration;
use integration_tests::{TestApp, on_both_backends};
use serde_json::Value;

on_both_backends!(members_show_when_they_last_acted_and_inactive_ones_are_found);

async fn members_show_when_they_last_acted_and_inactive_ones_are_found(app: TestApp) {
    let owner = app.sign_up("owner@example.com").await;
    let account = app.create_account(&owner, "Acme").await;
    let ada = app.sign_up("ada@example.com").await;
    app.add_member(&account, &ada.id, &["analyst"]);
    let idle = app.sign_up("idle@example.com").await;
    app.add_member(&account, &idle.id, &["analyst"]);
    let members = format!("/v1/accounts/{account}/members");
    let t = Some(owner.access_token.as_str());
    let last_active = |page: &Value, email: &str| {
        page["items"].as_array().unwrap().iter().find(|m| m["email"] == email).unwrap()["last_active_at"].clone()
    };
    let account_path = format!("/v1/accounts/{account}");
    let ada_acts = || app.get(&account_path, Some(&ada.access_token));

    let page = app.get(&members, t).await.expect_status(200).clone();
    assert_eq!(last_active(&page, "ada@example.com"), Value::Null, "not active yet");
    assert!(last_active(&page, "owner@example.com").is_string(), "the owner's own request counts");

    ada_acts().await.expect_status(200);
    let first = last_active(app.get(&members, t).await.expect_status(200), "ada@example.com");
    assert!(first.is_string());
    // Within five minutes a request writes nothing; after them, it does.
    app.advance(Duration::minutes(4)).await;
    ada_acts().await.expect_status(200);
    assert_eq!(last_active(app.get(&members, t).await.expect_status(200), "ada@example.com"), first);
    app.advance(Duration::minutes(2)).await;
    ada_acts().await.expect_status(200);
    let later = last_active(app.get(&members, t).await.expect_status(200), "ada@example.com");
    assert!(later.as_str().unwrap() > first.as_str().unwrap(), "{later} after {first}");

    // A month later, Ada acts once more: only the one who never acted and
    // nobody else is inactive for more than 30 days.
    app.advance(Duration::days(31)).await;
    let inactive = |days: u32| format!("{members}?inactive_for_days={days}");
    let emails = |page: &Value| -> Vec<String> {
        page["items"].as_array().unwrap().iter().map(|m| m["email"].as_str().unwrap().to_owned()).collect()
    };
    assert_eq!(emails(app.get(&inactive(30), t).await.expect_status(200)), ["ada@example.com", "idle@example.com"]);
    ada_acts().await.expect_status(200);
    assert_eq!(emails(app.get(&inactive(30), t).await.expect_status(200)), ["idle@example.com"]);
    app.get(&inactive(0), t).await.expect_problem(422, "validation_failed");
    app.get(&format!("{members}?inactive_for_days=x"), t).await.expect_problem(400, "invalid_query");
}
