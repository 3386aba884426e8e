//! `/Users`: the account's members as SCIM users (the id is the Roster
//! user's). Create makes a member, `active` suspends and restores, delete
//! removes the membership (never the user, who may be in other accounts).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use domain::membership::MembershipStatus;
use domain::scim::eval::{self, CASE_EXACT};
use domain::scim::patch;
use domain::scim::user::{USER_SCHEMA, UserAttributes};
use persistence::directory::{self as store, DirectoryMember, Select};
use serde_json::{Value, json};
use uuid::Uuid;

use super::{
    Directory, MAX_SCAN, Page, Projection, ScimError, base_url, change, if_match, indexed_equality, json_body,
    list_query, list_response, page_of, parse_filter, resource, too_many,
};
use crate::flows::Origin;
use crate::flows::directory::{self as flows, attributes_of, user_version};
use crate::http::state::AppState;

/// A member as a SCIM User.
pub fn render(member: &DirectoryMember, base: &str) -> Value {
    let attributes = attributes_of(member);
    let mut name = serde_json::Map::new();
    if let Some(given) = &attributes.given_name {
        name.insert("givenName".into(), json!(given.as_str()));
    }
    if let Some(family) = &attributes.family_name {
        name.insert("familyName".into(), json!(family.as_str()));
    }
    let formatted: Vec<&str> =
        [&attributes.given_name, &attributes.family_name].into_iter().flatten().map(|n| n.as_str()).collect();
    if !formatted.is_empty() {
        name.insert("formatted".into(), json!(formatted.join(" ")));
    }
    let location = format!("{base}/Users/{}", member.user_id);
    let mut user = json!({
        "schemas": [USER_SCHEMA],
        "id": member.user_id,
        "userName": member.email,
        "name": name,
        "emails": [{"value": member.email, "type": "work", "primary": true}],
        "active": member.status == MembershipStatus::Active,
        "groups": member.groups.iter().map(|(id, display)| json!({
            "value": id, "display": display, "$ref": format!("{base}/Groups/{id}"), "type": "direct"
        })).collect::<Vec<_>>(),
        "meta": {
            "resourceType": "User",
            "created": member.created_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "lastModified": member.last_modified.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "version": user_version(member),
            "location": location,
        },
    });
    if let Some(external) = &attributes.external_id {
        user["externalId"] = json!(external);
    }
    if let Some(display) = &attributes.display_name {
        user["displayName"] = json!(display);
    }
    user
}

fn user_id(path: &str) -> Result<Uuid, ScimError> {
    Uuid::parse_str(path).map_err(|_| ScimError::not_found())
}

fn answer(status: StatusCode, member: &DirectoryMember, state: &AppState, created: bool) -> HttpResponse {
    resource(status, render(member, &base_url(state)), created)
}

/// `GET /Users`: paged, filtered. `userName eq`, `externalId eq` and `id
/// eq` go through an index; any other filter is evaluated over every
/// member, up to [`MAX_SCAN`] of them.
pub async fn list(
    state: web::Data<AppState>,
    directory: Directory,
    req: HttpRequest,
) -> Result<HttpResponse, ScimError> {
    let query = list_query(&req)?;
    let (page, projection, filter) = (Page::of(&query), Projection::of(&query)?, parse_filter(&query)?);
    let account = directory.account_id;
    let base = base_url(&state);
    let Some(filter) = filter else {
        let (total, members) = state
            .db(move |conn| {
                let total = store::member_count(conn, account)?;
                let limit = page.count as i64;
                Ok((total, store::members(conn, account, Select::Page { offset: page.offset(), limit })?))
            })
            .await?;
        let resources = members.iter().map(|m| projection.apply(render(m, &base))).collect();
        return Ok(list_response(total, page, resources));
    };
    let indexed = [("userName", None), ("externalId", None), ("id", None), ("emails", Some("value"))];
    let lookup = indexed_equality(&filter, &indexed).map(|(at, value)| (at, value.to_owned()));
    let members = state
        .db(move |conn| {
            let select = match &lookup {
                Some((0 | 3, email)) => Select::Email(email),
                Some((1, external)) => Select::ExternalId(external),
                Some((_, id)) => match Uuid::parse_str(id) {
                    Ok(id) => Select::User(id),
                    Err(_) => return Ok(Ok(Vec::new())),
                },
                None if store::member_count(conn, account)? > MAX_SCAN => return Ok(Err(too_many())),
                None => Select::Page { offset: 0, limit: MAX_SCAN },
            };
            Ok(Ok(store::members(conn, account, select)?))
        })
        .await??;
    let selected =
        members.iter().map(|m| render(m, &base)).filter(|user| eval::matches(&filter, user, CASE_EXACT)).collect();
    let (total, resources) = page_of(selected, page);
    Ok(list_response(total, page, resources.into_iter().map(|user| projection.apply(user)).collect()))
}

pub async fn get(
    state: web::Data<AppState>,
    directory: Directory,
    path: web::Path<String>,
    req: HttpRequest,
) -> Result<HttpResponse, ScimError> {
    let projection = Projection::of(&list_query(&req)?)?;
    let (account, user) = (directory.account_id, user_id(&path)?);
    let member = state.db(move |conn| Ok(flows::member(conn, account, user))).await??;
    let body = projection.apply(render(&member, &base_url(&state)));
    Ok(resource(StatusCode::OK, body, false))
}

/// `POST /Users`: the person becomes a member at once, linked to their
/// Roster user when one has this email; a second member with one
/// `userName` is 409 `uniqueness`.
pub async fn create(
    state: web::Data<AppState>,
    directory: Directory,
    origin: Origin,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ScimError> {
    let wanted = UserAttributes::from_resource(&json_body(&req, &body)?)?;
    let account = directory.account_id;
    let member =
        change(&state, directory, origin, move |conn, ctx| flows::create_user(conn, ctx, account, &wanted)).await?;
    Ok(answer(StatusCode::CREATED, &member, &state, true))
}

/// `PUT /Users/{id}`: what the directory says about them, whole (Okta
/// deactivates this way).
pub async fn replace(
    state: web::Data<AppState>,
    directory: Directory,
    origin: Origin,
    path: web::Path<String>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ScimError> {
    let wanted = UserAttributes::from_resource(&json_body(&req, &body)?)?;
    replace_with(state, directory, origin, user_id(&path)?, if_match(&req), move |_| Ok(wanted)).await
}

/// `PATCH /Users/{id}`: operations applied in order, all or none.
pub async fn patch(
    state: web::Data<AppState>,
    directory: Directory,
    origin: Origin,
    path: web::Path<String>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ScimError> {
    let ops = patch::parse(&json_body(&req, &body)?)?;
    replace_with(state, directory, origin, user_id(&path)?, if_match(&req), move |before| before.patched(&ops)).await
}

async fn replace_with(
    state: web::Data<AppState>,
    directory: Directory,
    origin: Origin,
    user: Uuid,
    if_match: Option<String>,
    wanted: impl FnOnce(&UserAttributes) -> Result<UserAttributes, domain::scim::Refusal> + Send + 'static,
) -> Result<HttpResponse, ScimError> {
    let account = directory.account_id;
    let member = change(&state, directory, origin, move |conn, ctx| {
        flows::replace_user(conn, ctx, account, user, wanted, if_match.as_deref())
    })
    .await?;
    Ok(answer(StatusCode::OK, &member, &state, false))
}

/// `DELETE /Users/{id}`: the membership ends, as a removal by hand.
pub async fn delete(
    state: web::Data<AppState>,
    directory: Directory,
    origin: Origin,
    path: web::Path<String>,
    req: HttpRequest,
) -> Result<HttpResponse, ScimError> {
    let (account, user, tag) = (directory.account_id, user_id(&path)?, if_match(&req));
    change(&state, directory, origin, move |conn, ctx| flows::delete_user(conn, ctx, account, user, tag.as_deref()))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// What discovery says about the User schema (RFC 7643 §7): only what
/// Roster keeps, with how it may be written.
pub fn schema() -> Value {
    let attribute = |name: &str, mutability: &str, required: bool, case_exact: bool, uniqueness: &str| {
        json!({"name": name, "type": "string", "multiValued": false, "required": required, "caseExact": case_exact,
               "mutability": mutability, "returned": "default", "uniqueness": uniqueness})
    };
    let sub = |name: &str| {
        json!({"name": name, "type": "string", "multiValued": false, "required": false, "caseExact": false,
               "mutability": "readWrite", "returned": "default", "uniqueness": "none"})
    };
    json!({
        "id": USER_SCHEMA,
        "name": "User",
        "description": "A member of the account. userName is their email; the directory sets it when it creates them.",
        "attributes": [
            attribute("userName", "immutable", true, false, "server"),
            attribute("externalId", "readWrite", false, true, "none"),
            attribute("displayName", "readWrite", false, false, "none"),
            {"name": "name", "type": "complex", "multiValued": false, "required": false, "mutability": "readWrite",
             "returned": "default", "subAttributes": [sub("givenName"), sub("familyName"),
                {"name": "formatted", "type": "string", "multiValued": false, "required": false, "caseExact": false,
                 "mutability": "readOnly", "returned": "default", "uniqueness": "none"}]},
            {"name": "active", "type": "boolean", "multiValued": false, "required": false, "mutability": "readWrite",
             "returned": "default", "description": "false suspends the membership; true restores it."},
            {"name": "emails", "type": "complex", "multiValued": true, "required": false, "mutability": "readOnly",
             "returned": "default", "description": "The userName, as the primary work email.",
             "subAttributes": [sub("value"), sub("type"),
                {"name": "primary", "type": "boolean", "multiValued": false, "required": false,
                 "mutability": "readOnly", "returned": "default"}]},
            {"name": "groups", "type": "complex", "multiValued": true, "required": false, "mutability": "readOnly",
             "returned": "default", "subAttributes": [sub("value"), sub("display"), sub("$ref"), sub("type")]}
        ],
        "meta": {"resourceType": "Schema", "location": format!("/Schemas/{USER_SCHEMA}")}
    })
}
