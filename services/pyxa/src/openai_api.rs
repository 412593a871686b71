//! OpenAI-compatible chat: `POST /v1/chat/completions` with `image_url` parts (data URLs, and
//! http(s) URLs when allowed). `model` picks the collection (`pyxa` = the default collection).
//! pyxa's evidence travels in extra fields: `citations` and `pyxa`.

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use bytes::Bytes;
use pyxa_core::{Error, ErrorKind};
use serde::Deserialize;
use serde_json::json;

use crate::ask::{AskRequest, AskResponse, Mode};
use crate::errors::ApiResult;
use crate::kb::DEFAULT_COLLECTION;
use crate::server::decode_base64_image;
use crate::state::AppState;

#[derive(Debug, Deserialize)]
pub struct ChatRequest {
    #[serde(default)]
    model: Option<String>,
    messages: Vec<ChatMessageIn>,
    #[serde(default)]
    stream: bool,
    /// pyxa extension: `chat` or `query`.
    #[serde(default)]
    mode: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ChatMessageIn {
    role: String,
    #[serde(default)]
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
    Text { text: String },
    ImageUrl { image_url: ImageUrl },
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

async fn fetch_image(url: &str, state: &AppState) -> Result<Vec<u8>, Error> {
    if url.starts_with("data:") {
        return decode_base64_image(url);
    }
    if url.starts_with("http://") || url.starts_with("https://") {
        if !state.settings.allow_remote_images {
            return Err(Error::invalid(
                "remote_images_disabled",
                "image_url must be a data: URL (fetching http(s) images is off; start pyxa with --allow-remote-images)",
            ));
        }
        let limit = state.settings.max_upload_bytes;
        let client = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(20))
            .build()
            .map_err(|e| Error::internal(e.to_string()))?;
        let mut response = client
            .get(url)
            .send()
            .await
            .map_err(|e| Error::new(ErrorKind::Unavailable, "image_fetch_failed", format!("fetching {url}: {e}")))?;
        if !response.status().is_success() {
            return Err(Error::new(ErrorKind::Unavailable, "image_fetch_failed", format!("fetching {url}: HTTP {}", response.status())));
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| Error::new(ErrorKind::Unavailable, "image_fetch_failed", e.to_string()))? {
            if bytes.len() + chunk.len() > limit {
                return Err(Error::new(ErrorKind::TooLarge, "upload_too_large", format!("the image at {url} is larger than {limit} bytes")));
            }
            bytes.extend_from_slice(&chunk);
        }
        return Ok(bytes);
    }
    Err(Error::invalid("invalid_image_url", "image_url must be a data: URL or an http(s) URL"))
}

pub async fn chat_completions(state: web::Data<AppState>, body: web::Json<ChatRequest>) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    let collection = collection_for_model(body.model.as_deref());
    let mut prompt = None;
    let mut image_url = None;
    for m in body.messages.iter().filter(|m| m.role == "user") {
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
    if prompt.is_none() && image_url.is_none() {
        return Err(Error::invalid("empty_question", "the user messages hold no text and no image").into());
    }
    let image = match &image_url {
        Some(u) => Some(fetch_image(u, &state).await?),
        None => None,
    };
    let mode = Mode::parse(body.mode.as_deref().unwrap_or("chat"))?;
    let request = AskRequest { prompt, image, collection, mode, top_k: 5, conversation_id: None, language: None };
    let response = state.ask.ask(request, None).await?;
    let model = body.model.clone().unwrap_or_else(|| "pyxa".into());
    if body.stream {
        return Ok(stream_response(response, model));
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
        "citations": response.citations,
        "pyxa": pyxa_extra(&response),
    })))
}

fn pyxa_extra(r: &AskResponse) -> serde_json::Value {
    json!({
        "answer_id": r.answer_id,
        "conversation_id": r.conversation_id,
        "candidates": r.candidates,
        "confident": r.confident,
        "timings_ms": r.timings_ms,
    })
}

/// Streams the checked answer as chat-completion chunks: the answer is verified against the
/// candidates before any of it is sent, so clients never receive text that is later replaced.
fn stream_response(response: AskResponse, model: String) -> HttpResponse {
    let id = format!("chatcmpl-{}", response.answer_id);
    let created = pyxa_core::now();
    let chunk = |delta: serde_json::Value, finish: Option<&str>, extra: Option<serde_json::Value>| {
        let mut v = json!({
            "id": id, "object": "chat.completion.chunk", "created": created, "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        });
        if let Some(extra) = extra {
            v["citations"] = extra["citations"].clone();
            v["pyxa"] = extra["pyxa"].clone();
        }
        Bytes::from(format!("data: {v}\n\n"))
    };
    let mut chunks = vec![chunk(json!({"role": "assistant", "content": ""}), None, None)];
    let mut piece = String::new();
    for ch in response.answer.chars() {
        piece.push(ch);
        if ch.is_whitespace() || piece.chars().count() >= 8 {
            chunks.push(chunk(json!({"content": std::mem::take(&mut piece)}), None, None));
        }
    }
    if !piece.is_empty() {
        chunks.push(chunk(json!({"content": piece}), None, None));
    }
    let extra = json!({"citations": response.citations, "pyxa": pyxa_extra(&response)});
    chunks.push(chunk(json!({}), Some("stop"), Some(extra)));
    chunks.push(Bytes::from_static(b"data: [DONE]\n\n"));
    let stream = futures::stream::iter(chunks.into_iter().map(Ok::<_, actix_web::Error>));
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/event-stream"))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .streaming(stream)
}

/// `GET /v1/models`: every collection is a model (`pyxa` is the default collection).
pub async fn list_models(state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let collections = state.kb.meta.list_collections().await?;
    let mut data = vec![json!({"id": "pyxa", "object": "model", "created": 0, "owned_by": "pyxa"})];
    for c in collections {
        data.push(json!({"id": c.name, "object": "model", "created": c.created_at, "owned_by": "pyxa"}));
    }
    Ok(HttpResponse::Ok().json(json!({"object": "list", "data": data})))
}
