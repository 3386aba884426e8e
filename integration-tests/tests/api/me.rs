use integration_tests::{TestApp, on_both_backends};
use serde_json::json;

on_both_backends!(me_returns_the_signed_in_profile, me_updates_names_only, me_refuses_invalid_names_and_unknown_fields,);

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
