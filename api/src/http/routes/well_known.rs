use actix_web::http::header;
use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::jwt::Jwk;
use crate::http::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct JwkSet {
    pub keys: Vec<Jwk>,
}

/// Public keys that verify Roster's access tokens (JWKS, RFC 7517).
///
/// Tokens name their key in the `kid` header; verify with `alg` `EdDSA`,
/// `iss` equal to the service's public URL and `aud` as configured.
#[utoipa::path(tag = "auth", operation_id = "get_jwks", responses((status = 200, description = "The signing keys", body = JwkSet)))]
#[get("/.well-known/jwks.json")]
pub async fn jwks(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .json(JwkSet { keys: state.tokens.jwks() })
}
