//! Items of a collection and their photos: `/v1/collections/{c}/items[/{id}]`, `/v1/blobs/...`.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use pyxa_core::ErrorCode;
use pyxa_engine::ItemInput;
use serde::Deserialize;
use serde_json::Value;

use super::errors::{ApiResult, ErrorBody};
use super::forms::{json_object, read_upload};
use super::views::{ItemPage, ItemView};
use super::{get_or_head, metrics, resource, AppState};

const DEFAULT_PAGE: i64 = 50;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/collections/{collection}/items").route(get_or_head().to(list_items)).route(web::post().to(add_item)))
        .service(
            resource("/collections/{collection}/items/{id}")
                .route(get_or_head().to(get_item))
                .route(web::delete().to(delete_item)),
        )
        .service(resource("/blobs/{hash}").route(get_or_head().to(get_blob)))
        .service(resource("/blobs/{hash}/thumbnail").route(get_or_head().to(get_thumbnail)));
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// 1-500, default 50.
    #[serde(default = "default_limit")]
    limit: i64,
    #[serde(default)]
    offset: i64,
    /// Only items with this label.
    label: Option<String>,
}

fn default_limit() -> i64 {
    DEFAULT_PAGE
}

/// The fields of a new item (multipart form fields, or JSON with `image_base64`).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct ItemFields {
    pub label: Option<String>,
    pub text: Option<String>,
    /// A JSON object (as text in a multipart form), at most 16 KiB.
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Value>,
    pub tenant: Option<String>,
}

/// Multipart body of a new item: an `image` file and/or `text`, with an optional `label`.
#[derive(Deserialize, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct ItemMultipart {
    #[serde(flatten)]
    fields: ItemFields,
    #[schema(value_type = String, format = Binary)]
    image: Option<Vec<u8>>,
}

/// JSON body of a new item.
#[derive(Deserialize, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct ItemJson {
    #[serde(flatten)]
    fields: ItemFields,
    /// The photo, base64 or a `data:` URL.
    image_base64: Option<String>,
}

#[utoipa::path(get, path = "/v1/collections/{collection}/items", tag = "items", summary = "A page of items, newest first",
    params(("collection" = String, Path), ListQuery),
    responses((status = 200, body = ItemPage), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_items(
    state: web::Data<AppState>,
    path: web::Path<String>,
    q: web::Query<ListQuery>,
) -> ApiResult<HttpResponse> {
    let (items, total) = state.kb.list_items(&path, q.label.as_deref(), q.limit, q.offset).await?;
    Ok(HttpResponse::Ok().json(ItemPage { items: items.iter().map(ItemView::from).collect(), total }))
}

#[utoipa::path(post, path = "/v1/collections/{collection}/items", tag = "items",
    summary = "Add a labelled photo and/or text",
    description = "Acknowledged (201) only once the item is stored and indexed. The same content twice is 409 `duplicate_item`.",
    params(("collection" = String, Path)),
    request_body(content((ItemMultipart = "multipart/form-data"), (ItemJson = "application/json"))),
    responses(
        (status = 201, body = ItemView),
        (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "Already in the collection", body = ErrorBody),
        (status = 413, body = ErrorBody),
        (status = 415, body = ErrorBody),
    ))]
pub async fn add_item(
    state: web::Data<AppState>,
    path: web::Path<String>,
    req: HttpRequest,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    // Check the collection before reading a possibly large upload.
    state.kb.collection(&path).await?;
    let upload = read_upload::<ItemFields>(&req, payload, state.limits.max_upload_bytes).await?;
    let fields = upload.body;
    let input = ItemInput {
        image: upload.image,
        text: fields.text,
        label: fields.label,
        metadata: json_object(fields.metadata, ErrorCode::InvalidMetadata, "metadata")?,
        tenant: fields.tenant,
    };
    // Once the upload is received it is finished (or rolled back) even if the client leaves.
    let kb = state.kb.clone();
    let collection = path.into_inner();
    let item = super::detached(async move { kb.add_item(&collection, input).await }).await?;
    metrics::ITEMS_INGESTED.inc();
    Ok(HttpResponse::Created().json(ItemView::from(&item)))
}

#[utoipa::path(get, path = "/v1/collections/{collection}/items/{id}", tag = "items", summary = "One item",
    params(("collection" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = ItemView), (status = 404, body = ErrorBody)))]
pub async fn get_item(state: web::Data<AppState>, path: web::Path<(String, String)>) -> ApiResult<HttpResponse> {
    let (collection, id) = path.into_inner();
    Ok(HttpResponse::Ok().json(ItemView::from(&state.kb.get_item(&collection, &id).await?)))
}

#[utoipa::path(delete, path = "/v1/collections/{collection}/items/{id}", tag = "items", summary = "Delete an item",
    params(("collection" = String, Path), ("id" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete_item(state: web::Data<AppState>, path: web::Path<(String, String)>) -> ApiResult<HttpResponse> {
    let (collection, id) = path.into_inner();
    state.kb.delete_item(&collection, &id).await?;
    Ok(HttpResponse::NoContent().finish())
}

fn immutable(bytes: Vec<u8>, mime: &str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(mime)
        .insert_header((header::CACHE_CONTROL, "public, max-age=31536000, immutable"))
        .body(bytes)
}

#[utoipa::path(get, path = "/v1/blobs/{hash}", tag = "items", summary = "A stored photo (original bytes)",
    params(("hash" = String, Path, description = "sha256 of the photo")),
    responses((status = 200, description = "The photo", content_type = "application/octet-stream"), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_blob(state: web::Data<AppState>, path: web::Path<String>) -> ApiResult<HttpResponse> {
    let (bytes, mime) = state.kb.image_original(&path).await?;
    Ok(immutable(bytes, &mime))
}

#[utoipa::path(get, path = "/v1/blobs/{hash}/thumbnail", tag = "items", summary = "A stored photo's 256 px JPEG thumbnail",
    params(("hash" = String, Path, description = "sha256 of the photo")),
    responses((status = 200, description = "JPEG", content_type = "image/jpeg"), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_thumbnail(state: web::Data<AppState>, path: web::Path<String>) -> ApiResult<HttpResponse> {
    Ok(immutable(state.kb.image_thumbnail(&path).await?, "image/jpeg"))
}
