//! Authorized partners and their API keys: shown once, stored as digests,
//! used as `Authorization: Bearer roster_…` on the account's endpoints only,
//! never worth more than their creator holds at the time of the call.

use integration_tests::{Backend, SignedIn, TestApp, for_both_backends, on_both_backends};
use serde_json::{Value, json};

on_both_backends!(
    a_key_is_shown_once_and_acts_for_its_account,
    keys_cannot_escalate,
    a_key_stops_working_when_revoked_expired_rotated_or_orphaned,
    a_key_is_refused_outside_its_allow_list_and_when_mistyped,
    a_backend_checks_authorization_with_a_key,
);
for_both_backends!(each_key_has_its_own_rate_limit);

struct Fixture {
    owner: SignedIn,
    account: String,
    partner: String,
}

async fn fixture(app: &TestApp) -> Fixture {
    let owner = app.sign_up("owner@example.com").await;
    let account = app.create_account(&owner, "Acme").await;
    let partner = app
        .post(
            &format!("/v1/accounts/{account}/partners"),
            Some(&owner.access_token),
            json!({"name": "Acme Logistics", "description": "Ships our orders"}),
        )
        .await
        .expect_status(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    Fixture { owner, account, partner }
}

async fn create_key(app: &TestApp, by: &SignedIn, account: &str, body: Value) -> Value {
    app.post(&format!("/v1/accounts/{account}/api-keys"), Some(&by.access_token), body).await.expect_status(201).clone()
}

async fn a_key_is_shown_once_and_acts_for_its_account(app: TestApp) {
    let f = fixture(&app).await;
    let admin = app.sign_up("admin@example.com").await;
    app.add_member(&f.account, &admin.id, &["administrator"]);
    let keys = format!("/v1/accounts/{}/api-keys", f.account);
    let body = json!({"name": "Order sync", "partner_id": f.partner, "permissions": ["members:read"]});
    let created = app.post(&keys, Some(&f.owner.access_token), body).await;
    assert_eq!(created.headers["cache-control"], "no-store");
    let created = created.expect_status(201).clone();
    let secret = created["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("roster_") && secret.starts_with(created["prefix"].as_str().unwrap()));
    assert_eq!(created["status"], "active");
    assert_eq!(created["partner_name"], "Acme Logistics");
    let days = (chrono::DateTime::parse_from_rfc3339(created["expires_at"].as_str().unwrap()).unwrap()
        - app.now().fixed_offset())
    .num_days();
    assert!((89..=90).contains(&days), "default expiry is 90 days, got {days}");

    // Listed without the secret; stored only as a digest.
    let listed = app.get(&keys, Some(&f.owner.access_token)).await.expect_status(200).clone();
    assert_eq!(listed["items"][0]["id"], created["id"]);
    assert!(listed["items"][0].get("secret").is_none());
    let stored: i64 = {
        use diesel::prelude::*;
        use persistence::schema::api_key_secrets::dsl;
        dsl::api_key_secrets.filter(dsl::digest.eq(&secret)).count().get_result(&mut *app.db()).unwrap()
    };
    assert_eq!(stored, 0, "the secret itself is never stored");

    // Owners and administrators hear of it.
    for recipient in ["admin@example.com", "owner@example.com"] {
        let told = app.emails_to(recipient, 2).await; // verification, then the key
        let subject = told[1].header("subject").unwrap_or_default();
        assert_eq!(subject, "New API key for Acme Logistics in Acme", "{recipient}");
    }

    // It reads members of its account; it is not a user.
    let members = app.get(&format!("/v1/accounts/{}/members", f.account), Some(&secret)).await;
    assert_eq!(members.expect_status(200)["items"].as_array().unwrap().len(), 2);
    app.get("/v1/me", Some(&secret)).await.expect_problem(401, "unauthenticated");
    // Another account is out of its reach, as if it did not exist.
    let other = app.create_account(&f.owner, "Elsewhere").await;
    app.get(&format!("/v1/accounts/{other}/members"), Some(&secret)).await.expect_problem(404, "not_found");
    // Nor can it do what it does not carry.
    let group = json!({"name": "Nope"});
    app.post(&format!("/v1/accounts/{}/groups", f.account), Some(&secret), group)
        .await
        .expect_problem(403, "forbidden");
    // Its use is recorded.
    let seen = app.get(&format!("{keys}/{}", created["id"].as_str().unwrap()), Some(&f.owner.access_token)).await;
    assert_eq!(seen.expect_status(200)["last_used_ip"], "127.0.0.1");
}

async fn keys_cannot_escalate(app: TestApp) {
    let f = fixture(&app).await;
    let analyst = app.sign_up("analyst@example.com").await;
    app.add_member(&f.account, &analyst.id, &["administrator"]);
    let keys = format!("/v1/accounts/{}/api-keys", f.account);
    for reserved in ["webhooks:manage", "partners:manage", "ownership:transfer", "account:delete"] {
        let body = json!({"name": "K", "partner_id": f.partner, "permissions": [reserved]});
        let reply = app.post(&keys, Some(&f.owner.access_token), body).await;
        assert_eq!(reply.expect_problem(422, "validation_failed").body["errors"][0]["code"], "reserved_permission");
    }
    // A group's administrator cannot give a key account-wide powers.
    let lead = app.sign_up("lead@example.com").await;
    app.add_member(&f.account, &lead.id, &["developer"]);
    let body = json!({"name": "K", "partner_id": f.partner, "permissions": ["members:manage"]});
    app.post(&keys, Some(&lead.access_token), body.clone()).await.expect_problem(403, "forbidden");
    // Nothing was written by the refusals.
    let listed = app.get(&keys, Some(&f.owner.access_token)).await;
    assert!(listed.expect_status(200)["items"].as_array().unwrap().is_empty());
    // Unknown partner or group: 422, naming the field.
    let unknown = json!({"name": "K", "partner_id": uuid::Uuid::new_v4(), "permissions": ["members:read"]});
    let reply = app.post(&keys, Some(&f.owner.access_token), unknown).await;
    assert_eq!(reply.expect_problem(422, "validation_failed").body["errors"][0]["code"], "unknown_partner");
    // A key cannot mint keys: partners:manage is never on one.
    let key = create_key(
        &app,
        &f.owner,
        &f.account,
        json!({"name": "K", "partner_id": f.partner, "permissions": ["members:read"]}),
    )
    .await;
    let secret = key["secret"].as_str().unwrap();
    let again = json!({"name": "K2", "partner_id": f.partner, "permissions": ["members:read"]});
    app.post(&keys, Some(secret), again).await.expect_problem(403, "forbidden");
}

async fn a_key_stops_working_when_revoked_expired_rotated_or_orphaned(app: TestApp) {
    let f = fixture(&app).await;
    let members = format!("/v1/accounts/{}/members", f.account);
    let body = json!({"name": "K", "partner_id": f.partner, "permissions": ["members:read"]});

    // Revoked: refused at once.
    let key = create_key(&app, &f.owner, &f.account, body.clone()).await;
    let secret = key["secret"].as_str().unwrap().to_owned();
    app.get(&members, Some(&secret)).await.expect_status(200);
    let path = format!("/v1/accounts/{}/api-keys/{}", f.account, key["id"].as_str().unwrap());
    let revoked = app.post(&format!("{path}/revoke"), Some(&f.owner.access_token), json!({})).await;
    assert_eq!(revoked.expect_status(200)["status"], "revoked");
    app.get(&members, Some(&secret)).await.expect_problem(401, "unauthenticated");

    // Rotated: the old secret works through the overlap, then not.
    let key = create_key(&app, &f.owner, &f.account, body.clone()).await;
    let old = key["secret"].as_str().unwrap().to_owned();
    let path = format!("/v1/accounts/{}/api-keys/{}", f.account, key["id"].as_str().unwrap());
    let rotated = app.post(&format!("{path}/rotate"), Some(&f.owner.access_token), json!({"overlap_hours": 1})).await;
    let new = rotated.expect_status(200)["secret"].as_str().unwrap().to_owned();
    assert_ne!(new, old);
    app.get(&members, Some(&old)).await.expect_status(200);
    app.get(&members, Some(&new)).await.expect_status(200);
    app.advance(chrono::Duration::minutes(61)).await;
    app.get(&members, Some(&old)).await.expect_problem(401, "unauthenticated");
    app.get(&members, Some(&new)).await.expect_status(200);

    // Expired.
    app.advance(chrono::Duration::days(91)).await;
    app.get(&members, Some(&new)).await.expect_problem(401, "unauthenticated");
    let listed = app.get(&path, Some(&f.owner.access_token)).await;
    assert_eq!(listed.expect_status(200)["status"], "expired");

    // Orphaned: a creator who leaves takes the key's power with them, and
    // one who loses a permission takes that permission from the key.
    let admin = app.sign_up("admin@example.com").await;
    app.add_member(&f.account, &admin.id, &["administrator"]);
    let key = create_key(&app, &admin, &f.account, body).await;
    let secret = key["secret"].as_str().unwrap().to_owned();
    app.get(&members, Some(&secret)).await.expect_status(200);
    let admin_path = format!("{members}/{}", admin.id);
    let tag = app.get(&admin_path, Some(&f.owner.access_token)).await.headers["etag"].to_str().unwrap().to_owned();
    let demoted = app
        .client
        .put(app.url(&format!("{admin_path}/roles")))
        .bearer_auth(&f.owner.access_token)
        .header("if-match", tag)
        .json(&json!({"assignments": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(demoted.status(), 200);
    app.get(&members, Some(&secret)).await.expect_problem(403, "forbidden");
    app.delete(&admin_path, Some(&f.owner.access_token)).await.expect_status(204);
    app.get(&members, Some(&secret)).await.expect_problem(401, "unauthenticated");
}

async fn a_key_is_refused_outside_its_allow_list_and_when_mistyped(app: TestApp) {
    let f = fixture(&app).await;
    let members = format!("/v1/accounts/{}/members", f.account);
    let far = json!({"name": "K", "partner_id": f.partner, "permissions": ["members:read"], "allowed_ips": ["203.0.113.0/24"]});
    let far = create_key(&app, &f.owner, &f.account, far).await;
    app.get(&members, Some(far["secret"].as_str().unwrap())).await.expect_problem(401, "unauthenticated");
    let near = json!({"name": "K", "partner_id": f.partner, "permissions": ["members:read"], "allowed_ips": ["127.0.0.0/8", "::1"]});
    let near = create_key(&app, &f.owner, &f.account, near).await;
    let secret = near["secret"].as_str().unwrap().to_owned();
    app.get(&members, Some(&secret)).await.expect_status(200);
    // One character off: refused by the checksum, before any lookup.
    let mut typo = secret.clone().into_bytes();
    let last = typo.len() - 1;
    typo[last] = if typo[last] == b'a' { b'b' } else { b'a' };
    let typo = String::from_utf8(typo).unwrap();
    app.get(&members, Some(&typo)).await.expect_problem(401, "unauthenticated");
    let bad = json!({"name": "K", "partner_id": f.partner, "permissions": ["members:read"], "allowed_ips": ["nope"]});
    let reply = app.post(&format!("/v1/accounts/{}/api-keys", f.account), Some(&f.owner.access_token), bad).await;
    assert_eq!(reply.expect_problem(422, "validation_failed").body["errors"][0]["code"], "invalid_ip");
}

async fn a_backend_checks_authorization_with_a_key(app: TestApp) {
    let f = fixture(&app).await;
    let developer = app.sign_up("dev@example.com").await;
    app.add_member(&f.account, &developer.id, &["developer"]);
    let body = json!({"name": "Backend", "partner_id": f.partner, "permissions": ["members:read"]});
    let key = create_key(&app, &f.owner, &f.account, body).await;
    let secret = key["secret"].as_str().unwrap();
    let checks = format!("/v1/accounts/{}/authorization-checks", f.account);
    let ask = |permission: &str| json!({"user_id": developer.id, "permissions": [permission]});
    let allowed = app.post(&checks, Some(secret), ask("certifications:apply")).await;
    assert_eq!(allowed.expect_status(200)["allowed"], true);
    let denied = app.post(&checks, Some(secret), ask("members:manage")).await;
    assert_eq!(denied.expect_status(200)["missing"], json!(["members:manage"]));
    // Without members:read a key cannot ask about anyone.
    let mute = json!({"name": "Mute", "partner_id": f.partner, "permissions": ["groups:manage"]});
    let mute = create_key(&app, &f.owner, &f.account, mute).await;
    app.post(&checks, Some(mute["secret"].as_str().unwrap()), ask("members:read"))
        .await
        .expect_problem(403, "forbidden");
}

async fn each_key_has_its_own_rate_limit(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, |s| s.rate_limits.api_key = "2/1m".parse().unwrap()).await else {
        return;
    };
    let f = fixture(&app).await;
    let members = format!("/v1/accounts/{}/members", f.account);
    let body = json!({"name": "K", "partner_id": f.partner, "permissions": ["members:read"]});
    let busy = create_key(&app, &f.owner, &f.account, body.clone()).await;
    let calm = create_key(&app, &f.owner, &f.account, body).await;
    let (busy, calm) = (busy["secret"].as_str().unwrap(), calm["secret"].as_str().unwrap());
    app.get(&members, Some(busy)).await.expect_status(200);
    app.get(&members, Some(busy)).await.expect_status(200);
    let refused = app.get(&members, Some(busy)).await;
    refused.expect_problem(429, "rate_limited");
    assert!(refused.headers.contains_key("retry-after") && refused.headers.contains_key("ratelimit-policy"));
    app.get(&members, Some(calm)).await.expect_status(200);
    // People signed in are not counted against keys.
    app.get(&members, Some(&f.owner.access_token)).await.expect_status(200);
    app.advance(chrono::Duration::minutes(1)).await;
    app.get(&members, Some(busy)).await.expect_status(200);
}
