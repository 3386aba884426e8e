//! Emails in the operator's brand and words: the product's name, sender
//! and support address in every email and in the docs, templates replaced
//! from a directory (and refused at start-up when broken), previews.

use integration_tests::{Backend, OPERATOR_TOKEN, TestApp, for_both_backends, on_both_backends, roster_binary};
use serde_json::json;

on_both_backends!(
    the_operator_previews_every_template_in_a_language,
    a_german_reader_gets_german_words_and_a_date_in_their_time_zone,
    the_inviters_language_then_the_accounts_speak_to_people_without_one,
    each_email_of_one_batch_speaks_its_own_readers_language_once,
    email_settings_need_settings_manage_and_refuse_bad_input_whole,
    a_spreadsheets_locale_column_chooses_each_rows_language_and_the_report_names_failures,
);

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

/// The invitation's `expires_at` as the German text of an email writes it
/// in Vienna (`24. Dezember 2026, 18:30 CET`).
fn in_german_in_vienna(at: &serde_json::Value) -> String {
    let at: chrono::DateTime<chrono::Utc> = at.as_str().unwrap().parse().unwrap();
    at.with_timezone(&chrono_tz::Europe::Vienna)
        .format_localized("%-d. %B %Y, %H:%M %Z", chrono::Locale::de_DE)
        .to_string()
}

async fn invite(app: &TestApp, token: &str, account: &str, item: serde_json::Value) -> serde_json::Value {
    let created =
        app.post(&format!("/v1/accounts/{account}/invitations"), Some(token), json!({"invitations": [item]})).await;
    let body = created.expect_status(200).clone();
    assert_eq!(body["results"][0]["outcome"], "created", "{body}");
    body["results"][0]["invitation"].clone()
}

fn text_of(email: &integration_tests::ReceivedEmail) -> String {
    email.decoded()
}

async fn a_german_reader_gets_german_words_and_a_date_in_their_time_zone(app: TestApp) {
    let ada = app.sign_up("ada@example.com").await;
    let account = app.create_account(&ada, "Acme").await;
    let grace = app.sign_up("grace@example.com").await;
    let g = Some(grace.access_token.as_str());

    // Bad values are refused, naming each field, and change nothing.
    let bad = app.patch("/v1/me", g, json!({"locale": "de_AT", "time_zone": "Mars/Olympus_Mons"})).await;
    let fields: Vec<&str> = bad.expect_problem(422, "validation_failed").body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|error| error["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["locale", "time_zone"]);
    let me = app.get("/v1/me", g).await;
    assert_eq!((&me.expect_status(200)["locale"], &me.body["time_zone"]), (&json!(null), &json!(null)));

    let chosen = app.patch("/v1/me", g, json!({"locale": "de-at", "time_zone": "Europe/Vienna"})).await;
    assert_eq!(
        (&chosen.expect_status(200)["locale"], &chosen.body["time_zone"]),
        (&json!("de-AT"), &json!("Europe/Vienna"))
    );
    let kept = app.patch("/v1/me", g, json!({"first_name": "Grace"})).await;
    assert_eq!(kept.expect_status(200)["locale"], "de-AT", "omitted fields keep their value");

    // Ada invites her in English (the inviter's language only counts for
    // readers who chose none): Grace reads German, in Vienna's time.
    let invitation =
        invite(&app, &ada.access_token, &account, json!({"email": "grace@example.com", "locale": "en"})).await;
    let mail = app.emails_to("grace@example.com", 2).await;
    let email = mail.last().unwrap();
    assert_eq!(email.subject().as_deref(), Some("Einladung zu einem Konto bei Roster"));
    let expected = format!("Die Einladung gilt bis {}.", in_german_in_vienna(&invitation["expires_at"]));
    assert!(text_of(email).contains(&expected), "{expected} in {}", text_of(email));

    // Forgetting the language (null) brings back the inviter's.
    app.patch("/v1/me", g, json!({"locale": null})).await.expect_status(200);
    let path = format!("/v1/accounts/{account}/invitations/{}/resend", invitation["id"].as_str().unwrap());
    app.post(&path, Some(&ada.access_token), json!({})).await.expect_status(200);
    let mail = app.emails_to("grace@example.com", 3).await;
    assert_eq!(mail.last().unwrap().subject().as_deref(), Some("You are invited to join an account on Roster"));
}

async fn the_inviters_language_then_the_accounts_speak_to_people_without_one(app: TestApp) {
    let ada = app.sign_up("ada@example.com").await;
    let account = app.create_account(&ada, "Acme").await;
    let t = Some(ada.access_token.as_str());
    invite(&app, &ada.access_token, &account, json!({"email": "hans@example.com", "locale": "fr"})).await;

    let path = format!("/v1/accounts/{account}/email-settings");
    let settings = app.get(&path, t).await;
    assert_eq!(
        settings.expect_status(200).clone(),
        json!({"display_name": null, "invitation_message": null, "locale": null})
    );
    let tag = app.etag_of(&path, &ada.access_token).await;
    let wanted = json!({
        "display_name": "Acme Developer Program",
        "invitation_message": "¡Bienvenido! Mira <b>esto</b>:\nhttps://evil.example/login",
        "locale": "es"
    });
    let changed =
        app.request_if_match(reqwest::Method::PATCH, &path, &ada.access_token, Some(&tag), Some(wanted.clone())).await;
    assert_eq!(changed.expect_status(200).clone(), wanted);
    invite(&app, &ada.access_token, &account, json!({"email": "pedro@example.com"})).await;

    let french = app.emails_to("hans@example.com", 1).await;
    assert_eq!(french[0].subject().as_deref(), Some("Vous êtes invité à rejoindre un compte sur Roster"));
    let spanish = app.emails_to("pedro@example.com", 1).await;
    let text = text_of(&spanish[0]);
    assert_eq!(spanish[0].subject().as_deref(), Some("Le han invitado a unirse a una cuenta en Roster"));
    assert!(text.contains("la cuenta «Acme Developer Program»"), "the display name, not the name: {text}");
    assert!(
        text.contains("> ¡Bienvenido! Mira <b>esto</b>:\u{200B}\r\n> https:\u{200B}//evil.\u{200B}example/login"),
        "quoted in the text part, no address a mail client would link: {text}"
    );
    assert!(!text.contains("evil.example"), "in neither part: {text}");
    assert!(text.contains("Mira &lt;b&gt;esto&lt;/b&gt;"), "escaped in the HTML part: {text}");
    assert!(!text.contains("href=\"https://evil.example"), "no link is made of the message");

    let events =
        app.get(&format!("/v1/accounts/{account}/audit-events?action=account.email_settings_updated"), t).await;
    let event = &events.expect_status(200)["items"][0];
    assert_eq!(event["changes"]["locale"], json!({"before": null, "after": "es"}));
    assert_eq!(event["changes"]["display_name"]["after"], "Acme Developer Program");
}

/// The runner reads the languages of a batch's readers at once and records
/// the batch's emails as sent together: each reader still gets their own
/// language, and each email goes out once.
async fn each_email_of_one_batch_speaks_its_own_readers_language_once(app: TestApp) {
    let ada = app.sign_up("ada@example.com").await;
    let account = app.create_account(&ada, "Acme").await;
    for (email, locale) in [("grace@example.com", "de"), ("hans@example.com", "fr")] {
        let reader = app.sign_up(email).await;
        app.patch("/v1/me", Some(&reader.access_token), json!({"locale": locale})).await.expect_status(200);
    }
    app.run_jobs().await;
    let readers = ["grace@example.com", "hans@example.com", "pedro@example.com"];
    let before: Vec<usize> = readers.iter().map(|reader| app.mail.to(reader).len()).collect();

    // One request queues the three emails together, in the inviter's English.
    let items: Vec<_> = readers.iter().map(|email| json!({"email": email, "locale": "en"})).collect();
    let created = app
        .post(&format!("/v1/accounts/{account}/invitations"), Some(&ada.access_token), json!({"invitations": items}))
        .await;
    assert!(created.expect_status(200)["results"].as_array().unwrap().iter().all(|r| r["outcome"] == "created"));
    app.run_jobs().await;
    let subjects: Vec<Option<String>> =
        readers.iter().map(|reader| app.mail.to(reader).last().and_then(|email| email.subject())).collect();
    assert_eq!(
        subjects,
        [
            Some("Einladung zu einem Konto bei Roster".to_owned()),
            Some("Vous êtes invité à rejoindre un compte sur Roster".to_owned()),
            Some("You are invited to join an account on Roster".to_owned()),
        ]
    );

    // Past the claim's lease, a job not recorded as sent would be sent again.
    app.advance(chrono::Duration::minutes(10)).await;
    let after: Vec<usize> = readers.iter().map(|reader| app.mail.to(reader).len()).collect();
    assert_eq!(after, before.iter().map(|count| count + 1).collect::<Vec<_>>(), "one invitation each");
}

async fn email_settings_need_settings_manage_and_refuse_bad_input_whole(app: TestApp) {
    let ada = app.sign_up("ada@example.com").await;
    let account = app.create_account(&ada, "Acme").await;
    let bob = app.sign_up("bob@example.com").await;
    app.add_member(&account, &bob.id, &["developer"]);
    let path = format!("/v1/accounts/{account}/email-settings");
    app.get(&path, Some(&bob.access_token)).await.expect_problem(403, "forbidden");
    let tag = app.etag_of(&path, &ada.access_token).await;
    let patch = |body: serde_json::Value| {
        app.request_if_match(reqwest::Method::PATCH, &path, &ada.access_token, Some(&tag), Some(body))
    };
    let refused = patch(json!({"display_name": "", "locale": "xx-YYYY-1", "invitation_message": "fine"})).await;
    refused.expect_problem(422, "validation_failed");
    let mut fields: Vec<&str> =
        refused.body["errors"].as_array().unwrap().iter().map(|error| error["field"].as_str().unwrap()).collect();
    fields.sort_unstable();
    assert_eq!(fields, ["display_name", "locale"], "{}", refused.body);
    patch(json!({"invitation_message": "a\u{0}b"})).await.expect_problem(422, "validation_failed");
    patch(json!({"invitation_message": "x".repeat(1001)})).await.expect_problem(422, "validation_failed");
    app.patch(&path, Some(&ada.access_token), json!({"locale": "de"}))
        .await
        .expect_problem(428, "precondition_required");
    let unchanged = app.get(&path, Some(&ada.access_token)).await;
    assert_eq!(
        unchanged.expect_status(200).clone(),
        json!({"display_name": null, "invitation_message": null, "locale": null})
    );
    // A blank message is none.
    let cleared = patch(json!({"invitation_message": "  "})).await;
    assert_eq!(cleared.expect_status(200)["invitation_message"], json!(null));
}

async fn a_spreadsheets_locale_column_chooses_each_rows_language_and_the_report_names_failures(app: TestApp) {
    let ada = app.sign_up("ada@example.com").await;
    let account = app.create_account(&ada, "Acme").await;
    let path = format!("/v1/accounts/{account}/email-settings");
    let tag = app.etag_of(&path, &ada.access_token).await;
    let german = app.request_if_match(
        reqwest::Method::PATCH,
        &path,
        &ada.access_token,
        Some(&tag),
        Some(json!({"locale": "de"})),
    );
    german.await.expect_status(200);
    let file = "email,first_name,last_name,roles,groups,locale\r\n\
                kenji@example.com,Kenji,,,,ja\r\n\
                marie@example.com,Marie,,,,\r\n\
                bad@example.com,Bad,,,,en_GB\r\n\
                =1+2,Evil,,,,\r\n";
    let uploaded = crate::imports::upload(&app, &ada, &account, file.as_bytes().to_vec()).await;
    let import = TestApp::read(uploaded).await;
    let id = import.expect_status(202)["import_id"].as_str().unwrap().to_owned();
    let done = crate::imports::wait_for_completion(&app, &ada, &account, &id).await;
    assert_eq!((&done["invited"], &done["failed"]), (&json!(2), &json!(2)), "{done}");

    let kenji = app.emails_to("kenji@example.com", 1).await;
    assert_eq!(kenji[0].subject().as_deref(), Some("Roster のアカウントへの招待"), "the row's language");
    let marie = app.emails_to("marie@example.com", 1).await;
    assert_eq!(marie[0].subject().as_deref(), Some("Einladung zu einem Konto bei Roster"), "the account's language");

    // The uploader (who chose no language) gets the report in the account's
    // language, naming each entry that could not be invited and why.
    let report = app.emails_to("ada@example.com", 1).await;
    let report = report.iter().find(|email| email.subject().is_some_and(|s| s.starts_with("Import für Acme"))).unwrap();
    let text = report.decoded();
    assert!(text.contains("Zeile 4: bad@example.com – die Sprache (locale) ist kein gültiges Sprachkürzel"), "{text}");
    assert!(text.contains("Zeile 5: =1+2 – die E-Mail-Adresse ist ungültig"), "{text}");
    // The whole per-row report is attached, formula cells made harmless.
    let (name, csv) = report.attachment("import-").unwrap_or_else(|| panic!("the report is attached: {}", report.raw));
    assert_eq!(name, format!("import-{id}-report.csv"));
    let csv = String::from_utf8(csv).unwrap();
    assert!(csv.starts_with("row,email,outcome,code,message,invitation_id\n"), "{csv}");
    assert_eq!(csv.lines().count(), 5, "a header and every row: {csv}");
    assert!(csv.contains("\n5,'=1+2,failed,invalid_email,"), "{csv}");
    assert!(csv.contains("\n2,kenji@example.com,invited,invited,"), "{csv}");
}
