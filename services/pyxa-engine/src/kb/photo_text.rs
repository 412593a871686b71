//! Text printed on photos, read in the background during ingest: an item is acknowledged once
//! its photo is embedded and indexed; the text read from the photo joins it afterwards (stored,
//! in its text vector and keywords). At most [`PENDING_READS`] photos wait to be read, so a bulk
//! upload slows down to the reader's pace instead of holding every photo's pixels in memory.

use std::sync::Arc;

use pyxa_core::{Embedding, IndexState, Item, Result, RgbPixels};
use tokio::sync::Semaphore;

use super::items::searchable_text;
use super::KnowledgeBase;

/// Photos read or waiting to be read at once.
pub(super) const PENDING_READS: u32 = 16;

/// The background reads of a knowledge base: a permit per photo in flight.
#[derive(Clone)]
pub(super) struct TextReads(Arc<Semaphore>);

impl Default for TextReads {
    fn default() -> Self {
        Self(Arc::new(Semaphore::new(PENDING_READS as usize)))
    }
}

impl KnowledgeBase {
    /// Reads the text on a new item's photo in the background; waits only while
    /// [`PENDING_READS`] photos are already waiting.
    pub(super) async fn read_text_later(&self, item: Item, pixels: RgbPixels, image_vector: Option<Embedding>) {
        if self.reader.is_none() {
            return;
        }
        let Ok(permit) = self.text_reads.0.clone().acquire_owned().await else { return };
        let kb = self.clone();
        tokio::spawn(async move {
            let id = item.id.clone();
            if let Err(e) = kb.attach_photo_text(item, pixels, image_vector).await {
                tracing::warn!(item_id = %id, code = %e.code, cause = %e.chain(), "could not add the text read from a photo");
            }
            drop(permit);
        });
    }

    /// Waits until every photo handed to the background reader is read (tools that exit after
    /// an ingest, tests).
    pub async fn settle_text_reading(&self) {
        if let Ok(all) = self.text_reads.0.acquire_many(PENDING_READS).await {
            drop(all);
        }
    }

    async fn attach_photo_text(&self, item: Item, pixels: RgbPixels, image_vector: Option<Embedding>) -> Result<()> {
        let Some(ocr_text) = self.read_text(pixels).await? else { return Ok(()) };
        let combined = searchable_text(item.text.as_deref(), Some(&ocr_text)).unwrap_or_default();
        let text_vector = self.embed_text(&combined).await?;
        let space = self.space();
        self.meta.attach_ocr_text(&item.id, &ocr_text, &space, &text_vector).await?;
        let item = Item { ocr_text: Some(ocr_text), ..item };
        self.index(super::point_of(&item, Some(space), image_vector, Some(text_vector))).await?;
        if let Err(e) = self.meta.set_item_state(&item.id, IndexState::Indexed).await {
            // Deleted meanwhile: its point must not come back.
            self.vectors.delete(&item.collection, std::slice::from_ref(&item.id)).await?;
            return Err(e);
        }
        Ok(())
    }
}
