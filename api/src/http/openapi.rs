//! The published contract. Paths and schemas are collected from the route
//! table (`routes::configure`); this module adds what every operation shares
//! (security scheme, standard error responses with examples) so that no
//! handler can forget one.

use std::collections::BTreeSet;

use actix_web::App;
use utoipa::OpenApi as _;
use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::schema::{AdditionalProperties, AllOfBuilder, ObjectBuilder, Schema, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr, Response, ResponseBuilder};
use utoipa_actix_web::AppExt;

use domain::Catalogue;
use domain::access::{Requirement, Scope};

use crate::http::problem::{ApiError, FieldError, Problem};
use crate::http::routes;
use crate::http::schemas::{ApiKeyPermissionKey, PermissionKey};

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "Roster",
        description = "Company accounts and their users: sign-in, accounts with owners, roles and permissions.\n\n\
            Errors are RFC 9457 `application/problem+json` documents with a stable `code`.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
        contact(name = "The operators of this Roster instance"),
    ),
    servers((url = "/", description = "This deployment; the document a deployment serves at `/openapi.json` names its `ROSTER_PUBLIC_URL`")),
    tags(
        (name = "auth", description = "Registration, sign-in and tokens"),
        (name = "me", description = "The signed-in user"),
        (name = "accounts", description = "Company accounts and their preferences"),
        (name = "settings", description = "The account's contacts, addresses and notification defaults"),
        (name = "domains", description = "The account's email domains, verified by a DNS TXT record"),
        (name = "sso", description = "Single sign-on through an account's own OpenID provider"),
        (name = "directory-sync", description = "Tokens for the account's directory to provision it over SCIM 2.0"),
        (name = "invitations", description = "Inviting people by email, and the invitee's side"),
        (name = "imports", description = "Inviting people from a spreadsheet, processed in the background"),
        (name = "join-links", description = "Shareable links through which people ask to join"),
        (name = "join-requests", description = "Reviewing requests to join an account"),
        (name = "members", description = "An account's members"),
        (name = "roles", description = "Built-in, template and custom roles"),
        (name = "groups", description = "Groups of members; roles can be scoped to one"),
        (name = "permissions", description = "The permission catalogue and authorization checks"),
        (name = "audit", description = "The account's append-only audit log"),
        (name = "access-reviews", description = "Periodic reviews of who has access: decisions per member, applied together"),
        (name = "webhooks", description = "Signed notifications of the account's changes (Standard Webhooks)"),
        (name = "partners", description = "Authorized partners and their API keys"),
        (name = "linked-accounts", description = "A parent account's links to its children, and the roles that apply in them"),
        (name = "operator", description = "What the deployment's operator (or its billing system) does to accounts, with the operator token"),
        (name = "operations", description = "Health and readiness probes"),
    ),
    components(schemas(
        Problem,
        FieldError,
        crate::http::routes::audit::AuditActionName,
        crate::http::routes::invitations::InvitationStatusName,
        crate::http::routes::join_requests::JoinRequestStatusName,
        crate::http::routes::preferences::EmailPolicyName,
        crate::http::routes::domains::EnrollmentName,
        crate::http::routes::members::MembershipStatusName,
    )),
)]
struct ApiDoc;

/// The OpenAPI document of this build for the default permission catalogue:
/// the committed `openapi/openapi.json`.
pub fn document() -> OpenApi {
    let catalogue = crate::catalogue::parse(crate::catalogue::DEFAULT_PERMISSIONS)
        .unwrap_or_else(|reason| unreachable!("the default catalogue is tested to parse: {reason}"));
    document_for(&catalogue)
}

/// The OpenAPI document of this build, exactly as `/openapi.json` serves it
/// with `catalogue` loaded.
pub fn document_for(catalogue: &Catalogue) -> OpenApi {
    let (_, mut api) =
        App::new().into_utoipa_app().openapi(ApiDoc::openapi()).configure(routes::configure).split_for_parts();
    api.info.version = env!("CARGO_PKG_VERSION").to_owned();
    add_security_scheme(&mut api);
    add_standard_errors(&mut api);
    declare_response_headers(&mut api);
    add_problem_examples(&mut api);
    enumerate_problem_codes(&mut api);
    list_permission_keys(&mut api, catalogue);
    close_tagged_variants(&mut api);
    api
}

/// utoipa closes a struct that denies unknown fields (`additionalProperties:
/// false`) but not the variants of a tagged enum (a `oneOf` of objects each
/// naming its tag with a one-value `enum`): close those too, since serde
/// refuses unknown fields in them just the same.
fn close_tagged_variants(api: &mut OpenApi) {
    let schemas = &mut api.components.get_or_insert_with(Default::default).schemas;
    for schema in schemas.values_mut() {
        let RefOr::T(Schema::OneOf(one_of)) = schema else { continue };
        let is_tag = |property: &RefOr<Schema>| matches!(property, RefOr::T(Schema::Object(tag)) if tag.enum_values.as_ref().is_some_and(|values| values.len() == 1));
        let tagged = |variant: &RefOr<Schema>| matches!(variant, RefOr::T(Schema::Object(object)) if object.properties.values().any(is_tag));
        if one_of.items.is_empty() || !one_of.items.iter().all(tagged) {
            continue;
        }
        for variant in &mut one_of.items {
            if let RefOr::T(Schema::Object(object)) = variant {
                object.additional_properties = Some(Box::new(AdditionalProperties::FreeForm(false)));
            }
        }
    }
}

fn list_permission_keys(api: &mut OpenApi, catalogue: &Catalogue) {
    let schemas = &mut api.components.get_or_insert_with(Default::default).schemas;
    if let Some(RefOr::T(Schema::Object(key))) = schemas.get_mut(<PermissionKey as utoipa::ToSchema>::name().as_ref()) {
        key.enum_values = Some(catalogue.entries().iter().map(|entry| entry.key.clone().into()).collect());
    }
    let never_on_a_key: Vec<&str> = domain::api_key::NEVER_ON_A_KEY.iter().map(|p| p.key()).collect();
    if let Some(RefOr::T(Schema::Object(key))) =
        schemas.get_mut(<ApiKeyPermissionKey as utoipa::ToSchema>::name().as_ref())
    {
        let allowed = catalogue.entries().iter().filter(|entry| !never_on_a_key.contains(&entry.key.as_str()));
        key.enum_values = Some(allowed.map(|entry| entry.key.clone().into()).collect());
    }
}

fn add_security_scheme(api: &mut OpenApi) {
    let components = api.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .description(Some("Access token from `POST /v1/auth/login`."))
                .build(),
        ),
    );
    components.add_security_scheme(
        "operator",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .description(Some(
                    "The operator token, whose SHA-256 the deployment has as `ROSTER_OPERATOR_TOKEN_SHA256` \
                     (`roster operator-token` makes one).",
                ))
                .build(),
        ),
    );
}

/// Error responses that follow from an operation's shape: a secured one can
/// answer 401, an account-scoped one 403 and 404, one with a body 400, 413,
/// 415 and 422; every one 500 and 503.
fn add_standard_errors(api: &mut OpenApi) {
    let standard: Vec<(&str, &str, ApiError)> = vec![
        (
            "BadRequest",
            "The body is not JSON, a path or query parameter is invalid, or the query string is not UTF-8 (`invalid_query`)",
            ApiError::MalformedBody("Invalid JSON: expected value.".into()),
        ),
        ("Unauthenticated", "Missing, invalid or expired access token", ApiError::Unauthenticated),
        (
            "Forbidden",
            "The caller is a member but lacks the permission (`forbidden`), or the account's plan lacks the feature (`plan_upgrade_required`, naming `feature` and the `plans` that include it), or, where the operation adds a member or a pending invitation, every seat of the plan is taken (`seat_limit_reached`), or the account requires the caller to sign in through its identity provider (`sso_required`, naming `sso_start_url`)",
            ApiError::Forbidden(domain::Permission::SettingsManage.key().to_owned()),
        ),
        ("NotFound", "No such resource, or the caller cannot see it", ApiError::NotFound),
        ("PayloadTooLarge", "The body exceeds the configured limit", ApiError::PayloadTooLarge { limit: 1_048_576 }),
        (
            "UnsupportedMediaType",
            "The body is not of a content type the operation reads",
            ApiError::UnsupportedMediaType { expected: "application/json" },
        ),
        (
            "ValidationFailed",
            "Fields are missing, of the wrong type or invalid",
            ApiError::field("email", "invalid_format", "Enter an email address like name@example.com."),
        ),
        (
            "IdempotencyConflict",
            "The Idempotency-Key was used with another request (`idempotency_key_reused`), or its first request is still running (`idempotency_key_in_progress`)",
            ApiError::Conflict {
                code: "idempotency_key_reused",
                detail: "This Idempotency-Key was used with a different request; use a new key for a new request."
                    .into(),
            },
        ),
        (
            "AccountWriteConflict",
            "The account waits for its deletion, so nothing in it changes (`account_pending_deletion`), or the Idempotency-Key was used with another request (`idempotency_key_reused`), or its first request is still running (`idempotency_key_in_progress`)",
            ApiError::AccountPendingDeletion,
        ),
        (
            "AccountPendingDeletion",
            "The account waits for its deletion, so nothing in it changes (`account_pending_deletion`): an owner can restore it",
            ApiError::AccountPendingDeletion,
        ),
        (
            "RateLimited",
            "Too many requests with this API key (`rate_limited`): each key has its own limit; wait as `Retry-After` says",
            ApiError::RateLimited { name: "api-key", policy: "600;w=60".into(), limit: "600".into(), retry_after: 60 },
        ),
        ("Unavailable", "The database is unreachable or not migrated", ApiError::Unavailable(String::new())),
        (
            "InternalError",
            "An unexpected failure; the x-request-id header identifies it",
            ApiError::Internal(String::new()),
        ),
    ];
    let components = api.components.get_or_insert_with(Default::default);
    for (name, description, error) in &standard {
        let example = serde_json::to_value(error.problem()).ok();
        let content = ContentBuilder::new().schema(Some(Ref::from_schema_name("Problem"))).example(example).build();
        let mut response: Response =
            ResponseBuilder::new().description(*description).content("application/problem+json", content).build();
        if matches!(error, ApiError::RateLimited { .. }) {
            add_rate_limit_headers(&mut response);
        }
        components.responses.insert((*name).to_owned(), RefOr::T(response));
    }
    for (path, item) in api.paths.paths.iter_mut() {
        let account_scoped = path.contains("{account_id}");
        let signed_in = |operation: &&mut Operation| operation.security.as_ref().is_some_and(|s| !s.is_empty());
        if let Some(post) = item.post.as_mut().filter(signed_in) {
            post.parameters.get_or_insert_with(Vec::new).push(idempotency_key_parameter());
        }
        // While an account waits for its deletion its writes answer 409.
        for operation in writes(item).filter(|_| account_scoped) {
            let takes_idempotency_key = operation.parameters.iter().flatten().any(|p| p.name == "Idempotency-Key");
            let shared = if takes_idempotency_key { "AccountWriteConflict" } else { "AccountPendingDeletion" };
            operation
                .responses
                .responses
                .entry("409".to_owned())
                .or_insert_with(|| RefOr::Ref(Ref::from_response_name(shared)));
        }
        for operation in operations(item) {
            let secured = operation.security.as_ref().is_some_and(|requirements| !requirements.is_empty());
            describe_who_may_call(operation, secured);
            if operation.security.is_none() {
                operation.security = Some(Vec::new());
            }
            let has_body = operation.request_body.is_some();
            let has_query = operation
                .parameters
                .iter()
                .flatten()
                .any(|p| matches!(p.parameter_in, utoipa::openapi::path::ParameterIn::Query));
            let takes_idempotency_key = operation.parameters.iter().flatten().any(|p| p.name == "Idempotency-Key");
            let wanted = [
                // Any operation: a query string that is not UTF-8 is refused
                // before routing, even where the operation reads none.
                ("400", true, "BadRequest"),
                ("401", secured, "Unauthenticated"),
                ("403", account_scoped, "Forbidden"),
                ("404", account_scoped, "NotFound"),
                ("413", has_body, "PayloadTooLarge"),
                ("415", has_body, "UnsupportedMediaType"),
                ("409", takes_idempotency_key, "IdempotencyConflict"),
                ("422", has_body || has_query || takes_idempotency_key, "ValidationFailed"),
                // An API key may call any account-scoped operation, within
                // the key's own limit.
                ("429", account_scoped, "RateLimited"),
                ("500", true, "InternalError"),
                ("503", true, "Unavailable"),
            ];
            if let Some(RefOr::T(limited)) = operation.responses.responses.get_mut("429") {
                add_rate_limit_headers(limited);
            }
            for (status, applies, name) in wanted {
                if applies {
                    operation
                        .responses
                        .responses
                        .entry(status.to_owned())
                        .or_insert_with(|| RefOr::Ref(Ref::from_response_name(name)));
                }
            }
        }
    }
}

/// Adds to each operation's description who may call it, read from the
/// same declaration the guard enforces (`x-authorization`).
fn describe_who_may_call(operation: &mut Operation, secured: bool) {
    let declared = operation
        .extensions
        .as_ref()
        .and_then(|extensions| extensions.get(crate::http::access::EXTENSION))
        .and_then(|value| serde_json::from_value::<Requirement>(value.clone()).ok());
    let who = match declared {
        Some(requirement) => {
            let mut who = match (requirement.permission, requirement.scope) {
                (None, _) => "Any member of the account.".to_owned(),
                (Some(p), Scope::Account) => format!("Members holding `{}` account-wide.", p.key()),
                (Some(p), Scope::Group) => {
                    format!("Members holding `{}` account-wide, or inside the group in the path.", p.key())
                }
                (Some(p), Scope::MemberGroups) => format!(
                    "Members holding `{}` account-wide, or inside a group the member in the path belongs to.",
                    p.key()
                ),
                (Some(p), Scope::AnyGroup) => format!(
                    "Members holding `{}` account-wide or inside a group; each change is checked where it applies.",
                    p.key()
                ),
            };
            if requirement.self_allowed {
                who.push_str(" Members acting about themselves need no permission.");
            }
            who.push_str(" Anyone else gets 404, whether or not the account exists.");
            who
        }
        None if operation.tags.iter().flatten().any(|tag| tag == "operator") => {
            "The operator only (the operator token); nobody when none is configured.".to_owned()
        }
        None if secured => "Any signed-in user.".to_owned(),
        None => "Anyone; no sign-in needed.".to_owned(),
    };
    let paragraph = format!("**Who may call:** {who}");
    operation.description = Some(match operation.description.take().filter(|text| !text.trim().is_empty()) {
        Some(text) => format!("{text}\n\n{paragraph}"),
        None => paragraph,
    });
}

/// What a 429 says besides its problem document.
fn add_rate_limit_headers(response: &mut Response) {
    use utoipa::openapi::header::HeaderBuilder;
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    let headers = [
        ("Retry-After", Type::Integer, "Seconds to wait before trying again."),
        (
            "RateLimit-Policy",
            Type::String,
            "The quota that was exceeded (IETF draft-ietf-httpapi-ratelimit-headers), e.g. `\"login-email\";q=10;w=900`.",
        ),
        ("RateLimit", Type::String, "What is left of it and when it resets, e.g. `\"login-email\";r=0;t=900`."),
    ];
    for (name, schema_type, description) in headers {
        let header = HeaderBuilder::new()
            .schema(ObjectBuilder::new().schema_type(schema_type))
            .description(Some(description))
            .build();
        response.headers.insert(name.to_owned(), header);
    }
}

/// An example for each problem answer an operation declares itself, made
/// from its status and the first `code` its description names, so that a
/// 409 does not show the schema's generic example (a 422).
fn add_problem_examples(api: &mut OpenApi) {
    for item in api.paths.paths.values_mut() {
        for operation in operations(item) {
            for (status, response) in operation.responses.responses.iter_mut() {
                let RefOr::T(response) = response else { continue };
                let Ok(status) = status.parse::<u16>() else { continue };
                let example = match status {
                    // A 422 is `validation_failed`; its description names a
                    // field and the codes of its errors (`field`: `code`).
                    422 => match field_error_named(&response.description) {
                        Some((field, code)) => validation_example(field, code, &response.description),
                        None => continue,
                    },
                    _ => match first_code(response.description.as_str()) {
                        Some(code) => problem_example(status, code, &response.description),
                        None => continue,
                    },
                };
                if let Some(content) = response.content.get_mut(crate::http::problem::PROBLEM_JSON)
                    && content.example.is_none()
                    && content.examples.is_empty()
                {
                    content.example = Some(example);
                }
            }
        }
    }
}

/// The problem codes each shared response (`#/components/responses`)
/// answers with.
const SHARED_CODES: &[(&str, &[&str])] = &[
    ("BadRequest", &["malformed_body", "invalid_path_parameter", "invalid_query"]),
    ("Unauthenticated", &["unauthenticated"]),
    ("Forbidden", &["forbidden", "plan_upgrade_required", "seat_limit_reached", "sso_required"]),
    ("NotFound", &["not_found"]),
    ("PayloadTooLarge", &["payload_too_large"]),
    ("UnsupportedMediaType", &["unsupported_media_type"]),
    ("ValidationFailed", &["validation_failed"]),
    ("IdempotencyConflict", &["idempotency_key_reused", "idempotency_key_in_progress"]),
    ("AccountWriteConflict", &["account_pending_deletion", "idempotency_key_reused", "idempotency_key_in_progress"]),
    ("AccountPendingDeletion", &["account_pending_deletion"]),
    ("RateLimited", &["rate_limited"]),
    ("Unavailable", &["unavailable", "overloaded"]),
    ("InternalError", &["internal_error"]),
];

/// States in each error response's schema which problem `code`s it
/// carries, so that a client can switch on them: the `Problem` schema with
/// `code` narrowed to an `enum`. An operation's own response names its
/// codes in its description (in backticks); to them come those its shape
/// implies, as for the shared responses (a signed-in operation can answer
/// `unauthenticated`, an account-scoped one `forbidden` and `not_found`,
/// one taking an Idempotency-Key its conflicts). A 422 is always
/// `validation_failed`: its description names the codes of the fields
/// in `errors`.
fn enumerate_problem_codes(api: &mut OpenApi) {
    let components = api.components.get_or_insert_with(Default::default);
    for (name, codes) in SHARED_CODES {
        if let Some(RefOr::T(response)) = components.responses.get_mut(*name) {
            narrow_problem_code(response, codes.to_vec());
        }
    }
    for (path, item) in api.paths.paths.iter_mut() {
        let account_scoped = path.contains("{account_id}");
        let writing: BTreeSet<String> = writes(item).filter_map(|operation| operation.operation_id.clone()).collect();
        for operation in operations(item) {
            let secured = operation.security.as_ref().is_some_and(|requirements| !requirements.is_empty());
            let takes_idempotency_key = operation.parameters.iter().flatten().any(|p| p.name == "Idempotency-Key");
            let writes_in_account =
                account_scoped && operation.operation_id.as_ref().is_some_and(|id| writing.contains(id));
            for (status, response) in operation.responses.responses.iter_mut() {
                let RefOr::T(response) = response else { continue };
                let implied: &[&str] = match status.as_str() {
                    "401" if secured => &["unauthenticated"],
                    "403" if account_scoped => {
                        &["forbidden", "plan_upgrade_required", "seat_limit_reached", "sso_required"]
                    }
                    "404" if account_scoped => &["not_found"],
                    "409" if takes_idempotency_key => &["idempotency_key_reused", "idempotency_key_in_progress"],
                    _ => &[],
                };
                let mut codes: BTreeSet<&str> = implied.iter().copied().collect();
                if status == "409" && writes_in_account {
                    codes.insert("account_pending_deletion");
                }
                if status == "422" {
                    codes.insert("validation_failed");
                } else {
                    codes.extend(named_codes(&response.description));
                }
                let codes = codes.into_iter().map(str::to_owned).collect::<Vec<_>>();
                narrow_problem_code(response, codes.iter().map(String::as_str).collect());
            }
        }
    }
}

/// The `snake_case` words in backticks: the problem codes a response
/// description names.
fn named_codes(description: &str) -> impl Iterator<Item = &str> {
    description.split('`').skip(1).step_by(2).filter(|word| is_code(word))
}

fn is_code(word: &str) -> bool {
    !word.is_empty() && word.chars().all(|c| c.is_ascii_lowercase() || c == '_' || c.is_ascii_digit())
}

/// Makes a problem+json response's schema `Problem` with `code` one of
/// `codes` (an `allOf`, which generators read as `Problem`).
fn narrow_problem_code(response: &mut Response, codes: Vec<&str>) {
    if codes.is_empty() {
        return;
    }
    let Some(content) = response.content.get_mut(crate::http::problem::PROBLEM_JSON) else { return };
    let code = ObjectBuilder::new().schema_type(Type::String).enum_values(Some(codes));
    let narrowed = ObjectBuilder::new().property("code", code);
    content.schema = Some(RefOr::T(Schema::AllOf(
        AllOfBuilder::new().item(Ref::from_schema_name("Problem")).item(narrowed).build(),
    )));
}

/// The first `snake_case` word in backticks: the problem code a response
/// description names.
fn first_code(description: &str) -> Option<&str> {
    named_codes(description).next()
}

/// The first "`field`: `code`" a 422's description names.
fn field_error_named(description: &str) -> Option<(&str, &str)> {
    let words: Vec<&str> = description.split('`').collect();
    // Between a field and its code: ": ".
    words.windows(3).skip(1).step_by(2).find(|w| w[1] == ": " && is_code(w[2])).map(|w| (w[0], w[2]))
}

fn validation_example(field: &str, code: &str, description: &str) -> serde_json::Value {
    // The words before "(`field`: …" say what is wrong with the field.
    let before = description.split(&format!("(`{field}`:")).next().unwrap_or(description).trim();
    let what = before.rsplit([',', ':']).next().unwrap_or(before);
    let what = what.rsplit("naming ").next().unwrap_or(what).trim();
    let message = format!("{}{}.", what.get(..1).unwrap_or_default().to_uppercase(), what.get(1..).unwrap_or_default());
    serde_json::to_value(ApiError::field(field, code, message).problem()).unwrap_or_default()
}

fn problem_example(status: u16, code: &str, description: &str) -> serde_json::Value {
    // The server's own title where one status has one title.
    let title = match status {
        409 => ApiError::Conflict { code: "", detail: String::new() }.problem().title,
        412 => ApiError::PreconditionFailed.problem().title,
        428 => ApiError::PreconditionRequired.problem().title,
        429 => {
            ApiError::RateLimited { name: "", policy: String::new(), limit: String::new(), retry_after: 0 }
                .problem()
                .title
        }
        _ => actix_web::http::StatusCode::from_u16(status).ok().and_then(|s| s.canonical_reason()).unwrap_or("Error"),
    };
    serde_json::json!({
        "type": format!("/problems/{}", code.replace('_', "-")),
        "title": title,
        "status": status,
        "code": code,
        "detail": description.split(" (`").next().unwrap_or(description),
    })
}

/// The answers that carry `ETag` (the version a later `If-Match` sends) or
/// `Location` (where what was created is read), by operation and status.
/// The handlers set the headers; `integration-tests` checks this table
/// against what they send.
const RESPONSE_HEADERS: &[(&str, &str, &[&str])] = &[
    ("create_account", "201", &["Location"]),
    ("get_account", "200", &["ETag"]),
    ("update_account", "200", &["ETag"]),
    ("delete_account", "202", &["Location"]),
    ("restore_account", "200", &["ETag"]),
    ("get_preferences", "200", &["ETag"]),
    ("update_preferences", "200", &["ETag"]),
    ("get_email_settings", "200", &["ETag"]),
    ("update_email_settings", "200", &["ETag"]),
    ("get_notification_defaults", "200", &["ETag"]),
    ("update_notification_defaults", "200", &["ETag"]),
    ("get_access_review_settings", "200", &["ETag"]),
    ("update_access_review_settings", "200", &["ETag"]),
    ("start_access_review", "201", &["Location"]),
    ("create_contact", "201", &["ETag", "Location"]),
    ("get_contact", "200", &["ETag"]),
    ("replace_contact", "200", &["ETag"]),
    ("create_address", "201", &["ETag", "Location"]),
    ("get_address", "200", &["ETag"]),
    ("replace_address", "200", &["ETag"]),
    ("create_role", "201", &["ETag", "Location"]),
    ("get_role", "200", &["ETag"]),
    ("update_role", "200", &["ETag"]),
    ("get_member", "200", &["ETag"]),
    ("set_member_roles", "200", &["ETag"]),
    ("create_group", "201", &["Location"]),
    ("create_join_link", "201", &["Location"]),
    ("request_account_link", "201", &["Location"]),
    ("create_partner", "201", &["Location"]),
    ("create_api_key", "201", &["Location"]),
    ("create_webhook", "201", &["Location"]),
    ("add_domain", "201", &["Location"]),
    ("create_sso_connection", "201", &["Location"]),
    ("create_scim_token", "201", &["Location"]),
    ("create_invitation_import", "202", &["Location"]),
];

fn declare_response_headers(api: &mut OpenApi) {
    use utoipa::openapi::header::HeaderBuilder;
    let header = |name: &str| {
        let description = match name {
            "ETag" => "The version of what the body shows; send it as `If-Match` to change it.",
            _ => "Where what was created is read.",
        };
        HeaderBuilder::new()
            .schema(ObjectBuilder::new().schema_type(Type::String))
            .description(Some(description))
            .build()
    };
    for item in api.paths.paths.values_mut() {
        for operation in operations(item) {
            let id = operation.operation_id.clone().unwrap_or_default();
            for (_, status, names) in RESPONSE_HEADERS.iter().filter(|(operation, ..)| *operation == id) {
                if let Some(RefOr::T(response)) = operation.responses.responses.get_mut(*status) {
                    for name in *names {
                        response.headers.insert((*name).to_owned(), header(name));
                    }
                }
            }
        }
    }
}

/// 1 to 255 visible ASCII characters, as `crate::http::idempotency` checks.
const IDEMPOTENCY_KEY_PATTERN: &str = "^[!-~]{1,255}$";

/// Every signed-in POST accepts `Idempotency-Key` (see `crate::idempotency`).
fn idempotency_key_parameter() -> utoipa::openapi::path::Parameter {
    utoipa::openapi::path::ParameterBuilder::new()
        .name("Idempotency-Key")
        .parameter_in(utoipa::openapi::path::ParameterIn::Header)
        .required(utoipa::openapi::Required::False)
        .description(Some(
            "Makes a retry safe: the first response to a request with this key (1–255 visible ASCII characters, \
             e.g. a UUID) is stored for 24 hours and replayed, with `Idempotent-Replayed: true`, to a retry of \
             the same request. The same key with a different request: 409 `idempotency_key_reused`; while the \
             first is still running: 409 `idempotency_key_in_progress`. Server errors are not stored.",
        ))
        .schema(Some(
            utoipa::openapi::ObjectBuilder::new()
                .schema_type(utoipa::openapi::schema::Type::String)
                .min_length(Some(1))
                .max_length(Some(255))
                .pattern(Some(IDEMPOTENCY_KEY_PATTERN))
                .examples([serde_json::json!("5f0c7a52-3b1e-4c8e-9d7f-0a1b2c3d4e5f")]),
        ))
        .build()
}

/// The operations of `item` that change something.
fn writes(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [&mut item.put, &mut item.post, &mut item.delete, &mut item.patch].into_iter().filter_map(Option::as_mut)
}

fn operations(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        &mut item.get,
        &mut item.put,
        &mut item.post,
        &mut item.delete,
        &mut item.patch,
        &mut item.head,
        &mut item.options,
        &mut item.trace,
    ]
    .into_iter()
    .filter_map(Option::as_mut)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_served_document_lists_the_loaded_catalogue_s_permission_keys() {
        let catalogue =
            crate::catalogue::parse("[[permissions]]\nkey = \"reports:export\"\ndescription = \"Export reports\"")
                .unwrap();
        let api = serde_json::to_value(document_for(&catalogue)).unwrap();
        let keys = &api["components"]["schemas"]["PermissionKey"]["enum"];
        assert!(keys.as_array().unwrap().contains(&"reports:export".into()), "{keys}");
        assert!(keys.as_array().unwrap().contains(&"members:read".into()), "{keys}");
        let default = serde_json::to_value(document()).unwrap();
        assert!(
            !default["components"]["schemas"]["PermissionKey"]["enum"]
                .as_array()
                .unwrap()
                .contains(&"reports:export".into())
        );
    }

    #[test]
    fn api_key_permissions_are_the_catalogue_s_but_those_no_key_may_carry() {
        let api = serde_json::to_value(document()).unwrap();
        let listed = api["components"]["schemas"]["ApiKeyPermissionKey"]["enum"].as_array().unwrap().clone();
        assert!(listed.contains(&"members:read".into()), "{listed:?}");
        for reserved in domain::api_key::NEVER_ON_A_KEY {
            assert!(!listed.contains(&reserved.key().into()), "{} is listed", reserved.key());
        }
    }

    #[test]
    fn the_published_plan_features_are_the_domain_s() {
        let api = serde_json::to_value(document()).unwrap();
        let published = &api["components"]["schemas"]["PlanFeatureName"]["enum"];
        let domain: Vec<&str> = domain::plan::Feature::ALL.iter().map(|feature| feature.key()).collect();
        assert_eq!(published, &serde_json::json!(domain));
    }
}
