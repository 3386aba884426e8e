//! The company's addresses: real countries, bounded postal fields, one
//! default per kind, and changes from the version read.

use integration_tests::{Reply, TestApp, on_both_backends};
use reqwest::Method;
use serde_json::json;

on_both_backends!(addresses_are_validated_with_one_default_per_kind);

fn etag(reply: &Reply) -> String {
    reply.headers["etag"].to_str().unwrap().to_owned()
}

async fn addresses_are_validated_with_one_default_per_kind(app: TestApp) {
    let owner = app.sign_up("owner@example.com").await;
    let account = app.create_account(&owner, "Acme").await;
    let token = owner.access_token.as_str();
    let t = Some(token);
    let addresses = format!("/v1/accounts/{account}/addresses");

    let bad = json!({"kind": "billing", "lines": [], "city": "Berlin", "postal_code": "1", "country": "XX"});
    let refused = app.post(&addresses, t, bad).await;
    let fields: Vec<(&str, &str)> = refused.expect_problem(422, "validation_failed").body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["field"].as_str().unwrap(), e["code"].as_str().unwrap()))
        .collect();
    assert_eq!(
        fields,
        [("lines", "invalid_lines"), ("postal_code", "invalid_postal_code"), ("country", "unknown_country")]
    );
    let bad_line =
        json!({"kind": "billing", "lines": ["a\u{7}b"], "city": "Berlin", "postal_code": "10117", "country": "DE"});
    app.post(&addresses, t, bad_line).await.expect_problem(422, "validation_failed");
    assert_eq!(app.get(&addresses, t).await.expect_status(200)["items"], json!([]));

    // Codes as the standard and the contract's enum write them, nothing
    // the schema refuses: no lower case, no padding.
    for (field, value, code) in [("country", "de", "unknown_country"), ("postal_code", " 10117", "invalid_postal_code")]
    {
        let mut loose = json!({"kind": "billing", "lines": ["Unter den Linden 1"], "city": "Berlin", "postal_code": "10117", "country": "DE"});
        loose[field] = json!(value);
        let refused = app.post(&addresses, t, loose).await;
        assert_eq!(refused.expect_problem(422, "validation_failed").body["errors"][0]["code"], code);
    }
    let berlin = json!({"kind": "billing", "lines": ["Unter den Linden 1"], "city": "Berlin", "postal_code": "10117", "country": "DE", "is_default": true});
    let first = app.post(&addresses, t, berlin).await;
    assert_eq!((&first.expect_status(201)["country"], &first.body["is_default"]), (&json!("DE"), &json!(true)));
    let first_id = first.body["id"].as_str().unwrap().to_owned();
    let london = json!({"kind": "billing", "lines": ["10 Downing St"], "city": "London", "postal_code": "sw1a 2aa", "country": "GB", "is_default": true});
    let second = app.post(&addresses, t, london).await;
    assert_eq!(second.expect_status(201)["postal_code"], "SW1A 2AA");
    // The new default took it from the first; a shipping default is apart.
    let listed = app.get(&addresses, t).await;
    let defaults: Vec<(&str, bool)> = listed.expect_status(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["city"].as_str().unwrap(), a["is_default"].as_bool().unwrap()))
        .collect();
    assert_eq!(defaults, [("Berlin", false), ("London", true)]);

    // Changes from the version read only.
    let one = format!("{addresses}/{first_id}");
    let read = app.get(&one, t).await;
    let tag = etag(&read);
    let moved = json!({"kind": "shipping", "lines": ["Friedrichstr. 2", "Hof 3"], "city": "Berlin", "postal_code": "10117", "country": "DE", "is_default": true});
    app.request_if_match(Method::PUT, &one, token, None, Some(moved.clone()))
        .await
        .expect_problem(428, "precondition_required");
    let (a, b) = futures_util::future::join(
        app.request_if_match(Method::PUT, &one, token, Some(&tag), Some(moved.clone())),
        app.request_if_match(Method::PUT, &one, token, Some(&tag), Some(moved)),
    )
    .await;
    let mut statuses = [a.status.as_u16(), b.status.as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 412]);
    let now = app.get(&one, t).await;
    assert_eq!((&now.body["kind"], &now.body["lines"][1]), (&json!("shipping"), &json!("Hof 3")));
    app.request_if_match(Method::DELETE, &one, token, Some(&tag), None)
        .await
        .expect_problem(412, "precondition_failed");
    app.request_if_match(Method::DELETE, &one, token, Some(&etag(&now)), None).await.expect_status(204);
    assert_eq!(app.get(&addresses, t).await.expect_status(200)["items"].as_array().unwrap().len(), 1);
}
