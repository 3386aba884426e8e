//! The SCIM 2.0 service provider at `/scim/v2` (RFC 7644), for an
//! account's directory: Users, Groups and the discovery resources. SCIM is
//! its own protocol, so it has its own media type, errors and paging; the
//! changes themselves go through the same flows as the JSON API's.
//! Documented in the README ("Directory sync (SCIM)"), linking RFC 7644.

mod caller;
mod discovery;
mod error;
mod groups;
mod users;

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use domain::scim::filter::{AttrPath, CompareOp, Filter, Value as FilterValue};
use domain::scim::projection;
use domain::scim::{Refusal, ScimType};
use serde::Deserialize;
use serde_json::{Value, json};

pub use caller::Directory;
use persistence::DbConnection;

use crate::flows::directory::DirectoryError;
use crate::flows::{Ctx, Origin};
use crate::http::problem::ApiError;
use crate::http::state::{AppState, RunFlow};
pub use error::ScimError;

pub const SCIM_JSON: &str = "application/scim+json";
pub const LIST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";

/// The most resources one page holds (`filter.maxResults`).
pub const MAX_RESULTS: usize = 1_000;
/// A page's size when the directory names none.
const DEFAULT_COUNT: usize = 100;
/// The most resources a filter no index answers is evaluated over; past
/// it, `tooMany` rather than a slow scan.
pub const MAX_SCAN: i64 = 20_000;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/scim/v2")
            .route("/ServiceProviderConfig", web::get().to(discovery::service_provider_config))
            .route("/ResourceTypes", web::get().to(discovery::resource_types))
            .route("/ResourceTypes/{name}", web::get().to(discovery::resource_type))
            .route("/Schemas", web::get().to(discovery::schemas))
            .route("/Schemas/{id}", web::get().to(discovery::schema))
            .route("/Users", web::get().to(users::list))
            .route("/Users", web::post().to(users::create))
            .route("/Users/{id}", web::get().to(users::get))
            .route("/Users/{id}", web::put().to(users::replace))
            .route("/Users/{id}", web::patch().to(users::patch))
            .route("/Users/{id}", web::delete().to(users::delete))
            .route("/Groups", web::get().to(groups::list))
            .route("/Groups", web::post().to(groups::create))
            .route("/Groups/{id}", web::get().to(groups::get))
            .route("/Groups/{id}", web::put().to(groups::replace))
            .route("/Groups/{id}", web::patch().to(groups::patch))
            .route("/Groups/{id}", web::delete().to(groups::delete))
            .default_service(web::to(|| async { Err::<HttpResponse, _>(ScimError::not_found()) })),
    );
}

/// Runs a directory's change through its flow, as the directory's actor.
async fn change<T: Send + 'static>(
    state: &web::Data<AppState>,
    directory: Directory,
    origin: Origin,
    work: impl FnOnce(&mut DbConnection, &Ctx<'_>) -> Result<T, DirectoryError> + Send + 'static,
) -> Result<T, ScimError> {
    let outcome = state.flow(directory.actor(), origin, move |conn, ctx| Ok::<_, ApiError>(work(conn, ctx))).await?;
    Ok(outcome?)
}

/// The base URL resources are located under.
fn base_url(state: &AppState) -> String {
    format!("{}/scim/v2", state.settings.public_url.trim_end_matches('/'))
}

/// A request body as JSON: `application/scim+json` or `application/json`.
fn json_body(req: &HttpRequest, body: &web::Bytes) -> Result<Value, ScimError> {
    let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    if !(essence.eq_ignore_ascii_case(SCIM_JSON) || essence.eq_ignore_ascii_case("application/json")) {
        return Err(ScimError::new(
            actix_web::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
            None,
            "Send the body as application/scim+json.",
        ));
    }
    serde_json::from_slice(body)
        .map_err(|e| Refusal::new(ScimType::InvalidSyntax, format!("the body is not JSON: {e}")).into())
}

/// A resource answered with its version as `ETag` (and `Location` when
/// it was just made).
fn resource(status: actix_web::http::StatusCode, body: Value, created: bool) -> HttpResponse {
    let mut response = HttpResponse::build(status);
    response.insert_header((header::CONTENT_TYPE, HeaderValue::from_static(SCIM_JSON)));
    if let Some(version) = body["meta"]["version"].as_str().and_then(|v| HeaderValue::from_str(v).ok()) {
        response.insert_header((header::ETAG, version));
    }
    if created && let Some(location) = body["meta"]["location"].as_str().and_then(|v| HeaderValue::from_str(v).ok()) {
        response.insert_header((header::LOCATION, location));
    }
    response.body(body.to_string())
}

/// `If-Match`, when sent.
fn if_match(req: &HttpRequest) -> Option<String> {
    req.headers().get(header::IF_MATCH).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

/// The query of a list or a read (RFC 7644 §3.4.2).
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ListQuery {
    pub filter: Option<String>,
    pub start_index: Option<i64>,
    pub count: Option<i64>,
    pub attributes: Option<String>,
    pub excluded_attributes: Option<String>,
    pub sort_by: Option<String>,
}

/// Reads the query string, whatever the case of its parameter names.
fn list_query(req: &HttpRequest) -> Result<ListQuery, ScimError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(req.query_string())
        .map_err(|_| Refusal::new(ScimType::InvalidValue, "the query string cannot be read"))?;
    let mut query = ListQuery::default();
    let number = |name: &str, raw: &str| {
        raw.trim().parse::<i64>().map_err(|_| Refusal::new(ScimType::InvalidValue, format!("{name} is an integer")))
    };
    for (name, value) in pairs {
        match name.to_ascii_lowercase().as_str() {
            "filter" => query.filter = Some(value),
            "startindex" => query.start_index = Some(number("startIndex", &value)?),
            "count" => query.count = Some(number("count", &value)?),
            "attributes" => query.attributes = Some(value),
            "excludedattributes" => query.excluded_attributes = Some(value),
            "sortby" => query.sort_by = Some(value),
            _ => {}
        }
    }
    if query.sort_by.is_some() {
        return Err(Refusal::new(ScimType::InvalidValue, "sorting is not supported (see ServiceProviderConfig)").into());
    }
    Ok(query)
}

/// Which attributes an answer carries.
struct Projection {
    attributes: Vec<AttrPath>,
    excluded: Vec<AttrPath>,
}

impl Projection {
    fn of(query: &ListQuery) -> Result<Self, ScimError> {
        Ok(Projection {
            attributes: projection::parse_list(query.attributes.as_deref())?,
            excluded: projection::parse_list(query.excluded_attributes.as_deref())?,
        })
    }

    fn apply(&self, resource: Value) -> Value {
        projection::project(resource, &self.attributes, &self.excluded)
    }

    /// Whether the answer leaves out `name` (group reads without members).
    fn leaves_out(&self, name: &str) -> bool {
        self.excluded.iter().any(|path| path.sub.is_none() && path.name.eq_ignore_ascii_case(name))
            || (!self.attributes.is_empty() && !self.attributes.iter().any(|path| path.name.eq_ignore_ascii_case(name)))
    }
}

/// A page: 1-based `startIndex` (below 1 is 1), `count` up to
/// [`MAX_RESULTS`] (below 0 is 0).
#[derive(Debug, Clone, Copy)]
struct Page {
    start_index: i64,
    count: usize,
}

impl Page {
    fn of(query: &ListQuery) -> Self {
        let count = query.count.map_or(DEFAULT_COUNT, |count| count.clamp(0, MAX_RESULTS as i64) as usize);
        Page { start_index: query.start_index.unwrap_or(1).max(1), count }
    }

    fn offset(self) -> i64 {
        self.start_index - 1
    }
}

fn list_response(total: i64, page: Page, resources: Vec<Value>) -> HttpResponse {
    let body = json!({
        "schemas": [LIST_SCHEMA],
        "totalResults": total,
        "startIndex": page.start_index,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    });
    HttpResponse::Ok().insert_header((header::CONTENT_TYPE, HeaderValue::from_static(SCIM_JSON))).body(body.to_string())
}

/// The value a filter compares one of `names` to with `eq`, found in the
/// filter's top-level `and` chain: an index answers it, and the whole
/// filter is then evaluated on what the index found.
fn indexed_equality<'f>(filter: &'f Filter, names: &[(&str, Option<&str>)]) -> Option<(usize, &'f str)> {
    match filter {
        Filter::Compare(path, CompareOp::Eq, FilterValue::String(value)) => {
            names.iter().position(|(name, sub)| path.matches(name, *sub)).map(|at| (at, value.as_str()))
        }
        Filter::And(left, right) => indexed_equality(left, names).or_else(|| indexed_equality(right, names)),
        _ => None,
    }
}

fn parse_filter(query: &ListQuery) -> Result<Option<Filter>, ScimError> {
    query
        .filter
        .as_deref()
        .filter(|text| !text.trim().is_empty())
        .map(|text| domain::scim::filter::parse(text.trim()).map_err(|e| Refusal::from(e).into()))
        .transpose()
}

/// Pages the resources a filter selected in memory.
fn page_of(selected: Vec<Value>, page: Page) -> (i64, Vec<Value>) {
    let total = selected.len() as i64;
    let resources = selected.into_iter().skip(page.offset() as usize).take(page.count).collect();
    (total, resources)
}

fn too_many() -> ScimError {
    Refusal::new(
        ScimType::TooMany,
        format!("this filter is answered by reading every resource, and the account has more than {MAX_SCAN}: filter by userName, externalId or id"),
    )
    .into()
}
