//! Single sign-on through an account's own OpenID provider: the account's
//! connections (`settings:manage`), and the sign-in itself. The frontend
//! sends the browser to `GET /v1/sso/start`, Roster sends it on to the
//! provider and takes it back at `GET /v1/sso/callback`, then returns it
//! to the frontend with a one-time code that `POST /v1/sso/token`
//! exchanges for Roster's tokens: no token ever travels in a URL.

use actix_web::http::header;
use actix_web::{HttpResponse, delete, get, post, put, web};
use chrono::{DateTime, Utc};
use domain::access::Requirement;
use domain::sso::{ClaimName, GroupRule, RoleMapping, Scopes};
use domain::{Email, Permission};
use persistence::sso::{self as store, Connection};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::auth::{TokenResponse, session_policy};
use crate::flows::sso::{self as flows, ConnectionDraft, ProviderIdentity};
use crate::flows::{Actor, Origin};
use crate::http::access::AccountMember;
use crate::http::extract::JsonBody;
use crate::http::problem::{ApiError, FieldError, Problem, field_error};
use crate::http::rate_limit::Bucket;
use crate::http::schemas::{
    claim_name_or_null_schema, client_secret_or_null_schema, issuer_url_schema, label_schema, role_keys_up_to,
    scopes_or_null_schema,
};
use crate::http::state::{AppState, RunFlow};

fn ten_role_keys() -> utoipa::openapi::schema::Array {
    role_keys_up_to(10)
}
use crate::oidc::{Claims, RelyingPartySettings};
use crate::outbound::{Reach, check_url_shape};

const READ: Requirement = Requirement::account(Permission::SettingsRead);
const MANAGE: Requirement = Requirement::account(Permission::SettingsManage);

/// IdP group → Roster roles and groups.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"idp_group": "engineering", "roles": ["developer"], "groups": []}))]
pub struct GroupRuleBody {
    /// The group's name (or id) as the provider puts it in the groups claim.
    #[schema(schema_with = label_schema)]
    pub idp_group: String,
    /// Keys of account-wide roles its members get, each one you may give.
    #[serde(default)]
    #[schema(schema_with = ten_role_keys)]
    pub roles: Vec<String>,
    /// Groups its members are put in.
    #[serde(default)]
    #[schema(max_items = 20)]
    pub groups: Vec<Uuid>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "name": "Okta", "issuer": "https://acme.okta.com", "client_id": "0oa1b2c3d4", "client_secret": "…",
    "scopes": ["openid", "email", "profile", "groups"], "groups_claim": "groups",
    "group_rules": [{"idp_group": "engineering", "roles": ["developer"]}], "default_roles": [], "enabled": true
}))]
pub struct ConnectionBody {
    #[schema(schema_with = label_schema)]
    pub name: String,
    #[schema(schema_with = issuer_url_schema)]
    pub issuer: String,
    #[schema(schema_with = label_schema)]
    pub client_id: String,
    /// Sealed at rest, never shown again. Omitted when creating: a public
    /// client (PKCE only, no secret); omitted on replace: the stored one
    /// stays.
    #[schema(schema_with = client_secret_or_null_schema)]
    pub client_secret: Option<String>,
    #[schema(schema_with = scopes_or_null_schema)]
    pub scopes: Option<Vec<String>>,
    /// The ID token claim that holds the email. Default `email`.
    #[schema(schema_with = claim_name_or_null_schema)]
    pub email_claim: Option<String>,
    /// The ID token claim that holds the person's groups (a list of
    /// strings), if the mapping uses groups.
    #[schema(schema_with = claim_name_or_null_schema)]
    pub groups_claim: Option<String>,
    #[serde(default)]
    #[schema(max_items = 50)]
    pub group_rules: Vec<GroupRuleBody>,
    /// Roles of people matched by no rule.
    #[serde(default)]
    #[schema(schema_with = ten_role_keys)]
    pub default_roles: Vec<String>,
    /// Default true.
    pub enabled: Option<bool>,
}

#[derive(Serialize, ToSchema)]
#[schema(as = SsoConnection, example = json!({
    "id": "01937a2e-e000-7000-8000-000000000002", "name": "Okta", "issuer": "https://acme.okta.com",
    "client_id": "0oa1b2c3d4", "scopes": ["openid", "email", "profile", "groups"], "email_claim": "email",
    "groups_claim": "groups", "group_rules": [{"idp_group": "engineering", "roles": ["developer"], "groups": []}],
    "default_roles": [], "enabled": true,
    "start_url": "https://roster.example.com/v1/sso/start?connection=01937a2e-e000-7000-8000-000000000002",
    "callback_url": "https://roster.example.com/v1/sso/callback",
    "created_at": "2026-12-06T10:00:00Z", "updated_at": "2026-12-06T10:00:00Z"
}))]
pub struct ConnectionView {
    pub id: Uuid,
    pub name: String,
    pub issuer: String,
    pub client_id: String,
    pub scopes: Vec<String>,
    pub email_claim: String,
    pub groups_claim: Option<String>,
    pub group_rules: Vec<GroupRuleBody>,
    pub default_roles: Vec<String>,
    pub enabled: bool,
    /// Where the frontend sends the browser to sign in through this
    /// connection (add `redirect_uri`).
    pub start_url: String,
    /// The redirect URI to register at the provider.
    pub callback_url: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl ConnectionView {
    fn of(connection: Connection, public_url: &str) -> Self {
        ConnectionView {
            start_url: flows::start_url(public_url, connection.id),
            callback_url: callback_url(public_url),
            id: connection.id,
            name: connection.name,
            issuer: connection.issuer,
            client_id: connection.client_id,
            scopes: connection.scopes,
            email_claim: connection.email_claim,
            groups_claim: connection.groups_claim,
            group_rules: connection
                .mapping
                .rules
                .into_iter()
                .map(|rule| GroupRuleBody { idp_group: rule.idp_group, roles: rule.roles, groups: rule.groups })
                .collect(),
            default_roles: connection.mapping.default_roles,
            enabled: connection.enabled,
            created_at: connection.created_at,
            updated_at: connection.updated_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ConnectionList {
    /// Oldest first.
    pub items: Vec<ConnectionView>,
}

fn callback_url(public_url: &str) -> String {
    format!("{public_url}/v1/sso/callback")
}

/// Roster as the connection's client, coming back at `callback`.
fn relying_party<'a>(connection: &'a Connection, secret: &'a str, callback: &'a str) -> RelyingPartySettings<'a> {
    RelyingPartySettings {
        issuer: &connection.issuer,
        client_id: &connection.client_id,
        client_secret: secret,
        redirect_uri: callback,
    }
}

fn reach(state: &AppState) -> Reach {
    Reach { private_networks: state.settings.sso_allow_private_networks }
}

/// The parsed value, or `None` with its error recorded.
fn parsed<T>(errors: &mut Vec<FieldError>, field: &'static str, result: Result<T, domain::InvalidValue>) -> Option<T> {
    result.map_err(|e| errors.push(field_error(field, e))).ok()
}

/// Reads a connection body.
fn draft_of(body: ConnectionBody, reach: Reach) -> Result<ConnectionDraft, ApiError> {
    let mut errors: Vec<FieldError> = Vec::new();
    let mut take = |field: &'static str, result: Result<(), (&'static str, String)>| {
        if let Err((code, message)) = result {
            errors.push(FieldError { field: field.into(), code: code.into(), message });
        }
    };
    let bounded = |raw: &str, max: usize| {
        let ok = !raw.trim().is_empty() && raw.chars().count() <= max && !raw.chars().any(char::is_control);
        if ok { Ok(()) } else { Err(("invalid_length", format!("1 to {max} characters, no control characters."))) }
    };
    take("name", bounded(&body.name, 200));
    take("client_id", bounded(&body.client_id, 200));
    take("issuer", check_url_shape(&body.issuer, reach).map(|_| ()).map_err(|e| (e.code(), e.to_string())));
    if let Some(secret) = &body.client_secret {
        take("client_secret", bounded(secret, 1000));
    }
    let scopes = body.scopes.as_deref().map(Scopes::parse).transpose();
    let email_claim = body.email_claim.as_deref().map(ClaimName::parse).transpose();
    let groups_claim = body.groups_claim.as_deref().map(ClaimName::parse).transpose();
    let rules_ok = body.group_rules.len() <= RoleMapping::MAX_RULES
        && body
            .group_rules
            .iter()
            .all(|rule| bounded(&rule.idp_group, 200).is_ok() && rule.roles.len() <= 10 && rule.groups.len() <= 20);
    take(
        "group_rules",
        if rules_ok {
            Ok(())
        } else {
            Err((
                "invalid_rules",
                "At most 50 rules, each an IdP group of 1 to 200 characters with at most 10 roles and 20 groups."
                    .into(),
            ))
        },
    );
    take(
        "default_roles",
        if body.default_roles.len() <= 10 { Ok(()) } else { Err(("too_many", "At most 10.".into())) },
    );
    let scopes = parsed(&mut errors, "scopes", scopes);
    let email_claim = parsed(&mut errors, "email_claim", email_claim);
    let groups_claim = parsed(&mut errors, "groups_claim", groups_claim);
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let rules = body
        .group_rules
        .into_iter()
        .map(|rule| GroupRule { idp_group: rule.idp_group, roles: rule.roles, groups: rule.groups })
        .collect();
    Ok(ConnectionDraft {
        name: body.name.trim().to_owned(),
        issuer: body.issuer.trim_end_matches('/').to_owned(),
        client_id: body.client_id,
        client_secret: body.client_secret,
        scopes: scopes.flatten().unwrap_or_else(Scopes::standard),
        email_claim: email_claim.flatten().unwrap_or_else(ClaimName::email),
        groups_claim: groups_claim.flatten(),
        mapping: RoleMapping { rules, default_roles: body.default_roles },
        enabled: body.enabled.unwrap_or(true),
    })
}

/// Connect an OpenID provider for single sign-on. Register the answer's
/// `callback_url` as the client's redirect URI at the provider.
#[utoipa::path(
    tag = "sso", operation_id = "create_sso_connection", security(("bearer" = [])), request_body = ConnectionBody,
    params(("account_id" = Uuid, Path, description = "The account")),
    responses(
        (status = 201, description = "Connected; `Location` names it. The secret is never shown again", body = ConnectionView),
        (status = 403, description = "A mapped role carries a permission you do not hold yourself (`forbidden`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: the field errors say which (`issuer`: `invalid_url`, `https_required`, `private_address`; `scopes`: `openid_required`; `group_rules`: `unknown_role`, `unknown_group`, `owner_not_mappable`)", body = Problem, content_type = "application/problem+json"),
    ),
    extensions(("x-authorization" = json!(MANAGE)))
)]
#[post("/sso-connections")]
pub async fn create_sso_connection(
    state: web::Data<AppState>,
    member: AccountMember,
    origin: Origin,
    body: JsonBody<ConnectionBody>,
) -> Result<HttpResponse, ApiError> {
    let draft = draft_of(body.0, reach(&state))?;
    let by = member.grantor();
    let created = state.flow(member.actor(), origin, move |conn, ctx| flows::create(conn, ctx, &by, &draft)).await?;
    let location = format!("/v1/accounts/{}/sso-connections/{}", created.account_id, created.id);
    let view = ConnectionView::of(created, &state.settings.public_url);
    Ok(HttpResponse::Created().insert_header((header::LOCATION, location)).json(view))
}

/// The account's single sign-on connections.
#[utoipa::path(
    tag = "sso", operation_id = "list_sso_connections", security(("bearer" = [])),
    params(("account_id" = Uuid, Path, description = "The account")),
    responses((status = 200, description = "The connections", body = ConnectionList)),
    extensions(("x-authorization" = json!(READ)))
)]
#[get("/sso-connections")]
pub async fn list_sso_connections(state: web::Data<AppState>, member: AccountMember) -> Result<HttpResponse, ApiError> {
    let account = member.account_id;
    let found = state.db(move |conn| Ok(store::list(conn, account)?)).await?;
    let items = found.into_iter().map(|c| ConnectionView::of(c, &state.settings.public_url)).collect();
    Ok(HttpResponse::Ok().json(ConnectionList { items }))
}

/// One single sign-on connection.
#[utoipa::path(
    tag = "sso", operation_id = "get_sso_connection", security(("bearer" = [])),
    params(("account_id" = Uuid, Path, description = "The account"), ("connection_id" = Uuid, Path, description = "The connection")),
    responses((status = 200, description = "The connection", body = ConnectionView)),
    extensions(("x-authorization" = json!(READ)))
)]
#[get("/sso-connections/{connection_id}")]
pub async fn get_sso_connection(
    state: web::Data<AppState>,
    member: AccountMember,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let ((account, id), _) = (path.into_inner(), member);
    let found = state.db(move |conn| store::find(conn, account, id)?.ok_or(ApiError::NotFound)).await?;
    Ok(HttpResponse::Ok().json(ConnectionView::of(found, &state.settings.public_url)))
}

/// Replace a connection's settings; without `client_secret` the stored
/// secret stays. Disabling it (`enabled: false`) refuses its sign-ins.
#[utoipa::path(
    tag = "sso", operation_id = "replace_sso_connection", security(("bearer" = [])), request_body = ConnectionBody,
    params(("account_id" = Uuid, Path, description = "The account"), ("connection_id" = Uuid, Path, description = "The connection")),
    responses(
        (status = 200, description = "Replaced", body = ConnectionView),
        (status = 403, description = "A mapped role carries a permission you do not hold yourself (`forbidden`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: the field errors say which (`issuer`: `invalid_url`, `https_required`, `private_address`; `scopes`: `openid_required`; `group_rules`: `unknown_role`, `unknown_group`, `owner_not_mappable`)", body = Problem, content_type = "application/problem+json"),
    ),
    extensions(("x-authorization" = json!(MANAGE)))
)]
#[put("/sso-connections/{connection_id}")]
pub async fn replace_sso_connection(
    state: web::Data<AppState>,
    member: AccountMember,
    origin: Origin,
    path: web::Path<(Uuid, Uuid)>,
    body: JsonBody<ConnectionBody>,
) -> Result<HttpResponse, ApiError> {
    let (_, id) = path.into_inner();
    let draft = draft_of(body.0, reach(&state))?;
    let by = member.grantor();
    let updated =
        state.flow(member.actor(), origin, move |conn, ctx| flows::update(conn, ctx, &by, id, &draft)).await?;
    Ok(HttpResponse::Ok().json(ConnectionView::of(updated, &state.settings.public_url)))
}

/// Remove a connection: its sign-ins stop; its members stay members.
#[utoipa::path(
    tag = "sso", operation_id = "delete_sso_connection", security(("bearer" = [])),
    params(("account_id" = Uuid, Path, description = "The account"), ("connection_id" = Uuid, Path, description = "The connection")),
    responses((status = 204, description = "Removed")),
    extensions(("x-authorization" = json!(MANAGE)))
)]
#[delete("/sso-connections/{connection_id}")]
pub async fn delete_sso_connection(
    state: web::Data<AppState>,
    member: AccountMember,
    origin: Origin,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let (account, id) = path.into_inner();
    state.flow(member.actor(), origin, move |conn, ctx| flows::remove(conn, ctx, account, id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Whether the account requires its people to sign in through its
/// identity provider.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = SsoPolicy, example = json!({"sso_required": true, "break_glass_owner_id": "01937a2e-5000-7000-8000-000000000002"}))]
pub struct PolicyBody {
    /// Members whose email is at one of the account's verified domains may
    /// act in it only in sessions signed in through one of its connections
    /// (403 `sso_required` otherwise, and their password sign-in answers the
    /// same). API keys are unaffected. Applies from each person's next
    /// sign-in or token refresh.
    pub sso_required: bool,
    /// The owner who keeps password access (break-glass); default the
    /// caller. Should they stop being an owner, every owner keeps it.
    pub break_glass_owner_id: Option<Uuid>,
}

impl From<domain::sso::SsoPolicy> for PolicyBody {
    fn from(policy: domain::sso::SsoPolicy) -> Self {
        PolicyBody { sso_required: policy.required, break_glass_owner_id: policy.break_glass_owner }
    }
}

/// The account's single sign-on policy.
#[utoipa::path(
    tag = "sso", operation_id = "get_sso_policy", security(("bearer" = [])),
    params(("account_id" = Uuid, Path, description = "The account")),
    responses((status = 200, description = "The policy", body = PolicyBody)),
    extensions(("x-authorization" = json!(READ)))
)]
#[get("/sso-policy")]
pub async fn get_sso_policy(state: web::Data<AppState>, member: AccountMember) -> Result<HttpResponse, ApiError> {
    let account = member.account_id;
    let policy = state.db(move |conn| store::policy(conn, account)?.ok_or(ApiError::NotFound)).await?;
    Ok(HttpResponse::Ok().json(PolicyBody::from(policy)))
}

/// Require single sign-on of the account's people, or stop requiring it.
/// Requiring it needs an enabled connection and a verified domain.
#[utoipa::path(
    tag = "sso", operation_id = "set_sso_policy", security(("bearer" = [])), request_body = PolicyBody,
    params(("account_id" = Uuid, Path, description = "The account")),
    responses(
        (status = 200, description = "The policy now", body = PolicyBody),
        (status = 409, description = "No enabled connection (`sso_connection_required`) or no verified domain (`verified_domain_required`) yet", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: the break-glass user is not an owner (`break_glass_owner_id`: `not_an_owner`)", body = Problem, content_type = "application/problem+json"),
    ),
    extensions(("x-authorization" = json!(MANAGE)))
)]
#[put("/sso-policy")]
pub async fn set_sso_policy(
    state: web::Data<AppState>,
    member: AccountMember,
    origin: Origin,
    body: JsonBody<PolicyBody>,
) -> Result<HttpResponse, ApiError> {
    let wanted =
        domain::sso::SsoPolicy { required: body.0.sso_required, break_glass_owner: body.0.break_glass_owner_id };
    let by = member.grantor();
    let policy = state.flow(member.actor(), origin, move |conn, ctx| flows::set_policy(conn, ctx, &by, wanted)).await?;
    Ok(HttpResponse::Ok().json(PolicyBody::from(policy)))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct StartQuery {
    /// The email of the person signing in: the account that verified its
    /// domain, and that account's enabled connection, are used (passed on
    /// to the provider as `login_hint`). Give this or `connection`.
    #[param(max_length = 254, format = Email)]
    pub email: Option<String>,
    /// A connection's id, instead of `email`.
    pub connection: Option<Uuid>,
    /// The frontend page to return to, one of the deployment's
    /// `ROSTER_SSO_REDIRECT_URIS` exactly.
    #[param(max_length = 2000)]
    pub redirect_uri: String,
}

/// Start signing in through an account's identity provider: answers with
/// a redirect to the provider (with `state`, `nonce` and PKCE S256, single
/// use, valid 10 minutes).
#[utoipa::path(
    tag = "sso", operation_id = "start_sso", params(StartQuery),
    responses(
        (status = 429, description = "Too many attempts (`rate_limited`): wait the seconds in `Retry-After`", body = Problem, content_type = "application/problem+json"),
        (status = 302, description = "On to the identity provider", headers(("Location" = String, description = "The provider's authorization URL"))),
        (status = 404, description = "No connection for this email's domain, or no such connection (`sso_connection_not_found`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The connection is disabled (`sso_connection_disabled`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: `redirect_uri` is not one the deployment allows (`redirect_uri_not_allowed`), neither or both of `email` and `connection` (`email_or_connection`), or a malformed email", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The identity provider cannot be reached (`unavailable`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/sso/start")]
pub async fn start_sso(
    state: web::Data<AppState>,
    origin: Origin,
    query: web::Query<StartQuery>,
) -> Result<HttpResponse, ApiError> {
    let StartQuery { email, connection, redirect_uri } = query.into_inner();
    state.limit(vec![Bucket::SsoStarts.hit(origin.client_ip.clone())]).await?;
    if !state.settings.sso_redirect_uris.contains(&redirect_uri) {
        return Err(ApiError::field(
            "redirect_uri",
            "redirect_uri_not_allowed",
            "Give one of the redirect URIs the deployment allows (ROSTER_SSO_REDIRECT_URIS), exactly.",
        ));
    }
    let email = match (email, connection) {
        (Some(raw), None) => Some(Email::parse(&raw).map_err(|e| ApiError::Validation(vec![field_error("email", e)]))?),
        (None, Some(_)) => None,
        _ => return Err(ApiError::field("email", "email_or_connection", "Give either email or connection.")),
    };
    let hint = email.as_ref().map(|email| email.as_str().to_owned());
    let chosen = state
        .flow(Actor::Anonymous, origin.clone(), move |conn, ctx| {
            let connection = match (&email, connection) {
                (Some(email), _) => flows::connection_for_email(conn, email)?,
                (None, Some(id)) => flows::enabled_connection(conn, id)?,
                (None, None) => return Err(flows::SsoError::ConnectionNotFound),
            };
            let secret = flows::client_secret(ctx, &connection)?;
            Ok((connection, secret))
        })
        .await?;
    let (connection, secret) = chosen;
    let callback = callback_url(&state.settings.public_url);
    let settings = relying_party(&connection, &secret, &callback);
    let now = state.clock.now();
    let started = state.identity_providers.start(&settings, &connection.scopes, hint.as_deref(), now).await?;
    let (id, url) = (connection.id, started.url.clone());
    state
        .flow(Actor::Anonymous, origin, move |conn, ctx| {
            let crate::oidc::Started { state, nonce, pkce_verifier, .. } = &started;
            flows::remember_attempt(conn, ctx, id, state, nonce, pkce_verifier, &redirect_uri)
        })
        .await?;
    Ok(HttpResponse::Found()
        .insert_header((header::LOCATION, url))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish())
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CallbackQuery {
    /// The state Roster sent.
    #[param(max_length = 200)]
    pub state: Option<String>,
    /// The provider's authorization code.
    #[param(max_length = 2000)]
    pub code: Option<String>,
    /// The provider's refusal, instead of a code.
    #[param(max_length = 200)]
    pub error: Option<String>,
    #[param(max_length = 2000)]
    pub error_description: Option<String>,
    /// What else a provider may send back (`iss`, `session_state`, …) is ignored.
    #[serde(flatten)]
    #[param(ignore)]
    pub other: std::collections::HashMap<String, String>,
}

/// Where the identity provider sends the browser back. Roster exchanges
/// the code, validates the ID token completely, links or creates the user
/// and their membership, then redirects to the frontend's `redirect_uri`
/// with `code`, a one-time code for `POST /v1/sso/token` (valid 2 minutes).
#[utoipa::path(
    tag = "sso", operation_id = "sso_callback", params(CallbackQuery),
    responses(
        (status = 302, description = "Back to the frontend with `?code=`", headers(("Location" = String, description = "The frontend's redirect URI with the one-time code"))),
        (status = 400, description = "Unknown, used or expired state (`sso_state_invalid`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "The provider refused (`sso_provider_refused`) or refused the code (`sso_code_refused`), the ID token is not valid (`id_token_invalid`: signature, issuer, audience, expiry, nonce), or it carries no email (`sso_email_missing`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The email is neither verified by the provider nor at a domain the account verified (`sso_email_not_trusted`), or no seat is left (`seat_limit_reached`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The connection was disabled meanwhile (`sso_connection_disabled`), or a Roster user has the email and it is at none of the account's verified domains (`sso_email_in_use`)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The identity provider cannot be reached (`unavailable`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/sso/callback")]
pub async fn sso_callback(
    state: web::Data<AppState>,
    origin: Origin,
    query: web::Query<CallbackQuery>,
) -> Result<HttpResponse, ApiError> {
    let CallbackQuery { state: sent_state, code, error, error_description, .. } = query.into_inner();
    let sent_state = sent_state.ok_or(flows::SsoError::StateInvalid)?;
    let ((attempt, connection, verifier), secret) = state
        .flow(Actor::Anonymous, origin.clone(), move |conn, ctx| {
            let taken = flows::take_attempt(conn, ctx, &sent_state)?;
            let secret = flows::client_secret(ctx, &taken.1)?;
            Ok::<_, flows::SsoError>((taken, secret))
        })
        .await?;
    let Some(code) = code else {
        let said =
            [error.as_deref(), error_description.as_deref()].into_iter().flatten().collect::<Vec<_>>().join(": ");
        return Err(ApiError::SignInRefused {
            status: actix_web::http::StatusCode::UNAUTHORIZED,
            code: "sso_provider_refused",
            detail: format!("The identity provider did not sign the person in ({said})."),
        });
    };
    let callback = callback_url(&state.settings.public_url);
    let settings = relying_party(&connection, &secret, &callback);
    let claims =
        state.identity_providers.finish(&settings, &code, &verifier, &attempt.nonce, state.clock.now()).await?;
    let identity = identity_of(&claims, &connection);
    let granted =
        state.flow(Actor::System, origin, move |conn, ctx| flows::complete(conn, ctx, &connection, &identity)).await?;
    let separator = if attempt.redirect_uri.contains('?') { '&' } else { '?' };
    let location = format!("{}{separator}code={}", attempt.redirect_uri, granted.expose());
    Ok(HttpResponse::Found()
        .insert_header((header::LOCATION, location))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish())
}

/// Who the validated claims say signed in, read as the connection says.
fn identity_of(claims: &Claims, connection: &Connection) -> ProviderIdentity {
    let other = &claims.additional_claims().claims;
    let email = match connection.email_claim.as_str() {
        "email" => claims.email().map(|email| email.as_str().to_owned()),
        name => other.get(name).and_then(|value| value.as_str()).map(str::to_owned),
    };
    let groups = connection
        .groups_claim
        .as_deref()
        .and_then(|name| other.get(name))
        .and_then(|value| value.as_array())
        .map(|items| items.iter().filter_map(|item| item.as_str().map(str::to_owned)).collect())
        .unwrap_or_default();
    ProviderIdentity {
        subject: claims.subject().as_str().to_owned(),
        email,
        email_verified: claims.email_verified(),
        given_name: claims.given_name().and_then(|names| names.get(None)).map(|name| name.to_string()),
        family_name: claims.family_name().and_then(|names| names.get(None)).map(|name| name.to_string()),
        groups,
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"code": "Xq1vB7nM3kL9pR2sT5wY8zA0cD4fG6hJ1eI3oU5yT7r"}))]
pub struct SsoTokenRequest {
    /// The `code` the callback put on the frontend's redirect URI (URL-safe
    /// base64, as Roster wrote it).
    #[schema(min_length = 1, max_length = 200, pattern = "^[A-Za-z0-9_-]+$")]
    pub code: String,
}

/// Exchange the one-time code of a single sign-on for Roster's access and
/// refresh tokens. The session counts as signed in through the connection.
#[utoipa::path(
    tag = "sso", operation_id = "exchange_sso_code", request_body = SsoTokenRequest,
    responses(
        (status = 200, description = "Signed in", body = TokenResponse),
        (status = 401, description = "Unknown, used or expired code (`sso_code_invalid`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/sso/token")]
pub async fn exchange_sso_code(
    state: web::Data<AppState>,
    origin: Origin,
    body: JsonBody<SsoTokenRequest>,
) -> Result<HttpResponse, ApiError> {
    let code = body.0.code;
    let shared = state.clone();
    let session = state
        .flow(Actor::Anonymous, origin, move |conn, ctx| flows::redeem(conn, ctx, &session_policy(&shared), &code))
        .await?;
    Ok(HttpResponse::Ok().insert_header((header::CACHE_CONTROL, "no-store")).json(TokenResponse::from(session)))
}
