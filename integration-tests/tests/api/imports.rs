use integration_tests::{PASSWORD, SignedIn, TestApp, on_both_backends};
use serde_json::{Value, json};

use crate::invitations::invite;

on_both_backends!(
    every_row_gets_an_outcome_with_its_own_code,
    files_are_checked_whole_before_anything_is_kept,
    a_batch_meeting_an_invitation_made_meanwhile_fails_whole_as_a_conflict,
);

/// Uploads `body` as `text/csv` and returns the import's id.
pub(crate) async fn upload(app: &TestApp, admin: &SignedIn, account: &str, body: Vec<u8>) -> reqwest::Response {
    app.client
        .post(app.url(&format!("/v1/accounts/{account}/invitation-imports")))
        .bearer_auth(&admin.access_token)
        .header("content-type", "text/csv")
        .body(body)
        .send()
        .await
        .unwrap()
}

/// Runs the background jobs, which process the import to its end, and
/// returns the import.
pub(crate) async fn wait_for_completion(app: &TestApp, admin: &SignedIn, account: &str, id: &str) -> Value {
    app.run_jobs().await;
    let import = app.get(&format!("/v1/accounts/{account}/invitation-imports/{id}"), Some(&admin.access_token)).await;
    let import = import.expect_status(200).clone();
    assert_eq!(import["status"], "completed", "the jobs ran to idle, so the import is done: {import}");
    import
}

async fn create_group(app: &TestApp, owner: &SignedIn, account: &str, name: &str) -> String {
    let path = format!("/v1/accounts/{account}/groups");
    let created = app.post(&path, Some(&owner.access_token), json!({"name": name})).await;
    created.expect_status(201)["id"].as_str().unwrap().to_owned()
}

async fn every_row_gets_an_outcome_with_its_own_code(app: TestApp) {
    let owner = app.sign_up("owner@example.com").await;
    let account = app.create_account(&owner, "Acme").await;
    let design = create_group(&app, &owner, &account, "Design").await;
    let research = create_group(&app, &owner, &account, "Research").await;
    // The uploader may import and invite, but not hand out administrator.
    let importer_role = json!({"key": "importer", "name": "Importer", "permissions": ["imports:manage", "invitations:manage", "members:read", "certifications:apply", "certifications:view", "badges:request"]});
    app.post(&format!("/v1/accounts/{account}/roles"), Some(&owner.access_token), importer_role)
        .await
        .expect_status(201);
    let uploader = app.sign_up("uploader@example.com").await;
    app.add_member(&account, &uploader.id, &["importer"]);
    let member = app.sign_up("member@example.com").await;
    app.add_member(&account, &member.id, &[]);
    app.sign_up("existing@example.com").await;
    invite(&app, &owner, &account, json!([{"email": "pending@example.com", "send_email": false}])).await;
    let preferences = format!("/v1/accounts/{account}/preferences");
    let tag = app.etag_of(&preferences, &owner.access_token).await;
    let strict = json!({"invitation_email_policy": "new_users_only"});
    app.request_if_match(reqwest::Method::PATCH, &preferences, &owner.access_token, Some(&tag), Some(strict))
        .await
        .expect_status(200);

    let mut file = b"email,first_name,last_name,roles,groups\n\
        new@example.com,Nina,New,developer,Design:analyst;research\n\
        not-an-email,,,,\n\
        NEW@example.com,,,,\n\
        member@example.com,,,,\n\
        pending@example.com,,,,\n\
        x1@example.com,,,ghost,\n\
        x2@example.com,,,,Nowhere\n\
        x3@example.com,,,administrator,\n\
        existing@example.com,,,,\n\
        x4@example.com,too,many,cells,,,\n"
        .to_vec();
    file.extend_from_slice(b"x5@example.com,\xff\xfe,,,\n");
    file.extend_from_slice(b"\"=HYPERLINK(\"\"http://evil.example\"\",\"\"x\"\")\",,,,\n");
    file.extend_from_slice(b"x6@example.com,Ada,Lovelace,,Design\n");
    file.extend_from_slice(b"x7@example.com,,,,Research:developer\n");
    let response = upload(&app, &uploader, &account, file).await;
    assert_eq!(response.status(), 202);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let accepted: Value = response.json().await.unwrap();
    let id = accepted["import_id"].as_str().unwrap().to_owned();
    assert_eq!(location, format!("/v1/accounts/{account}/invitation-imports/{id}"));
    assert_eq!(accepted["total"], 14);

    let done = wait_for_completion(&app, &uploader, &account, &id).await;
    assert_eq!(
        (&done["processed"], &done["invited"], &done["skipped"], &done["failed"]),
        (&json!(14), &json!(3), &json!(3), &json!(8)),
        "{done}"
    );
    let report_path = format!("/v1/accounts/{account}/invitation-imports/{id}/report");
    let report = app.get(&report_path, Some(&uploader.access_token)).await;
    let entries = report.expect_status(200)["entries"].as_array().unwrap().clone();
    let outcomes: Vec<(i64, &str, &str)> = entries
        .iter()
        .map(|e| (e["row"].as_i64().unwrap(), e["outcome"].as_str().unwrap(), e["code"].as_str().unwrap()))
        .collect();
    assert_eq!(
        outcomes,
        [
            (2, "invited", "invited"),
            (3, "failed", "invalid_email"),
            (4, "skipped", "duplicate_row"),
            (5, "skipped", "already_member"),
            (6, "skipped", "already_invited"),
            (7, "failed", "unknown_role"),
            (8, "failed", "unknown_group"),
            (9, "failed", "role_not_grantable"),
            (10, "failed", "email_policy_refused"),
            (11, "failed", "malformed_row"),
            (12, "failed", "malformed_row"),
            (13, "failed", "invalid_email"),
            (14, "invited", "invited"),
            (15, "invited", "invited"),
        ]
    );
    assert!(entries[2]["message"].as_str().unwrap().contains("row 2"), "{}", entries[2]);
    assert!(entries[6]["message"].as_str().unwrap().contains("Nowhere"));
    assert!(entries[7]["message"].as_str().unwrap().contains("\"administrator\""), "{}", entries[7]);

    // The CSV report escapes what a spreadsheet would run.
    let csv = app.client.get(app.url(&report_path)).bearer_auth(&uploader.access_token).header("accept", "text/csv");
    let csv = csv.send().await.unwrap();
    assert!(csv.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    let csv = csv.text().await.unwrap();
    assert!(csv.starts_with("row,email,outcome,code,message,invitation_id"), "{csv}");
    assert_eq!(csv.lines().count(), 15);
    assert!(csv.contains("\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"x\"\")\""), "{csv}");
    assert!(!csv.lines().any(|line| line.starts_with('=') || line.contains(",=")), "{csv}");

    // The uploader is told; the invitees get their invitations.
    // (The first email the uploader got on signing up asked to verify it.)
    let mail = app.emails_to("uploader@example.com", 2).await;
    let summary = mail.iter().find(|m| m.header("subject").unwrap().starts_with("Import finished")).unwrap();
    let subject = summary.header("subject").unwrap();
    assert!(subject.contains("3 invited, 3 skipped, 8 failed"), "{subject}");
    assert!(summary.decoded().contains(&report_path), "the summary links the report");
    let invited = app.emails_to("new@example.com", 1).await;
    app.emails_to("x6@example.com", 1).await;

    // Roles land as the row said: account-wide, inside a group, and plain
    // group membership.
    let invitation_id = entries[0]["invitation_id"].as_str().unwrap();
    let invitation =
        app.get(&format!("/v1/accounts/{account}/invitations/{invitation_id}"), Some(&owner.access_token)).await;
    let invitation = invitation.expect_status(200);
    assert_eq!(
        invitation["assignments"],
        json!([{"role": "analyst", "group_id": design}, {"role": "developer", "group_id": null}])
    );
    assert_eq!(invitation["groups"], json!([research]));
    assert_eq!((&invitation["first_name"], &invitation["last_name"]), (&json!("Nina"), &json!("New")));
    let token = invited[0].link_parameter("token").unwrap();
    let registered = app
        .post(
            "/v1/invitations/register",
            None,
            json!({"token": token, "password": PASSWORD, "first_name": "Nina", "last_name": "New"}),
        )
        .await;
    let nina = registered.expect_status(201)["user_id"].as_str().map(str::to_owned);
    let members_of = |group: &str| format!("/v1/accounts/{account}/groups/{group}/members");
    for group in [&design, &research] {
        let listed = app.get(&members_of(group), Some(&owner.access_token)).await;
        let emails: Vec<&str> =
            listed.body["items"].as_array().unwrap().iter().map(|m| m["email"].as_str().unwrap()).collect();
        assert_eq!(emails, ["new@example.com"], "group {group}; user {nina:?}");
    }

    // Nothing was invited twice: the duplicate row and the skipped people
    // have no new invitation.
    let path = format!("/v1/accounts/{account}/invitations?status=pending&limit=100");
    let pending = app.get(&path, Some(&owner.access_token)).await;
    let mut emails: Vec<&str> =
        pending.body["items"].as_array().unwrap().iter().map(|i| i["email"].as_str().unwrap()).collect();
    emails.sort_unstable();
    assert_eq!(emails, ["pending@example.com", "x6@example.com", "x7@example.com"]);
}

async fn files_are_checked_whole_before_anything_is_kept(app: TestApp) {
    let owner = app.sign_up("owner@example.com").await;
    let account = app.create_account(&owner, "Acme").await;
    let imports = format!("/v1/accounts/{account}/invitation-imports");

    let template = app.client.get(app.url("/v1/invitation-imports/template.csv")).send().await.unwrap();
    assert_eq!(template.status(), 200);
    assert!(template.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    let template = template.bytes().await.unwrap().to_vec();
    assert!(template.starts_with(b"email,first_name,last_name,roles,groups\r\n"));

    let expect = |reply: integration_tests::Reply, status: u16, code: &str, field_code: Option<&str>| {
        reply.expect_problem(status, code);
        if let Some(field_code) = field_code {
            assert_eq!(reply.body["errors"][0]["code"], field_code, "{}", reply.body);
        }
    };
    let response = upload(&app, &owner, &account, b"name,mail\nx,y\n".to_vec()).await;
    expect(TestApp::read(response).await, 422, "validation_failed", Some("invalid_header"));
    let response = upload(&app, &owner, &account, b"email,first_name,last_name,roles,groups\n".to_vec()).await;
    expect(TestApp::read(response).await, 422, "validation_failed", Some("no_rows"));
    let mut many = b"email,first_name,last_name,roles,groups\n".to_vec();
    for i in 0..=domain::import::MAX_ROWS {
        many.extend_from_slice(format!("p{i}@example.com,,,,\n").as_bytes());
    }
    let response = upload(&app, &owner, &account, many).await;
    let reply = TestApp::read(response).await;
    expect(reply, 422, "validation_failed", Some("too_many_rows"));
    let response = upload(&app, &owner, &account, vec![b'a'; domain::import::MAX_BYTES + 1]).await;
    expect(TestApp::read(response).await, 413, "payload_too_large", None);
    let json = app.post(&imports, Some(&owner.access_token), json!({"rows": []})).await;
    expect(json, 415, "unsupported_media_type", None);

    let listed = app.get(&format!("/v1/accounts/{account}/invitations"), Some(&owner.access_token)).await;
    assert!(listed.body["items"].as_array().unwrap().is_empty(), "refused files invite nobody");

    // The template itself, sent as the file of a multipart form, imports.
    let mut form = b"--XyZ\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nignored\r\n--XyZ\r\n".to_vec();
    form.extend_from_slice(b"Content-Disposition: form-data; name=\"file\"; filename=\"team.csv\"\r\n");
    form.extend_from_slice(b"Content-Type: text/csv\r\n\r\n");
    form.extend_from_slice(&template);
    form.extend_from_slice(b"\r\n--XyZ--\r\n");
    let response = app
        .client
        .post(app.url(&imports))
        .bearer_auth(&owner.access_token)
        .header("content-type", "multipart/form-data; boundary=XyZ")
        .body(form)
        .send()
        .await
        .unwrap();
    let accepted = TestApp::read(response).await;
    let id = accepted.expect_status(202)["import_id"].as_str().unwrap().to_owned();
    assert_eq!(accepted.body["file_name"], "team.csv");
    let done = wait_for_completion(&app, &owner, &account, &id).await;
    // The template names groups this account does not have.
    assert_eq!((&done["total"], &done["failed"]), (&json!(1), &json!(1)), "{done}");
    let report = app.get(&format!("{imports}/{id}/report"), Some(&owner.access_token)).await;
    assert_eq!(report.body["entries"][0]["code"], "unknown_group");
    let empty_form = app
        .client
        .post(app.url(&imports))
        .bearer_auth(&owner.access_token)
        .header("content-type", "multipart/form-data; boundary=XyZ")
        .body("--XyZ\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nx\r\n--XyZ--\r\n")
        .send()
        .await
        .unwrap();
    expect(TestApp::read(empty_form).await, 422, "validation_failed", Some("required"));
    let listed = app.get(&imports, Some(&owner.access_token)).await;
    let listed = listed.expect_status(200)["items"].as_array().unwrap().clone();
    assert_eq!(listed.len(), 1, "refused files leave no import");
    assert_eq!(listed[0]["import_id"], json!(id));
    let rows_left: i64 = {
        use diesel::prelude::*;
        use persistence::schema::invitation_import_rows::dsl;
        dsl::invitation_import_rows.filter(dsl::import_id.eq(&id)).count().get_result(&mut *app.db()).unwrap()
    };
    assert_eq!(rows_left, 0, "a completed import keeps its results, not the uploaded rows");
    app.get(&format!("{imports}/not-a-uuid/report"), Some(&owner.access_token))
        .await
        .expect_problem(400, "invalid_path_parameter");
    app.get(&format!("{imports}/{}", uuid::Uuid::new_v4()), Some(&owner.access_token))
        .await
        .expect_problem(404, "not_found");
}

/// An import batch's insert that meets a pending invitation made meanwhile
/// (the race its job retries on) fails whole, as a conflict: on
/// PostgreSQL a batch of 64 rows or more goes by `COPY`, which must keep
/// both promises.
async fn a_batch_meeting_an_invitation_made_meanwhile_fails_whole_as_a_conflict(app: TestApp) {
    use domain::Email;
    use domain::invitation::{InvitationClock, InvitationTtl};
    use persistence::invitations::{NewInvitation, insert_many};

    let owner = app.sign_up("owner@example.com").await;
    let account: uuid::Uuid = app.create_account(&owner, "Acme").await.parse().unwrap();
    let emails: Vec<Email> = (0..100).map(|i| Email::parse(&format!("person{i}@example.com")).unwrap()).collect();
    let hashes: Vec<String> = (0..=100).map(|i| format!("digest-{i}")).collect();
    let clock = InvitationClock::new(chrono::Utc::now(), InvitationTtl::from_days(30).unwrap());
    let invited_by: uuid::Uuid = owner.id.parse().unwrap();
    let new = |email, hash| NewInvitation {
        account_id: account,
        email,
        first_name: "Person",
        last_name: "Imported",
        assignments: &[],
        groups: &[],
        invited_by,
        token_hash: hash,
        clock,
        next_reminder_at: None,
        locale: None,
    };
    let mut conn = app.db();
    insert_many(&mut conn, &[new(&emails[50], hashes[100].as_str())]).expect("one invitation made meanwhile");
    let batch: Vec<NewInvitation<'_>> =
        emails.iter().zip(&hashes).map(|(email, hash)| new(email, hash.as_str())).collect();
    assert!(matches!(insert_many(&mut conn, &batch), Err(persistence::StoreError::Conflict)));
    let listed = app.get(&format!("/v1/accounts/{account}/invitations"), Some(&owner.access_token)).await;
    assert_eq!(listed.expect_status(200)["items"].as_array().unwrap().len(), 1, "nothing of the batch was kept");

    let fresh: Vec<Email> = (0..100).map(|i| Email::parse(&format!("other{i}@example.com")).unwrap()).collect();
    let batch: Vec<NewInvitation<'_>> =
        fresh.iter().zip(&hashes).map(|(email, hash)| new(email, hash.as_str())).collect();
    assert_eq!(insert_many(&mut conn, &batch).unwrap().len(), 100, "the same batch without the clash goes in");
}
