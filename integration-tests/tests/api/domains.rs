//! An account's email domains: claimed, proved by a DNS TXT record that a
//! real DNS server on loopback serves, verified by one account at most;
//! public mail providers' domains are refused.

use integration_tests::{TestApp, on_both_backends};
use serde_json::{Value, json};

on_both_backends!(
    a_domain_is_verified_by_its_published_record,
    a_domain_verified_by_one_account_cannot_be_verified_by_another,
    a_verified_domain_whose_record_stays_missing_for_three_days_falls_back,
    bad_domains_are_refused_and_change_nothing
);

fn record_of(domain: &Value) -> (String, String) {
    let record = &domain["record"];
    assert_eq!(record["type"], "TXT");
    (record["name"].as_str().unwrap().to_owned(), record["value"].as_str().unwrap().to_owned())
}

async fn a_domain_is_verified_by_its_published_record(app: TestApp) {
    let owner = app.sign_up("owner@acme.example").await;
    let account = app.create_account(&owner, "Acme").await;
    let t = Some(owner.access_token.as_str());
    let domains = format!("/v1/accounts/{account}/domains");

    let added = app.post(&domains, t, json!({"domain": "ACME.example"})).await;
    let domain = added.expect_status(201).clone();
    assert_eq!((&domain["domain"], &domain["status"]), (&json!("acme.example"), &json!("pending")));
    let id = domain["id"].as_str().unwrap().to_owned();
    assert_eq!(added.headers["location"].to_str().unwrap(), format!("{domains}/{id}"));
    let (name, value) = record_of(&domain);
    assert_eq!(name, "_roster-verification.acme.example");
    assert!(value.starts_with("roster-verification=") && value.len() == "roster-verification=".len() + 32, "{value}");

    // Not published yet, or published wrong: refused, still pending.
    let verify = format!("{domains}/{id}/verify");
    app.post(&verify, t, json!({})).await.expect_problem(409, "verification_record_not_found");
    app.dns.publish_txt(&name, vec![vec!["roster-verification=someone-else".to_owned()]]);
    app.post(&verify, t, json!({})).await.expect_problem(409, "verification_record_not_found");
    assert_eq!(app.get(&format!("{domains}/{id}"), t).await.expect_status(200)["status"], "pending");

    // Published beside other records, in two strings: verified.
    app.dns
        .publish_txt(&name, vec![vec!["v=spf1 -all".to_owned()], vec![value[..10].to_owned(), value[10..].to_owned()]]);
    let verified = app.post(&verify, t, json!({})).await;
    assert_eq!(verified.expect_status(200)["status"], "verified");
    assert!(verified.body["verified_at"].is_string() && verified.body["checked_at"].is_string());
    let listed = app.get(&domains, t).await;
    assert_eq!(listed.expect_status(200)["items"].as_array().unwrap().len(), 1);
    assert_eq!(listed.body["items"][0]["status"], "verified");

    // The same domain twice, a subdomain apart.
    app.post(&domains, t, json!({"domain": "acme.example"})).await.expect_problem(409, "domain_exists");
    let sub = app.post(&domains, t, json!({"domain": "eu.acme.example"})).await;
    assert_eq!(sub.expect_status(201)["status"], "pending", "a subdomain is a domain of its own");

    // Each change is in the audit log.
    app.run_jobs().await;
    let log = app.get(&format!("/v1/accounts/{account}/audit-events"), t).await;
    let mut actions: Vec<&str> = log.expect_status(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .filter(|action| action.starts_with("domain."))
        .collect();
    actions.sort_unstable();
    assert_eq!(actions, ["domain.added", "domain.added", "domain.verified"]);

    app.delete(&format!("{domains}/{id}"), t).await.expect_status(204);
    app.get(&format!("{domains}/{id}"), t).await.expect_problem(404, "not_found");
}

async fn a_domain_verified_by_one_account_cannot_be_verified_by_another(app: TestApp) {
    let first = app.sign_up("first@acme.example").await;
    let second = app.sign_up("second@example.com").await;
    let (a, b) = (app.create_account(&first, "Acme").await, app.create_account(&second, "Impostor").await);
    let (ta, tb) = (Some(first.access_token.as_str()), Some(second.access_token.as_str()));

    // Both claim it; the second's record is published too.
    let mine = app.post(&format!("/v1/accounts/{a}/domains"), ta, json!({"domain": "acme.example"})).await;
    let theirs = app.post(&format!("/v1/accounts/{b}/domains"), tb, json!({"domain": "acme.example"})).await;
    let (mine, theirs) = (mine.expect_status(201).clone(), theirs.expect_status(201).clone());
    let (name, my_value) = record_of(&mine);
    let (_, their_value) = record_of(&theirs);
    assert_ne!(my_value, their_value, "each claim has its own token");
    app.dns.publish_txt(&name, vec![vec![my_value], vec![their_value]]);

    let verify = |account: &str, domain: &Value| {
        format!("/v1/accounts/{account}/domains/{}/verify", domain["id"].as_str().unwrap())
    };
    app.post(&verify(&a, &mine), ta, json!({})).await.expect_status(200);
    app.post(&verify(&b, &theirs), tb, json!({})).await.expect_problem(409, "domain_taken");
    app.post(&format!("/v1/accounts/{b}/domains"), tb, json!({"domain": "acme.example"}))
        .await
        .expect_problem(409, "domain_taken");
    let other = app.sign_up("third@example.com").await;
    let c = app.create_account(&other, "Third").await;
    app.post(
        &format!("/v1/accounts/{c}/domains"),
        Some(other.access_token.as_str()),
        json!({"domain": "acme.example"}),
    )
    .await
    .expect_problem(409, "domain_taken");

    // Another account's domain is not found from this one.
    let foreign = format!("/v1/accounts/{b}/domains/{}", mine["id"].as_str().unwrap());
    app.get(&foreign, tb).await.expect_problem(404, "not_found");
    app.delete(&foreign, tb).await.expect_problem(404, "not_found");
}

async fn bad_domains_are_refused_and_change_nothing(app: TestApp) {
    let owner = app.sign_up("owner@example.com").await;
    let account = app.create_account(&owner, "Acme").await;
    let t = Some(owner.access_token.as_str());
    let domains = format!("/v1/accounts/{account}/domains");
    for (domain, code) in [
        ("gmail.com", "public_email_domain"),
        ("proton.me", "public_email_domain"),
        ("not a domain", "invalid_domain"),
        ("localhost", "invalid_domain"),
        ("10.0.0.1", "invalid_domain"),
    ] {
        let refused = app.post(&domains, t, json!({"domain": domain})).await;
        assert_eq!(refused.expect_problem(422, "validation_failed").body["errors"][0]["code"], code, "{domain}");
    }
    app.post(&domains, t, json!({})).await.expect_problem(422, "validation_failed");
    assert_eq!(app.get(&domains, t).await.expect_status(200)["items"], json!([]));
    // An unknown domain is not found.
    let unknown = format!("{domains}/{}/verify", uuid::Uuid::now_v7());
    app.post(&unknown, t, json!({})).await.expect_problem(404, "not_found");
}

async fn a_verified_domain_whose_record_stays_missing_for_three_days_falls_back(app: TestApp) {
    let owner = app.sign_up("owner@acme.example").await;
    let account = app.create_account(&owner, "Acme").await;
    let t = Some(owner.access_token.as_str());
    let domains = format!("/v1/accounts/{account}/domains");
    let claimed = app.post(&domains, t, json!({"domain": "acme.example"})).await.expect_status(201).clone();
    let one = format!("{domains}/{}", claimed["id"].as_str().unwrap());
    let (name, value) = record_of(&claimed);
    app.dns.publish_txt(&name, vec![vec![value.clone()]]);
    app.post(&format!("{one}/verify"), t, json!({})).await.expect_status(200);

    // A day later the record is looked up again and still there.
    app.advance(chrono::Duration::hours(25)).await;
    let checked = read(&app, &one, t).await;
    assert_eq!((&checked["status"], &checked["record_missing_since"]), (&json!("verified"), &Value::Null));
    assert_ne!(checked["checked_at"], claimed["checked_at"], "looked up again");

    // Gone: still verified within the grace, then back in time: forgotten.
    app.dns.remove(&name);
    app.advance(chrono::Duration::hours(25)).await;
    let missing = read(&app, &one, t).await;
    assert_eq!(missing["status"], "verified");
    assert!(missing["record_missing_since"].is_string(), "{missing}");
    app.dns.publish_txt(&name, vec![vec![value.clone()]]);
    app.advance(chrono::Duration::hours(25)).await;
    assert_eq!(read(&app, &one, t).await["record_missing_since"], Value::Null);

    // Gone for three days: pending again, in the audit log by the system,
    // and the owner is told.
    app.dns.remove(&name);
    for _ in 0..4 {
        app.advance(chrono::Duration::hours(25)).await;
    }
    let lapsed = read(&app, &one, t).await;
    assert_eq!((&lapsed["status"], &lapsed["verified_at"]), (&json!("pending"), &Value::Null), "{lapsed}");
    let mail = app.emails_to("owner@acme.example", 2).await;
    let subjects: Vec<String> = mail.iter().filter_map(|m| m.header("subject")).collect();
    assert!(subjects.iter().any(|s| s == "acme.example is no longer verified"), "{subjects:?}");
    let log = app.get(&format!("/v1/accounts/{account}/audit-events"), t).await;
    let unverified: Vec<&Value> = log.expect_status(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "domain.unverified")
        .collect();
    assert_eq!(unverified.len(), 1, "{}", log.body);
    assert_eq!(unverified[0]["actor"]["type"], "system", "{}", unverified[0]);
}

async fn read(app: &TestApp, path: &str, token: Option<&str>) -> Value {
    app.get(path, token).await.expect_status(200).clone()
}

/// Claims `domain` for `account`, publishes its record on the test DNS
/// server and verifies it; the domain's id.
pub(crate) async fn verified_domain(
    app: &TestApp,
    owner: &integration_tests::SignedIn,
    account: &str,
    domain: &str,
) -> String {
    let t = Some(owner.access_token.as_str());
    let domains = format!("/v1/accounts/{account}/domains");
    let added = app.post(&domains, t, json!({"domain": domain})).await.expect_status(201).clone();
    let (name, value) = record_of(&added);
    app.dns.publish_txt(&name, vec![vec![value]]);
    let id = added["id"].as_str().unwrap().to_owned();
    let verified = app.post(&format!("{domains}/{id}/verify"), t, json!({})).await;
    assert_eq!(verified.expect_status(200)["status"], "verified");
    id
}
