//! Linked accounts: a parent's owner asks, the child's owner accepts; a
//! parent member's role marked to apply in linked accounts works in the
//! child (the check endpoint included) and ends at once with the link or
//! the role; the child sees none of the parent's other members.

use integration_tests::{SignedIn, TestApp, on_both_backends};
use reqwest::Method;
use serde_json::{Value, json};

on_both_backends!(inherited_access_works_in_the_child_and_ends_at_once, links_are_one_level_deep_with_one_parent);

struct Pair {
    parent: String,
    child: String,
    parent_owner: SignedIn,
    child_owner: SignedIn,
}

async fn two_accounts(app: &TestApp) -> Pair {
    let parent_owner = app.sign_up("global-owner@example.com").await;
    let parent = app.create_account(&parent_owner, "Acme Global").await;
    let child_owner = app.sign_up("emea-owner@example.com").await;
    let child = app.create_account(&child_owner, "Acme EMEA").await;
    Pair { parent, child, parent_owner, child_owner }
}

/// Asks for and accepts the link; returns its id.
async fn link(app: &TestApp, pair: &Pair) -> String {
    let asked = app
        .post(
            &format!("/v1/accounts/{}/linked-accounts", pair.parent),
            Some(&pair.parent_owner.access_token),
            json!({"child_account_id": pair.child}),
        )
        .await;
    let id = asked.expect_status(201)["id"].as_str().unwrap().to_owned();
    assert_eq!(asked.body["status"], "pending");
    let accept = format!("/v1/accounts/{}/linked-accounts/{id}/accept", pair.child);
    let accepted = app.post(&accept, Some(&pair.child_owner.access_token), json!({})).await;
    assert_eq!(accepted.expect_status(200)["status"], "active");
    id
}

async fn check(app: &TestApp, account: &str, asker: &SignedIn, user: &str, permission: &str) -> Value {
    let path = format!("/v1/accounts/{account}/authorization-checks");
    let body = json!({"user_id": user, "permissions": [permission]});
    app.post(&path, Some(&asker.access_token), body).await.expect_status(200)["allowed"].clone()
}

async fn set_linked_roles(app: &TestApp, pair: &Pair, user: &str, roles: Value) -> integration_tests::Reply {
    let path = format!("/v1/accounts/{}/members/{user}/linked-roles", pair.parent);
    app.request(Method::PUT, &path, Some(&pair.parent_owner.access_token), Some(json!({"roles": roles}))).await
}

async fn inherited_access_works_in_the_child_and_ends_at_once(app: TestApp) {
    let pair = two_accounts(&app).await;
    let (p_token, c_token) =
        (Some(pair.parent_owner.access_token.as_str()), Some(pair.child_owner.access_token.as_str()));
    let admin = app.sign_up("global-admin@example.com").await;
    app.add_member(&pair.parent, &admin.id, &["administrator", "analyst"]);
    let analyst = app.sign_up("global-analyst@example.com").await;
    app.add_member(&pair.parent, &analyst.id, &["analyst"]);
    let child_members = format!("/v1/accounts/{}/members", pair.child);

    // Extending roles: never owner, only roles held account-wide.
    set_linked_roles(&app, &pair, &pair.parent_owner.id, json!(["owner"]))
        .await
        .expect_problem(422, "validation_failed");
    let not_held = set_linked_roles(&app, &pair, &admin.id, json!(["developer"])).await;
    assert_eq!(not_held.expect_problem(422, "validation_failed").body["errors"][0]["code"], "role_not_held");
    let marked = set_linked_roles(&app, &pair, &admin.id, json!(["administrator"])).await;
    assert_eq!(marked.expect_status(200), &json!({"roles": ["administrator"]}));
    // Without a link, the mark reaches nothing.
    app.get(&child_members, Some(&admin.access_token)).await.expect_problem(404, "not_found");

    // The request waits for the child's owner, who is emailed.
    let asked = app
        .post(
            &format!("/v1/accounts/{}/linked-accounts", pair.parent),
            p_token,
            json!({"child_account_id": pair.child}),
        )
        .await;
    let link_id = asked.expect_status(201)["id"].as_str().unwrap().to_owned();
    let mail = app.emails_to("emea-owner@example.com", 2).await;
    assert!(mail[1].header("subject").unwrap().contains("Acme Global asks to link Acme EMEA"));
    app.get(&child_members, Some(&admin.access_token)).await.expect_problem(404, "not_found");
    // Only the child accepts.
    let accept = |account: &str| format!("/v1/accounts/{account}/linked-accounts/{link_id}/accept");
    app.post(&accept(&pair.parent), p_token, json!({})).await.expect_problem(409, "link_not_pending");
    app.post(&accept(&pair.child), c_token, json!({})).await.expect_status(200);
    let listed = app.get(&format!("/v1/accounts/{}/linked-accounts", pair.child), c_token).await;
    let item = &listed.expect_status(200)["items"][0];
    assert_eq!((&item["this_account"], &item["parent"]["name"]), (&json!("child"), &json!("Acme Global")));

    // Now the administrator acts in the child as one, and shows as inherited;
    // the parent's analyst does not appear there at all.
    let members = app.get(&child_members, Some(&admin.access_token)).await;
    let items = members.expect_status(200)["items"].as_array().unwrap().clone();
    let emails: Vec<&str> = items.iter().map(|m| m["email"].as_str().unwrap()).collect();
    assert_eq!(emails, ["emea-owner@example.com", "global-admin@example.com"]);
    assert_eq!(items[1]["inherited_from"], json!(pair.parent));
    assert_eq!(items[1]["roles"], json!(["administrator"]), "only the extended role, not the analyst one");
    assert_eq!(items[0]["inherited_from"], Value::Null);
    app.get(&format!("/v1/accounts/{}/members", pair.child), Some(&analyst.access_token))
        .await
        .expect_problem(404, "not_found");
    assert_eq!(check(&app, &pair.child, &pair.child_owner, &admin.id, "members:manage").await, json!(true));
    assert_eq!(check(&app, &pair.child, &pair.child_owner, &analyst.id, "members:read").await, json!(false));
    // What only owners hold does not come along.
    assert_eq!(check(&app, &pair.child, &pair.child_owner, &admin.id, "linked_accounts:manage").await, json!(false));
    let invite = json!({"invitations": [{"email": "new@example.com", "send_email": false}]});
    let invited =
        app.post(&format!("/v1/accounts/{}/invitations", pair.child), Some(&admin.access_token), invite).await;
    assert_eq!(invited.expect_status(200)["results"][0]["outcome"], "created");
    let mine = app.get("/v1/me/accounts", Some(&admin.access_token)).await;
    let mine: Vec<(String, Value)> = mine.expect_status(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["account"]["name"].as_str().unwrap().to_owned(), a["inherited_from"].clone()))
        .collect();
    assert_eq!(mine, [("Acme Global".to_owned(), Value::Null), ("Acme EMEA".to_owned(), json!(pair.parent))]);

    // Unlinking ends it at once, from the child's side too.
    let unlink = format!("/v1/accounts/{}/linked-accounts/{link_id}", pair.child);
    app.delete(&unlink, Some(&admin.access_token)).await.expect_problem(403, "forbidden");
    app.delete(&unlink, c_token).await.expect_status(204);
    app.get(&child_members, Some(&admin.access_token)).await.expect_problem(404, "not_found");
    assert_eq!(check(&app, &pair.child, &pair.child_owner, &admin.id, "members:read").await, json!(false));
    let members = app.get(&child_members, c_token).await;
    assert_eq!(members.expect_status(200)["items"].as_array().unwrap().len(), 1);

    // Linked again, taking the role away in the parent ends it too, and
    // giving the role back does not extend it again by itself.
    link(&app, &pair).await;
    assert_eq!(check(&app, &pair.child, &pair.child_owner, &admin.id, "members:read").await, json!(true));
    let member = format!("/v1/accounts/{}/members/{}", pair.parent, admin.id);
    let roles_of = |assignments: Value| json!({"assignments": assignments});
    for assignments in [json!([{"role": "analyst"}]), json!([{"role": "analyst"}, {"role": "administrator"}])] {
        let tag = app.get(&member, p_token).await.headers["etag"].to_str().unwrap().to_owned();
        let changed = app
            .client
            .put(app.url(&format!("{member}/roles")))
            .bearer_auth(&pair.parent_owner.access_token)
            .header("if-match", tag)
            .json(&roles_of(assignments))
            .send()
            .await
            .unwrap();
        assert_eq!(changed.status(), 200);
        assert_eq!(check(&app, &pair.child, &pair.child_owner, &admin.id, "members:read").await, json!(false));
    }
    let linked = app.get(&format!("{member}/linked-roles"), p_token).await;
    assert_eq!(linked.expect_status(200), &json!({"roles": []}));

    // Both logs tell the story.
    app.run_jobs().await;
    for (account, token) in [(&pair.parent, p_token), (&pair.child, c_token)] {
        let log = app.get(&format!("/v1/accounts/{account}/audit-events?action_prefix=account."), token).await;
        let actions: Vec<&str> =
            log.expect_status(200)["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
        assert!(
            actions.starts_with(&["account.link_accepted", "account.link_requested", "account.unlinked"]),
            "{account}: {actions:?}"
        );
    }
}

async fn links_are_one_level_deep_with_one_parent(app: TestApp) {
    let pair = two_accounts(&app).await;
    let p_token = Some(pair.parent_owner.access_token.as_str());
    let path = |account: &str| format!("/v1/accounts/{account}/linked-accounts");
    let to_itself = app.post(&path(&pair.parent), p_token, json!({"child_account_id": pair.parent})).await;
    assert_eq!(to_itself.expect_problem(422, "validation_failed").body["errors"][0]["code"], "self_link");
    let nowhere = app.post(&path(&pair.parent), p_token, json!({"child_account_id": uuid::Uuid::new_v4()})).await;
    assert_eq!(nowhere.expect_problem(422, "validation_failed").body["errors"][0]["code"], "unknown_account");
    link(&app, &pair).await;

    // A second parent, a grandchild and a parent-of-a-parent are refused.
    let other = app.sign_up("other@example.com").await;
    let elsewhere = app.create_account(&other, "Other Global").await;
    let body = json!({"child_account_id": pair.child});
    let taken = app.post(&path(&elsewhere), Some(&other.access_token), body).await;
    taken.expect_problem(409, "account_already_linked");
    let grandchild = app.create_account(&pair.child_owner, "Acme Paris").await;
    let c_token = Some(pair.child_owner.access_token.as_str());
    let deeper = app.post(&path(&pair.child), c_token, json!({"child_account_id": grandchild})).await;
    deeper.expect_problem(409, "link_too_deep");
    let above = app.post(&path(&elsewhere), Some(&other.access_token), json!({"child_account_id": pair.parent})).await;
    above.expect_problem(409, "link_too_deep");
    // Only the account's owners manage links: an administrator may not.
    let admin = app.sign_up("admin@example.com").await;
    app.add_member(&pair.parent, &admin.id, &["administrator"]);
    let third = app.create_account(&admin, "Acme APAC").await;
    let refused = app.post(&path(&pair.parent), Some(&admin.access_token), json!({"child_account_id": third})).await;
    refused.expect_problem(403, "forbidden");
}
