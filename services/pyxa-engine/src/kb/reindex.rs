//! Re-embedding after a bundle change: every item whose vectors come from another embedding
//! space (or from before spaces were recorded) is embedded again from its stored photo and text.
//! Searches only ever see the encoder's own space, so a collection being re-embedded shows its
//! re-embedded items and nothing mixed. Resumable: each item is settled on its own (SQL first,
//! marked pending, then the vector store; start-up repair finishes an interrupted one).

use futures::StreamExt;
use pyxa_core::{Embedding, IndexState, ItemVectors, Result};
use serde::Serialize;

use super::{point_of, KnowledgeBase};

/// Items read per round.
const REINDEX_BATCH: i64 = 64;
/// Items embedded at once (the encoder batches them).
const REINDEX_CONCURRENCY: usize = 4;

#[derive(Debug, Clone, Default, Serialize)]
pub struct ReindexReport {
    /// Items whose vectors are now in the current space.
    pub reembedded: usize,
    /// Items that could not be re-embedded (their photo is gone, or it no longer decodes);
    /// they stay out of searches until fixed or deleted.
    pub failed: usize,
}

impl KnowledgeBase {
    /// How many items (of a collection, or all) are not in the encoder's embedding space.
    pub async fn outdated_items(&self, collection: Option<&str>) -> Result<i64> {
        self.meta.count_outside_space(collection, &self.space()).await
    }

    /// Re-embeds every outdated item; `progress(done, total)` is called after each item.
    pub async fn reindex(&self, collection: Option<&str>, mut progress: impl FnMut(usize, usize)) -> Result<ReindexReport> {
        if let Some(c) = collection {
            self.collection(c).await?;
        }
        let space = self.space();
        let total = self.outdated_items(collection).await?.max(0) as usize;
        let mut report = ReindexReport::default();
        let mut after: Option<String> = None;
        loop {
            let batch = self.meta.items_outside_space(collection, &space, after.as_deref(), REINDEX_BATCH).await?;
            let Some(last) = batch.last() else { break };
            after = Some(last.item.id.clone());
            let results: Vec<(String, Result<()>)> = futures::stream::iter(batch)
                .map(|iv| async move { (iv.item.id.clone(), self.reembed(iv).await) })
                .buffer_unordered(REINDEX_CONCURRENCY)
                .collect()
                .await;
            for (id, result) in results {
                match result {
                    Ok(()) => report.reembedded += 1,
                    Err(e) => {
                        tracing::warn!(item_id = %id, code = %e.code, cause = %e.chain(), "could not re-embed an item");
                        report.failed += 1;
                    }
                }
                progress(report.reembedded + report.failed, total);
            }
        }
        for c in self.meta.list_collections().await? {
            if collection.is_none_or(|only| only == c.name) {
                self.vectors.optimize(&c.name).await?;
            }
        }
        Ok(report)
    }

    async fn reembed(&self, iv: ItemVectors) -> Result<()> {
        let item = iv.item;
        let image: Option<Embedding> = match &item.blob_hash {
            Some(hash) => {
                let bytes = self.images.read_original(hash).await?;
                let (_, pixels) = self.images.put(bytes).await?;
                Some(self.embed_pixels(pixels).await?.embedding)
            }
            None => None,
        };
        let text = match super::searchable_text(item.text.as_deref(), item.ocr_text.as_deref()) {
            Some(t) => Some(self.embed_text(&t).await?),
            None => None,
        };
        let space = self.space();
        self.meta.replace_item_vectors(&item.id, &space, image.as_deref(), text.as_deref()).await?;
        self.index(point_of(&item, Some(space), image, text)).await?;
        self.meta.set_item_state(&item.id, IndexState::Indexed).await
    }
}
