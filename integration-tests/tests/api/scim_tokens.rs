//! Tokens for an account's directory: shown once, listed with their use,
//! revocable, good for SCIM only.

use integration_tests::{TestApp, on_both_backends};
use serde_json::json;

on_both_backends!(directory_tokens_are_shown_once_listed_and_revoked);

async fn directory_tokens_are_shown_once_listed_and_revoked(app: TestApp) {
    let owner = app.sign_up("owner@example.com").await;
    let account = app.create_account(&owner, "Acme").await;
    let t = Some(owner.access_token.as_str());
    let tokens = format!("/v1/accounts/{account}/scim-tokens");

    let made = app.post(&tokens, t, json!({"name": "Okta"})).await;
    let made = made.expect_status(201).clone();
    let secret = made["token"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("scim_") && secret.len() > 40, "{secret}");
    assert_eq!(made["scim_base_url"], json!(format!("{}/scim/v2", app.settings.public_url)));
    assert_eq!(made["status"], "active");
    let listed = app.get(&tokens, t).await;
    let items = listed.expect_status(200)["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 1);
    assert!(items[0].get("token").is_none(), "shown once");
    assert!(!listed.body.to_string().contains(&secret));
    // Good for SCIM only: the JSON API does not take it.
    app.get(&format!("/v1/accounts/{account}"), Some(&secret)).await.expect_problem(401, "unauthenticated");
    app.get("/v1/me", Some(&secret)).await.expect_problem(401, "unauthenticated");

    app.post(&tokens, t, json!({"name": " "})).await.expect_problem(422, "validation_failed");
    let member = app.sign_up("member@example.com").await;
    app.add_member(&account, &member.id, &["developer"]);
    app.post(&tokens, Some(&member.access_token), json!({"name": "Mine"})).await.expect_problem(403, "forbidden");
    let stranger = app.sign_up("stranger@example.com").await;
    app.get(&tokens, Some(&stranger.access_token)).await.expect_problem(404, "not_found");

    let path = format!("{tokens}/{}", made["id"].as_str().unwrap());
    app.delete(&path, t).await.expect_status(204);
    app.delete(&path, t).await.expect_status(204);
    let after = app.get(&tokens, t).await;
    assert_eq!(after.expect_status(200)["items"][0]["status"], "revoked");
    app.run_jobs().await;
    for action in ["scim_token.created", "scim_token.revoked"] {
        let log = app.get(&format!("/v1/accounts/{account}/audit-events?action={action}"), t).await;
        assert_eq!(log.expect_status(200)["items"].as_array().unwrap().len(), 1, "{action}");
    }
}
