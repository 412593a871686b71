//! The knowledge base: collections and items across SQL (source of truth), the vector store and
//! the blob store, kept consistent: an item is acknowledged only once it is in both stores, and
//! whatever a crash left half-done is settled by [`KnowledgeBase::repair`] at start-up.

use std::collections::HashMap;
use std::sync::Arc;

use pyxa_core::{
    Collection, Embedding, Encoder, Error, IndexState, Item, ItemKind, MetadataStore, NewItem, PayloadFilter, Result,
    VectorName, VectorPoint, VectorQuery, VectorStore,
};
use pyxa_encoders::preprocess::{self, DecodeLimits};
use serde::Serialize;

use crate::blobs::{self, BlobStore};

pub const DEFAULT_COLLECTION: &str = "default";
const MAX_LABEL_CHARS: usize = 200;
const MAX_TEXT_CHARS: usize = 10_000;
const MAX_METADATA_BYTES: usize = 16 * 1024;
pub const MAX_TOP_K: usize = 100;

/// Everything pyxa runs on.
#[derive(Clone)]
pub struct KnowledgeBase {
    pub encoder: Arc<dyn Encoder>,
    pub vectors: Arc<dyn VectorStore>,
    pub meta: Arc<dyn MetadataStore>,
    pub blobs: BlobStore,
    pub decode_limits: DecodeLimits,
}

/// An item as the API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct ItemView {
    pub id: String,
    pub collection: String,
    pub label: Option<String>,
    pub text: Option<String>,
    pub kind: ItemKind,
    pub metadata: serde_json::Value,
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
            kind: item.kind,
            metadata: item.metadata.clone(),
            content_hash: item.content_hash.clone(),
            thumbnail_url: item.blob_hash.as_deref().map(blobs::thumbnail_url),
            image_url: item.blob_hash.as_deref().map(blobs::image_url),
            created_at: item.created_at,
        }
    }
}

/// What a user uploads.
#[derive(Debug, Clone, Default)]
pub struct ItemInput {
    pub image: Option<Vec<u8>>,
    pub text: Option<String>,
    pub label: Option<String>,
    pub metadata: Option<serde_json::Value>,
    pub tenant: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Hit {
    pub item_id: String,
    pub label: Option<String>,
    pub kind: ItemKind,
    pub score: f32,
    pub thumbnail_url: Option<String>,
    pub text: Option<String>,
    /// The item's photo (sha256): an identical photo in a question is recognised by it.
    #[serde(skip)]
    pub blob_hash: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct RepairReport {
    pub indexed: usize,
    pub purged: usize,
}

pub fn validate_collection_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(Error::invalid("invalid_collection_name", "collection names are 1-64 characters of a-z, 0-9, _ and -"))
    }
}

fn clean_optional(s: Option<String>, max: usize, field: &'static str) -> Result<Option<String>> {
    let Some(s) = s else { return Ok(None) };
    let s = s.trim().to_string();
    if s.is_empty() {
        return Ok(None);
    }
    if s.chars().count() > max {
        return Err(Error::invalid("field_too_long", format!("{field} is longer than {max} characters")));
    }
    if s.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(Error::invalid("invalid_characters", format!("{field} contains control characters")));
    }
    Ok(Some(s))
}

/// sha256 over the item's content: the idempotency key of an upload.
pub fn content_hash(image: Option<&[u8]>, text: Option<&str>, label: Option<&str>) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for part in [image.unwrap_or_default(), text.unwrap_or_default().as_bytes(), label.unwrap_or_default().as_bytes()] {
        h.update((part.len() as u64).to_le_bytes());
        h.update(part);
    }
    hex::encode(h.finalize())
}

impl KnowledgeBase {
    pub fn dim(&self) -> usize {
        self.encoder.info().dim
    }

    pub async fn ensure_default_collection(&self) -> Result<()> {
        self.meta.ensure_collection(DEFAULT_COLLECTION, "Default collection").await?;
        self.vectors.ensure_collection(DEFAULT_COLLECTION, self.dim()).await
    }

    pub async fn create_collection(&self, name: &str, description: &str) -> Result<Collection> {
        validate_collection_name(name)?;
        if description.chars().count() > 1000 {
            return Err(Error::invalid("field_too_long", "description is longer than 1000 characters"));
        }
        let collection = self.meta.create_collection(name, description).await?;
        // A vector collection left over from an earlier one of the same name holds stale points.
        self.vectors.delete_collection(name).await?;
        self.vectors.ensure_collection(name, self.dim()).await?;
        Ok(collection)
    }

    pub async fn collection(&self, name: &str) -> Result<Collection> {
        validate_collection_name(name)?;
        self.meta
            .get_collection(name)
            .await?
            .ok_or_else(|| Error::not_found("unknown_collection", format!("no collection named {name:?}")))
    }

    pub async fn delete_collection(&self, name: &str) -> Result<()> {
        self.collection(name).await?;
        if name == DEFAULT_COLLECTION {
            return Err(Error::conflict("collection_protected", "the default collection cannot be deleted"));
        }
        // SQL first: it is the source of truth; a stale vector collection is cleared on re-create
        // and its hits are dropped because they no longer join to an item.
        self.meta.delete_collection(name).await?;
        self.vectors.delete_collection(name).await
    }

    /// Validates, stores the blob, embeds, writes SQL (pending), writes the vector store, then
    /// marks the item indexed: only then is it acknowledged.
    pub async fn add_item(&self, collection: &str, input: ItemInput) -> Result<Item> {
        self.collection(collection).await?;
        let label = clean_optional(input.label, MAX_LABEL_CHARS, "label")?;
        let text = clean_optional(input.text, MAX_TEXT_CHARS, "text")?;
        let tenant = clean_optional(input.tenant, 128, "tenant")?;
        let metadata = input.metadata.unwrap_or_else(|| serde_json::json!({}));
        if !metadata.is_object() {
            return Err(Error::invalid("invalid_metadata", "metadata must be a JSON object"));
        }
        if serde_json::to_vec(&metadata).map(|v| v.len()).unwrap_or(usize::MAX) > MAX_METADATA_BYTES {
            return Err(Error::new(pyxa_core::ErrorKind::TooLarge, "metadata_too_large", format!("metadata is larger than {MAX_METADATA_BYTES} bytes")));
        }
        let image = input.image.filter(|b| !b.is_empty() || text.is_none());
        if image.is_none() && text.is_none() {
            return Err(Error::invalid("empty_item", "an item needs an image, a text, or both"));
        }
        let hash = content_hash(image.as_deref(), text.as_deref(), label.as_deref());
        if let Some(existing) = self.meta.find_item_by_hash(collection, &hash).await? {
            return Err(Error::conflict("duplicate_item", format!("this item is already in the collection as {}", existing.id)));
        }
        let (blob_hash, image_vector) = match &image {
            Some(bytes) => {
                let (hash, vector) = self.store_and_embed_image(bytes.clone()).await?;
                (Some(hash), Some(vector))
            }
            None => (None, None),
        };
        let text_vector = match &text {
            Some(t) => Some(self.encoder.encode_texts(vec![t.clone()]).await?.remove(0)),
            None => None,
        };
        let kind = match (image_vector.is_some(), text_vector.is_some()) {
            (true, true) => ItemKind::ImageText,
            (true, false) => ItemKind::Image,
            _ => ItemKind::Text,
        };
        let new = NewItem {
            id: uuid::Uuid::now_v7().to_string(),
            collection: collection.to_string(),
            label,
            text,
            kind,
            metadata,
            content_hash: hash,
            blob_hash,
            tenant,
            image_vector,
            text_vector,
        };
        let item = self.meta.insert_item(new.clone()).await?;
        let point = VectorPoint {
            item_id: item.id.clone(),
            collection: collection.to_string(),
            label: item.label.clone(),
            kind,
            tenant: item.tenant.clone(),
            image: new.image_vector,
            text: new.text_vector,
        };
        if let Err(e) = self.index(point).await {
            // Not acknowledged: take it back so the client can simply retry.
            let _ = self.meta.purge_item(&item.id).await;
            return Err(e);
        }
        self.meta.set_item_state(&item.id, IndexState::Indexed).await?;
        crate::metrics::ITEMS_INGESTED.inc();
        Ok(Item { state: IndexState::Indexed, ..item })
    }

    async fn index(&self, point: VectorPoint) -> Result<()> {
        self.vectors.ensure_collection(&point.collection, self.dim()).await?;
        self.vectors.upsert(vec![point]).await
    }

    /// Stores original + thumbnail and embeds the photo, decoding it once for both.
    pub async fn store_and_embed_image(&self, bytes: Vec<u8>) -> Result<(String, Embedding)> {
        let (hash, rgb) = self.store_image(bytes).await?;
        let encoding = self.embed_rgb(rgb).await?;
        Ok((hash, encoding.embedding))
    }

    /// Embeds a photo decoded by [`Self::store_image`].
    pub async fn embed_rgb(&self, rgb: image::RgbImage) -> Result<pyxa_core::ImageEncoding> {
        let (width, height) = rgb.dimensions();
        self.encoder.encode_rgb(rgb.into_raw(), width, height).await
    }

    /// Decodes an uploaded photo (refusing what is not a sane image), stores the original and a
    /// thumbnail, and returns its hash and the decoded pixels.
    pub async fn store_image(&self, bytes: Vec<u8>) -> Result<(String, image::RgbImage)> {
        let limits = self.decode_limits;
        let store = self.blobs.clone();
        let (blob, rgb) = tokio::task::spawn_blocking(move || -> Result<_> {
            let decoded = preprocess::decode(&bytes, limits)?;
            let mime = format!("image/{}", format!("{:?}", decoded.format).to_ascii_lowercase());
            let blob = store.put_image(&bytes, &decoded.rgb, &mime)?;
            Ok((blob, decoded.rgb))
        })
        .await
        .map_err(|e| Error::internal(format!("image task: {e}")))??;
        self.meta.put_blob(&blob).await?;
        Ok((blob.hash, rgb))
    }

    pub async fn get_item(&self, collection: &str, id: &str) -> Result<Item> {
        self.collection(collection).await?;
        self.meta
            .get_item(collection, id)
            .await?
            .ok_or_else(|| Error::not_found("unknown_item", format!("no item {id} in {collection}")))
    }

    pub async fn delete_item(&self, collection: &str, id: &str) -> Result<()> {
        let item = self.get_item(collection, id).await?;
        self.meta.set_item_state(&item.id, IndexState::Deleting).await?;
        self.vectors.delete(collection, std::slice::from_ref(&item.id)).await?;
        self.meta.purge_item(&item.id).await
    }

    /// Settles what a crash left between SQL and the vector store.
    pub async fn repair(&self) -> Result<RepairReport> {
        let mut report = RepairReport::default();
        loop {
            let batch = self.meta.unsettled_items(256).await?;
            if batch.is_empty() {
                break;
            }
            for iv in batch {
                let item = &iv.item;
                match item.state {
                    IndexState::Pending => {
                        let point = VectorPoint {
                            item_id: item.id.clone(),
                            collection: item.collection.clone(),
                            label: item.label.clone(),
                            kind: item.kind,
                            tenant: item.tenant.clone(),
                            image: iv.image_vector.clone(),
                            text: iv.text_vector.clone(),
                        };
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

    /// Nearest items to an image and/or text embedding, over both named vectors, best first.
    pub async fn search_vectors(
        &self,
        collection: &str,
        query: &Embedding,
        top_k: usize,
        filter: &PayloadFilter,
    ) -> Result<Vec<Hit>> {
        let mut best: HashMap<String, f32> = HashMap::new();
        for using in [VectorName::Image, VectorName::Text] {
            let hits = self
                .vectors
                .search(VectorQuery {
                    collection: collection.to_string(),
                    using,
                    vector: query.clone(),
                    top_k,
                    filter: filter.clone(),
                    exact: false,
                })
                .await?;
            for h in hits {
                let e = best.entry(h.item_id).or_insert(f32::MIN);
                *e = e.max(h.score);
            }
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
                thumbnail_url: i.blob_hash.as_deref().map(blobs::thumbnail_url),
                text: i.text.clone(),
                blob_hash: i.blob_hash.clone(),
            })
            .collect();
        hits.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.item_id.cmp(&b.item_id)));
        hits.truncate(top_k);
        Ok(hits)
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collection_names_are_checked() {
        assert!(validate_collection_name("pets_2").is_ok());
        for bad in ["", "Pets", "../etc", "a b", &"x".repeat(65)] {
            assert_eq!(validate_collection_name(bad).unwrap_err().code, "invalid_collection_name");
        }
    }

    #[test]
    fn content_hash_separates_fields() {
        assert_ne!(content_hash(None, Some("ab"), Some("c")), content_hash(None, Some("a"), Some("bc")));
        assert_eq!(content_hash(Some(b"x"), None, None), content_hash(Some(b"x"), None, None));
    }
}
