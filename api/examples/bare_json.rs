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

/// Parses the request like the real endpoint, then answers a constant decision.
#[post("/check")]
async fn check(_body: web::Json<Check>) -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"allowed": true, "missing": []}))
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let bind = args.next().unwrap_or_else(|| "127.0.0.1:18301".into());
    let workers: usize = args.next().and_then(|w| w.parse().ok()).unwrap_or(2);
    HttpServer::new(|| App::new().service(check)).workers(workers).bind(bind)?.run().await
}
