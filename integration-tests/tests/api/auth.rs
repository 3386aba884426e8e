use integration_tests::{PASSWORD, TestApp, on_both_backends};
use jsonwebtoken::{Algorithm, DecodingKey, Validation, jwk::JwkSet};
use serde_json::{Value, json};

on_both_backends!(
    register_normalises_the_email_and_hides_the_password,
    registering_a_taken_address_answers_as_for_a_new_one_and_tells_its_owner,
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
    assert_eq!(reply.expect_status(202), &json!({"email": "grace.hopper@example.com"}));
    let login =
        app.post("/v1/auth/login", None, json!({"email": "GRACE.hopper@example.com", "password": PASSWORD})).await;
    let token = login.expect_status(200)["access_token"].as_str().unwrap().to_owned();
    let user = app.get("/v1/me", Some(&token)).await;
    let user = user.expect_status(200);
    assert_eq!(user["email"], "grace.hopper@example.com");
    assert_eq!(user["email_verified"], false);
    assert!(user.get("password").is_none() && user.get("password_hash").is_none());
}

async fn registering_a_taken_address_answers_as_for_a_new_one_and_tells_its_owner(app: TestApp) {
    let attempt = |email: &str, password: &str, first_name: &str| json!({"email": email, "password": password, "first_name": first_name, "last_name": "Lovelace"});
    let new = app.post("/v1/auth/register", None, attempt("ada@example.com", PASSWORD, "Ada")).await;
    let taken = app.post("/v1/auth/register", None, attempt("ADA@example.com", "an intruder's password", "Eve")).await;
    assert_eq!((new.status, &new.body), (taken.status, &taken.body));
    assert_eq!(taken.status, 202);
    assert_eq!(taken.headers.get("content-type"), new.headers.get("content-type"));

    // The owner learns of it; nothing of theirs changed.
    let mail = app.emails_to("ada@example.com", 2).await;
    assert_eq!(mail.len(), 2, "a verification link, then the notice");
    assert!(mail[0].decoded().contains("Confirm that this is your email address"));
    assert!(mail[1].decoded().contains("Someone tried to create an account on Roster with this email address"));
    assert!(mail[1].link_parameter("token").is_none(), "the notice carries no link to act on");
    let intruder = json!({"email": "ada@example.com", "password": "an intruder's password"});
    app.post("/v1/auth/login", None, intruder).await.expect_problem(401, "invalid_credentials");
    let owner = app.post("/v1/auth/login", None, json!({"email": "ada@example.com", "password": PASSWORD})).await;
    let token = owner.expect_status(200)["access_token"].as_str().unwrap().to_owned();
    assert_eq!(app.get("/v1/me", Some(&token)).await.expect_status(200)["first_name"], "Ada");
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
    app.post("/v1/auth/register", None, attempt("1234567890")).await.expect_status(202);
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
