//! The metadata store: SQL is pyxa's source of truth for collections, items (with their
//! vectors, so the vector store can always be rebuilt), blobs, conversations and feedback.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::{Embedding, ItemKind, Result};

/// Seconds since the Unix epoch.
pub type Timestamp = i64;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Collection {
    pub name: String,
    pub description: String,
    pub item_count: i64,
    pub created_at: Timestamp,
    pub settings: CollectionSettings,
}

/// A collection's workspace settings; each one unset means pyxa's default, and a request may
/// override the mode and the number of evidence items.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CollectionSettings {
    /// `chat` (the model's knowledge and the collection) or `query` (the collection only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    /// Replaces the built-in instructions for questions answered from the collection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_prompt: Option<String>,
    /// Sampling temperature of answers (0: the most probable words).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f32>,
    /// Evidence items (photos, passages, notes) retrieved per question.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_k: Option<usize>,
    /// Retrieved text less similar to the question than this is neither used as a passage nor cited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_similarity: Option<f32>,
}

/// Vector-store state of an item, kept in SQL so that a crash between the SQL write and the
/// vector write is repaired at start-up (the items table doubles as the outbox).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IndexState {
    /// Written to SQL, not yet (known to be) in the vector store.
    Pending,
    /// In the vector store: acknowledged.
    Indexed,
    /// Being deleted: gone from the API, still to be removed from the vector store.
    Deleting,
}

impl IndexState {
    pub fn as_str(self) -> &'static str {
        match self {
            IndexState::Pending => "pending",
            IndexState::Indexed => "indexed",
            IndexState::Deleting => "deleting",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(IndexState::Pending),
            "indexed" => Some(IndexState::Indexed),
            "deleting" => Some(IndexState::Deleting),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item {
    pub id: String,
    pub collection: String,
    pub label: Option<String>,
    pub text: Option<String>,
    /// Text read from the item's photo (OCR), when there is any.
    pub ocr_text: Option<String>,
    pub kind: ItemKind,
    pub metadata: serde_json::Value,
    /// sha256 over the item's content (image bytes, text, label): the idempotency key.
    pub content_hash: String,
    /// sha256 of the stored original image, when the item has one.
    pub blob_hash: Option<String>,
    pub tenant: Option<String>,
    pub state: IndexState,
    /// The embedding space of the stored vectors (none: stored before spaces were recorded).
    pub space: Option<String>,
    /// For a passage: the document it comes from and where in it.
    pub document: Option<DocumentRef>,
    pub created_at: Timestamp,
}

/// Where a passage comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocumentRef {
    pub id: String,
    pub title: String,
    /// 0-based position of the passage in the document.
    pub position: i64,
}

/// An uploaded document; its passages are items of kind `passage`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Document {
    pub id: String,
    pub collection: String,
    pub title: String,
    pub file_name: String,
    pub mime: String,
    /// Size of the uploaded file.
    pub bytes: i64,
    /// sha256 of the uploaded file: the same file twice in a collection is one document.
    pub content_hash: String,
    pub passages: i64,
    /// `pending` while its passages are being indexed, then `indexed`.
    pub state: IndexState,
    pub created_at: Timestamp,
}

/// An item to insert, with its vectors.
#[derive(Debug, Clone)]
pub struct NewItem {
    pub id: String,
    pub collection: String,
    pub label: Option<String>,
    pub text: Option<String>,
    pub ocr_text: Option<String>,
    pub kind: ItemKind,
    pub metadata: serde_json::Value,
    pub content_hash: String,
    pub blob_hash: Option<String>,
    pub tenant: Option<String>,
    pub space: Option<String>,
    pub document: Option<DocumentRef>,
    pub image_vector: Option<Embedding>,
    pub text_vector: Option<Embedding>,
}

/// An item with its stored vectors (what start-up repair replays into the vector store).
#[derive(Debug, Clone)]
pub struct ItemVectors {
    pub item: Item,
    pub image_vector: Option<Embedding>,
    pub text_vector: Option<Embedding>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Blob {
    /// sha256 of the original bytes; also its file name on disk.
    pub hash: String,
    pub mime: String,
    pub size: i64,
    pub width: i64,
    pub height: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabelCount {
    pub label: String,
    pub count: i64,
}

/// One question and its answer, with everything needed to show it again or to learn from
/// feedback on it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AnswerRecord {
    pub answer_id: String,
    pub conversation_id: String,
    pub collection: String,
    pub prompt: String,
    pub answer: String,
    pub language: String,
    pub mode: String,
    /// The photo asked about, when there was one (blob hash).
    pub image_hash: Option<String>,
    #[serde(skip)]
    pub image_vector: Option<Embedding>,
    pub candidates: serde_json::Value,
    pub citations: serde_json::Value,
    pub created_at: Timestamp,
    /// The API key that asked (its id), when the server has keys: its conversation is only
    /// that key's. Not in the answers table: the conversation row keeps it.
    #[serde(default, skip_serializing)]
    pub owner: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ConversationSummary {
    pub id: String,
    pub title: String,
    pub collection: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub turns: i64,
    /// The API key that started it (`None`: made without keys, visible to every caller).
    #[serde(default, skip_serializing)]
    pub owner: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Feedback {
    pub id: String,
    pub answer_id: String,
    pub correct: Option<bool>,
    pub label: Option<String>,
    /// The item created from the correction, if any.
    pub item_id: Option<String>,
    pub created_at: Timestamp,
}

#[async_trait]
pub trait MetadataStore: Send + Sync {
    /// `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;

    // collections
    /// Creates it; `collection_exists` conflict if it exists.
    async fn create_collection(&self, name: &str, description: &str) -> Result<Collection>;
    /// Creates it when missing; returns it either way.
    async fn ensure_collection(&self, name: &str, description: &str) -> Result<Collection>;
    async fn get_collection(&self, name: &str) -> Result<Option<Collection>>;
    async fn list_collections(&self) -> Result<Vec<Collection>>;
    /// Replaces the description (when given) and the settings (when given); `collection_not_found` if missing.
    async fn update_collection(
        &self,
        name: &str,
        description: Option<&str>,
        settings: Option<&CollectionSettings>,
    ) -> Result<Collection>;
    /// Removes the collection and all its items, answers' links stay (they are history).
    async fn delete_collection(&self, name: &str) -> Result<()>;

    // items
    /// Inserts in state `Pending`; `duplicate_item` conflict when the collection already holds
    /// an item with the same content hash.
    async fn insert_item(&self, item: NewItem) -> Result<Item>;
    async fn set_item_state(&self, item_id: &str, state: IndexState) -> Result<()>;
    /// Visible items only (not `Deleting`).
    async fn get_item(&self, collection: &str, item_id: &str) -> Result<Option<Item>>;
    async fn find_item_by_hash(&self, collection: &str, content_hash: &str) -> Result<Option<Item>>;
    /// Visible items, newest first, with the total count.
    async fn list_items(&self, collection: &str, label: Option<&str>, limit: i64, offset: i64) -> Result<(Vec<Item>, i64)>;
    async fn get_items(&self, item_ids: &[String]) -> Result<Vec<Item>>;
    /// Hard delete (after the vector store forgot it).
    async fn purge_item(&self, item_id: &str) -> Result<()>;
    /// Items whose vector-store state is not `Indexed`, with their vectors, last changed before
    /// `changed_before` (so that another pyxa replica's write in progress is left alone).
    async fn unsettled_items(&self, limit: i64, changed_before: Timestamp) -> Result<Vec<ItemVectors>>;
    /// Distinct labels of visible items with counts.
    async fn labels(&self, collection: &str) -> Result<Vec<LabelCount>>;
    /// Visible items (of one collection, or all) whose vectors are not in `space`, with their
    /// vectors, by id after `after_id`: what a re-embedding still has to do.
    async fn items_outside_space(
        &self,
        collection: Option<&str>,
        space: &str,
        after_id: Option<&str>,
        limit: i64,
    ) -> Result<Vec<ItemVectors>>;
    /// How many visible items are not in `space`.
    async fn count_outside_space(&self, collection: Option<&str>, space: &str) -> Result<i64>;
    /// Replaces an item's vectors with ones from `space` and marks it `Pending` (the vector
    /// store is written next; start-up repair finishes it after a crash).
    async fn replace_item_vectors(
        &self,
        item_id: &str,
        space: &str,
        image_vector: Option<&[f32]>,
        text_vector: Option<&[f32]>,
    ) -> Result<()>;
    /// Records the text read from an item's photo and the text vector that includes it; the item
    /// is `pending` until its point is written again. `unknown_item` once it is deleted.
    async fn attach_ocr_text(&self, item_id: &str, ocr_text: &str, space: &str, text_vector: &[f32]) -> Result<()>;
    /// All indexed items of a collection with vectors (for rebuilding the vector store).
    async fn items_with_vectors(&self, collection: &str, after_id: Option<&str>, limit: i64) -> Result<Vec<ItemVectors>>;

    // documents
    /// Inserts in state `Pending`; `duplicate_document` conflict when the collection already
    /// holds the same file.
    async fn insert_document(&self, document: &Document) -> Result<()>;
    async fn set_document_state(&self, document_id: &str, state: IndexState) -> Result<()>;
    async fn get_document(&self, collection: &str, document_id: &str) -> Result<Option<Document>>;
    async fn find_document_by_hash(&self, collection: &str, content_hash: &str) -> Result<Option<Document>>;
    /// A collection's documents, newest first.
    async fn list_documents(&self, collection: &str) -> Result<Vec<Document>>;
    /// Ids of the document's passages (items), whatever their state.
    async fn document_item_ids(&self, document_id: &str) -> Result<Vec<String>>;
    /// Hard delete of the document and its passages (after the vector store forgot them).
    async fn purge_document(&self, document_id: &str) -> Result<()>;
    /// Documents not `Indexed` (an upload or a deletion a crash interrupted), created before
    /// `changed_before` and with no passage written since.
    async fn unsettled_documents(&self, changed_before: Timestamp) -> Result<Vec<Document>>;

    // blobs
    /// Records the blob if new (content-addressed, idempotent) and marks it used now.
    async fn put_blob(&self, blob: &Blob) -> Result<()>;
    async fn get_blob(&self, hash: &str) -> Result<Option<Blob>>;
    /// Blobs (among `among`, or all) that no item holds, last used before `used_before`, and
    /// not in an answer made at or after `answered_since` (unix seconds); at most `limit`.
    async fn unused_blobs(
        &self,
        among: Option<&[String]>,
        used_before: i64,
        answered_since: i64,
        limit: i64,
    ) -> Result<Vec<String>>;
    /// Forgets a blob's record (its bytes are the image store's).
    async fn delete_blob(&self, hash: &str) -> Result<()>;

    // answers and conversations
    /// Creates the conversation when it does not exist yet (title from the first prompt).
    async fn insert_answer(&self, answer: &AnswerRecord) -> Result<()>;
    async fn get_answer(&self, answer_id: &str) -> Result<Option<AnswerRecord>>;
    async fn list_conversations(&self, limit: i64) -> Result<Vec<ConversationSummary>>;
    async fn get_conversation(&self, id: &str) -> Result<Option<(ConversationSummary, Vec<AnswerRecord>)>>;
    async fn insert_feedback(&self, feedback: &Feedback) -> Result<()>;

    // API keys
    async fn insert_api_key(&self, key: &crate::keys::NewApiKey) -> Result<crate::keys::ApiKey>;
    /// The key with this hash, unless revoked.
    async fn find_api_key(&self, hash: &str) -> Result<Option<crate::keys::ApiKey>>;
    /// Keys not revoked, oldest first.
    async fn list_api_keys(&self) -> Result<Vec<crate::keys::ApiKey>>;
    /// Revokes it; `unknown_api_key` when there is no such key (or it was revoked).
    async fn revoke_api_key(&self, id: &str) -> Result<()>;
}

/// Current time as a [`Timestamp`].
pub fn now() -> Timestamp {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}
