//! Collections: `/v1/collections[/{collection}]`.

use actix_web::{web, HttpResponse};
use pyxa_core::{CollectionSettings, Error, ErrorCode};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::auth::Caller;
use super::errors::{ApiResult, ErrorBody};
use super::views::{CollectionList, CollectionView};
use super::{get_or_head, resource, AppState};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/collections").route(get_or_head().to(list_collections)).route(web::post().to(create_collection)))
        .service(
            resource("/collections/{collection}")
                .route(get_or_head().to(get_collection))
                .route(web::patch().to(update_collection))
                .route(web::delete().to(delete_collection)),
        );
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct NewCollection {
    /// 1-64 characters of a-z, 0-9, _ and -.
    name: String,
    #[serde(default)]
    description: String,
    /// Workspace settings (all optional): `mode` (`chat`/`query`), `system_prompt`,
    /// `temperature` (0-2), `top_k` (evidence items, 1-100), `min_similarity` (0-1).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    settings: Option<CollectionSettings>,
}

/// A change to a collection: a new description and/or settings. Settings are merged: a field
/// given replaces the stored one, a field given as `null` goes back to pyxa's default, a field
/// left out stays.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct CollectionPatch {
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    settings: Option<Map<String, Value>>,
}

/// The stored settings with `patch` applied (JSON merge patch, RFC 7396, one level).
fn merge_settings(current: &CollectionSettings, patch: Map<String, Value>) -> Result<CollectionSettings, Error> {
    let mut merged = match serde_json::to_value(current) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    };
    for (key, value) in patch {
        if value.is_null() {
            merged.remove(&key);
        } else {
            merged.insert(key, value);
        }
    }
    let known = ["mode", "system_prompt", "temperature", "top_k", "min_similarity"];
    if let Some(unknown) = merged.keys().find(|k| !known.contains(&k.as_str())) {
        return Err(Error::new(ErrorCode::InvalidSettings, format!("unknown setting {unknown:?}; known: {}", known.join(", "))));
    }
    serde_json::from_value(Value::Object(merged)).map_err(|e| Error::new(ErrorCode::InvalidSettings, e.to_string()))
}

#[utoipa::path(get, path = "/v1/collections", tag = "collections", summary = "List collections",
    responses((status = 200, body = CollectionList)))]
pub async fn list_collections(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    let collections =
        state.kb.list_collections().await?.into_iter().filter(|c| caller.covers(&c.name)).map(CollectionView::from).collect();
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
    let c = state.kb.create_collection_with(&body.name, &body.description, body.settings.as_ref()).await?;
    Ok(HttpResponse::Created().json(CollectionView::from(c)))
}

#[utoipa::path(get, path = "/v1/collections/{collection}", tag = "collections", summary = "One collection",
    params(("collection" = String, Path, description = "Collection name")),
    responses((status = 200, body = CollectionView), (status = 404, body = ErrorBody)))]
pub async fn get_collection(state: web::Data<AppState>, path: web::Path<String>) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(CollectionView::from(state.kb.collection(&path).await?)))
}

#[utoipa::path(patch, path = "/v1/collections/{collection}", tag = "collections",
    summary = "Change a collection's description and workspace settings",
    description = "Settings are merged: a field given replaces the stored one, `null` restores the default, a field left out stays.",
    params(("collection" = String, Path, description = "Collection name")),
    request_body = CollectionPatch,
    responses((status = 200, body = CollectionView), (status = 400, description = "`invalid_settings`", body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn update_collection(
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Json<CollectionPatch>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    let current = state.kb.collection(&path).await?;
    let settings = match body.settings {
        Some(patch) => Some(merge_settings(&current.settings, patch)?),
        None => None,
    };
    let c = state.kb.update_collection(&path, body.description.as_deref(), settings.as_ref()).await?;
    Ok(HttpResponse::Ok().json(CollectionView::from(c)))
}

#[utoipa::path(delete, path = "/v1/collections/{collection}", tag = "collections",
    summary = "Delete a collection and its items (not `default`)",
    params(("collection" = String, Path, description = "Collection name")),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, description = "The default collection", body = ErrorBody)))]
pub async fn delete_collection(state: web::Data<AppState>, path: web::Path<String>) -> ApiResult<HttpResponse> {
    state.kb.delete_collection(&path).await?;
    Ok(HttpResponse::NoContent().finish())
}
