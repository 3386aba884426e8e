//! Discovery (RFC 7644 §4): what this service provider supports, exactly.
//! Readable without a token's account mattering, but with a token, as the
//! directories call them.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, web};
use domain::scim::group::GROUP_SCHEMA;
use domain::scim::user::USER_SCHEMA;
use serde_json::{Value, json};

use super::{Directory, LIST_SCHEMA, MAX_RESULTS, SCIM_JSON, ScimError, base_url};
use crate::http::state::AppState;

const CONFIG_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";
const RESOURCE_TYPE_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
const SCHEMA_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";

fn answer(body: Value) -> HttpResponse {
    HttpResponse::Ok().insert_header((header::CONTENT_TYPE, HeaderValue::from_static(SCIM_JSON))).body(body.to_string())
}

fn listed(resources: Vec<Value>) -> HttpResponse {
    answer(json!({
        "schemas": [LIST_SCHEMA], "totalResults": resources.len(), "startIndex": 1,
        "itemsPerPage": resources.len(), "Resources": resources
    }))
}

pub async fn service_provider_config(state: web::Data<AppState>, _: Directory) -> HttpResponse {
    answer(json!({
        "schemas": [CONFIG_SCHEMA],
        "documentationUri": "https://datatracker.ietf.org/doc/html/rfc7644",
        "patch": {"supported": true},
        "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": true, "maxResults": MAX_RESULTS},
        "changePassword": {"supported": false},
        "sort": {"supported": false},
        "etag": {"supported": true},
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "Bearer token",
            "description": "A directory token made at POST /v1/accounts/{id}/scim-tokens; it names the account.",
            "primary": true
        }],
        "meta": {"resourceType": "ServiceProviderConfig", "location": format!("{}/ServiceProviderConfig", base_url(&state))}
    }))
}

fn user_type(base: &str) -> Value {
    json!({
        "schemas": [RESOURCE_TYPE_SCHEMA], "id": "User", "name": "User", "endpoint": "/Users",
        "description": "A member of the account", "schema": USER_SCHEMA,
        "schemaExtensions": [],
        "meta": {"resourceType": "ResourceType", "location": format!("{base}/ResourceTypes/User")}
    })
}

fn group_type(base: &str) -> Value {
    json!({
        "schemas": [RESOURCE_TYPE_SCHEMA], "id": "Group", "name": "Group", "endpoint": "/Groups",
        "description": "A group of the account's members", "schema": GROUP_SCHEMA, "schemaExtensions": [],
        "meta": {"resourceType": "ResourceType", "location": format!("{base}/ResourceTypes/Group")}
    })
}

pub async fn resource_types(state: web::Data<AppState>, _: Directory) -> HttpResponse {
    let base = base_url(&state);
    listed(vec![user_type(&base), group_type(&base)])
}

pub async fn resource_type(
    state: web::Data<AppState>,
    _: Directory,
    name: web::Path<String>,
) -> Result<HttpResponse, ScimError> {
    let base = base_url(&state);
    match name.as_str() {
        "User" => Ok(answer(user_type(&base))),
        "Group" => Ok(answer(group_type(&base))),
        _ => Err(ScimError::not_found()),
    }
}

fn all_schemas() -> Vec<Value> {
    [super::users::schema(), super::groups::schema()]
        .into_iter()
        .map(|mut schema| {
            schema["schemas"] = json!([SCHEMA_SCHEMA]);
            schema
        })
        .collect()
}

pub async fn schemas(_: Directory) -> HttpResponse {
    listed(all_schemas())
}

pub async fn schema(_: Directory, id: web::Path<String>) -> Result<HttpResponse, ScimError> {
    all_schemas().into_iter().find(|schema| schema["id"] == id.as_str()).map(answer).ok_or_else(ScimError::not_found)
}
