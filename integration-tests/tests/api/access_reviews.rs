//! Access reviews: decisions per member applied together at completion,
//! nobody reviewing themselves, group reviewers limited to their group,
//! due dates, reminders and the schedule driven by the test clock, and the
//! report as JSON and formula-escaped CSV.

use chrono::Duration;
use integration_tests::{ReceivedEmail, Reply, SignedIn, TestApp, on_both_backends};
use reqwest::Method;
use serde_json::{Value, json};

on_both_backends!(
    completion_applies_every_decision_at_once,
    a_group_reviewer_reviews_only_their_group,
    due_dates_remind_and_the_undecided_follow_the_policy,
    the_schedule_starts_reviews_by_itself
);

struct Team {
    owner: SignedIn,
    admin: SignedIn,
    grace: SignedIn,
    frank: SignedIn,
    account: String,
}

/// An owner, an administrator, Grace (support and billing) and Frank (support).
async fn team(app: &TestApp) -> Team {
    let owner = app.sign_up("owner@example.com").await;
    let account = app.create_account(&owner, "Acme").await;
    let t = Some(owner.access_token.as_str());
    for (key, permission) in [("support", "members:read"), ("billing", "settings:read")] {
        let role = json!({"key": key, "name": key, "permissions": [permission]});
        app.post(&format!("/v1/accounts/{account}/roles"), t, role).await.expect_status(201);
    }
    let (admin, grace, frank) = (
        app.sign_up("admin@example.com").await,
        app.sign_up("grace@example.com").await,
        app.sign_up("frank@example.com").await,
    );
    app.add_member(&account, &admin.id, &["administrator"]);
    app.add_member(&account, &grace.id, &["support", "billing"]);
    app.add_member(&account, &frank.id, &["support"]);
    Team { owner, admin, grace, frank, account }
}

fn due_in(app: &TestApp, days: i64) -> String {
    (app.now() + Duration::days(days)).to_rfc3339()
}

fn item<'a>(review: &'a Value, email: &str) -> &'a Value {
    review["items"].as_array().unwrap().iter().find(|item| item["email"] == email).unwrap()
}

fn roles_of(member: &Value) -> Vec<String> {
    member["roles"].as_array().unwrap().iter().map(|r| r.as_str().unwrap().to_owned()).collect()
}

fn decision(kind: &str, comment: &str) -> Value {
    json!({"decision": kind, "comment": comment})
}

async fn completion_applies_every_decision_at_once(app: TestApp) {
    let Team { owner, admin, grace, frank, account } = team(&app).await;
    let (o, a) = (Some(owner.access_token.as_str()), Some(admin.access_token.as_str()));
    let reviews = format!("/v1/accounts/{account}/access-reviews");

    // Bad input starts nothing.
    app.post(&reviews, o, json!({"due_at": due_in(&app, -1)})).await.expect_problem(422, "validation_failed");
    app.post(&reviews, o, json!({"due_at": due_in(&app, 400)})).await.expect_problem(422, "validation_failed");
    let not_allowed = json!({"due_at": due_in(&app, 14), "reviewers": [grace.id]});
    let refused = app.post(&reviews, o, not_allowed).await;
    assert_eq!(refused.expect_problem(422, "validation_failed").body["errors"][0]["code"], "not_a_reviewer");
    app.post(&reviews, Some(&grace.access_token), json!({"due_at": due_in(&app, 14)}))
        .await
        .expect_problem(403, "forbidden");
    assert_eq!(app.get(&reviews, o).await.expect_status(200)["items"], json!([]));

    // The snapshot: every member's roles and effective permissions.
    let started = app.post(&reviews, o, json!({"due_at": due_in(&app, 14)})).await;
    let id = started.expect_status(201)["id"].as_str().unwrap().to_owned();
    let reviewers: Vec<&str> =
        started.body["reviewers"].as_array().unwrap().iter().map(|r| r["email"].as_str().unwrap()).collect();
    assert_eq!(reviewers, ["admin@example.com", "owner@example.com"]);
    let review_path = format!("{reviews}/{id}");
    let review = app.get(&review_path, o).await.expect_status(200).clone();
    assert_eq!(review["status"], "open");
    assert_eq!(review["items"].as_array().unwrap().len(), 4);
    let grace_item = item(&review, "grace@example.com");
    assert_eq!(
        grace_item["assignments"],
        json!([{"role": "billing", "group_id": null}, {"role": "support", "group_id": null}])
    );
    assert_eq!(grace_item["permissions"], json!(["members:read", "settings:read"]));
    assert!(app.emails_to("admin@example.com", 1).await.iter().any(|m| m.decoded().contains("Access review of Acme")));

    // Nobody decides on their own access; owners fall only to owners.
    let decide = |user: &str| format!("{review_path}/decisions/{user}");
    app.put(&decide(&owner.id), o, decision("keep", "Still here")).await.expect_problem(403, "self_review");
    app.put(&decide(&owner.id), a, decision("remove", "Left")).await.expect_problem(403, "owner_only");
    app.put(&decide(&grace.id), Some(&frank.access_token), decision("keep", "x"))
        .await
        .expect_problem(403, "forbidden");
    // Reduce keeps some of what was held, not none and nothing else.
    let reduce = |roles: Value| json!({"decision": "reduce", "roles": roles, "comment": "Moved to support"});
    app.put(&decide(&grace.id), a, reduce(json!([]))).await.expect_problem(422, "validation_failed");
    app.put(&decide(&grace.id), a, reduce(json!([{"role": "administrator"}])))
        .await
        .expect_problem(422, "validation_failed");
    app.put(&decide(&grace.id), a, decision("keep", " ")).await.expect_problem(422, "validation_failed");
    app.put(&decide(&grace.id), a, decision("promote", "x")).await.expect_problem(422, "validation_failed");
    // Which fields go with which decision is the contract's oneOf: roles
    // with reduce only, and always with it.
    let field_of = |reply: &Reply| reply.body["errors"][0]["field"].as_str().unwrap_or_default().to_owned();
    let without_roles = app.put(&decide(&grace.id), a, decision("reduce", "x")).await;
    without_roles.expect_problem(422, "validation_failed");
    assert_eq!(field_of(&without_roles), "roles", "{}", without_roles.body);
    let keep_with_roles = json!({"decision": "keep", "roles": [{"role": "support"}], "comment": "x"});
    let refused = app.put(&decide(&grace.id), a, keep_with_roles).await;
    refused.expect_problem(422, "validation_failed");
    assert_eq!(refused.body["errors"][0]["code"], "unknown_field", "{}", refused.body);
    let reduced = app.put(&decide(&grace.id), a, reduce(json!([{"role": "support", "group_id": null}]))).await;
    assert_eq!(reduced.expect_status(200)["decision"], "reduce");
    app.put(&decide(&frank.id), a, decision("remove", "=HYPERLINK(\"http://evil\")")).await.expect_status(200);
    app.put(&decide(&admin.id), o, decision("keep", "Runs the team")).await.expect_status(200);

    // Decisions wait for completion.
    let grace_member = format!("/v1/accounts/{account}/members/{}", grace.id);
    assert_eq!(roles_of(app.get(&grace_member, o).await.expect_status(200)), ["billing", "support"]);

    // Completion applies all of them together; the undecided owner is kept
    // and flagged (the default policy).
    let completed = app.post(&format!("{review_path}/complete"), a, json!({})).await;
    let report = completed.expect_status(200).clone();
    assert_eq!(report["status"], "completed");
    let outcome = |email: &str| item(&report, email)["outcome"].as_str().unwrap().to_owned();
    assert_eq!(
        [
            outcome("grace@example.com"),
            outcome("frank@example.com"),
            outcome("admin@example.com"),
            outcome("owner@example.com")
        ],
        ["reduced", "removed", "kept", "kept_flagged"]
    );
    assert_eq!(item(&report, "owner@example.com")["flagged"], true);
    let grace_now = app.get(&grace_member, o).await;
    assert_eq!(roles_of(grace_now.expect_status(200)), ["support"]);
    assert!(grace_now.body["last_reviewed_at"].is_string());
    app.get(&format!("/v1/accounts/{account}/members/{}", frank.id), o).await.expect_problem(404, "not_found");
    let owner_member = app.get(&format!("/v1/accounts/{account}/members/{}", owner.id), o).await;
    assert_eq!(owner_member.expect_status(200)["last_reviewed_at"], Value::Null);

    // A completed review changes no more.
    app.put(&decide(&grace.id), a, decision("remove", "Too late")).await.expect_problem(409, "review_closed");
    app.post(&format!("{review_path}/complete"), o, json!({})).await.expect_problem(409, "review_closed");

    // Audited: the review and each change it applied.
    app.run_jobs().await;
    let log = format!("/v1/accounts/{account}/audit-events");
    for action in [
        "access_review.started",
        "access_review.decided",
        "access_review.completed",
        "member.removed",
        "member.roles_updated",
    ] {
        let events = app.get(&format!("{log}?action={action}"), o).await;
        assert!(!events.expect_status(200)["items"].as_array().unwrap().is_empty(), "no {action} event");
    }

    // The report: JSON as read, CSV with formulas defused.
    let json_report = app.get(&format!("{review_path}/report"), o).await;
    assert_eq!(json_report.expect_status(200)["items"], report["items"]);
    let csv = app.get(&format!("{review_path}/report?format=csv"), o).await;
    assert!(csv.headers["content-type"].to_str().unwrap().starts_with("text/csv"));
    let text = csv.body.as_str().unwrap();
    assert!(text.starts_with("user_id,email,roles,permissions,"));
    assert!(text.contains("'=HYPERLINK"), "formula escaped: {text}");
    assert!(!text.contains(",=HYPERLINK"));
    app.get(&format!("{review_path}/report?format=xlsx"), o).await.expect_problem(422, "validation_failed");
}

async fn a_group_reviewer_reviews_only_their_group(app: TestApp) {
    let Team { owner, admin: _, grace, frank, account } = team(&app).await;
    let o = Some(owner.access_token.as_str());
    let a = format!("/v1/accounts/{account}");
    let lead_role =
        json!({"key": "design-lead", "name": "Design lead", "permissions": ["access_reviews:manage", "members:read"]});
    app.post(&format!("{a}/roles"), o, lead_role).await.expect_status(201);
    let group = app.post(&format!("{a}/groups"), o, json!({"name": "Design"})).await.expect_status(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let lead = app.sign_up("lead@example.com").await;
    app.add_member(&account, &lead.id, &[]);
    for user in [&lead.id, &grace.id] {
        app.put(&format!("{a}/groups/{group}/members/{user}"), o, json!({})).await.expect_status(204);
    }
    assign(&app, &owner, &a, &lead.id, json!([{"role": "design-lead", "group_id": group}])).await;
    let graces = json!([{"role": "billing"}, {"role": "support"}, {"role": "support", "group_id": group}]);
    assign(&app, &owner, &a, &grace.id, graces).await;
    let l = Some(lead.access_token.as_str());
    let reviews = format!("{a}/access-reviews");

    // The lead reviews their group, not the account.
    app.post(&reviews, l, json!({"due_at": due_in(&app, 7)})).await.expect_problem(403, "forbidden");
    let account_review = app.post(&reviews, o, json!({"due_at": due_in(&app, 7)})).await;
    let account_review = account_review.expect_status(201)["id"].as_str().unwrap().to_owned();
    let started = app.post(&reviews, l, json!({"group_id": group, "due_at": due_in(&app, 7)})).await;
    let id = started.expect_status(201)["id"].as_str().unwrap().to_owned();
    assert_eq!(started.body["group_name"], "Design");
    let listed = app.get(&reviews, l).await;
    let ids: Vec<&str> =
        listed.expect_status(200)["items"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [id.as_str()], "the account review is not the lead's to see");
    app.get(&format!("{reviews}/{account_review}"), l).await.expect_problem(404, "not_found");
    app.put(&format!("{reviews}/{account_review}/decisions/{}", frank.id), l, decision("remove", "x"))
        .await
        .expect_problem(404, "not_found");

    // Only the group's members, and only their roles in it.
    let review = app.get(&format!("{reviews}/{id}"), l).await.expect_status(200).clone();
    let emails: Vec<&str> = review["items"].as_array().unwrap().iter().map(|i| i["email"].as_str().unwrap()).collect();
    assert_eq!(emails, ["grace@example.com", "lead@example.com"]);
    assert_eq!(item(&review, "grace@example.com")["assignments"], json!([{"role": "support", "group_id": group}]));
    app.put(&format!("{reviews}/{id}/decisions/{}", frank.id), l, decision("remove", "x"))
        .await
        .expect_problem(404, "not_found");
    app.put(&format!("{reviews}/{id}/decisions/{}", lead.id), l, decision("keep", "me"))
        .await
        .expect_problem(403, "self_review");

    // Removal from a group review takes Grace out of the group only.
    app.put(&format!("{reviews}/{id}/decisions/{}", grace.id), l, decision("remove", "Left design"))
        .await
        .expect_status(200);
    app.post(&format!("{reviews}/{id}/complete"), l, json!({})).await.expect_status(200);
    let grace_now = app.get(&format!("{a}/members/{}", grace.id), o).await;
    assert_eq!(
        grace_now.expect_status(200)["assignments"],
        json!([{"role": "billing", "group_id": null}, {"role": "support", "group_id": null}])
    );
    let in_group = app.get(&format!("{a}/groups/{group}/members"), o).await;
    let members: Vec<&str> =
        in_group.expect_status(200)["items"].as_array().unwrap().iter().map(|m| m["email"].as_str().unwrap()).collect();
    assert_eq!(members, ["lead@example.com"]);
}

/// Replaces a member's roles, from the version just read.
async fn assign(app: &TestApp, owner: &SignedIn, account_path: &str, user: &str, roles: Value) {
    let member = format!("{account_path}/members/{user}");
    let tag = app.etag_of(&member, &owner.access_token).await;
    let body = Some(json!({"assignments": roles}));
    app.request_if_match(Method::PUT, &format!("{member}/roles"), &owner.access_token, Some(&tag), body)
        .await
        .expect_status(200);
}

fn with_subject<'a>(mail: &'a [ReceivedEmail], subject: &str) -> Vec<&'a ReceivedEmail> {
    mail.iter().filter(|m| m.header("subject").is_some_and(|s| s.starts_with(subject))).collect()
}

async fn due_dates_remind_and_the_undecided_follow_the_policy(app: TestApp) {
    let Team { owner, admin, grace, frank: _, account } = team(&app).await;
    let o = Some(owner.access_token.as_str());
    let reviews = format!("/v1/accounts/{account}/access-reviews");
    let started = app.post(&reviews, o, json!({"due_at": due_in(&app, 10)})).await;
    let first = started.expect_status(201)["id"].as_str().unwrap().to_owned();

    // Before the reminder: nothing; then "due soon" three days ahead.
    app.advance(Duration::days(6)).await;
    assert!(with_subject(&app.emails_to("admin@example.com", 0).await, "Reminder: access review").is_empty());
    app.advance(Duration::days(1)).await;
    assert_eq!(with_subject(&app.emails_to("admin@example.com", 0).await, "Reminder: access review").len(), 1);

    // At the due date (keep and flag): still open, the undecided flagged,
    // reviewers reminded that it is overdue, again a week later.
    app.advance(Duration::days(3)).await;
    assert_eq!(with_subject(&app.emails_to("admin@example.com", 0).await, "Overdue: access review").len(), 1);
    let review = app.get(&format!("{reviews}/{first}"), o).await.expect_status(200).clone();
    assert_eq!(review["status"], "open");
    assert_eq!(item(&review, "grace@example.com")["flagged"], true);
    app.advance(Duration::days(7)).await;
    assert_eq!(with_subject(&app.emails_to("admin@example.com", 0).await, "Overdue: access review").len(), 2);
    app.post(&format!("{reviews}/{first}/complete"), o, json!({})).await.expect_status(200);
    let grace_member = format!("/v1/accounts/{account}/members/{}", grace.id);
    app.get(&grace_member, o).await.expect_status(200);

    // Revoke: at the due date the review completes by itself and the
    // undecided lose their access (owners excepted).
    let settings = format!("/v1/accounts/{account}/access-review-settings");
    let tag = app.etag_of(&settings, &owner.access_token).await;
    app.request_if_match(
        Method::PATCH,
        &settings,
        &owner.access_token,
        Some(&tag),
        Some(json!({"undecided": "revoke"})),
    )
    .await
    .expect_status(200);
    let second = app.post(&reviews, o, json!({"due_at": due_in(&app, 2)})).await;
    let second = second.expect_status(201)["id"].as_str().unwrap().to_owned();
    assert_eq!(second_policy(&app, &reviews, &second, o).await, "revoke");
    app.put(&format!("{reviews}/{second}/decisions/{}", admin.id), o, decision("keep", "Runs the team"))
        .await
        .expect_status(200);
    app.advance(Duration::days(1)).await;
    app.get(&grace_member, o).await.expect_status(200);
    app.advance(Duration::days(1)).await;
    let review = app.get(&format!("{reviews}/{second}"), o).await.expect_status(200).clone();
    assert_eq!((&review["status"], &review["completed_by"]), (&json!("completed"), &Value::Null));
    assert_eq!(item(&review, "grace@example.com")["outcome"], "revoked");
    assert_eq!(item(&review, "owner@example.com")["outcome"], "kept_flagged");
    assert_eq!(item(&review, "admin@example.com")["outcome"], "kept");
    app.get(&grace_member, o).await.expect_problem(404, "not_found");
}

async fn second_policy(app: &TestApp, reviews: &str, id: &str, token: Option<&str>) -> String {
    app.get(&format!("{reviews}/{id}"), token).await.expect_status(200)["undecided"].as_str().unwrap().to_owned()
}

async fn the_schedule_starts_reviews_by_itself(app: TestApp) {
    let Team { owner, account, .. } = team(&app).await;
    let o = Some(owner.access_token.as_str());
    let settings = format!("/v1/accounts/{account}/access-review-settings");
    let read = app.get(&settings, o).await;
    assert_eq!(
        read.expect_status(200),
        &json!({"undecided": "keep_and_flag", "every_days": null, "due_in_days": 14, "next_start_at": null})
    );
    let patch = |body: Value, tag: Option<String>| {
        let (app, settings, token) = (&app, settings.clone(), owner.access_token.clone());
        async move { app.request_if_match(Method::PATCH, &settings, &token, tag.as_deref(), Some(body)).await }
    };
    patch(json!({"every_days": 30}), None).await.expect_problem(428, "precondition_required");
    let tag = app.etag_of(&settings, &owner.access_token).await;
    for bad in [json!({"every_days": 3}), json!({"due_in_days": 0}), json!({"undecided": "ignore"})] {
        patch(bad, Some(tag.clone())).await.expect_problem(422, "validation_failed");
    }
    let set = patch(json!({"every_days": 30, "due_in_days": 7}), Some(tag.clone())).await;
    assert_eq!(set.expect_status(200)["every_days"], 30);
    patch(json!({"due_in_days": 5}), Some(tag)).await.expect_problem(412, "precondition_failed");

    let reviews = format!("/v1/accounts/{account}/access-reviews");
    app.advance(Duration::days(29)).await;
    assert_eq!(count(&app, &reviews, &owner).await, 0);
    app.advance(Duration::days(1)).await;
    assert_eq!(count(&app, &reviews, &owner).await, 1);
    let listed = app.get(&reviews, o).await;
    let scheduled = &listed.body["items"][0];
    assert_eq!(scheduled["started_by"], Value::Null);
    let due = chrono::DateTime::parse_from_rfc3339(scheduled["due_at"].as_str().unwrap()).unwrap();
    assert_eq!(due.with_timezone(&chrono::Utc) - app.now(), Duration::days(7));
    app.advance(Duration::days(30)).await;
    assert_eq!(count(&app, &reviews, &owner).await, 2);

    // Off: no more reviews.
    let tag = app.etag_of(&settings, &owner.access_token).await;
    let off = patch(json!({"every_days": null}), Some(tag)).await;
    assert_eq!(off.expect_status(200)["next_start_at"], Value::Null);
    app.advance(Duration::days(60)).await;
    assert_eq!(count(&app, &reviews, &owner).await, 2);
}

async fn count(app: &TestApp, reviews: &str, owner: &SignedIn) -> usize {
    app.get(reviews, Some(&owner.access_token)).await.expect_status(200)["items"].as_array().unwrap().len()
}
