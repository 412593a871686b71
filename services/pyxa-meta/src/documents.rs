//! The `documents` table. A document's passages are items (kind `passage`) that carry its id;
//! purging a document removes them with it, in one transaction.

use pyxa_core::{Document, Error, ErrorCode, IndexState, Result, Timestamp};
use sqlx::any::AnyRow;
use sqlx::error::ErrorKind as DbErrorKind;
use sqlx::AnyPool;

use crate::errors::{constraint_kind, corrupt, db_err};
use crate::rows::{collect, get};

const DOCUMENT_COLS: &str = "id, collection, title, file_name, mime, bytes, content_hash, passages, state, created_at";

fn document_from_row(row: &AnyRow) -> Result<Document> {
    let state: String = get(row, "state")?;
    Ok(Document {
        id: get(row, "id")?,
        collection: get(row, "collection")?,
        title: get(row, "title")?,
        file_name: get(row, "file_name")?,
        mime: get(row, "mime")?,
        bytes: get(row, "bytes")?,
        content_hash: get(row, "content_hash")?,
        passages: get(row, "passages")?,
        state: IndexState::parse(&state).ok_or_else(|| corrupt("document state", &state))?,
        created_at: get(row, "created_at")?,
    })
}

pub(crate) async fn insert_document(pool: &AnyPool, d: &Document) -> Result<()> {
    sqlx::query(&format!("INSERT INTO documents ({DOCUMENT_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"))
        .bind(&d.id)
        .bind(&d.collection)
        .bind(&d.title)
        .bind(&d.file_name)
        .bind(&d.mime)
        .bind(d.bytes)
        .bind(&d.content_hash)
        .bind(d.passages)
        .bind(IndexState::Pending.as_str())
        .bind(d.created_at)
        .execute(pool)
        .await
        .map_err(|e| match constraint_kind(&e) {
            Some(DbErrorKind::UniqueViolation) => {
                Error::new(ErrorCode::DuplicateDocument, format!("collection {:?} already holds this document", d.collection))
            }
            Some(DbErrorKind::ForeignKeyViolation) => {
                Error::new(ErrorCode::UnknownCollection, format!("no collection {:?}", d.collection))
            }
            _ => db_err(e),
        })?;
    Ok(())
}

pub(crate) async fn set_document_state(pool: &AnyPool, document_id: &str, state: IndexState) -> Result<()> {
    let done = sqlx::query("UPDATE documents SET state = $1 WHERE id = $2")
        .bind(state.as_str())
        .bind(document_id)
        .execute(pool)
        .await
        .map_err(db_err)?;
    if done.rows_affected() == 0 {
        return Err(Error::new(ErrorCode::UnknownDocument, format!("no document {document_id:?}")));
    }
    Ok(())
}

pub(crate) async fn get_document(pool: &AnyPool, collection: &str, document_id: &str) -> Result<Option<Document>> {
    let row =
        sqlx::query(&format!("SELECT {DOCUMENT_COLS} FROM documents WHERE collection = $1 AND id = $2 AND state <> 'deleting'"))
            .bind(collection)
            .bind(document_id)
            .fetch_optional(pool)
            .await
            .map_err(db_err)?;
    row.as_ref().map(document_from_row).transpose()
}

pub(crate) async fn find_document_by_hash(pool: &AnyPool, collection: &str, content_hash: &str) -> Result<Option<Document>> {
    let row = sqlx::query(&format!("SELECT {DOCUMENT_COLS} FROM documents WHERE collection = $1 AND content_hash = $2"))
        .bind(collection)
        .bind(content_hash)
        .fetch_optional(pool)
        .await
        .map_err(db_err)?;
    row.as_ref().map(document_from_row).transpose()
}

pub(crate) async fn list_documents(pool: &AnyPool, collection: &str) -> Result<Vec<Document>> {
    let rows = sqlx::query(&format!(
        "SELECT {DOCUMENT_COLS} FROM documents WHERE collection = $1 AND state <> 'deleting' ORDER BY seq DESC"
    ))
    .bind(collection)
    .fetch_all(pool)
    .await
    .map_err(db_err)?;
    collect(rows, document_from_row)
}

pub(crate) async fn document_item_ids(pool: &AnyPool, document_id: &str) -> Result<Vec<String>> {
    let rows = sqlx::query("SELECT id FROM items WHERE document_id = $1 ORDER BY position")
        .bind(document_id)
        .fetch_all(pool)
        .await
        .map_err(db_err)?;
    collect(rows, |r| get(r, "id"))
}

pub(crate) async fn purge_document(pool: &AnyPool, document_id: &str) -> Result<()> {
    let mut tx = pool.begin().await.map_err(db_err)?;
    sqlx::query("DELETE FROM items WHERE document_id = $1").bind(document_id).execute(&mut *tx).await.map_err(db_err)?;
    sqlx::query("DELETE FROM documents WHERE id = $1").bind(document_id).execute(&mut *tx).await.map_err(db_err)?;
    tx.commit().await.map_err(db_err)
}

pub(crate) async fn unsettled_documents(pool: &AnyPool, changed_before: Timestamp) -> Result<Vec<Document>> {
    let rows = sqlx::query(&format!(
        "SELECT {DOCUMENT_COLS} FROM documents d WHERE state <> 'indexed' AND created_at < $1 \
         AND NOT EXISTS (SELECT 1 FROM items i WHERE i.document_id = d.id AND i.updated_at >= $1) ORDER BY seq"
    ))
    .bind(changed_before)
    .fetch_all(pool)
    .await
    .map_err(db_err)?;
    collect(rows, document_from_row)
}
