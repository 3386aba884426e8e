//! A directory (Okta, Entra ID, …) speaking SCIM to the app under test:
//! requests as `application/scim+json` with the account's directory token.

use reqwest::Method;
use serde_json::{Value, json};

use crate::{Reply, SignedIn, TestApp};

pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub const PATCH_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
pub const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

pub struct Directory<'a> {
    pub app: &'a TestApp,
    pub token: String,
    pub token_id: String,
}

impl<'a> Directory<'a> {
    /// A token for `account`'s directory, made by `owner`.
    pub async fn connect(app: &'a TestApp, owner: &SignedIn, account: &str) -> Directory<'a> {
        let path = format!("/v1/accounts/{account}/scim-tokens");
        let made = app.post(&path, Some(&owner.access_token), json!({"name": "Directory"})).await;
        let made = made.expect_status(201);
        Directory {
            app,
            token: made["token"].as_str().expect("the token").to_owned(),
            token_id: made["id"].as_str().expect("its id").to_owned(),
        }
    }

    /// A request to `/scim/v2{path}`.
    pub async fn send(&self, method: Method, path: &str, body: Option<Value>, if_match: Option<&str>) -> Reply {
        let mut request =
            self.app.client.request(method, self.app.url(&format!("/scim/v2{path}"))).bearer_auth(&self.token);
        if let Some(tag) = if_match {
            request = request.header("if-match", tag);
        }
        if let Some(body) = body {
            request = request.header("content-type", "application/scim+json").body(body.to_string());
        }
        TestApp::read(request.send().await.expect("the server answers")).await
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.send(Method::GET, path, None, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.send(Method::POST, path, Some(body), None).await
    }

    pub async fn put(&self, path: &str, body: Value) -> Reply {
        self.send(Method::PUT, path, Some(body), None).await
    }

    pub async fn patch(&self, path: &str, operations: Value) -> Reply {
        self.send(Method::PATCH, path, Some(json!({"schemas": [PATCH_SCHEMA], "Operations": operations})), None).await
    }

    pub async fn delete(&self, path: &str) -> Reply {
        self.send(Method::DELETE, path, None, None).await
    }

    /// Asks to create a user with nothing but a `userName`.
    pub async fn create_user_reply(&self, email: &str) -> Reply {
        self.post("/Users", json!({"schemas": [USER_SCHEMA], "userName": email, "active": true})).await
    }

    /// Creates a user as Okta does and returns its SCIM id.
    pub async fn create_user(&self, email: &str, given: &str, family: &str) -> String {
        let body = json!({
            "schemas": [USER_SCHEMA], "userName": email, "name": {"givenName": given, "familyName": family},
            "emails": [{"primary": true, "value": email, "type": "work"}], "active": true
        });
        let made = self.post("/Users", body).await;
        made.expect_status(201)["id"].as_str().expect("its id").to_owned()
    }
}

impl Reply {
    /// Asserts a SCIM error (RFC 7644 §3.12): its status, as a string in the
    /// body too, and its `scimType` when one is expected.
    #[track_caller]
    pub fn expect_scim_error(&self, status: u16, scim_type: Option<&str>) -> &Self {
        assert_eq!(self.status.as_u16(), status, "unexpected status; body: {}", self.body);
        let content_type = self.headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default();
        assert_eq!(content_type, "application/scim+json", "SCIM errors are scim+json; body: {}", self.body);
        assert_eq!(self.body["schemas"], json!([ERROR_SCHEMA]), "{}", self.body);
        assert_eq!(self.body["status"], status.to_string(), "{}", self.body);
        assert!(self.body["detail"].is_string(), "{}", self.body);
        assert_eq!(self.body["scimType"].as_str(), scim_type, "{}", self.body);
        self
    }
}
