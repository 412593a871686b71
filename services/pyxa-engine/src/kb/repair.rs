//! Start-up repair: settles what a crash left between SQL and the vector store.

use pyxa_core::{IndexState, Result};
use serde::Serialize;

use super::{point_of, KnowledgeBase};

const REPAIR_BATCH: i64 = 256;

#[derive(Debug, Clone, Default, Serialize)]
pub struct RepairReport {
    pub indexed: usize,
    pub purged: usize,
}

impl KnowledgeBase {
    /// Indexes items left `Pending` and finishes deletions left `Deleting`. With other
    /// replicas sharing the stores, only rows older than their grace: a younger one may be
    /// another replica's upload in progress.
    pub async fn repair(&self) -> Result<RepairReport> {
        let mut report = RepairReport::default();
        let settled_before = self.settled_before();
        // A document upload or deletion a crash interrupted is removed whole: its upload was
        // never acknowledged, its deletion was asked for.
        for document in self.meta.unsettled_documents(settled_before).await? {
            self.remove_document(&document).await?;
            report.purged += document.passages.max(0) as usize;
        }
        loop {
            let batch = self.meta.unsettled_items(REPAIR_BATCH, settled_before).await?;
            if batch.is_empty() {
                break;
            }
            for iv in batch {
                let item = &iv.item;
                match item.state {
                    IndexState::Pending => {
                        let point = point_of(item, item.space.clone(), iv.image_vector.clone(), iv.text_vector.clone());
                        self.index(point).await?;
                        self.meta.set_item_state(&item.id, IndexState::Indexed).await?;
                        report.indexed += 1;
                    }
                    IndexState::Deleting => {
                        self.vectors.delete(&item.collection, std::slice::from_ref(&item.id)).await?;
                        self.meta.purge_item(&item.id).await?;
                        report.purged += 1;
                    }
                    IndexState::Indexed => {}
                }
            }
        }
        if report.indexed + report.purged > 0 {
            tracing::warn!(indexed = report.indexed, purged = report.purged, "repaired items left unsettled by a crash");
        }
        Ok(report)
    }
}
