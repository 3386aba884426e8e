//! What browsers need: CORS for frontends on other origins, headers that
//! keep tokens out of caches, and answers that follow HTTP's rules (405 with
//! `Allow`, authentication before other header checks).

use integration_tests::{Backend, TestApp, for_both_backends, on_both_backends};
use reqwest::Method;
use serde_json::json;

on_both_backends!(
    unlisted_origins_get_no_cors_headers,
    the_public_urls_own_origin_needs_no_listing,
    every_response_carries_the_security_headers,
    unsupported_methods_are_405_with_allow,
    authentication_comes_before_the_idempotency_key,
);

for_both_backends!(
    a_listed_origin_passes_preflight_and_reads_every_answer,
    a_star_opens_the_api_to_any_page,
    hsts_is_sent_when_the_public_url_is_https
);

const FRONTEND: &str = "https://app.example.com";

async fn preflight(app: &TestApp, path: &str, origin: &str, method: &str, headers: &str) -> integration_tests::Reply {
    let response = app
        .client
        .request(Method::OPTIONS, app.url(path))
        .header("origin", origin)
        .header("access-control-request-method", method)
        .header("access-control-request-headers", headers)
        .send()
        .await
        .unwrap();
    TestApp::read(response).await
}

fn header<'a>(reply: &'a integration_tests::Reply, name: &str) -> Option<&'a str> {
    reply.headers.get(name).and_then(|value| value.to_str().ok())
}

async fn a_listed_origin_passes_preflight_and_reads_every_answer(backend: Backend) {
    let Some(app) =
        TestApp::spawn_with(backend, |settings| settings.cors_allowed_origins = vec![FRONTEND.to_owned()]).await
    else {
        return;
    };
    let reply = preflight(&app, "/v1/auth/login", FRONTEND, "POST", "content-type").await;
    reply.expect_status(200);
    assert_eq!(header(&reply, "access-control-allow-origin"), Some(FRONTEND));
    assert_eq!(header(&reply, "access-control-max-age"), Some("3600"));
    assert!(header(&reply, "access-control-allow-methods").is_some_and(|m| m.contains("POST")));
    assert_eq!(header(&reply, "access-control-allow-credentials"), None, "bearer tokens, never cookies");

    // Every route answers its preflight, parameters and all.
    let owner = app.sign_up("owner@example.com").await;
    let account = app.create_account(&owner, "Acme").await;
    let members = format!("/v1/accounts/{account}/members/{}/roles", owner.id);
    let reply =
        preflight(&app, &members, FRONTEND, "PUT", "authorization, content-type, if-match, idempotency-key").await;
    reply.expect_status(200);
    assert_eq!(header(&reply, "access-control-allow-origin"), Some(FRONTEND));

    // The page can read answers, errors included, and the headers it needs.
    let wrong = app
        .client
        .post(app.url("/v1/auth/login"))
        .header("origin", FRONTEND)
        .json(&json!({"email": owner.email, "password": "not the password"}))
        .send()
        .await
        .unwrap();
    let wrong = TestApp::read(wrong).await;
    wrong.expect_problem(401, "invalid_credentials");
    assert_eq!(header(&wrong, "access-control-allow-origin"), Some(FRONTEND));
    let exposed = header(&wrong, "access-control-expose-headers").unwrap_or_default().to_ascii_lowercase();
    for name in ["etag", "location", "retry-after", "ratelimit", "ratelimit-policy", "x-request-id"] {
        assert!(exposed.contains(name), "{name} is not exposed: {exposed}");
    }
    let missing = app.client.get(app.url("/v1/no-such-route")).header("origin", FRONTEND).send().await.unwrap();
    let missing = TestApp::read(missing).await;
    missing.expect_problem(404, "route_not_found");
    assert_eq!(header(&missing, "access-control-allow-origin"), Some(FRONTEND));
}

async fn unlisted_origins_get_no_cors_headers(app: TestApp) {
    let reply = preflight(&app, "/v1/auth/login", "https://evil.example", "POST", "content-type").await;
    assert_eq!(reply.status, 400, "a preflight from an unlisted origin is refused");
    assert_eq!(header(&reply, "content-type"), Some("application/problem+json"));
    assert_eq!(header(&reply, "access-control-allow-origin"), None);
    // The request itself (as a non-browser client may send it) is served,
    // without the header a browser would need to hand the answer to a page.
    let served = app.client.get(app.url("/healthz")).header("origin", "https://evil.example").send().await.unwrap();
    assert_eq!(served.status(), 200);
    assert!(served.headers().get("access-control-allow-origin").is_none());
}

async fn the_public_urls_own_origin_needs_no_listing(app: TestApp) {
    let own = app.settings.public_url.trim_end_matches('/').to_owned();
    let reply = preflight(&app, "/v1/auth/login", &own, "POST", "content-type").await;
    reply.expect_status(200);
    assert_eq!(header(&reply, "access-control-allow-origin"), Some(own.as_str()));
}

async fn a_star_opens_the_api_to_any_page(backend: Backend) {
    let Some(open) = TestApp::spawn_with(backend, |settings| settings.cors_allowed_origins = vec!["*".into()]).await
    else {
        return;
    };
    let reply = preflight(&open, "/v1/auth/login", "https://anywhere.example", "POST", "content-type").await;
    reply.expect_status(200);
    assert_eq!(header(&reply, "access-control-allow-origin"), Some("*"));
}

async fn every_response_carries_the_security_headers(app: TestApp) {
    let user = app.sign_up("ada@example.com").await;
    let login =
        app.post("/v1/auth/login", None, json!({"email": user.email, "password": integration_tests::PASSWORD})).await;
    login.expect_status(200);
    let failed = app.get("/v1/me", None).await;
    failed.expect_problem(401, "unauthenticated");
    for reply in [&login, &failed, &app.get("/healthz", None).await] {
        assert_eq!(header(reply, "cache-control"), Some("no-store"), "tokens must not be cached");
        assert_eq!(header(reply, "x-content-type-options"), Some("nosniff"));
        assert_eq!(header(reply, "referrer-policy"), Some("no-referrer"));
        assert_eq!(header(reply, "x-frame-options"), Some("DENY"));
        assert_eq!(header(reply, "content-security-policy"), Some("default-src 'none'; frame-ancestors 'none'"));
        assert_eq!(header(reply, "strict-transport-security"), None, "the public URL is http here");
    }
}

async fn hsts_is_sent_when_the_public_url_is_https(backend: Backend) {
    let Some(secure) =
        TestApp::spawn_with(backend, |settings| settings.public_url = "https://roster.example.com".into()).await
    else {
        return;
    };
    let reply = secure.get("/healthz", None).await;
    assert_eq!(header(&reply, "strict-transport-security"), Some("max-age=31536000; includeSubDomains"));
}

async fn unsupported_methods_are_405_with_allow(app: TestApp) {
    let reply = app.request(Method::PUT, "/v1/auth/login", None, Some(json!({}))).await;
    reply.expect_problem(405, "method_not_allowed");
    assert_eq!(header(&reply, "allow"), Some("POST"));
    let reply = app.request(Method::PUT, "/v1/me", None, None).await;
    reply.expect_problem(405, "method_not_allowed");
    assert_eq!(header(&reply, "allow"), Some("GET, DELETE, PATCH"));
    let path = "/v1/accounts/0193a3b1-0000-7000-8000-000000000000/groups/0193a3b1-0000-7000-8000-000000000001";
    let reply = app.request(Method::POST, path, None, Some(json!({}))).await;
    reply.expect_problem(405, "method_not_allowed");
    assert_eq!(header(&reply, "allow"), Some("GET, DELETE, PATCH"));
    app.get("/v1/no-such-route", None).await.expect_problem(404, "route_not_found");
}

async fn authentication_comes_before_the_idempotency_key(app: TestApp) {
    let post_with_key = |token: Option<String>| {
        let mut request = app
            .client
            .post(app.url("/v1/accounts"))
            .header("idempotency-key", "has spaces")
            .json(&json!({"name": "Acme"}));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        async move { TestApp::read(request.send().await.unwrap()).await }
    };
    post_with_key(None).await.expect_problem(401, "unauthenticated");
    let user = app.sign_up("ada@example.com").await;
    post_with_key(Some(user.access_token)).await.expect_problem(422, "validation_failed");
}
