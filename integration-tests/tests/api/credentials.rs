//! Sessions, password change and reset, email change: over HTTP, with the
//! emails read from the real SMTP receiver.

use integration_tests::{Backend, PASSWORD, Reply, SignedIn, TestApp, for_both_backends, on_both_backends};
use serde_json::json;

on_both_backends!(
    sessions_are_listed_with_their_origin_and_can_be_ended,
    changing_the_password_needs_the_old_one_and_ends_other_sessions,
    a_reset_link_works_once_for_an_hour_and_ends_every_session,
    unknown_addresses_get_the_same_reset_answer,
    a_new_email_address_counts_once_confirmed_from_it,
    moving_to_a_taken_address_answers_as_for_a_free_one_and_tells_its_owner,
);

for_both_backends!(a_reset_forgives_failed_sign_ins);

const NEW_PASSWORD: &str = "battery staple horse correct";

async fn login_as(app: &TestApp, email: &str, password: &str, agent: &str) -> Reply {
    let request = app
        .client
        .post(app.url("/v1/auth/login"))
        .header("user-agent", agent)
        .json(&json!({"email": email, "password": password}));
    TestApp::read(request.send().await.unwrap()).await
}

async fn refresh(app: &TestApp, refresh_token: &str) -> Reply {
    app.post("/v1/auth/refresh", None, json!({"refresh_token": refresh_token})).await
}

fn tokens(reply: &Reply) -> (String, String) {
    let body = reply.expect_status(200);
    (body["access_token"].as_str().unwrap().to_owned(), body["refresh_token"].as_str().unwrap().to_owned())
}

async fn sessions_are_listed_with_their_origin_and_can_be_ended(app: TestApp) {
    let ada = app.sign_up("ada@example.com").await;
    let (_, laptop_refresh) = tokens(&login_as(&app, &ada.email, PASSWORD, "Firefox on the laptop").await);
    let t = Some(ada.access_token.as_str());

    let listed = app.get("/v1/me/sessions", t).await;
    let items = listed.expect_status(200)["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 2);
    let (laptop, here) = (&items[0], &items[1]);
    assert_eq!(laptop["user_agent"], "Firefox on the laptop", "newest first");
    assert_eq!(laptop["client_ip"], "127.0.0.1");
    assert_eq!((laptop["current"].as_bool(), here["current"].as_bool()), (Some(false), Some(true)));

    // Nobody else can end it, not even knowing its id.
    let grace = app.sign_up("grace@example.com").await;
    let laptop_path = format!("/v1/me/sessions/{}", laptop["id"].as_str().unwrap());
    app.delete(&laptop_path, Some(&grace.access_token)).await.expect_problem(404, "not_found");
    refresh(&app, &laptop_refresh).await.expect_status(200);

    let (_, phone_refresh) = tokens(&login_as(&app, &ada.email, PASSWORD, "the phone").await);
    let listed = app.get("/v1/me/sessions", t).await;
    let phone_path = format!("/v1/me/sessions/{}", listed.body["items"][0]["id"].as_str().unwrap());
    app.delete(&phone_path, t).await.expect_status(204);
    refresh(&app, &phone_refresh).await.expect_problem(401, "invalid_refresh_token");
    app.delete(&phone_path, t).await.expect_problem(404, "not_found");

    // Ending the others keeps this one.
    app.delete("/v1/me/sessions", t).await.expect_status(204);
    let listed = app.get("/v1/me/sessions", t).await;
    let items = listed.expect_status(200)["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["current"], true);
    refresh(&app, &ada.refresh_token).await.expect_status(200);
}

async fn changing_the_password_needs_the_old_one_and_ends_other_sessions(app: TestApp) {
    let ada = app.sign_up("ada@example.com").await;
    let (_, other_refresh) = tokens(&login_as(&app, &ada.email, PASSWORD, "elsewhere").await);
    let t = Some(ada.access_token.as_str());
    let wrong = json!({"current_password": "not my password", "new_password": NEW_PASSWORD});
    app.post("/v1/me/password", t, wrong).await.expect_problem(403, "current_password_incorrect");
    let weak = json!({"current_password": PASSWORD, "new_password": "short"});
    let refused = app.post("/v1/me/password", t, weak).await;
    assert_eq!(refused.expect_problem(422, "validation_failed").body["errors"][0]["field"], "new_password");
    login_as(&app, &ada.email, PASSWORD, "test").await.expect_status(200);

    let change = json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD});
    app.post("/v1/me/password", t, change).await.expect_status(204);
    login_as(&app, &ada.email, PASSWORD, "test").await.expect_problem(401, "invalid_credentials");
    login_as(&app, &ada.email, NEW_PASSWORD, "test").await.expect_status(200);
    refresh(&app, &other_refresh).await.expect_problem(401, "invalid_refresh_token");
    refresh(&app, &ada.refresh_token).await.expect_status(200);
    let notice = app.emails_to(&ada.email, 2).await;
    assert!(notice.iter().any(|mail| mail.header("subject").unwrap_or_default().contains("password was changed")));
}

/// Asks for a reset link for `email` and returns its token.
async fn reset_link(app: &TestApp, email: &str) -> String {
    let before = app.emails_to(email, 0).await.len();
    app.post("/v1/auth/password-reset", None, json!({"email": email})).await.expect_status(202);
    let mail = app.emails_to(email, before + 1).await;
    let reset = mail.iter().rev().find(|m| m.header("subject").unwrap_or_default().contains("Reset"));
    reset.expect("a reset email").link_parameter("token").expect("a token in the link")
}

async fn a_reset_link_works_once_for_an_hour_and_ends_every_session(app: TestApp) {
    let ada = app.sign_up("ada@example.com").await;
    // The registration's verification email is the first.
    let token = reset_link(&app, &ada.email).await;
    let weak =
        app.post("/v1/auth/password-reset/confirm", None, json!({"token": token, "new_password": ada.email})).await;
    assert_eq!(weak.expect_problem(422, "validation_failed").body["errors"][0]["field"], "new_password");
    let confirm = json!({"token": token, "new_password": NEW_PASSWORD});
    app.post("/v1/auth/password-reset/confirm", None, confirm.clone()).await.expect_status(204);
    app.post("/v1/auth/password-reset/confirm", None, confirm).await.expect_problem(409, "password_reset_invalid");
    refresh(&app, &ada.refresh_token).await.expect_problem(401, "invalid_refresh_token");
    login_as(&app, &ada.email, PASSWORD, "test").await.expect_problem(401, "invalid_credentials");
    login_as(&app, &ada.email, NEW_PASSWORD, "test").await.expect_status(200);

    // A link older than an hour is refused; a newer one makes the older
    // ones useless once it is used.
    let stale = reset_link(&app, &ada.email).await;
    app.advance(chrono::Duration::minutes(61)).await;
    let late = json!({"token": stale, "new_password": "a third good password"});
    app.post("/v1/auth/password-reset/confirm", None, late).await.expect_problem(409, "password_reset_invalid");
    let first = reset_link(&app, &ada.email).await;
    let second = reset_link(&app, &ada.email).await;
    let use_second = json!({"token": second, "new_password": "a third good password"});
    app.post("/v1/auth/password-reset/confirm", None, use_second).await.expect_status(204);
    let use_first = json!({"token": first, "new_password": "a fourth good password"});
    app.post("/v1/auth/password-reset/confirm", None, use_first).await.expect_problem(409, "password_reset_invalid");
}

async fn unknown_addresses_get_the_same_reset_answer(app: TestApp) {
    let ada = app.sign_up("ada@example.com").await;
    let known = app.post("/v1/auth/password-reset", None, json!({"email": ada.email})).await;
    let unknown = app.post("/v1/auth/password-reset", None, json!({"email": "nobody@example.com"})).await;
    assert_eq!((known.status, &known.body), (unknown.status, &unknown.body));
    assert_eq!(known.status, 202);
    // The known address got its link (showing mail does flow), the
    // unknown one nothing.
    app.emails_to(&ada.email, 2).await;
    assert!(app.mail.to("nobody@example.com").is_empty());
}

async fn a_reset_forgives_failed_sign_ins(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, |s| s.rate_limits.login_per_email = "2/15m".parse().unwrap()).await
    else {
        return;
    };
    let ada = app.sign_up("ada@example.com").await;
    for _ in 0..2 {
        login_as(&app, &ada.email, "guess", "test").await.expect_problem(401, "invalid_credentials");
    }
    login_as(&app, &ada.email, PASSWORD, "test").await.expect_problem(429, "rate_limited");
    let token = reset_link(&app, &ada.email).await;
    let confirm = json!({"token": token, "new_password": NEW_PASSWORD});
    app.post("/v1/auth/password-reset/confirm", None, confirm).await.expect_status(204);
    login_as(&app, &ada.email, NEW_PASSWORD, "test").await.expect_status(200);
}

async fn email_change(app: &TestApp, user: &SignedIn, email: &str, password: &str) -> Reply {
    let body = json!({"email": email, "current_password": password});
    app.post("/v1/me/email", Some(&user.access_token), body).await
}

async fn a_new_email_address_counts_once_confirmed_from_it(app: TestApp) {
    let ada = app.sign_up("ada@example.com").await;
    app.sign_up("grace@example.com").await;
    email_change(&app, &ada, "ada@new.example", "not my password")
        .await
        .expect_problem(403, "current_password_incorrect");
    email_change(&app, &ada, "not an address", PASSWORD).await.expect_problem(422, "validation_failed");
    let unchanged = email_change(&app, &ada, "ADA@example.com", PASSWORD).await;
    assert_eq!(unchanged.expect_problem(422, "validation_failed").body["errors"][0]["code"], "unchanged");

    email_change(&app, &ada, "Ada@New.Example", PASSWORD).await.expect_status(202);
    let token = app.emails_to("ada@new.example", 1).await[0].link_parameter("token").unwrap();
    // Until confirmed, nothing changed.
    login_as(&app, &ada.email, PASSWORD, "test").await.expect_status(200);
    let confirmed = app.post("/v1/auth/email-change/confirm", None, json!({"token": token})).await;
    let profile = confirmed.expect_status(200);
    assert_eq!((profile["email"].as_str(), profile["email_verified"].as_bool()), (Some("ada@new.example"), Some(true)));
    app.post("/v1/auth/email-change/confirm", None, json!({"token": token}))
        .await
        .expect_problem(409, "email_change_invalid");
    login_as(&app, "ada@new.example", PASSWORD, "test").await.expect_status(200);
    login_as(&app, &ada.email, PASSWORD, "test").await.expect_problem(401, "invalid_credentials");
    let old = app.emails_to(&ada.email, 2).await;
    assert!(old.iter().any(|mail| mail.decoded().contains("now signs in with ada@new.example")));
}

async fn moving_to_a_taken_address_answers_as_for_a_free_one_and_tells_its_owner(app: TestApp) {
    let ada = app.sign_up("ada@example.com").await;
    let grace = app.sign_up("grace@example.com").await;
    let free = email_change(&app, &ada, "ada@new.example", PASSWORD).await;
    let taken = email_change(&app, &ada, "Grace@Example.com", PASSWORD).await;
    assert_eq!((free.status, &free.body), (taken.status, &taken.body));
    assert_eq!(taken.status, 202);

    let to_grace = app.emails_to(&grace.email, 2).await;
    let notice = to_grace.last().unwrap();
    assert!(notice.decoded().contains("asked to move it to this email address"), "{}", notice.decoded());
    assert!(notice.link_parameter("token").is_none(), "no link that would move Ada's account");
    assert!(app.emails_to("ada@new.example", 1).await[0].link_parameter("token").is_some());
    // Both still sign in where they did.
    login_as(&app, &ada.email, PASSWORD, "test").await.expect_status(200);
    login_as(&app, &grace.email, PASSWORD, "test").await.expect_status(200);
}
