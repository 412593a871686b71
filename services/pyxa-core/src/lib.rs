//! pyxa's core: domain types, the traits every engine implements (encoder, vector store,
//! generator, metadata store, image store) and the one error type with its catalogue of codes.
//!
//! Nothing here does work: no engine, no I/O, no HTTP. Every other crate depends on this one,
//! so it stays small and stable.

pub mod error;
pub mod keys;
pub mod keywords;
pub mod meta;
pub mod text;

pub use error::{Error, ErrorCode, ErrorKind, Result};
pub use keywords::SparseVector;
pub use meta::*;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

/// An L2-normalised embedding.
pub type Embedding = Vec<f32>;

/// The two named vectors a point may carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VectorName {
    Image,
    Text,
}

impl VectorName {
    pub fn as_str(self) -> &'static str {
        match self {
            VectorName::Image => "image",
            VectorName::Text => "text",
        }
    }
}

/// What an item holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemKind {
    Image,
    Text,
    ImageText,
    /// A passage of a document (its text, with the document's id, title and position).
    Passage,
}

impl ItemKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ItemKind::Image => "image",
            ItemKind::Text => "text",
            ItemKind::ImageText => "image_text",
            ItemKind::Passage => "passage",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "image" => Some(ItemKind::Image),
            "text" => Some(ItemKind::Text),
            "image_text" => Some(ItemKind::ImageText),
            "passage" => Some(ItemKind::Passage),
            _ => None,
        }
    }
}

// ---------------------------------------------------------------- encoders

/// One encoded photo: its embedding and, when the bundle has a classifier head, the class
/// probabilities over the bundle's built-in label vocabulary.
#[derive(Debug, Clone)]
pub struct ImageEncoding {
    pub embedding: Embedding,
    pub class_probs: Option<Vec<f32>>,
}

/// A label the bundle knows without any user data (the ImageNet classes for the default bundle).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BuiltinClass {
    pub index: usize,
    pub en: String,
    #[serde(default)]
    pub zh: Option<String>,
    #[serde(default)]
    pub definition: Option<String>,
    /// The level people name this class by ("cat" for "tiger cat"), from the WordNet hierarchy.
    #[serde(default)]
    pub rollup: Option<Rollup>,
}

/// A basic-level ancestor of built-in classes: its English and Chinese names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rollup {
    pub en: String,
    #[serde(default)]
    pub zh: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct EncoderInfo {
    pub bundle: String,
    /// The embedding space: vectors from different spaces are never compared. It changes
    /// whenever the bundle's model files change (derived from their checksums).
    pub space: String,
    pub dim: usize,
    /// Execution providers that actually run the sessions, e.g. `["CPUExecutionProvider"]`.
    pub providers: Vec<String>,
    /// The image graph that runs: `fp32`, or `int8` (the default bundle's on a CPU).
    pub image_precision: String,
    pub logit_scale: f32,
}

/// CLIP-style encoder: photos and texts into one space.
#[async_trait]
pub trait Encoder: Send + Sync {
    fn info(&self) -> EncoderInfo;
    fn builtin_classes(&self) -> &[BuiltinClass];
    /// Decode, preprocess and embed one photo (raw file bytes).
    async fn encode_image(&self, bytes: Vec<u8>) -> Result<ImageEncoding>;
    /// Embed a photo the caller already decoded: upright RGB8, `width * height * 3` bytes
    /// (lets a caller that needs the pixels anyway, e.g. for a thumbnail, decode only once).
    async fn encode_rgb(&self, rgb: Vec<u8>, width: u32, height: u32) -> Result<ImageEncoding>;
    /// Embed texts; one vector per text, same order.
    async fn encode_texts(&self, texts: Vec<String>) -> Result<Vec<Embedding>>;
}

// ---------------------------------------------------------------- vector store

/// Payload filter: every field that is set must match exactly.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PayloadFilter {
    #[serde(default)]
    pub label: Option<String>,
    #[serde(default)]
    pub kind: Option<ItemKind>,
    #[serde(default)]
    pub tenant: Option<String>,
    /// Only points embedded in this space (see [`EncoderInfo::space`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub space: Option<String>,
}

/// A point: one item's vectors and the payload needed to filter and to show a hit.
#[derive(Debug, Clone, PartialEq)]
pub struct VectorPoint {
    /// The item id (a UUID); also the point id.
    pub item_id: String,
    pub collection: String,
    pub label: Option<String>,
    pub kind: ItemKind,
    pub tenant: Option<String>,
    /// The embedding space the vectors belong to (see [`EncoderInfo::space`]).
    pub space: Option<String>,
    pub image: Option<Embedding>,
    pub text: Option<Embedding>,
    /// Keyword vector of the item's text (see [`keywords`]): what hybrid retrieval matches
    /// names and numbers by. None or empty: the point is found by its dense vectors only.
    pub keywords: Option<SparseVector>,
}

/// A keyword (BM25) search: terms from [`keywords::query_vector`], ranked by the store.
#[derive(Debug, Clone)]
pub struct KeywordQuery {
    pub collection: String,
    pub terms: SparseVector,
    pub top_k: usize,
    pub filter: PayloadFilter,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScoredPoint {
    pub item_id: String,
    pub label: Option<String>,
    pub kind: ItemKind,
    pub score: f32,
}

#[derive(Debug, Clone)]
pub struct VectorQuery {
    pub collection: String,
    pub using: VectorName,
    pub vector: Embedding,
    pub top_k: usize,
    pub filter: PayloadFilter,
    /// Exact (brute force) search instead of the index: the ground truth for recall.
    pub exact: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct VectorStoreInfo {
    pub backend: String,
    pub location: String,
}

/// Whether the vector store can serve, as `/health` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StoreStatus {
    /// Everything answers and every replica is in sync.
    Ok,
    /// Serving, with less redundancy than configured: a peer is unreachable or a replica is
    /// not active.
    Degraded,
    /// No peer answers.
    Unavailable,
}

#[derive(Debug, Clone, Serialize)]
pub struct VectorStoreHealth {
    pub status: StoreStatus,
    /// What is wrong, one line each (empty when `ok`).
    pub problems: Vec<String>,
}

impl VectorStoreHealth {
    pub fn ok() -> Self {
        Self { status: StoreStatus::Ok, problems: Vec::new() }
    }
}

/// One trait, two Qdrant backends (in-process Edge, server/cluster), the same behaviour.
#[async_trait]
pub trait VectorStore: Send + Sync {
    fn info(&self) -> VectorStoreInfo;

    /// Reachability and replica state (always `ok` in-process).
    async fn health(&self) -> VectorStoreHealth {
        VectorStoreHealth::ok()
    }
    /// Create the collection if missing (idempotent).
    async fn ensure_collection(&self, collection: &str, dim: usize) -> Result<()>;
    async fn delete_collection(&self, collection: &str) -> Result<()>;
    /// Insert or replace points (by item id).
    async fn upsert(&self, points: Vec<VectorPoint>) -> Result<()>;
    async fn delete(&self, collection: &str, item_ids: &[String]) -> Result<()>;
    async fn search(&self, query: VectorQuery) -> Result<Vec<ScoredPoint>>;
    /// Points ranked by BM25 over their keyword vectors (IDF from the collection), best first.
    async fn search_keywords(&self, query: KeywordQuery) -> Result<Vec<ScoredPoint>>;
    async fn count(&self, collection: &str, filter: &PayloadFilter) -> Result<usize>;
    /// Whether the item's point exists (for consistency repair).
    async fn contains(&self, collection: &str, item_id: &str) -> Result<bool>;
    /// Build indexes / compact. Cheap when nothing changed.
    async fn optimize(&self, collection: &str) -> Result<()>;
}

// ---------------------------------------------------------------- generator

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    System,
    User,
    Assistant,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChatMessage {
    pub role: Role,
    pub content: String,
}

impl ChatMessage {
    pub fn system(c: impl Into<String>) -> Self {
        Self { role: Role::System, content: c.into() }
    }
    pub fn user(c: impl Into<String>) -> Self {
        Self { role: Role::User, content: c.into() }
    }
    pub fn assistant(c: impl Into<String>) -> Self {
        Self { role: Role::Assistant, content: c.into() }
    }
}

#[derive(Debug, Clone)]
pub struct GenerationRequest {
    pub messages: Vec<ChatMessage>,
    pub max_tokens: usize,
    /// 0 means greedy.
    pub temperature: f32,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Generation {
    pub text: String,
    pub prompt_tokens: usize,
    pub completion_tokens: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct GeneratorInfo {
    pub backend: String,
    pub model: String,
}

/// Receives each generated piece of text; returning false stops generation (client gone).
pub type TokenSink = Box<dyn FnMut(&str) -> bool + Send>;

#[async_trait]
pub trait Generator: Send + Sync {
    fn info(&self) -> GeneratorInfo;
    /// Generate an answer; `on_token` (when given) receives the pieces as they come.
    async fn generate(&self, request: GenerationRequest, on_token: Option<TokenSink>) -> Result<Generation>;
    /// Log-probability (natural log, summed over tokens) of each candidate as the assistant's
    /// reply to `messages`. Backends that cannot score return an `unsupported` error.
    async fn score(&self, messages: Vec<ChatMessage>, candidates: Vec<String>) -> Result<Vec<f64>>;
}

/// Cosine of two L2-normalised vectors.
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Softmax of `scale * x`, numerically stable.
pub fn softmax_scaled(xs: &[f32], scale: f32) -> Vec<f32> {
    let max = xs.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let exps: Vec<f32> = xs.iter().map(|x| ((x - max) * scale).exp()).collect();
    let sum: f32 = exps.iter().sum();
    exps.into_iter().map(|e| e / sum).collect()
}

/// L2-normalise in place; a zero vector stays zero.
pub fn l2_normalize(v: &mut [f32]) {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
}

// ---------------------------------------------------------------- photos

/// Decoded pixels of a photo: upright RGB8, `width * height * 3` bytes.
#[derive(Debug, Clone)]
pub struct RgbPixels {
    pub width: u32,
    pub height: u32,
    pub data: Vec<u8>,
}

/// Reads the text printed in a photo (OCR), lines in reading order joined by newlines; empty
/// when there is none.
#[async_trait]
pub trait TextReader: Send + Sync {
    async fn read_text(&self, pixels: RgbPixels) -> Result<String>;
}

/// Where uploaded photos live: originals and thumbnails, content-addressed by the sha256 of the
/// original. Decoding happens here because a photo is stored only when it is a sane image.
#[async_trait]
pub trait ImageStore: Send + Sync {
    /// Cheap check of the header (format, dimensions) without decoding every pixel, so callers
    /// can fail fast before committing to a streamed response.
    fn probe(&self, bytes: &[u8]) -> Result<()>;
    /// Decodes the photo (refusing what is not a sane image), stores the original and a
    /// thumbnail (idempotent), and returns the blob record and the decoded pixels.
    async fn put(&self, bytes: Vec<u8>) -> Result<(Blob, RgbPixels)>;
    async fn read_original(&self, hash: &str) -> Result<Vec<u8>>;
    async fn read_thumbnail(&self, hash: &str) -> Result<Vec<u8>>;
    /// Removes the original and its thumbnail (nothing to remove is fine).
    async fn delete(&self, hash: &str) -> Result<()>;
}

// ---------------------------------------------------------------- documents

/// One passage of a document, in reading order.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedPassage {
    /// 0-based position of the passage in its document.
    pub position: usize,
    pub text: String,
}

/// A document's text, split into passages.
#[derive(Debug, Clone)]
pub struct ParsedDocument {
    /// The document's own title (HTML `<title>`, a Markdown heading, PDF metadata) or its file name.
    pub title: String,
    /// `text/plain`, `text/markdown`, `text/html` or `application/pdf`.
    pub mime: String,
    pub passages: Vec<ParsedPassage>,
}

/// Reads an uploaded document (plain text, Markdown, HTML, PDF) and splits its text into
/// passages for retrieval. CPU-bound and synchronous: call it from a blocking thread.
pub trait DocumentParser: Send + Sync {
    fn parse(&self, file_name: &str, bytes: &[u8]) -> Result<ParsedDocument>;
}
