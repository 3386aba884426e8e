use integration_tests::{SignedIn, TestApp, on_both_backends};
use reqwest::Method;
use serde_json::{Value, json};

on_both_backends!(
    custom_roles_are_defined_edited_and_deleted,
    assignments_need_the_current_etag_and_never_escalate,
    group_administrators_manage_only_their_group,
    ownership_is_transferred_not_lost,
    invitations_carry_group_scoped_assignments,
    a_custom_role_held_in_two_scopes_keeps_its_permissions_in_both,
);

async fn a_custom_role_held_in_two_scopes_keeps_its_permissions_in_both(app: TestApp) {
    let owner = app.sign_up("owner@example.com").await;
    let account = app.create_account(&owner, "Acme").await;
    let role = json!({"key": "support", "name": "Support", "permissions": ["members:read", "badges:request"]});
    app.post(&format!("/v1/accounts/{account}/roles"), Some(&owner.access_token), role).await.expect_status(201);
    let groups = format!("/v1/accounts/{account}/groups");
    let group = app.post(&groups, Some(&owner.access_token), json!({"name": "EMEA"})).await;
    let group = group.expect_status(201)["id"].as_str().unwrap().to_owned();
    let member = app.sign_up("member@example.com").await;
    app.add_member(&account, &member.id, &[]);
    let both = json!([{"role": "support", "group_id": group}, {"role": "support"}]);
    set_roles(&app, &owner, &account, &member.id, both).await.expect_status(200);
    // Each row of the role carries its permissions (the second used to get none).
    assert_eq!(permissions(&app, &owner, &account, &member.id, None).await, ["badges:request", "members:read"]);
    assert_eq!(permissions(&app, &owner, &account, &member.id, Some(&group)).await, ["badges:request", "members:read"]);
    let check = json!({"user_id": member.id, "permissions": ["members:read"]});
    let reply =
        app.post(&format!("/v1/accounts/{account}/authorization-checks"), Some(&member.access_token), check).await;
    assert_eq!(reply.expect_status(200)["allowed"], true);
}

async fn invitations_carry_group_scoped_assignments(app: TestApp) {
    let owner = app.sign_up("owner@example.com").await;
    let admin = app.sign_up("admin@example.com").await;
    let account = app.create_account(&owner, "Acme").await;
    app.add_member(&account, &admin.id, &["administrator"]);
    let group =
        app.post(&format!("/v1/accounts/{account}/groups"), Some(&owner.access_token), json!({"name": "EMEA"})).await;
    let group = group.expect_status(201)["id"].as_str().unwrap().to_owned();
    let invitations = format!("/v1/accounts/{account}/invitations");
    let item = json!({"email": "lead@example.com", "roles": ["developer"], "assignments": [{"role": "administrator", "group_id": group}], "send_email": false});
    let results = app.post(&invitations, Some(&owner.access_token), json!({"invitations": [item]})).await;
    let result = results.expect_status(200)["results"][0].clone();
    assert_eq!(
        result["invitation"]["assignments"],
        json!([{"role": "administrator", "group_id": group}, {"role": "developer", "group_id": null}])
    );
    let token = result["accept_url"].as_str().unwrap().split("token=").nth(1).unwrap().to_owned();
    let session = app
        .post(
            "/v1/invitations/register",
            None,
            json!({"token": token, "password": integration_tests::PASSWORD, "first_name": "L", "last_name": "Ead"}),
        )
        .await;
    let lead_token = session.expect_status(201)["access_token"].as_str().unwrap().to_owned();
    let lead = app.get("/v1/me", Some(&lead_token)).await.body["id"].as_str().unwrap().to_owned();
    assert_eq!(
        permissions(&app, &owner, &account, &lead, None).await,
        ["badges:request", "certifications:apply", "certifications:view"]
    );
    assert!(permissions(&app, &owner, &account, &lead, Some(&group)).await.contains(&"members:manage".to_owned()));
    let members = app.get(&format!("/v1/accounts/{account}/groups/{group}/members"), Some(&owner.access_token)).await;
    assert_eq!(members.body["items"][0]["email"], "lead@example.com");

    // Scoped grants are checked too: an administrator cannot offer ownership
    // inside a group, and unknown groups are refused per item.
    let owner_in_group = json!({"email": "x@example.com", "assignments": [{"role": "owner", "group_id": group}]});
    let unknown_group =
        json!({"email": "y@example.com", "assignments": [{"role": "developer", "group_id": uuid::Uuid::new_v4()}]});
    let results = app
        .post(&invitations, Some(&admin.access_token), json!({"invitations": [owner_in_group, unknown_group]}))
        .await;
    assert_eq!(results.body["results"][0]["problem"]["code"], "forbidden");
    assert_eq!(results.body["results"][1]["problem"]["errors"][0]["code"], "unknown_group");
}

/// The member's current ETag.
async fn etag(app: &TestApp, token: &str, account: &str, user: &str) -> String {
    let member = app.get(&format!("/v1/accounts/{account}/members/{user}"), Some(token)).await;
    member.expect_status(200);
    member.headers["etag"].to_str().unwrap().to_owned()
}

pub(crate) async fn put_roles(
    app: &TestApp,
    token: &str,
    account: &str,
    user: &str,
    tag: Option<&str>,
    assignments: Value,
) -> integration_tests::Reply {
    let mut request = app
        .client
        .put(app.url(&format!("/v1/accounts/{account}/members/{user}/roles")))
        .bearer_auth(token)
        .json(&json!({"assignments": assignments}));
    if let Some(tag) = tag {
        request = request.header("if-match", tag);
    }
    TestApp::read(request.send().await.unwrap()).await
}

/// Replaces `user`'s roles, reading the ETag first.
async fn set_roles(
    app: &TestApp,
    by: &SignedIn,
    account: &str,
    user: &str,
    assignments: Value,
) -> integration_tests::Reply {
    let tag = etag(app, &by.access_token, account, user).await;
    put_roles(app, &by.access_token, account, user, Some(&tag), assignments).await
}

async fn permissions(app: &TestApp, by: &SignedIn, account: &str, user: &str, group: Option<&str>) -> Vec<String> {
    let query = group.map(|g| format!("?group_id={g}")).unwrap_or_default();
    let reply =
        app.get(&format!("/v1/accounts/{account}/members/{user}/permissions{query}"), Some(&by.access_token)).await;
    reply.expect_status(200)["permissions"].as_array().unwrap().iter().map(|p| p.as_str().unwrap().to_owned()).collect()
}

async fn custom_roles_are_defined_edited_and_deleted(app: TestApp) {
    let owner = app.sign_up("owner@example.com").await;
    let member = app.sign_up("member@example.com").await;
    let account = app.create_account(&owner, "Acme").await;
    app.add_member(&account, &member.id, &[]);
    let roles = format!("/v1/accounts/{account}/roles");
    let token = Some(owner.access_token.as_str());

    let created = app
        .post(
            &roles,
            token,
            json!({"key": "support", "name": "Support", "permissions": ["members:read", "badges:request"]}),
        )
        .await;
    let role = created.expect_status(201).clone();
    assert_eq!(role["kind"], "custom");
    assert_eq!(role["permissions"], json!(["badges:request", "members:read"]));
    let first_tag = created.headers["etag"].to_str().unwrap().to_owned();
    let id = role["id"].as_str().unwrap().to_owned();

    let listed = app.get(&roles, token).await;
    let kinds: Vec<(String, String)> = listed.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["key"].as_str().unwrap().into(), r["kind"].as_str().unwrap().into()))
        .collect();
    for expected in
        [("owner", "built_in"), ("administrator", "built_in"), ("developer", "template"), ("support", "custom")]
    {
        assert!(kinds.contains(&(expected.0.into(), expected.1.into())), "{expected:?} in {kinds:?}");
    }
    for (body, code) in [
        (json!({"key": "support", "name": "Again", "permissions": []}), (409, "role_key_taken")),
        (json!({"key": "developer", "name": "Dev", "permissions": []}), (409, "role_key_taken")),
        (json!({"key": "Bad Key", "name": "X", "permissions": []}), (422, "validation_failed")),
        (json!({"key": "rocket", "name": "X", "permissions": ["rockets:launch"]}), (422, "validation_failed")),
        (json!({"key": "rocket", "name": "", "permissions": []}), (422, "validation_failed")),
    ] {
        app.post(&roles, token, body).await.expect_problem(code.0, code.1);
    }

    let path = format!("{roles}/{id}");
    let stale = app
        .client
        .patch(app.url(&path))
        .bearer_auth(&owner.access_token)
        .header("if-match", "\"stale\"")
        .json(&json!({"name": "Helpdesk"}))
        .send()
        .await
        .unwrap();
    TestApp::read(stale).await.expect_problem(412, "precondition_failed");
    let fresh = app
        .client
        .patch(app.url(&path))
        .bearer_auth(&owner.access_token)
        .header("if-match", &first_tag)
        .json(&json!({"name": "Helpdesk", "permissions": ["members:read"]}))
        .send()
        .await
        .unwrap();
    let fresh = TestApp::read(fresh).await;
    assert_eq!(fresh.expect_status(200)["name"], "Helpdesk");
    assert_ne!(fresh.headers["etag"].to_str().unwrap(), first_tag);
    let builtin = listed.body["items"].as_array().unwrap().iter().find(|r| r["key"] == "administrator").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.patch(&format!("{roles}/{builtin}"), token, json!({"name": "Boss"}))
        .await
        .expect_problem(409, "role_read_only");
    app.request(Method::DELETE, &format!("{roles}/{builtin}"), token, None).await.expect_problem(409, "role_read_only");

    set_roles(&app, &owner, &account, &member.id, json!([{"role": "support"}])).await.expect_status(200);
    assert_eq!(permissions(&app, &owner, &account, &member.id, None).await, ["members:read"]);
    app.request(Method::DELETE, &path, token, None).await.expect_problem(409, "role_in_use");
    let developer = listed.body["items"].as_array().unwrap().iter().find(|r| r["key"] == "developer").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.request(Method::DELETE, &format!("{path}?reassign_to={developer}"), token, None).await.expect_status(204);
    app.get(&path, token).await.expect_problem(404, "not_found");
    assert_eq!(
        permissions(&app, &owner, &account, &member.id, None).await,
        ["badges:request", "certifications:apply", "certifications:view"]
    );
}

async fn assignments_need_the_current_etag_and_never_escalate(app: TestApp) {
    let owner = app.sign_up("owner@example.com").await;
    let admin = app.sign_up("admin@example.com").await;
    let member = app.sign_up("member@example.com").await;
    let account = app.create_account(&owner, "Acme").await;
    app.add_member(&account, &admin.id, &["administrator"]);
    app.add_member(&account, &member.id, &[]);

    put_roles(&app, &owner.access_token, &account, &member.id, None, json!([{"role": "developer"}]))
        .await
        .expect_problem(428, "precondition_required");
    put_roles(&app, &owner.access_token, &account, &member.id, Some("\"old\""), json!([{"role": "developer"}]))
        .await
        .expect_problem(412, "precondition_failed");
    let tag = etag(&app, &owner.access_token, &account, &member.id).await;
    let done =
        put_roles(&app, &owner.access_token, &account, &member.id, Some(&tag), json!([{"role": "developer"}])).await;
    assert_eq!(done.expect_status(200)["assignments"], json!([{"role": "developer", "group_id": null}]));
    // The tag moved on: replaying the old one fails.
    put_roles(&app, &owner.access_token, &account, &member.id, Some(&tag), json!([]))
        .await
        .expect_problem(412, "precondition_failed");
    let checks = format!("/v1/accounts/{account}/authorization-checks");
    let check = json!({"user_id": member.id, "permissions": ["certifications:apply"]});
    assert_eq!(app.post(&checks, Some(&owner.access_token), check.clone()).await.body["allowed"], true);

    // Administrators cannot make owners, unmake them, or define roles beyond their own permissions.
    set_roles(&app, &admin, &account, &member.id, json!([{"role": "owner"}])).await.expect_problem(403, "forbidden");
    set_roles(&app, &admin, &account, &owner.id, json!([{"role": "administrator"}]))
        .await
        .expect_problem(403, "forbidden");
    let beyond = json!({"key": "kingmaker", "name": "Kingmaker", "permissions": ["ownership:transfer"]});
    app.post(&format!("/v1/accounts/{account}/roles"), Some(&admin.access_token), beyond)
        .await
        .expect_problem(403, "forbidden");
    set_roles(&app, &admin, &account, &member.id, json!([{"role": "administrator"}, {"role": "developer"}]))
        .await
        .expect_status(200);
    // Members without roles:manage cannot assign at all.
    set_roles(&app, &member, &account, &member.id, json!([{"role": "owner"}])).await.expect_problem(403, "forbidden");
    set_roles(&app, &owner, &account, &member.id, json!([{"role": "wizard"}]))
        .await
        .expect_problem(422, "validation_failed");

    // The last owner stays owner.
    set_roles(&app, &owner, &account, &owner.id, json!([{"role": "administrator"}]))
        .await
        .expect_problem(409, "last_owner");
    // Revoking takes effect on the next request.
    set_roles(&app, &owner, &account, &member.id, json!([])).await.expect_status(200);
    assert_eq!(app.post(&checks, Some(&owner.access_token), check).await.body["allowed"], false);
    app.get(&format!("/v1/accounts/{account}/members"), Some(&member.access_token))
        .await
        .expect_problem(403, "forbidden");
}

async fn group_administrators_manage_only_their_group(app: TestApp) {
    let owner = app.sign_up("owner@example.com").await;
    let lead = app.sign_up("lead@example.com").await;
    let member = app.sign_up("member@example.com").await;
    let account = app.create_account(&owner, "Acme").await;
    app.add_member(&account, &lead.id, &[]);
    app.add_member(&account, &member.id, &[]);
    let groups = format!("/v1/accounts/{account}/groups");
    let token = Some(owner.access_token.as_str());
    let emea =
        app.post(&groups, token, json!({"name": "EMEA"})).await.expect_status(201)["id"].as_str().unwrap().to_owned();
    let apac =
        app.post(&groups, token, json!({"name": "APAC"})).await.expect_status(201)["id"].as_str().unwrap().to_owned();
    app.post(&groups, token, json!({"name": "emea"})).await.expect_problem(409, "group_name_taken");
    app.post(&groups, token, json!({})).await.expect_problem(422, "validation_failed");

    set_roles(&app, &owner, &account, &lead.id, json!([{"role": "administrator", "group_id": emea}]))
        .await
        .expect_status(200);
    assert!(permissions(&app, &owner, &account, &lead.id, None).await.is_empty(), "no account-wide permissions");
    assert!(permissions(&app, &owner, &account, &lead.id, Some(&emea)).await.contains(&"members:manage".to_owned()));
    assert!(permissions(&app, &owner, &account, &lead.id, Some(&apac)).await.is_empty());

    let lead_token = Some(lead.access_token.as_str());
    app.request(Method::PUT, &format!("{groups}/{emea}/members/{}", member.id), lead_token, None)
        .await
        .expect_status(204);
    app.request(Method::PUT, &format!("{groups}/{apac}/members/{}", member.id), lead_token, None)
        .await
        .expect_problem(403, "forbidden");
    app.post(&groups, lead_token, json!({"name": "Mine"})).await.expect_problem(403, "forbidden");
    app.get(&format!("/v1/accounts/{account}/members"), lead_token).await.expect_problem(403, "forbidden");
    let inside = app.get(&format!("{groups}/{emea}/members"), lead_token).await;
    let emails: Vec<&str> =
        inside.expect_status(200)["items"].as_array().unwrap().iter().map(|m| m["email"].as_str().unwrap()).collect();
    assert_eq!(emails, ["lead@example.com", "member@example.com"]);
    app.get(&format!("{groups}/{apac}/members"), lead_token).await.expect_problem(403, "forbidden");

    // Inside their group they hand out roles; account-wide they cannot.
    let tag = etag(&app, &owner.access_token, &account, &member.id).await;
    put_roles(
        &app,
        &lead.access_token,
        &account,
        &member.id,
        Some(&tag),
        json!([{"role": "developer", "group_id": emea}]),
    )
    .await
    .expect_status(200);
    set_roles(
        &app,
        &lead,
        &account,
        &member.id,
        json!([{"role": "developer", "group_id": emea}, {"role": "developer"}]),
    )
    .await
    .expect_problem(403, "forbidden");
    let filtered = app.get(&format!("/v1/accounts/{account}/members?group_id={emea}&role=developer"), token).await;
    assert_eq!(filtered.body["items"][0]["email"], "member@example.com");
    assert_eq!(filtered.body["items"].as_array().unwrap().len(), 1);

    // Leaving a group is not leaving the account, and drops the roles held there.
    app.request(Method::DELETE, &format!("{groups}/{emea}/members/{}", member.id), lead_token, None)
        .await
        .expect_status(204);
    app.get(&format!("/v1/accounts/{account}"), Some(&member.access_token)).await.expect_status(200);
    assert!(permissions(&app, &owner, &account, &member.id, Some(&emea)).await.is_empty());
    app.request(Method::DELETE, &format!("{groups}/{emea}/members/{}", member.id), lead_token, None)
        .await
        .expect_problem(404, "not_found");

    app.request(Method::DELETE, &format!("{groups}/{emea}"), token, None).await.expect_status(204);
    assert!(permissions(&app, &owner, &account, &lead.id, Some(&emea)).await.is_empty());
    app.get(&format!("{groups}/{emea}"), token).await.expect_problem(404, "not_found");
    let other = app.sign_up("other@example.com").await;
    let foreign = app.create_account(&other, "Other").await;
    app.get(&format!("/v1/accounts/{foreign}/groups/{apac}"), Some(&other.access_token))
        .await
        .expect_problem(404, "not_found");
}

async fn ownership_is_transferred_not_lost(app: TestApp) {
    let owner = app.sign_up("owner@example.com").await;
    let admin = app.sign_up("admin@example.com").await;
    let stranger = app.sign_up("stranger@example.com").await;
    let account = app.create_account(&owner, "Acme").await;
    app.add_member(&account, &admin.id, &["administrator"]);
    let transfer = format!("/v1/accounts/{account}/ownership-transfer");
    app.post(&transfer, Some(&admin.access_token), json!({"user_id": admin.id})).await.expect_problem(403, "forbidden");
    app.post(&transfer, Some(&owner.access_token), json!({"user_id": stranger.id}))
        .await
        .expect_problem(409, "not_a_member");
    app.post(&transfer, Some(&owner.access_token), json!({"user_id": admin.id})).await.expect_status(204);
    let roles_of = |user: &SignedIn| {
        let user = user.clone();
        let app = &app;
        async move { app.get("/v1/me/accounts", Some(&user.access_token)).await.body["items"][0]["roles"].clone() }
    };
    assert!(roles_of(&admin).await.as_array().unwrap().contains(&json!("owner")));
    assert_eq!(roles_of(&owner).await, json!(["administrator"]));
    app.post(&transfer, Some(&owner.access_token), json!({"user_id": owner.id})).await.expect_problem(403, "forbidden");
    app.delete(&format!("/v1/me/accounts/{account}"), Some(&admin.access_token))
        .await
        .expect_problem(409, "last_owner");
}
