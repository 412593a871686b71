//! `POST /v1/search`: nearest items to a photo and/or a text.

use actix_web::{web, HttpRequest, HttpResponse};
use pyxa_core::{Error, ErrorCode, PayloadFilter};
use pyxa_engine::kb::SearchQuery;
use pyxa_engine::{DEFAULT_COLLECTION, MAX_TOP_K};
use serde::Deserialize;
use serde_json::Value;

use super::auth::Caller;
use super::errors::{ApiResult, ErrorBody};
use super::forms::{json_object, non_empty, read_upload, Loose};
use super::views::{HitView, SearchResults};
use super::{resource, AppState};

const DEFAULT_SEARCH_TOP_K: usize = 10;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/search").route(web::post().to(search)));
}

/// The fields of a search (multipart form fields, or JSON with `image_base64`).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct SearchFields {
    pub text: Option<String>,
    /// Default: `default`.
    pub collection: Option<String>,
    /// 1-100, default 10.
    #[schema(value_type = Option<u32>)]
    pub top_k: Option<Loose>,
    /// `{"label": ..., "kind": "image"|"text"|"image_text", "tenant": ...}` (as text in a form).
    #[schema(value_type = Option<Object>)]
    pub filter: Option<Value>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct SearchMultipart {
    #[serde(flatten)]
    fields: SearchFields,
    #[schema(value_type = String, format = Binary)]
    image: Option<Vec<u8>>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct SearchJson {
    #[serde(flatten)]
    fields: SearchFields,
    image_base64: Option<String>,
}

#[utoipa::path(post, path = "/v1/search", tag = "search", summary = "Nearest items to a photo and/or a text",
    request_body(content((SearchMultipart = "multipart/form-data"), (SearchJson = "application/json"))),
    responses((status = 200, body = SearchResults), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 415, body = ErrorBody)))]
pub async fn search(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    let upload = read_upload::<SearchFields>(&req, payload, state.limits.max_upload_bytes).await?;
    let fields = upload.body;
    let filter: PayloadFilter = match json_object(fields.filter, ErrorCode::InvalidFilter, "filter")? {
        Some(v) => serde_json::from_value(v).map_err(|e| Error::new(ErrorCode::InvalidFilter, format!("filter: {e}")))?,
        None => PayloadFilter::default(),
    };
    let query = SearchQuery {
        collection: non_empty(fields.collection).unwrap_or_else(|| DEFAULT_COLLECTION.to_string()),
        text: fields.text,
        image: upload.image,
        top_k: Loose::count(fields.top_k.as_ref(), "top_k", DEFAULT_SEARCH_TOP_K, MAX_TOP_K, ErrorCode::InvalidTopK)?,
        filter,
    };
    caller.check_collection(&query.collection)?;
    let result = state.kb.search(query).await?;
    Ok(HttpResponse::Ok().json(SearchResults { hits: result.hits.iter().map(HitView::from).collect(), took_ms: result.took_ms }))
}
