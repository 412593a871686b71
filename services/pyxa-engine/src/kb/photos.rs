//! The life of stored photos: a photo stays while an item holds it or an answer made within the
//! retention shows it; deleting its last item deletes it at once, and photos that were only asked
//! about go when the retention has passed since they were last used.

use std::time::Duration;

use pyxa_core::Result;

use super::KnowledgeBase;

/// Photos deleted per round of a sweep.
const SWEEP_BATCH: i64 = 500;

impl KnowledgeBase {
    /// Keeps photos that were only asked about for `retention` after their last use; `None`
    /// keeps them for ever (and any answer that shows a photo keeps it).
    pub fn with_photo_retention(mut self, retention: Option<Duration>) -> Self {
        self.photo_retention = retention;
        self
    }

    /// The oldest answer time (unix seconds) that still keeps a photo.
    fn answers_keep_since(&self) -> i64 {
        match self.photo_retention {
            Some(r) => pyxa_core::now().saturating_sub(r.as_secs() as i64),
            None => 0,
        }
    }

    /// Deletes those of `hashes` that nothing keeps any more (after their items were deleted).
    /// A failure here costs disk space, not the deletion that called it, so it is logged.
    pub(super) async fn release_photos(&self, hashes: Vec<String>) {
        if hashes.is_empty() {
            return;
        }
        // Uploads hold the read side from storing a photo until their item holds it.
        let _no_uploads_in_flight = self.photo_writes.write().await;
        let mut deleted = 0;
        for chunk in hashes.chunks(SWEEP_BATCH as usize) {
            // A photo another replica stored within the grace may be about to get its item.
            let unused = self.meta.unused_blobs(Some(chunk), self.settled_before(), self.answers_keep_since(), SWEEP_BATCH).await;
            match unused {
                Ok(unused) => deleted += self.delete_photos(&unused).await,
                Err(e) => tracing::warn!(cause = %e.chain(), "could not check which photos are still used"),
            }
        }
        if deleted > 0 {
            tracing::info!(deleted, "photos no item or recent answer uses were deleted");
        }
    }

    /// Deletes the photos that no item holds and that were last used longer ago than the
    /// retention. Returns how many went.
    pub async fn sweep_photos(&self) -> Result<usize> {
        let Some(_) = self.photo_retention else { return Ok(0) };
        let _no_uploads_in_flight = self.photo_writes.write().await;
        let cutoff = self.answers_keep_since();
        let mut deleted = 0;
        loop {
            let unused = self.meta.unused_blobs(None, cutoff, cutoff, SWEEP_BATCH).await?;
            let n = self.delete_photos(&unused).await;
            deleted += n;
            if unused.len() < SWEEP_BATCH as usize || n == 0 {
                break;
            }
        }
        if deleted > 0 {
            tracing::info!(deleted, "photos past their retention were deleted");
        }
        Ok(deleted)
    }

    /// The record first, then the files: a failure leaves at worst files nothing points to.
    async fn delete_photos(&self, hashes: &[String]) -> usize {
        let mut deleted = 0;
        for hash in hashes {
            let done = async {
                self.meta.delete_blob(hash).await?;
                self.images.delete(hash).await
            };
            match done.await {
                Ok(()) => deleted += 1,
                Err(e) => tracing::warn!(hash, cause = %e.chain(), "could not delete a photo"),
            }
        }
        deleted
    }
}
