//! The contract as this deployment serves it: `/openapi.json` names the
//! deployment's own public URL as its server (the committed file keeps a
//! relative `/`, so generated clients and "Try it out" work wherever Roster
//! runs), and `/docs` is Swagger UI bundled in the binary, titled with the
//! product's name, with no call to the public validator and no "Explore" bar.

use std::sync::Arc;

use actix_web::{HttpResponse, web};
use utoipa::openapi::OpenApi;
use utoipa::openapi::server::Server;
use utoipa_swagger_ui::{Config, SwaggerUi};

const DOCUMENT_PATH: &str = "/openapi.json";

/// The served document and UI page, rendered once at startup.
#[derive(Clone)]
pub struct Docs {
    document: web::Bytes,
    page: web::Bytes,
}

impl Docs {
    /// The document as served by a deployment at `public_url` whose
    /// product is called `product` (the document's title names it).
    pub fn new(document: &OpenApi, public_url: &str, product: &str) -> Result<Self, serde_json::Error> {
        let mut served = document.clone();
        served.servers = Some(vec![Server::new(public_url.trim_end_matches('/'))]);
        served.info.title = product.to_owned();
        Ok(Self { document: serde_json::to_vec(&served)?.into(), page: index_page(product) })
    }

    /// Registers `/openapi.json`, `/docs` and the UI's assets.
    pub fn configure(&self, cfg: &mut web::ServiceConfig) {
        let document = self.document.clone();
        let page = self.page.clone();
        let document = move || {
            let body = document.clone();
            async move { HttpResponse::Ok().content_type("application/json").body(body) }
        };
        let page = move || {
            let body = page.clone();
            async move { HttpResponse::Ok().content_type("text/html; charset=utf-8").body(body) }
        };
        cfg.route(DOCUMENT_PATH, web::get().to(document))
            // Before the UI's catch-all, so that the page carries the title.
            .route("/docs/", web::get().to(page.clone()))
            .route("/docs/index.html", web::get().to(page))
            .service(SwaggerUi::new("/docs/{_:.*}").config(ui_config()))
            .service(web::redirect("/docs", "/docs/"));
    }
}

fn ui_config() -> Config<'static> {
    Config::new([DOCUMENT_PATH]).validator_url("none").use_base_layout()
}

/// Swagger UI's own page, titled "<product> API" instead of "Swagger UI".
fn index_page(title: &str) -> web::Bytes {
    let page = utoipa_swagger_ui::serve("index.html", Arc::new(ui_config()))
        .ok()
        .flatten()
        .map(|file| String::from_utf8_lossy(&file.bytes).into_owned())
        .unwrap_or_default();
    let title = title.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    page.replace("<title>Swagger UI</title>", &format!("<title>{title} API</title>")).into()
}
