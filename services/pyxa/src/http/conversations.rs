//! Conversations: `/v1/conversations[/{id}]`.

use actix_web::{web, HttpResponse};

use super::errors::{ApiResult, ErrorBody};
use super::views::{ConversationList, ConversationView};
use super::{get_or_head, resource, AppState};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/conversations").route(get_or_head().to(list_conversations)))
        .service(resource("/conversations/{id}").route(get_or_head().to(get_conversation)));
}

#[utoipa::path(get, path = "/v1/conversations", tag = "conversations", summary = "Recent conversations",
    responses((status = 200, body = ConversationList)))]
pub async fn list_conversations(state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(ConversationList { conversations: state.kb.list_conversations().await? }))
}

#[utoipa::path(get, path = "/v1/conversations/{id}", tag = "conversations", summary = "A conversation with its turns",
    params(("id" = String, Path)),
    responses((status = 200, body = ConversationView), (status = 404, body = ErrorBody)))]
pub async fn get_conversation(state: web::Data<AppState>, path: web::Path<String>) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(ConversationView::from(state.kb.conversation(&path).await?)))
}
