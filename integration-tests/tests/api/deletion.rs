//! Deleting an account: the owner repeats its name, it waits out the grace
//! period with nothing in it changing (links, keys and webhooks stopped),
//! an owner may restore it, and then the job runner erases it, leaving no
//! row that names it but its sealed audit log.

use integration_tests::{TestApp, on_both_backends};
use serde_json::json;

on_both_backends!(
    an_account_waits_restorable_then_is_erased_leaving_only_its_sealed_audit_log,
    only_an_owner_deletes_and_only_with_the_accounts_name,
    a_person_erased_from_a_thousand_events_leaves_every_chain_verifiable,
    erasing_oneself_needs_proof_and_no_account_left_without_owner,
    a_persons_export_holds_their_data_and_nothing_of_others,
    a_long_history_is_exported_in_the_background,
);

/// Rows of every table that name `id` in any text column, by table. Apart:
/// the audit log's tables (the erased account's chain is kept, sealed) and
/// SQLite's log of authorization changes, which names what changed for the
/// other instances' caches and is forgotten after a day of the database's
/// own time, which the test's clock does not move.
fn rows_naming(app: &TestApp, id: &str) -> Vec<(String, i64)> {
    rows_containing(app, id, false)
}

/// Rows of every table, the audit log's included (`with_audit`), that
/// contain `text` in any text column, ignoring ASCII case.
fn rows_containing(app: &TestApp, text: &str, with_audit: bool) -> Vec<(String, i64)> {
    use diesel::prelude::*;
    #[derive(QueryableByName)]
    struct Name {
        #[diesel(sql_type = diesel::sql_types::Text)]
        name: String,
    }
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let mut conn = app.db();
    let postgres = app.backend == integration_tests::Backend::Postgres;
    let columns: Vec<(String, String)> = if postgres {
        let query = "SELECT table_name || '.' || column_name AS name FROM information_schema.columns \
                     WHERE table_schema = 'public' AND data_type IN ('text', 'character varying')";
        diesel::sql_query(query).load::<Name>(&mut *conn).unwrap()
    } else {
        let query = "SELECT m.name || '.' || p.name AS name FROM sqlite_master m, pragma_table_info(m.name) p \
                     WHERE m.type = 'table' AND upper(p.type) = 'TEXT' AND m.name NOT LIKE '%search%'";
        diesel::sql_query(query).load::<Name>(&mut *conn).unwrap()
    }
    .into_iter()
    .filter_map(|column| column.name.split_once('.').map(|(t, c)| (t.to_owned(), c.to_owned())))
    .filter(|(table, _)| {
        (with_audit || !table.starts_with("audit_"))
            && !["__diesel_schema_migrations", "authorization_log"].contains(&table.as_str())
    })
    .collect();
    let mut found = Vec::new();
    for (table, column) in columns {
        let query = format!("SELECT COUNT(*) AS n FROM {table} WHERE lower({column}) LIKE '%{}%'", text.to_lowercase());
        let n = diesel::sql_query(query).get_result::<Count>(&mut *conn).unwrap().n;
        if n > 0 {
            found.push((format!("{table}.{column}"), n));
        }
    }
    found
}

async fn an_account_waits_restorable_then_is_erased_leaving_only_its_sealed_audit_log(app: TestApp) {
    let ada = app.sign_up("ada@example.com").await;
    let account = app.create_account(&ada, "Acme").await;
    let t = Some(ada.access_token.as_str());
    let a = format!("/v1/accounts/{account}");
    let bob = app.sign_up("bob@example.com").await;
    app.add_member(&account, &bob.id, &["developer"]);
    // Something of every kind: an invitation, a join link, a group, a key,
    // a webhook, an import, and a link to another account.
    let invited =
        app.post(&format!("{a}/invitations"), t, json!({"invitations": [{"email": "carol@example.com"}]})).await;
    invited.expect_status(200);
    let link = app.post(&format!("{a}/join-links"), t, json!({})).await;
    let link_token = link.expect_status(201)["url"].as_str().unwrap().rsplit('=').next().unwrap().to_owned();
    app.post(&format!("{a}/groups"), t, json!({"name": "Design"})).await.expect_status(201);
    let partner = app.post(&format!("{a}/partners"), t, json!({"name": "Acme Logistics"})).await;
    let partner = partner.expect_status(201)["id"].as_str().unwrap().to_owned();
    let key = json!({"name": "Sync", "partner_id": partner, "permissions": ["members:read", "groups:manage"]});
    let key = app.post(&format!("{a}/api-keys"), t, key).await;
    let secret = key.expect_status(201)["secret"].as_str().unwrap().to_owned();
    let receiver = integration_tests::WebhookReceiver::start().await;
    let hook = json!({"url": receiver.url(), "event_types": ["group.created"]});
    app.post(&format!("{a}/webhooks"), t, hook).await.expect_status(201);
    let file = "email,first_name,last_name,roles,groups\r\ndan@example.com,Dan,,,\r\n";
    let upload = crate::imports::upload(&app, &ada, &account, file.as_bytes().to_vec()).await;
    TestApp::read(upload).await.expect_status(202);
    let other = app.create_account(&ada, "Acme Global").await;
    app.post(&format!("/v1/accounts/{other}/linked-accounts"), t, json!({"child_account_id": account}))
        .await
        .expect_status(201);
    app.run_jobs().await;
    let carol_token = app.emails_to("carol@example.com", 1).await[0].link_parameter("token").unwrap();

    let deleted = app.request(reqwest::Method::DELETE, &a, t, Some(json!({"confirm_name": "Acme"}))).await;
    let deletion = deleted.expect_status(202).clone();
    assert_eq!(deleted.headers["location"], format!("{a}/deletion"));
    assert_eq!(deletion["status"], "pending_deletion");
    let erase_after: chrono::DateTime<chrono::Utc> = deletion["erase_after"].as_str().unwrap().parse().unwrap();
    assert_eq!((erase_after - app.now()).num_days(), 30, "the default grace period");
    assert_eq!(app.get(&format!("{a}/deletion"), Some(&bob.access_token)).await.expect_status(200).clone(), deletion);

    // Every member hears of it, whatever they chose to hear.
    for member in ["ada@example.com", "bob@example.com"] {
        let mail = app.emails_to(member, 1).await;
        assert!(mail.iter().any(|m| m.subject().as_deref() == Some("Acme is to be deleted")), "{member}");
    }
    // Nothing changes; reads still work; links, keys and tokens stop.
    app.post(&format!("{a}/groups"), t, json!({"name": "Late"})).await.expect_problem(409, "account_pending_deletion");
    app.patch(&a, t, json!({"name": "Renamed"})).await.expect_problem(409, "account_pending_deletion");
    app.get(&format!("{a}/members"), t).await.expect_status(200);
    app.get(&format!("{a}/members"), Some(&secret)).await.expect_problem(401, "unauthenticated");
    app.get(&format!("/v1/invitations/preview?token={carol_token}"), None)
        .await
        .expect_problem(404, "invitation_unknown");
    app.get(&format!("/v1/join-links/preview?token={link_token}"), None).await.expect_problem(404, "join_link_unknown");
    app.request(reqwest::Method::DELETE, &a, t, Some(json!({"confirm_name": "Acme"})))
        .await
        .expect_problem(409, "account_pending_deletion");

    // Restored whole: everything works again, and the members hear of it.
    let restored = app.post(&format!("{a}/restore"), t, json!({})).await;
    assert_eq!(restored.expect_status(200)["name"], "Acme");
    app.get(&format!("{a}/deletion"), t).await.expect_problem(404, "not_found");
    app.get(&format!("/v1/invitations/preview?token={carol_token}"), None).await.expect_status(200);
    app.get(&format!("{a}/members"), Some(&secret)).await.expect_status(200);
    app.post(&format!("{a}/restore"), t, json!({})).await.expect_problem(409, "account_not_pending_deletion");
    let mail = app.emails_to("bob@example.com", 2).await;
    assert!(mail.iter().any(|m| m.subject().as_deref() == Some("Acme was restored")));

    // Deleted again, and left to its end: the grace period passes.
    app.request(reqwest::Method::DELETE, &a, t, Some(json!({"confirm_name": "Acme"}))).await.expect_status(202);
    app.advance(chrono::Duration::days(29)).await;
    assert_eq!(app.get(&a, t).await.expect_status(200)["name"], "Acme", "not before its time");
    app.advance(chrono::Duration::days(2)).await;
    app.get(&a, t).await.expect_problem(404, "not_found");
    let mine = app.get("/v1/me/accounts", Some(&bob.access_token)).await;
    assert!(mine.expect_status(200)["items"].as_array().unwrap().is_empty(), "bob is a member of nothing");
    let links = app.get(&format!("/v1/accounts/{other}/linked-accounts"), t).await;
    assert!(links.expect_status(200)["items"].as_array().unwrap().is_empty(), "unlinked first");

    // Once finished jobs and expired records are forgotten (a week), no
    // row anywhere names the account but its audit log, which verifies.
    app.advance(chrono::Duration::days(8)).await;
    assert_eq!(rows_naming(&app, &account), Vec::<(String, i64)>::new());
    let erased: i64 = {
        use diesel::prelude::*;
        use persistence::schema::audit_events::dsl;
        let mine = dsl::audit_events.filter(dsl::chain.eq(&account)).filter(dsl::action.eq("account.erased"));
        mine.count().get_result(&mut *app.db()).unwrap()
    };
    assert_eq!(erased, 1, "the chain records the erasure, once");
    let (verified, report) = crate::audit::audit_verify(&app);
    assert!(verified, "{report}");
    assert!(report.contains(&account), "the erased account's chain is still there: {report}");

    // The operator reads it as a sealed archive, verified, until a year
    // after the erasure (ROSTER_AUDIT_ARCHIVE_DAYS); then its events go.
    let operator = Some(integration_tests::OPERATOR_TOKEN);
    let archives = app.get("/v1/operator/audit-archives", operator).await;
    let archive = archives.expect_status(200)["items"][0].clone();
    assert_eq!((&archive["account_id"], &archive["verified"]), (&json!(account), &json!(true)), "{archive}");
    assert!(archive["events"].as_i64().unwrap() > 10);
    let events = app.client.get(app.url(&format!("/v1/operator/audit-archives/{account}/events")));
    let events = events.bearer_auth(integration_tests::OPERATOR_TOKEN).send().await.unwrap().text().await.unwrap();
    assert_eq!(events.lines().count() as i64, archive["events"].as_i64().unwrap());
    assert!(events.lines().next().unwrap().contains("\"account.erased\""), "newest first");
    app.get(&format!("/v1/operator/audit-archives/{other}/events"), operator).await.expect_problem(404, "not_found");
    app.get("/v1/operator/audit-archives", t).await.expect_problem(401, "unauthenticated");
    // Erased 8 days ago: 350 more is short of a year, 10 more is past it.
    app.advance(chrono::Duration::days(350)).await;
    let kept = app.get("/v1/operator/audit-archives", operator).await;
    assert_eq!(kept.expect_status(200)["items"].as_array().unwrap().len(), 1, "not before its time");
    app.advance(chrono::Duration::days(10)).await;
    let gone = app.get("/v1/operator/audit-archives", operator).await;
    assert!(gone.expect_status(200)["items"].as_array().unwrap().is_empty());
    let left: i64 = {
        use diesel::prelude::*;
        use persistence::schema::audit_events::dsl;
        dsl::audit_events.filter(dsl::chain.eq(&account)).count().get_result(&mut *app.db()).unwrap()
    };
    assert_eq!(left, 0, "its events are removed");
    let (verified, report) = crate::audit::audit_verify(&app);
    assert!(verified, "what is left still verifies: {report}");
}

async fn only_an_owner_deletes_and_only_with_the_accounts_name(app: TestApp) {
    let ada = app.sign_up("ada@example.com").await;
    let account = app.create_account(&ada, "Acme GmbH").await;
    let admin = app.sign_up("admin@example.com").await;
    app.add_member(&account, &admin.id, &["administrator"]);
    let a = format!("/v1/accounts/{account}");
    let confirm = json!({"confirm_name": "Acme GmbH"});
    app.request(reqwest::Method::DELETE, &a, Some(&admin.access_token), Some(confirm.clone()))
        .await
        .expect_problem(403, "forbidden");
    for wrong in [json!({"confirm_name": "acme gmbh"}), json!({"confirm_name": "Acme"}), json!({})] {
        let refused = app.request(reqwest::Method::DELETE, &a, Some(&ada.access_token), Some(wrong)).await;
        refused.expect_problem(422, "validation_failed");
    }
    app.get(&format!("{a}/deletion"), Some(&ada.access_token)).await.expect_problem(404, "not_found");
    app.post(&format!("{a}/groups"), Some(&ada.access_token), json!({"name": "Still here"})).await.expect_status(201);
    app.post(&format!("{a}/restore"), Some(&admin.access_token), json!({})).await.expect_problem(403, "forbidden");
}

async fn a_person_erased_from_a_thousand_events_leaves_every_chain_verifiable(app: TestApp) {
    let grace = app.sign_up("grace@example.com").await;
    let account = app.create_account(&grace, "Acme").await;
    let g = Some(grace.access_token.as_str());
    let a = format!("/v1/accounts/{account}");
    // Ada is invited (the email goes out, its job is kept), joins, names
    // herself, and appears in a thousand events of the account's chain.
    let invited = json!({"invitations": [{"email": "Ada@Example.com", "first_name": "Ada"}]});
    app.post(&format!("{a}/invitations"), g, invited).await.expect_status(200);
    let ada = app.sign_up("ada@example.com").await;
    app.add_member(&account, &ada.id, &["developer"]);
    let t = Some(ada.access_token.as_str());
    app.patch("/v1/me", t, json!({"first_name": "Augusta", "last_name": "Byron-King"})).await.expect_status(200);
    let receiver = integration_tests::WebhookReceiver::start().await;
    let hook = json!({"url": receiver.url(), "event_types": ["member.left", "group.created"]});
    app.post(&format!("{a}/webhooks"), g, hook).await.expect_status(201);
    {
        let mut conn = app.db();
        let events: Vec<(String, String)> = (0..1_000)
            .map(|i| {
                let targets = json!([{"type": "user", "id": ada.id, "label": "ada@example.com"}]).to_string();
                let changes =
                    json!({"note": {"before": null, "after": format!("#{i} by ADA@example.com")}}).to_string();
                (targets, changes)
            })
            .collect();
        let ada_id: uuid::Uuid = ada.id.parse().unwrap();
        let about_ada = [ada_id];
        let recorded: Vec<persistence::audit::NewEvent<'_>> = events
            .iter()
            .map(|(targets, changes)| persistence::audit::NewEvent {
                chain: &account,
                account_id: Some(account.parse().unwrap()),
                occurred_at: app.now(),
                action: "member.roles_updated",
                actor_type: "user",
                actor_id: Some(ada_id),
                actor_name: "Augusta Byron-King",
                targets,
                target_ids: &about_ada,
                changes,
                request_id: None,
                client_ip: Some("203.0.113.9"),
                user_agent: Some("Ada's browser"),
            })
            .collect();
        persistence::audit::record(&mut conn, &recorded).unwrap();
    }
    app.run_jobs().await;
    let (ok, report) = super::audit::audit_verify(&app);
    assert!(ok, "{report}");
    assert!(!rows_containing(&app, "ada@example.com", true).is_empty(), "the search below can find her");

    // A copy of her data waits for download: it holds her email.
    app.get("/v1/me/export?delivery=email", t).await.expect_status(202);
    app.run_jobs().await;

    // Erasing needs her password; then her tokens stop working.
    app.request(reqwest::Method::DELETE, "/v1/me", t, Some(json!({})))
        .await
        .expect_problem(403, "reauthentication_required");
    app.request(reqwest::Method::DELETE, "/v1/me", t, Some(json!({"password": "not it at all"})))
        .await
        .expect_problem(403, "current_password_incorrect");
    let erased =
        app.request(reqwest::Method::DELETE, "/v1/me", t, Some(json!({"password": integration_tests::PASSWORD})));
    erased.await.expect_status(204);
    app.get("/v1/me", t).await.expect_problem(401, "unauthenticated");
    let login = json!({"email": "ada@example.com", "password": integration_tests::PASSWORD});
    app.post("/v1/auth/login", None, login).await.expect_problem(401, "invalid_credentials");

    app.run_jobs().await;
    let (ok, report) = super::audit::audit_verify(&app);
    assert!(ok, "every chain still verifies: {report}");
    assert!(report.contains(&format!("ok      {account}: ")) && report.contains("with a person erased"), "{report}");
    assert_eq!(rows_containing(&app, "ada@example.com", true), Vec::<(String, i64)>::new(), "her email is nowhere");
    assert_eq!(rows_containing(&app, "Byron-King", true), Vec::<(String, i64)>::new(), "nor her name");
    assert_eq!(rows_containing(&app, "203.0.113.9", true), Vec::<(String, i64)>::new(), "nor her address");

    // The account's log tells she left, under her pseudonym.
    let left = app.get(&format!("{a}/audit-events?action=member.left"), g).await;
    let left = left.expect_status(200);
    let pseudonym = format!("erased user {}", ada.id);
    assert_eq!(left["items"][0]["targets"][0]["label"], pseudonym.as_str());
    assert_eq!(left["items"][0]["actor"]["name"], pseudonym.as_str());
    let members = app.get(&format!("{a}/members"), g).await;
    assert_eq!(members.expect_status(200)["items"].as_array().unwrap().len(), 1, "only Grace is left");
    let delivered = receiver.received();
    assert_eq!(delivered.len(), 1, "her leaving was told");
    assert!(
        delivered[0].body.contains(&pseudonym) && !delivered[0].body.contains("Byron-King"),
        "{}",
        delivered[0].body
    );
}

async fn erasing_oneself_needs_proof_and_no_account_left_without_owner(app: TestApp) {
    let ada = app.sign_up("ada@example.com").await;
    let t = Some(ada.access_token.as_str());
    let acme = app.create_account(&ada, "Acme").await;
    let globex = app.create_account(&ada, "Globex").await;
    let bob = app.sign_up("bob@example.com").await;
    app.add_member(&globex, &bob.id, &["owner"]);
    let proof = json!({"password": integration_tests::PASSWORD});
    let refused = app.request(reqwest::Method::DELETE, "/v1/me", t, Some(proof.clone())).await;
    refused.expect_problem(409, "last_owner");
    assert_eq!(refused.body["accounts"], json!([{"id": acme, "name": "Acme"}]), "only where she is the only owner");
    app.get("/v1/me", t).await.expect_status(200);
    let members = app.get(&format!("/v1/accounts/{acme}/members"), t).await;
    assert_eq!(members.expect_status(200)["items"].as_array().unwrap().len(), 1, "nothing changed");
    // Bad bodies change nothing either.
    for body in [json!({"password": 7}), json!({"password": "x", "extra": true})] {
        let reply = app.request(reqwest::Method::DELETE, "/v1/me", t, Some(body)).await;
        assert_eq!(reply.status.as_u16() / 100, 4);
    }
    app.get("/v1/me", t).await.expect_status(200);
}

async fn a_persons_export_holds_their_data_and_nothing_of_others(app: TestApp) {
    let grace = app.sign_up("grace@example.com").await;
    let acme = app.create_account(&grace, "Acme").await;
    let g = Some(grace.access_token.as_str());
    let a = format!("/v1/accounts/{acme}");
    let invited = json!({"invitations": [{"email": "ada@example.com"}, {"email": "bob@example.com"}]});
    app.post(&format!("{a}/invitations"), g, invited).await.expect_status(200);
    let link = app.post(&format!("{a}/join-links"), g, json!({})).await;
    let token = link.expect_status(201)["url"].as_str().unwrap().rsplit('=').next().unwrap().to_owned();
    let group = app.post(&format!("{a}/groups"), g, json!({"name": "Design"})).await;
    let group = group.expect_status(201)["id"].as_str().unwrap().to_owned();

    let ada = app.sign_up("ada@example.com").await;
    let t = Some(ada.access_token.as_str());
    app.patch("/v1/me", t, json!({"first_name": "Augusta", "last_name": "Byron-King"})).await.expect_status(200);
    let lab = app.create_account(&ada, "Ada's Lab").await;
    let carol = json!({"invitations": [{"email": "carol@example.com"}]});
    app.post(&format!("/v1/accounts/{lab}/invitations"), t, carol).await.expect_status(200);
    app.post("/v1/join-links/join", t, json!({"token": token, "message": "Hello from Ada"})).await.expect_status(201);
    app.add_member(&acme, &ada.id, &["developer"]);
    app.put(&format!("{a}/groups/{group}/members/{}", ada.id), g, json!({})).await.expect_status(204);
    let mine = format!("/v1/me/accounts/{acme}/notification-preferences");
    app.patch(&mine, t, json!({"welcome": false})).await.expect_status(200);
    app.run_jobs().await;

    let export = app.get("/v1/me/export", t).await;
    assert_eq!(export.headers["cache-control"], "no-store");
    assert!(export.headers["content-disposition"].to_str().unwrap().starts_with("attachment"));
    let body = export.expect_status(200);
    assert_eq!(body["profile"]["email"], "ada@example.com");
    assert_eq!(body["profile"]["last_name"], "Byron-King");
    let memberships = body["memberships"].as_array().unwrap();
    let in_acme = memberships.iter().find(|m| m["account"]["name"] == "Acme").expect("her membership of Acme");
    assert_eq!(in_acme["roles"], json!(["developer"]));
    assert_eq!(in_acme["groups"], json!([{"id": group, "name": "Design"}]));
    assert_eq!(in_acme["notifications"], json!({"welcome": false}));
    assert!(memberships.iter().any(|m| m["account"]["name"] == "Ada's Lab" && m["roles"] == json!(["owner"])));
    assert_eq!(body["invitations_received"].as_array().unwrap().len(), 1, "Acme's to her, not Bob's");
    assert_eq!(body["invitations_received"][0]["invited_by"], grace.id.as_str());
    assert_eq!(body["invitations_sent"].as_array().unwrap().len(), 1, "hers to Carol");
    assert_eq!(body["join_requests"][0]["message"], "Hello from Ada");
    assert!(!body["sessions"].as_array().unwrap().is_empty());
    let actions: Vec<&str> =
        body["audit_events"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    for action in [
        "user.registered",
        "session.started",
        "user.profile_updated",
        "account.created",
        "invitation.created",
        "join_request.created",
        "group.member_added",
    ] {
        assert!(actions.contains(&action), "{action} missing from {actions:?}");
    }
    let profile =
        body["audit_events"].as_array().unwrap().iter().find(|e| e["action"] == "user.profile_updated").unwrap();
    assert_eq!(profile["changes"]["last_name"]["after"], "Byron-King", "her own log keeps its changes");
    let put_in = body["audit_events"].as_array().unwrap().iter().find(|e| e["action"] == "group.member_added").unwrap();
    assert_eq!(put_in["actor"], json!({"type": "user", "id": grace.id}), "who acted on her, by id only");

    // Nothing of anyone else: not whom she invited, not who invited her.
    let text = body.to_string();
    for other in ["grace@example.com", "bob@example.com", "carol@example.com"] {
        assert!(!text.contains(other), "{other} is in her export");
    }
    app.get("/v1/me/export", None).await.expect_problem(401, "unauthenticated");

    // By email (as for a long history): made in the background, and the
    // emailed link serves it without a sign-in, for a week.
    let queued = app.get("/v1/me/export?delivery=email", t).await;
    let id = queued.expect_status(202)["id"].as_str().unwrap().to_owned();
    let again = app.get("/v1/me/export?delivery=email", t).await;
    assert_eq!(again.expect_status(202)["id"], id.as_str(), "asking twice makes one copy");
    let mail = app.emails_to("ada@example.com", 1).await;
    let ready: Vec<_> =
        mail.iter().filter(|m| m.header("subject").unwrap_or_default().contains("data is ready")).collect();
    assert_eq!(ready.len(), 1);
    let token = ready[0].link_parameter("token").unwrap();
    let link = format!("/v1/me/export/download?token={token}");
    let downloaded = app.get(&link, None).await;
    assert_eq!(downloaded.headers["cache-control"], "no-store");
    let copy = downloaded.expect_status(200);
    assert_eq!(copy["profile"]["email"], "ada@example.com");
    assert_eq!(copy["memberships"], body["memberships"]);
    let bytes = app.client.get(app.url(&link)).send().await.unwrap().bytes().await.unwrap();
    let stored = String::from_utf8(bytes.to_vec()).unwrap();
    assert!(!stored.contains("grace@example.com"), "the stored copy names nobody else either");
    app.get("/v1/me/export/download?token=made-up", None).await.expect_problem(404, "export_link_invalid");
    app.advance(chrono::Duration::days(8)).await;
    app.get(&link, None).await.expect_problem(404, "export_link_invalid");

    // However often she asks, one made copy is kept: a new one replaces it.
    for _ in 0..2 {
        app.get("/v1/me/export?delivery=email", t).await.expect_status(202);
        app.run_jobs().await;
    }
    let kept: i64 = {
        use diesel::prelude::*;
        use persistence::schema::personal_exports::dsl;
        dsl::personal_exports.filter(dsl::user_id.eq(&ada.id)).count().get_result(&mut *app.db()).unwrap()
    };
    assert_eq!(kept, 1);
    let mail = app.emails_to("ada@example.com", 1).await;
    let links: Vec<String> = mail
        .iter()
        .filter(|m| m.header("subject").unwrap_or_default().contains("data is ready"))
        .map(|m| format!("/v1/me/export/download?token={}", m.link_parameter("token").unwrap()))
        .collect();
    assert_eq!(links.len(), 3);
    app.get(&links[1], None).await.expect_problem(404, "export_link_invalid");
    app.get(&links[2], None).await.expect_status(200);
}

async fn a_long_history_is_exported_in_the_background(app: TestApp) {
    let ada = app.sign_up("ada@example.com").await;
    let t = Some(ada.access_token.as_str());
    let account = app.create_account(&ada, "Acme").await;
    app.run_jobs().await;
    app.get("/v1/me/export", t).await.expect_status(200);
    // Past 10,000 events about her, the copy is made in the background.
    let ada_id: uuid::Uuid = ada.id.parse().unwrap();
    let about_ada = [ada_id];
    let targets = json!([{"type": "user", "id": ada.id, "label": "ada@example.com"}]).to_string();
    let event = persistence::audit::NewEvent {
        chain: &account,
        account_id: Some(account.parse().unwrap()),
        occurred_at: app.now(),
        action: "member.roles_updated",
        actor_type: "system",
        actor_id: None,
        actor_name: "Roster",
        targets: &targets,
        target_ids: &about_ada,
        changes: "{}",
        request_id: None,
        client_ip: None,
        user_agent: None,
    };
    let events: Vec<_> = (0..10_000).map(|_| event.clone()).collect();
    persistence::audit::record(&mut app.db(), &events).unwrap();
    app.run_jobs().await;
    app.get("/v1/me/export", t).await.expect_status(202);
    let mail = app.emails_to("ada@example.com", 1).await;
    assert!(mail.iter().any(|m| m.header("subject").unwrap_or_default().contains("data is ready")));
}
