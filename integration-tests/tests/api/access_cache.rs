//! The authorization cache across instances: a change applies at once on
//! the instance that made it and within a bound on the others; an instance
//! that cannot hear of changes reads through to the database.

use std::time::Duration;

use integration_tests::{Backend, Sibling, SignedIn, TestApp, eventually, on_both_backends};
use serde_json::json;

use crate::roles::put_roles;

on_both_backends!(
    a_change_applies_at_once_where_it_was_made_and_soon_on_other_instances,
    an_instance_that_cannot_hear_of_changes_reads_through,
);

/// How long another instance may go on answering from what it remembered,
/// as far as this suite is concerned: far above what it takes (the README
/// gives the figure measured), so that a loaded machine does not fail it,
/// and far below forever.
const BOUND: Duration = Duration::from_secs(10);

struct Fixture {
    owner: SignedIn,
    account: String,
    member: SignedIn,
}

async fn fixture(app: &TestApp) -> Fixture {
    let owner = app.sign_up("owner@example.com").await;
    let account = app.create_account(&owner, "Acme").await;
    let member = app.sign_up("dev@example.com").await;
    app.add_member(&account, &member.id, &["developer"]);
    Fixture { owner, account, member }
}

/// Whether `about` holds `permission`, asked of the instance at `base` with `token`.
async fn holds(app: &TestApp, base: &str, f: &Fixture, token: &str, permission: &str) -> Result<bool, u16> {
    let url = format!("{base}/v1/accounts/{}/authorization-checks", f.account);
    let body = json!({"user_id": f.member.id, "permissions": [permission]});
    let reply = TestApp::read(app.client.post(url).bearer_auth(token).json(&body).send().await.unwrap()).await;
    match reply.status.as_u16() {
        200 => Ok(reply.body["allowed"].as_bool().unwrap()),
        status => Err(status),
    }
}

/// Asks `base` until it answers `expected`; how long that took. Fails past
/// [`BOUND`].
async fn until_answered(
    app: &TestApp,
    base: &str,
    f: &Fixture,
    token: &str,
    permission: &str,
    expected: Result<bool, u16>,
) -> Duration {
    let what = format!("{base} answering {expected:?}");
    eventually(&what, BOUND, || async { holds(app, base, f, token, permission).await == expected }).await
}

/// Waits until the sibling's listener is up (or down), failing past [`BOUND`].
async fn until_listening(sibling: &Sibling, up: bool) {
    let what = if up { "the sibling's listener up" } else { "the sibling's listener down" };
    eventually(what, BOUND, || async { sibling.access.listening() == up }).await;
}

async fn set_roles(app: &TestApp, f: &Fixture, roles: &[&str]) {
    let assignments: Vec<_> = roles.iter().map(|role| json!({"role": role})).collect();
    let (owner, member) = (&f.owner.access_token, &f.member.id);
    let tag = app.etag_of(&format!("/v1/accounts/{}/members/{member}", f.account), owner).await;
    put_roles(app, owner, &f.account, member, Some(&tag), json!(assignments)).await.expect_status(200);
}

async fn a_change_applies_at_once_where_it_was_made_and_soon_on_other_instances(app: TestApp) {
    let sibling = app.spawn_sibling();
    until_listening(&sibling, true).await;
    let f = fixture(&app).await;
    let owner = f.owner.access_token.clone();
    let key = app
        .post(
            &format!("/v1/accounts/{}/partners", f.account),
            Some(&owner),
            json!({"name": "Backend", "description": "Checks"}),
        )
        .await
        .expect_status(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let key = app
        .post(
            &format!("/v1/accounts/{}/api-keys", f.account),
            Some(&owner),
            json!({"name": "Backend", "partner_id": key, "permissions": ["members:read"]}),
        )
        .await
        .expect_status(201)
        .clone();
    let secret = key["secret"].as_str().unwrap().to_owned();

    // Both instances have answered (and remembered) before each change.
    for base in [&app.address, &sibling.address] {
        for _ in 0..2 {
            assert_eq!(holds(&app, base, &f, &owner, "members:manage").await, Ok(false));
            assert_eq!(holds(&app, base, &f, &secret, "certifications:apply").await, Ok(true));
        }
    }
    // Roles changed through one instance, back and forth: that instance
    // answers the new roles at once, the other within the bound.
    let mut slowest = Duration::ZERO;
    for round in 0..10 {
        let (roles, manages) = if round % 2 == 0 { (["administrator"], true) } else { (["developer"], false) };
        set_roles(&app, &f, &roles).await;
        assert_eq!(holds(&app, &app.address, &f, &owner, "members:manage").await, Ok(manages), "round {round}");
        slowest = slowest.max(until_answered(&app, &sibling.address, &f, &owner, "members:manage", Ok(manages)).await);
    }
    eprintln!("{:?}: a role change reached the other instance within {slowest:?} (slowest of 10)", app.backend);

    // Removing the member: at once here, within the bound there.
    let member = format!("/v1/accounts/{}/members/{}", f.account, f.member.id);
    app.delete(&member, Some(&owner)).await.expect_status(204);
    assert_eq!(holds(&app, &app.address, &f, &owner, "certifications:apply").await, Ok(false));
    until_answered(&app, &sibling.address, &f, &owner, "certifications:apply", Ok(false)).await;

    // Revoking the key: refused at once here, within the bound there.
    let revoke = format!("/v1/accounts/{}/api-keys/{}/revoke", f.account, key["id"].as_str().unwrap());
    app.post(&revoke, Some(&owner), json!({})).await.expect_status(200);
    assert_eq!(holds(&app, &app.address, &f, &secret, "certifications:apply").await, Err(401));
    until_answered(&app, &sibling.address, &f, &secret, "certifications:apply", Err(401)).await;
}

async fn an_instance_that_cannot_hear_of_changes_reads_through(app: TestApp) {
    // SQLite's listener reads a log in the same file: it cannot be cut off.
    if app.backend == Backend::Sqlite {
        return;
    }
    // One sibling that stays deaf once cut off, one that reconnects.
    let deaf = app.spawn_sibling_with(|s| s.authorization_listener_retry_ms = 3_600_000);
    let reconnecting = app.spawn_sibling_with(|s| s.authorization_listener_retry_ms = 50);
    until_listening(&deaf, true).await;
    until_listening(&reconnecting, true).await;
    let f = fixture(&app).await;
    let owner = f.owner.access_token.clone();
    for base in [&deaf.address, &reconnecting.address, &deaf.address, &reconnecting.address] {
        assert_eq!(holds(&app, base, &f, &owner, "members:manage").await, Ok(false));
    }

    for sibling in [&deaf, &reconnecting] {
        let port = sibling.address.rsplit(':').next().unwrap();
        let cut =
            format!("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'roster-{port}'");
        diesel::RunQueryDsl::execute(diesel::sql_query(cut), &mut *app.db()).unwrap();
    }
    until_listening(&deaf, false).await;
    // Cut off, the deaf one reads through: the change counts at once.
    set_roles(&app, &f, &["administrator"]).await;
    assert_eq!(holds(&app, &deaf.address, &f, &owner, "members:manage").await, Ok(true));
    set_roles(&app, &f, &["developer"]).await;
    assert_eq!(holds(&app, &deaf.address, &f, &owner, "members:manage").await, Ok(false));

    // The other one is back, and hears of changes again.
    until_listening(&reconnecting, true).await;
    assert_eq!(holds(&app, &reconnecting.address, &f, &owner, "members:manage").await, Ok(false));
    set_roles(&app, &f, &["administrator"]).await;
    until_answered(&app, &reconnecting.address, &f, &owner, "members:manage", Ok(true)).await;
}
