//! Rate limits: 429 problem+json with `Retry-After` and the IETF
//! `RateLimit` fields, counted in the database so that instances sharing it
//! count together, with the clock driven by the test.

use integration_tests::{Backend, PASSWORD, Reply, TestApp, for_both_backends};
use serde_json::{Value, json};

for_both_backends!(
    guessing_from_one_address_backs_off_but_never_past_15_minutes,
    a_flood_from_one_address_does_not_lock_out_the_owner,
    attempts_at_one_email_from_many_addresses_are_capped_for_one_window,
    unknown_emails_get_the_same_answer_as_known_ones,
    a_successful_sign_in_clears_the_count,
    sign_ins_per_client_address_are_limited,
    two_instances_on_one_database_count_together,
    forwarded_addresses_count_only_from_trusted_proxies,
    registration_and_verification_emails_are_limited,
    invitation_emails_are_limited_per_account,
    invitation_emails_are_limited_per_sender_across_accounts,
    accounts_made_are_limited_per_user,
    single_sign_on_starts_are_limited_per_client_address,
);

async fn server(backend: Backend, adjust: impl FnOnce(&mut api::Settings)) -> Option<TestApp> {
    TestApp::spawn_with(backend, adjust).await
}

fn limit(text: &str) -> domain::rate_limit::Limit {
    text.parse().unwrap()
}

async fn login_at(app: &TestApp, base: &str, email: &str, password: &str, forwarded: Option<&str>) -> Reply {
    let mut request =
        app.client.post(format!("{base}/v1/auth/login")).json(&json!({"email": email, "password": password}));
    if let Some(forwarded) = forwarded {
        request = request.header("x-forwarded-for", forwarded);
    }
    TestApp::read(request.send().await.unwrap()).await
}

async fn login(app: &TestApp, email: &str, password: &str) -> Reply {
    login_at(app, &app.address, email, password, None).await
}

#[track_caller]
fn expect_limited(reply: &Reply, policy: &str, wait: u64) {
    reply.expect_problem(429, "rate_limited");
    let header = |name: &str| reply.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    assert_eq!(header("retry-after"), wait.to_string());
    assert_eq!(header("ratelimit-policy"), policy);
    let name = policy.split(';').next().unwrap();
    assert_eq!(header("ratelimit"), format!("{name};r=0;t={wait}"));
}

async fn guessing_from_one_address_backs_off_but_never_past_15_minutes(backend: Backend) {
    let Some(app) = server(backend, |s| s.rate_limits.login_per_email_and_ip = limit("3/1m")).await else { return };
    let user = app.sign_up("ada@example.com").await;
    for _ in 0..3 {
        login(&app, &user.email, "not the password").await.expect_problem(401, "invalid_credentials");
    }
    let policy = "\"login-email-ip\";q=3;w=60";
    expect_limited(&login(&app, &user.email, "not the password").await, policy, 60);
    // Asked again at once, the refusal is answered from memory: nothing
    // is counted, so the wait does not grow.
    expect_limited(&login(&app, " ADA@example.com", PASSWORD).await, policy, 60);
    // A second later the database is asked again, and each refused attempt
    // doubles the wait, up to 15 minutes and no further.
    for wait in [120, 240, 480, 900, 900] {
        app.advance(chrono::Duration::seconds(1)).await;
        expect_limited(&login(&app, &user.email, PASSWORD).await, policy, wait);
    }
    app.advance(chrono::Duration::seconds(900)).await;
    login(&app, &user.email, PASSWORD).await.expect_status(200);
}

async fn a_flood_from_one_address_does_not_lock_out_the_owner(backend: Backend) {
    // The default limits, behind a proxy that says who the client is.
    let Some(app) = server(backend, |s| {
        s.rate_limits = api::Settings::defaults().rate_limits;
        s.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await
    else {
        return;
    };
    let user = app.sign_up("victim@example.com").await;
    let mut refused = 0;
    for _ in 0..17 {
        let reply = login_at(&app, &app.address, &user.email, "guess", Some("203.0.113.66")).await;
        if reply.status == 429 {
            refused += 1;
            let wait: u64 = reply.headers["retry-after"].to_str().unwrap().parse().unwrap();
            assert!(wait <= 900, "waited {wait}s");
        }
    }
    assert_eq!(refused, 12, "five guesses a minute from one address");
    let owner = login_at(&app, &app.address, &user.email, PASSWORD, Some("198.51.100.7")).await;
    owner.expect_status(200);
}

async fn attempts_at_one_email_from_many_addresses_are_capped_for_one_window(backend: Backend) {
    let Some(app) = server(backend, |s| {
        s.rate_limits.login_per_email = limit("4/15m");
        s.rate_limits.login_per_email_and_ip = limit("3/1m");
        s.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await
    else {
        return;
    };
    let user = app.sign_up("ada@example.com").await;
    for n in 1..=4 {
        let reply = login_at(&app, &app.address, &user.email, "guess", Some(&format!("203.0.113.{n}"))).await;
        reply.expect_problem(401, "invalid_credentials");
    }
    let policy = "\"login-email\";q=4;w=900";
    let from = |n: u32| Some(format!("198.51.100.{n}"));
    let reply = login_at(&app, &app.address, &user.email, PASSWORD, from(1).as_deref()).await;
    expect_limited(&reply, policy, 900);
    // A cap, not a lock: further attempts do not push the wait out.
    for n in 2..=5 {
        app.advance(chrono::Duration::seconds(1)).await;
        let reply = login_at(&app, &app.address, &user.email, "guess", from(n).as_deref()).await;
        expect_limited(&reply, policy, 900 - u64::from(n - 1));
    }
    app.advance(chrono::Duration::seconds(896)).await;
    login_at(&app, &app.address, &user.email, PASSWORD, from(9).as_deref()).await.expect_status(200);
}

async fn unknown_emails_get_the_same_answer_as_known_ones(backend: Backend) {
    let Some(app) = server(backend, |s| s.rate_limits.login_per_email = limit("2/15m")).await else { return };
    let known = app.sign_up("ada@example.com").await;
    let mut answers: Vec<Vec<Value>> = Vec::new();
    for email in [known.email.as_str(), "nobody@example.com"] {
        let mut seen = Vec::new();
        for _ in 0..3 {
            let reply = login(&app, email, "not the password").await;
            let headers = ["retry-after", "ratelimit", "ratelimit-policy"]
                .map(|name| reply.headers.get(name).map(|v| v.to_str().unwrap().to_owned()));
            seen.push(json!({"status": reply.status.as_u16(), "body": reply.body, "headers": headers}));
        }
        answers.push(seen);
    }
    assert_eq!(answers[0], answers[1], "the answers must not tell which address has an account");
    assert_eq!(answers[0][2]["status"], 429);
}

async fn a_successful_sign_in_clears_the_count(backend: Backend) {
    let Some(app) = server(backend, |s| s.rate_limits.login_per_email_and_ip = limit("3/1m")).await else { return };
    let user = app.sign_up("ada@example.com").await;
    for _ in 0..2 {
        login(&app, &user.email, "mistyped").await.expect_problem(401, "invalid_credentials");
    }
    login(&app, &user.email, PASSWORD).await.expect_status(200);
    for _ in 0..3 {
        login(&app, &user.email, "mistyped").await.expect_problem(401, "invalid_credentials");
    }
    expect_limited(&login(&app, &user.email, "mistyped").await, "\"login-email-ip\";q=3;w=60", 60);
}

async fn sign_ins_per_client_address_are_limited(backend: Backend) {
    let Some(app) = server(backend, |s| s.rate_limits.login_per_ip = limit("4/1m")).await else { return };
    for n in 0..4 {
        login(&app, &format!("guess{n}@example.com"), "password1234").await.expect_problem(401, "invalid_credentials");
    }
    expect_limited(&login(&app, "guess9@example.com", "password1234").await, "\"login-ip\";q=4;w=60", 60);
    app.advance(chrono::Duration::seconds(60)).await;
    login(&app, "guess9@example.com", "password1234").await.expect_problem(401, "invalid_credentials");
}

async fn two_instances_on_one_database_count_together(backend: Backend) {
    let Some(app) = server(backend, |s| s.rate_limits.login_per_email_and_ip = limit("3/1m")).await else { return };
    let sibling = app.spawn_sibling();
    let user = app.sign_up("ada@example.com").await;
    for base in [&app.address, &sibling.address, &app.address] {
        login_at(&app, base, &user.email, "wrong", None).await.expect_problem(401, "invalid_credentials");
    }
    let reply = login_at(&app, &sibling.address, &user.email, "wrong", None).await;
    expect_limited(&reply, "\"login-email-ip\";q=3;w=60", 60);
    // The other instance has not refused it yet: it asks the database.
    let reply = login_at(&app, &app.address, &user.email, PASSWORD, None).await;
    expect_limited(&reply, "\"login-email-ip\";q=3;w=60", 120);
}

async fn forwarded_addresses_count_only_from_trusted_proxies(backend: Backend) {
    let limited = |s: &mut api::Settings| s.rate_limits.login_per_ip = limit("2/1m");
    let Some(behind_proxy) = server(backend, |s| {
        limited(s);
        s.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await
    else {
        return;
    };
    let base = behind_proxy.address.clone();
    // The proxy appends the address it saw; what the client wrote left of
    // it is not believed.
    for forwarded in ["203.0.113.1", "198.51.100.7, 203.0.113.1"] {
        let reply = login_at(&behind_proxy, &base, "a@example.com", "password1234", Some(forwarded)).await;
        reply.expect_problem(401, "invalid_credentials");
    }
    let reply = login_at(&behind_proxy, &base, "a@example.com", "password1234", Some("203.0.113.1")).await;
    expect_limited(&reply, "\"login-ip\";q=2;w=60", 60);
    let other_client = login_at(&behind_proxy, &base, "a@example.com", "password1234", Some("203.0.113.2")).await;
    other_client.expect_problem(401, "invalid_credentials");

    // Without the setting, the header is ignored: every request is the peer's.
    let Some(direct) = server(backend, limited).await else { return };
    let base = direct.address.clone();
    for forwarded in ["203.0.113.1", "203.0.113.2"] {
        let reply = login_at(&direct, &base, "a@example.com", "password1234", Some(forwarded)).await;
        reply.expect_problem(401, "invalid_credentials");
    }
    let reply = login_at(&direct, &base, "a@example.com", "password1234", Some("203.0.113.3")).await;
    expect_limited(&reply, "\"login-ip\";q=2;w=60", 60);
}

async fn registration_and_verification_emails_are_limited(backend: Backend) {
    let Some(app) = server(backend, |s| {
        s.rate_limits.register_per_ip = limit("2/h");
        s.rate_limits.verification_resend = limit("1/h");
    })
    .await
    else {
        return;
    };
    app.register("one@example.com").await.expect_status(202);
    app.register("two@example.com").await.expect_status(202);
    expect_limited(&app.register("three@example.com").await, "\"register\";q=2;w=3600", 3_600);
    let refused = login(&app, "three@example.com", PASSWORD).await;
    refused.expect_problem(401, "invalid_credentials");

    let signed_in = login(&app, "one@example.com", PASSWORD).await;
    let access = signed_in.expect_status(200)["access_token"].as_str().unwrap().to_owned();
    let token = Some(access.as_str());
    app.post("/v1/auth/verify-email/resend", token, json!({})).await.expect_status(202);
    let again = app.post("/v1/auth/verify-email/resend", token, json!({})).await;
    expect_limited(&again, "\"verification-resend\";q=1;w=3600", 3_600);
    // The registration email and one resend: nothing for the refused one.
    assert_eq!(app.emails_to("one@example.com", 2).await.len(), 2);
}

async fn invitation_emails_are_limited_per_account(backend: Backend) {
    let Some(app) = server(backend, |s| s.rate_limits.invitations_per_account = limit("3/h")).await else { return };
    let owner = app.sign_up("owner@example.com").await;
    let account = app.create_account(&owner, "Acme").await;
    let token = Some(owner.access_token.as_str());
    let path = format!("/v1/accounts/{account}/invitations");
    let invite = |emails: &[&str], send_email: bool| {
        let items: Vec<Value> = emails
            .iter()
            .map(|email| json!({"email": email, "first_name": "Grace", "last_name": "Hopper", "roles": ["administrator"], "send_email": send_email}))
            .collect();
        json!({ "invitations": items })
    };
    let policy = "\"invitations\";q=3;w=3600";
    let first = app.post(&path, token, invite(&["a@example.com", "b@example.com"], true)).await;
    let first_id = first.expect_status(200)["results"][0]["invitation"]["id"].as_str().unwrap().to_owned();
    // Invitations without an email are not counted.
    app.post(&path, token, invite(&["c@example.com", "d@example.com"], false)).await.expect_status(200);
    app.post(&path, token, invite(&["e@example.com"], true)).await.expect_status(200);
    expect_limited(&app.post(&path, token, invite(&["f@example.com"], true)).await, policy, 3_600);
    let resend = app.post(&format!("{path}/{first_id}/resend"), token, json!({})).await;
    expect_limited(&resend, policy, 3_600);
    let listed = app.get(&format!("{path}?q=f%40example.com"), token).await;
    assert_eq!(listed.expect_status(200)["items"].as_array().unwrap().len(), 0, "the refused invitation was not made");
}

async fn invitation_emails_are_limited_per_sender_across_accounts(backend: Backend) {
    let Some(app) = server(backend, |s| s.rate_limits.invitations_per_sender = limit("3/h")).await else { return };
    let owner = app.sign_up("owner@example.com").await;
    let token = Some(owner.access_token.as_str());
    let first = app.create_account(&owner, "Acme").await;
    let second = app.create_account(&owner, "Acme Two").await;
    let invite = |account: &str, email: &str| {
        let item = json!({"email": email, "first_name": "Grace", "last_name": "Hopper", "roles": ["administrator"]});
        (format!("/v1/accounts/{account}/invitations"), json!({ "invitations": [item] }))
    };
    for (account, email) in [(&first, "a@example.com"), (&first, "b@example.com"), (&second, "c@example.com")] {
        let (path, body) = invite(account, email);
        app.post(&path, token, body).await.expect_status(200);
    }
    // A new account does not bring a new quota.
    let (path, body) = invite(&second, "d@example.com");
    expect_limited(&app.post(&path, token, body).await, "\"invitations-sender\";q=3;w=3600", 3_600);
}

async fn accounts_made_are_limited_per_user(backend: Backend) {
    let Some(app) = server(backend, |s| s.rate_limits.accounts_per_user = limit("2/d")).await else { return };
    let owner = app.sign_up("owner@example.com").await;
    app.create_account(&owner, "Acme").await;
    app.create_account(&owner, "Acme Two").await;
    let token = Some(owner.access_token.as_str());
    let third = app.post("/v1/accounts", token, json!({"name": "Acme Three"})).await;
    expect_limited(&third, "\"accounts-created\";q=2;w=86400", 86_400);
    let listed = app.get("/v1/me/accounts", token).await;
    assert_eq!(listed.expect_status(200)["items"].as_array().unwrap().len(), 2, "the refused account was not made");
    // Someone else is not held up.
    let other = app.sign_up("other@example.com").await;
    app.create_account(&other, "Other").await;
}

async fn single_sign_on_starts_are_limited_per_client_address(backend: Backend) {
    let Some(app) = server(backend, |s| s.rate_limits.sso_starts_per_ip = limit("2/10m")).await else { return };
    // Refused starts count too: each one is work an address asks for.
    let start = format!("/v1/sso/start?email=ada%40acme.example&redirect_uri={}", integration_tests::oidc::FRONTEND);
    for _ in 0..2 {
        app.get(&start, None).await.expect_problem(404, "sso_connection_not_found");
    }
    expect_limited(&app.get(&start, None).await, "\"sso-starts\";q=2;w=600", 600);
}
