//! The authorization matrix, generated rather than written out: every
//! account-scoped operation of the served OpenAPI document (the route
//! table), with the requirement it publishes (`x-authorization`), is called
//! by every persona; what each persona may do is computed from the
//! permission catalogue. A member lacking the permission must get 403, a
//! non-member 404, an anonymous caller 401, and nobody a 500.

use domain::{BuiltInRole, HeldRole, RoleKind};
use integration_tests::{SignedIn, TestApp, on_both_backends};
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

on_both_backends!(every_operation_allows_exactly_the_personas_it_should);

struct Persona {
    name: &'static str,
    user: Option<SignedIn>,
    /// `None`: not a member of the account under test.
    roles: Option<Vec<HeldRole>>,
}

fn held(key: &str, kind: RoleKind, group: Option<Uuid>) -> HeldRole {
    HeldRole { key: key.to_owned(), kind, group }
}

async fn every_operation_allows_exactly_the_personas_it_should(app: TestApp) {
    let catalogue = api::catalogue::parse(api::catalogue::DEFAULT_PERMISSIONS).unwrap();
    let owner = app.sign_up("owner@example.com").await;
    let account = app.create_account(&owner, "Acme").await;
    let groups = format!("/v1/accounts/{account}/groups");
    let inside = app.post(&groups, Some(&owner.access_token), json!({"name": "Inside"})).await.expect_status(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let outside =
        app.post(&groups, Some(&owner.access_token), json!({"name": "Outside"})).await.expect_status(201)["id"]
            .as_str()
            .unwrap()
            .to_owned();
    let group = Uuid::parse_str(&inside).unwrap();

    let mut personas = vec![Persona {
        name: "owner",
        user: Some(owner.clone()),
        roles: Some(vec![held("owner", RoleKind::BuiltIn(BuiltInRole::Owner), None)]),
    }];
    for (name, kind) in [
        ("administrator", RoleKind::BuiltIn(BuiltInRole::Administrator)),
        ("developer", RoleKind::Template),
        ("marketer", RoleKind::Template),
        ("analyst", RoleKind::Template),
    ] {
        let user = app.sign_up(&format!("{name}@example.com")).await;
        app.add_member(&account, &user.id, &[name]);
        personas.push(Persona { name, user: Some(user), roles: Some(vec![held(name, kind, None)]) });
    }
    let lead = app.sign_up("group-admin@example.com").await;
    app.add_member(&account, &lead.id, &[]);
    let tag = app.get(&format!("/v1/accounts/{account}/members/{}", lead.id), Some(&owner.access_token)).await.headers
        ["etag"]
        .to_str()
        .unwrap()
        .to_owned();
    let assign = app
        .client
        .put(app.url(&format!("/v1/accounts/{account}/members/{}/roles", lead.id)))
        .bearer_auth(&owner.access_token)
        .header("if-match", tag);
    let assigned =
        assign.json(&json!({"assignments": [{"role": "administrator", "group_id": inside}]})).send().await.unwrap();
    assert_eq!(assigned.status(), 200);
    personas.push(Persona {
        name: "group administrator",
        user: Some(lead),
        roles: Some(vec![held("administrator", RoleKind::BuiltIn(BuiltInRole::Administrator), Some(group))]),
    });
    // Two members to act on: one outside every group, one inside the group
    // administrator's group.
    let inside_member = app.sign_up("inside@example.com").await;
    app.add_member(&account, &inside_member.id, &[]);
    let into_group = format!("/v1/accounts/{account}/groups/{inside}/members/{}", inside_member.id);
    app.request(Method::PUT, &into_group, Some(&owner.access_token), None).await.expect_status(204);
    let outsider = app.sign_up("outsider@example.com").await;
    app.create_account(&outsider, "Elsewhere").await;
    personas.push(Persona { name: "member of another account", user: Some(outsider), roles: None });
    personas.push(Persona { name: "anonymous", user: None, roles: None });
    let targets =
        [(personas[1].user.as_ref().unwrap().id.clone(), Vec::new()), (inside_member.id.clone(), vec![group])];

    let document = app.get("/openapi.json", None).await.body;
    let mut checked = 0;
    let mut failures = Vec::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        if !path.starts_with("/v1/accounts/{account_id}") {
            continue;
        }
        for (method, operation) in item.as_object().unwrap() {
            let id = operation["operationId"].as_str().unwrap();
            let requirement = &operation["x-authorization"];
            assert!(requirement.is_object(), "{id} publishes no x-authorization");
            let permission = requirement["permission"].as_str();
            let scope = requirement["scope"].as_str().unwrap();
            let self_allowed = requirement["self_allowed"].as_bool().unwrap_or(false);
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let body = request_example(&document, operation);
            let group_variants: Vec<&str> =
                if path.contains("{group_id}") { vec![&inside, &outside] } else { vec![&inside] };
            let target_variants: &[(String, Vec<Uuid>)] =
                if path.contains("{user_id}") { &targets } else { &targets[..1] };
            for group_id in group_variants {
                for (target_user, target_groups) in target_variants {
                    let url = fill_path(path, &method, &account, group_id, target_user);
                    assert!(!url.contains('{'), "{url}: teach fill_path this path parameter");
                    let path_group = Uuid::parse_str(group_id).unwrap();
                    for persona in &personas {
                        let reply = app
                            .request(
                                method.clone(),
                                &url,
                                persona.user.as_ref().map(|u| u.access_token.as_str()),
                                body.clone(),
                            )
                            .await;
                        checked += 1;
                        if id == "suspend_member" && reply.status.is_success() {
                            // The target is a persona the rest of the matrix acts as.
                            let restore = url.replace("/suspend", "/reactivate");
                            app.request(Method::POST, &restore, Some(&owner.access_token), None)
                                .await
                                .expect_status(200);
                        }
                        let expected = match (&persona.user, &persona.roles) {
                            (None, _) => Expect::Status(401),
                            (Some(_), None) => Expect::Status(404),
                            (Some(user), Some(roles)) => {
                                let holds = |scope: Option<Uuid>| {
                                    permission.is_none_or(|key| catalogue.effective(roles, scope).contains_key(key))
                                };
                                let about_self = self_allowed && path.contains("{user_id}") && &user.id == target_user;
                                let allowed = about_self
                                    || match scope {
                                        "account" => holds(None),
                                        "group" => holds(Some(path_group)),
                                        "member_groups" => holds(None) || target_groups.iter().any(|g| holds(Some(*g))),
                                        // Past the guard, the operation checks each change
                                        // where it applies: the example body's account-wide
                                        // change may still be refused to a group's holder.
                                        "any_group" if !holds(None) && roles.iter().any(|role| holds(role.group)) => {
                                            failures.extend(
                                                (reply.status.as_u16() >= 500)
                                                    .then(|| format!("{method} {url} ({id}): {}", reply.status)),
                                            );
                                            continue;
                                        }
                                        "any_group" => holds(None),
                                        other => panic!("{id}: unknown scope {other}"),
                                    };
                                if allowed { Expect::Allowed } else { Expect::Status(403) }
                            }
                        };
                        let status = reply.status.as_u16();
                        let ok = match expected {
                            Expect::Status(wanted) => status == wanted,
                            Expect::Allowed => !matches!(status, 401 | 403) && status < 500,
                        };
                        if !ok || status >= 500 {
                            let body: String = reply.body.to_string().chars().take(160).collect();
                            failures.push(format!(
                                "{method} {url} ({id}) as {}: expected {expected:?}, got {status} {body}",
                                persona.name
                            ));
                        }
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "{} unexpected outcomes:\n{}", failures.len(), failures.join("\n"));
    assert!(checked > 200, "only {checked} calls made");
}

#[derive(Debug, Clone, Copy)]
enum Expect {
    Allowed,
    Status(u16),
}

/// Real ids for the account, groups and a member; a fresh id for the
/// resource a DELETE or PUT names last (it would destroy or add it), so the
/// matrix leaves its fixtures as they were.
fn fill_path(path: &str, method: &Method, account: &str, group: &str, user: &str) -> String {
    let mut url = path.replace("{account_id}", account);
    if matches!(*method, Method::DELETE | Method::PUT)
        && url.ends_with('}')
        && let Some(start) = url.rfind('{')
    {
        let end = url[start..].find('}').unwrap() + start + 1;
        url.replace_range(start..end, &Uuid::new_v4().to_string());
    }
    url.replace("{group_id}", group)
        .replace("{user_id}", user)
        .replace("{invitation_id}", &Uuid::new_v4().to_string())
        .replace("{role_id}", &Uuid::new_v4().to_string())
        .replace("{contact_id}", &Uuid::new_v4().to_string())
        .replace("{address_id}", &Uuid::new_v4().to_string())
        .replace("{import_id}", &Uuid::new_v4().to_string())
        .replace("{link_id}", &Uuid::new_v4().to_string())
        .replace("{request_id}", &Uuid::new_v4().to_string())
        .replace("{webhook_id}", &Uuid::new_v4().to_string())
        .replace("{delivery_id}", &Uuid::new_v4().to_string())
        .replace("{partner_id}", &Uuid::new_v4().to_string())
        .replace("{key_id}", &Uuid::new_v4().to_string())
        .replace("{review_id}", &Uuid::new_v4().to_string())
        .replace("{domain_id}", &Uuid::new_v4().to_string())
        .replace("{connection_id}", &Uuid::new_v4().to_string())
        .replace("{token_id}", &Uuid::new_v4().to_string())
}

/// The documented example of the operation's request body: valid input, so
/// that only authorization decides the outcome.
fn request_example(document: &Value, operation: &Value) -> Option<Value> {
    let schema = &operation["requestBody"]["content"]["application/json"]["schema"];
    if schema.is_null() {
        return None;
    }
    let name = schema["$ref"].as_str()?.rsplit('/').next()?;
    Some(document["components"]["schemas"][name]["example"].clone())
        .filter(|example| !example.is_null())
        .or(Some(json!({})))
}
