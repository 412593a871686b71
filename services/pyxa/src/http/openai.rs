//! OpenAI-compatible chat: `POST /v1/chat/completions` with `image_url` parts (data URLs, and
//! http(s) URLs when allowed). `model` picks the collection (`pyxa` = the default collection).
//! pyxa's evidence travels in extra fields: `citations` and `pyxa`.

use actix_web::{web, HttpResponse};
use pyxa_core::{Error, ErrorCode};
use pyxa_engine::{AskRequest, AskResponse, Mode, DEFAULT_COLLECTION};
use serde::Deserialize;
use serde_json::{json, Value};

use super::auth::Caller;
use super::errors::{ApiResult, ErrorBody};
use super::forms::decode_base64_image;
use super::sse::{sse_response, SseEvent};
use super::views::citations;
use super::{get_or_head, metrics, resource, AppState};

/// Characters per streamed chunk at most (the answer is verified before any of it is sent).
const CHUNK_CHARS: usize = 8;

pub fn configure(cfg: &mut web::ServiceConfig, limits: &super::HttpLimits) {
    cfg.service(
        resource("/chat/completions")
            // Messages may carry a photo as a base64 data URL.
            .app_data(super::errors::json_config(limits.max_photo_body_bytes()))
            .route(web::post().to(chat_completions)),
    )
    .service(resource("/models").route(get_or_head().to(list_models)));
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ChatRequest {
    /// `pyxa` (the default collection) or a collection name (`pyxa:NAME` works too).
    #[serde(default)]
    model: Option<String>,
    messages: Vec<ChatMessageIn>,
    #[serde(default)]
    stream: bool,
    /// pyxa extension: `chat` or `query`.
    #[serde(default)]
    mode: Option<String>,
    /// pyxa extension: the collection, as in `/v1/ask` (then `model` is only echoed back).
    #[serde(default)]
    collection: Option<String>,
}

impl ChatRequest {
    /// The collection asked: `collection` when given, else the one `model` names.
    fn collection(&self) -> String {
        match self.collection.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
            Some(c) => c.to_string(),
            None => collection_for_model(self.model.as_deref()),
        }
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
struct ChatMessageIn {
    role: String,
    /// A string, or parts: `{"type": "text", "text"}` and `{"type": "image_url", "image_url": {"url"}}`.
    #[serde(default)]
    #[schema(value_type = Object)]
    content: Option<Content>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Content {
    Text(String),
    Parts(Vec<Part>),
}

#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Part {
    Text {
        text: String,
    },
    ImageUrl {
        image_url: ImageUrl,
    },
    #[serde(other)]
    Other,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum ImageUrl {
    Object { url: String },
    Plain(String),
}

impl ImageUrl {
    fn url(&self) -> &str {
        match self {
            ImageUrl::Object { url } | ImageUrl::Plain(url) => url,
        }
    }
}

fn collection_for_model(model: Option<&str>) -> String {
    match model.map(str::trim) {
        None | Some("") | Some("pyxa") => DEFAULT_COLLECTION.to_string(),
        Some(m) => m.strip_prefix("pyxa:").or_else(|| m.strip_prefix("pyxa/")).unwrap_or(m).to_string(),
    }
}

/// The last user message's text and the last image any user message carried.
fn question(messages: &[ChatMessageIn]) -> (Option<String>, Option<String>) {
    let mut prompt = None;
    let mut image_url = None;
    for m in messages.iter().filter(|m| m.role == "user") {
        match &m.content {
            Some(Content::Text(t)) => prompt = Some(t.clone()),
            Some(Content::Parts(parts)) => {
                let mut texts = Vec::new();
                for p in parts {
                    match p {
                        Part::Text { text } => texts.push(text.clone()),
                        Part::ImageUrl { image_url: u } => image_url = Some(u.url().to_string()),
                        Part::Other => {}
                    }
                }
                if !texts.is_empty() {
                    prompt = Some(texts.join("\n"));
                }
            }
            None => {}
        }
    }
    (prompt, image_url)
}

/// The text of a message (its text parts joined).
fn message_text(m: &ChatMessageIn) -> Option<String> {
    match &m.content {
        Some(Content::Text(t)) => Some(t.clone()),
        Some(Content::Parts(parts)) => {
            let texts: Vec<&str> = parts
                .iter()
                .filter_map(|p| match p {
                    Part::Text { text } => Some(text.as_str()),
                    _ => None,
                })
                .collect();
            (!texts.is_empty()).then(|| texts.join("\n"))
        }
        None => None,
    }
}

/// The conversation before the last user message: each user message with the assistant
/// message that answered it, so that a follow-up ("What does it usually eat?") is understood.
fn prior_turns(messages: &[ChatMessageIn]) -> Vec<(String, String)> {
    let last_user = messages.iter().rposition(|m| m.role == "user").unwrap_or(0);
    let mut turns = Vec::new();
    let mut pending: Option<String> = None;
    for m in &messages[..last_user] {
        match m.role.as_str() {
            "user" => pending = message_text(m).or(pending.take()),
            "assistant" => {
                if let (Some(q), Some(a)) = (pending.take(), message_text(m)) {
                    turns.push((q, a));
                }
            }
            _ => {}
        }
    }
    turns
}

async fn fetch_image(url: &str, state: &AppState) -> Result<Vec<u8>, Error> {
    if url.starts_with("data:") {
        return decode_base64_image(url);
    }
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(Error::new(ErrorCode::InvalidImageUrl, "image_url must be a data: URL or an http(s) URL"));
    }
    if !state.limits.allow_remote_images {
        return Err(Error::new(
            ErrorCode::RemoteImagesDisabled,
            "image_url must be a data: URL (fetching http(s) images is off; start pyxa with --allow-remote-images)",
        ));
    }
    let limit = state.limits.max_upload_bytes;
    let failed = |e: reqwest::Error| Error::new(ErrorCode::ImageFetchFailed, format!("fetching {url}")).with_source(e);
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(20))
        .build()
        .map_err(|e| Error::internal("http client").with_source(e))?;
    let mut response = client.get(url).send().await.map_err(failed)?;
    if !response.status().is_success() {
        return Err(Error::new(ErrorCode::ImageFetchFailed, format!("fetching {url}: HTTP {}", response.status())));
    }
    let mut bytes = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(failed)? {
        if bytes.len() + chunk.len() > limit {
            return Err(Error::new(ErrorCode::UploadTooLarge, format!("the image at {url} is larger than {limit} bytes")));
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

#[utoipa::path(
    post, path = "/v1/chat/completions", tag = "openai",
    summary = "OpenAI-compatible chat completion (accepts image_url parts)",
    description = "`model` names the collection (or the pyxa extension `collection` does). The answer is checked before it is sent; with `stream: true` it arrives as `chat.completion.chunk` events and `[DONE]`. Extra fields: `citations`, `pyxa` (answer_id, conversation_id, candidates, confident, timings_ms).",
    request_body = ChatRequest,
    responses(
        (status = 200, description = "A chat.completion object (or chunks)", body = Object),
        (status = 400, description = "Bad request", body = ErrorBody),
        (status = 404, description = "Unknown collection", body = ErrorBody),
    )
)]
pub async fn chat_completions(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<ChatRequest>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    caller.check_collection(&body.collection())?;
    let (prompt, image_url) = question(&body.messages);
    if prompt.is_none() && image_url.is_none() {
        return Err(Error::new(ErrorCode::EmptyQuestion, "the user messages hold no text and no image").into());
    }
    let image = match &image_url {
        Some(u) => Some(fetch_image(u, &state).await?),
        None => None,
    };
    let mut request = AskRequest::new(body.collection(), prompt, image);
    request.owner = caller.key_id();
    request.mode = body.mode.as_deref().map(Mode::parse).transpose()?;
    request.prior_turns = prior_turns(&body.messages);
    let response = state.answers.ask(request, None).await?;
    metrics::ASKS.inc();
    let model = body.model.clone().unwrap_or_else(|| "pyxa".into());
    if body.stream {
        return Ok(stream_completion(&response, &model));
    }
    Ok(HttpResponse::Ok().json(json!({
        "id": format!("chatcmpl-{}", response.answer_id),
        "object": "chat.completion",
        "created": pyxa_core::now(),
        "model": model,
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": response.answer},
            "finish_reason": "stop",
        }],
        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
        "citations": citations(&response.citations),
        "pyxa": pyxa_extra(&response),
    })))
}

fn pyxa_extra(r: &AskResponse) -> Value {
    json!({
        "answer_id": r.answer_id,
        "conversation_id": r.conversation_id,
        "candidates": r.candidates,
        "confident": r.confident,
        "timings_ms": r.timings_ms,
    })
}

/// Streams the checked answer as chat-completion chunks: clients never receive text that is
/// later replaced.
fn stream_completion(response: &AskResponse, model: &str) -> HttpResponse {
    let id = format!("chatcmpl-{}", response.answer_id);
    let created = pyxa_core::now();
    let chunk = |delta: Value, finish: Option<&str>| {
        json!({
            "id": id, "object": "chat.completion.chunk", "created": created, "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        })
    };
    let mut events = vec![SseEvent::json(&chunk(json!({"role": "assistant", "content": ""}), None))];
    let mut piece = String::new();
    for ch in response.answer.chars() {
        piece.push(ch);
        if ch.is_whitespace() || piece.chars().count() >= CHUNK_CHARS {
            events.push(SseEvent::json(&chunk(json!({"content": std::mem::take(&mut piece)}), None)));
        }
    }
    if !piece.is_empty() {
        events.push(SseEvent::json(&chunk(json!({"content": piece}), None)));
    }
    let mut last = chunk(json!({}), Some("stop"));
    last["citations"] = json!(citations(&response.citations));
    last["pyxa"] = pyxa_extra(response);
    events.push(SseEvent::json(&last));
    events.push(SseEvent::raw("[DONE]"));
    sse_response(futures::stream::iter(events))
}

#[utoipa::path(
    get, path = "/v1/models", tag = "openai",
    summary = "Every collection as a model (`pyxa` is the default collection)",
    responses((status = 200, description = "An OpenAI model list", body = Object))
)]
pub async fn list_models(state: web::Data<AppState>, caller: super::auth::Caller) -> ApiResult<HttpResponse> {
    let collections = state.kb.list_collections().await?;
    let mut data = vec![json!({"id": "pyxa", "object": "model", "created": 0, "owned_by": "pyxa"})];
    // A key sees the collections it may use, as in GET /v1/collections.
    for c in collections.into_iter().filter(|c| caller.covers(&c.name)) {
        data.push(json!({"id": c.name, "object": "model", "created": c.created_at, "owned_by": "pyxa"}));
    }
    Ok(HttpResponse::Ok().json(json!({"object": "list", "data": data})))
}
