//! Documents in a collection: a file's text is parsed and split into passages, each passage an
//! item of kind `passage` (embedded, searchable, citable with the document's title and its
//! position). A document is acknowledged once every passage is in both stores; a failed upload
//! takes back what it wrote, and start-up repair removes what a crash left half-done.

use std::sync::Arc;

use pyxa_core::{Document, DocumentParser, DocumentRef, Error, ErrorCode, IndexState, ItemKind, NewItem, ParsedDocument, Result};

use super::KnowledgeBase;

/// Largest document file accepted.
pub const MAX_DOCUMENT_BYTES: usize = 20 * 1024 * 1024;
/// Most passages one document may have (a 20 MB text file splits into far fewer words' worth).
pub const MAX_DOCUMENT_PASSAGES: usize = 5_000;
const MAX_FILE_NAME_CHARS: usize = 255;
/// Passages embedded per encoder call: big enough for the encoder to batch them.
const EMBED_BATCH: usize = 16;

/// The file name as shown: its last path component, trimmed, without control characters.
pub fn clean_file_name(name: &str) -> Result<String> {
    let base = name.rsplit(['/', '\\']).next().unwrap_or_default().trim();
    if base.is_empty() {
        return Err(Error::new(
            ErrorCode::InvalidDocument,
            "a document needs a file name (it tells its type: .txt, .md, .html, .pdf)",
        ));
    }
    if base.chars().count() > MAX_FILE_NAME_CHARS || base.chars().any(char::is_control) {
        return Err(Error::new(
            ErrorCode::InvalidDocument,
            format!("a file name is at most {MAX_FILE_NAME_CHARS} characters, without control characters"),
        ));
    }
    Ok(base.to_string())
}

/// What a passage's text vector embeds: the document's title gives the passage its context
/// ("Office handbook" makes "She is a grey tabby" findable by "office cat").
fn passage_embedding_text(title: &str, passage: &str) -> String {
    format!("{title}\n{passage}")
}

impl KnowledgeBase {
    fn parser(&self) -> Result<Arc<dyn DocumentParser>> {
        self.documents.clone().ok_or_else(|| Error::new(ErrorCode::UnsupportedDocument, "this server does not read documents"))
    }

    /// Parses, splits, embeds and indexes a document; returns it once every passage is searchable.
    #[tracing::instrument(skip_all, fields(collection = collection, file = file_name, bytes = bytes.len()))]
    pub async fn add_document(&self, collection: &str, file_name: &str, bytes: Vec<u8>) -> Result<Document> {
        self.collection(collection).await?;
        let file_name = clean_file_name(file_name)?;
        if bytes.len() > MAX_DOCUMENT_BYTES {
            return Err(Error::new(
                ErrorCode::DocumentTooLarge,
                format!("a document is at most {} MiB", MAX_DOCUMENT_BYTES / (1024 * 1024)),
            ));
        }
        let content_hash = {
            use sha2::{Digest, Sha256};
            hex::encode(Sha256::digest(&bytes))
        };
        if let Some(existing) = self.meta.find_document_by_hash(collection, &content_hash).await? {
            return Err(Error::new(
                ErrorCode::DuplicateDocument,
                format!("this document is already in the collection as {}", existing.id),
            ));
        }
        let parser = self.parser()?;
        let name = file_name.clone();
        let size = bytes.len();
        let parsed: ParsedDocument = tokio::task::spawn_blocking(move || parser.parse(&name, &bytes))
            .await
            .map_err(|e| Error::internal("document parser").with_source(e))??;
        if parsed.passages.is_empty() {
            return Err(Error::new(ErrorCode::EmptyDocument, format!("{file_name} holds no text")));
        }
        if parsed.passages.len() > MAX_DOCUMENT_PASSAGES {
            return Err(Error::new(
                ErrorCode::DocumentTooLarge,
                format!("{file_name} splits into {} passages; at most {MAX_DOCUMENT_PASSAGES}", parsed.passages.len()),
            ));
        }
        let document = Document {
            id: uuid::Uuid::now_v7().to_string(),
            collection: collection.to_string(),
            title: parsed.title.clone(),
            file_name,
            mime: parsed.mime.clone(),
            bytes: size as i64,
            content_hash,
            passages: parsed.passages.len() as i64,
            state: IndexState::Pending,
            created_at: pyxa_core::now(),
        };
        self.meta.insert_document(&document).await?;
        match self.index_passages(&document, &parsed).await {
            Ok(()) => {
                self.meta.set_document_state(&document.id, IndexState::Indexed).await?;
                Ok(Document { state: IndexState::Indexed, ..document })
            }
            Err(e) => {
                // Not acknowledged: take back what was written so that a retry starts clean.
                if let Err(cleanup) = self.remove_document(&document).await {
                    tracing::error!(cause = %cleanup.chain(), "could not take back a failed document upload; start-up repair will");
                }
                Err(e)
            }
        }
    }

    async fn index_passages(&self, document: &Document, parsed: &ParsedDocument) -> Result<()> {
        let space = self.space();
        self.vectors.ensure_collection(&document.collection, self.dim()).await?;
        for chunk in parsed.passages.chunks(EMBED_BATCH) {
            let texts = chunk.iter().map(|p| passage_embedding_text(&document.title, &p.text)).collect();
            let vectors = self.encoder.encode_texts(texts).await?;
            let mut points = Vec::with_capacity(chunk.len());
            for (passage, vector) in chunk.iter().zip(vectors) {
                let new = NewItem {
                    id: uuid::Uuid::now_v7().to_string(),
                    collection: document.collection.clone(),
                    label: None,
                    text: Some(passage.text.clone()),
                    ocr_text: None,
                    kind: ItemKind::Passage,
                    metadata: serde_json::json!({}),
                    // Unique per document and position: two documents may share a paragraph.
                    content_hash: format!("{}#{}", document.id, passage.position),
                    blob_hash: None,
                    tenant: None,
                    space: Some(space.clone()),
                    document: Some(DocumentRef {
                        id: document.id.clone(),
                        title: document.title.clone(),
                        position: passage.position as i64,
                    }),
                    image_vector: None,
                    text_vector: Some(vector.clone()),
                };
                let item = self.meta.insert_item(new).await?;
                points.push(super::point_of(&item, Some(space.clone()), None, Some(vector)));
            }
            let ids: Vec<String> = points.iter().map(|p| p.item_id.clone()).collect();
            self.vectors.upsert(points).await?;
            for id in &ids {
                self.meta.set_item_state(id, IndexState::Indexed).await?;
            }
        }
        Ok(())
    }

    /// Forgets a document's passages in the vector store, then deletes it and them in SQL.
    pub(super) async fn remove_document(&self, document: &Document) -> Result<()> {
        let ids = self.meta.document_item_ids(&document.id).await?;
        if !ids.is_empty() {
            self.vectors.delete(&document.collection, &ids).await?;
        }
        self.meta.purge_document(&document.id).await
    }

    pub async fn list_documents(&self, collection: &str) -> Result<Vec<Document>> {
        self.collection(collection).await?;
        self.meta.list_documents(collection).await
    }

    pub async fn get_document(&self, collection: &str, id: &str) -> Result<Document> {
        self.collection(collection).await?;
        self.meta
            .get_document(collection, id)
            .await?
            .ok_or_else(|| Error::new(ErrorCode::UnknownDocument, format!("no document {id} in {collection}")))
    }

    /// Deletes the document and its passages; they stop being found at once.
    pub async fn delete_document(&self, collection: &str, id: &str) -> Result<()> {
        let document = self.get_document(collection, id).await?;
        self.meta.set_document_state(&document.id, IndexState::Deleting).await?;
        self.remove_document(&document).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_cleaned() {
        assert_eq!(clean_file_name("C:\\docs\\handbook.md").unwrap(), "handbook.md");
        assert_eq!(clean_file_name("../../etc/notes.txt").unwrap(), "notes.txt");
        for bad in ["", "dir/", "a\u{0}b.txt", &"x".repeat(300)] {
            assert_eq!(clean_file_name(bad).unwrap_err().code, "invalid_document", "{bad:?}");
        }
    }
}
