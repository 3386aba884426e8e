//! The audit log: every write records who did what, the log is listed and
//! exported with filters, nobody can change it through the database
//! unnoticed, and retention keeps it verifiable.

use std::collections::{BTreeSet, HashMap};

use diesel::prelude::*;
use futures_util::future::{join, join_all};
use integration_tests::{Backend, OPERATOR_TOKEN, PASSWORD, Reply, SignedIn, TestApp, on_both_backends, roster_binary};
use persistence::DatabaseUrl;
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

on_both_backends!(
    every_write_operation_records_an_event_by_its_actor,
    the_log_is_listed_newest_first_with_filters,
    exports_stream_json_lines_and_escaped_csv,
    the_database_refuses_to_change_events,
    a_changed_event_is_named_by_audit_verify,
    a_truncated_chain_is_named_by_audit_verify,
    concurrent_changes_seal_into_one_unbroken_chain,
);

/// POSTs that ask a question and change nothing.
const QUESTIONS: &[&str] = &["check_authorization"];

/// Who a call's events must name.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Expected {
    User(String),
    ApiKey(String),
    Anonymous,
    Operator,
}

/// Calls operations, each with its own request id, and remembers what each
/// must have recorded.
struct Script<'a> {
    app: &'a TestApp,
    calls: Vec<(&'static str, String, Expected)>,
    /// The served contract, whose declared `ETag` and `Location` headers
    /// every answer is checked against.
    document: Value,
}

impl<'a> Script<'a> {
    async fn call(
        &mut self,
        operation: &'static str,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
        if_match: Option<&str>,
    ) -> Reply {
        let request_id = format!("{operation}-{}", Uuid::new_v4().simple());
        // Asked first: a user who erases themselves has no token after.
        let expected = match token {
            Some(token) => Expected::User(user_of(self.app, token).await),
            None => Expected::Anonymous,
        };
        let mut request = self.app.client.request(method, self.app.url(path)).header("x-request-id", &request_id);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        if let Some(tag) = if_match {
            request = request.header("if-match", tag);
        }
        let reply = TestApp::read(request.send().await.unwrap()).await;
        assert!(reply.status.is_success(), "{operation} failed: {} {}", reply.status, reply.body);
        self.check_declared_headers(operation, &reply);
        self.calls.push((operation, request_id, expected));
        reply
    }

    /// An anonymous one-click form POST, as mail clients send to a
    /// `List-Unsubscribe` link (RFC 8058).
    async fn one_click(&mut self, operation: &'static str, path: &str) -> Reply {
        let request_id = format!("{operation}-{}", Uuid::new_v4().simple());
        let request = self
            .app
            .client
            .post(self.app.url(path))
            .header("x-request-id", &request_id)
            .header("content-type", "application/x-www-form-urlencoded")
            .body("List-Unsubscribe=One-Click");
        let reply = TestApp::read(request.send().await.unwrap()).await;
        assert!(reply.status.is_success(), "{operation} failed: {} {}", reply.status, reply.body);
        self.calls.push((operation, request_id, Expected::Anonymous));
        reply
    }

    /// Reads `path` (operation `operation`) and checks its headers against
    /// the contract, as every call's are.
    async fn read(&self, operation: &str, path: &str, token: &str) {
        let reply = self.app.get(path, Some(token)).await;
        assert!(reply.status.is_success(), "{operation} failed: {} {}", reply.status, reply.body);
        self.check_declared_headers(operation, &reply);
    }

    /// `ETag` and `Location` are sent exactly where the contract declares
    /// them, so that a generated client reads what it needs.
    fn check_declared_headers(&self, operation: &str, reply: &Reply) {
        let declared = self.document["paths"]
            .as_object()
            .unwrap()
            .values()
            .flat_map(|item| item.as_object().unwrap().values())
            .find(|candidate| candidate["operationId"] == operation)
            .map(|found| found["responses"][reply.status.as_str()]["headers"].clone())
            .unwrap_or_else(|| panic!("{operation} is not in the contract"));
        for name in ["ETag", "Location"] {
            let sent = reply.headers.contains_key(name);
            assert_eq!(sent, declared.get(name).is_some(), "{operation} {}: {name} sent: {sent}", reply.status);
        }
    }

    /// The last call was made with this API key.
    fn by_key(&mut self, key: &str) {
        if let Some(last) = self.calls.last_mut() {
            last.2 = Expected::ApiKey(key.to_owned());
        }
    }

    /// The last call was made with the operator token.
    fn by_operator(&mut self) {
        if let Some(last) = self.calls.last_mut() {
            last.2 = Expected::Operator;
        }
    }

    /// The last call's events are by someone else than the token's owner
    /// (a registration, an anonymous token holder acting as its user).
    fn by(&mut self, user: &str) {
        self.by_calls(user, 1);
    }

    /// [`Script::by`] for the last `count` calls.
    fn by_calls(&mut self, user: &str, count: usize) {
        let from = self.calls.len().saturating_sub(count);
        for call in &mut self.calls[from..] {
            call.2 = Expected::User(user.to_owned());
        }
    }
}

async fn user_of(app: &TestApp, token: &str) -> String {
    app.get("/v1/me", Some(token)).await.body["id"].as_str().map(str::to_owned).unwrap_or_default()
}

fn etag(reply: &Reply) -> String {
    reply.headers["etag"].to_str().unwrap().to_owned()
}

fn token_of(url: &Value) -> String {
    url.as_str().unwrap().split("token=").nth(1).unwrap().to_owned()
}

async fn every_write_operation_records_an_event_by_its_actor(app: TestApp) {
    use Method as M;
    let document = app.get("/openapi.json", None).await.body;
    let mut s = Script { app: &app, calls: Vec::new(), document };
    let registered = s
        .call(
            "register",
            M::POST,
            "/v1/auth/register",
            None,
            Some(json!({"email": "owner@example.com", "password": PASSWORD, "first_name": "Ada", "last_name": "Lovelace"})),
            None,
        )
        .await;
    assert_eq!(registered.status, 202);
    let credentials = json!({"email": "owner@example.com", "password": PASSWORD});
    let session = s.call("login", M::POST, "/v1/auth/login", None, Some(credentials), None).await;
    let owner_id = user_of(&app, session.body["access_token"].as_str().unwrap()).await;
    s.by_calls(&owner_id, 2);
    let refreshed = s
        .call(
            "refresh",
            M::POST,
            "/v1/auth/refresh",
            None,
            Some(json!({"refresh_token": session.body["refresh_token"]})),
            None,
        )
        .await;
    s.by(&owner_id);
    let token = refreshed.body["access_token"].as_str().unwrap().to_owned();
    let refresh_token = refreshed.body["refresh_token"].as_str().unwrap().to_owned();
    let t = Some(token.as_str());
    s.call("resend_verification_email", M::POST, "/v1/auth/verify-email/resend", t, None, None).await;
    let verification = app.emails_to("owner@example.com", 2).await[1].link_parameter("token").unwrap();
    s.call("verify_email", M::POST, "/v1/auth/verify-email", None, Some(json!({"token": verification})), None).await;
    s.by(&owner_id);
    s.call("update_me", M::PATCH, "/v1/me", t, Some(json!({"first_name": "Augusta Ada"})), None).await;

    let account = s.call("create_account", M::POST, "/v1/accounts", t, Some(json!({"name": "Acme"})), None).await;
    let account = account.body["id"].as_str().unwrap().to_owned();
    let a = format!("/v1/accounts/{account}");
    s.read("get_account", &a, &token).await;
    let tag = app.etag_of(&a, &token).await;
    s.call("update_account", M::PATCH, &a, t, Some(json!({"name": "Acme GmbH"})), Some(&tag)).await;
    let contact = json!({"kind": "billing", "name": "Grace", "email": "billing@example.com"});
    let created = s.call("create_contact", M::POST, &format!("{a}/contacts"), t, Some(contact.clone()), None).await;
    let contact_path = format!("{a}/contacts/{}", created.body["id"].as_str().unwrap());
    s.read("get_contact", &contact_path, &token).await;
    let tag = etag(&created);
    let replaced = s.call("replace_contact", M::PUT, &contact_path, t, Some(contact), Some(&tag)).await;
    s.call("delete_contact", M::DELETE, &contact_path, t, None, Some(&etag(&replaced))).await;
    let claimed =
        s.call("add_domain", M::POST, &format!("{a}/domains"), t, Some(json!({"domain": "acme.example"})), None).await;
    let domain_path = format!("{a}/domains/{}", claimed.body["id"].as_str().unwrap());
    s.read("get_domain", &domain_path, &token).await;
    let record = &claimed.body["record"];
    app.dns.publish_txt(record["name"].as_str().unwrap(), vec![vec![record["value"].as_str().unwrap().to_owned()]]);
    s.call("verify_domain", M::POST, &format!("{domain_path}/verify"), t, None, None).await;
    s.call("update_domain", M::PATCH, &domain_path, t, Some(json!({"enrollment": "suggest"})), None).await;
    let colleague = app.sign_up("colleague@acme.example").await;
    let suggested = format!("/v1/me/suggested-accounts/{account}/join-requests");
    s.call("ask_to_join_suggested_account", M::POST, &suggested, Some(&colleague.access_token), Some(json!({})), None)
        .await;
    s.call("delete_domain", M::DELETE, &domain_path, t, None, None).await;
    let idp = integration_tests::oidc::TestIdp::start(&app.settings.public_url);
    let client = json!({"name": "IdP", "issuer": idp.issuer(), "client_id": integration_tests::oidc::CLIENT_ID});
    let mut with_secret = client.clone();
    with_secret["client_secret"] = json!(integration_tests::oidc::CLIENT_SECRET);
    let created =
        s.call("create_sso_connection", M::POST, &format!("{a}/sso-connections"), t, Some(with_secret), None).await;
    let connection = created.body["id"].as_str().unwrap().to_owned();
    let connection_path = format!("{a}/sso-connections/{connection}");
    s.read("get_sso_connection", &connection_path, &token).await;
    s.call("replace_sso_connection", M::PUT, &connection_path, t, Some(client), None).await;
    let policy = format!("{a}/sso-policy");
    s.read("get_sso_policy", &policy, &token).await;
    s.call("set_sso_policy", M::PUT, &policy, t, Some(json!({"sso_required": false})), None).await;
    idp.add_person("sso-person", json!({"email": "sso@idp.example", "email_verified": true})).await;
    idp.log_in_as("sso-person").await;
    let start = format!("/v1/sso/start?connection={connection}&redirect_uri={}", integration_tests::oidc::FRONTEND);
    let code = app.browse(&start).await.code();
    let signed_in =
        s.call("exchange_sso_code", M::POST, "/v1/sso/token", None, Some(json!({"code": code})), None).await;
    let sso_user = user_of(&app, signed_in.body["access_token"].as_str().unwrap()).await;
    s.by(&sso_user);
    s.call("delete_sso_connection", M::DELETE, &connection_path, t, None, None).await;
    let scim =
        s.call("create_scim_token", M::POST, &format!("{a}/scim-tokens"), t, Some(json!({"name": "Okta"})), None).await;
    let scim_path = format!("{a}/scim-tokens/{}", scim.body["id"].as_str().unwrap());
    s.call("revoke_scim_token", M::DELETE, &scim_path, t, None, None).await;
    let directory = json!({"default_roles": ["developer"]});
    s.call("update_directory_settings", M::PUT, &format!("{a}/directory-settings"), t, Some(directory), None).await;
    let address = json!({"kind": "billing", "lines": ["Unter den Linden 1"], "city": "Berlin", "postal_code": "10117", "country": "DE"});
    let created = s.call("create_address", M::POST, &format!("{a}/addresses"), t, Some(address.clone()), None).await;
    let address_path = format!("{a}/addresses/{}", created.body["id"].as_str().unwrap());
    s.read("get_address", &address_path, &token).await;
    let replaced = s.call("replace_address", M::PUT, &address_path, t, Some(address), Some(&etag(&created))).await;
    s.call("delete_address", M::DELETE, &address_path, t, None, Some(&etag(&replaced))).await;
    let defaults = format!("{a}/notification-defaults");
    s.read("get_notification_defaults", &defaults, &token).await;
    let tag = app.etag_of(&defaults, &token).await;
    let quiet = Some(json!({"import_reports": false}));
    s.call("update_notification_defaults", M::PATCH, &defaults, t, quiet.clone(), Some(&tag)).await;
    let mine = format!("/v1/me/accounts/{account}/notification-preferences");
    s.call("update_my_notification_preferences", M::PATCH, &mine, t, quiet, None).await;
    let operator_path = format!("/v1/operator/accounts/{account}/plan");
    let plan = Some(json!({"plan": "unlimited"}));
    s.call("operator_set_account_plan", M::PUT, &operator_path, Some(OPERATOR_TOKEN), plan, None).await;
    s.by_operator();
    let regional = app.post("/v1/accounts", t, json!({"name": "Acme EMEA"})).await.expect_status(201)["id"].clone();
    let regional = regional.as_str().unwrap().to_owned();
    let links = format!("{a}/linked-accounts");
    let asked =
        s.call("request_account_link", M::POST, &links, t, Some(json!({"child_account_id": regional})), None).await;
    let link = asked.body["id"].as_str().unwrap().to_owned();
    let accept = format!("/v1/accounts/{regional}/linked-accounts/{link}/accept");
    s.call("accept_account_link", M::POST, &accept, t, Some(json!({})), None).await;
    let linked_roles = format!("{a}/members/{owner_id}/linked-roles");
    s.call("set_member_linked_roles", M::PUT, &linked_roles, t, Some(json!({"roles": []})), None).await;
    s.call("delete_account_link", M::DELETE, &format!("{links}/{link}"), t, None, None).await;
    let preferences = json!({"invitation_ttl_days": 30});
    s.read("get_preferences", &format!("{a}/preferences"), &token).await;
    let tag = app.etag_of(&format!("{a}/preferences"), &token).await;
    s.call("update_preferences", M::PATCH, &format!("{a}/preferences"), t, Some(preferences), Some(&tag)).await;
    let voice = json!({"display_name": "Acme Developer Program", "invitation_message": "Welcome!"});
    s.read("get_email_settings", &format!("{a}/email-settings"), &token).await;
    let tag = app.etag_of(&format!("{a}/email-settings"), &token).await;
    s.call("update_email_settings", M::PATCH, &format!("{a}/email-settings"), t, Some(voice), Some(&tag)).await;
    let role = json!({"key": "support", "name": "Support", "permissions": ["members:read"]});
    let role = s.call("create_role", M::POST, &format!("{a}/roles"), t, Some(role), None).await;
    let role = format!("{a}/roles/{}", role.body["id"].as_str().unwrap());
    s.read("get_role", &role, &token).await;
    s.call("update_role", M::PATCH, &role, t, Some(json!({"description": "Answers customers"})), None).await;
    let group = s.call("create_group", M::POST, &format!("{a}/groups"), t, Some(json!({"name": "Design"})), None).await;
    let group = format!("{a}/groups/{}", group.body["id"].as_str().unwrap());
    s.call("update_group", M::PATCH, &group, t, Some(json!({"description": "Makers"})), None).await;
    let gives = json!({"roles": [{"role": "developer", "scope": "group"}]});
    s.call("set_group_roles", M::PUT, &format!("{group}/roles"), t, Some(gives), None).await;

    let invite = |email: &str| json!({"invitations": [{"email": email, "send_email": false}]});
    let invitations = format!("{a}/invitations");
    let grace = s.call("create_invitations", M::POST, &invitations, t, Some(invite("grace@example.com")), None).await;
    let grace = format!("{invitations}/{}", grace.body["results"][0]["invitation"]["id"].as_str().unwrap());
    s.call("resend_invitation", M::POST, &format!("{grace}/resend"), t, None, None).await;
    s.call("revoke_invitation", M::POST, &format!("{grace}/revoke"), t, None, None).await;
    let bob = app.post(&invitations, t, invite("bob@example.com")).await.body["results"][0]["accept_url"].clone();
    s.call(
        "decline_invitation",
        M::POST,
        "/v1/invitations/decline",
        None,
        Some(json!({"token": token_of(&bob)})),
        None,
    )
    .await;
    let carol = app.post(&invitations, t, invite("carol@example.com")).await.body["results"][0]["accept_url"].clone();
    let carol_session = s
        .call(
            "register_with_invitation",
            M::POST,
            "/v1/invitations/register",
            None,
            Some(json!({"token": token_of(&carol), "password": PASSWORD, "first_name": "Carol", "last_name": "Shaw"})),
            None,
        )
        .await;
    let carol_token = carol_session.body["access_token"].as_str().unwrap().to_owned();
    let carol_id = user_of(&app, &carol_token).await;
    s.by(&carol_id);
    let dave = app.sign_up("dave@example.com").await;
    let dave_link =
        app.post(&invitations, t, invite("dave@example.com")).await.body["results"][0]["accept_url"].clone();
    let accept = json!({"token": token_of(&dave_link)});
    s.call("accept_invitation", M::POST, "/v1/invitations/accept", Some(&dave.access_token), Some(accept), None).await;

    let in_group = format!("{group}/members/{carol_id}");
    s.call("add_group_member", M::PUT, &in_group, t, None, None).await;
    s.call("remove_group_member", M::DELETE, &in_group, t, None, None).await;
    let carol_path = format!("{a}/members/{carol_id}");
    s.read("get_member", &carol_path, &token).await;
    let tag = etag(&app.get(&carol_path, t).await);
    let roles = json!({"assignments": [{"role": "developer"}]});
    s.call("set_member_roles", M::PUT, &format!("{carol_path}/roles"), t, Some(roles), Some(&tag)).await;

    let links = format!("{a}/join-links");
    let link = s.call("create_join_link", M::POST, &links, t, Some(json!({})), None).await;
    let link_path = format!("{links}/{}", link.body["id"].as_str().unwrap());
    let rotated = s.call("rotate_join_link", M::POST, &format!("{link_path}/rotate"), t, None, None).await;
    let join_token = token_of(&rotated.body["url"]);
    let mut requests = HashMap::new();
    for name in ["eve", "frank", "gina"] {
        let user = app.sign_up(&format!("{name}@example.com")).await;
        let body = json!({"token": join_token});
        let reply =
            s.call("join_through_link", M::POST, "/v1/join-links/join", Some(&user.access_token), Some(body), None);
        let request = reply.await.body["id"].as_str().unwrap().to_owned();
        requests.insert(name, (user, request));
    }
    let (eve, eve_request) = &requests["eve"];
    let withdraw = format!("/v1/me/join-requests/{eve_request}/withdraw");
    s.call("withdraw_my_join_request", M::POST, &withdraw, Some(&eve.access_token), None, None).await;
    let (frank, frank_request) = &requests["frank"];
    let approve = format!("{a}/join-requests/{frank_request}/approve");
    s.call("approve_join_request", M::POST, &approve, t, Some(json!({"assignments": []})), None).await;
    let deny = format!("{a}/join-requests/{}/deny", requests["gina"].1);
    s.call("deny_join_request", M::POST, &deny, t, Some(json!({"reason": "Sales only"})), None).await;

    let file = "email,first_name,last_name,roles,groups\nhenry@example.com,Henry,Ford,,\n";
    let request_id = format!("create_invitation_import-{}", Uuid::new_v4().simple());
    let upload = app
        .client
        .post(app.url(&format!("{a}/invitation-imports")))
        .bearer_auth(&token)
        .header("x-request-id", &request_id)
        .header("content-type", "text/csv")
        .body(file)
        .send()
        .await
        .unwrap();
    assert_eq!(upload.status(), 202);
    s.calls.push(("create_invitation_import", request_id, Expected::User(owner_id.clone())));

    let receiver = integration_tests::WebhookReceiver::start().await;
    let hook = json!({"url": receiver.url(), "event_types": ["group.created"]});
    let hook = s.call("create_webhook", M::POST, &format!("{a}/webhooks"), t, Some(hook), None).await;
    let hook = format!("{a}/webhooks/{}", hook.body["id"].as_str().unwrap());
    s.call("update_webhook", M::PATCH, &hook, t, Some(json!({"description": "CRM"})), None).await;
    s.call("rotate_webhook_secret", M::POST, &format!("{hook}/rotate-secret"), t, None, None).await;
    app.post(&format!("{a}/groups"), t, json!({"name": "Hooked"})).await.expect_status(201);
    app.run_jobs().await;
    let delivery = app.get(&format!("{hook}/deliveries"), t).await.body["items"][0]["id"].as_str().unwrap().to_owned();
    let redeliver = format!("{hook}/deliveries/{delivery}/redeliver");
    s.call("redeliver_webhook_delivery", M::POST, &redeliver, t, None, None).await;
    s.call("delete_webhook", M::DELETE, &hook, t, None, None).await;

    let partner = json!({"name": "Acme Logistics"});
    let partner = s.call("create_partner", M::POST, &format!("{a}/partners"), t, Some(partner), None).await;
    let partner = partner.body["id"].as_str().unwrap().to_owned();
    let key = json!({"name": "Order sync", "partner_id": partner, "permissions": ["groups:manage"]});
    let key = s.call("create_api_key", M::POST, &format!("{a}/api-keys"), t, Some(key), None).await;
    let key_id = key.body["id"].as_str().unwrap().to_owned();
    let key_path = format!("{a}/api-keys/{key_id}");
    let rotated = s.call("rotate_api_key", M::POST, &format!("{key_path}/rotate"), t, Some(json!({})), None).await;
    let secret = rotated.body["secret"].as_str().unwrap().to_owned();
    let by_key = json!({"name": "Made by a key"});
    s.call("create_group", M::POST, &format!("{a}/groups"), Some(&secret), Some(by_key), None).await;
    s.by_key(&key_id);
    s.call("revoke_api_key", M::POST, &format!("{key_path}/revoke"), t, None, None).await;
    s.call("delete_partner", M::DELETE, &format!("{a}/partners/{partner}"), t, None, None).await;

    let review_settings = format!("{a}/access-review-settings");
    s.read("get_access_review_settings", &review_settings, &token).await;
    let tag = app.etag_of(&review_settings, &token).await;
    let policy = Some(json!({"due_in_days": 10}));
    s.call("update_access_review_settings", M::PATCH, &review_settings, t, policy, Some(&tag)).await;
    let due = json!({"due_at": (app.now() + chrono::Duration::days(7)).to_rfc3339()});
    let review = s.call("start_access_review", M::POST, &format!("{a}/access-reviews"), t, Some(due), None).await;
    let review = format!("{a}/access-reviews/{}", review.body["id"].as_str().unwrap());
    let keep = json!({"decision": "keep", "comment": "Still on the team"});
    s.call("decide_access_review_item", M::PUT, &format!("{review}/decisions/{carol_id}"), t, Some(keep), None).await;
    s.call("complete_access_review", M::POST, &format!("{review}/complete"), t, None, None).await;
    let frank_path = format!("{a}/members/{}", frank.id);
    s.call("suspend_member", M::POST, &format!("{frank_path}/suspend"), t, None, None).await;
    s.call("reactivate_member", M::POST, &format!("{frank_path}/reactivate"), t, None, None).await;
    s.call("remove_member", M::DELETE, &frank_path, t, None, None).await;
    s.call("leave_account", M::DELETE, &format!("/v1/me/accounts/{account}"), Some(&dave.access_token), None, None)
        .await;
    s.call("delete_role", M::DELETE, &role, t, None, None).await;
    s.call("delete_group", M::DELETE, &group, t, None, None).await;
    s.call("disable_join_link", M::DELETE, &link_path, t, None, None).await;
    let name = app.get(&a, t).await.body["name"].clone();
    s.call("delete_account", M::DELETE, &a, t, Some(json!({"confirm_name": name})), None).await;
    s.read("get_account_deletion", &format!("{a}/deletion"), &token).await;
    s.call("restore_account", M::POST, &format!("{a}/restore"), t, None, None).await;
    let transfer = json!({"user_id": carol_id});
    s.call("transfer_ownership", M::POST, &format!("{a}/ownership-transfer"), t, Some(transfer), None).await;
    let told = app.emails_to("owner@example.com", 1).await;
    let notice = told.iter().find(|m| m.decoded().contains("has a new owner")).unwrap();
    let link = notice.header("List-Unsubscribe").unwrap();
    s.one_click("unsubscribe", &link[link.find("/v1/").unwrap()..link.len() - 1]).await;
    // Sessions and credentials last: they end sessions and move the owner
    // to another address.
    let owner_login = json!({"email": "owner@example.com", "password": PASSWORD});
    s.call("login", M::POST, "/v1/auth/login", None, Some(owner_login.clone()), None).await;
    s.by(&owner_id);
    let listed = app.get("/v1/me/sessions", t).await;
    let other = listed.body["items"].as_array().unwrap().iter().find(|item| item["current"] == false).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    s.call("end_session", M::DELETE, &format!("/v1/me/sessions/{other}"), t, None, None).await;
    s.call("login", M::POST, "/v1/auth/login", None, Some(owner_login), None).await;
    s.by(&owner_id);
    s.call("end_other_sessions", M::DELETE, "/v1/me/sessions", t, None, None).await;
    let change = json!({"current_password": PASSWORD, "new_password": "battery staple horse correct"});
    s.call("change_password", M::POST, "/v1/me/password", t, Some(change), None).await;
    let forgot = json!({"email": "owner@example.com"});
    s.call("request_password_reset", M::POST, "/v1/auth/password-reset", None, Some(forgot), None).await;
    let mail = app.emails_to("owner@example.com", 1).await;
    let reset = mail.iter().rev().find(|m| m.header("subject").unwrap_or_default().contains("Reset")).unwrap();
    let reset = json!({"token": reset.link_parameter("token").unwrap(), "new_password": "a third good password"});
    s.call("reset_password", M::POST, "/v1/auth/password-reset/confirm", None, Some(reset), None).await;
    s.by(&owner_id);
    let move_to = json!({"email": "owner@new.example", "current_password": "a third good password"});
    s.call("request_email_change", M::POST, "/v1/me/email", t, Some(move_to), None).await;
    let confirm = json!({"token": app.emails_to("owner@new.example", 1).await[0].link_parameter("token").unwrap()});
    s.call("confirm_email_change", M::POST, "/v1/auth/email-change/confirm", None, Some(confirm), None).await;
    s.by(&owner_id);
    s.call("logout", M::POST, "/v1/auth/logout", None, Some(json!({"refresh_token": refresh_token})), None).await;
    s.by(&owner_id);
    let leaver = app.sign_up("leaver@example.com").await;
    let proof = json!({"password": PASSWORD});
    s.call("delete_me", M::DELETE, "/v1/me", Some(&leaver.access_token), Some(proof), None).await;

    // Each call recorded at least one event, all naming its actor.
    app.run_jobs().await;
    let mut conn = app.db();
    for (operation, request_id, expected) in &s.calls {
        use persistence::schema::audit_events::dsl;
        let actors: Vec<(String, Option<String>)> = dsl::audit_events
            .filter(dsl::request_id.eq(request_id))
            .select((dsl::actor_type, dsl::actor_id))
            .load(&mut *conn)
            .unwrap();
        assert!(!actors.is_empty(), "{operation} recorded no audit event");
        for (kind, id) in actors {
            let actor = match (kind.as_str(), id) {
                ("user", Some(id)) => Expected::User(id),
                ("api_key", Some(id)) => Expected::ApiKey(id),
                ("anonymous", None) => Expected::Anonymous,
                ("operator", None) => Expected::Operator,
                other => panic!("{operation}: unexpected actor {other:?}"),
            };
            assert_eq!(&actor, expected, "{operation} recorded the wrong actor");
        }
    }

    // Every write operation of the route table is in the script: a new one
    // fails here until it is exercised, and then it must record.
    let document = &s.document;
    let writes: BTreeSet<String> = document["paths"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|item| item.as_object().unwrap().iter())
        .filter(|(method, _)| ["post", "put", "patch", "delete"].contains(&method.as_str()))
        .map(|(_, operation)| operation["operationId"].as_str().unwrap().to_owned())
        .filter(|id| !QUESTIONS.contains(&id.as_str()))
        .collect();
    let exercised: BTreeSet<String> = s.calls.iter().map(|(operation, _, _)| (*operation).to_owned()).collect();
    let missing: Vec<&String> = writes.difference(&exercised).collect();
    assert!(missing.is_empty(), "write operations not exercised: {missing:?}");
}

async fn owner_with_account(app: &TestApp) -> (SignedIn, String) {
    let owner = app.sign_up("owner@example.com").await;
    let account = app.create_account(&owner, "Acme").await;
    (owner, account)
}

async fn the_log_is_listed_newest_first_with_filters(app: TestApp) {
    let (owner, account) = owner_with_account(&app).await;
    let t = Some(owner.access_token.as_str());
    let groups = format!("/v1/accounts/{account}/groups");
    for name in ["One", "Two", "Three"] {
        app.post(&groups, t, json!({"name": name})).await.expect_status(201);
    }
    let member = app.sign_up("member@example.com").await;
    app.add_member(&account, &member.id, &["developer"]);
    let member_path = format!("/v1/accounts/{account}/members/{}", member.id);
    app.delete(&member_path, t).await.expect_status(204);

    let log = format!("/v1/accounts/{account}/audit-events");
    let unsealed = app.get(&log, t).await.expect_status(200)["items"].as_array().unwrap().len();
    assert_eq!(unsealed, 0, "events are listed once the sealer has put them in the chain");
    app.run_jobs().await;
    let all = app.get(&log, t).await;
    let items = all.expect_status(200)["items"].as_array().unwrap().clone();
    let actions: Vec<&str> = items.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["member.removed", "group.created", "group.created", "group.created", "account.created"]);
    let seqs: Vec<i64> = items.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert_eq!(seqs, [5, 4, 3, 2, 1], "newest first, numbered without gaps");
    assert_eq!(items[0]["actor"], json!({"type": "user", "id": owner.id, "name": "Ada Lovelace"}));
    assert_eq!(items[0]["targets"][0]["label"], "member@example.com");
    assert_eq!(items[0]["changes"]["assignments"]["before"], json!([{"role": "developer", "group_id": null}]));
    assert_eq!(items[1]["prev_hash"], items[2]["hash"], "each event points at the one before");
    assert!(items[0]["request_id"].is_string() && items[0]["client_ip"].is_string());

    let page = app.get(&format!("{log}?limit=2"), t).await.body;
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    let next = app.get(&format!("{log}?limit=2&cursor={}", page["next_cursor"].as_str().unwrap()), t).await.body;
    assert_eq!(next["items"][0]["seq"], 3);
    let (app_ref, log_ref) = (&app, &log);
    let only = |query: &str| {
        let path = format!("{log_ref}?{query}");
        async move { app_ref.get(&path, t).await.expect_status(200)["items"].as_array().unwrap().len() }
    };
    assert_eq!(only("action=group.created").await, 3);
    assert_eq!(only("action_prefix=member.").await, 1);
    assert_eq!(only(&format!("actor={}", owner.id)).await, 5);
    assert_eq!(only(&format!("actor={}", member.id)).await, 0);
    assert_eq!(only(&format!("target={}", member.id)).await, 1);
    let later = (app.now() + chrono::Duration::seconds(1)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    assert_eq!(only(&format!("to={later}")).await, 5);
    assert_eq!(only(&format!("from={later}")).await, 0);
    assert_eq!(only(&format!("from={later}&to={later}")).await, 0, "an empty range selects nothing");

    app.get(&format!("{log}?action=member.exploded"), t).await.expect_problem(422, "validation_failed");
    assert_eq!(only("action_prefix=nothing.").await, 0, "a prefix of no action selects nothing");
    app.get(&format!("{log}?action_prefix=member%00"), t).await.expect_problem(422, "validation_failed");
    app.get(&format!("{log}?cursor=nope"), t).await.expect_problem(422, "validation_failed");
    let developer = app.sign_up("dev@example.com").await;
    app.add_member(&account, &developer.id, &["developer"]);
    app.get(&log, Some(&developer.access_token)).await.expect_problem(403, "forbidden");
    // Reading the log records nothing.
    assert_eq!(app.get(&log, t).await.body["items"].as_array().unwrap().len(), 5);
}

async fn exports_stream_json_lines_and_escaped_csv(app: TestApp) {
    let owner = app.sign_up("owner@example.com").await;
    let t = Some(owner.access_token.as_str());
    app.patch("/v1/me", t, json!({"first_name": "=HYPERLINK(\"http://evil.example\")"})).await.expect_status(200);
    let account = app.create_account(&owner, "Acme").await;
    // More events than one export page holds, recorded as flows do.
    let mut conn = app.db();
    for i in 0..1_050 {
        let event = persistence::audit::NewEvent {
            chain: &account,
            account_id: Some(account.parse().unwrap()),
            occurred_at: app.now(),
            action: "group.created",
            actor_type: "user",
            actor_id: Some(owner.id.parse().unwrap()),
            actor_name: "Ada Lovelace",
            targets: "[]",
            target_ids: &[],
            changes: &json!({"name": {"before": null, "after": format!("Group {i}")}}).to_string(),
            request_id: None,
            client_ip: None,
            user_agent: None,
        };
        persistence::audit::record(&mut conn, &[event]).unwrap();
    }
    drop(conn);
    app.run_jobs().await;
    let export = format!("/v1/accounts/{account}/audit-events/export");
    let lines = app.client.get(app.url(&export)).bearer_auth(&owner.access_token).send().await.unwrap();
    assert_eq!(lines.headers()["content-type"], "application/x-ndjson");
    let text = lines.text().await.unwrap();
    let events: Vec<Value> = text.lines().map(|line| serde_json::from_str(line).unwrap()).collect();
    assert_eq!(events.len(), 1_051, "every event, across export pages");
    assert_eq!(events[0]["seq"], 1_051);
    assert_eq!(events[1_050]["action"], "account.created");

    let csv = app
        .client
        .get(app.url(&format!("{export}?format=csv&action=account.created")))
        .bearer_auth(&owner.access_token);
    let csv = csv.send().await.unwrap().text().await.unwrap();
    let mut rows = csv.lines();
    assert!(rows.next().unwrap().starts_with("seq,occurred_at,action,actor_type,actor_id,actor_name,"));
    let row = rows.next().unwrap();
    assert!(row.contains("\"'=HYPERLINK("), "a formula-looking name is escaped: {row}");
    assert!(rows.next().is_none());
    app.get(&format!("{export}?format=xml"), t).await.expect_problem(400, "invalid_query");
}

/// Runs SQL that must be refused.
fn refused(app: &TestApp, statement: &str) {
    let outcome = diesel::sql_query(statement).execute(&mut *app.db());
    assert!(outcome.is_err(), "{statement} was let through");
}

async fn the_database_refuses_to_change_events(app: TestApp) {
    let (owner, account) = owner_with_account(&app).await;
    let groups = format!("/v1/accounts/{account}/groups");
    app.post(&groups, Some(&owner.access_token), json!({"name": "G"})).await.expect_status(201);
    app.run_jobs().await;
    refused(&app, "UPDATE audit_events SET actor_id = NULL");
    refused(&app, "DELETE FROM audit_events");
    refused(&app, "UPDATE audit_event_targets SET target_id = 'x'");
    refused(&app, "DELETE FROM audit_event_targets");
    // Nor can an event waiting for the sealer be rewritten.
    app.post(&groups, Some(&owner.access_token), json!({"name": "H"})).await.expect_status(201);
    refused(&app, "UPDATE audit_pending SET actor_name = 'Mallory'");
    app.run_jobs().await;
    let count: i64 = {
        use persistence::schema::audit_events::dsl;
        dsl::audit_events.count().get_result(&mut *app.db()).unwrap()
    };
    assert_eq!(count, 5, "registration, sign-in and the account's three events are all there");
}

/// `roster audit verify` on the app's database: (success, output).
pub(crate) fn audit_verify(app: &TestApp) -> (bool, String) {
    let url = match &app.settings.database_url {
        DatabaseUrl::Sqlite(path) => format!("sqlite://{}", path.display()),
        DatabaseUrl::Postgres(url) => url.clone(),
    };
    let output = std::process::Command::new(roster_binary())
        .args(["audit", "verify"])
        .env("ROSTER_DATABASE_URL", url)
        .env("ROSTER_DATA_DIR", &app.settings.data_dir)
        .env("ROSTER_LOG", "error")
        .output()
        .expect("roster runs");
    let report = format!(
        "{}{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
        output.status
    );
    (output.status.success(), report)
}

async fn a_changed_event_is_named_by_audit_verify(app: TestApp) {
    let (owner, account) = owner_with_account(&app).await;
    let groups = format!("/v1/accounts/{account}/groups");
    for name in ["One", "Two", "Three"] {
        app.post(&groups, Some(&owner.access_token), json!({"name": name})).await.expect_status(201);
    }
    app.run_jobs().await;
    let (ok, report) = audit_verify(&app);
    assert!(ok, "an untouched log verifies: {report}");
    assert!(report.contains(&format!("ok      {account}: 4 events")), "{report}");

    // Someone with the database's keys rewrites what an event says: the
    // second group is now called something else. The chain covers a digest
    // of it.
    let tampered: String = {
        use persistence::schema::audit_events::dsl;
        dsl::audit_events
            .filter(dsl::chain.eq(&account))
            .filter(dsl::seq.eq(3))
            .select(dsl::id)
            .first(&mut *app.db())
            .unwrap()
    };
    let rewrite = |from: &str, to: &str| {
        let statement = format!(
            "UPDATE audit_personal_data SET changes = replace(changes, '{from}', '{to}') \
             WHERE chain = '{account}' AND seq = 3"
        );
        assert_eq!(diesel::sql_query(statement).execute(&mut *app.db()).unwrap(), 1);
    };
    rewrite("Two", "Zwei");
    let (ok, report) = audit_verify(&app);
    assert!(!ok, "a rewritten event fails verification");
    assert!(
        report.contains(&format!("BROKEN  {account}: event {tampered} (#3): what it says about people")),
        "{report}"
    );
    rewrite("Zwei", "Two");
    assert!(audit_verify(&app).0, "put back, it holds again");

    // Or gets past the trigger and rewrites the chained part.
    let disable = match app.backend {
        Backend::Postgres => "ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only",
        Backend::Sqlite => "DROP TRIGGER audit_events_no_update",
    };
    let mut conn = app.db();
    diesel::sql_query(disable).execute(&mut *conn).unwrap();
    diesel::sql_query(format!("UPDATE audit_events SET action = 'group.deleted' WHERE id = '{tampered}'"))
        .execute(&mut *conn)
        .unwrap();
    let (ok, report) = audit_verify(&app);
    assert!(!ok, "a rewritten event fails verification");
    assert!(report.contains(&format!("BROKEN  {account}: event {tampered} (#3): its content")), "{report}");
}

async fn a_truncated_chain_is_named_by_audit_verify(app: TestApp) {
    let (owner, account) = owner_with_account(&app).await;
    let groups = format!("/v1/accounts/{account}/groups");
    for name in ["One", "Two", "Three"] {
        app.post(&groups, Some(&owner.access_token), json!({"name": name})).await.expect_status(201);
    }
    // A recorded event waits to be sealed; nobody can take it out before.
    let mut conn = app.db();
    let early = diesel::sql_query("DELETE FROM audit_pending").execute(&mut *conn);
    assert!(early.is_err(), "an unsealed event was deleted");
    drop(conn);
    app.run_jobs().await;
    let (ok, report) = audit_verify(&app);
    assert!(ok && report.contains(&format!("ok      {account}: 4 events")), "{report}");

    // With a purge permit written by hand, the newest event goes, then the
    // permit: every remaining link still holds, but the chain no longer
    // reaches its signed checkpoint.
    let mut conn = app.db();
    let checkpoint_gone = diesel::sql_query("DELETE FROM audit_checkpoints").execute(&mut *conn);
    assert!(checkpoint_gone.is_err(), "a checkpoint was deleted");
    let rolled_back = diesel::sql_query("UPDATE audit_checkpoints SET seq = 3").execute(&mut *conn);
    assert!(rolled_back.is_err(), "a checkpoint moved back");
    for statement in [
        format!("INSERT INTO audit_purge_permits (chain, up_to_seq) VALUES ('{account}', 4)"),
        format!("DELETE FROM audit_event_targets WHERE chain = '{account}' AND seq = 4"),
        format!("DELETE FROM audit_events WHERE chain = '{account}' AND seq = 4"),
        format!("DELETE FROM audit_purge_permits WHERE chain = '{account}'"),
    ] {
        diesel::sql_query(statement).execute(&mut *conn).unwrap();
    }
    drop(conn);
    let (ok, report) = audit_verify(&app);
    assert!(!ok, "a truncated chain fails verification: {report}");
    assert!(report.contains(&format!("BROKEN  {account}: event checkpoint (#4)")), "{report}");
    assert!(report.contains("truncated"), "{report}");
}

async fn concurrent_changes_seal_into_one_unbroken_chain(app: TestApp) {
    let (owner, account) = owner_with_account(&app).await;
    let groups = format!("/v1/accounts/{account}/groups");
    // Changes commit while two sealers race each other.
    let writes = join_all((0..40).map(|i| {
        let (app, groups, token) = (&app, &groups, owner.access_token.as_str());
        async move { app.post(groups, Some(token), json!({"name": format!("G{i}")})).await.status }
    }));
    let sealers = async {
        for _ in 0..10 {
            join(app.run_jobs(), app.run_jobs()).await;
        }
    };
    let (statuses, ()) = join(writes, sealers).await;
    assert!(statuses.iter().all(|status| *status == 201), "{statuses:?}");
    app.run_jobs().await;
    let mut seqs: Vec<i64> = {
        use persistence::schema::audit_events::dsl;
        dsl::audit_events.filter(dsl::chain.eq(&account)).select(dsl::seq).load(&mut *app.db()).unwrap()
    };
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=41).collect::<Vec<i64>>(), "each event has its own place, without gaps");
    let (ok, report) = audit_verify(&app);
    assert!(ok && report.contains(&format!("ok      {account}: 41 events")), "{report}");
}

async fn retention_purges_old_events_and_the_chain_still_verifies(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, |settings| settings.audit_retention_days = 30).await else { return };
    let (owner, account) = owner_with_account(&app).await;
    let groups = format!("/v1/accounts/{account}/groups");
    app.post(&groups, Some(&owner.access_token), json!({"name": "Old"})).await.expect_status(201);
    app.run_jobs().await;
    app.advance(chrono::Duration::days(31)).await;
    app.post(&groups, Some(&owner.access_token), json!({"name": "New"})).await.expect_status(201);
    app.advance(chrono::Duration::hours(2)).await;
    let log = app.get(&format!("/v1/accounts/{account}/audit-events"), Some(&owner.access_token)).await.body;
    let seqs: Vec<i64> = log["items"].as_array().unwrap().iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert_eq!(seqs, [3], "the two old events are gone, numbering goes on");
    let (ok, report) = audit_verify(&app);
    assert!(ok, "the chain verifies from its anchor: {report}");
    assert!(report.contains(&format!("ok      {account}: 1 events")), "{report}");

    // Someone with the database deletes the rest of the chain and moves its
    // anchor to the checkpoint, seal and all: every remaining link would
    // hold, but an anchor's seal is not a checkpoint's.
    let mut conn = app.db();
    let anchor_gone = diesel::sql_query("DELETE FROM audit_anchors").execute(&mut *conn);
    assert!(anchor_gone.is_err(), "an anchor was deleted");
    let moved_back = diesel::sql_query("UPDATE audit_anchors SET seq = 1").execute(&mut *conn);
    assert!(moved_back.is_err(), "an anchor moved back");
    for statement in [
        format!("INSERT INTO audit_purge_permits (chain, up_to_seq) VALUES ('{account}', 3)"),
        format!("DELETE FROM audit_event_targets WHERE chain = '{account}'"),
        format!("DELETE FROM audit_events WHERE chain = '{account}'"),
        format!("DELETE FROM audit_purge_permits WHERE chain = '{account}'"),
        format!(
            "UPDATE audit_anchors SET seq = c.seq, hash = c.hash, seal = c.seal \
             FROM (SELECT seq, hash, seal FROM audit_checkpoints WHERE chain = '{account}') AS c \
             WHERE audit_anchors.chain = '{account}'"
        ),
    ] {
        diesel::sql_query(statement).execute(&mut *conn).unwrap();
    }
    drop(conn);
    let (ok, report) = audit_verify(&app);
    assert!(!ok, "a chain emptied behind a moved anchor fails verification: {report}");
    assert!(report.contains(&format!("BROKEN  {account}: event anchor (#3)")), "{report}");
    assert!(report.contains("the anchor's signature does not hold"), "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_on_sqlite() {
    retention_purges_old_events_and_the_chain_still_verifies(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_on_postgres() {
    retention_purges_old_events_and_the_chain_still_verifies(Backend::Postgres).await;
}
