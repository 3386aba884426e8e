//! actix's own failure paths (router, extractors, body limits) must answer
//! in the same problem format as our handlers, and never with a 500.

use integration_tests::{Backend, TestApp, on_both_backends};
use reqwest::Method;
use serde_json::json;

on_both_backends!(
    malformed_json_is_400,
    wrong_content_type_is_415,
    unknown_routes_are_404_and_wrong_methods_405,
    oversized_bodies_are_413,
    missing_and_mistyped_fields_are_422_naming_the_field,
    error_bodies_never_leak_internals,
);

async fn malformed_json_is_400(app: TestApp) {
    for body in ["{", "{\"email\": }", "[1,2", "\u{0}"] {
        app.post_raw("/v1/auth/login", "application/json", body).await.expect_problem(400, "malformed_body");
    }
}

async fn wrong_content_type_is_415(app: TestApp) {
    let form = app.post_raw("/v1/auth/login", "application/x-www-form-urlencoded", "email=a&password=b").await;
    form.expect_problem(415, "unsupported_media_type");
    let none = app.client.post(app.url("/v1/auth/register")).body("{}").send().await.unwrap();
    TestApp::read(none).await.expect_problem(415, "unsupported_media_type");
    // A JSON subtype with a suffix is still JSON.
    let suffixed = app.post_raw("/v1/auth/login", "application/merge-patch+json", "{}").await;
    suffixed.expect_problem(422, "validation_failed");
}

async fn unknown_routes_are_404_and_wrong_methods_405(app: TestApp) {
    app.get("/v1/nothing-here", None).await.expect_problem(404, "route_not_found");
    app.get("/", None).await.expect_problem(404, "route_not_found");
    app.request(Method::PUT, "/v1/me", None, None).await.expect_problem(405, "method_not_allowed");
    app.request(Method::PUT, "/v1/auth/login", None, None).await.expect_problem(405, "method_not_allowed");
    app.get("/v1/auth/login", None).await.expect_problem(405, "method_not_allowed");
}

async fn oversized_bodies_are_413(app: TestApp) {
    let huge = json!({"email": "a@example.com", "password": "x".repeat(1_100_000)}).to_string();
    let reply = app.post_raw("/v1/auth/login", "application/json", huge).await;
    reply.expect_problem(413, "payload_too_large");
    assert!(reply.body["detail"].as_str().unwrap().contains("1048576"));

    let small = TestApp::spawn_with(Backend::Sqlite, |settings| settings.body_limit_bytes = 64).await.unwrap();
    let body = json!({"email": "someone@example.com", "password": "a password that is long"}).to_string();
    small.post_raw("/v1/auth/login", "application/json", body).await.expect_problem(413, "payload_too_large");
}

async fn missing_and_mistyped_fields_are_422_naming_the_field(app: TestApp) {
    let missing = app.post("/v1/auth/login", None, json!({"email": "a@example.com"})).await;
    let missing = missing.expect_problem(422, "validation_failed");
    assert_eq!(missing.body["errors"][0]["field"], "password");
    assert_eq!(missing.body["errors"][0]["code"], "required");
    let mistyped = app.post("/v1/auth/login", None, json!({"email": ["a"], "password": "x"})).await;
    assert_eq!(mistyped.expect_problem(422, "validation_failed").body["errors"][0]["field"], "email");
    let not_an_object = app.post("/v1/auth/login", None, json!("just a string")).await;
    not_an_object.expect_problem(422, "validation_failed");
    app.post("/v1/auth/refresh", None, json!({"refresh_token": null})).await.expect_problem(422, "validation_failed");
}

async fn error_bodies_never_leak_internals(app: TestApp) {
    let probes = [
        app.post_raw("/v1/auth/login", "application/json", "{").await,
        app.post("/v1/auth/login", None, json!({"email": 1, "password": 2})).await,
        app.get("/v1/accounts/%00", None).await,
        app.get("/v1/me", Some("x".repeat(5000).as_str())).await,
        app.post("/v1/auth/refresh", None, json!({"refresh_token": "'; DROP TABLE users; --"})).await,
    ];
    for reply in probes {
        assert!(reply.status.is_client_error(), "{} for {}", reply.status, reply.body);
        let text = reply.body.to_string().to_lowercase();
        for leak in ["diesel", "sqlite", "postgres", "panicked", "actix", "serde", "src/"] {
            assert!(!text.contains(leak), "{leak:?} leaked in {text}");
        }
    }
}
