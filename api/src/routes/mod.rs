//! The route table: every endpoint, registered once, which is also what the
//! OpenAPI document is collected from.

pub mod accounts;
pub mod auth;
pub mod health;
pub mod me;
pub mod well_known;

use utoipa_actix_web::scope;
use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(health::healthz).service(health::readyz).service(well_known::jwks).service(
        scope::scope("/v1")
            .service(auth::register)
            .service(auth::login)
            .service(auth::refresh)
            .service(auth::logout)
            .service(me::get_me)
            .service(me::update_me)
            .service(me::list_my_accounts)
            .service(accounts::create_account)
            .service(accounts::get_account)
            .service(accounts::update_account),
    );
}
