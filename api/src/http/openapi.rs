//! The published contract. Paths and schemas are collected from the route
//! table (`routes::configure`); this module adds what every operation shares
//! (security scheme, standard error responses with examples) so that no
//! handler can forget one.

use actix_web::App;
use utoipa::OpenApi as _;
use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr, Response, ResponseBuilder};
use utoipa_actix_web::AppExt;

use domain::access::{Requirement, Scope};

use crate::http::problem::{ApiError, FieldError, Problem};
use crate::http::routes;

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "Roster",
        description = "Company accounts and their users: sign-in, accounts with owners, roles and permissions.\n\n\
            Errors are RFC 9457 `application/problem+json` documents with a stable `code`.",
        license(name = "Apache-2.0"),
        contact(name = "The operators of this Roster instance"),
    ),
    servers((url = "http://127.0.0.1:8080", description = "`make run`; a deployment serves the API at its `ROSTER_PUBLIC_URL`")),
    tags(
        (name = "auth", description = "Registration, sign-in and tokens"),
        (name = "me", description = "The signed-in user"),
        (name = "accounts", description = "Company accounts and their preferences"),
        (name = "invitations", description = "Inviting people by email, and the invitee's side"),
        (name = "imports", description = "Inviting people from a spreadsheet, processed in the background"),
        (name = "join-links", description = "Shareable links through which people ask to join"),
        (name = "join-requests", description = "Reviewing requests to join an account"),
        (name = "members", description = "An account's members"),
        (name = "roles", description = "Built-in, template and custom roles"),
        (name = "groups", description = "Groups of members; roles can be scoped to one"),
        (name = "permissions", description = "The permission catalogue and authorization checks"),
        (name = "audit", description = "The account's append-only audit log"),
        (name = "webhooks", description = "Signed notifications of the account's changes (Standard Webhooks)"),
        (name = "operations", description = "Health and readiness probes"),
    ),
    components(schemas(Problem, FieldError, crate::http::routes::audit::AuditActionName)),
)]
struct ApiDoc;

/// The OpenAPI document of this build, exactly as `/openapi.json` serves it.
pub fn document() -> OpenApi {
    let (_, mut api) =
        App::new().into_utoipa_app().openapi(ApiDoc::openapi()).configure(routes::configure).split_for_parts();
    api.info.version = env!("CARGO_PKG_VERSION").to_owned();
    add_security_scheme(&mut api);
    add_standard_errors(&mut api);
    api
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
}

/// Error responses that follow from an operation's shape: a secured one can
/// answer 401, an account-scoped one 403 and 404, one with a body 400, 413,
/// 415 and 422; every one 500 and 503.
fn add_standard_errors(api: &mut OpenApi) {
    let standard: Vec<(&str, &str, ApiError)> = vec![
        (
            "BadRequest",
            "The body is not JSON, or a path or query parameter is invalid",
            ApiError::MalformedBody("Invalid JSON: expected value.".into()),
        ),
        ("Unauthenticated", "Missing, invalid or expired access token", ApiError::Unauthenticated),
        (
            "Forbidden",
            "The caller is a member but lacks the permission",
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
        let response: Response =
            ResponseBuilder::new().description(*description).content("application/problem+json", content).build();
        components.responses.insert((*name).to_owned(), RefOr::T(response));
    }
    for (path, item) in api.paths.paths.iter_mut() {
        let account_scoped = path.contains("{account_id}");
        let has_path_params = path.contains('{');
        let signed_in = |operation: &&mut Operation| operation.security.as_ref().is_some_and(|s| !s.is_empty());
        if let Some(post) = item.post.as_mut().filter(signed_in) {
            post.parameters.get_or_insert_with(Vec::new).push(idempotency_key_parameter());
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
            let wanted = [
                ("400", has_body || has_path_params || has_query, "BadRequest"),
                ("401", secured, "Unauthenticated"),
                ("403", account_scoped, "Forbidden"),
                ("404", account_scoped, "NotFound"),
                ("413", has_body, "PayloadTooLarge"),
                ("415", has_body, "UnsupportedMediaType"),
                ("422", has_body || has_query, "ValidationFailed"),
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
        .schema(Some(utoipa::openapi::ObjectBuilder::new().schema_type(utoipa::openapi::schema::Type::String)))
        .build()
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
