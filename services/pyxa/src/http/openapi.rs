//! The OpenAPI document, generated from the handlers and types (`utoipa`). The committed copy
//! (`services/pyxa/openapi.json`) is checked against it by a test, so an API change shows up in
//! review.

use std::sync::LazyLock;

use utoipa::OpenApi;

use super::{answers, ask, collections, conversations, documents, errors, health, items, keys, openai, search, views};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "pyxa",
        description = "Answers questions about photos and text, grounded in what it knows. Every error is `{\"error\": {\"code\", \"message\"}}` with a stable code; 429, 503 and 504 carry `Retry-After`; a request body that arrives too slowly is 408. When the server has API keys, every `/v1` route needs one (`Authorization: Bearer KEY` or `X-Api-Key`): 401 without a valid key, 403 outside its scopes or collections.",
        license(name = "Apache-2.0")
    ),
    paths(
        health::health, health::prometheus, health::openapi_json,
        collections::list_collections, collections::create_collection, collections::get_collection, collections::update_collection, collections::delete_collection,
        items::list_items, items::add_item, items::get_item, items::delete_item, items::get_blob, items::get_thumbnail,
        documents::list_documents, documents::add_document, documents::get_document, documents::delete_document,
        search::search,
        ask::ask,
        answers::feedback,
        conversations::list_conversations, conversations::get_conversation,
        openai::chat_completions, openai::list_models,
        keys::create_key, keys::list_keys, keys::revoke_key,
    ),
    components(schemas(errors::ErrorBody, views::EvidenceView)),
    tags(
        (name = "answers", description = "Questions, answers and feedback"),
        (name = "collections", description = "Collections of labelled photos and texts"),
        (name = "items", description = "Items and their photos"),
        (name = "documents", description = "Documents (.txt, .md, .html, .pdf) split into passages"),
        (name = "search", description = "Similarity search"),
        (name = "conversations", description = "Conversation history"),
        (name = "openai", description = "OpenAI-compatible endpoints"),
        (name = "keys", description = "API keys (admin): scopes read, ask, write, teach, admin; optionally limited to collections"),
        (name = "operations", description = "Health, metrics, this document"),
    )
)]
pub struct ApiDoc;

static DOCUMENT: LazyLock<String> = LazyLock::new(|| {
    let mut doc = ApiDoc::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_string();
    doc.to_pretty_json().unwrap_or_else(|_| "{}".into())
});

/// The document as served at `/openapi.json`.
pub fn document_json() -> &'static str {
    &DOCUMENT
}
