//! Any OpenAI-compatible chat-completions server: Ollama (`http://127.0.0.1:11434/v1`), vLLM,
//! llama.cpp's server, hosted APIs.

use pyxa_core::ErrorCode;
use std::time::Duration;

use async_trait::async_trait;
use futures::StreamExt;
use pyxa_core::{ChatMessage, Error, Generation, GenerationRequest, Generator, GeneratorInfo, Result, TokenSink};
use reqwest::header::{ACCEPT, CONTENT_TYPE};
use serde_json::{json, Value};

/// Where and how to reach the server. `Debug` never shows the API key.
#[derive(Clone)]
pub struct OpenAiConfig {
    /// Base URL up to and including the version, e.g. `http://127.0.0.1:11434/v1`;
    /// requests go to `{base_url}/chat/completions`.
    pub base_url: String,
    pub model: String,
    /// Sent as `Authorization: Bearer ...` when set.
    pub api_key: Option<String>,
    /// Limit for a whole request, streamed answer included (default 120 s).
    pub timeout: Duration,
    /// Limit for establishing the connection (default 5 s).
    pub connect_timeout: Duration,
    /// Ask for token counts at the end of a streamed answer (`stream_options.include_usage`,
    /// default true; Ollama, vLLM, llama.cpp server and OpenAI accept it). Turn it off for a
    /// server that rejects unknown fields.
    pub stream_usage: bool,
}

impl OpenAiConfig {
    pub fn new(base_url: impl Into<String>, model: impl Into<String>) -> Self {
        Self {
            base_url: base_url.into(),
            model: model.into(),
            api_key: None,
            timeout: Duration::from_secs(120),
            connect_timeout: Duration::from_secs(5),
            stream_usage: true,
        }
    }

    pub fn with_api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(key.into());
        self
    }
}

impl std::fmt::Debug for OpenAiConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenAiConfig")
            .field("base_url", &self.base_url)
            .field("model", &self.model)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("stream_usage", &self.stream_usage)
            .finish()
    }
}

/// A [`Generator`] that calls `POST {base_url}/chat/completions`: streamed (SSE) when a token
/// sink is given, a plain JSON answer otherwise. Cannot score candidates (`scoring_unsupported`).
#[derive(Debug)]
pub struct OpenAiGenerator {
    config: OpenAiConfig,
    url: String,
    client: reqwest::Client,
}

impl OpenAiGenerator {
    /// Errors: `ErrorKind::Setup`, code `llm_config_invalid`, for a base URL that is not
    /// http(s) or an HTTP client that cannot be built.
    pub fn new(config: OpenAiConfig) -> Result<Self> {
        let base = config.base_url.trim_end_matches('/');
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(Error::new(
                ErrorCode::LlmConfigInvalid,
                format!("the LLM base URL must start with http:// or https://, got {base:?}"),
            ));
        }
        let url = format!("{base}/chat/completions");
        reqwest::Url::parse(&url)
            .map_err(|e| Error::new(ErrorCode::LlmConfigInvalid, format!("invalid LLM base URL {base:?}: {e}")))?;
        let client = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .timeout(config.timeout)
            .build()
            .map_err(|e| Error::new(ErrorCode::LlmConfigInvalid, format!("cannot build the HTTP client: {e}")))?;
        Ok(Self { config, url, client })
    }

    fn base(&self) -> &str {
        self.config.base_url.trim_end_matches('/')
    }

    /// Remove the API key from text that came from elsewhere (error messages, server bodies).
    fn scrub(&self, text: String) -> String {
        match &self.config.api_key {
            Some(key) if !key.is_empty() && text.contains(key.as_str()) => text.replace(key.as_str(), "<redacted>"),
            _ => text,
        }
    }

    fn body(&self, request: &GenerationRequest, stream: bool) -> Value {
        let messages: Vec<Value> =
            request.messages.iter().map(|m: &ChatMessage| json!({ "role": m.role, "content": m.content })).collect();
        let mut body = json!({
            "model": self.config.model,
            "messages": messages,
            "temperature": if request.temperature.is_finite() { request.temperature.max(0.0) } else { 0.0 },
            "stream": stream,
        });
        if request.max_tokens > 0 {
            body["max_tokens"] = json!(request.max_tokens);
        }
        if stream && self.config.stream_usage {
            body["stream_options"] = json!({ "include_usage": true });
        }
        body
    }

    fn net_error(&self, e: reqwest::Error) -> Error {
        let mut detail = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            detail.push_str(": ");
            detail.push_str(&s.to_string());
            source = s.source();
        }
        let detail = self.scrub(detail);
        let base = self.base();
        if e.is_timeout() {
            Error::new(ErrorCode::LlmTimeout, format!("the LLM server at {base} did not answer in time ({detail})"))
        } else if e.is_decode() {
            Error::new(ErrorCode::LlmBadResponse, format!("unreadable answer from the LLM server at {base}: {detail}"))
        } else {
            Error::new(ErrorCode::LlmUnavailable, format!("cannot reach the LLM server at {base}: {detail}"))
        }
    }

    fn bad_response(&self, what: impl std::fmt::Display) -> Error {
        Error::new(
            ErrorCode::LlmBadResponse,
            self.scrub(format!("malformed answer from the LLM server at {}: {what}", self.base())),
        )
    }

    fn upstream_error(&self, detail: &str) -> Error {
        Error::new(
            ErrorCode::LlmUpstreamError,
            self.scrub(format!("the LLM server at {} reported an error: {detail}", self.base())),
        )
    }

    async fn status_error(&self, response: reqwest::Response) -> Error {
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        let detail = error_message(&body).unwrap_or_else(|| {
            let t = body.trim();
            if t.is_empty() {
                status.canonical_reason().unwrap_or("no details").to_owned()
            } else {
                t.chars().take(500).collect()
            }
        });
        let base = self.base();
        let (code, msg) = if status.as_u16() == 401 || status.as_u16() == 403 {
            (
                ErrorCode::LlmAuthFailed,
                format!("the LLM server at {base} refused the credentials (HTTP {}): {detail}", status.as_u16()),
            )
        } else {
            (ErrorCode::LlmUpstreamError, format!("the LLM server at {base} answered HTTP {}: {detail}", status.as_u16()))
        };
        Error::new(code, self.scrub(msg))
    }

    /// A complete (non-streamed) answer.
    fn parse_completion(&self, bytes: &[u8]) -> Result<Generation> {
        let v: Value = serde_json::from_slice(bytes).map_err(|e| self.bad_response(format!("not JSON ({e})")))?;
        if let Some(err) = v.get("error").filter(|e| !e.is_null()) {
            return Err(self.upstream_error(&describe_error(err)));
        }
        let choice = v.get("choices").and_then(|c| c.get(0)).ok_or_else(|| self.bad_response("no choices[0]"))?;
        let content = match choice.pointer("/message/content").or_else(|| choice.get("text")) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Null) | None if choice.get("message").is_some() => String::new(),
            _ => return Err(self.bad_response("choices[0].message.content is missing")),
        };
        let (prompt_tokens, completion_tokens) = usage(&v).unwrap_or((0, 0));
        Ok(Generation { text: content, prompt_tokens, completion_tokens })
    }

    async fn read_stream(&self, response: reqwest::Response, mut sink: TokenSink) -> Result<Generation> {
        let mut body = response.bytes_stream();
        let mut lines = LineBuffer::default();
        let mut state = StreamState::default();
        let mut ended = false;
        'read: while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| self.net_error(e))?;
            for line in lines.push(&chunk) {
                if !self.on_line(&line, &mut state, &mut sink)? {
                    // `[DONE]` or the sink wants no more: drop the rest (closes the connection).
                    ended = true;
                    break 'read;
                }
            }
        }
        if !ended {
            // The server closed the stream; a last line may lack its newline.
            if let Some(line) = lines.finish() {
                self.on_line(&line, &mut state, &mut sink)?;
            }
        }
        if state.events == 0 {
            return Err(self.bad_response("the stream carried no events"));
        }
        let (prompt_tokens, completion_tokens) = state.usage.unwrap_or((0, state.pieces));
        Ok(Generation { text: state.text, prompt_tokens, completion_tokens })
    }

    /// Handle one SSE line; false ends the stream (`[DONE]`, or the sink wants no more).
    fn on_line(&self, line: &str, state: &mut StreamState, sink: &mut TokenSink) -> Result<bool> {
        let line = line.trim();
        let data = if let Some(d) = line.strip_prefix("data:") {
            d.trim_start()
        } else if line.starts_with('{') {
            // A server that streams bare JSON lines instead of SSE.
            line
        } else {
            // Blank separators, comments (":"), `event:`, `id:`, `retry:`.
            return Ok(true);
        };
        if data.is_empty() {
            return Ok(true);
        }
        state.events += 1;
        if data == "[DONE]" {
            return Ok(false);
        }
        let v: Value = serde_json::from_str(data).map_err(|e| self.bad_response(format!("stream event is not JSON ({e})")))?;
        if let Some(err) = v.get("error").filter(|e| !e.is_null()) {
            return Err(self.upstream_error(&describe_error(err)));
        }
        if let Some(u) = usage(&v) {
            state.usage = Some(u);
        }
        if let Some(choice) = v.get("choices").and_then(|c| c.get(0)) {
            let content = choice
                .pointer("/delta/content")
                .or_else(|| choice.pointer("/message/content"))
                .or_else(|| choice.get("text"))
                .and_then(Value::as_str);
            if let Some(piece) = content.filter(|p| !p.is_empty()) {
                state.text.push_str(piece);
                state.pieces += 1;
                if !sink(piece) {
                    return Ok(false);
                }
            }
        }
        Ok(true)
    }
}

#[derive(Default)]
struct StreamState {
    text: String,
    pieces: usize,
    events: usize,
    usage: Option<(usize, usize)>,
}

/// Splits a byte stream into lines; a line is decoded only once complete, so a UTF-8 character
/// split across network chunks is never broken.
#[derive(Default)]
struct LineBuffer {
    pending: Vec<u8>,
}

impl LineBuffer {
    fn push(&mut self, bytes: &[u8]) -> Vec<String> {
        self.pending.extend_from_slice(bytes);
        let mut lines = Vec::new();
        let mut start = 0;
        while let Some(n) = self.pending[start..].iter().position(|&b| b == b'\n') {
            lines.push(String::from_utf8_lossy(&self.pending[start..start + n]).into_owned());
            start += n + 1;
        }
        self.pending.drain(..start);
        lines
    }

    fn finish(&mut self) -> Option<String> {
        let rest = std::mem::take(&mut self.pending);
        (!rest.is_empty()).then(|| String::from_utf8_lossy(&rest).into_owned())
    }
}

fn usage(v: &Value) -> Option<(usize, usize)> {
    let u = v.get("usage").filter(|u| u.is_object())?;
    let n = |k: &str| u.get(k).and_then(Value::as_u64).unwrap_or(0) as usize;
    Some((n("prompt_tokens"), n("completion_tokens")))
}

fn describe_error(err: &Value) -> String {
    match err {
        Value::String(s) => s.clone(),
        Value::Object(o) => o.get("message").and_then(Value::as_str).map(str::to_owned).unwrap_or_else(|| err.to_string()),
        other => other.to_string(),
    }
}

/// The human message in an error body: OpenAI `{"error":{"message":..}}`, Ollama
/// `{"error":".."}`, FastAPI `{"detail":..}`, or `{"message":..}`.
fn error_message(body: &str) -> Option<String> {
    let v: Value = serde_json::from_str(body).ok()?;
    if let Some(err) = v.get("error").filter(|e| !e.is_null()) {
        return Some(describe_error(err));
    }
    for key in ["detail", "message"] {
        if let Some(d) = v.get(key) {
            return Some(d.as_str().map(str::to_owned).unwrap_or_else(|| d.to_string()));
        }
    }
    None
}

#[async_trait]
impl Generator for OpenAiGenerator {
    fn info(&self) -> GeneratorInfo {
        GeneratorInfo { backend: "openai".into(), model: self.config.model.clone() }
    }

    async fn generate(&self, request: GenerationRequest, on_token: Option<TokenSink>) -> Result<Generation> {
        let stream = on_token.is_some();
        let mut req = self.client.post(&self.url).json(&self.body(&request, stream));
        if stream {
            req = req.header(ACCEPT, "text/event-stream");
        }
        if let Some(key) = &self.config.api_key {
            req = req.bearer_auth(key);
        }
        let response = req.send().await.map_err(|e| self.net_error(e))?;
        if !response.status().is_success() {
            return Err(self.status_error(response).await);
        }
        let is_json = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.trim_start().starts_with("application/json"));
        match on_token {
            Some(sink) if !is_json => self.read_stream(response, sink).await,
            sink => {
                // Asked not to stream, or the server ignored `stream: true`.
                let bytes = response.bytes().await.map_err(|e| self.net_error(e))?;
                let generation = self.parse_completion(&bytes)?;
                if let Some(mut sink) = sink {
                    if !generation.text.is_empty() {
                        sink(&generation.text);
                    }
                }
                Ok(generation)
            }
        }
    }

    async fn score(&self, _messages: Vec<ChatMessage>, _candidates: Vec<String>) -> Result<Vec<f64>> {
        Err(Error::new(ErrorCode::ScoringUnsupported, "an OpenAI-compatible server cannot score candidate answers"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_survive_split_characters() {
        let text = "data: {\"x\":\"猫咖啡\"}\n\ndata: [DONE]\n";
        let mut lb = LineBuffer::default();
        let mut lines = Vec::new();
        for chunk in text.as_bytes().chunks(3) {
            lines.extend(lb.push(chunk));
        }
        assert_eq!(lines, vec!["data: {\"x\":\"猫咖啡\"}", "", "data: [DONE]"]);
        assert!(lb.finish().is_none());
    }

    #[test]
    fn error_bodies() {
        assert_eq!(error_message(r#"{"error":{"message":"bad key","type":"x"}}"#).unwrap(), "bad key");
        assert_eq!(error_message(r#"{"error":"model not found"}"#).unwrap(), "model not found");
        assert_eq!(error_message(r#"{"detail":"nope"}"#).unwrap(), "nope");
        assert!(error_message("<html>").is_none());
    }
}
