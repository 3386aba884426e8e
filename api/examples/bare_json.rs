//! The baseline for the authorization-check benchmark: actix-web parsing a
//! JSON body and answering JSON, with nothing else (no auth, no database).
//!
//!   cargo run --release -p api --example bare_json -- 127.0.0.1:18301 2

use actix_web::{App, HttpResponse, HttpServer, post, web};
use serde::Deserialize;

#[derive(Deserialize)]
#[allow(dead_code)]
struct Check {
    user_id: String,
    permissions: Vec<String>,
}

#[post("/check")]
async fn check(body: web::Json<Check>) -> HttpResponse {
    let missing: Vec<String> = Vec::new();
    HttpResponse::Ok()
        .json(serde_json::json!({"allowed": body.permissions.is_empty() || missing.is_empty(), "missing": missing}))
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let bind = args.next().unwrap_or_else(|| "127.0.0.1:18301".into());
    let workers: usize = args.next().and_then(|w| w.parse().ok()).unwrap_or(2);
    HttpServer::new(|| App::new().service(check)).workers(workers).bind(bind)?.run().await
}
