//! Adding, reading and deleting items, and storing photos.

use pyxa_core::{
    Embedding, Error, ErrorCode, ImageEncoding, IndexState, Item, ItemKind, NewItem, Result, RgbPixels, VectorPoint,
};

use super::KnowledgeBase;

const MAX_LABEL_CHARS: usize = 200;
const MAX_TEXT_CHARS: usize = 10_000;
const MAX_TENANT_CHARS: usize = 128;
const MAX_METADATA_BYTES: usize = 16 * 1024;
pub const MAX_PAGE: i64 = 500;

/// What a user uploads.
#[derive(Debug, Clone, Default)]
pub struct ItemInput {
    pub image: Option<Vec<u8>>,
    pub text: Option<String>,
    pub label: Option<String>,
    pub metadata: Option<serde_json::Value>,
    pub tenant: Option<String>,
}

fn clean_optional(s: Option<String>, max: usize, field: &'static str) -> Result<Option<String>> {
    let Some(s) = s else { return Ok(None) };
    let s = s.trim().to_string();
    if s.is_empty() {
        return Ok(None);
    }
    if s.chars().count() > max {
        return Err(Error::new(ErrorCode::FieldTooLong, format!("{field} is longer than {max} characters")));
    }
    if s.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(Error::new(ErrorCode::InvalidCharacters, format!("{field} contains control characters")));
    }
    Ok(Some(s))
}

/// What an item's text vector embeds: its text and the text read from its photo.
pub fn searchable_text(text: Option<&str>, ocr_text: Option<&str>) -> Option<String> {
    match (text, ocr_text) {
        (Some(t), Some(o)) => Some(format!("{t}\n{o}")),
        (Some(t), None) => Some(t.to_string()),
        (None, Some(o)) => Some(o.to_string()),
        (None, None) => None,
    }
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

/// True for a 64-character lowercase hex string: a photo's id (its sha256).
pub fn is_image_id(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn check_image_id(id: &str) -> Result<()> {
    if is_image_id(id) {
        Ok(())
    } else {
        Err(Error::new(ErrorCode::InvalidBlobId, "a blob id is a 64-character sha256 hex string"))
    }
}

impl KnowledgeBase {
    /// Validates, stores the photo, embeds, writes SQL (pending), writes the vector store, then
    /// marks the item indexed: only then is it acknowledged.
    pub async fn add_item(&self, collection: &str, input: ItemInput) -> Result<Item> {
        self.collection(collection).await?;
        let label = clean_optional(input.label, MAX_LABEL_CHARS, "label")?;
        let text = clean_optional(input.text, MAX_TEXT_CHARS, "text")?;
        let tenant = clean_optional(input.tenant, MAX_TENANT_CHARS, "tenant")?;
        let metadata = input.metadata.unwrap_or_else(|| serde_json::json!({}));
        if !metadata.is_object() {
            return Err(Error::new(ErrorCode::InvalidMetadata, "metadata must be a JSON object"));
        }
        if serde_json::to_vec(&metadata).map(|v| v.len()).unwrap_or(usize::MAX) > MAX_METADATA_BYTES {
            return Err(Error::new(ErrorCode::MetadataTooLarge, format!("metadata is larger than {MAX_METADATA_BYTES} bytes")));
        }
        let image = input.image.filter(|b| !b.is_empty() || text.is_none());
        if image.is_none() && text.is_none() {
            return Err(Error::new(ErrorCode::EmptyItem, "an item needs an image, a text, or both"));
        }
        let hash = content_hash(image.as_deref(), text.as_deref(), label.as_deref());
        // From storing the photo until the item holds it, the photo must not be taken for unused.
        let _photo_in_flight = self.photo_writes.read().await;
        if let Some(existing) = self.meta.find_item_by_hash(collection, &hash).await? {
            return Err(Error::new(
                ErrorCode::DuplicateItem,
                format!("this item is already in the collection as {}", existing.id),
            ));
        }
        // The photo and the text are embedded concurrently (the encoder batches them); the text
        // printed on the photo is read after the item is acknowledged.
        let image_part = async {
            match image {
                Some(bytes) => {
                    let (hash, pixels) = self.store_image(bytes).await?;
                    let encoding = self.embed_pixels(pixels.clone()).await?;
                    Ok((Some(hash), Some(encoding.embedding), Some(pixels)))
                }
                None => Ok((None, None, None)),
            }
        };
        let text_part = async {
            match &text {
                Some(t) => self.embed_text(t).await.map(Some),
                None => Ok(None),
            }
        };
        let ((blob_hash, image_vector, pixels), text_vector) = futures::try_join!(image_part, text_part)?;
        let kind = match (image_vector.is_some(), text.is_some()) {
            (true, true) => ItemKind::ImageText,
            (true, false) => ItemKind::Image,
            _ => ItemKind::Text,
        };
        let new = NewItem {
            id: uuid::Uuid::now_v7().to_string(),
            collection: collection.to_string(),
            label,
            text,
            ocr_text: None,
            kind,
            metadata,
            content_hash: hash,
            blob_hash,
            tenant,
            space: Some(self.space()),
            document: None,
            image_vector,
            text_vector,
        };
        let item = self.meta.insert_item(new.clone()).await?;
        let point = super::point_of(&item, new.space, new.image_vector.clone(), new.text_vector);
        if let Err(e) = self.index(point).await {
            // Not acknowledged: take it back so the client can simply retry.
            let _ = self.meta.purge_item(&item.id).await;
            return Err(e);
        }
        if let Err(e) = self.meta.set_item_state(&item.id, IndexState::Indexed).await {
            // The item went with its collection, deleted meanwhile: say that.
            self.collection(collection).await?;
            return Err(e);
        }
        let item = Item { state: IndexState::Indexed, ..item };
        drop(_photo_in_flight);
        if let Some(pixels) = pixels {
            // Words printed on the photo make it findable by those words: they join the item,
            // its text vector and its keywords once read.
            self.read_text_later(item.clone(), pixels, new.image_vector).await;
        }
        Ok(item)
    }

    pub(super) async fn index(&self, point: VectorPoint) -> Result<()> {
        self.vectors.ensure_collection(&point.collection, self.dim()).await?;
        self.vectors.upsert(vec![point]).await
    }

    /// The text printed in a photo, when a reader is configured and finds any. A failing
    /// reader costs the item its OCR text, not its upload.
    pub async fn read_text(&self, pixels: RgbPixels) -> Result<Option<String>> {
        let Some(reader) = &self.reader else { return Ok(None) };
        match reader.read_text(pixels).await {
            Ok(text) => Ok(Some(text.trim().to_string()).filter(|t| !t.is_empty())),
            Err(e) => {
                tracing::warn!(code = %e.code, cause = %e.chain(), "could not read the text in a photo");
                Ok(None)
            }
        }
    }

    /// The vector of a question (or any short text), from the cache when it was asked lately.
    pub async fn embed_text(&self, text: &str) -> Result<Embedding> {
        if let Some(vector) = self.text_vectors.get(text) {
            return Ok(vector);
        }
        let mut vectors = self.encoder.encode_texts(vec![text.to_string()]).await?;
        let vector = vectors.pop().ok_or_else(|| Error::internal("the encoder returned no vector"))?;
        self.text_vectors.put(text, &vector);
        Ok(vector)
    }

    /// Stores original + thumbnail and embeds the photo, decoding it once for both.
    pub async fn store_and_embed_image(&self, bytes: Vec<u8>) -> Result<(String, Embedding)> {
        let (hash, pixels) = self.store_image(bytes).await?;
        let encoding = self.embed_pixels(pixels).await?;
        Ok((hash, encoding.embedding))
    }

    /// Embeds a photo decoded by [`Self::store_image`].
    pub async fn embed_pixels(&self, pixels: RgbPixels) -> Result<ImageEncoding> {
        self.encoder.encode_rgb(pixels.data, pixels.width, pixels.height).await
    }

    /// Decodes an uploaded photo (refusing what is not a sane image), stores the original and a
    /// thumbnail, records the blob, and returns its hash and the decoded pixels.
    pub async fn store_image(&self, bytes: Vec<u8>) -> Result<(String, RgbPixels)> {
        let (blob, pixels) = self.images.put(bytes).await?;
        self.meta.put_blob(&blob).await?;
        Ok((blob.hash, pixels))
    }

    pub async fn get_item(&self, collection: &str, id: &str) -> Result<Item> {
        self.collection(collection).await?;
        self.meta
            .get_item(collection, id)
            .await?
            .ok_or_else(|| Error::new(ErrorCode::UnknownItem, format!("no item {id} in {collection}")))
    }

    /// A page of a collection's items, newest first, with the total.
    pub async fn list_items(&self, collection: &str, label: Option<&str>, limit: i64, offset: i64) -> Result<(Vec<Item>, i64)> {
        self.collection(collection).await?;
        if !(1..=MAX_PAGE).contains(&limit) || offset < 0 {
            return Err(Error::new(ErrorCode::InvalidPagination, format!("limit must be 1-{MAX_PAGE} and offset >= 0")));
        }
        self.meta.list_items(collection, label, limit, offset).await
    }

    pub async fn delete_item(&self, collection: &str, id: &str) -> Result<()> {
        let item = self.get_item(collection, id).await?;
        self.meta.set_item_state(&item.id, IndexState::Deleting).await?;
        self.vectors.delete(collection, std::slice::from_ref(&item.id)).await?;
        self.meta.purge_item(&item.id).await?;
        self.release_photos(item.blob_hash.into_iter().collect()).await;
        Ok(())
    }

    /// The original bytes of a stored photo and its MIME type.
    pub async fn image_original(&self, hash: &str) -> Result<(Vec<u8>, String)> {
        check_image_id(hash)?;
        let bytes = self.images.read_original(hash).await?;
        let mime = self.meta.get_blob(hash).await?.map(|b| b.mime).unwrap_or_else(|| "application/octet-stream".into());
        Ok((bytes, mime))
    }

    pub async fn image_thumbnail(&self, hash: &str) -> Result<Vec<u8>> {
        check_image_id(hash)?;
        self.images.read_thumbnail(hash).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_hash_separates_fields() {
        assert_ne!(content_hash(None, Some("ab"), Some("c")), content_hash(None, Some("a"), Some("bc")));
        assert_eq!(content_hash(Some(b"x"), None, None), content_hash(Some(b"x"), None, None));
    }
}
