//! The web portal and the API docs page: files of `frontend/`, embedded in the binary.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use pyxa_core::{Error, ErrorCode};
use sha2::{Digest, Sha256};

use super::errors::ApiResult;
use super::{get_or_head, resource};

mod assets {
    include!(concat!(env!("OUT_DIR"), "/frontend_assets.rs"));
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/").route(get_or_head().to(index)))
        .service(resource("/docs").route(get_or_head().to(docs)))
        .service(resource("/{file:[A-Za-z0-9_.-]+}").route(get_or_head().to(file)));
}

async fn index(req: HttpRequest) -> ApiResult<HttpResponse> {
    serve(&req, "index.html")
}

async fn docs(req: HttpRequest) -> ApiResult<HttpResponse> {
    serve(&req, "docs.html")
}

async fn file(req: HttpRequest) -> ApiResult<HttpResponse> {
    let name = req.match_info().get("file").unwrap_or("index.html").to_string();
    serve(&req, &name)
}

fn serve(req: &HttpRequest, name: &str) -> ApiResult<HttpResponse> {
    let (bytes, mime) = assets::get(name).ok_or_else(|| Error::new(ErrorCode::RouteNotFound, format!("no such page {name}")))?;
    let cache = if name.ends_with(".html") { "no-cache" } else { "public, max-age=3600" };
    let etag = format!("\"{}\"", &hex::encode(Sha256::digest(bytes))[..16]);
    if req.headers().get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) == Some(etag.as_str()) {
        return Ok(HttpResponse::NotModified().finish());
    }
    Ok(HttpResponse::Ok()
        .content_type(mime)
        .insert_header((header::CACHE_CONTROL, cache))
        .insert_header((header::ETAG, etag))
        .body(bytes))
}
