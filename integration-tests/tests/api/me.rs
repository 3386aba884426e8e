use diesel::prelude::*;
use integration_tests::{TestApp, on_both_backends};
use reqwest::Method;
use serde_json::json;

on_both_backends!(
    me_returns_the_signed_in_profile,
    me_updates_names_only,
    me_refuses_invalid_names_and_unknown_fields,
    a_token_outliving_its_user_is_refused_everywhere,
);

async fn me_returns_the_signed_in_profile(app: TestApp) {
    let user = app.sign_up("ada@example.com").await;
    let me = app.get("/v1/me", Some(&user.access_token)).await;
    let me = me.expect_status(200);
    assert_eq!(me["id"], user.id.as_str());
    assert_eq!(me["email"], "ada@example.com");
    assert_eq!(me["first_name"], "Ada");
}

async fn me_updates_names_only(app: TestApp) {
    let user = app.sign_up("ada@example.com").await;
    let updated = app.patch("/v1/me", Some(&user.access_token), json!({"first_name": "  Augusta Ada "})).await;
    let updated = updated.expect_status(200);
    assert_eq!(updated["first_name"], "Augusta Ada");
    assert_eq!(updated["last_name"], "Lovelace");
    let again = app.get("/v1/me", Some(&user.access_token)).await;
    assert_eq!(again.body["first_name"], "Augusta Ada");
    assert!(again.body["updated_at"].as_str() >= again.body["created_at"].as_str());
}

async fn me_refuses_invalid_names_and_unknown_fields(app: TestApp) {
    let user = app.sign_up("ada@example.com").await;
    let token = Some(user.access_token.as_str());
    let blank = app.patch("/v1/me", token, json!({"first_name": "   "})).await;
    assert_eq!(blank.expect_problem(422, "validation_failed").body["errors"][0]["field"], "first_name");
    let email = app.patch("/v1/me", token, json!({"email": "eve@example.com"})).await;
    assert_eq!(email.expect_problem(422, "validation_failed").body["errors"][0]["code"], "unknown_field");
    let wrong_type = app.patch("/v1/me", token, json!({"last_name": 42})).await;
    assert_eq!(wrong_type.expect_problem(422, "validation_failed").body["errors"][0]["field"], "last_name");
    app.patch("/v1/me", None, json!({"first_name": "Eve"})).await.expect_problem(401, "unauthenticated");
    assert_eq!(app.get("/v1/me", token).await.body["email"], "ada@example.com");
}

async fn a_token_outliving_its_user_is_refused_everywhere(app: TestApp) {
    let user = app.sign_up("ada@example.com").await;
    let account = app.create_account(&user, "Acme").await;
    let token = Some(user.access_token.as_str());
    let session = app.get("/v1/me/sessions", token).await.expect_status(200)["items"][0]["id"].clone();
    let session = session.as_str().unwrap().to_owned();
    let id = persistence::ids::to_db(uuid::Uuid::parse_str(&user.id).unwrap());
    let every_me_endpoint = [
        (Method::GET, "/v1/me".to_owned(), None),
        (Method::PATCH, "/v1/me".to_owned(), Some(json!({"first_name": "Eve"}))),
        (Method::GET, "/v1/me/accounts".to_owned(), None),
        (Method::GET, "/v1/me/sessions".to_owned(), None),
        (Method::DELETE, "/v1/me/sessions".to_owned(), None),
        (Method::DELETE, format!("/v1/me/sessions/{session}"), None),
        (Method::GET, "/v1/me/invitations".to_owned(), None),
        (Method::GET, "/v1/me/join-requests".to_owned(), None),
        (Method::GET, format!("/v1/me/accounts/{account}/notification-preferences"), None),
        (
            Method::POST,
            "/v1/me/email".to_owned(),
            Some(json!({"email": "eve@example.com", "current_password": integration_tests::PASSWORD})),
        ),
        (
            Method::POST,
            "/v1/me/password".to_owned(),
            Some(json!({"current_password": integration_tests::PASSWORD, "new_password": "a new long password"})),
        ),
    ];
    for (method, path, body) in &every_me_endpoint[..1] {
        app.request(method.clone(), path, token, body.clone()).await.expect_status(200);
    }
    let deleted = diesel::delete(persistence::schema::users::table.find(id)).execute(&mut *app.db()).unwrap();
    assert_eq!(deleted, 1);
    let mut answered = Vec::new();
    for (method, path, body) in every_me_endpoint {
        let reply = app.request(method.clone(), &path, token, body).await;
        if reply.status != 401 {
            answered.push(format!("{method} {path}: {} {}", reply.status, reply.body));
        }
    }
    assert!(answered.is_empty(), "answered for a deleted user: {answered:#?}");
}
