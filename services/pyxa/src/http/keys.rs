//! API keys: `/v1/keys[/{id}]` (admin only). A key is shown once, in the answer that creates it.

use actix_web::{web, HttpResponse};
use pyxa_core::keys::{generate, ApiKey, Scope};
use serde::{Deserialize, Serialize};

use super::errors::{ApiResult, ErrorBody};
use super::{get_or_head, resource, AppState};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/keys").route(get_or_head().to(list_keys)).route(web::post().to(create_key)))
        .service(resource("/keys/{id}").route(web::delete().to(revoke_key)));
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewKey {
    /// Any of `read`, `ask`, `write`, `teach`, `admin`.
    scopes: Vec<String>,
    /// The collections the key may use; left out: all of them.
    #[serde(default)]
    collections: Option<Vec<String>>,
}

/// A key as listed: never its secret.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct KeyView {
    pub id: String,
    /// Its first characters, to tell keys apart.
    pub prefix: String,
    pub scopes: Vec<String>,
    /// `null`: every collection.
    pub collections: Option<Vec<String>>,
    pub created_at: i64,
}

impl From<ApiKey> for KeyView {
    fn from(k: ApiKey) -> Self {
        Self {
            id: k.id,
            prefix: k.prefix,
            scopes: k.scopes.iter().map(|s| s.as_str().to_string()).collect(),
            collections: k.collections,
            created_at: k.created_at,
        }
    }
}

/// A new key: the one time its secret is shown.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CreatedKey {
    /// The key to send as `Authorization: Bearer KEY`; not stored, not shown again.
    pub key: String,
    #[serde(flatten)]
    pub view: KeyView,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct KeyList {
    pub keys: Vec<KeyView>,
}

/// Makes and stores a key (its hash only); shared by the route and `pyxa keys create`.
pub async fn create(
    meta: &dyn pyxa_core::MetadataStore,
    scopes: &[String],
    collections: Option<Vec<String>>,
) -> pyxa_core::Result<CreatedKey> {
    let scopes = scopes.iter().map(|s| Scope::parse(s)).collect::<pyxa_core::Result<Vec<_>>>()?;
    let (key, stored) = generate(scopes, collections)?;
    let view = meta.insert_api_key(&stored).await?.into();
    Ok(CreatedKey { key, view })
}

#[utoipa::path(post, path = "/v1/keys", tag = "keys", summary = "Create an API key (admin)",
    request_body = NewKey,
    responses((status = 201, body = CreatedKey), (status = 400, description = "Unknown scope", body = ErrorBody),
        (status = 401, description = "No valid key", body = ErrorBody), (status = 403, description = "Not an admin key", body = ErrorBody)))]
pub async fn create_key(state: web::Data<AppState>, body: web::Json<NewKey>) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    let created = create(state.kb.meta.as_ref(), &body.scopes, body.collections).await?;
    Ok(HttpResponse::Created().json(created))
}

#[utoipa::path(get, path = "/v1/keys", tag = "keys", summary = "List API keys (admin; never their secrets)",
    responses((status = 200, body = KeyList), (status = 403, description = "Not an admin key", body = ErrorBody)))]
pub async fn list_keys(state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let keys = state.kb.meta.list_api_keys().await?.into_iter().map(KeyView::from).collect();
    Ok(HttpResponse::Ok().json(KeyList { keys }))
}

#[utoipa::path(delete, path = "/v1/keys/{id}", tag = "keys", summary = "Revoke an API key (admin)",
    params(("id" = String, Path, description = "The key's id")),
    responses((status = 204, description = "Revoked"), (status = 404, description = "No such key", body = ErrorBody)))]
pub async fn revoke_key(state: web::Data<AppState>, id: web::Path<String>) -> ApiResult<HttpResponse> {
    state.kb.meta.revoke_api_key(&id).await?;
    Ok(HttpResponse::NoContent().finish())
}
