//! Feedback on answers: `POST /v1/answers/{id}/feedback` teaches the collection.

use actix_web::{web, HttpResponse};
use pyxa_core::{Error, ErrorCode};
use pyxa_engine::teach::{FeedbackInput, FeedbackOutcome};
use serde::Deserialize;

use super::auth::Caller;
use super::errors::{ApiResult, ErrorBody};
use super::{resource, AppState};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/answers/{id}/feedback").route(web::post().to(feedback)));
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct FeedbackBody {
    /// Whether the answer was right (`true` without a label confirms the top candidate).
    correct: Option<bool>,
    /// The right label: the photo joins the collection with it at once.
    label: Option<String>,
}

#[utoipa::path(post, path = "/v1/answers/{id}/feedback", tag = "answers",
    summary = "Correct or confirm an answer (the photo is learned at once)",
    params(("id" = String, Path, description = "answer_id")),
    request_body = FeedbackBody,
    responses((status = 200, body = FeedbackOutcome), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn feedback(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: web::Json<FeedbackBody>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    // Teaching changes the answer's collection: the key must cover it, and the answer must be
    // in a conversation the key may see (another key's answer is not found).
    if let Some(answer) = state.kb.meta.get_answer(&path).await? {
        caller.check_collection(&answer.collection)?;
        let owner = state.kb.meta.get_conversation(&answer.conversation_id).await?.and_then(|(summary, _)| summary.owner);
        if !caller.sees(owner.as_deref()) {
            return Err(Error::new(ErrorCode::UnknownAnswer, format!("no answer {}", path.as_str())).into());
        }
    }
    let outcome = state.kb.feedback(&path, FeedbackInput { correct: body.correct, label: body.label }).await?;
    Ok(HttpResponse::Ok().json(outcome))
}
