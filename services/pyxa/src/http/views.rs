//! The JSON shapes of the API: domain values with URLs where the domain has ids. These are the
//! contracts clients rely on: add fields, never rename or remove them.

use pyxa_core::text::Language;
use pyxa_core::{Collection, CollectionSettings, ConversationSummary, Document, DocumentRef, Item, ItemKind};
use pyxa_engine::answer::candidate::Candidate;
use pyxa_engine::answer::events::Evidence;
use pyxa_engine::answer::{AnswerSource, AskResponse, Citation, Mode, ModelsUsed, Timings};
use pyxa_engine::conversations::{Conversation, Turn};
use pyxa_engine::kb::Hit;
use serde::Serialize;
use serde_json::Value;

pub fn image_url(hash: &str) -> String {
    format!("/v1/blobs/{hash}")
}

pub fn thumbnail_url(hash: &str) -> String {
    format!("/v1/blobs/{hash}/thumbnail")
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CollectionView {
    pub name: String,
    pub description: String,
    pub item_count: i64,
    pub created_at: i64,
    /// Workspace settings; a field left out is pyxa's default.
    #[schema(value_type = Object)]
    pub settings: CollectionSettings,
}

impl From<Collection> for CollectionView {
    fn from(c: Collection) -> Self {
        CollectionView {
            name: c.name,
            description: c.description,
            item_count: c.item_count,
            created_at: c.created_at,
            settings: c.settings,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CollectionList {
    pub collections: Vec<CollectionView>,
}

/// Where a passage comes from: its document and its position there (0 = first passage).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DocumentRefView {
    pub id: String,
    pub title: String,
    pub position: i64,
}

impl From<&DocumentRef> for DocumentRefView {
    fn from(d: &DocumentRef) -> Self {
        DocumentRefView { id: d.id.clone(), title: d.title.clone(), position: d.position }
    }
}

/// An uploaded document; its passages are items of kind `passage`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DocumentView {
    pub id: String,
    pub collection: String,
    pub title: String,
    pub file_name: String,
    /// `text/plain`, `text/markdown`, `text/html` or `application/pdf`.
    pub mime: String,
    pub bytes: i64,
    pub content_hash: String,
    /// How many passages the document was split into.
    pub passages: i64,
    /// `indexed` once every passage is searchable.
    pub state: String,
    pub created_at: i64,
}

impl From<&Document> for DocumentView {
    fn from(d: &Document) -> Self {
        DocumentView {
            id: d.id.clone(),
            collection: d.collection.clone(),
            title: d.title.clone(),
            file_name: d.file_name.clone(),
            mime: d.mime.clone(),
            bytes: d.bytes,
            content_hash: d.content_hash.clone(),
            passages: d.passages,
            state: d.state.as_str().to_string(),
            created_at: d.created_at,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DocumentList {
    pub documents: Vec<DocumentView>,
}

/// An item as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ItemView {
    pub id: String,
    pub collection: String,
    pub label: Option<String>,
    pub text: Option<String>,
    /// Text read from the item's photo (OCR).
    pub ocr_text: Option<String>,
    /// `image`, `text`, `image_text` or `passage`.
    #[schema(value_type = String)]
    pub kind: ItemKind,
    #[schema(value_type = Object)]
    pub metadata: Value,
    /// For a passage: its document and position.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document: Option<DocumentRefView>,
    pub content_hash: String,
    pub thumbnail_url: Option<String>,
    pub image_url: Option<String>,
    pub created_at: i64,
}

impl From<&Item> for ItemView {
    fn from(item: &Item) -> Self {
        ItemView {
            id: item.id.clone(),
            collection: item.collection.clone(),
            label: item.label.clone(),
            text: item.text.clone(),
            ocr_text: item.ocr_text.clone(),
            kind: item.kind,
            metadata: item.metadata.clone(),
            document: item.document.as_ref().map(DocumentRefView::from),
            content_hash: item.content_hash.clone(),
            thumbnail_url: item.blob_hash.as_deref().map(thumbnail_url),
            image_url: item.blob_hash.as_deref().map(image_url),
            created_at: item.created_at,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ItemPage {
    pub items: Vec<ItemView>,
    pub total: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct HitView {
    pub item_id: String,
    pub label: Option<String>,
    #[schema(value_type = String)]
    pub kind: ItemKind,
    pub score: f32,
    pub thumbnail_url: Option<String>,
    pub text: Option<String>,
    /// Text read from the item's photo (OCR).
    pub ocr_text: Option<String>,
    /// For a passage: its document and position.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document: Option<DocumentRefView>,
    /// Found by its words (keyword search, BM25); `score` is 0 when only its words matched.
    pub keyword_match: bool,
}

impl From<&Hit> for HitView {
    fn from(h: &Hit) -> Self {
        HitView {
            item_id: h.item_id.clone(),
            label: h.label.clone(),
            kind: h.kind,
            score: h.score,
            thumbnail_url: h.image.as_deref().map(thumbnail_url),
            text: h.text.clone(),
            ocr_text: h.ocr_text.clone(),
            document: h.document.as_ref().map(DocumentRefView::from),
            keyword_match: h.keyword_match,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SearchResults {
    pub hits: Vec<HitView>,
    pub took_ms: f64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CitationView {
    pub n: usize,
    pub item_id: String,
    pub label: Option<String>,
    pub score: f32,
    pub thumbnail_url: Option<String>,
    /// Text read from the cited item's photo, when it has any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ocr_text: Option<String>,
    /// The start of the cited text (a passage or a note).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snippet: Option<String>,
    /// For a passage: the document (title) and the position it comes from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document: Option<DocumentRefView>,
}

impl From<&Citation> for CitationView {
    fn from(c: &Citation) -> Self {
        CitationView {
            n: c.n,
            item_id: c.item_id.clone(),
            label: c.label.clone(),
            score: c.score,
            thumbnail_url: c.image.as_deref().map(thumbnail_url),
            ocr_text: c.ocr_text.clone(),
            snippet: c.snippet.clone(),
            document: c.document.as_ref().map(DocumentRefView::from),
        }
    }
}

pub fn citations(c: &[Citation]) -> Vec<CitationView> {
    c.iter().map(CitationView::from).collect()
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AskResponseView {
    pub answer_id: String,
    pub conversation_id: String,
    pub answer: String,
    /// `en` or `zh`.
    #[schema(value_type = String)]
    pub language: Language,
    /// Whether the top candidate is above the confidence threshold.
    pub confident: bool,
    pub candidates: Vec<Candidate>,
    pub citations: Vec<CitationView>,
    pub mode: Mode,
    pub timings_ms: Timings,
    pub models: ModelsUsed,
    pub answer_source: AnswerSource,
    pub image_url: Option<String>,
    /// Text read from the photo asked about (OCR).
    pub ocr_text: Option<String>,
}

impl From<&AskResponse> for AskResponseView {
    fn from(r: &AskResponse) -> Self {
        AskResponseView {
            answer_id: r.answer_id.clone(),
            conversation_id: r.conversation_id.clone(),
            answer: r.answer.clone(),
            language: r.language,
            confident: r.confident,
            candidates: r.candidates.clone(),
            citations: citations(&r.citations),
            mode: r.mode,
            timings_ms: r.timings_ms.clone(),
            models: r.models.clone(),
            answer_source: r.answer_source,
            image_url: r.image.as_deref().map(image_url),
            ocr_text: r.ocr_text.clone(),
        }
    }
}

/// The first event of a streamed answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EvidenceView {
    pub answer_id: String,
    pub conversation_id: String,
    pub candidates: Vec<Candidate>,
    pub citations: Vec<CitationView>,
    #[schema(value_type = String)]
    pub language: Language,
    pub confident: bool,
    pub mode: Mode,
}

impl From<&Evidence> for EvidenceView {
    fn from(e: &Evidence) -> Self {
        EvidenceView {
            answer_id: e.answer_id.clone(),
            conversation_id: e.conversation_id.clone(),
            candidates: e.candidates.clone(),
            citations: citations(&e.citations),
            language: e.language,
            confident: e.confident,
            mode: e.mode,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ConversationList {
    #[schema(value_type = Vec<Object>)]
    pub conversations: Vec<ConversationSummary>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TurnView {
    pub answer_id: String,
    pub prompt: String,
    pub answer: String,
    pub language: String,
    pub mode: String,
    pub image_url: Option<String>,
    pub thumbnail_url: Option<String>,
    #[schema(value_type = Vec<Object>)]
    pub candidates: Value,
    #[schema(value_type = Vec<Object>)]
    pub citations: Value,
    pub created_at: i64,
}

/// Stored citations carry the photo's hash (`image`); answers kept by earlier versions carry
/// `thumbnail_url` already.
fn stored_citations(mut citations: Value) -> Value {
    for c in citations.as_array_mut().into_iter().flatten() {
        if let Some(obj) = c.as_object_mut() {
            if let Some(hash) = obj.remove("image") {
                let url = hash.as_str().map(thumbnail_url);
                obj.entry("thumbnail_url").or_insert(url.map(Value::String).unwrap_or(Value::Null));
            }
        }
    }
    citations
}

impl From<Turn> for TurnView {
    fn from(t: Turn) -> Self {
        TurnView {
            answer_id: t.answer_id,
            prompt: t.prompt,
            answer: t.answer,
            language: t.language,
            mode: t.mode,
            image_url: t.image.as_deref().map(image_url),
            thumbnail_url: t.image.as_deref().map(thumbnail_url),
            candidates: t.candidates,
            citations: stored_citations(t.citations),
            created_at: t.created_at,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ConversationView {
    pub id: String,
    pub title: String,
    pub collection: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub turns: Vec<TurnView>,
}

impl From<Conversation> for ConversationView {
    fn from(c: Conversation) -> Self {
        ConversationView {
            id: c.summary.id,
            title: c.summary.title,
            collection: c.summary.collection,
            created_at: c.summary.created_at,
            updated_at: c.summary.updated_at,
            turns: c.turns.into_iter().map(TurnView::from).collect(),
        }
    }
}
