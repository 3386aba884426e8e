//! The SCIM 2.0 service provider as Okta and Microsoft Entra ID use it:
//! each life cycle is scripted with request bodies from their public
//! documentation, and after each step Roster's own API shows the result.

use futures_util::future::join_all;
use integration_tests::scim::{Directory, GROUP_SCHEMA, USER_SCHEMA};
use integration_tests::{Backend, SignedIn, TestApp, for_both_backends, on_both_backends};
use reqwest::Method;
use serde_json::{Value, json};

on_both_backends!(
    okta_provisions_a_person_through_their_whole_life_cycle,
    entra_provisions_a_person_through_their_whole_life_cycle,
    refusals_are_scim_errors_and_change_nothing,
    lists_page_and_filter_over_more_than_250_users,
    the_same_person_created_twice_at_once_is_one_member,
    discovery_says_what_is_supported,
    a_group_gives_its_roles_to_the_people_in_it,
);

for_both_backends!(seats_plans_and_rate_limits_answer_in_scim_form);

struct Fixture {
    owner: SignedIn,
    account: String,
}

async fn fixture(app: &TestApp) -> Fixture {
    let owner = app.sign_up("owner@acme.test").await;
    let account = app.create_account(&owner, "Acme").await;
    let settings = format!("/v1/accounts/{account}/directory-settings");
    let set = app.put(&settings, Some(&owner.access_token), json!({"default_roles": ["developer"]})).await;
    assert_eq!(set.expect_status(200)["default_roles"], json!(["developer"]));
    Fixture { owner, account }
}

impl Fixture {
    async fn member(&self, app: &TestApp, user: &str) -> (u16, Value) {
        let path = format!("/v1/accounts/{}/members/{user}", self.account);
        let reply = app.get(&path, Some(&self.owner.access_token)).await;
        (reply.status.as_u16(), reply.body)
    }

    async fn group_members(&self, app: &TestApp, group: &str) -> Vec<String> {
        let path = format!("/v1/accounts/{}/groups/{group}/members", self.account);
        let reply = app.get(&path, Some(&self.owner.access_token)).await;
        let items = reply.expect_status(200)["items"].as_array().unwrap().clone();
        items.iter().map(|m| m["user_id"].as_str().unwrap().to_owned()).collect()
    }

    async fn group_name(&self, app: &TestApp, group: &str) -> Value {
        let path = format!("/v1/accounts/{}/groups/{group}", self.account);
        app.get(&path, Some(&self.owner.access_token)).await.expect_status(200)["name"].clone()
    }

    async fn audit(&self, app: &TestApp, action: &str) -> Vec<Value> {
        app.run_jobs().await;
        let path = format!("/v1/accounts/{}/audit-events?action={action}", self.account);
        let reply = app.get(&path, Some(&self.owner.access_token)).await;
        reply.expect_status(200)["items"].as_array().unwrap().clone()
    }
}

/// The welcome email `recipient` got, decoded.
async fn welcome_to(app: &TestApp, recipient: &str) -> String {
    let received = app.emails_to(recipient, 1).await;
    let welcomes: Vec<String> =
        received.iter().map(|m| m.decoded()).filter(|m| m.contains("You were added to an account")).collect();
    assert_eq!(welcomes.len(), 1, "one welcome email to {recipient}");
    welcomes[0].clone()
}

/// Whether `person` can work in the account (their own API access).
async fn can_work_in(app: &TestApp, person: &SignedIn, account: &str) -> bool {
    app.get(&format!("/v1/accounts/{account}"), Some(&person.access_token)).await.status.as_u16() == 200
}

async fn okta_provisions_a_person_through_their_whole_life_cycle(app: TestApp) {
    let f = fixture(&app).await;
    let okta = Directory::connect(&app, &f.owner, &f.account).await;
    // Someone who already uses Roster elsewhere: linked, not duplicated.
    let person = app.sign_up("dana@acme.test").await;
    assert!(!can_work_in(&app, &person, &f.account).await);

    // Okta checks whether the user exists, then creates them.
    let probe = okta.get("/Users?filter=userName%20eq%20%22dana%40acme.test%22&startIndex=1&count=100").await;
    assert_eq!(probe.expect_status(200)["totalResults"], 0);
    let created = okta
        .post(
            "/Users",
            json!({
                "schemas": [USER_SCHEMA], "userName": "dana@acme.test",
                "name": {"givenName": "Dana", "familyName": "Scully"},
                "emails": [{"primary": true, "value": "dana@acme.test", "type": "work"}],
                "displayName": "Dana Scully", "locale": "en-US", "externalId": "00ujl29u0le5T6Aj10h7",
                "groups": [], "password": "1mz050nq", "active": true
            }),
        )
        .await;
    let user = created.expect_status(201).clone();
    assert_eq!(user["id"], person.id, "linked to the Roster user with that email");
    assert_eq!(created.headers["location"], format!("{}/scim/v2/Users/{}", app.settings.public_url, person.id));
    assert_eq!(created.headers["content-type"], "application/scim+json");
    assert_eq!(created.headers["etag"].to_str().unwrap(), user["meta"]["version"]);
    let (status, member) = f.member(&app, &person.id).await;
    assert_eq!(
        (status, member["status"].clone(), member["roles"].clone()),
        (200, json!("active"), json!(["developer"]))
    );
    assert!(can_work_in(&app, &person, &f.account).await);
    let welcome = welcome_to(&app, "dana@acme.test").await;
    assert!(welcome.contains("the password you already use"), "{welcome}");
    let joined = f.audit(&app, "member.joined").await;
    assert_eq!(joined[0]["actor"]["type"], "directory");
    assert_eq!(joined[0]["actor"]["id"], okta.token_id);

    // Okta updates a profile with PUT of the whole user.
    let path = format!("/Users/{}", person.id);
    let mut whole = user.clone();
    whole["name"] = json!({"givenName": "Dana", "familyName": "Mulder"});
    let replaced = okta.put(&path, whole.clone()).await;
    assert_eq!(replaced.expect_status(200)["name"]["familyName"], "Mulder");
    // Dana came with her own Roster account at an unverified domain: the
    // directory's names are kept beside hers, not written over them.
    assert_eq!(f.member(&app, &person.id).await.1["last_name"], person_last_name(&app, &person).await);

    // Okta pushes a group with Dana in it, then renames it.
    let group = okta
        .post(
            "/Groups",
            json!({"schemas": [GROUP_SCHEMA], "displayName": "Test SCIMv2",
                   "members": [{"value": person.id, "display": "dana@acme.test"}]}),
        )
        .await;
    let group = group.expect_status(201)["id"].as_str().unwrap().to_owned();
    assert_eq!(f.group_members(&app, &group).await, std::slice::from_ref(&person.id));
    let renamed = okta
        .patch(&format!("/Groups/{group}"), json!([{"op": "replace", "value": {"id": group, "displayName": "Sales"}}]))
        .await;
    assert_eq!(renamed.expect_status(200)["displayName"], "Sales");
    assert_eq!(f.group_name(&app, &group).await, "Sales");
    let read = okta.get(&path).await;
    assert_eq!(read.expect_status(200)["groups"][0]["display"], "Sales");

    // Okta deactivates with a PUT of the whole user, active false.
    whole["active"] = json!(false);
    assert_eq!(okta.put(&path, whole.clone()).await.expect_status(200)["active"], false);
    let (_, suspended) = f.member(&app, &person.id).await;
    assert_eq!(suspended["status"], "suspended");
    assert_eq!(suspended["roles"], json!(["developer"]), "roles stay on record");
    assert!(!can_work_in(&app, &person, &f.account).await, "refused at once");
    // Okta reactivates with a PATCH.
    let reactivated = okta.patch(&path, json!([{"op": "replace", "value": {"active": true}}])).await;
    assert_eq!(reactivated.expect_status(200)["active"], true);
    assert_eq!(f.member(&app, &person.id).await.1["status"], "active");
    assert!(can_work_in(&app, &person, &f.account).await);

    // Out of the group, through a value filter path.
    let filter = format!("members[value eq \"{}\"]", person.id);
    okta.patch(&format!("/Groups/{group}"), json!([{"op": "remove", "path": filter}])).await.expect_status(200);
    assert!(f.group_members(&app, &group).await.is_empty());

    // Deleted: the membership ends; Dana's Roster user stays.
    okta.delete(&path).await.expect_status(204);
    assert_eq!(f.member(&app, &person.id).await.0, 404);
    okta.get(&path).await.expect_scim_error(404, None);
    app.get("/v1/me", Some(&person.access_token)).await.expect_status(200);
    assert_eq!(f.audit(&app, "member.removed").await[0]["actor"]["type"], "directory");
}

async fn person_last_name(app: &TestApp, person: &SignedIn) -> Value {
    app.get("/v1/me", Some(&person.access_token)).await.expect_status(200)["last_name"].clone()
}

async fn entra_provisions_a_person_through_their_whole_life_cycle(app: TestApp) {
    let f = fixture(&app).await;
    let entra = Directory::connect(&app, &f.owner, &f.account).await;

    // Entra probes by userName before it creates (URL-encoded as sent).
    let probe = entra.get("/Users?filter=userName+eq+%22Test_User_ab6490ee%40contoso.com%22").await;
    assert_eq!(probe.expect_status(200)["totalResults"], 0);
    let created = entra
        .post(
            "/Users",
            json!({
                "schemas": [USER_SCHEMA, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
                "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
                "userName": "Test_User_ab6490ee@contoso.com",
                "active": true,
                "emails": [{"primary": true, "type": "work", "value": "Test_User_fd0ea19b@contoso.com"}],
                "meta": {"resourceType": "User"},
                "name": {"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
                "roles": []
            }),
        )
        .await;
    let user = created.expect_status(201)["id"].as_str().unwrap().to_owned();
    let (_, member) = f.member(&app, &user).await;
    assert_eq!(member["email"], "test_user_ab6490ee@contoso.com");
    assert_eq!((member["first_name"].clone(), member["last_name"].clone()), (json!("givenName"), json!("familyName")));
    let welcome = welcome_to(&app, "test_user_ab6490ee@contoso.com").await;
    assert!(welcome.contains("/reset-password?token="), "a new person chooses a password: {welcome}");
    // Found again by userName and by externalId, in any case of the name.
    for filter in [
        "userName%20eq%20%22test_user_ab6490ee%40contoso.com%22",
        "externalId%20eq%20%220a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef%22",
        "USERNAME%20sw%20%22test_user%22%20and%20active%20eq%20true",
    ] {
        let found = entra.get(&format!("/Users?filter={filter}")).await;
        assert_eq!(found.expect_status(200)["totalResults"], 1, "{filter}");
        assert_eq!(found.body["Resources"][0]["id"], user.as_str(), "{filter}");
    }

    // Entra's update: capitalised ops, value-filter paths, the extension.
    let path = format!("/Users/{user}");
    let updated = entra
        .patch(
            &path,
            json!([
                {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "updatedEmail@microsoft.com"},
                {"op": "Replace", "path": "name.familyName", "value": "updatedFamilyName"},
                {"op": "Add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", "value": "Sales"}
            ]),
        )
        .await;
    assert_eq!(updated.expect_status(200)["name"]["familyName"], "updatedFamilyName");
    // The directory made this user, so its names are theirs.
    assert_eq!(f.member(&app, &user).await.1["last_name"], "updatedFamilyName");

    // A group, then Entra adds the member and renames it.
    let group = entra
        .post(
            "/Groups",
            json!({"schemas": [GROUP_SCHEMA], "externalId": "8aa1a0c0", "displayName": "Group1DisplayName"}),
        )
        .await;
    let group = group.expect_status(201)["id"].as_str().unwrap().to_owned();
    let group_path = format!("/Groups/{group}");
    let found = entra.get("/Groups?excludedAttributes=members&filter=displayName%20eq%20%22group1displayname%22").await;
    assert_eq!(found.expect_status(200)["totalResults"], 1);
    assert!(found.body["Resources"][0].get("members").is_none());
    entra
        .patch(&group_path, json!([{"op": "Add", "path": "members", "value": [{"value": user}]}]))
        .await
        .expect_status(200);
    assert_eq!(f.group_members(&app, &group).await, std::slice::from_ref(&user));
    entra.patch(&group_path, json!([{"op": "Replace", "path": "displayName", "value": "1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName"}])).await.expect_status(200);
    assert_eq!(f.group_name(&app, &group).await, "1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName");

    // Disabled and enabled again, booleans as strings.
    entra.patch(&path, json!([{"op": "Replace", "path": "active", "value": "False"}])).await.expect_status(200);
    assert_eq!(f.member(&app, &user).await.1["status"], "suspended");
    let listed =
        app.get(&format!("/v1/accounts/{}/members?status=suspended", f.account), Some(&f.owner.access_token)).await;
    assert_eq!(listed.expect_status(200)["items"][0]["user_id"], user.as_str());
    entra.patch(&path, json!([{"op": "Replace", "path": "active", "value": "True"}])).await.expect_status(200);
    assert_eq!(f.member(&app, &user).await.1["status"], "active");

    // Out of the group as Entra removes members, then deleted.
    entra
        .patch(&group_path, json!([{"op": "Remove", "path": "members", "value": [{"value": user}]}]))
        .await
        .expect_status(200);
    assert!(f.group_members(&app, &group).await.is_empty());
    entra.delete(&path).await.expect_status(204);
    assert_eq!(f.member(&app, &user).await.0, 404);
    entra.delete(&group_path).await.expect_status(204);
    entra.get(&group_path).await.expect_scim_error(404, None);
    for action in
        ["member.suspended", "member.reactivated", "group.member_added", "group.member_removed", "group.deleted"]
    {
        let events = f.audit(&app, action).await;
        assert_eq!(events.len(), 1, "{action}");
        assert_eq!(events[0]["actor"]["type"], "directory", "{action}");
    }
}

async fn refusals_are_scim_errors_and_change_nothing(app: TestApp) {
    let f = fixture(&app).await;
    let directory = Directory::connect(&app, &f.owner, &f.account).await;
    let user = directory.create_user("ada@acme.test", "Ada", "Lovelace").await;
    let path = format!("/Users/{user}");

    // Credentials: none, the JSON API's, a revoked one.
    let url = app.url("/scim/v2/Users");
    let bare = TestApp::read(app.client.get(&url).send().await.unwrap()).await;
    bare.expect_scim_error(401, None);
    let with_jwt = app.client.get(&url).bearer_auth(&f.owner.access_token).send().await.unwrap();
    TestApp::read(with_jwt).await.expect_scim_error(401, None);

    // Bad requests, each with its kind.
    let again = directory.create_user_reply("ADA@acme.test").await;
    again.expect_scim_error(409, Some("uniqueness"));
    directory.get("/Users?filter=userName%20eq").await.expect_scim_error(400, Some("invalidFilter"));
    directory.post("/Users", json!({"name": {"givenName": "No"}})).await.expect_scim_error(400, Some("invalidValue"));
    directory.post("/Users", json!({"userName": "not an email"})).await.expect_scim_error(400, Some("invalidValue"));
    let not_json = directory.send(Method::POST, "/Users", None, None).await;
    not_json.expect_scim_error(415, None);
    let broken = app
        .client
        .post(&url)
        .bearer_auth(&directory.token)
        .header("content-type", "application/scim+json")
        .body("{\"userName\":")
        .send()
        .await
        .unwrap();
    TestApp::read(broken).await.expect_scim_error(400, Some("invalidSyntax"));
    directory
        .patch(&path, json!([{"op": "remove", "path": "userName"}]))
        .await
        .expect_scim_error(400, Some("mutability"));
    directory
        .patch(&path, json!([{"op": "replace", "path": "userName", "value": "eve@acme.test"}]))
        .await
        .expect_scim_error(400, Some("mutability"));
    directory.patch(&path, json!([{"op": "remove"}])).await.expect_scim_error(400, Some("noTarget"));
    directory
        .patch(&path, json!([{"op": "replace", "path": "active", "value": "perhaps"}]))
        .await
        .expect_scim_error(400, Some("invalidValue"));
    directory.get("/Users/not-a-uuid").await.expect_scim_error(404, None);
    directory.get("/Nothing").await.expect_scim_error(404, None);
    // The last active owner stays: the directory cannot suspend them.
    let owner = format!("/Users/{}", f.owner.id);
    directory
        .patch(&owner, json!([{"op": "replace", "path": "active", "value": false}]))
        .await
        .expect_scim_error(400, Some("mutability"));
    directory.delete(&owner).await.expect_scim_error(400, Some("mutability"));
    // A group member that is no user of the account.
    let stranger = app.sign_up("stranger@elsewhere.test").await;
    let group = json!({"displayName": "G", "members": [{"value": stranger.id}]});
    directory.post("/Groups", group).await.expect_scim_error(400, Some("invalidValue"));
    directory.post("/Groups", json!({"displayName": "H"})).await.expect_status(201);
    directory.post("/Groups", json!({"displayName": "h"})).await.expect_scim_error(409, Some("uniqueness"));

    // ETags: a stale version is 412, the current one goes through.
    let read = directory.get(&path).await;
    let tag = read.headers["etag"].to_str().unwrap().to_owned();
    let rename = json!({"schemas": [integration_tests::scim::PATCH_SCHEMA], "Operations": [{"op": "replace", "path": "displayName", "value": "Ada L."}]});
    directory.send(Method::PATCH, &path, Some(rename.clone()), Some(&tag)).await.expect_status(200);
    let stale = directory.send(Method::PATCH, &path, Some(rename), Some(&tag)).await;
    stale.expect_scim_error(412, None);
    directory.send(Method::DELETE, &path, None, Some(&tag)).await.expect_scim_error(412, None);

    // Another account's people are not there for this token.
    let other_owner = app.sign_up("other@other.test").await;
    let other = app.create_account(&other_owner, "Other").await;
    let elsewhere = Directory::connect(&app, &other_owner, &other).await;
    elsewhere.get(&path).await.expect_scim_error(404, None);
    elsewhere.delete(&path).await.expect_scim_error(404, None);
    let theirs = elsewhere.get("/Users").await;
    assert_eq!(theirs.expect_status(200)["totalResults"], 1, "only their owner");

    // Nothing of the refused requests changed anything.
    let members = app.get(&format!("/v1/accounts/{}/members", f.account), Some(&f.owner.access_token)).await;
    assert_eq!(members.expect_status(200)["items"].as_array().unwrap().len(), 2);
    assert_eq!(f.member(&app, &user).await.1["email"], "ada@acme.test");

    // Revoked: refused from the next request.
    let revoke = format!("/v1/accounts/{}/scim-tokens/{}", f.account, directory.token_id);
    app.delete(&revoke, Some(&f.owner.access_token)).await.expect_status(204);
    directory.get("/Users").await.expect_scim_error(401, None);
}

async fn lists_page_and_filter_over_more_than_250_users(app: TestApp) {
    let f = fixture(&app).await;
    let directory = Directory::connect(&app, &f.owner, &f.account).await;
    for n in 0..260 {
        directory.create_user(&format!("person{n:03}@acme.test"), "Person", &format!("N{n:03}")).await;
    }
    // 261 members with the owner, in pages of 100.
    let mut seen = std::collections::BTreeSet::new();
    for (start, expected) in [(1, 100), (101, 100), (201, 61), (301, 0)] {
        let page = directory.get(&format!("/Users?startIndex={start}&count=100&attributes=userName")).await;
        let page = page.expect_status(200);
        assert_eq!(page["totalResults"], 261);
        assert_eq!(page["startIndex"], start);
        assert_eq!(page["itemsPerPage"], expected);
        for user in page["Resources"].as_array().unwrap() {
            assert!(user.get("name").is_none(), "only the attributes asked for");
            assert!(seen.insert(user["id"].as_str().unwrap().to_owned()), "each user once");
        }
    }
    assert_eq!(seen.len(), 261);
    // A filter no index answers is evaluated, and paged as well.
    let filtered = directory.get("/Users?filter=name.familyName%20sw%20%22n25%22&count=5&startIndex=6").await;
    let filtered = filtered.expect_status(200);
    assert_eq!(filtered["totalResults"], 10);
    assert_eq!(filtered["itemsPerPage"], 5);
    assert_eq!(filtered["Resources"][0]["name"]["familyName"], "N255");
    let counted = directory.get("/Users?count=0").await;
    assert_eq!(counted.expect_status(200)["totalResults"], 261);
    assert_eq!(counted.body["Resources"], json!([]));
}

async fn the_same_person_created_twice_at_once_is_one_member(app: TestApp) {
    let f = fixture(&app).await;
    let directory = Directory::connect(&app, &f.owner, &f.account).await;
    // Eight at once, for a new person and for one Roster already knows.
    app.sign_up("known@acme.test").await;
    for email in ["twin@acme.test", "known@acme.test"] {
        let replies = join_all((0..8).map(|_| directory.create_user_reply(email))).await;
        let mut statuses: Vec<u16> = replies.iter().map(|reply| reply.status.as_u16()).collect();
        statuses.sort();
        assert_eq!(statuses, [201, 409, 409, 409, 409, 409, 409, 409], "{email}");
        for reply in replies.iter().filter(|reply| reply.status.as_u16() == 409) {
            reply.expect_scim_error(409, Some("uniqueness"));
        }
        let found = directory.get(&format!("/Users?filter=userName%20eq%20%22{}%22", email.replace('@', "%40"))).await;
        assert_eq!(found.expect_status(200)["totalResults"], 1);
    }
    assert_eq!(f.audit(&app, "member.joined").await.len(), 2);
}

async fn discovery_says_what_is_supported(app: TestApp) {
    let f = fixture(&app).await;
    let directory = Directory::connect(&app, &f.owner, &f.account).await;
    let config = directory.get("/ServiceProviderConfig").await;
    let config = config.expect_status(200);
    assert_eq!(config["patch"]["supported"], true);
    assert_eq!(config["bulk"]["supported"], false);
    assert_eq!(config["filter"], json!({"supported": true, "maxResults": 1000}));
    assert_eq!(config["changePassword"]["supported"], false);
    assert_eq!(config["sort"]["supported"], false);
    assert_eq!(config["etag"]["supported"], true);
    let types = directory.get("/ResourceTypes").await;
    let names: Vec<&str> =
        types.expect_status(200)["Resources"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["User", "Group"]);
    let schema = directory.get(&format!("/Schemas/{USER_SCHEMA}")).await;
    let attributes = schema.expect_status(200)["attributes"].as_array().unwrap().clone();
    let user_name = attributes.iter().find(|a| a["name"] == "userName").unwrap();
    assert_eq!(user_name["mutability"], "immutable");
    directory.get("/Users?sortBy=userName").await.expect_scim_error(400, Some("invalidValue"));
    // Without a token, discovery is refused like the rest.
    let bare = TestApp::read(app.client.get(app.url("/scim/v2/ServiceProviderConfig")).send().await.unwrap()).await;
    bare.expect_scim_error(401, None);
}

const PLANS: &str = r#"
[[plans]]
key = "team"
name = "Team"
features = ["directory_sync"]
seats = 3

[[plans]]
key = "solo"
name = "Solo"
features = []
"#;

async fn seats_plans_and_rate_limits_answer_in_scim_form(backend: Backend) {
    let dir = std::env::temp_dir().join(format!("roster-scim-plans-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("plans.toml");
    std::fs::write(&file, PLANS).unwrap();
    let Some(app) = TestApp::spawn_with(backend, |s| {
        s.plans_file = Some(file.clone());
        s.default_plan = Some("team".into());
        s.rate_limits.scim_token = "8/1m".parse().unwrap();
    })
    .await
    else {
        return;
    };
    let owner = app.sign_up("owner@acme.test").await;
    let account = app.create_account(&owner, "Acme").await;
    let directory = Directory::connect(&app, &owner, &account).await;
    // Three seats: the owner and two people; the third is refused.
    directory.create_user("one@acme.test", "One", "P").await;
    directory.create_user("two@acme.test", "Two", "P").await;
    let full = directory.create_user_reply("three@acme.test").await;
    full.expect_scim_error(403, None);
    assert!(full.body["detail"].as_str().unwrap().contains("3 seats"), "{}", full.body);
    // Eight requests a minute: five more go through, the next is 429.
    for _ in 0..5 {
        directory.get("/Users?count=0").await.expect_status(200);
    }
    let limited = directory.get("/Users?count=0").await;
    limited.expect_scim_error(429, None);
    assert!(limited.headers.contains_key("retry-after"));
    // A plan without directory sync refuses the directory.
    app.advance(chrono::Duration::minutes(2)).await;
    directory.get("/Users?count=0").await.expect_status(200);
    {
        let mut conn = app.db();
        let id = uuid::Uuid::parse_str(&account).unwrap();
        persistence::accounts::set_plan(&mut conn, id, "solo", app.now()).unwrap();
    }
    directory.get("/Users?count=0").await.expect_scim_error(403, None);
    std::fs::remove_dir_all(dir).unwrap();
}

async fn a_group_gives_its_roles_to_the_people_in_it(app: TestApp) {
    let f = fixture(&app).await;
    let t = Some(f.owner.access_token.as_str());
    let directory = Directory::connect(&app, &f.owner, &f.account).await;
    let person = directory.create_user("ravi@acme.test", "Ravi", "P").await;
    let group_of = |name: &str| json!({"schemas": [GROUP_SCHEMA], "displayName": name});
    let analysts =
        directory.post("/Groups", group_of("Analysts")).await.expect_status(201)["id"].as_str().unwrap().to_owned();
    let both = directory.post("/Groups", group_of("Both")).await.expect_status(201)["id"].as_str().unwrap().to_owned();
    let roles_of = |group: &str| format!("/v1/accounts/{}/groups/{group}/roles", f.account);
    let gives = json!({"roles": [{"role": "analyst", "scope": "account"}, {"role": "marketer", "scope": "group"}]});
    let set = app.put(&roles_of(&analysts), t, gives.clone()).await;
    assert_eq!(set.expect_status(200), &gives);
    app.put(&roles_of(&both), t, json!({"roles": [{"role": "analyst", "scope": "account"}]})).await.expect_status(200);
    let owner_given = app.put(&roles_of(&both), t, json!({"roles": [{"role": "owner", "scope": "account"}]})).await;
    owner_given.expect_problem(422, "validation_failed");

    let held = |member: &Value| {
        let mut held: Vec<String> = member["assignments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| format!("{}@{}", a["role"].as_str().unwrap(), a["group_id"].as_str().unwrap_or("account")))
            .collect();
        held.sort();
        held
    };
    let add = |group: &str| {
        let group = group.to_owned();
        let person = person.clone();
        let directory = &directory;
        async move {
            let op = json!([{"op": "add", "path": "members", "value": [{"value": person}]}]);
            directory.patch(&format!("/Groups/{group}"), op).await.expect_status(200);
        }
    };
    let remove = |group: &str| {
        let group = group.to_owned();
        let person = person.clone();
        let directory = &directory;
        async move {
            let op = json!([{"op": "remove", "path": format!("members[value eq \"{person}\"]")}]);
            directory.patch(&format!("/Groups/{group}"), op).await.expect_status(200);
        }
    };
    add(&analysts).await;
    let member = f.member(&app, &person).await.1;
    assert_eq!(
        held(&member),
        ["analyst@account".to_owned(), "developer@account".into(), format!("marketer@{analysts}")]
    );
    add(&both).await;
    remove(&analysts).await;
    let member = f.member(&app, &person).await.1;
    assert_eq!(held(&member), ["analyst@account", "developer@account"], "Both still gives analyst");
    remove(&both).await;
    assert_eq!(held(&f.member(&app, &person).await.1), ["developer@account"], "the directory's own role stays");
    // A change of what a group gives reaches the people in it.
    add(&both).await;
    app.put(&roles_of(&both), t, json!({"roles": [{"role": "marketer", "scope": "account"}]})).await.expect_status(200);
    assert_eq!(held(&f.member(&app, &person).await.1), ["developer@account", "marketer@account"]);
    app.run_jobs().await;
    assert_eq!(f.audit(&app, "group.roles_updated").await.len(), 3);

    // Someone who manages the group only cannot put people in it when it
    // gives roles they could not give themselves.
    let lead = app.sign_up("lead@acme.test").await;
    app.add_member(&f.account, &lead.id, &[]);
    let lead_roles = format!("/v1/accounts/{}/members/{}", f.account, lead.id);
    let tag = app.etag_of(&lead_roles, &f.owner.access_token).await;
    let body = json!({"assignments": [{"role": "administrator", "group_id": analysts}]});
    let assigned = app
        .request_if_match(Method::PUT, &format!("{lead_roles}/roles"), &f.owner.access_token, Some(&tag), Some(body))
        .await;
    assigned.expect_status(200);
    let into = |group: &str| format!("/v1/accounts/{}/groups/{group}/members/{person}", f.account);
    let refused = app.request(Method::PUT, &into(&analysts), Some(&lead.access_token), None).await;
    refused.expect_problem(403, "forbidden");
    app.put(&roles_of(&analysts), t, json!({"roles": [{"role": "marketer", "scope": "group"}]}))
        .await
        .expect_status(200);
    app.request(Method::PUT, &into(&analysts), Some(&lead.access_token), None).await.expect_status(204);
    assert!(held(&f.member(&app, &person).await.1).contains(&format!("marketer@{analysts}")));
}
