//! pyxa's metadata store on SQL: SQLite by default (one file, WAL), PostgreSQL for shared
//! deployments. One code path serves both through sqlx's `Any` driver, so the SQL in this crate
//! sticks to what both understand: `$N` placeholders, `ON CONFLICT`, and only integer, text and
//! blob values (timestamps are BIGINT seconds, JSON is TEXT, vectors are little-endian f32 bytes).
//!
//! This file holds [`SqlStore`], connecting and migrating, and the [`MetadataStore`] impl, which
//! only delegates: the SQL of each aggregate lives in its module (`collections`, `items`,
//! `blobs`, `answers` with feedback, `conversations`), sqlx error mapping in `errors`, and the
//! shared column encoding in `rows`. Nothing here knows about HTTP, encoders or vector stores,
//! and no SQL belongs in this file beyond the connection pragmas.

use pyxa_core::ErrorCode;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use pyxa_core::{
    AnswerRecord, Blob, Collection, CollectionSettings, ConversationSummary, Document, Error, Feedback, IndexState, Item,
    ItemVectors, LabelCount, MetadataStore, NewItem, Result,
};
use sqlx::any::AnyPoolOptions;
use sqlx::migrate::Migrator;
use sqlx::AnyPool;

mod answers;
mod blobs;
mod collections;
mod conversations;
mod documents;
mod errors;
mod items;
mod keys;
mod rows;

use errors::{db_err, migrate_err};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("../../migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("../../migrations/postgres");

/// How long a query waits for a pooled connection before the database counts as unavailable.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long SQLite waits on a locked database before giving up.
const SQLITE_BUSY_TIMEOUT_MS: u32 = 5_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backend {
    Sqlite,
    Postgres,
}

/// [`MetadataStore`] on SQLite or PostgreSQL.
#[derive(Debug, Clone)]
pub struct SqlStore {
    pool: AnyPool,
    backend: Backend,
}

impl SqlStore {
    /// Opens the database and brings its schema up to date.
    ///
    /// `sqlite://PATH` (`mode=rwc` is added when the URL names no mode, and the parent folder
    /// is created), `sqlite::memory:`, or `postgres://USER:PASS@HOST:PORT/DB`.
    #[tracing::instrument(skip_all, fields(backend = tracing::field::Empty))]
    pub async fn connect(url: &str) -> Result<SqlStore> {
        sqlx::any::install_default_drivers();
        let (backend, url) = if url.starts_with("sqlite:") {
            (Backend::Sqlite, sqlite_url(url)?)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            (Backend::Postgres, url.to_string())
        } else {
            return Err(Error::new(ErrorCode::InvalidDatabaseUrl, "the database URL must start with sqlite: or postgres://"));
        };
        tracing::Span::current().record("backend", backend.name());

        let options = AnyPoolOptions::new().acquire_timeout(ACQUIRE_TIMEOUT);
        let options = match backend {
            Backend::Postgres => options.max_connections(16),
            Backend::Sqlite => {
                let memory = is_sqlite_memory(&url);
                // An in-memory database lives as long as its one connection.
                let options = if memory {
                    options.max_connections(1).min_connections(1).idle_timeout(None).max_lifetime(None)
                } else {
                    options.max_connections(8)
                };
                options.after_connect(move |conn, _| {
                    Box::pin(async move {
                        if !memory {
                            sqlx::query("PRAGMA journal_mode = WAL").execute(&mut *conn).await?;
                        }
                        sqlx::query("PRAGMA foreign_keys = ON").execute(&mut *conn).await?;
                        let busy = format!("PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}");
                        sqlx::query(&busy).execute(&mut *conn).await?;
                        Ok(())
                    })
                })
            }
        };
        let pool = options.connect(&url).await.map_err(|e| db_err(e).context("connecting to the database"))?;

        let migrator = match backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator.run(&pool).await.map_err(migrate_err)?;
        tracing::debug!(backend = backend.name(), "metadata store ready");
        Ok(SqlStore { pool, backend })
    }

    /// The connection pool (health checks, tests, ad-hoc maintenance).
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Closes every connection; the store is unusable afterwards.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

impl Backend {
    fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// Adds `mode=rwc` when the URL names no mode, and creates the database file's folder.
fn sqlite_url(url: &str) -> Result<String> {
    if is_sqlite_memory(url) {
        return Ok(url.to_string());
    }
    let url = if url.contains("mode=") {
        url.to_string()
    } else if url.contains('?') {
        format!("{url}&mode=rwc")
    } else {
        format!("{url}?mode=rwc")
    };
    let options = sqlx::sqlite::SqliteConnectOptions::from_str(&url)
        .map_err(|e| Error::new(ErrorCode::InvalidDatabaseUrl, e.to_string()))?;
    if url.contains("mode=rwc") {
        if let Some(dir) = options.get_filename().parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| Error::new(ErrorCode::DatabaseUnavailable, format!("creating {}: {e}", dir.display())))?;
        }
    }
    Ok(url)
}

fn is_sqlite_memory(url: &str) -> bool {
    url.contains(":memory:") || url.contains("mode=memory")
}

#[async_trait]
impl MetadataStore for SqlStore {
    fn backend(&self) -> &'static str {
        self.backend.name()
    }

    // ---------------------------------------------------------------------------- collections

    #[tracing::instrument(skip_all, fields(collection = name))]
    async fn create_collection(&self, name: &str, description: &str) -> Result<Collection> {
        collections::create_collection(&self.pool, name, description).await
    }

    #[tracing::instrument(skip_all, fields(collection = name))]
    async fn ensure_collection(&self, name: &str, description: &str) -> Result<Collection> {
        collections::ensure_collection(&self.pool, name, description).await
    }

    #[tracing::instrument(skip_all, fields(collection = name))]
    async fn get_collection(&self, name: &str) -> Result<Option<Collection>> {
        collections::get_collection(&self.pool, name).await
    }

    #[tracing::instrument(skip_all)]
    async fn list_collections(&self) -> Result<Vec<Collection>> {
        collections::list_collections(&self.pool).await
    }

    #[tracing::instrument(skip_all, fields(collection = name))]
    async fn update_collection(
        &self,
        name: &str,
        description: Option<&str>,
        settings: Option<&CollectionSettings>,
    ) -> Result<Collection> {
        collections::update_collection(&self.pool, name, description, settings).await
    }

    #[tracing::instrument(skip_all, fields(collection = name))]
    async fn delete_collection(&self, name: &str) -> Result<()> {
        collections::delete_collection(&self.pool, name).await
    }

    // ---------------------------------------------------------------------------------- items

    #[tracing::instrument(skip_all, fields(collection = %item.collection, item = %item.id))]
    async fn insert_item(&self, item: NewItem) -> Result<Item> {
        items::insert_item(&self.pool, item).await
    }

    #[tracing::instrument(skip_all, fields(item = item_id, state = state.as_str()))]
    async fn set_item_state(&self, item_id: &str, state: IndexState) -> Result<()> {
        items::set_item_state(&self.pool, item_id, state).await
    }

    #[tracing::instrument(skip_all, fields(collection = collection, item = item_id))]
    async fn get_item(&self, collection: &str, item_id: &str) -> Result<Option<Item>> {
        items::get_item(&self.pool, collection, item_id).await
    }

    #[tracing::instrument(skip_all, fields(collection = collection))]
    async fn find_item_by_hash(&self, collection: &str, content_hash: &str) -> Result<Option<Item>> {
        items::find_item_by_hash(&self.pool, collection, content_hash).await
    }

    #[tracing::instrument(skip_all, fields(collection = collection, limit = limit, offset = offset))]
    async fn list_items(&self, collection: &str, label: Option<&str>, limit: i64, offset: i64) -> Result<(Vec<Item>, i64)> {
        items::list_items(&self.pool, collection, label, limit, offset).await
    }

    #[tracing::instrument(skip_all, fields(n = item_ids.len()))]
    async fn get_items(&self, item_ids: &[String]) -> Result<Vec<Item>> {
        items::get_items(&self.pool, item_ids).await
    }

    #[tracing::instrument(skip_all, fields(item = item_id))]
    async fn purge_item(&self, item_id: &str) -> Result<()> {
        items::purge_item(&self.pool, item_id).await
    }

    #[tracing::instrument(skip_all, fields(limit = limit))]
    async fn unsettled_items(&self, limit: i64, changed_before: pyxa_core::Timestamp) -> Result<Vec<ItemVectors>> {
        items::unsettled_items(&self.pool, limit, changed_before).await
    }

    #[tracing::instrument(skip_all, fields(collection = collection))]
    async fn labels(&self, collection: &str) -> Result<Vec<LabelCount>> {
        items::labels(&self.pool, collection).await
    }

    #[tracing::instrument(skip_all, fields(space = space, limit = limit))]
    async fn items_outside_space(
        &self,
        collection: Option<&str>,
        space: &str,
        after_id: Option<&str>,
        limit: i64,
    ) -> Result<Vec<ItemVectors>> {
        items::items_outside_space(&self.pool, collection, space, after_id, limit).await
    }

    #[tracing::instrument(skip_all, fields(space = space))]
    async fn count_outside_space(&self, collection: Option<&str>, space: &str) -> Result<i64> {
        items::count_outside_space(&self.pool, collection, space).await
    }

    #[tracing::instrument(skip_all, fields(item_id = item_id, space = space))]
    async fn replace_item_vectors(
        &self,
        item_id: &str,
        space: &str,
        image_vector: Option<&[f32]>,
        text_vector: Option<&[f32]>,
    ) -> Result<()> {
        items::replace_item_vectors(&self.pool, item_id, space, image_vector, text_vector).await
    }

    #[tracing::instrument(skip_all, fields(item_id = item_id))]
    async fn attach_ocr_text(&self, item_id: &str, ocr_text: &str, space: &str, text_vector: &[f32]) -> Result<()> {
        items::attach_ocr_text(&self.pool, item_id, ocr_text, space, text_vector).await
    }

    #[tracing::instrument(skip_all, fields(collection = collection, limit = limit))]
    async fn items_with_vectors(&self, collection: &str, after_id: Option<&str>, limit: i64) -> Result<Vec<ItemVectors>> {
        items::items_with_vectors(&self.pool, collection, after_id, limit).await
    }

    // ------------------------------------------------------------------------------ documents

    #[tracing::instrument(skip_all, fields(collection = %document.collection, document = %document.id))]
    async fn insert_document(&self, document: &Document) -> Result<()> {
        documents::insert_document(&self.pool, document).await
    }

    #[tracing::instrument(skip_all, fields(document = document_id, state = state.as_str()))]
    async fn set_document_state(&self, document_id: &str, state: IndexState) -> Result<()> {
        documents::set_document_state(&self.pool, document_id, state).await
    }

    #[tracing::instrument(skip_all, fields(collection = collection, document = document_id))]
    async fn get_document(&self, collection: &str, document_id: &str) -> Result<Option<Document>> {
        documents::get_document(&self.pool, collection, document_id).await
    }

    #[tracing::instrument(skip_all, fields(collection = collection))]
    async fn find_document_by_hash(&self, collection: &str, content_hash: &str) -> Result<Option<Document>> {
        documents::find_document_by_hash(&self.pool, collection, content_hash).await
    }

    #[tracing::instrument(skip_all, fields(collection = collection))]
    async fn list_documents(&self, collection: &str) -> Result<Vec<Document>> {
        documents::list_documents(&self.pool, collection).await
    }

    #[tracing::instrument(skip_all, fields(document = document_id))]
    async fn document_item_ids(&self, document_id: &str) -> Result<Vec<String>> {
        documents::document_item_ids(&self.pool, document_id).await
    }

    #[tracing::instrument(skip_all, fields(document = document_id))]
    async fn purge_document(&self, document_id: &str) -> Result<()> {
        documents::purge_document(&self.pool, document_id).await
    }

    #[tracing::instrument(skip_all)]
    async fn unsettled_documents(&self, changed_before: pyxa_core::Timestamp) -> Result<Vec<Document>> {
        documents::unsettled_documents(&self.pool, changed_before).await
    }

    // ---------------------------------------------------------------------------------- blobs

    #[tracing::instrument(skip_all, fields(hash = %blob.hash))]
    async fn put_blob(&self, blob: &Blob) -> Result<()> {
        blobs::put_blob(&self.pool, blob).await
    }

    #[tracing::instrument(skip_all, fields(hash = hash))]
    async fn get_blob(&self, hash: &str) -> Result<Option<Blob>> {
        blobs::get_blob(&self.pool, hash).await
    }

    #[tracing::instrument(skip_all)]
    async fn unused_blobs(
        &self,
        among: Option<&[String]>,
        used_before: i64,
        answered_since: i64,
        limit: i64,
    ) -> Result<Vec<String>> {
        blobs::unused_blobs(&self.pool, among, used_before, answered_since, limit).await
    }

    #[tracing::instrument(skip_all, fields(hash = hash))]
    async fn delete_blob(&self, hash: &str) -> Result<()> {
        blobs::delete_blob(&self.pool, hash).await
    }

    // ------------------------------------------------------------- answers and conversations

    #[tracing::instrument(skip_all, fields(answer = %answer.answer_id, conversation = %answer.conversation_id))]
    async fn insert_answer(&self, answer: &AnswerRecord) -> Result<()> {
        answers::insert_answer(&self.pool, answer).await
    }

    #[tracing::instrument(skip_all, fields(answer = answer_id))]
    async fn get_answer(&self, answer_id: &str) -> Result<Option<AnswerRecord>> {
        answers::get_answer(&self.pool, answer_id).await
    }

    #[tracing::instrument(skip_all, fields(limit = limit))]
    async fn list_conversations(&self, limit: i64) -> Result<Vec<ConversationSummary>> {
        conversations::list_conversations(&self.pool, limit).await
    }

    #[tracing::instrument(skip_all, fields(conversation = id))]
    async fn get_conversation(&self, id: &str) -> Result<Option<(ConversationSummary, Vec<AnswerRecord>)>> {
        let Some(summary) = conversations::conversation_summary(&self.pool, id).await? else { return Ok(None) };
        Ok(Some((summary, answers::conversation_answers(&self.pool, id).await?)))
    }

    #[tracing::instrument(skip_all, fields(answer = %feedback.answer_id))]
    async fn insert_feedback(&self, feedback: &Feedback) -> Result<()> {
        answers::insert_feedback(&self.pool, feedback).await
    }

    async fn insert_api_key(&self, key: &pyxa_core::keys::NewApiKey) -> Result<pyxa_core::keys::ApiKey> {
        keys::insert(&self.pool, key).await
    }

    async fn find_api_key(&self, hash: &str) -> Result<Option<pyxa_core::keys::ApiKey>> {
        keys::find(&self.pool, hash).await
    }

    async fn list_api_keys(&self) -> Result<Vec<pyxa_core::keys::ApiKey>> {
        keys::list(&self.pool).await
    }

    async fn revoke_api_key(&self, id: &str) -> Result<()> {
        keys::revoke(&self.pool, id).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls() {
        assert_eq!(sqlite_url("sqlite::memory:").unwrap(), "sqlite::memory:");
        let dir = std::env::temp_dir().join(format!("pyxa-url-{}", uuid::Uuid::new_v4()));
        let url = format!("sqlite://{}/x.db", dir.display());
        assert_eq!(sqlite_url(&url).unwrap(), format!("{url}?mode=rwc"));
        assert!(dir.is_dir());
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(sqlite_url("sqlite://a.db?mode=ro").unwrap(), "sqlite://a.db?mode=ro");
    }
}
