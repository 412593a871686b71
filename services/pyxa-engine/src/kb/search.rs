//! Nearest items to a photo and/or a text, over both named vectors.

use std::collections::HashMap;
use std::time::Instant;

use pyxa_core::{
    DocumentRef, Embedding, Error, ErrorCode, IndexState, ItemKind, KeywordQuery, PayloadFilter, Result, VectorName, VectorQuery,
};
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
    /// Found by its keywords (BM25); a hit found only so has no similarity (`score` 0).
    pub keyword_match: bool,
}

/// Longest search text: a query, not a document (as long as an item's text may be).
const MAX_QUERY_CHARS: usize = 10_000;

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
        if text.is_some_and(|t| t.chars().count() > MAX_QUERY_CHARS) {
            return Err(Error::new(ErrorCode::FieldTooLong, format!("text is longer than {MAX_QUERY_CHARS} characters")));
        }
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
        let hits = self.search_hybrid(&query.collection, &vector, text, query.top_k, &query.filter).await?;
        Ok(SearchResult { hits, took_ms: started.elapsed().as_secs_f64() * 1e3 })
    }

    /// Dense search fused (reciprocal rank) with keyword search of `text`: names and numbers
    /// that embeddings miss are found by their words.
    pub async fn search_hybrid(
        &self,
        collection: &str,
        vector: &Embedding,
        text: Option<&str>,
        top_k: usize,
        filter: &PayloadFilter,
    ) -> Result<Vec<Hit>> {
        let keywords = async {
            match text {
                Some(t) => self.search_keywords(collection, t, top_k, filter).await,
                None => Ok(Vec::new()),
            }
        };
        let (dense, keyword) = futures::try_join!(self.search_vectors(collection, vector, top_k, filter), keywords)?;
        Ok(fuse_ranked(vec![dense, keyword], top_k))
    }

    /// Items ranked by BM25 over their keywords (the store applies the collection's IDF).
    pub async fn search_keywords(&self, collection: &str, text: &str, top_k: usize, filter: &PayloadFilter) -> Result<Vec<Hit>> {
        let terms = pyxa_core::keywords::query_vector(text);
        if terms.is_empty() {
            return Ok(Vec::new());
        }
        let filter = PayloadFilter { space: Some(self.space()), ..filter.clone() };
        let query = KeywordQuery { collection: collection.to_string(), terms, top_k, filter };
        let ranked = self.vectors.search_keywords(query).await?;
        let ids: Vec<String> = ranked.iter().map(|p| p.item_id.clone()).collect();
        let items: HashMap<String, pyxa_core::Item> =
            self.meta.get_items(&ids).await?.into_iter().map(|i| (i.id.clone(), i)).collect();
        Ok(ranked
            .iter()
            .filter_map(|p| items.get(&p.item_id))
            .filter(|i| i.state == IndexState::Indexed && i.collection == collection)
            .map(|i| Hit {
                item_id: i.id.clone(),
                label: i.label.clone(),
                kind: i.kind,
                score: 0.0,
                text: i.text.clone(),
                ocr_text: i.ocr_text.clone(),
                image: i.blob_hash.clone(),
                document: i.document.clone(),
                // Ranked by BM25 over any shared term; a match only by a telling one.
                keyword_match: pyxa_core::keywords::shares_a_telling_term(text, &super::keyword_text(i)),
            })
            .collect())
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
                keyword_match: false,
            })
            .collect();
        hits.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.item_id.cmp(&b.item_id)));
        hits.truncate(top_k);
        Ok(hits)
    }
}

/// Reciprocal rank fusion's constant (Cormack et al. 2009): ranks beyond the first few matter little.
const RRF_K: f32 = 60.0;

/// Fuses ranked hit lists by reciprocal rank. A hit in several lists keeps its best similarity
/// and is a keyword match if any list found it by keywords.
pub fn fuse_ranked(lists: Vec<Vec<Hit>>, top_k: usize) -> Vec<Hit> {
    let mut fused: Vec<(f32, Hit)> = Vec::new();
    for list in lists {
        for (rank, hit) in list.into_iter().enumerate() {
            let rrf = 1.0 / (RRF_K + rank as f32 + 1.0);
            match fused.iter_mut().find(|(_, h)| h.item_id == hit.item_id) {
                Some((score, kept)) => {
                    *score += rrf;
                    kept.score = kept.score.max(hit.score);
                    kept.keyword_match |= hit.keyword_match;
                }
                None => fused.push((rrf, hit)),
            }
        }
    }
    fused.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| b.1.score.total_cmp(&a.1.score)));
    fused.into_iter().take(top_k).map(|(_, h)| h).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hit(id: &str, score: f32, keyword_match: bool) -> Hit {
        Hit {
            item_id: id.into(),
            label: None,
            kind: ItemKind::Passage,
            score,
            text: None,
            ocr_text: None,
            image: None,
            document: None,
            keyword_match,
        }
    }

    #[test]
    fn reciprocal_rank_fusion_favours_what_both_lists_found() {
        let dense = vec![hit("a", 0.6, false), hit("b", 0.5, false), hit("c", 0.4, false)];
        let keywords = vec![hit("c", 0.0, true), hit("d", 0.0, true)];
        let fused = fuse_ranked(vec![dense, keywords], 3);
        let ids: Vec<&str> = fused.iter().map(|h| h.item_id.as_str()).collect();
        assert_eq!(ids, ["c", "a", "b"], "a tie in rank goes to the higher similarity");
        assert!(fused[0].keyword_match && fused[0].score == 0.4, "keeps the similarity and the keyword match");
    }
}
