//! Emails in the operator's brand and words: the product's name, sender
//! and support address in every email and in the docs, templates replaced
//! from a directory (and refused at start-up when broken), previews.

use integration_tests::{Backend, OPERATOR_TOKEN, TestApp, for_both_backends, on_both_backends, roster_binary};
use serde_json::json;

on_both_backends!(the_operator_previews_every_template_in_a_language);

for_both_backends!(a_configured_brand_names_every_email_and_the_docs, an_override_directory_replaces_one_template);

#[test]
fn a_broken_override_stops_the_start_naming_its_file_and_line() {
    let dir = templates_dir();
    std::fs::write(
        dir.join("invitation.txt"),
        "{% extends \"layout.txt\" %}\n{% block body %}\n{{ inviter }}\n{% endblock %}\n",
    )
    .unwrap();
    let data = std::env::temp_dir().join(format!("roster-broken-{}", uuid::Uuid::new_v4().simple()));
    let output = std::process::Command::new(roster_binary())
        .arg("serve")
        .env("ROSTER_DATABASE_URL", format!("sqlite://{}/roster.db", data.display()))
        .env("ROSTER_DATA_DIR", &data)
        .env("ROSTER_BIND", "127.0.0.1:0")
        .env("ROSTER_EMAIL_TEMPLATES_DIR", &dir)
        .env("ROSTER_LOG", "error")
        .output()
        .expect("roster runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "the server does not start: {stderr}");
    assert!(stderr.contains("invitation.txt, line 3") && stderr.contains("undefined"), "{stderr}");

    // The same directory, fixed, starts; `roster emails preview` shows it.
    std::fs::write(
        dir.join("invitation.txt"),
        "{% extends \"layout.txt\" %}\n{% block body %}\nHi from {{ inviter_name }}!\n{% endblock %}\n",
    )
    .unwrap();
    let preview = std::process::Command::new(roster_binary())
        .args(["emails", "preview", "invitation", "--locale", "fr-CA"])
        .env("ROSTER_EMAIL_TEMPLATES_DIR", &dir)
        .env("ROSTER_PRODUCT_NAME", "Acme Cloud")
        .env("ROSTER_LOG", "error")
        .output()
        .expect("roster runs");
    let shown = String::from_utf8_lossy(&preview.stdout);
    assert!(preview.status.success(), "{shown}{}", String::from_utf8_lossy(&preview.stderr));
    assert!(shown.contains("Subject: Vous êtes invité à rejoindre un compte sur Acme Cloud"), "{shown}");
    assert!(shown.contains("Language: fr") && shown.contains("Hi from Ada Lovelace!"), "{shown}");
    assert!(shown.contains("Cet e-mail a été envoyé par Acme Cloud."), "the layout is still the built-in one: {shown}");
    std::fs::remove_dir_all(dir).ok();
    std::fs::remove_dir_all(data).ok();
}

fn templates_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("roster-templates-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn a_configured_brand_names_every_email_and_the_docs(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, |settings| {
        settings.product_name = "Acme Cloud".into();
        settings.email_from = "accounts@acme.example".into();
        settings.support_email = Some("help@acme.example".into());
        settings.support_url = Some("https://acme.example/help".into());
    })
    .await
    else {
        return;
    };
    app.sign_up_unverified("ada@example.com").await;
    app.post("/v1/auth/password-reset", None, json!({"email": "ada@example.com"})).await.expect_status(202);
    app.register("ada@example.com").await;

    let mail = app.emails_to("ada@example.com", 3).await;
    for email in &mail {
        let decoded = email.decoded();
        let body = decoded.split_once("\r\n\r\n").map_or(decoded.as_str(), |(_, body)| body);
        assert!(!body.contains("Roster"), "an email says Roster: {decoded}");
        assert!(!email.header("Subject").unwrap_or_default().contains("Roster"));
        let from = email.header("From").unwrap_or_default();
        assert!(from.contains("Acme Cloud") && from.contains("<accounts@acme.example>"), "{from}");
        assert!(decoded.contains("help@acme.example") && decoded.contains("https://acme.example/help"));
    }
    let subjects: Vec<String> = mail.iter().filter_map(|email| email.header("Subject")).collect();
    assert!(subjects.iter().any(|s| s == "Reset your Acme Cloud password"), "{subjects:?}");
    assert!(
        mail.iter().any(|email| email.decoded().contains("Someone tried to create an account on Acme Cloud")),
        "the registration notice names the product"
    );

    let document = app.get("/openapi.json", None).await;
    assert_eq!(document.expect_status(200)["info"]["title"], "Acme Cloud");
    let page = app.client.get(app.url("/docs/")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("<title>Acme Cloud API</title>"), "{page}");
}

async fn an_override_directory_replaces_one_template(backend: Backend) {
    let dir = templates_dir();
    std::fs::write(
        dir.join("password_reset.subject"),
        "{{ brand.product_name }} | {{ t(\"password-reset-subject\") }}",
    )
    .unwrap();
    let Some(app) = TestApp::spawn_with(backend, |settings| settings.email_templates_dir = Some(dir.clone())).await
    else {
        return;
    };
    app.sign_up("ada@example.com").await;
    app.post("/v1/auth/password-reset", None, json!({"email": "ada@example.com"})).await.expect_status(202);
    app.register("ada@example.com").await;
    let mail = app.emails_to("ada@example.com", 1).await;
    let subjects: Vec<String> = mail.iter().filter_map(|email| email.header("Subject")).collect();
    assert!(subjects.iter().any(|s| s == "Roster | Reset your Roster password"), "replaced: {subjects:?}");
    assert!(
        subjects.iter().any(|s| s == "Someone tried to register with your email address"),
        "the others are the built-in ones: {subjects:?}"
    );
    std::fs::remove_dir_all(dir).ok();
}

async fn the_operator_previews_every_template_in_a_language(app: TestApp) {
    let operator = Some(OPERATOR_TOKEN);
    let names = app.get("/v1/operator/email-templates", operator).await;
    let names: Vec<String> = serde_json::from_value(names.expect_status(200)["items"].clone()).unwrap();
    assert!(names.len() >= 20 && names.contains(&"invitation".to_owned()), "{names:?}");
    for name in &names {
        let preview = app.get(&format!("/v1/operator/email-templates/{name}/preview?locale=ja"), operator).await;
        let body = preview.expect_status(200);
        assert_eq!(body["language"], "ja", "{name}");
        assert!(body["html"].as_str().unwrap().starts_with("<!doctype html>"), "{name}");
    }
    let german = app.get("/v1/operator/email-templates/invitation/preview?locale=de-AT", operator).await;
    let german = german.expect_status(200);
    assert_eq!(german["subject"], "Einladung zu einem Konto bei Roster");
    assert!(german["text"].as_str().unwrap().contains("24. Dezember 2026"), "{german}");

    app.get("/v1/operator/email-templates/nonesuch/preview", operator).await.expect_problem(404, "not_found");
    app.get("/v1/operator/email-templates/invitation/preview?locale=de_AT", operator)
        .await
        .expect_problem(422, "validation_failed");
    let ada = app.sign_up("ada@example.com").await;
    app.get("/v1/operator/email-templates", Some(&ada.access_token)).await.expect_problem(401, "unauthenticated");
}
