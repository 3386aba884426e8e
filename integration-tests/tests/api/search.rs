//! Member search (`q`): any part of an email or a name, case-insensitive,
//! wildcards literal; the same answers whether an index serves it (three
//! characters or more: pg_trgm on PostgreSQL, FTS5 trigram on SQLite) or a
//! scan does, and the index follows renames.

use integration_tests::{TestApp, on_both_backends};
use serde_json::json;

on_both_backends!(members_are_found_by_any_part_of_their_email_or_names);

async fn emails(app: &TestApp, list: &str, q: &str, token: &str) -> Vec<String> {
    let found = app.get(&format!("{list}?q={q}"), Some(token)).await;
    found.expect_status(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["email"].as_str().unwrap().to_owned())
        .collect()
}

async fn members_are_found_by_any_part_of_their_email_or_names(app: TestApp) {
    let owner = app.sign_up("owner@example.com").await;
    let account = app.create_account(&owner, "Acme").await;
    let grace = app.sign_up("grace.hopper@navy.example").await;
    let alan = app.sign_up("alan@bletchley.example").await;
    app.add_member(&account, &grace.id, &["administrator"]);
    app.add_member(&account, &alan.id, &[]);
    let me = |who: &integration_tests::SignedIn, first: &str, last: &str| {
        let (app, token) = (&app, who.access_token.clone());
        let body = json!({"first_name": first, "last_name": last});
        async move {
            app.patch("/v1/me", Some(&token), body).await.expect_status(200);
        }
    };
    me(&grace, "Grace", "Hopper").await;
    me(&alan, "Alan", "Turing").await;
    let (list, t) = (format!("/v1/accounts/{account}/members"), owner.access_token.as_str());

    assert_eq!(emails(&app, &list, "HOPPER", t).await, ["grace.hopper@navy.example"]);
    assert_eq!(emails(&app, &list, "uring", t).await, ["alan@bletchley.example"]);
    assert_eq!(emails(&app, &list, "letchley.ex", t).await, ["alan@bletchley.example"]);
    assert_eq!(emails(&app, &list, "ur", t).await, ["alan@bletchley.example"], "shorter than a trigram: a scan");
    assert_eq!(emails(&app, &list, ".example", t).await.len(), 2);
    for nothing in ["%25", "_", "a%22b", "%22%22%22", "zqxj"] {
        assert!(emails(&app, &list, nothing, t).await.is_empty(), "{nothing} found someone");
    }
    // Escapes that are not UTF-8 are refused, not decoded into something
    // nobody typed; an escaped multi-byte character is fine.
    for undecodable in ["%C0%AF%FF", "hop%FFper", "%E2%82"] {
        let refused = app.get(&format!("{list}?q={undecodable}"), Some(t)).await;
        refused.expect_problem(400, "invalid_query");
    }
    assert!(emails(&app, &list, "%E2%82%AC", t).await.is_empty());
    // Someone outside the account is not found, however well they match.
    let outsider = app.sign_up("hopper.fan@example.com").await;
    assert_eq!(emails(&app, &list, "hopper", t).await, ["grace.hopper@navy.example"]);
    drop(outsider);

    // A rename is found under the new name only.
    me(&grace, "Grace", "Brewster").await;
    assert_eq!(emails(&app, &list, "brewster", t).await, ["grace.hopper@navy.example"]);
    assert!(
        emails(&app, &list, "Hopper", t).await.contains(&"grace.hopper@navy.example".to_owned()),
        "still in the email"
    );
    me(&alan, "Alan", "M").await;
    assert!(emails(&app, &list, "turing", t).await.is_empty());
}
