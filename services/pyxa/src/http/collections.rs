//! Collections: `/v1/collections[/{collection}]`.

use actix_web::{web, HttpResponse};
use serde::Deserialize;

use super::errors::{ApiResult, ErrorBody};
use super::views::{CollectionList, CollectionView};
use super::{get_or_head, resource, AppState};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/collections").route(get_or_head().to(list_collections)).route(web::post().to(create_collection)))
        .service(
            resource("/collections/{collection}")
                .route(get_or_head().to(get_collection))
                .route(web::delete().to(delete_collection)),
        );
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct NewCollection {
    /// 1-64 characters of a-z, 0-9, _ and -.
    name: String,
    #[serde(default)]
    description: String,
}

#[utoipa::path(get, path = "/v1/collections", tag = "collections", summary = "List collections",
    responses((status = 200, body = CollectionList)))]
pub async fn list_collections(state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let collections = state.kb.list_collections().await?.into_iter().map(CollectionView::from).collect();
    Ok(HttpResponse::Ok().json(CollectionList { collections }))
}

#[utoipa::path(post, path = "/v1/collections", tag = "collections", summary = "Create a collection",
    request_body = NewCollection,
    responses(
        (status = 201, body = CollectionView),
        (status = 400, description = "Bad name", body = ErrorBody),
        (status = 409, description = "Exists already", body = ErrorBody),
    ))]
pub async fn create_collection(state: web::Data<AppState>, body: web::Json<NewCollection>) -> ApiResult<HttpResponse> {
    let c = state.kb.create_collection(&body.name, &body.description).await?;
    Ok(HttpResponse::Created().json(CollectionView::from(c)))
}

#[utoipa::path(get, path = "/v1/collections/{collection}", tag = "collections", summary = "One collection",
    params(("collection" = String, Path, description = "Collection name")),
    responses((status = 200, body = CollectionView), (status = 404, body = ErrorBody)))]
pub async fn get_collection(state: web::Data<AppState>, path: web::Path<String>) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(CollectionView::from(state.kb.collection(&path).await?)))
}

#[utoipa::path(delete, path = "/v1/collections/{collection}", tag = "collections",
    summary = "Delete a collection and its items (not `default`)",
    params(("collection" = String, Path, description = "Collection name")),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, description = "The default collection", body = ErrorBody)))]
pub async fn delete_collection(state: web::Data<AppState>, path: web::Path<String>) -> ApiResult<HttpResponse> {
    state.kb.delete_collection(&path).await?;
    Ok(HttpResponse::NoContent().finish())
}
