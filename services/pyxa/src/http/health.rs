//! Operations: `/health` (models, execution providers and stores really in use), `/metrics`
//! (Prometheus) and `/openapi.json`.

use actix_web::http::header::ContentType;
use actix_web::{web, HttpResponse};
use pyxa_core::{EncoderInfo, GeneratorInfo, VectorStoreHealth, VectorStoreInfo};
use serde::Serialize;

use super::{get_or_head, metrics, openapi, resource, AppState};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/health").route(get_or_head().to(health)))
        .service(resource("/metrics").route(get_or_head().to(prometheus)))
        .service(resource("/openapi.json").route(get_or_head().to(openapi_json)));
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Health {
    /// `ok` when pyxa answers.
    status: &'static str,
    version: &'static str,
    models: ModelsHealth,
    #[schema(value_type = Option<Object>)]
    generator: Option<GeneratorInfo>,
    stores: StoresHealth,
}

#[derive(Serialize, utoipa::ToSchema)]
struct ModelsHealth {
    #[schema(value_type = Object)]
    encoder: EncoderInfo,
    /// The ONNX Runtime execution providers actually running the sessions.
    execution_providers: Vec<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
struct StoresHealth {
    /// `backend`, `location`, and on a Qdrant server or cluster `status` (`ok`, `degraded`:
    /// serving with a peer unreachable or a replica not active, `unavailable`) with `problems`.
    #[schema(value_type = Object)]
    vectors: VectorsHealth,
    #[schema(value_type = Object)]
    sql: SqlHealth,
}

#[derive(Serialize)]
struct VectorsHealth {
    #[serde(flatten)]
    info: VectorStoreInfo,
    #[serde(flatten)]
    health: VectorStoreHealth,
}

#[derive(Serialize)]
struct SqlHealth {
    backend: &'static str,
}

#[utoipa::path(get, path = "/health", tag = "operations", summary = "Models, providers and stores in use",
    responses((status = 200, body = Health)))]
pub async fn health(state: web::Data<AppState>) -> HttpResponse {
    let encoder = state.kb.encoder.info();
    HttpResponse::Ok().json(Health {
        status: "ok",
        version: env!("CARGO_PKG_VERSION"),
        models: ModelsHealth { execution_providers: encoder.providers.clone(), encoder },
        generator: state.answers.generator.as_ref().map(|g| g.info()),
        stores: StoresHealth {
            vectors: VectorsHealth { info: state.kb.vectors.info(), health: state.kb.vectors.health().await },
            sql: SqlHealth { backend: state.kb.meta.backend() },
        },
    })
}

#[utoipa::path(get, path = "/metrics", tag = "operations", summary = "Prometheus metrics",
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain")))]
pub async fn prometheus() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain; version=0.0.4").body(metrics::render())
}

#[utoipa::path(get, path = "/openapi.json", tag = "operations", summary = "This document",
    responses((status = 200, description = "OpenAPI 3.1", content_type = "application/json")))]
pub async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok().content_type(ContentType::json()).body(openapi::document_json())
}
