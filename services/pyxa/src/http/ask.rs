//! `POST /v1/ask`: a question about a photo and/or text, answered as JSON or streamed (SSE).

use actix_web::{web, HttpRequest, HttpResponse};
use futures::StreamExt;
use pyxa_core::text::Language;
use pyxa_core::{Error, ErrorCode};
use pyxa_engine::answer::events::AskEvent;
use pyxa_engine::answer::DEFAULT_ASK_TOP_K;
use pyxa_engine::{AskRequest, AskService, Mode, DEFAULT_COLLECTION, MAX_TOP_K};
use serde::Deserialize;
use tokio::sync::mpsc;

use super::auth::Caller;
use super::errors::{error_body, ApiResult, ErrorBody};
use super::forms::{non_empty, read_upload, Loose};
use super::sse::{sse_response, SseEvent};
use super::views::{AskResponseView, EvidenceView};
use super::{metrics, resource, AppState};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/ask").route(web::post().to(ask)));
}

/// The fields of an ask, as JSON (with `image_base64`) or as multipart form fields (with an
/// `image` file part).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct AskFields {
    /// The question; optional with a photo ("what is this?").
    pub prompt: Option<String>,
    /// Default: `default`.
    pub collection: Option<String>,
    /// `chat` (model knowledge plus evidence, default) or `query` (evidence only).
    pub mode: Option<String>,
    /// How many pieces of evidence to retrieve (1-100, default 5).
    #[schema(value_type = Option<u32>)]
    pub top_k: Option<Loose>,
    /// Continue a conversation: a follow-up without a photo is about its last photo.
    pub conversation_id: Option<String>,
    /// Answer language, `en` or `zh` (default: the question's).
    pub lang: Option<String>,
    /// Server-Sent Events: `evidence`, `token`..., then `done` (or `error`).
    #[schema(value_type = Option<bool>)]
    pub stream: Option<Loose>,
}

/// JSON body of an ask.
#[derive(Deserialize, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct AskJson {
    #[serde(flatten)]
    fields: AskFields,
    /// The photo, base64 or a `data:` URL.
    image_base64: Option<String>,
}

/// Multipart body of an ask.
#[derive(Deserialize, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct AskMultipart {
    #[serde(flatten)]
    fields: AskFields,
    /// The photo file.
    #[schema(value_type = String, format = Binary)]
    image: Option<Vec<u8>>,
}

fn ask_request(fields: AskFields, image: Option<Vec<u8>>) -> Result<(AskRequest, bool), Error> {
    let language = match non_empty(fields.lang) {
        Some(l) => Some(Language::parse(&l).ok_or_else(|| Error::new(ErrorCode::InvalidLanguage, "lang must be en or zh"))?),
        None => None,
    };
    let request = AskRequest {
        prompt: fields.prompt,
        image,
        collection: non_empty(fields.collection).unwrap_or_else(|| DEFAULT_COLLECTION.to_string()),
        mode: non_empty(fields.mode).map(|m| Mode::parse(&m)).transpose()?,
        top_k: match fields.top_k.as_ref() {
            Some(k) => Some(Loose::count(Some(k), "top_k", DEFAULT_ASK_TOP_K, MAX_TOP_K, ErrorCode::InvalidTopK)?),
            None => None,
        },
        conversation_id: non_empty(fields.conversation_id),
        language,
        prior_turns: Vec::new(),
        owner: None,
    };
    Ok((request, Loose::flag(fields.stream.as_ref())))
}

#[utoipa::path(
    post, path = "/v1/ask", tag = "answers",
    summary = "Ask a question about a photo and/or text",
    description = "Answers with the most probable candidates (with probabilities), the evidence it cites [n] and a short answer. With `stream=true` the response is Server-Sent Events: `evidence`, then `token` events, then `done` with the whole response (or `error`).",
    request_body(content(
        (AskMultipart = "multipart/form-data"),
        (AskJson = "application/json"),
    )),
    responses(
        (status = 200, description = "The answer (or an event stream)", body = AskResponseView),
        (status = 400, description = "Bad question", body = ErrorBody),
        (status = 404, description = "Unknown collection or conversation", body = ErrorBody),
        (status = 413, description = "Photo too large", body = ErrorBody),
        (status = 415, description = "Not an image", body = ErrorBody),
        (status = 429, description = "Busy: retry after `Retry-After` seconds", body = ErrorBody),
        (status = 503, description = "The LLM server is unavailable (Retry-After)", body = ErrorBody),
    )
)]
pub async fn ask(state: web::Data<AppState>, caller: Caller, req: HttpRequest, payload: web::Payload) -> ApiResult<HttpResponse> {
    let upload = read_upload::<AskFields>(&req, payload, state.limits.max_upload_bytes).await?;
    let (mut request, stream) = ask_request(upload.body, upload.image)?;
    caller.check_collection(&request.collection)?;
    request.owner = caller.key_id();
    if !stream {
        let response = state.answers.ask(request, None).await?;
        metrics::ASKS.inc();
        return Ok(HttpResponse::Ok().json(AskResponseView::from(&response)));
    }
    // Fail fast on what can be checked before committing to a 200 event stream.
    state.kb.collection(&request.collection).await?;
    if let Some(bytes) = request.image.as_deref().filter(|b| !b.is_empty()) {
        state.kb.images.probe(bytes)?;
    }
    Ok(stream_answer(state.answers.clone(), request))
}

/// Runs the pipeline in its own task and streams its events, then the final response.
fn stream_answer(answers: AskService, request: AskRequest) -> HttpResponse {
    let (tx, rx) = mpsc::channel::<AskEvent>(1024);
    let task = tokio::spawn(async move { answers.ask(request, Some(tx)).await });
    let events = futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|e| (e, rx)) }).map(|event| match event {
        AskEvent::Evidence(e) => SseEvent::named("evidence", &EvidenceView::from(&e)),
        AskEvent::Token(text) => SseEvent::named("token", &serde_json::json!({ "text": text })),
    });
    let last = futures::stream::once(async move {
        match task.await {
            Ok(Ok(response)) => {
                metrics::ASKS.inc();
                SseEvent::named("done", &AskResponseView::from(&response))
            }
            Ok(Err(e)) => {
                metrics::record_error(&e.code);
                SseEvent::named("error", &error_body(&e).error)
            }
            Err(join) => SseEvent::named("error", &error_body(&Error::internal("ask task").with_source(join)).error),
        }
    });
    sse_response(events.chain(last))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_fields_become_a_typed_request() {
        let fields: AskFields = serde_json::from_value(
            serde_json::json!({"prompt": "hi", "top_k": "7", "stream": "true", "lang": "zh", "mode": "query"}),
        )
        .unwrap();
        let (req, stream) = ask_request(fields, None).unwrap();
        assert_eq!((req.top_k, stream, req.mode, req.language), (Some(7), true, Some(Mode::Query), Some(Language::Zh)));
        assert_eq!(req.collection, "default");
        let fields: AskFields = serde_json::from_value(serde_json::json!({"top_k": 0})).unwrap();
        assert_eq!(ask_request(fields, None).unwrap_err().code, "invalid_top_k");
        let fields: AskFields = serde_json::from_value(serde_json::json!({"lang": "fr"})).unwrap();
        assert_eq!(ask_request(fields, None).unwrap_err().code, "invalid_language");
    }
}
