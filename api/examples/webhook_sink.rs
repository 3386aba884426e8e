//! A webhook receiver for the delivery benchmark: accepts any POST and
//! answers 204, with nothing else (no verification, no storage).
//!
//!   cargo run --release -p api --example webhook_sink -- 127.0.0.1:18311 1

use actix_web::{App, HttpResponse, HttpServer, web};

async fn receive(_body: web::Bytes) -> HttpResponse {
    HttpResponse::NoContent().finish()
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let bind = args.next().unwrap_or_else(|| "127.0.0.1:18311".into());
    let workers: usize = args.next().and_then(|w| w.parse().ok()).unwrap_or(1);
    HttpServer::new(|| App::new().default_service(web::post().to(receive))).workers(workers).bind(bind)?.run().await
}
