//! Single sign-on through an account's own OpenID provider: a real
//! provider (oidc-provider) on loopback for the happy paths, a forging one
//! for the attacks; each refusal is a clear problem and creates nothing.

use integration_tests::oidc::{Arrival, CLIENT_ID, CLIENT_SECRET, FRONTEND, ForgedIdp, TestIdp};
use integration_tests::{SignedIn, TestApp, on_both_backends};
use serde_json::{Value, json};

use crate::domains::verified_domain;

on_both_backends!(
    people_sign_in_through_their_provider_and_keep_its_roles_in_step,
    connections_are_managed_and_never_show_their_secret,
    sign_in_is_refused_for_bad_starts_and_disabled_connections,
    forged_and_replayed_answers_are_refused_and_create_nothing,
    an_unknown_key_is_looked_up_again_at_most_once_a_minute,
    sso_can_be_required_of_the_people_at_the_accounts_domains,
);

fn start(query: &str) -> String {
    format!("/v1/sso/start?{query}&redirect_uri={}", FRONTEND)
}

async fn connect(app: &TestApp, owner: &SignedIn, account: &str, issuer: &str, more: Value) -> Value {
    let mut body =
        json!({"name": "Acme IdP", "issuer": issuer, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET});
    body.as_object_mut().unwrap().extend(more.as_object().unwrap().clone());
    let created = app.post(&format!("/v1/accounts/{account}/sso-connections"), Some(&owner.access_token), body).await;
    created.expect_status(201).clone()
}

/// Exchanges the frontend's one-time code for tokens; the access token.
async fn tokens(app: &TestApp, arrival: &Arrival) -> String {
    let reply = app.post("/v1/sso/token", None, json!({"code": arrival.code()})).await;
    reply.expect_status(200)["access_token"].as_str().unwrap().to_owned()
}

async fn roles_in(app: &TestApp, token: &str, account: &str) -> Value {
    let mine = app.get("/v1/me/accounts", Some(token)).await;
    let items = mine.expect_status(200)["items"].as_array().unwrap().clone();
    items
        .into_iter()
        .find(|item| item["account"]["id"] == account)
        .map(|item| item["roles"].clone())
        .unwrap_or(Value::Null)
}

async fn set_roles(app: &TestApp, owner: &SignedIn, account: &str, user: &str, roles: &[&str]) {
    let path = format!("/v1/accounts/{account}/members/{user}");
    let tag = app.etag_of(&path, &owner.access_token).await;
    let assignments: Vec<Value> = roles.iter().map(|role| json!({"role": role})).collect();
    let body = json!({"assignments": assignments});
    let reply = app
        .request_if_match(reqwest::Method::PUT, &format!("{path}/roles"), &owner.access_token, Some(&tag), Some(body))
        .await;
    reply.expect_status(200);
}

fn user_count(app: &TestApp) -> i64 {
    use diesel::prelude::*;
    persistence::schema::users::table.count().get_result(&mut app.db()).unwrap()
}

async fn people_sign_in_through_their_provider_and_keep_its_roles_in_step(app: TestApp) {
    let idp = TestIdp::start(&app.settings.public_url);
    let owner = app.sign_up("owner@acme.example").await;
    let account = app.create_account(&owner, "Acme").await;
    verified_domain(&app, &owner, &account, "acme.example").await;
    let rules = json!({"scopes": ["openid", "email", "profile", "groups"], "groups_claim": "groups",
        "group_rules": [{"idp_group": "engineering", "roles": ["developer"]}], "default_roles": ["analyst"]});
    let connection = connect(&app, &owner, &account, idp.issuer(), rules).await;
    let ada = json!({"email": "ada@acme.example", "email_verified": true, "given_name": "Ada", "family_name": "Lovelace", "groups": ["engineering"]});
    idp.add_person("ada-at-idp", ada).await;

    // Home-realm discovery: the email's verified domain picks the connection.
    idp.log_in_as("ada-at-idp").await;
    let arrival = app.browse(&start("email=ada%40acme.example")).await;
    let code = arrival.code();
    let token = tokens(&app, &arrival).await;
    let me = app.get("/v1/me", Some(&token)).await.expect_status(200).clone();
    assert_eq!(
        (&me["email"], &me["first_name"], &me["email_verified"]),
        (&json!("ada@acme.example"), &json!("Ada"), &json!(true))
    );
    assert_eq!(roles_in(&app, &token, &account).await, json!(["developer"]));
    app.post("/v1/sso/token", None, json!({"code": code})).await.expect_problem(401, "sso_code_invalid");
    let ada_id = me["id"].as_str().unwrap().to_owned();

    // Out of the IdP group: the mapped role goes, the default applies.
    idp.add_person("ada-at-idp", json!({"email": "ada@acme.example", "email_verified": true, "groups": []})).await;
    idp.log_in_as("ada-at-idp").await;
    let by_id = start(&format!("connection={}", connection["id"].as_str().unwrap()));
    let token = tokens(&app, &app.browse(&by_id).await).await;
    assert_eq!(roles_in(&app, &token, &account).await, json!(["analyst"]));

    // A role given by hand stays whatever the provider says.
    set_roles(&app, &owner, &account, &ada_id, &["analyst", "marketer"]).await;
    let ada = json!({"email": "ada.lovelace@acme.example", "email_verified": true, "groups": ["engineering"]});
    idp.add_person("ada-at-idp", ada).await;
    let token = tokens(&app, &app.browse(&by_id).await).await;
    assert_eq!(roles_in(&app, &token, &account).await, json!(["developer", "marketer"]));
    let me = app.get("/v1/me", Some(&token)).await;
    assert_eq!(me.body["id"], json!(ada_id), "the provider's subject follows the person when their email changes");

    // A new person at the domain is created and made a member.
    idp.add_person("grace-at-idp", json!({"email": "grace@acme.example", "email_verified": true, "groups": []})).await;
    idp.log_in_as("grace-at-idp").await;
    let grace = tokens(&app, &app.browse(&by_id).await).await;
    assert_eq!(roles_in(&app, &grace, &account).await, json!(["analyst"]));

    app.run_jobs().await;
    let log =
        app.get(&format!("/v1/accounts/{account}/audit-events?action=member.joined"), Some(&owner.access_token)).await;
    let joined = log.expect_status(200)["items"].as_array().unwrap().clone();
    assert_eq!(joined.len(), 2, "{joined:?}");
    assert!(joined.iter().all(|event| event["actor"]["type"] == "system"));
}

async fn connections_are_managed_and_never_show_their_secret(app: TestApp) {
    let owner = app.sign_up("owner@acme.example").await;
    let account = app.create_account(&owner, "Acme").await;
    let t = Some(owner.access_token.as_str());
    let created = connect(&app, &owner, &account, "https://idp.acme.example", json!({})).await;
    assert!(created.get("client_secret").is_none());
    assert_eq!(created["scopes"], json!(["openid", "email", "profile"]));
    assert_eq!(created["email_claim"], "email");
    assert_eq!(created["callback_url"], json!(format!("{}/v1/sso/callback", app.settings.public_url)));
    let path = format!("/v1/accounts/{account}/sso-connections/{}", created["id"].as_str().unwrap());
    let fetched = app.get(&path, t).await;
    assert!(!fetched.expect_status(200).to_string().contains(CLIENT_SECRET), "the secret is never shown again");

    // Replacing without a secret keeps it; bad fields change nothing.
    let replace = json!({"name": "Okta", "issuer": "https://idp.acme.example", "client_id": "other", "enabled": false});
    let replaced = app.put(&path, t, replace).await;
    assert_eq!(
        (&replaced.expect_status(200)["client_id"], &replaced.body["enabled"]),
        (&json!("other"), &json!(false))
    );
    for (bad, field) in [
        (json!({"scopes": ["email"]}), "scopes"),
        (json!({"issuer": "ftp://idp.acme.example"}), "issuer"),
        (json!({"group_rules": [{"idp_group": "x", "roles": ["no-such-role"]}]}), "group_rules"),
        (json!({"default_roles": ["administrator", "owner"]}), "default_roles"),
    ] {
        let mut body =
            json!({"name": "Okta", "issuer": "https://idp.acme.example", "client_id": "x", "client_secret": "s"});
        body.as_object_mut().unwrap().extend(bad.as_object().unwrap().clone());
        let refused = app.post(&format!("/v1/accounts/{account}/sso-connections"), t, body).await;
        assert!(refused.status == 422 || refused.status == 403, "{field}: {} {}", refused.status, refused.body);
    }
    // Without a secret: a public client, protected by PKCE alone.
    let public = json!({"name": "Public", "issuer": "https://idp.acme.example", "client_id": "spa"});
    app.post(&format!("/v1/accounts/{account}/sso-connections"), t, public).await.expect_status(201);
    let list = app.get(&format!("/v1/accounts/{account}/sso-connections"), t).await;
    assert_eq!(list.expect_status(200)["items"].as_array().unwrap().len(), 2);

    // Mapping to roles beyond one's own is refused.
    let settings_role =
        json!({"key": "settings", "name": "Settings", "permissions": ["settings:manage", "settings:read"]});
    app.post(&format!("/v1/accounts/{account}/roles"), t, settings_role).await.expect_status(201);
    let manager = app.sign_up("manager@acme.example").await;
    app.add_member(&account, &manager.id, &["settings"]);
    let escalate = json!({"name": "Mine", "issuer": "https://idp.acme.example", "client_id": "x", "client_secret": "s", "default_roles": ["administrator"]});
    app.post(&format!("/v1/accounts/{account}/sso-connections"), Some(&manager.access_token), escalate)
        .await
        .expect_problem(403, "forbidden");

    app.delete(&path, t).await.expect_status(204);
    app.get(&path, t).await.expect_problem(404, "not_found");
}

async fn sign_in_is_refused_for_bad_starts_and_disabled_connections(app: TestApp) {
    let idp = TestIdp::start(&app.settings.public_url);
    let owner = app.sign_up("owner@acme.example").await;
    let account = app.create_account(&owner, "Acme").await;
    verified_domain(&app, &owner, &account, "acme.example").await;
    let connection = connect(&app, &owner, &account, idp.issuer(), json!({})).await;
    let id = connection["id"].as_str().unwrap();

    let elsewhere =
        app.get("/v1/sso/start?redirect_uri=https://evil.example/steal&email=ada%40acme.example", None).await;
    elsewhere.expect_problem(422, "validation_failed");
    assert_eq!(elsewhere.body["errors"][0]["code"], "redirect_uri_not_allowed");
    app.get(&start("email=ada%40other.example"), None).await.expect_problem(404, "sso_connection_not_found");
    app.get(&start("email=ada%40gmail.com"), None).await.expect_problem(404, "sso_connection_not_found");
    app.get(&start(&format!("email=ada%40acme.example&connection={id}")), None)
        .await
        .expect_problem(422, "validation_failed");
    app.get(&start("connection=01937a2e-e000-7000-8000-000000000009"), None)
        .await
        .expect_problem(404, "sso_connection_not_found");

    // A sign-in started before the connection was disabled fails at the callback.
    idp.add_person("ada", json!({"email": "ada@acme.example", "email_verified": true})).await;
    idp.log_in_as("ada").await;
    let started = app.get(&start(&format!("connection={id}")), None).await;
    assert_eq!(started.status, 302);
    let users_before = user_count(&app);
    let path = format!("/v1/accounts/{account}/sso-connections/{id}");
    let disable = json!({"name": "Acme IdP", "issuer": idp.issuer(), "client_id": CLIENT_ID, "enabled": false});
    app.put(&path, Some(&owner.access_token), disable).await.expect_status(200);
    app.get(&start(&format!("connection={id}")), None).await.expect_problem(409, "sso_connection_disabled");
    app.get(&start("email=ada%40acme.example"), None).await.expect_problem(409, "sso_connection_disabled");
    let location = started.headers["location"].to_str().unwrap().to_owned();
    let stopped = app.browse(&location).await;
    stopped.refusal().expect_problem(409, "sso_connection_disabled");
    assert_eq!(user_count(&app), users_before, "nothing was created");
}

async fn forged_and_replayed_answers_are_refused_and_create_nothing(app: TestApp) {
    let forger = ForgedIdp::start();
    let owner = app.sign_up("owner@acme.example").await;
    let account = app.create_account(&owner, "Acme").await;
    verified_domain(&app, &owner, &account, "acme.example").await;
    let connection = connect(&app, &owner, &account, forger.issuer(), json!({})).await;
    let by_id = start(&format!("connection={}", connection["id"].as_str().unwrap()));
    app.sign_up("victim@elsewhere.example").await;
    let users_before = user_count(&app);
    let long_ago = chrono::Utc::now().timestamp() - 3600;

    for (plan, code) in [
        (json!({"claims": {"exp": long_ago, "iat": long_ago - 60}}), "id_token_invalid"),
        (json!({"claims": {"aud": "someone-else"}}), "id_token_invalid"),
        (json!({"claims": {"aud": [CLIENT_ID, "someone-else"]}}), "id_token_invalid"),
        (json!({"claims": {"iss": "https://impostor.example"}}), "id_token_invalid"),
        (json!({"claims": {"nonce": "not-the-nonce"}}), "id_token_invalid"),
        (json!({"claims": {"nonce": null}}), "id_token_invalid"),
        (json!({"alg": "none"}), "id_token_invalid"),
        (json!({"alg": "HS256-with-public-key"}), "id_token_invalid"),
        (json!({"key": "second"}), "id_token_invalid"),
        (json!({"claims": {"email": "mallory@elsewhere.example", "email_verified": false}}), "sso_email_not_trusted"),
        (json!({"claims": {"email": null}}), "sso_email_missing"),
        // A provider vouching for someone else's address outside the
        // account's domains does not become them.
        (json!({"claims": {"email": "victim@elsewhere.example", "email_verified": true}}), "sso_email_in_use"),
    ] {
        forger.plan(plan.clone()).await;
        let refused = app.browse(&by_id).await.refusal();
        assert_eq!(refused.body["code"], code, "{plan}: {}", refused.body);
        assert_eq!(user_count(&app), users_before, "{plan} created a user");
    }

    // Honest, but the provider does not vouch for the email: one at a
    // domain the account verified is trusted all the same.
    forger.plan(json!({"claims": {"email": "mallory@acme.example", "email_verified": false}})).await;
    let started = app.get(&by_id, None).await;
    let location = started.headers["location"].to_str().unwrap().to_owned();
    let callback = app.client.get(&location).send().await.unwrap().headers()["location"].to_str().unwrap().to_owned();
    let callback = callback.replacen(&app.settings.public_url, "", 1);
    let answered = app.get(&callback, None).await;
    assert_eq!(answered.status, 302, "{}", answered.body);
    assert_eq!(user_count(&app), users_before + 1);
    // The same answer again: the state was used.
    app.get(&callback, None).await.expect_problem(400, "sso_state_invalid");
    let wrong = callback.replace("state=", "state=x");
    app.get(&wrong, None).await.expect_problem(400, "sso_state_invalid");
    app.get("/v1/sso/callback?code=forged-code", None).await.expect_problem(400, "sso_state_invalid");
}

async fn an_unknown_key_is_looked_up_again_at_most_once_a_minute(app: TestApp) {
    let forger = ForgedIdp::start();
    let owner = app.sign_up("owner@acme.example").await;
    let account = app.create_account(&owner, "Acme").await;
    verified_domain(&app, &owner, &account, "acme.example").await;
    let connection = connect(&app, &owner, &account, forger.issuer(), json!({})).await;
    let by_id = start(&format!("connection={}", connection["id"].as_str().unwrap()));

    // A token signed with a key the provider does not publish is refused.
    forger.plan(json!({"key": "second"})).await;
    app.browse(&by_id).await.refusal().expect_problem(401, "id_token_invalid");
    // The provider rotates to that key: within the minute the keys were
    // fetched, Roster does not fetch them again (no refetch storm).
    forger.publish_second_key().await;
    app.browse(&by_id).await.refusal().expect_problem(401, "id_token_invalid");
    // A minute later the keys are fetched again and the new key is found.
    app.advance(chrono::Duration::minutes(2)).await;
    let arrival = app.browse(&by_id).await;
    tokens(&app, &arrival).await;
}

async fn refreshed(app: &TestApp, user: &SignedIn) -> String {
    let reply = app.post("/v1/auth/refresh", None, json!({"refresh_token": user.refresh_token})).await;
    reply.expect_status(200)["access_token"].as_str().unwrap().to_owned()
}

async fn password_sign_in(app: &TestApp, email: &str) -> integration_tests::Reply {
    app.post("/v1/auth/login", None, json!({"email": email, "password": integration_tests::PASSWORD})).await
}

async fn sso_can_be_required_of_the_people_at_the_accounts_domains(app: TestApp) {
    let idp = TestIdp::start(&app.settings.public_url);
    let owner = app.sign_up("owner@acme.example").await;
    let account = app.create_account(&owner, "Acme").await;
    let (second_owner, ada) = (app.sign_up("second@acme.example").await, app.sign_up("ada@acme.example").await);
    let contractor = app.sign_up("bob@partner.example").await;
    app.add_member(&account, &second_owner.id, &["owner"]);
    app.add_member(&account, &ada.id, &["developer"]);
    app.add_member(&account, &contractor.id, &["developer"]);
    let elsewhere = app.create_account(&contractor, "Partner").await;
    app.add_member(&elsewhere, &ada.id, &["developer"]);
    let policy = format!("/v1/accounts/{account}/sso-policy");
    let t = Some(owner.access_token.as_str());
    let require = json!({"sso_required": true});

    // It needs a way to sign in, and people it applies to.
    app.put(&policy, t, require.clone()).await.expect_problem(409, "sso_connection_required");
    let connection = connect(&app, &owner, &account, idp.issuer(), json!({})).await;
    app.put(&policy, t, require.clone()).await.expect_problem(409, "verified_domain_required");
    verified_domain(&app, &owner, &account, "acme.example").await;
    let stranger = json!({"sso_required": true, "break_glass_owner_id": ada.id});
    let refused = app.put(&policy, t, stranger).await;
    refused.expect_problem(422, "validation_failed");
    assert_eq!(refused.body["errors"][0]["code"], "not_an_owner");
    let not_required = json!({"sso_required": false, "break_glass_owner_id": "01937a2e-5000-7000-8000-000000000002"});
    app.put(&policy, t, not_required).await.expect_problem(422, "validation_failed");
    assert_eq!(app.get(&policy, t).await.body, json!({"sso_required": false, "break_glass_owner_id": null}));
    let set = app.put(&policy, t, require).await;
    assert_eq!(set.expect_status(200)["break_glass_owner_id"], json!(owner.id), "the caller keeps password access");

    // A password session of someone at the domain no longer acts there...
    let ada_token = refreshed(&app, &ada).await;
    let here = format!("/v1/accounts/{account}");
    let blocked = app.get(&here, Some(&ada_token)).await;
    blocked.expect_problem(403, "sso_required");
    let start_url = blocked.body["sso_start_url"].as_str().unwrap().to_owned();
    assert!(
        start_url.ends_with(&format!("/v1/sso/start?connection={}", connection["id"].as_str().unwrap())),
        "{start_url}"
    );
    // ...but elsewhere, and as a user, it does.
    app.get(&format!("/v1/accounts/{elsewhere}"), Some(&ada_token)).await.expect_status(200);
    app.get("/v1/me", Some(&ada_token)).await.expect_status(200);
    let login = password_sign_in(&app, "ada@acme.example").await;
    login.expect_problem(403, "sso_required");
    assert_eq!(login.body["sso_start_url"], json!(start_url));
    password_sign_in(&app, "second@acme.example").await.expect_problem(403, "sso_required");

    // Through the provider, Ada acts in the account.
    idp.add_person("ada-at-idp", json!({"email": "ada@acme.example", "email_verified": true})).await;
    idp.log_in_as("ada-at-idp").await;
    let through_idp = tokens(&app, &app.browse(&start("email=ada%40acme.example")).await).await;
    let me = app.get("/v1/me", Some(&through_idp)).await;
    assert_eq!(me.body["id"], json!(ada.id), "linked to her user by the vouched email");
    app.get(&here, Some(&through_idp)).await.expect_status(200);

    // The break-glass owner and people at other domains keep passwords.
    let owner_login = password_sign_in(&app, "owner@acme.example").await;
    let owner_token = owner_login.expect_status(200)["access_token"].as_str().unwrap().to_owned();
    app.get(&here, Some(&owner_token)).await.expect_status(200);
    let bob = password_sign_in(&app, "bob@partner.example").await;
    app.get(&here, Some(bob.expect_status(200)["access_token"].as_str().unwrap())).await.expect_status(200);

    // Not required any more: passwords work again.
    app.put(&policy, Some(&owner_token), json!({"sso_required": false})).await.expect_status(200);
    let ada_again = password_sign_in(&app, "ada@acme.example").await;
    app.get(&here, Some(ada_again.expect_status(200)["access_token"].as_str().unwrap())).await.expect_status(200);
}
