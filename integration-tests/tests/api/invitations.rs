use futures_util::future::join_all;
use integration_tests::{Backend, PASSWORD, SignedIn, TestApp, on_both_backends};
use serde_json::{Value, json};

on_both_backends!(
    an_emailed_invitation_is_accepted_by_registering,
    accepting_needs_the_verified_invited_email,
    resend_revoke_and_removal_kill_tokens,
    batches_report_each_item_and_cap_at_twenty,
    a_batch_is_stored_whole_or_not_at_all,
    the_email_policy_refuses_existing_users,
    invitations_are_listed_searched_and_guarded,
    the_last_owner_can_neither_leave_nor_be_removed,
    parallel_invites_of_one_email_make_one_invitation,
    parallel_accepts_make_one_membership,
    declining_closes_the_invitation,
    removal_revokes_the_members_pending_invitations,
    an_invitation_offering_roles_in_and_out_of_groups_is_accepted_whole,
    a_lapsed_invitation_gives_way_before_the_expiry_job_runs,
    search_finds_invitations_before_and_after_the_index_takes_them_in,
    accepting_as_a_member_already_changes_nothing,
);

/// The accept's writes (the invitation's status, the membership) are one
/// statement on PostgreSQL and two on SQLite: a membership that exists
/// already fails both, and the invitation stays open.
async fn accepting_as_a_member_already_changes_nothing(app: TestApp) {
    let Joined { owner, grace, account, id, token } = invited_then_member_another_way(&app).await;

    app.post("/v1/invitations/accept", Some(&grace.access_token), json!({"token": token}))
        .await
        .expect_problem(409, "already_member");
    let invitation = app.get(&format!("/v1/accounts/{account}/invitations/{id}"), Some(&owner.access_token)).await;
    assert_eq!(invitation.body["status"], "pending");
    assert!(invitation.body["decided_at"].is_null());
    app.run_jobs().await;
    let log = app.get(&format!("/v1/accounts/{account}/audit-events"), Some(&owner.access_token)).await;
    let actions: Vec<&str> =
        log.expect_status(200)["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert!(actions.contains(&"invitation.created"), "{actions:?}");
    assert!(!actions.contains(&"invitation.accepted") && !actions.contains(&"member.joined"), "{actions:?}");
}

async fn removal_revokes_the_members_pending_invitations(app: TestApp) {
    let Joined { owner, grace, account, id, token } = invited_then_member_another_way(&app).await;

    app.delete(&format!("/v1/accounts/{account}/members/{}", grace.id), Some(&owner.access_token))
        .await
        .expect_status(204);
    let invitation = app.get(&format!("/v1/accounts/{account}/invitations/{id}"), Some(&owner.access_token)).await;
    assert_eq!(invitation.body["status"], "revoked");
    app.get(&format!("/v1/invitations/preview?token={token}"), None).await.expect_problem(409, "invitation_revoked");
}

async fn declining_closes_the_invitation(app: TestApp) {
    let owner = app.sign_up("owner@example.com").await;
    let account = app.create_account(&owner, "Acme").await;
    let results = invite(&app, &owner, &account, json!([{"email": "grace@example.com", "send_email": false}])).await;
    let token = accept_token(&results[0]);
    app.post("/v1/invitations/decline", None, json!({"token": token})).await.expect_status(204);
    app.post("/v1/invitations/decline", None, json!({"token": token})).await.expect_problem(409, "invitation_declined");
    app.get(&format!("/v1/invitations/preview?token={token}"), None).await.expect_problem(409, "invitation_declined");
    let id = results[0]["invitation"]["id"].as_str().unwrap();
    let read = app.get(&format!("/v1/accounts/{account}/invitations/{id}"), Some(&owner.access_token)).await;
    assert_eq!(read.body["status"], "declined");
    assert!(read.body["decided_at"].is_string());
    app.post("/v1/invitations/decline", None, json!({"token": "made-up"}))
        .await
        .expect_problem(404, "invitation_unknown");
    app.post("/v1/invitations/decline", None, json!({})).await.expect_problem(422, "validation_failed");
}

/// Accepting reads the invitation with everything it offers in one query:
/// several roles, one of them also inside a group, and two groups to join,
/// all arrive once each.
async fn an_invitation_offering_roles_in_and_out_of_groups_is_accepted_whole(app: TestApp) {
    let owner = app.sign_up("owner@example.com").await;
    let account = app.create_account(&owner, "Acme").await;
    let (a, o) = (format!("/v1/accounts/{account}"), Some(owner.access_token.as_str()));
    let lead = json!({"key": "design-lead", "name": "Design lead", "permissions": ["members:read"]});
    app.post(&format!("{a}/roles"), o, lead).await.expect_status(201);
    let mut groups = Vec::new();
    for name in ["Design", "Research"] {
        let created = app.post(&format!("{a}/groups"), o, json!({"name": name})).await;
        groups.push(created.expect_status(201)["id"].as_str().unwrap().to_owned());
    }
    let design = &groups[0];
    let offered =
        json!([{"role": "design-lead", "group_id": design}, {"role": "administrator"}, {"role": "design-lead"}]);
    let item = json!([{"email": "grace@example.com", "assignments": offered, "send_email": false}]);
    let results = invite(&app, &owner, &account, item).await;
    let invitation = results[0]["invitation"]["id"].as_str().unwrap();
    {
        // Plain group memberships come from spreadsheets only; written here.
        use diesel::prelude::*;
        use persistence::schema::invitation_groups;
        for group in &groups {
            let row = (invitation_groups::invitation_id.eq(invitation), invitation_groups::group_id.eq(group));
            diesel::insert_into(invitation_groups::table).values(row).execute(&mut *app.db()).unwrap();
        }
    }
    let link = results[0]["accept_url"].as_str().unwrap();
    let token = link.split("token=").nth(1).unwrap();
    let grace = app.sign_up("grace@example.com").await;

    let accepted = app.post("/v1/invitations/accept", Some(&grace.access_token), json!({"token": token})).await;
    assert_eq!(accepted.expect_status(200)["roles"], json!(["administrator", "design-lead"]));
    let member = app.get(&format!("{a}/members/{}", grace.id), o).await;
    assert_eq!(
        member.expect_status(200)["assignments"],
        json!([
            {"role": "administrator", "group_id": null},
            {"role": "design-lead", "group_id": null},
            {"role": "design-lead", "group_id": design},
        ])
    );
    for group in &groups {
        let listed = app.get(&format!("{a}/groups/{group}/members"), o).await;
        let emails: Vec<&str> = listed.expect_status(200)["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["email"].as_str().unwrap())
            .collect();
        assert_eq!(emails, ["grace@example.com"], "group {group}");
    }
}

/// An invitation whose window closed still holds the email's place until
/// it is recorded as expired; a new invitation records it first instead of
/// waiting for the expiry job.
async fn a_lapsed_invitation_gives_way_before_the_expiry_job_runs(app: TestApp) {
    let owner = app.sign_up("owner@example.com").await;
    let account = app.create_account(&owner, "Acme").await;
    let first = invite(&app, &owner, &account, json!([{"email": "grace@example.com", "send_email": false}])).await;
    let first = first[0]["invitation"]["id"].as_str().unwrap().to_owned();
    let imported = invite(&app, &owner, &account, json!([{"email": "ada@example.com", "send_email": false}])).await;
    let imported = imported[0]["invitation"]["id"].as_str().unwrap().to_owned();
    // While it is open, a second invitation is refused.
    let again = invite(&app, &owner, &account, json!([{"email": "grace@example.com", "send_email": false}])).await;
    assert_eq!(again[0]["outcome"], "failed", "{again}");

    app.clock.advance(chrono::Duration::days(91)); // past the default 90 days; no job runs
    let again = invite(&app, &owner, &account, json!([{"email": "grace@example.com", "send_email": false}])).await;
    assert_eq!(again[0]["outcome"], "created", "{again}");
    // A spreadsheet row for the other lapsed invitation: the import's
    // batch records it as expired too (only the import jobs run here).
    let upload = crate::imports::upload(
        &app,
        &owner,
        &account,
        b"email,first_name,last_name,roles,groups\nada@example.com,Ada,Lovelace,,\n".to_vec(),
    )
    .await;
    assert_eq!(upload.status(), 202);
    let id = upload.json::<Value>().await.unwrap()["import_id"].as_str().unwrap().to_owned();
    app.jobs.run_kinds_until_idle(Some(&["import".to_owned()])).await.unwrap();
    let import = app.get(&format!("/v1/accounts/{account}/invitation-imports/{id}"), Some(&owner.access_token)).await;
    assert_eq!(import.body["invited"], 1, "{}", import.body);
    let expired = app
        .get(&format!("/v1/accounts/{account}/invitations?status=expired"), Some(&owner.access_token))
        .await
        .expect_status(200)["items"]
        .clone();
    let mut expired: Vec<&str> = expired.as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap()).collect();
    expired.sort_unstable();
    let mut lapsed = [first.as_str(), imported.as_str()];
    lapsed.sort_unstable();
    assert_eq!(expired, lapsed);
    app.run_jobs().await; // seals the log; the expiry job finds nothing left to expire
    let log = app.get(&format!("/v1/accounts/{account}/audit-events"), Some(&owner.access_token)).await;
    let expiries: Vec<&Value> =
        log.body["items"].as_array().unwrap().iter().filter(|e| e["action"] == "invitation.expired").collect();
    let mut expiries: Vec<&str> = expiries.iter().map(|e| e["targets"][0]["id"].as_str().unwrap()).collect();
    expiries.sort_unstable();
    assert_eq!(expiries, lapsed, "{}", log.body);
}

/// The token of an invitation's accept link, as its batch answered it.
/// Grace, invited to Acme by its owner, who joins by another way while the
/// invitation is still pending (arranged in SQL).
struct Joined {
    owner: SignedIn,
    grace: SignedIn,
    account: String,
    id: String,
    token: String,
}

async fn invited_then_member_another_way(app: &TestApp) -> Joined {
    let owner = app.sign_up("owner@example.com").await;
    let grace = app.sign_up("grace@example.com").await;
    let account = app.create_account(&owner, "Acme").await;
    let results = invite(app, &owner, &account, json!([{"email": "grace@example.com", "send_email": false}])).await;
    let id = results[0]["invitation"]["id"].as_str().unwrap().to_owned();
    let token = accept_token(&results[0]);
    app.add_member(&account, &grace.id, &[]);
    Joined { owner, grace, account, id, token }
}

fn accept_token(result: &Value) -> String {
    result["accept_url"].as_str().unwrap().split("token=").nth(1).unwrap().to_owned()
}

pub(crate) async fn invite(app: &TestApp, admin: &SignedIn, account: &str, items: Value) -> Value {
    let reply = app
        .post(&format!("/v1/accounts/{account}/invitations"), Some(&admin.access_token), json!({"invitations": items}))
        .await;
    reply.expect_status(200)["results"].clone()
}

pub(crate) async fn token_from_email(app: &TestApp, recipient: &str, nth: usize) -> String {
    let mail = app.emails_to(recipient, nth).await;
    mail[nth - 1].link_parameter("token").expect("the email carries a link with a token")
}

async fn an_emailed_invitation_is_accepted_by_registering(app: TestApp) {
    let owner = app.sign_up("owner@example.com").await;
    let account = app.create_account(&owner, "Acme").await;
    let results = invite(&app, &owner, &account, json!([{"email": "Grace@Example.com", "first_name": "Grace", "last_name": "Hopper", "roles": ["administrator"]}])).await;
    assert_eq!(results[0]["outcome"], "created");
    assert_eq!(results[0]["invitation"]["status"], "pending");
    assert!(results[0].get("accept_url").is_none(), "emailed invitations do not return their link");

    let mail = app.emails_to("grace@example.com", 1).await;
    assert!(mail[0].header("x-roster-outbox-id").is_some());
    // Names are free text: they stand quoted in the body, never in the
    // subject, where a name like "Visit … to keep your job" would read as ours.
    assert_eq!(mail[0].header("subject").as_deref(), Some("You are invited to join an account on Roster"));
    assert!(mail[0].decoded().contains("“Ada Lovelace” invited you to join the account “Acme”"));
    let token = mail[0].link_parameter("token").unwrap();
    let preview = app.get(&format!("/v1/invitations/preview?token={token}"), None).await;
    let preview = preview.expect_status(200);
    assert_eq!(preview["account_name"], "Acme");
    assert_eq!(preview["inviter_name"], "Ada Lovelace");
    assert_eq!(preview["roles"], json!(["administrator"]));

    let registered = app
        .post(
            "/v1/invitations/register",
            None,
            json!({"token": token, "password": PASSWORD, "first_name": "Grace", "last_name": "Hopper"}),
        )
        .await;
    let access = registered.expect_status(201)["access_token"].as_str().unwrap().to_owned();
    let me = app.get("/v1/me", Some(&access)).await;
    assert_eq!(me.body["email"], "grace@example.com");
    assert_eq!(me.body["email_verified"], true);
    let mine = app.get("/v1/me/accounts", Some(&access)).await;
    assert_eq!(mine.body["items"][0]["roles"], json!(["administrator"]));
    let members = app.get(&format!("/v1/accounts/{account}/members"), Some(&owner.access_token)).await;
    assert_eq!(members.expect_status(200)["items"].as_array().unwrap().len(), 2);
    // The link is spent.
    app.get(&format!("/v1/invitations/preview?token={token}"), None).await.expect_problem(409, "invitation_accepted");
    app.post("/v1/invitations/accept", Some(&access), json!({"token": token}))
        .await
        .expect_problem(409, "invitation_accepted");
}

async fn accepting_needs_the_verified_invited_email(app: TestApp) {
    let owner = app.sign_up("owner@example.com").await;
    let account = app.create_account(&owner, "Acme").await;
    let grace = app.sign_up_unverified("grace@example.com").await;
    let eve = app.sign_up("eve@example.com").await;
    invite(&app, &owner, &account, json!([{"email": "grace@example.com"}])).await;
    let token = token_from_email(&app, "grace@example.com", 2).await;

    app.post("/v1/invitations/accept", Some(&eve.access_token), json!({"token": token}))
        .await
        .expect_problem(403, "invitation_email_mismatch");
    app.post("/v1/invitations/accept", Some(&grace.access_token), json!({"token": token}))
        .await
        .expect_problem(403, "invitation_email_mismatch");
    let verification = app
        .mail
        .to("grace@example.com")
        .into_iter()
        .find(|m| m.header("subject").unwrap().contains("Confirm"))
        .unwrap();
    let verify_token = verification.link_parameter("token").unwrap();
    app.post("/v1/auth/verify-email", None, json!({"token": verify_token})).await.expect_status(204);
    app.post("/v1/auth/verify-email", None, json!({"token": verify_token}))
        .await
        .expect_problem(409, "verification_invalid");

    let mine = app.get("/v1/me/invitations", Some(&grace.access_token)).await;
    assert_eq!(mine.body["items"].as_array().unwrap().len(), 1);
    let accepted = app.post("/v1/invitations/accept", Some(&grace.access_token), json!({"token": token})).await;
    assert_eq!(accepted.expect_status(200)["account_id"], account.as_str());
    assert!(
        app.get("/v1/me/invitations", Some(&grace.access_token)).await.body["items"].as_array().unwrap().is_empty()
    );
    app.post("/v1/invitations/accept", None, json!({"token": token})).await.expect_problem(401, "unauthenticated");
}

async fn resend_revoke_and_removal_kill_tokens(app: TestApp) {
    let owner = app.sign_up("owner@example.com").await;
    let account = app.create_account(&owner, "Acme").await;
    let results = invite(&app, &owner, &account, json!([{"email": "grace@example.com"}])).await;
    let id = results[0]["invitation"]["id"].as_str().unwrap().to_owned();
    let first = token_from_email(&app, "grace@example.com", 1).await;
    let path = format!("/v1/accounts/{account}/invitations/{id}");

    app.post(&format!("{path}/resend"), Some(&owner.access_token), json!({})).await.expect_status(200);
    let second = token_from_email(&app, "grace@example.com", 2).await;
    assert_ne!(first, second);
    app.get(&format!("/v1/invitations/preview?token={first}"), None).await.expect_problem(404, "invitation_unknown");

    app.post(&format!("{path}/revoke"), Some(&owner.access_token), json!({})).await.expect_status(200);
    assert_eq!(app.get(&path, Some(&owner.access_token)).await.body["status"], "revoked");
    let refused = app
        .post(
            "/v1/invitations/register",
            None,
            json!({"token": second, "password": PASSWORD, "first_name": "G", "last_name": "H"}),
        )
        .await;
    refused.expect_problem(409, "invitation_revoked");
    app.post(&format!("{path}/revoke"), Some(&owner.access_token), json!({}))
        .await
        .expect_problem(409, "invitation_revoked");
    app.post(&format!("{path}/resend"), Some(&owner.access_token), json!({}))
        .await
        .expect_problem(409, "invitation_revoked");

    // A member removed while holding another pending invitation cannot use it.
    let results = invite(&app, &owner, &account, json!([{"email": "grace@example.com"}])).await;
    assert_eq!(results[0]["outcome"], "created");
    let token = token_from_email(&app, "grace@example.com", 3).await;
    let grace = app
        .post(
            "/v1/invitations/register",
            None,
            json!({"token": token, "password": PASSWORD, "first_name": "Grace", "last_name": "Hopper"}),
        )
        .await;
    let grace_token = grace.expect_status(201)["access_token"].as_str().unwrap().to_owned();
    let grace_id = app.get("/v1/me", Some(&grace_token)).await.body["id"].as_str().unwrap().to_owned();
    invite(&app, &owner, &account, json!([{"email": "someone@example.com"}])).await;
    app.delete(&format!("/v1/accounts/{account}/members/{grace_id}"), Some(&owner.access_token))
        .await
        .expect_status(204);
    app.get(&format!("/v1/accounts/{account}"), Some(&grace_token)).await.expect_problem(404, "not_found");
    // The old link never works again; a new invitation is needed to return.
    app.post("/v1/invitations/accept", Some(&grace_token), json!({"token": token}))
        .await
        .expect_problem(409, "invitation_accepted");
    app.delete(&format!("/v1/accounts/{account}/members/{grace_id}"), Some(&owner.access_token))
        .await
        .expect_problem(404, "not_found");
    let again = invite(&app, &owner, &account, json!([{"email": "grace@example.com"}])).await;
    assert_eq!(again[0]["outcome"], "created");
    let fresh = token_from_email(&app, "grace@example.com", 4).await;
    app.post("/v1/invitations/accept", Some(&grace_token), json!({"token": fresh})).await.expect_status(200);
    app.get(&format!("/v1/accounts/{account}"), Some(&grace_token)).await.expect_status(200);
}

async fn batches_report_each_item_and_cap_at_twenty(app: TestApp) {
    let owner = app.sign_up("owner@example.com").await;
    let member = app.sign_up("member@example.com").await;
    let account = app.create_account(&owner, "Acme").await;
    let results = invite(&app, &owner, &account, json!([{"email": "member@example.com", "send_email": false}])).await;
    let url = results[0]["accept_url"].as_str().expect("send_email false returns the link").to_owned();
    let token = url.split("token=").nth(1).unwrap();
    app.post(
        "/v1/auth/verify-email",
        None,
        json!({"token": app.emails_to("member@example.com", 1).await[0].link_parameter("token").unwrap()}),
    )
    .await
    .expect_status(204);
    app.post("/v1/invitations/accept", Some(&member.access_token), json!({"token": token})).await.expect_status(200);

    let results = invite(
        &app,
        &owner,
        &account,
        json!([
            {"email": "new@example.com", "roles": ["administrator"]},
            {"email": "member@example.com"},
            {"email": "new@example.com"},
            {"email": "x@example.com", "roles": ["wizard"]},
        ]),
    )
    .await;
    let outcomes: Vec<(&str, &str)> = results
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["outcome"].as_str().unwrap(), r["problem"]["code"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(
        outcomes,
        [("created", ""), ("failed", "already_member"), ("failed", "already_invited"), ("failed", "validation_failed"),]
    );
    assert_eq!(results[3]["problem"]["errors"][0]["code"], "unknown_role");

    // What the schema rules out refuses the whole batch, naming each item.
    let malformed = app
        .post(
            &format!("/v1/accounts/{account}/invitations"),
            Some(&owner.access_token),
            json!({"invitations": [
                {"email": "p1@example.com"},
                {"email": "not an email"},
                {"email": "p2@example.com", "roles": ["Not A Key"]},
            ]}),
        )
        .await;
    let errors: Vec<(&str, &str)> = malformed.expect_problem(422, "validation_failed").body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["field"].as_str().unwrap(), e["code"].as_str().unwrap()))
        .collect();
    assert_eq!(errors, [("invitations.1.email", "invalid_format"), ("invitations.2.roles", "invalid_role_key")]);

    let too_many: Vec<Value> = (0..21).map(|i| json!({"email": format!("p{i}@example.com")})).collect();
    let reply = app
        .post(
            &format!("/v1/accounts/{account}/invitations"),
            Some(&owner.access_token),
            json!({"invitations": too_many}),
        )
        .await;
    reply.expect_problem(422, "validation_failed");
    let empty = app
        .post(&format!("/v1/accounts/{account}/invitations"), Some(&owner.access_token), json!({"invitations": []}))
        .await;
    empty.expect_problem(422, "validation_failed");
    let listed = app.get(&format!("/v1/accounts/{account}/invitations?q=p1"), Some(&owner.access_token)).await;
    assert!(listed.body["items"].as_array().unwrap().is_empty(), "a refused batch writes nothing");
}

/// Makes the database fail while it stores an invitation for `email`: on
/// PostgreSQL the connection drops (the server ends it, as a restart
/// would), on SQLite the insert fails.
fn break_the_database_at(app: &TestApp, email: &str) {
    use diesel::RunQueryDsl;
    let statements = match app.backend {
        Backend::Postgres => vec![
            format!(
                "CREATE FUNCTION drop_the_connection() RETURNS trigger AS $$ BEGIN \
                 IF NEW.email = '{email}' THEN PERFORM pg_terminate_backend(pg_backend_pid()); PERFORM pg_sleep(5); END IF; \
                 RETURN NEW; END $$ LANGUAGE plpgsql"
            ),
            "CREATE TRIGGER drop_the_connection BEFORE INSERT ON invitations \
             FOR EACH ROW EXECUTE FUNCTION drop_the_connection()"
                .to_owned(),
        ],
        Backend::Sqlite => vec![format!(
            "CREATE TRIGGER fail_the_insert BEFORE INSERT ON invitations WHEN NEW.email = '{email}' \
             BEGIN SELECT RAISE(ABORT, 'the disk failed'); END"
        )],
    };
    for statement in statements {
        diesel::sql_query(statement).execute(&mut *app.db()).unwrap();
    }
}

async fn a_batch_is_stored_whole_or_not_at_all(app: TestApp) {
    let owner = app.sign_up("owner@example.com").await;
    let account = app.create_account(&owner, "Acme").await;
    let path = format!("/v1/accounts/{account}/invitations");
    let send = |items: Value, key: &'static str| {
        let request = app
            .client
            .post(app.url(&path))
            .bearer_auth(&owner.access_token)
            .header("idempotency-key", key)
            .json(&json!({"invitations": items}));
        async move { TestApp::read(request.send().await.unwrap()).await }
    };
    break_the_database_at(&app, "broken@example.com");
    let batch = json!([{"email": "ada@example.com"}, {"email": "broken@example.com"}, {"email": "grace@example.com"}]);
    let failed = send(batch, "batch-1").await;
    match app.backend {
        // The client may retry: it is told so, and when.
        Backend::Postgres => {
            failed.expect_problem(503, "unavailable");
            assert_eq!(failed.headers["retry-after"], "1");
        }
        Backend::Sqlite => {
            failed.expect_problem(500, "internal_error");
        }
    }
    let listed = app.get(&format!("{path}?status=pending"), Some(&owner.access_token)).await;
    assert_eq!(listed.expect_status(200)["items"], json!([]), "the item before the failure was not kept");

    // Sent again without the failing item, the batch is stored whole, and
    // sent once more, each item is reported as the invitation it made; a
    // replay under the first key answers what the first request answered.
    let batch = json!([{"email": "ada@example.com"}, {"email": "grace@example.com"}]);
    let first = send(batch.clone(), "batch-2").await;
    let outcomes = |reply: &integration_tests::Reply| -> Vec<(String, String)> {
        reply.body["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (r["outcome"].as_str().unwrap().to_owned(), r["problem"]["code"].as_str().unwrap_or("").to_owned())
            })
            .collect()
    };
    let created = ("created".to_owned(), String::new());
    assert_eq!(outcomes(&first), [created.clone(), created.clone()]);
    let again = send(batch.clone(), "batch-3").await;
    let already = ("failed".to_owned(), "already_invited".to_owned());
    assert_eq!(outcomes(&again), [already.clone(), already]);
    let replayed = send(batch, "batch-2").await;
    assert_eq!((replayed.status, &replayed.body), (first.status, &first.body));
    assert_eq!(app.emails_to("ada@example.com", 1).await.len(), 1);
    assert_eq!(app.emails_to("grace@example.com", 1).await.len(), 1);
}

async fn the_email_policy_refuses_existing_users(app: TestApp) {
    let owner = app.sign_up("owner@example.com").await;
    app.sign_up("existing@example.com").await;
    let account = app.create_account(&owner, "Acme").await;
    let preferences = format!("/v1/accounts/{account}/preferences");
    let defaults = app.get(&preferences, Some(&owner.access_token)).await;
    assert_eq!(
        defaults.expect_status(200),
        &json!({"invitation_ttl_days": 90, "reminder_days": [3, 14, 60], "invitation_email_policy": "any", "invitations_restricted_to_domains": false})
    );
    let bad = app
        .patch(
            &preferences,
            Some(&owner.access_token),
            json!({"invitation_ttl_days": 0, "reminder_days": [5, 5], "invitation_email_policy": "some"}),
        )
        .await;
    assert_eq!(bad.expect_problem(422, "validation_failed").body["errors"].as_array().unwrap().len(), 3);
    let tag = app.etag_of(&preferences, &owner.access_token).await;
    let change =
        json!({"invitation_email_policy": "new_users_only", "invitation_ttl_days": 7.0, "reminder_days": [5, 2.0]});
    let updated = app
        .request_if_match(reqwest::Method::PATCH, &preferences, &owner.access_token, Some(&tag), Some(change.clone()))
        .await;
    app.request_if_match(reqwest::Method::PATCH, &preferences, &owner.access_token, Some(&tag), Some(change))
        .await
        .expect_problem(412, "precondition_failed");
    // Whole numbers however written, reminder days in any order.
    let updated = updated.expect_status(200);
    assert_eq!(updated["invitation_email_policy"], "new_users_only");
    assert_eq!((&updated["invitation_ttl_days"], &updated["reminder_days"]), (&json!(7), &json!([2, 5])));
    let fraction = app.patch(&preferences, Some(&owner.access_token), json!({"reminder_days": [1.5]})).await;
    assert_eq!(fraction.expect_problem(422, "validation_failed").body["errors"][0]["field"], "reminder_days");

    let results =
        invite(&app, &owner, &account, json!([{"email": "EXISTING@example.com"}, {"email": "fresh@example.com"}]))
            .await;
    assert_eq!(results[0]["problem"]["code"], "email_policy_refused");
    assert_eq!(results[1]["outcome"], "created");
    let sent = chrono::DateTime::parse_from_rfc3339(results[1]["invitation"]["sent_at"].as_str().unwrap()).unwrap();
    let expires =
        chrono::DateTime::parse_from_rfc3339(results[1]["invitation"]["expires_at"].as_str().unwrap()).unwrap();
    assert_eq!(expires - sent, chrono::Duration::days(7));
}

async fn invitations_are_listed_searched_and_guarded(app: TestApp) {
    let owner = app.sign_up("owner@example.com").await;
    let stranger = app.sign_up("stranger@example.com").await;
    let account = app.create_account(&owner, "Acme").await;
    invite(
        &app,
        &owner,
        &account,
        json!([
            {"email": "grace@example.com", "first_name": "Grace", "last_name": "Hopper"},
            {"email": "alan@example.com", "first_name": "Alan", "last_name": "Turing"},
            {"email": "edsger@example.com", "first_name": "Edsger", "last_name": "Dijkstra"},
        ]),
    )
    .await;
    let list = format!("/v1/accounts/{account}/invitations");
    let token = Some(owner.access_token.as_str());
    let wildcard = app.get(&format!("{list}?q=%25"), token).await;
    assert!(wildcard.expect_status(200)["items"].as_array().unwrap().is_empty(), "% is matched literally");
    let found = app.get(&format!("{list}?q=TURING"), token).await;
    assert_eq!(found.body["items"][0]["email"], "alan@example.com");
    assert_eq!(found.body["items"].as_array().unwrap().len(), 1);
    let page = app.get(&format!("{list}?limit=2&status=pending"), token).await;
    assert_eq!(page.body["items"].as_array().unwrap().len(), 2);
    let cursor = page.body["next_cursor"].as_str().unwrap();
    let rest = app.get(&format!("{list}?limit=2&status=pending&cursor={cursor}"), token).await;
    assert_eq!(rest.body["items"][0]["email"], "edsger@example.com");
    assert!(rest.body["next_cursor"].is_null());
    assert!(app.get(&format!("{list}?status=accepted"), token).await.body["items"].as_array().unwrap().is_empty());
    app.get(&format!("{list}?status=weird"), token).await.expect_problem(422, "validation_failed");

    let id = page.body["items"][0]["id"].as_str().unwrap();
    for path in [list.clone(), format!("{list}/{id}")] {
        app.get(&path, Some(&stranger.access_token)).await.expect_problem(404, "not_found");
    }
    app.post(&list, Some(&stranger.access_token), json!({"invitations": [{"email": "x@example.com"}]}))
        .await
        .expect_problem(404, "not_found");
    app.post(&format!("{list}/{id}/revoke"), Some(&stranger.access_token), json!({}))
        .await
        .expect_problem(404, "not_found");
    let other_account = app.create_account(&stranger, "Other").await;
    app.get(&format!("/v1/accounts/{other_account}/invitations/{id}"), Some(&stranger.access_token))
        .await
        .expect_problem(404, "not_found");
    app.get("/v1/invitations/preview?token=nonsense", None).await.expect_problem(404, "invitation_unknown");
    app.get("/v1/invitations/preview", None).await.expect_problem(400, "invalid_query");
}

/// On SQLite a new invitation waits in a queue until the job runner adds
/// it to the search index; searches read both, so nothing is missed or
/// found twice on either side of that move, and no account sees another's.
async fn search_finds_invitations_before_and_after_the_index_takes_them_in(app: TestApp) {
    let owner = app.sign_up("owner@example.com").await;
    let stranger = app.sign_up("stranger@example.com").await;
    let account = app.create_account(&owner, "Acme").await;
    let other = app.create_account(&stranger, "Other").await;
    let queued = || {
        use diesel::prelude::*;
        use persistence::schema::invitations_search_queue::dsl;
        match app.backend {
            Backend::Sqlite => dsl::invitations_search_queue.count().get_result(&mut *app.db()).unwrap(),
            Backend::Postgres => 0i64,
        }
    };
    let search = |account: String, token: String, q: &'static str| {
        let app = &app;
        async move {
            let found = app.get(&format!("/v1/accounts/{account}/invitations?q={q}"), Some(&token)).await;
            found.expect_status(200)["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|item| item["email"].as_str().unwrap().to_owned())
                .collect::<Vec<String>>()
        }
    };
    let alan = json!([{"email": "alan@example.com", "first_name": "Alan", "last_name": "Turing"}]);
    invite(&app, &owner, &account, alan).await;
    invite(&app, &stranger, &other, json!([{"email": "alan.t@example.com", "last_name": "Turing"}])).await;
    let (owner_token, stranger_token) = (owner.access_token.clone(), stranger.access_token.clone());
    if app.backend == integration_tests::Backend::Sqlite {
        assert_eq!(queued(), 2, "new invitations wait for the index");
    }
    assert_eq!(search(account.clone(), owner_token.clone(), "turing").await, ["alan@example.com"]);

    app.run_jobs().await;
    assert_eq!(queued(), 0, "the runner took the queue into the index");
    assert_eq!(search(account.clone(), owner_token.clone(), "turing").await, ["alan@example.com"]);
    assert_eq!(search(other.clone(), stranger_token.clone(), "turing").await, ["alan.t@example.com"]);

    // One indexed, one queued: both found, once each.
    invite(&app, &owner, &account, json!([{"email": "joan@example.com", "last_name": "Turing-Clarke"}])).await;
    assert_eq!(search(account.clone(), owner_token.clone(), "turing").await, ["alan@example.com", "joan@example.com"]);
    assert!(search(account, owner_token, "hopper").await.is_empty());
}

async fn the_last_owner_can_neither_leave_nor_be_removed(app: TestApp) {
    let owner = app.sign_up("owner@example.com").await;
    let account = app.create_account(&owner, "Acme").await;
    app.delete(&format!("/v1/me/accounts/{account}"), Some(&owner.access_token))
        .await
        .expect_problem(409, "last_owner");
    app.delete(&format!("/v1/accounts/{account}/members/{}", owner.id), Some(&owner.access_token))
        .await
        .expect_problem(409, "last_owner");
    app.get(&format!("/v1/accounts/{account}"), Some(&owner.access_token)).await.expect_status(200);
}

async fn parallel_invites_of_one_email_make_one_invitation(app: TestApp) {
    let owner = app.sign_up("owner@example.com").await;
    let account = app.create_account(&owner, "Acme").await;
    let requests = (0..20).map(|_| invite(&app, &owner, &account, json!([{"email": "grace@example.com"}])));
    let results = join_all(requests).await;
    let created = results.iter().filter(|r| r[0]["outcome"] == "created").count();
    assert_eq!(created, 1);
    assert!(
        results.iter().filter(|r| r[0]["outcome"] == "failed").all(|r| r[0]["problem"]["code"] == "already_invited")
    );
}

async fn parallel_accepts_make_one_membership(app: TestApp) {
    let owner = app.sign_up("owner@example.com").await;
    let grace = app.sign_up_unverified("grace@example.com").await;
    let verification = app.emails_to("grace@example.com", 1).await[0].link_parameter("token").unwrap();
    app.post("/v1/auth/verify-email", None, json!({"token": verification})).await.expect_status(204);
    let account = app.create_account(&owner, "Acme").await;
    let results = invite(&app, &owner, &account, json!([{"email": "grace@example.com", "send_email": false}])).await;
    let token = accept_token(&results[0]);
    let attempts =
        (0..50).map(|_| app.post("/v1/invitations/accept", Some(&grace.access_token), json!({"token": token})));
    let replies = join_all(attempts).await;
    assert_eq!(replies.iter().filter(|r| r.status == 200).count(), 1, "exactly one accept wins");
    for loser in replies.iter().filter(|r| r.status != 200) {
        loser.expect_problem(409, "invitation_accepted");
    }
    let members = app.get(&format!("/v1/accounts/{account}/members"), Some(&owner.access_token)).await;
    assert_eq!(members.body["items"].as_array().unwrap().len(), 2);
}

mod lifecycle {
    use chrono::Duration;
    use integration_tests::{PASSWORD, TestApp, on_both_backends};
    use serde_json::json;

    use super::{accept_token, invite, token_from_email};

    on_both_backends!(
        reminders_follow_the_schedule_and_expiry_closes_the_link,
        revoking_stops_reminders,
        accept_racing_revoke_has_one_winner
    );

    async fn reminders_follow_the_schedule_and_expiry_closes_the_link(app: TestApp) {
        let owner = app.sign_up("owner@example.com").await;
        let account = app.create_account(&owner, "Acme").await;
        let results = invite(&app, &owner, &account, json!([{"email": "grace@example.com"}])).await;
        let id = results[0]["invitation"]["id"].as_str().unwrap().to_owned();
        let original = token_from_email(&app, "grace@example.com", 1).await;

        app.advance(Duration::days(3) - Duration::minutes(1)).await;
        assert_eq!(app.mail.to("grace@example.com").len(), 1, "no reminder before day 3");
        for (day, count) in [(3, 2), (14, 3), (60, 4)] {
            let elapsed = app.now()
                - chrono::DateTime::parse_from_rfc3339(results[0]["invitation"]["sent_at"].as_str().unwrap())
                    .unwrap()
                    .to_utc();
            app.advance(Duration::days(day) - elapsed).await;
            let mail = app.emails_to("grace@example.com", count).await;
            assert!(mail[count - 1].header("subject").unwrap().starts_with("Reminder:"), "reminder on day {day}");
        }
        // Only the newest link works: digests cannot be turned back into links.
        app.get(&format!("/v1/invitations/preview?token={original}"), None)
            .await
            .expect_problem(404, "invitation_unknown");
        let latest = token_from_email(&app, "grace@example.com", 4).await;
        assert_eq!(
            app.get(&format!("/v1/invitations/preview?token={latest}"), None).await.expect_status(200)["status"],
            "pending"
        );

        app.advance(Duration::days(29)).await;
        assert_eq!(app.mail.to("grace@example.com").len(), 4, "three reminders, then none");
        app.advance(Duration::days(1)).await;
        let list =
            app.get(&format!("/v1/accounts/{account}/invitations?status=expired"), Some(&owner.access_token)).await;
        assert_eq!(list.body["items"][0]["id"], id.as_str());
        let register = json!({"token": latest, "password": PASSWORD, "first_name": "Grace", "last_name": "Hopper"});
        app.post("/v1/invitations/register", None, register).await.expect_problem(410, "invitation_expired");
        app.get(&format!("/v1/invitations/preview?token={latest}"), None)
            .await
            .expect_problem(410, "invitation_expired");

        // Resend revives it with a new window and a working link.
        let path = format!("/v1/accounts/{account}/invitations/{id}/resend");
        assert_eq!(app.post(&path, Some(&owner.access_token), json!({})).await.expect_status(200)["status"], "pending");
        let revived = token_from_email(&app, "grace@example.com", 5).await;
        let register = json!({"token": revived, "password": PASSWORD, "first_name": "Grace", "last_name": "Hopper"});
        app.post("/v1/invitations/register", None, register).await.expect_status(201);
        app.advance(Duration::days(3)).await;
        assert_eq!(app.mail.to("grace@example.com").len(), 5, "no reminders after acceptance");
    }

    async fn revoking_stops_reminders(app: TestApp) {
        let owner = app.sign_up("owner@example.com").await;
        let account = app.create_account(&owner, "Acme").await;
        let results =
            invite(&app, &owner, &account, json!([{"email": "grace@example.com"}, {"email": "alan@example.com"}]))
                .await;
        let id = results[0]["invitation"]["id"].as_str().unwrap();
        app.emails_to("grace@example.com", 1).await;
        app.post(&format!("/v1/accounts/{account}/invitations/{id}/revoke"), Some(&owner.access_token), json!({}))
            .await
            .expect_status(200);
        app.advance(Duration::days(3)).await;
        app.emails_to("alan@example.com", 2).await;
        assert_eq!(app.mail.to("grace@example.com").len(), 1);
    }

    async fn accept_racing_revoke_has_one_winner(app: TestApp) {
        let owner = app.sign_up("owner@example.com").await;
        let racer = app.sign_up_unverified("racer@example.com").await;
        let verification = app.emails_to("racer@example.com", 1).await[0].link_parameter("token").unwrap();
        app.post("/v1/auth/verify-email", None, json!({"token": verification})).await.expect_status(204);
        let mut winners = std::collections::HashMap::new();
        for round in 0..8 {
            let account = app.create_account(&owner, &format!("Acme {round}")).await;
            let results = invite(&app, &owner, &account, json!([{"email": racer.email, "send_email": false}])).await;
            let id = results[0]["invitation"]["id"].as_str().unwrap().to_owned();
            let token = accept_token(&results[0]);
            let revoke_path = format!("/v1/accounts/{account}/invitations/{id}/revoke");
            let (revoke, accept) = futures_util::future::join(
                app.post(&revoke_path, Some(&owner.access_token), json!({})),
                app.post("/v1/invitations/accept", Some(&racer.access_token), json!({"token": token})),
            )
            .await;
            let statuses = (revoke.status.as_u16(), accept.status.as_u16());
            assert!(
                statuses == (200, 409) || statuses == (409, 200),
                "round {round}: {statuses:?} {} {}",
                revoke.body,
                accept.body
            );
            let expected = if accept.status == 200 { "accepted" } else { "revoked" };
            *winners.entry(expected).or_insert(0) += 1;
            let invitation =
                app.get(&format!("/v1/accounts/{account}/invitations/{id}"), Some(&owner.access_token)).await;
            assert_eq!(invitation.body["status"], expected);
            let membership = app.get(&format!("/v1/accounts/{account}"), Some(&racer.access_token)).await;
            assert_eq!(membership.status == 200, expected == "accepted", "membership exists exactly when accept won");
        }
        eprintln!("accept vs revoke winners over 8 rounds: {winners:?}");
    }
}

mod instances {
    use chrono::Duration;
    use integration_tests::{TestApp, on_both_backends};
    use serde_json::{Value, json};

    on_both_backends!(two_instances_never_send_an_email_twice);

    async fn two_instances_never_send_an_email_twice(app: TestApp) {
        let sibling = app.spawn_sibling();
        let owner = app.sign_up("owner@example.com").await;
        let account = app.create_account(&owner, "Acme").await;
        let invitees: Vec<String> = (0..40).map(|i| format!("person{i}@example.com")).collect();
        for (chunk, base) in invitees.chunks(20).zip([app.address.clone(), sibling.address.clone()]) {
            let items: Vec<Value> = chunk.iter().map(|email| json!({"email": email})).collect();
            let reply = app
                .client
                .post(format!("{base}/v1/accounts/{account}/invitations"))
                .bearer_auth(&owner.access_token)
                .json(&json!({"invitations": items}))
                .send()
                .await
                .unwrap();
            assert_eq!(reply.status(), 200);
        }
        // Both instances' job runners at once, first for the invitations,
        // then for the reminders both see due: each email goes out once.
        let both = || async {
            let (first, second) = tokio::join!(app.jobs.run_until_idle(), sibling.jobs.run_until_idle());
            first.unwrap() + second.unwrap()
        };
        assert!(both().await >= 40);
        for invitee in &invitees {
            assert_eq!(app.mail.to(invitee).len(), 1, "{invitee}: the invitation");
        }
        app.clock.advance(Duration::days(3));
        both().await;
        for invitee in &invitees {
            assert_eq!(app.mail.to(invitee).len(), 2, "{invitee}: one invitation and one reminder, no duplicates");
        }
    }
}
