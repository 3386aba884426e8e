use integration_tests::{Backend, PASSWORD, SignedIn, TestApp, on_both_backends};
use serde_json::{Value, json};

on_both_backends!(
    the_catalogue_lists_roster_and_application_permissions,
    template_roles_grant_exactly_the_application_permissions,
    authorization_checks_answer_and_are_guarded,
    a_deployment_declares_its_own_permissions_and_roles,
);

fn keys(permissions: &Value) -> Vec<&str> {
    permissions.as_array().unwrap().iter().map(|p| p.as_str().unwrap()).collect()
}

async fn the_catalogue_lists_roster_and_application_permissions(app: TestApp) {
    let user = app.sign_up("ada@example.com").await;
    let catalogue = app.get("/v1/permissions", Some(&user.access_token)).await;
    let permissions = catalogue.expect_status(200)["permissions"].as_array().unwrap().clone();
    let find = |key: &str| permissions.iter().find(|p| p["key"] == key).cloned().unwrap_or(Value::Null);
    assert_eq!(find("members:read")["application"], false);
    assert_eq!(find("roles:manage")["administrator_equivalent"], true);
    assert_eq!(find("certifications:apply")["application"], true);
    assert_eq!(find("badges:request")["description"], "Request a badge.");
    app.get("/v1/permissions", None).await.expect_problem(401, "unauthenticated");
}

/// Invites `email` with `roles`, registers them through the link, returns them.
async fn join_with_roles(
    app: &TestApp,
    owner: &SignedIn,
    account: &str,
    email: &str,
    roles: Value,
) -> (String, String) {
    let body = json!({"invitations": [{"email": email, "roles": roles, "send_email": false}]});
    let results = app.post(&format!("/v1/accounts/{account}/invitations"), Some(&owner.access_token), body).await;
    let result = &results.expect_status(200)["results"][0];
    assert_eq!(result["outcome"], "created", "{result}");
    let token = result["accept_url"].as_str().unwrap().split("token=").nth(1).unwrap();
    let session = app
        .post(
            "/v1/invitations/register",
            None,
            json!({"token": token, "password": PASSWORD, "first_name": "N", "last_name": "N"}),
        )
        .await;
    let access = session.expect_status(201)["access_token"].as_str().unwrap().to_owned();
    let id = app.get("/v1/me", Some(&access)).await.body["id"].as_str().unwrap().to_owned();
    (id, access)
}

async fn template_roles_grant_exactly_the_application_permissions(app: TestApp) {
    let owner = app.sign_up("owner@example.com").await;
    let account = app.create_account(&owner, "Acme").await;
    for role in ["developer", "marketer", "analyst"] {
        let (id, access) = join_with_roles(&app, &owner, &account, &format!("{role}@example.com"), json!([role])).await;
        let permissions =
            app.get(&format!("/v1/accounts/{account}/members/{id}/permissions"), Some(&owner.access_token)).await;
        assert_eq!(
            keys(&permissions.expect_status(200)["permissions"]),
            ["badges:request", "certifications:apply", "certifications:view"]
        );
        // The matrix's last row: only administrators manage users.
        app.get(&format!("/v1/accounts/{account}/members"), Some(&access)).await.expect_problem(403, "forbidden");
    }
    let owner_permissions =
        app.get(&format!("/v1/accounts/{account}/members/{}/permissions", owner.id), Some(&owner.access_token)).await;
    let owner_keys = keys(&owner_permissions.body["permissions"]);
    assert!(owner_keys.contains(&"certifications:apply") && owner_keys.contains(&"ownership:transfer"));
}

async fn authorization_checks_answer_and_are_guarded(app: TestApp) {
    let owner = app.sign_up("owner@example.com").await;
    let stranger = app.sign_up("stranger@example.com").await;
    let account = app.create_account(&owner, "Acme").await;
    let (developer, developer_token) =
        join_with_roles(&app, &owner, &account, "dev@example.com", json!(["developer"])).await;
    let checks = format!("/v1/accounts/{account}/authorization-checks");

    let allowed = app
        .post(
            &checks,
            Some(&owner.access_token),
            json!({"user_id": developer, "permissions": ["certifications:apply", "badges:request"]}),
        )
        .await;
    assert_eq!(allowed.expect_status(200), &json!({"allowed": true, "missing": []}));
    let denied = app
        .post(
            &checks,
            Some(&owner.access_token),
            json!({"user_id": developer, "permissions": ["certifications:view", "members:manage", "roles:manage"]}),
        )
        .await;
    assert_eq!(denied.expect_status(200), &json!({"allowed": false, "missing": ["members:manage", "roles:manage"]}));
    // Members may ask about themselves, not about others.
    app.post(&checks, Some(&developer_token), json!({"user_id": developer, "permissions": ["badges:request"]}))
        .await
        .expect_status(200);
    app.post(&checks, Some(&developer_token), json!({"user_id": owner.id, "permissions": ["badges:request"]}))
        .await
        .expect_problem(403, "forbidden");
    // Someone outside the account holds nothing here, and cannot ask.
    let outsider = app
        .post(&checks, Some(&owner.access_token), json!({"user_id": stranger.id, "permissions": ["badges:request"]}))
        .await;
    assert_eq!(outsider.body["allowed"], false);
    app.post(&checks, Some(&stranger.access_token), json!({"user_id": stranger.id, "permissions": ["badges:request"]}))
        .await
        .expect_problem(404, "not_found");
    for bad in [
        json!({"user_id": developer, "permissions": []}),
        json!({"user_id": developer, "permissions": ["rockets:launch"]}),
        json!({"user_id": "nope", "permissions": ["badges:request"]}),
        json!({"permissions": ["badges:request"]}),
    ] {
        app.post(&checks, Some(&owner.access_token), bad).await.expect_problem(422, "validation_failed");
    }
    // Removing the member takes effect on the next check.
    app.delete(&format!("/v1/accounts/{account}/members/{developer}"), Some(&owner.access_token))
        .await
        .expect_status(204);
    let after = app
        .post(&checks, Some(&owner.access_token), json!({"user_id": developer, "permissions": ["badges:request"]}))
        .await;
    assert_eq!(after.body["allowed"], false);
}

async fn a_deployment_declares_its_own_permissions_and_roles(app: TestApp) {
    let file = app.settings.data_dir.join("permissions.toml");
    std::fs::write(&file, "[[permissions]]\nkey = \"rockets:launch\"\ndescription = \"Launch a rocket.\"\n\n[[roles]]\nkey = \"pilot\"\nname = \"Pilot\"\npermissions = [\"rockets:launch\"]\n").unwrap();
    let backend = app.backend;
    let custom =
        TestApp::spawn_with(Backend::Sqlite, |settings| settings.permissions_file = Some(file.clone())).await.unwrap();
    let owner = custom.sign_up("owner@example.com").await;
    let catalogue = custom.get("/v1/permissions", Some(&owner.access_token)).await.body;
    let keys: Vec<&str> =
        catalogue["permissions"].as_array().unwrap().iter().map(|p| p["key"].as_str().unwrap()).collect();
    assert!(keys.contains(&"rockets:launch") && !keys.contains(&"badges:request"), "{keys:?} on {backend:?}");
    let account = custom.create_account(&owner, "Space").await;
    let (pilot, _) = join_with_roles(&custom, &owner, &account, "pilot@example.com", json!(["pilot"])).await;
    let permissions =
        custom.get(&format!("/v1/accounts/{account}/members/{pilot}/permissions"), Some(&owner.access_token)).await;
    assert_eq!(keys_of(&permissions.body), ["rockets:launch"]);
    let unknown = json!({"invitations": [{"email": "x@example.com", "roles": ["developer"]}]});
    let results = custom.post(&format!("/v1/accounts/{account}/invitations"), Some(&owner.access_token), unknown).await;
    assert_eq!(results.body["results"][0]["problem"]["errors"][0]["code"], "unknown_role");

    std::fs::write(&file, "[[roles]]\nkey = \"pilot\"\nname = \"Pilot\"\npermissions = [\"rockets:launch\"]\n")
        .unwrap();
    let mut settings = app.settings.clone();
    settings.permissions_file = Some(file);
    settings.bind = "127.0.0.1:0".parse().unwrap();
    let refused = api::Application::build(settings, std::sync::Arc::new(domain::SystemClock));
    assert!(
        refused.err().is_some_and(|e| e.to_string().contains("rockets:launch")),
        "an undeclared permission stops start-up"
    );
}

fn keys_of(body: &Value) -> Vec<&str> {
    keys(&body["permissions"])
}
