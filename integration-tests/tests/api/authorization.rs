//! Who may do what on the invitation and member endpoints: members without
//! the permission get 403, non-members 404, and nobody hands out or takes
//! away more than they hold.

use integration_tests::{SignedIn, TestApp, on_both_backends};
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

on_both_backends!(
    members_without_permissions_get_403_and_strangers_404,
    administrators_cannot_create_or_remove_owners,
    malformed_ids_are_400,
    verification_emails_can_be_resent_until_verified,
);

struct Cast {
    owner: SignedIn,
    admin: SignedIn,
    plain: SignedIn,
    stranger: SignedIn,
    account: String,
}

async fn cast(app: &TestApp) -> Cast {
    let owner = app.sign_up("owner@example.com").await;
    let admin = app.sign_up("admin@example.com").await;
    let plain = app.sign_up("plain@example.com").await;
    let stranger = app.sign_up("stranger@example.com").await;
    let account = app.create_account(&owner, "Acme").await;
    // Arranged in SQL until role assignment has its endpoint.
    app.add_member(&account, &admin.id, &["administrator"]);
    app.add_member(&account, &plain.id, &[]);
    Cast { owner, admin, plain, stranger, account }
}

fn guarded_requests(account: &str, owner_id: &str) -> Vec<(Method, String, Option<Value>)> {
    let invitation = Uuid::new_v4();
    vec![
        (Method::GET, format!("/v1/accounts/{account}/invitations"), None),
        (
            Method::POST,
            format!("/v1/accounts/{account}/invitations"),
            Some(json!({"invitations": [{"email": "x@example.com"}]})),
        ),
        (Method::GET, format!("/v1/accounts/{account}/invitations/{invitation}"), None),
        (Method::POST, format!("/v1/accounts/{account}/invitations/{invitation}/resend"), Some(json!({}))),
        (Method::POST, format!("/v1/accounts/{account}/invitations/{invitation}/revoke"), Some(json!({}))),
        (Method::GET, format!("/v1/accounts/{account}/preferences"), None),
        (Method::PATCH, format!("/v1/accounts/{account}/preferences"), Some(json!({"invitation_ttl_days": 5}))),
        (Method::GET, format!("/v1/accounts/{account}/members"), None),
        (Method::GET, format!("/v1/accounts/{account}/members/{owner_id}"), None),
        (Method::DELETE, format!("/v1/accounts/{account}/members/{owner_id}"), None),
    ]
}

async fn members_without_permissions_get_403_and_strangers_404(app: TestApp) {
    let cast = cast(&app).await;
    for (method, path, body) in guarded_requests(&cast.account, &cast.owner.id) {
        let plain = app.request(method.clone(), &path, Some(&cast.plain.access_token), body.clone()).await;
        plain.expect_problem(403, "forbidden");
        let stranger = app.request(method.clone(), &path, Some(&cast.stranger.access_token), body.clone()).await;
        stranger.expect_problem(404, "not_found");
        let anonymous = app.request(method, &path, None, body).await;
        anonymous.expect_problem(401, "unauthenticated");
    }
    // Nothing was changed by the refused calls.
    let invitations =
        app.get(&format!("/v1/accounts/{}/invitations", cast.account), Some(&cast.owner.access_token)).await;
    assert!(invitations.expect_status(200)["items"].as_array().unwrap().is_empty());
    let members = app.get(&format!("/v1/accounts/{}/members", cast.account), Some(&cast.admin.access_token)).await;
    assert_eq!(members.expect_status(200)["items"].as_array().unwrap().len(), 3, "owner, admin and plain");
    // Plain members still see the account itself and may leave it.
    app.get(&format!("/v1/accounts/{}", cast.account), Some(&cast.plain.access_token)).await.expect_status(200);
    app.delete(&format!("/v1/me/accounts/{}", cast.account), Some(&cast.plain.access_token)).await.expect_status(204);
    app.get(&format!("/v1/accounts/{}", cast.account), Some(&cast.plain.access_token))
        .await
        .expect_problem(404, "not_found");
}

async fn administrators_cannot_create_or_remove_owners(app: TestApp) {
    let cast = cast(&app).await;
    let path = format!("/v1/accounts/{}/invitations", cast.account);
    let body = json!({"invitations": [{"email": "new-owner@example.com", "roles": ["owner"]}, {"email": "new-admin@example.com", "roles": ["administrator"]}]});
    let results = app.post(&path, Some(&cast.admin.access_token), body).await;
    let results = results.expect_status(200)["results"].clone();
    assert_eq!(results[0]["problem"]["code"], "forbidden");
    assert_eq!(results[0]["problem"]["status"], 403);
    assert_eq!(results[1]["outcome"], "created");
    let owner_invite = json!({"invitations": [{"email": "new-owner@example.com", "roles": ["owner"]}]});
    let by_owner = app.post(&path, Some(&cast.owner.access_token), owner_invite).await;
    assert_eq!(by_owner.expect_status(200)["results"][0]["outcome"], "created");

    let remove_owner = format!("/v1/accounts/{}/members/{}", cast.account, cast.owner.id);
    let refused = app.delete(&remove_owner, Some(&cast.admin.access_token)).await;
    refused.expect_problem(403, "forbidden");
    assert!(refused.body["detail"].as_str().unwrap().contains("ownership:transfer"));
    app.get(&format!("/v1/accounts/{}", cast.account), Some(&cast.owner.access_token)).await.expect_status(200);
    app.delete(&format!("/v1/accounts/{}/members/{}", cast.account, cast.plain.id), Some(&cast.admin.access_token))
        .await
        .expect_status(204);
    app.delete(&format!("/v1/accounts/{}/members/{}", cast.account, cast.admin.id), Some(&cast.owner.access_token))
        .await
        .expect_status(204);
    app.get(&format!("/v1/accounts/{}", cast.account), Some(&cast.admin.access_token))
        .await
        .expect_problem(404, "not_found");
}

async fn malformed_ids_are_400(app: TestApp) {
    let cast = cast(&app).await;
    let token = Some(cast.owner.access_token.as_str());
    for path in [
        format!("/v1/accounts/{}/invitations/not-a-uuid", cast.account),
        format!("/v1/accounts/{}/members/42", cast.account),
        "/v1/accounts/nope/members".to_owned(),
    ] {
        app.get(&path, token).await.expect_problem(400, "invalid_path_parameter");
    }
    app.delete("/v1/me/accounts/nope", token).await.expect_problem(400, "invalid_path_parameter");
    let list = format!("/v1/accounts/{}/members", cast.account);
    app.get(&format!("{list}?limit=0"), token).await.expect_problem(422, "validation_failed");
    app.get(&format!("{list}?cursor=zzz"), token).await.expect_problem(422, "validation_failed");
    let page = app.get(&format!("{list}?limit=2"), token).await;
    let cursor = page.expect_status(200)["next_cursor"].as_str().unwrap().to_owned();
    let rest = app.get(&format!("{list}?limit=2&cursor={cursor}"), token).await;
    assert_eq!(rest.expect_status(200)["items"].as_array().unwrap().len(), 1);
    let found = app.get(&format!("{list}?q=PLAIN"), token).await;
    assert_eq!(found.body["items"][0]["email"], "plain@example.com");
}

async fn verification_emails_can_be_resent_until_verified(app: TestApp) {
    let user = app.sign_up_unverified("ada@example.com").await;
    app.emails_to("ada@example.com", 1).await;
    app.post("/v1/auth/verify-email/resend", Some(&user.access_token), json!({})).await.expect_status(202);
    let mail = app.emails_to("ada@example.com", 2).await;
    let first = mail[0].link_parameter("token").unwrap();
    let second = mail[1].link_parameter("token").unwrap();
    assert_ne!(first, second);
    app.post("/v1/auth/verify-email", None, json!({"token": second})).await.expect_status(204);
    assert_eq!(app.get("/v1/me", Some(&user.access_token)).await.body["email_verified"], true);
    app.post("/v1/auth/verify-email/resend", Some(&user.access_token), json!({}))
        .await
        .expect_problem(409, "already_verified");
    app.post("/v1/auth/verify-email/resend", None, json!({})).await.expect_problem(401, "unauthenticated");
    app.post("/v1/auth/verify-email", None, json!({"token": "made-up"}))
        .await
        .expect_problem(409, "verification_invalid");
}
