//! `/Groups`: the account's groups, with the directory's ids and their
//! members (SCIM user ids). Member changes go through the groups flows, so
//! leaving a group takes the roles held in it, as it does by hand.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use domain::scim::eval::{self, CASE_EXACT};
use domain::scim::group::{GROUP_SCHEMA, GroupAttributes};
use domain::scim::patch;
use persistence::directory::{self as store, DirectoryGroup, GroupSelect};
use serde_json::{Value, json};
use uuid::Uuid;

use super::{
    Directory, MAX_SCAN, Page, Projection, ScimError, base_url, change, if_match, indexed_equality, json_body,
    list_query, list_response, page_of, parse_filter, resource, too_many,
};
use crate::flows::Origin;
use crate::flows::directory::{self as flows, group_version};
use crate::http::problem::ApiError;
use crate::http::state::AppState;

/// A group as a SCIM Group; `members` only when they were read.
pub fn render(group: &DirectoryGroup, base: &str, with_members: bool) -> Value {
    let members: Vec<Uuid> = group.members.iter().map(|(user, _)| *user).collect();
    let mut rendered = json!({
        "schemas": [GROUP_SCHEMA],
        "id": group.id,
        "displayName": group.name,
        "meta": {
            "resourceType": "Group",
            "created": group.created_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "lastModified": group.updated_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "location": format!("{base}/Groups/{}", group.id),
        },
    });
    if with_members {
        rendered["members"] = group
            .members
            .iter()
            .map(|(user, email)| json!({"value": user, "display": email, "$ref": format!("{base}/Users/{user}"), "type": "User"}))
            .collect();
        rendered["meta"]["version"] = json!(group_version(group, &members));
    }
    if let Some(external) = &group.external_id {
        rendered["externalId"] = json!(external);
    }
    rendered
}

fn group_id(path: &str) -> Result<Uuid, ScimError> {
    Uuid::parse_str(path).map_err(|_| ScimError::not_found())
}

/// `GET /Groups`: `displayName eq`, `externalId eq` and `id eq` are
/// looked up; other filters are evaluated over every group.
pub async fn list(
    state: web::Data<AppState>,
    directory: Directory,
    req: HttpRequest,
) -> Result<HttpResponse, ScimError> {
    let query = list_query(&req)?;
    let (page, projection, filter) = (Page::of(&query), Projection::of(&query)?, parse_filter(&query)?);
    let with_members = !projection.leaves_out("members")
        || query.filter.as_deref().is_some_and(|f| f.to_ascii_lowercase().contains("members"));
    let account = directory.account_id;
    let base = base_url(&state);
    let Some(filter) = filter else {
        let (total, groups) = state
            .db(move |conn| {
                let select = GroupSelect::Page { offset: page.offset(), limit: page.count as i64 };
                Ok((store::group_count(conn, account)?, store::groups(conn, account, select, with_members)?))
            })
            .await?;
        let resources = groups.iter().map(|g| projection.apply(render(g, &base, with_members))).collect();
        return Ok(list_response(total, page, resources));
    };
    let indexed = [("displayName", None), ("externalId", None), ("id", None)];
    let lookup = indexed_equality(&filter, &indexed).map(|(at, value)| (at, value.to_owned()));
    let groups = state
        .db(move |conn| {
            let select = match &lookup {
                Some((0, name)) => GroupSelect::Name(name),
                Some((1, external)) => GroupSelect::ExternalId(external),
                Some((_, id)) => match Uuid::parse_str(id) {
                    Ok(id) => GroupSelect::Id(id),
                    Err(_) => return Ok(Ok(Vec::new())),
                },
                None if store::group_count(conn, account)? > MAX_SCAN => return Ok(Err(too_many())),
                None => GroupSelect::Page { offset: 0, limit: MAX_SCAN },
            };
            Ok::<_, ApiError>(Ok(store::groups(conn, account, select, with_members)?))
        })
        .await??;
    let selected = groups
        .iter()
        .map(|g| render(g, &base, with_members))
        .filter(|group| eval::matches(&filter, group, CASE_EXACT))
        .collect();
    let (total, resources) = page_of(selected, page);
    Ok(list_response(total, page, resources.into_iter().map(|group| projection.apply(group)).collect()))
}

pub async fn get(
    state: web::Data<AppState>,
    directory: Directory,
    path: web::Path<String>,
    req: HttpRequest,
) -> Result<HttpResponse, ScimError> {
    let projection = Projection::of(&list_query(&req)?)?;
    let with_members = !projection.leaves_out("members");
    let (account, id) = (directory.account_id, group_id(&path)?);
    let group = state.db(move |conn| Ok(flows::group(conn, account, id, with_members))).await??;
    Ok(resource(StatusCode::OK, projection.apply(render(&group, &base_url(&state), with_members)), false))
}

pub async fn create(
    state: web::Data<AppState>,
    directory: Directory,
    origin: Origin,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ScimError> {
    let wanted = GroupAttributes::from_resource(&json_body(&req, &body)?)?;
    let account = directory.account_id;
    let group =
        change(&state, directory, origin, move |conn, ctx| flows::create_group(conn, ctx, account, &wanted)).await?;
    Ok(resource(StatusCode::CREATED, render(&group, &base_url(&state), true), true))
}

pub async fn replace(
    state: web::Data<AppState>,
    directory: Directory,
    origin: Origin,
    path: web::Path<String>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ScimError> {
    let wanted = GroupAttributes::from_resource(&json_body(&req, &body)?)?;
    replace_with(state, directory, origin, group_id(&path)?, &req, move |_| Ok(wanted)).await
}

/// `PATCH /Groups/{id}`: operations applied in order, all or none;
/// answers with the group (without members under
/// `excludedAttributes=members`).
pub async fn patch(
    state: web::Data<AppState>,
    directory: Directory,
    origin: Origin,
    path: web::Path<String>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ScimError> {
    let ops = patch::parse(&json_body(&req, &body)?)?;
    replace_with(state, directory, origin, group_id(&path)?, &req, move |before| before.patched(&ops)).await
}

async fn replace_with(
    state: web::Data<AppState>,
    directory: Directory,
    origin: Origin,
    id: Uuid,
    req: &HttpRequest,
    wanted: impl FnOnce(&GroupAttributes) -> Result<GroupAttributes, domain::scim::Refusal> + Send + 'static,
) -> Result<HttpResponse, ScimError> {
    let projection = Projection::of(&list_query(req)?)?;
    let (account, tag) = (directory.account_id, if_match(req));
    let group = change(&state, directory, origin, move |conn, ctx| {
        flows::replace_group(conn, ctx, account, id, wanted, tag.as_deref())
    })
    .await?;
    let with_members = !projection.leaves_out("members");
    Ok(resource(StatusCode::OK, projection.apply(render(&group, &base_url(&state), with_members)), false))
}

pub async fn delete(
    state: web::Data<AppState>,
    directory: Directory,
    origin: Origin,
    path: web::Path<String>,
    req: HttpRequest,
) -> Result<HttpResponse, ScimError> {
    let (account, id, tag) = (directory.account_id, group_id(&path)?, if_match(&req));
    change(&state, directory, origin, move |conn, ctx| flows::delete_group(conn, ctx, account, id, tag.as_deref()))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// What discovery says about the Group schema.
pub fn schema() -> Value {
    let string = |name: &str, mutability: &str, required: bool, case_exact: bool| {
        json!({"name": name, "type": "string", "multiValued": false, "required": required, "caseExact": case_exact,
               "mutability": mutability, "returned": "default", "uniqueness": "none"})
    };
    json!({
        "id": GROUP_SCHEMA,
        "name": "Group",
        "description": "A group of the account's members.",
        "attributes": [
            string("displayName", "readWrite", true, false),
            string("externalId", "readWrite", false, true),
            {"name": "members", "type": "complex", "multiValued": true, "required": false, "mutability": "readWrite",
             "returned": "default", "subAttributes": [
                string("value", "immutable", true, true),
                string("display", "readOnly", false, false),
                {"name": "$ref", "type": "reference", "referenceTypes": ["User"], "multiValued": false,
                 "required": false, "mutability": "immutable", "returned": "default"},
                string("type", "immutable", false, false)]}
        ],
        "meta": {"resourceType": "Schema", "location": format!("/Schemas/{GROUP_SCHEMA}")}
    })
}
