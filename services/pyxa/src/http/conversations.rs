//! Conversations: `/v1/conversations[/{id}]`.

use actix_web::{web, HttpResponse};
use pyxa_core::{Error, ErrorCode};

use super::auth::Caller;
use super::errors::{ApiResult, ErrorBody};
use super::views::{ConversationList, ConversationView};
use super::{get_or_head, resource, AppState};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/conversations").route(get_or_head().to(list_conversations)))
        .service(resource("/conversations/{id}").route(get_or_head().to(get_conversation)));
}

#[utoipa::path(get, path = "/v1/conversations", tag = "conversations", summary = "Recent conversations",
    responses((status = 200, body = ConversationList)))]
pub async fn list_conversations(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    let conversations = state
        .kb
        .list_conversations()
        .await?
        .into_iter()
        .filter(|c| caller.covers(&c.collection) && caller.sees(c.owner.as_deref()))
        .collect();
    Ok(HttpResponse::Ok().json(ConversationList { conversations }))
}

#[utoipa::path(get, path = "/v1/conversations/{id}", tag = "conversations", summary = "A conversation with its turns",
    params(("id" = String, Path)),
    responses((status = 200, body = ConversationView), (status = 404, body = ErrorBody)))]
pub async fn get_conversation(state: web::Data<AppState>, caller: Caller, path: web::Path<String>) -> ApiResult<HttpResponse> {
    let conversation = state.kb.conversation(&path).await?;
    if !caller.sees(conversation.summary.owner.as_deref()) {
        return Err(Error::new(ErrorCode::UnknownConversation, format!("no conversation {}", path.as_str())).into());
    }
    caller.check_collection(&conversation.summary.collection)?;
    Ok(HttpResponse::Ok().json(ConversationView::from(conversation)))
}
