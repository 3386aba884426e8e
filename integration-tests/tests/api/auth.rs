use integration_tests::{PASSWORD, TestApp, on_both_backends};
use jsonwebtoken::{Algorithm, DecodingKey, Validation, jwk::JwkSet};
use serde_json::{Value, json};

on_both_backends!(
    register_normalises_the_email_and_hides_the_password,
    register_refuses_an_existing_email_in_any_case,
    register_reports_every_invalid_field,
    register_enforces_the_password_policy,
    login_issues_tokens_verifiable_with_the_published_keys,
    wrong_password_and_unknown_email_are_indistinguishable,
    refresh_rotates_and_reuse_revokes_the_family,
    logout_revokes_the_session,
    bad_access_tokens_are_refused,
);

async fn register_normalises_the_email_and_hides_the_password(app: TestApp) {
    let reply = app.register("  Grace.Hopper@Example.COM ").await;
    let user = reply.expect_status(201);
    assert_eq!(user["email"], "grace.hopper@example.com");
    assert_eq!(user["email_verified"], false);
    assert!(user.get("password").is_none() && user.get("password_hash").is_none());
    let login =
        app.post("/v1/auth/login", None, json!({"email": "GRACE.hopper@example.com", "password": PASSWORD})).await;
    login.expect_status(200);
}

async fn register_refuses_an_existing_email_in_any_case(app: TestApp) {
    app.register("ada@example.com").await.expect_status(201);
    app.register("ADA@example.com").await.expect_problem(409, "email_taken");
}

async fn register_reports_every_invalid_field(app: TestApp) {
    let reply = app
        .post(
            "/v1/auth/register",
            None,
            json!({"email": "not-an-email", "password": "short", "first_name": " ", "last_name": "x".repeat(101)}),
        )
        .await;
    reply.expect_problem(422, "validation_failed");
    let fields: Vec<&str> =
        reply.body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["email", "password", "first_name", "last_name"]);
}

async fn register_enforces_the_password_policy(app: TestApp) {
    let attempt = |password: &str| json!({"email": "ada@example.com", "password": password, "first_name": "Ada", "last_name": "Lovelace"});
    let short = app.post("/v1/auth/register", None, attempt("123456789")).await;
    short.expect_problem(422, "validation_failed");
    assert_eq!(short.body["errors"][0]["code"], "too_short");
    let equals_email = app.post("/v1/auth/register", None, attempt("Ada@Example.com")).await;
    assert_eq!(equals_email.expect_problem(422, "validation_failed").body["errors"][0]["code"], "equals_email");
    app.post("/v1/auth/register", None, attempt("1234567890")).await.expect_status(201);
}

async fn login_issues_tokens_verifiable_with_the_published_keys(app: TestApp) {
    let user = app.sign_up("ada@example.com").await;
    let jwks: JwkSet =
        serde_json::from_value(app.get("/.well-known/jwks.json", None).await.expect_status(200).clone()).unwrap();
    let header = jsonwebtoken::decode_header(&user.access_token).unwrap();
    assert_eq!(header.alg, Algorithm::EdDSA);
    let jwk = jwks.find(header.kid.as_deref().expect("a kid")).expect("the kid is published");
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.set_issuer(&["http://127.0.0.1:8080"]);
    validation.set_audience(&["roster"]);
    let claims = jsonwebtoken::decode::<Value>(&user.access_token, &DecodingKey::from_jwk(jwk).unwrap(), &validation)
        .unwrap()
        .claims;
    assert_eq!(claims["sub"], user.id.as_str());
    let lifetime = claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap();
    assert_eq!(lifetime, 900, "access tokens live 15 minutes by default");
    let reply = app.post("/v1/auth/login", None, json!({"email": "ada@example.com", "password": PASSWORD})).await;
    assert_eq!(reply.body["token_type"], "Bearer");
    assert_eq!(reply.body["expires_in"], 900);
}

async fn wrong_password_and_unknown_email_are_indistinguishable(app: TestApp) {
    app.sign_up("ada@example.com").await;
    let wrong_password = json!({"email": "ada@example.com", "password": "not the password"});
    let unknown_email = json!({"email": "nobody@example.com", "password": "not the password"});
    let first = app.post("/v1/auth/login", None, wrong_password.clone()).await;
    let second = app.post("/v1/auth/login", None, unknown_email.clone()).await;
    first.expect_problem(401, "invalid_credentials");
    second.expect_problem(401, "invalid_credentials");
    assert_eq!(first.body, second.body);
}

async fn refresh_rotates_and_reuse_revokes_the_family(app: TestApp) {
    let user = app.sign_up("ada@example.com").await;
    let first = app.post("/v1/auth/refresh", None, json!({"refresh_token": user.refresh_token})).await;
    let rotated = first.expect_status(200)["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(rotated, user.refresh_token);
    app.get("/v1/me", Some(first.body["access_token"].as_str().unwrap())).await.expect_status(200);

    // The spent token comes back: someone copied it. Both it and its
    // successor stop working.
    app.post("/v1/auth/refresh", None, json!({"refresh_token": user.refresh_token}))
        .await
        .expect_problem(401, "invalid_refresh_token");
    app.post("/v1/auth/refresh", None, json!({"refresh_token": rotated}))
        .await
        .expect_problem(401, "invalid_refresh_token");

    // Another sign-in is another family and is unaffected.
    let again = app.post("/v1/auth/login", None, json!({"email": user.email, "password": PASSWORD})).await;
    let other = again.expect_status(200)["refresh_token"].as_str().unwrap().to_owned();
    app.post("/v1/auth/refresh", None, json!({"refresh_token": other})).await.expect_status(200);
    app.post("/v1/auth/refresh", None, json!({"refresh_token": "made-up"}))
        .await
        .expect_problem(401, "invalid_refresh_token");
}

async fn logout_revokes_the_session(app: TestApp) {
    let user = app.sign_up("ada@example.com").await;
    app.post("/v1/auth/logout", None, json!({"refresh_token": user.refresh_token})).await.expect_status(204);
    app.post("/v1/auth/refresh", None, json!({"refresh_token": user.refresh_token}))
        .await
        .expect_problem(401, "invalid_refresh_token");
    app.post("/v1/auth/logout", None, json!({"refresh_token": user.refresh_token})).await.expect_status(204);
}

async fn bad_access_tokens_are_refused(app: TestApp) {
    let user = app.sign_up("ada@example.com").await;
    let missing = app.get("/v1/me", None).await;
    missing.expect_problem(401, "unauthenticated");
    assert_eq!(missing.headers["www-authenticate"], "Bearer");
    let mut tampered = user.access_token.clone();
    tampered.insert(tampered.len() - 5, 'x');
    for token in ["garbage", "a.b.c", tampered.as_str(), user.refresh_token.as_str()] {
        app.get("/v1/me", Some(token)).await.expect_problem(401, "unauthenticated");
    }
    let basic = app.client.get(app.url("/v1/me")).header("authorization", "Basic YWRhOnB3").send().await.unwrap();
    TestApp::read(basic).await.expect_problem(401, "unauthenticated");
}
