//! What goes into and comes out of the answer pipeline.

use pyxa_core::text::Language;
use pyxa_core::{EncoderInfo, Error, ErrorCode, GeneratorInfo, Result};
use serde::{Deserialize, Serialize};

use super::candidate::Candidate;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Model knowledge plus evidence.
    Chat,
    /// Evidence only: no evidence, no answer.
    Query,
}

impl Mode {
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "" | "chat" => Ok(Mode::Chat),
            "query" => Ok(Mode::Query),
            other => Err(Error::new(ErrorCode::InvalidMode, format!("mode {other:?} is not chat or query"))),
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Chat => "chat",
            Mode::Query => "query",
        }
    }
}

#[derive(Debug, Clone)]
pub struct AskRequest {
    pub prompt: Option<String>,
    pub image: Option<Vec<u8>>,
    pub collection: String,
    /// None: the collection's default mode (chat unless its settings say query).
    pub mode: Option<Mode>,
    /// None: the collection's setting, else [`DEFAULT_ASK_TOP_K`].
    pub top_k: Option<usize>,
    pub conversation_id: Option<String>,
    pub language: Option<Language>,
    /// Earlier turns (question, answer) sent with the request, as OpenAI clients do; used when
    /// the request names no stored conversation.
    pub prior_turns: Vec<(String, String)>,
    /// The API key asking (its id): it alone may continue or read the conversation.
    pub owner: Option<String>,
}

impl AskRequest {
    /// A question with the collection's defaults (its settings, else chat mode and 5 pieces of evidence).
    pub fn new(collection: impl Into<String>, prompt: Option<String>, image: Option<Vec<u8>>) -> Self {
        Self {
            prompt,
            image,
            collection: collection.into(),
            mode: None,
            top_k: None,
            conversation_id: None,
            language: None,
            prior_turns: Vec::new(),
            owner: None,
        }
    }
}

pub const DEFAULT_ASK_TOP_K: usize = 5;

/// One piece of evidence an answer cites as `[n]`. Ids only: `image` is the photo's hash.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Citation {
    pub n: usize,
    pub item_id: String,
    pub label: Option<String>,
    pub score: f32,
    #[serde(default)]
    pub image: Option<String>,
    /// Text read from the cited item's photo.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ocr_text: Option<String>,
    /// The start of the cited text (a passage, a note), to show beside the answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snippet: Option<String>,
    /// For a passage: the document it comes from (id, title) and its position there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document: Option<pyxa_core::DocumentRef>,
}

/// Characters of a cited text shown as its snippet.
pub const SNIPPET_CHARS: usize = 280;

/// The first `SNIPPET_CHARS` characters of a text, with an ellipsis when cut.
pub fn snippet(text: &str) -> String {
    let mut out: String = text.chars().take(SNIPPET_CHARS).collect();
    if text.chars().nth(SNIPPET_CHARS).is_some() {
        out.push('…');
    }
    out
}

/// Milliseconds spent in each step.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct Timings {
    pub decode: f64,
    /// Translating the question into the other language (for cross-lingual retrieval).
    pub translate: f64,
    pub encode: f64,
    pub retrieve: f64,
    pub candidates: f64,
    pub generate: f64,
    pub total: f64,
}

/// Where the answer text came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AnswerSource {
    /// The LLM's own words, checked against the candidates.
    Llm,
    /// A plain answer built from the candidates: the LLM's text did not name the most probable
    /// answer (correctness before fluency), or no LLM is configured.
    Template,
    /// The most relevant passage of the knowledge base, quoted with its citation: the LLM's
    /// text was not usable (or there is no LLM) for a question other than "what is this?".
    Passage,
    /// Nothing relevant was found (or the LLM found no answer in what was): the answer says so.
    NoEvidence,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ModelsUsed {
    #[schema(value_type = Object)]
    pub encoder: EncoderInfo,
    #[schema(value_type = Option<Object>)]
    pub generator: Option<GeneratorInfo>,
}

#[derive(Debug, Clone)]
pub struct AskResponse {
    pub answer_id: String,
    pub conversation_id: String,
    pub answer: String,
    pub language: Language,
    pub confident: bool,
    pub candidates: Vec<Candidate>,
    pub citations: Vec<Citation>,
    pub mode: Mode,
    pub timings_ms: Timings,
    pub models: ModelsUsed,
    pub answer_source: AnswerSource,
    /// The photo asked about (hash), when there was one.
    pub image: Option<String>,
    /// Text read from the photo asked about.
    pub ocr_text: Option<String>,
}
