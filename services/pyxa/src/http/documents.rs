//! Documents of a collection: `/v1/collections/{c}/documents[/{id}]`. A document's passages are
//! items of kind `passage`; deleting the document deletes them.

use actix_web::{web, HttpRequest, HttpResponse};
use pyxa_engine::kb::MAX_DOCUMENT_BYTES;

use super::errors::{ApiResult, ErrorBody};
use super::forms::read_one_file;
use super::views::{DocumentList, DocumentView};
use super::{get_or_head, metrics, resource, AppState};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        resource("/collections/{collection}/documents")
            .route(get_or_head().to(list_documents))
            .route(web::post().to(add_document)),
    )
    .service(
        resource("/collections/{collection}/documents/{id}")
            .route(get_or_head().to(get_document))
            .route(web::delete().to(delete_document)),
    );
}

/// Multipart body of a new document: one `file` part whose file name tells its type.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct DocumentMultipart {
    /// A `.txt`, `.md`, `.html` or `.pdf` file (UTF-8, UTF-16 or GB18030 text), at most 20 MiB.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

#[utoipa::path(get, path = "/v1/collections/{collection}/documents", tag = "documents", summary = "The collection's documents, newest first",
    params(("collection" = String, Path)),
    responses((status = 200, body = DocumentList), (status = 404, body = ErrorBody)))]
pub async fn list_documents(state: web::Data<AppState>, path: web::Path<String>) -> ApiResult<HttpResponse> {
    let documents = state.kb.list_documents(&path).await?;
    Ok(HttpResponse::Ok().json(DocumentList { documents: documents.iter().map(DocumentView::from).collect() }))
}

#[utoipa::path(post, path = "/v1/collections/{collection}/documents", tag = "documents",
    summary = "Add a document (.txt, .md, .html, .pdf)",
    description = "The text is extracted, split into passages of about a paragraph (by the text encoder's tokens, overlapping), \
        and each passage is embedded and indexed as an item of kind `passage`. Acknowledged (201) once every passage is searchable. \
        The same file twice is 409 `duplicate_document`.",
    params(("collection" = String, Path)),
    request_body(content((DocumentMultipart = "multipart/form-data"))),
    responses(
        (status = 201, body = DocumentView),
        (status = 400, description = "`invalid_document`, `empty_document`, `invalid_multipart`", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "Already in the collection", body = ErrorBody),
        (status = 413, description = "`document_too_large`", body = ErrorBody),
        (status = 415, description = "`unsupported_document`", body = ErrorBody),
    ))]
pub async fn add_document(
    state: web::Data<AppState>,
    path: web::Path<String>,
    req: HttpRequest,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    // Check the collection before reading a possibly large upload.
    state.kb.collection(&path).await?;
    let file = read_one_file(&req, payload, "file", MAX_DOCUMENT_BYTES).await?;
    // Once the upload is received it is finished (or rolled back) even if the client leaves.
    let kb = state.kb.clone();
    let collection = path.into_inner();
    let document = super::detached(async move { kb.add_document(&collection, &file.file_name, file.bytes).await }).await?;
    metrics::ITEMS_INGESTED.inc_by(document.passages.max(0) as u64);
    Ok(HttpResponse::Created().json(DocumentView::from(&document)))
}

#[utoipa::path(get, path = "/v1/collections/{collection}/documents/{id}", tag = "documents", summary = "One document",
    params(("collection" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = DocumentView), (status = 404, body = ErrorBody)))]
pub async fn get_document(state: web::Data<AppState>, path: web::Path<(String, String)>) -> ApiResult<HttpResponse> {
    let (collection, id) = path.into_inner();
    Ok(HttpResponse::Ok().json(DocumentView::from(&state.kb.get_document(&collection, &id).await?)))
}

#[utoipa::path(delete, path = "/v1/collections/{collection}/documents/{id}", tag = "documents",
    summary = "Delete a document and its passages",
    params(("collection" = String, Path), ("id" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete_document(state: web::Data<AppState>, path: web::Path<(String, String)>) -> ApiResult<HttpResponse> {
    let (collection, id) = path.into_inner();
    state.kb.delete_document(&collection, &id).await?;
    Ok(HttpResponse::NoContent().finish())
}
