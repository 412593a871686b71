//! Server-Sent Events: the one writer behind `/v1/ask?stream=true` (named events) and
//! `/v1/chat/completions` with `stream: true` (unnamed `data:` lines, OpenAI style).

use actix_web::http::header;
use actix_web::HttpResponse;
use bytes::Bytes;
use futures::{Stream, StreamExt};
use serde::Serialize;

pub struct SseEvent {
    name: Option<&'static str>,
    data: String,
}

impl SseEvent {
    /// `event: <name>` with a JSON payload.
    pub fn named(name: &'static str, payload: &impl Serialize) -> Self {
        Self { name: Some(name), data: serde_json::to_string(payload).unwrap_or_else(|_| "null".into()) }
    }

    /// A plain `data:` line with a JSON payload.
    pub fn json(payload: &impl Serialize) -> Self {
        Self { name: None, data: serde_json::to_string(payload).unwrap_or_else(|_| "null".into()) }
    }

    /// A plain `data:` line with raw text (OpenAI's `[DONE]`).
    pub fn raw(data: &str) -> Self {
        Self { name: None, data: data.to_string() }
    }

    fn to_bytes(&self) -> Bytes {
        match self.name {
            Some(name) => Bytes::from(format!("event: {name}\ndata: {}\n\n", self.data)),
            None => Bytes::from(format!("data: {}\n\n", self.data)),
        }
    }
}

pub fn sse_response(events: impl Stream<Item = SseEvent> + 'static) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/event-stream"))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        // Proxies (nginx) must not buffer the stream.
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(events.map(|e| Ok::<_, actix_web::Error>(e.to_bytes())))
}
