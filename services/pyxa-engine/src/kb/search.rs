//! Nearest items to a photo and/or a text, over both named vectors.

use std::collections::HashMap;
use std::time::Instant;

use pyxa_core::{DocumentRef, Embedding, Error, ErrorCode, IndexState, ItemKind, PayloadFilter, Result, VectorName, VectorQuery};
use serde::Serialize;

use super::{KnowledgeBase, MAX_TOP_K};

/// One search hit, joined with its item. Ids only: the HTTP layer turns `image` into URLs.
#[derive(Debug, Clone, Serialize)]
pub struct Hit {
    pub item_id: String,
    pub label: Option<String>,
    pub kind: ItemKind,
    pub score: f32,
    pub text: Option<String>,
    /// Text read from the item's photo.
    pub ocr_text: Option<String>,
    /// The item's photo (sha256): an identical photo in a question is recognised by it.
    pub image: Option<String>,
    /// For a passage: its document's id and title, and where in the document it is.
    pub document: Option<DocumentRef>,
}

/// A search as the API takes it: a photo, a text, or both.
#[derive(Debug, Clone)]
pub struct SearchQuery {
    pub collection: String,
    pub text: Option<String>,
    pub image: Option<Vec<u8>>,
    pub top_k: usize,
    pub filter: PayloadFilter,
}

#[derive(Debug, Clone, Serialize)]
pub struct SearchResult {
    pub hits: Vec<Hit>,
    pub took_ms: f64,
}

pub fn validate_top_k(top_k: usize) -> Result<()> {
    if top_k == 0 || top_k > MAX_TOP_K {
        return Err(Error::new(ErrorCode::InvalidTopK, format!("top_k must be between 1 and {MAX_TOP_K}")));
    }
    Ok(())
}

/// The query vector for an image and/or a text: their normalised sum when both are given.
pub fn combine(image: Option<Embedding>, text: Option<Embedding>) -> Option<Embedding> {
    match (image, text) {
        (Some(i), Some(t)) => {
            let mut v: Vec<f32> = i.iter().zip(&t).map(|(a, b)| a + b).collect();
            pyxa_core::l2_normalize(&mut v);
            Some(v)
        }
        (Some(v), None) | (None, Some(v)) => Some(v),
        (None, None) => None,
    }
}

impl KnowledgeBase {
    /// Encodes the photo and the text (concurrently) and searches the collection.
    pub async fn search(&self, query: SearchQuery) -> Result<SearchResult> {
        validate_top_k(query.top_k)?;
        self.collection(&query.collection).await?;
        let text = query.text.as_deref().map(str::trim).filter(|t| !t.is_empty());
        let image = query.image.filter(|b| !b.is_empty());
        if text.is_none() && image.is_none() {
            return Err(Error::new(ErrorCode::EmptyQuery, "search needs a text, an image, or both"));
        }
        let started = Instant::now();
        let image_part = async {
            match image {
                Some(bytes) => self.encoder.encode_image(bytes).await.map(|e| Some(e.embedding)),
                None => Ok(None),
            }
        };
        let text_part = async {
            match text {
                Some(t) => self.embed_text(t).await.map(Some),
                None => Ok(None),
            }
        };
        let (image_vector, text_vector) = futures::try_join!(image_part, text_part)?;
        let vector = combine(image_vector, text_vector)
            .ok_or_else(|| Error::new(ErrorCode::EmptyQuery, "search needs a text, an image, or both"))?;
        let hits = self.search_vectors(&query.collection, &vector, query.top_k, &query.filter).await?;
        Ok(SearchResult { hits, took_ms: started.elapsed().as_secs_f64() * 1e3 })
    }

    /// Nearest items to an embedding over both named vectors (searched concurrently), best first.
    pub async fn search_vectors(
        &self,
        collection: &str,
        vector: &Embedding,
        top_k: usize,
        filter: &PayloadFilter,
    ) -> Result<Vec<Hit>> {
        // Only vectors of the encoder's own space are comparable with the query.
        let filter = PayloadFilter { space: Some(self.space()), ..filter.clone() };
        let query = |using| VectorQuery {
            collection: collection.to_string(),
            using,
            vector: vector.clone(),
            top_k,
            filter: filter.clone(),
            exact: false,
        };
        let (image_hits, text_hits) =
            futures::try_join!(self.vectors.search(query(VectorName::Image)), self.vectors.search(query(VectorName::Text)))?;
        let mut best: HashMap<String, f32> = HashMap::new();
        for h in image_hits.into_iter().chain(text_hits) {
            let e = best.entry(h.item_id).or_insert(f32::MIN);
            *e = e.max(h.score);
        }
        let ids: Vec<String> = best.keys().cloned().collect();
        let items = self.meta.get_items(&ids).await?;
        let mut hits: Vec<Hit> = items
            .iter()
            .filter(|i| i.state == IndexState::Indexed && i.collection == collection)
            .map(|i| Hit {
                item_id: i.id.clone(),
                label: i.label.clone(),
                kind: i.kind,
                score: best[&i.id],
                text: i.text.clone(),
                ocr_text: i.ocr_text.clone(),
                image: i.blob_hash.clone(),
                document: i.document.clone(),
            })
            .collect();
        hits.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.item_id.cmp(&b.item_id)));
        hits.truncate(top_k);
        Ok(hits)
    }
}
