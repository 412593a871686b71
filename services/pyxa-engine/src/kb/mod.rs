//! The knowledge base: collections and items across SQL (source of truth), the vector store and
//! the image store, kept consistent: an item is acknowledged only once it is in both stores, and
//! whatever a crash left half-done is settled by [`KnowledgeBase::repair`] at start-up.

mod documents;
mod items;
mod photo_text;
mod photos;
mod reindex;
mod repair;
mod search;
mod text_cache;

use std::sync::Arc;

use pyxa_core::{
    Collection, CollectionSettings, DocumentParser, Embedding, Encoder, Error, ErrorCode, ImageStore, Item, MetadataStore,
    Result, TextReader, VectorPoint, VectorStore,
};

pub use documents::{clean_file_name, MAX_DOCUMENT_BYTES, MAX_DOCUMENT_PASSAGES};
pub use items::MAX_PAGE;
pub use items::{content_hash, is_image_id, searchable_text, ItemInput};
pub use reindex::ReindexReport;
pub use repair::RepairReport;
pub use search::{combine, fuse_ranked, validate_top_k, Hit, SearchQuery, SearchResult};

pub const DEFAULT_COLLECTION: &str = "default";
pub const MAX_TOP_K: usize = 100;
const MAX_DESCRIPTION_CHARS: usize = 1000;

/// Recent questions whose vectors are kept.
const QUESTION_VECTORS_CACHED: usize = 1024;

/// Everything the domain runs on: the four engine traits.
#[derive(Clone)]
pub struct KnowledgeBase {
    pub encoder: Arc<dyn Encoder>,
    pub vectors: Arc<dyn VectorStore>,
    pub meta: Arc<dyn MetadataStore>,
    pub images: Arc<dyn ImageStore>,
    /// Reads text printed in photos (OCR); none: photos carry no text.
    pub reader: Option<Arc<dyn TextReader>>,
    /// Reads uploaded documents; none: documents are refused.
    pub documents: Option<Arc<dyn DocumentParser>>,
    /// English readings of Chinese labels; none: a Chinese label is embedded as it is.
    pub lexicon: Option<Arc<crate::lexicon::Lexicon>>,
    /// The encoder's embedding space, read once: every search filters on it.
    space: Arc<str>,
    /// Vectors of recent questions.
    text_vectors: Arc<text_cache::TextVectorCache>,
    /// How long photos that were only asked about are kept; `None`: for ever.
    photo_retention: Option<std::time::Duration>,
    /// Uploads hold the read side while their photo is stored but not yet held by an item;
    /// deleting unused photos holds the write side.
    photo_writes: Arc<tokio::sync::RwLock<()>>,
    /// Photos whose printed text is being read in the background.
    text_reads: photo_text::TextReads,
    /// Zero when this process is the only writer of its stores; otherwise how long another
    /// replica's write may take, during which repair and photo release leave its rows alone.
    other_writers_grace: std::time::Duration,
}

/// What an item is found by in keyword search: its label, its text, the text read from its
/// photo and, for a passage, its document's title.
pub fn keyword_text(item: &Item) -> String {
    [item.label.as_deref(), item.document.as_ref().map(|d| d.title.as_str()), item.text.as_deref(), item.ocr_text.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join("\n")
}

/// The vector-store point of a stored item, with the vectors of `space`.
fn point_of(item: &Item, space: Option<String>, image: Option<Embedding>, text: Option<Embedding>) -> VectorPoint {
    let keywords = pyxa_core::keywords::document_vector(&keyword_text(item));
    VectorPoint {
        keywords: (!keywords.is_empty()).then_some(keywords),
        item_id: item.id.clone(),
        collection: item.collection.clone(),
        label: item.label.clone(),
        kind: item.kind,
        tenant: item.tenant.clone(),
        space,
        image,
        text,
    }
}

fn validate_description(description: &str) -> Result<()> {
    if description.chars().count() > MAX_DESCRIPTION_CHARS {
        return Err(Error::new(
            ErrorCode::FieldTooLong,
            format!("description is longer than {MAX_DESCRIPTION_CHARS} characters"),
        ));
    }
    Ok(())
}

const MAX_SYSTEM_PROMPT_CHARS: usize = 4000;

/// Checks workspace settings: each value in its range.
pub fn validate_settings(s: &CollectionSettings) -> Result<()> {
    let invalid = |msg: String| Err(Error::new(ErrorCode::InvalidSettings, msg));
    if let Some(m) = &s.mode {
        if !matches!(m.as_str(), "chat" | "query") {
            return invalid(format!("settings.mode {m:?} is not chat or query"));
        }
    }
    if let Some(p) = &s.system_prompt {
        if p.trim().is_empty() || p.chars().count() > MAX_SYSTEM_PROMPT_CHARS {
            return invalid(format!("settings.system_prompt must be 1-{MAX_SYSTEM_PROMPT_CHARS} characters"));
        }
    }
    if let Some(t) = s.temperature {
        if !(0.0..=2.0).contains(&t) {
            return invalid("settings.temperature must be between 0 and 2".into());
        }
    }
    if let Some(k) = s.top_k {
        if !(1..=MAX_TOP_K).contains(&k) {
            return invalid(format!("settings.top_k must be between 1 and {MAX_TOP_K}"));
        }
    }
    if let Some(m) = s.min_similarity {
        if !(0.0..=1.0).contains(&m) {
            return invalid("settings.min_similarity must be between 0 and 1".into());
        }
    }
    Ok(())
}

pub fn validate_collection_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(Error::new(ErrorCode::InvalidCollectionName, "collection names are 1-64 characters of a-z, 0-9, _ and -"))
    }
}

impl KnowledgeBase {
    pub fn new(
        encoder: Arc<dyn Encoder>,
        vectors: Arc<dyn VectorStore>,
        meta: Arc<dyn MetadataStore>,
        images: Arc<dyn ImageStore>,
    ) -> Self {
        let space = Arc::from(encoder.info().space);
        let text_vectors = Arc::new(text_cache::TextVectorCache::new(QUESTION_VECTORS_CACHED));
        Self {
            encoder,
            vectors,
            meta,
            images,
            reader: None,
            documents: None,
            lexicon: None,
            space,
            text_vectors,
            photo_retention: None,
            photo_writes: Arc::default(),
            text_reads: Default::default(),
            other_writers_grace: std::time::Duration::ZERO,
        }
    }

    /// The same knowledge base sharing its stores with other pyxa replicas, whose writes in
    /// progress (uploads, document ingestion, deletions) take at most `grace`: repair and
    /// photo release leave alone what was written within it.
    pub fn with_other_writers(mut self, grace: std::time::Duration) -> Self {
        self.other_writers_grace = grace;
        self
    }

    /// Rows last changed before this time (unix seconds) belong to no write in progress.
    fn settled_before(&self) -> pyxa_core::Timestamp {
        if self.other_writers_grace.is_zero() {
            // The only writer: everything unsettled at start-up was left by a crash.
            i64::MAX
        } else {
            pyxa_core::now().saturating_sub(self.other_writers_grace.as_secs() as i64)
        }
    }

    /// Whether other replicas share the stores (and repair must run now and then).
    pub fn has_other_writers(&self) -> bool {
        !self.other_writers_grace.is_zero()
    }

    /// The same knowledge base reading uploaded documents with `parser`.
    pub fn with_document_parser(mut self, parser: Arc<dyn DocumentParser>) -> Self {
        self.documents = Some(parser);
        self
    }

    /// The same knowledge base embedding Chinese labels with their readings in `lexicon`.
    pub fn with_lexicon(mut self, lexicon: Arc<crate::lexicon::Lexicon>) -> Self {
        self.lexicon = Some(lexicon);
        self
    }

    /// The same knowledge base reading the text in photos with `reader`.
    pub fn with_text_reader(mut self, reader: Arc<dyn TextReader>) -> Self {
        self.reader = Some(reader);
        self
    }

    pub fn dim(&self) -> usize {
        self.encoder.info().dim
    }

    /// The embedding space of the encoder: only vectors of this space are searched.
    pub fn space(&self) -> String {
        self.space.to_string()
    }

    /// Makes sure the default collection exists and settles what a crash left: what every
    /// process does once before serving.
    pub async fn open(&self) -> Result<RepairReport> {
        self.meta.ensure_collection(DEFAULT_COLLECTION, "Default collection").await?;
        self.vectors.ensure_collection(DEFAULT_COLLECTION, self.dim()).await?;
        self.repair().await
    }

    pub async fn create_collection(&self, name: &str, description: &str) -> Result<Collection> {
        self.create_collection_with(name, description, None).await
    }

    /// Creates a collection with its workspace settings (checked first).
    pub async fn create_collection_with(
        &self,
        name: &str,
        description: &str,
        settings: Option<&CollectionSettings>,
    ) -> Result<Collection> {
        validate_collection_name(name)?;
        validate_description(description)?;
        if let Some(s) = settings {
            validate_settings(s)?;
        }
        let mut collection = self.meta.create_collection(name, description).await?;
        if let Some(s) = settings {
            collection = self.meta.update_collection(name, None, Some(s)).await?;
        }
        // A vector collection left over from an earlier one of the same name holds stale points.
        self.vectors.delete_collection(name).await?;
        self.vectors.ensure_collection(name, self.dim()).await?;
        Ok(collection)
    }

    /// The collection, creating it when missing (for `pyxa ingest`).
    pub async fn ensure_collection(&self, name: &str) -> Result<Collection> {
        match self.meta.get_collection(name).await? {
            Some(c) => Ok(c),
            None => self.create_collection(name, "").await,
        }
    }

    pub async fn collection(&self, name: &str) -> Result<Collection> {
        validate_collection_name(name)?;
        self.meta
            .get_collection(name)
            .await?
            .ok_or_else(|| Error::new(ErrorCode::UnknownCollection, format!("no collection named {name:?}")))
    }

    /// Changes a collection's description and/or workspace settings.
    pub async fn update_collection(
        &self,
        name: &str,
        description: Option<&str>,
        settings: Option<&CollectionSettings>,
    ) -> Result<Collection> {
        self.collection(name).await?;
        if let Some(d) = description {
            validate_description(d)?;
        }
        if let Some(s) = settings {
            validate_settings(s)?;
        }
        self.meta.update_collection(name, description, settings).await
    }

    pub async fn list_collections(&self) -> Result<Vec<Collection>> {
        self.meta.list_collections().await
    }

    pub async fn delete_collection(&self, name: &str) -> Result<()> {
        self.collection(name).await?;
        if name == DEFAULT_COLLECTION {
            return Err(Error::new(ErrorCode::CollectionProtected, "the default collection cannot be deleted"));
        }
        let photos = self.collection_photos(name).await?;
        // SQL first: it is the source of truth; a stale vector collection is cleared on re-create
        // and its hits are dropped because they no longer join to an item.
        self.meta.delete_collection(name).await?;
        self.vectors.delete_collection(name).await?;
        self.release_photos(photos).await;
        Ok(())
    }

    /// The photos of a collection's items.
    async fn collection_photos(&self, name: &str) -> Result<Vec<String>> {
        let mut photos = std::collections::BTreeSet::new();
        let mut offset = 0;
        loop {
            let (page, total) = self.meta.list_items(name, None, items::MAX_PAGE, offset).await?;
            photos.extend(page.iter().filter_map(|i| i.blob_hash.clone()));
            offset += page.len() as i64;
            if page.is_empty() || offset >= total {
                return Ok(photos.into_iter().collect());
            }
        }
    }

    /// Builds the vector index of a collection (after a bulk ingest).
    pub async fn optimize(&self, collection: &str) -> Result<()> {
        self.vectors.optimize(collection).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collection_names_are_checked() {
        assert!(validate_collection_name("pets_2").is_ok());
        let ok = CollectionSettings { mode: Some("query".into()), temperature: Some(0.7), top_k: Some(8), ..Default::default() };
        assert!(validate_settings(&ok).is_ok());
        for bad in [
            CollectionSettings { mode: Some("both".into()), ..Default::default() },
            CollectionSettings { temperature: Some(3.0), ..Default::default() },
            CollectionSettings { top_k: Some(0), ..Default::default() },
            CollectionSettings { min_similarity: Some(1.5), ..Default::default() },
            CollectionSettings { system_prompt: Some("  ".into()), ..Default::default() },
        ] {
            assert_eq!(validate_settings(&bad).unwrap_err().code, "invalid_settings", "{bad:?}");
        }
        for bad in ["", "Pets", "../etc", "a b", &"x".repeat(65)] {
            assert_eq!(validate_collection_name(bad).unwrap_err().code, "invalid_collection_name");
        }
    }
}
