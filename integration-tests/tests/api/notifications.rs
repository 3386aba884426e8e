//! Notification preferences: members choose which non-transactional emails
//! they get, administrators set the account's defaults, the choice is
//! applied when an email is queued, and every such email carries a signed
//! one-click unsubscribe link (RFC 8058).

use integration_tests::{ReceivedEmail, TestApp, on_both_backends};
use reqwest::Method;
use serde_json::json;

use crate::invitations::invite;

on_both_backends!(
    preferences_and_defaults_decide_who_is_emailed,
    the_one_click_link_turns_off_one_topic_only_when_unaltered
);

async fn preferences_and_defaults_decide_who_is_emailed(app: TestApp) {
    let owner = app.sign_up("owner@example.com").await;
    let admin = app.sign_up("admin@example.com").await;
    let account = app.create_account(&owner, "Acme").await;
    app.add_member(&account, &admin.id, &["administrator"]);
    let (o, a) = (Some(owner.access_token.as_str()), Some(admin.access_token.as_str()));
    let mine = format!("/v1/me/accounts/{account}/notification-preferences");
    let all_on = json!({"join_requests": true, "import_reports": true, "access_review_reminders": true, "security_notices": true, "welcome": true});
    assert_eq!(app.get(&mine, o).await.expect_status(200), &all_on);

    // Transactional emails cannot be turned off; unknown topics are refused
    // by name; a refused change writes nothing.
    let refused = app.patch(&mine, o, json!({"invitations": false, "security_notices": false})).await;
    let errors = &refused.expect_problem(422, "validation_failed").body["errors"];
    assert_eq!((&errors[0]["field"], &errors[0]["code"]), (&json!("invitations"), &json!("transactional_email")));
    app.patch(&mine, o, json!({"newsletter": false})).await.expect_problem(422, "validation_failed");
    app.patch(&mine, o, json!({"security_notices": "no"})).await.expect_problem(422, "validation_failed");
    assert_eq!(app.get(&mine, o).await.expect_status(200), &all_on);
    // Not a member: nothing to see or change.
    let stranger = app.sign_up("stranger@example.com").await;
    app.get(&mine, Some(&stranger.access_token)).await.expect_problem(404, "not_found");

    // The account's defaults apply to members who never chose.
    let defaults = format!("/v1/accounts/{account}/notification-defaults");
    let import_off = json!({"import_reports": false});
    app.request_if_match(Method::PATCH, &defaults, &owner.access_token, None, Some(import_off.clone()))
        .await
        .expect_problem(428, "precondition_required");
    let tag = app.etag_of(&defaults, &owner.access_token).await;
    app.request_if_match(Method::PATCH, &defaults, &owner.access_token, Some(&tag), Some(import_off.clone()))
        .await
        .expect_status(200);
    app.request_if_match(
        Method::PATCH,
        &defaults,
        &owner.access_token,
        Some(&tag),
        Some(json!({"join_requests": false})),
    )
    .await
    .expect_problem(412, "precondition_failed");
    assert_eq!(app.get(&mine, o).await.expect_status(200)["import_reports"], false);
    assert_eq!(app.get(&defaults, o).await.expect_status(200)["import_reports"], false);
    // A member's own choice outranks the default.
    let chosen = app.patch(&mine, o, json!({"import_reports": true, "security_notices": false})).await;
    assert_eq!(chosen.expect_status(200)["import_reports"], true);
    assert_eq!(chosen.body["security_notices"], false);

    // Applied when queued: a change of owner tells owners and
    // administrators, except the owner who turned security notices off.
    app.post(&format!("/v1/accounts/{account}/ownership-transfer"), o, json!({"user_id": admin.id}))
        .await
        .expect_status(204);
    let told = ownership_notices(&app, "admin@example.com").await;
    assert_eq!(told.len(), 1);
    assert!(
        told[0]
            .header("List-Unsubscribe")
            .is_some_and(|h| h.contains("/v1/notification-preferences/unsubscribe?token="))
    );
    assert_eq!(told[0].header("List-Unsubscribe-Post").as_deref(), Some("List-Unsubscribe=One-Click"));
    assert!(ownership_notices(&app, "owner@example.com").await.is_empty(), "the owner turned security notices off");

    // Transactional emails go out regardless, and carry no unsubscribe link.
    app.patch(&mine, a, json!({"join_requests": false, "import_reports": false, "access_review_reminders": false, "security_notices": false}))
        .await
        .expect_status(200);
    app.mark_verified(&admin.id);
    invite(&app, &admin, &account, json!([{"email": "new@example.com"}])).await;
    let invitation = app.emails_to("new@example.com", 1).await;
    assert!(invitation[0].header("List-Unsubscribe").is_none());
    let trail = app
        .get(&format!("/v1/accounts/{account}/audit-events?action=member.notification_preferences_updated"), o)
        .await;
    assert_eq!(trail.expect_status(200)["items"].as_array().unwrap().len(), 2);
}

async fn the_one_click_link_turns_off_one_topic_only_when_unaltered(app: TestApp) {
    let owner = app.sign_up("owner@example.com").await;
    let admin = app.sign_up("admin@example.com").await;
    let account = app.create_account(&owner, "Acme").await;
    app.add_member(&account, &admin.id, &["administrator"]);
    app.post(
        &format!("/v1/accounts/{account}/ownership-transfer"),
        Some(&owner.access_token),
        json!({"user_id": admin.id}),
    )
    .await
    .expect_status(204);
    let email = ownership_notices(&app, "admin@example.com").await.remove(0);
    let link = email.header("List-Unsubscribe").unwrap();
    let url = link.trim_start_matches('<').trim_end_matches('>');
    let path = &url[url.find("/v1/").unwrap()..];
    let mine = format!("/v1/me/accounts/{account}/notification-preferences");
    let a = Some(admin.access_token.as_str());

    // An altered token is refused and changes nothing.
    let token_at = path.find("token=").unwrap() + "token=".len();
    let mut altered = path.to_owned();
    let flipped = if &path[token_at + 5..token_at + 6] == "A" { "B" } else { "A" };
    altered.replace_range(token_at + 5..token_at + 6, flipped);
    app.post_raw(&altered, "application/x-www-form-urlencoded", "List-Unsubscribe=One-Click")
        .await
        .expect_problem(409, "unsubscribe_link_invalid");
    app.post_raw(
        "/v1/notification-preferences/unsubscribe?token=made-up",
        "application/x-www-form-urlencoded",
        "List-Unsubscribe=One-Click",
    )
    .await
    .expect_problem(409, "unsubscribe_link_invalid");
    // Only the one-click form is accepted.
    app.post_raw(path, "application/json", "{}").await.expect_problem(415, "unsupported_media_type");
    app.post_raw(path, "application/x-www-form-urlencoded", "List-Unsubscribe=Later")
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(app.get(&mine, a).await.expect_status(200)["security_notices"], true);

    // The signed link turns that one topic off, without signing in; again
    // changes nothing.
    for _ in 0..2 {
        let done = app.post_raw(path, "application/x-www-form-urlencoded", "List-Unsubscribe=One-Click").await;
        assert_eq!(done.expect_status(200)["topic"], "security_notices");
        assert_eq!(done.body["account_id"], account.as_str());
    }
    let now = app.get(&mine, a).await;
    assert_eq!(
        now.expect_status(200),
        &json!({"join_requests": true, "import_reports": true, "access_review_reminders": true, "security_notices": false, "welcome": true})
    );
    app.run_jobs().await;
    let trail = app
        .get(&format!("/v1/accounts/{account}/audit-events?action=member.notification_preferences_updated"), a)
        .await;
    let events = trail.expect_status(200)["items"].as_array().unwrap().clone();
    assert_eq!(events.len(), 1, "the second click changed nothing");
    assert_eq!(events[0]["actor"]["type"], "anonymous");

    // A link of a membership that ended no longer works.
    app.delete(&format!("/v1/me/accounts/{account}"), Some(&owner.access_token)).await.expect_status(204);
    let owner_mail = ownership_notices(&app, "owner@example.com").await;
    let owner_link = owner_mail[0].header("List-Unsubscribe").unwrap();
    let owner_path = &owner_link[owner_link.find("/v1/").unwrap()..owner_link.len() - 1];
    app.post_raw(owner_path, "application/x-www-form-urlencoded", "List-Unsubscribe=One-Click")
        .await
        .expect_problem(409, "unsubscribe_link_invalid");
}

async fn ownership_notices(app: &TestApp, recipient: &str) -> Vec<ReceivedEmail> {
    let all = app.emails_to(recipient, 0).await;
    all.into_iter().filter(|email| email.decoded().contains("has a new owner")).collect()
}
