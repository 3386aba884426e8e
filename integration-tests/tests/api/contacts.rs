//! The company's contacts: validated phone numbers (E.164), one primary
//! contact at most, and changes that name the version they were read at.

use integration_tests::{Reply, TestApp, on_both_backends};
use reqwest::Method;
use serde_json::json;

on_both_backends!(contacts_are_validated_and_change_only_from_the_version_read);

fn etag(reply: &Reply) -> String {
    reply.headers["etag"].to_str().unwrap().to_owned()
}

async fn contacts_are_validated_and_change_only_from_the_version_read(app: TestApp) {
    let owner = app.sign_up("owner@example.com").await;
    let account = app.create_account(&owner, "Acme").await;
    let token = owner.access_token.as_str();
    let t = Some(token);
    let contacts = format!("/v1/accounts/{account}/contacts");

    // Bad input is refused field by field and writes nothing.
    let bad = json!({"kind": "billing", "name": " ", "email": "not-an-email", "phone": "+1 555"});
    let refused = app.post(&contacts, t, bad).await;
    let fields: Vec<(&str, &str)> = refused.expect_problem(422, "validation_failed").body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["field"].as_str().unwrap(), e["code"].as_str().unwrap()))
        .collect();
    assert_eq!(fields, [("name", "required"), ("email", "invalid_format"), ("phone", "invalid_phone")]);
    app.post(&contacts, t, json!({"kind": "sales", "name": "X", "email": "x@example.com"}))
        .await
        .expect_problem(422, "validation_failed");
    for phone in ["030 901820", "+999 123456", "+49 30 9018201234567890123"] {
        let body = json!({"kind": "billing", "name": "Grace", "email": "grace@example.com", "phone": phone});
        app.post(&contacts, t, body).await.expect_problem(422, "validation_failed");
    }
    assert_eq!(app.get(&contacts, t).await.expect_status(200)["items"], json!([]));

    // Valid numbers are kept in E.164; the primary contact is unique.
    let billing =
        json!({"kind": "billing", "name": "Grace Hopper", "email": "Billing@Example.com", "phone": "+49 30 901820"});
    let created = app.post(&contacts, t, billing).await;
    let id = created.expect_status(201)["id"].as_str().unwrap().to_owned();
    assert_eq!(
        (&created.body["phone"], &created.body["email"]),
        (&json!("+4930901820"), &json!("billing@example.com"))
    );
    let first_tag = etag(&created);
    let primary = json!({"kind": "primary", "name": "Ada Lovelace", "email": "ada@example.com"});
    app.post(&contacts, t, primary.clone()).await.expect_status(201);
    app.post(&contacts, t, primary.clone()).await.expect_problem(409, "primary_contact_exists");

    // Changes name the version read: none → 428, stale → 412, and two
    // writers from one read: exactly one wins.
    let one = format!("{contacts}/{id}");
    let change =
        |name: &str| json!({"kind": "billing", "name": name, "email": "billing@example.com", "phone": "+14155552671"});
    app.request_if_match(Method::PUT, &one, token, None, Some(change("X")))
        .await
        .expect_problem(428, "precondition_required");
    let (a, b) = futures_util::future::join(
        app.request_if_match(Method::PUT, &one, token, Some(&first_tag), Some(change("Writer A"))),
        app.request_if_match(Method::PUT, &one, token, Some(&first_tag), Some(change("Writer B"))),
    )
    .await;
    let mut statuses = [a.status.as_u16(), b.status.as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 412], "one writer wins, the other sees it changed");
    let read = app.get(&one, t).await;
    let current = etag(&read);
    assert_ne!(current, first_tag);
    assert_eq!(read.body["phone"], "+14155552671");
    // Turning the billing contact into a second primary one is refused too.
    let to_primary = json!({"kind": "primary", "name": "Grace", "email": "billing@example.com"});
    app.request_if_match(Method::PUT, &one, token, Some(&current), Some(to_primary))
        .await
        .expect_problem(409, "primary_contact_exists");
    app.request_if_match(Method::DELETE, &one, token, Some(&first_tag), None)
        .await
        .expect_problem(412, "precondition_failed");
    app.request_if_match(Method::DELETE, &one, token, Some(&current), None).await.expect_status(204);
    app.get(&one, t).await.expect_problem(404, "not_found");

    // Reading needs settings:read: an analyst has none; an administrator does.
    let analyst = app.sign_up("analyst@example.com").await;
    app.add_member(&account, &analyst.id, &["analyst"]);
    app.get(&contacts, Some(&analyst.access_token)).await.expect_problem(403, "forbidden");
    let admin = app.sign_up("admin@example.com").await;
    app.add_member(&account, &admin.id, &["administrator"]);
    let listed = app.get(&contacts, Some(&admin.access_token)).await;
    assert_eq!(listed.expect_status(200)["items"].as_array().unwrap().len(), 1);
    // Another account sees nothing of these.
    let stranger = app.sign_up("stranger@example.com").await;
    app.get(&contacts, Some(&stranger.access_token)).await.expect_problem(404, "not_found");
}
