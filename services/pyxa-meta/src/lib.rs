//! pyxa's metadata store on SQL: SQLite by default (one file, WAL), PostgreSQL for shared
//! deployments. One code path serves both through sqlx's `Any` driver, so the SQL below sticks
//! to what both understand: `$N` placeholders, `ON CONFLICT`, and only integer, text and blob
//! values (timestamps are BIGINT seconds, JSON is TEXT, vectors are little-endian f32 bytes).

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use pyxa_core::{
    AnswerRecord, Blob, Collection, ConversationSummary, Embedding, Error, ErrorKind, Feedback,
    IndexState, Item, ItemKind, ItemVectors, LabelCount, MetadataStore, NewItem, Result,
};
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::error::{DatabaseError, ErrorKind as DbErrorKind};
use sqlx::migrate::Migrator;
use sqlx::{AnyPool, Row};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("../../migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("../../migrations/postgres");

/// How long a query waits for a pooled connection before the database counts as unavailable.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long SQLite waits on a locked database before giving up.
const SQLITE_BUSY_TIMEOUT_MS: u32 = 5_000;
/// Bound parameters per `IN (...)` list (SQLite allows 32766, Postgres 65535).
const IN_CHUNK: usize = 500;
/// Longest conversation title, in characters.
const TITLE_CHARS: usize = 80;

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
            return Err(Error::invalid(
                "invalid_database_url",
                "the database URL must start with sqlite: or postgres://",
            ));
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
        .map_err(|e| Error::invalid("invalid_database_url", e.to_string()))?;
    if url.contains("mode=rwc") {
        if let Some(dir) = options.get_filename().parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                Error::unavailable("database_unavailable", format!("creating {}: {e}", dir.display()))
            })?;
        }
    }
    Ok(url)
}

fn is_sqlite_memory(url: &str) -> bool {
    url.contains(":memory:") || url.contains("mode=memory")
}

// ------------------------------------------------------------------------------------ errors

/// Maps a sqlx error: lost or unreachable database -> `unavailable`, anything else `internal`.
/// Constraint violations that mean something to the caller are mapped at the call site first.
fn db_err(e: sqlx::Error) -> Error {
    let unavailable = match &e {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::Protocol(_) => true,
        sqlx::Error::Database(d) => db_unavailable(d.as_ref()),
        _ => false,
    };
    if unavailable {
        Error::unavailable("database_unavailable", e.to_string())
    } else {
        Error::internal(format!("database: {e}"))
    }
}

/// Database errors that say "the database cannot serve now" rather than "this query is wrong".
fn db_unavailable(d: &dyn DatabaseError) -> bool {
    if let Some(e) = d.try_downcast_ref::<sqlx::sqlite::SqliteError>() {
        let primary = e.code().and_then(|c| c.parse::<i32>().ok()).map(|c| c & 0xff);
        // BUSY, LOCKED, IOERR, FULL, CANTOPEN, READONLY
        return matches!(primary, Some(5 | 6 | 8 | 10 | 13 | 14));
    }
    if let Some(e) = d.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
        let code = e.code();
        // connection exception, insufficient resources, operator intervention
        return code.starts_with("08") || code.starts_with("53") || code.starts_with("57");
    }
    false
}

fn constraint_kind(e: &sqlx::Error) -> Option<DbErrorKind> {
    match e {
        sqlx::Error::Database(d) => Some(d.kind()),
        _ => None,
    }
}

fn migrate_err(e: sqlx::migrate::MigrateError) -> Error {
    match e {
        sqlx::migrate::MigrateError::Execute(e) => db_err(e).context("migrating the database"),
        e => Error::new(ErrorKind::Internal, "migration_failed", format!("migrating the database: {e}")),
    }
}

fn corrupt(what: &str, detail: impl std::fmt::Display) -> Error {
    Error::internal(format!("corrupt {what} in the database: {detail}"))
}

// ------------------------------------------------------------------------------- encoding

fn vector_bytes(v: &Option<Embedding>) -> Option<Vec<u8>> {
    v.as_ref().map(|v| v.iter().flat_map(|x| x.to_le_bytes()).collect())
}

fn bytes_vector(b: Option<Vec<u8>>) -> Result<Option<Embedding>> {
    let Some(b) = b else { return Ok(None) };
    if b.len() % 4 != 0 {
        return Err(corrupt("vector", format!("{} bytes is not a whole number of f32", b.len())));
    }
    Ok(Some(b.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()))
}

fn json_text(v: &serde_json::Value) -> String {
    // Serialising a `Value` cannot fail (its map keys are strings).
    serde_json::to_string(v).unwrap_or_else(|_| "null".into())
}

fn text_json(what: &str, s: &str) -> Result<serde_json::Value> {
    serde_json::from_str(s).map_err(|e| corrupt(what, e))
}

fn get<'r, T>(row: &'r AnyRow, col: &str) -> Result<T>
where
    T: sqlx::Decode<'r, sqlx::Any> + sqlx::Type<sqlx::Any>,
{
    row.try_get(col).map_err(|e| corrupt("row", e))
}

/// Conversation title: the first prompt on one line, cut at [`TITLE_CHARS`].
fn title_of(prompt: &str) -> String {
    let line = prompt.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.is_empty() {
        return "Untitled".into();
    }
    if line.chars().count() <= TITLE_CHARS {
        return line;
    }
    let mut t: String = line.chars().take(TITLE_CHARS - 1).collect();
    t.truncate(t.trim_end().len());
    t.push('…');
    t
}

macro_rules! item_cols {
    () => {
        "id, collection, label, text, kind, metadata, content_hash, blob_hash, tenant, state, created_at"
    };
}
macro_rules! item_vector_cols {
    () => {
        concat!(item_cols!(), ", image_vector, text_vector")
    };
}
macro_rules! answer_cols {
    () => {
        "id, conversation_id, collection, prompt, answer, language, mode, image_hash, image_vector, \
         candidates, citations, created_at"
    };
}
macro_rules! conversation_cols {
    () => {
        "c.id, c.title, c.collection, c.created_at, c.updated_at, \
         (SELECT COUNT(*) FROM answers a WHERE a.conversation_id = c.id) AS turns"
    };
}

fn item_from_row(row: &AnyRow) -> Result<Item> {
    let kind: String = get(row, "kind")?;
    let state: String = get(row, "state")?;
    let metadata: String = get(row, "metadata")?;
    Ok(Item {
        id: get(row, "id")?,
        collection: get(row, "collection")?,
        label: get(row, "label")?,
        text: get(row, "text")?,
        kind: ItemKind::parse(&kind).ok_or_else(|| corrupt("item kind", &kind))?,
        metadata: text_json("item metadata", &metadata)?,
        content_hash: get(row, "content_hash")?,
        blob_hash: get(row, "blob_hash")?,
        tenant: get(row, "tenant")?,
        state: IndexState::parse(&state).ok_or_else(|| corrupt("item state", &state))?,
        created_at: get(row, "created_at")?,
    })
}

fn item_vectors_from_row(row: &AnyRow) -> Result<ItemVectors> {
    Ok(ItemVectors {
        item: item_from_row(row)?,
        image_vector: bytes_vector(get(row, "image_vector")?)?,
        text_vector: bytes_vector(get(row, "text_vector")?)?,
    })
}

fn collection_from_row(row: &AnyRow) -> Result<Collection> {
    Ok(Collection {
        name: get(row, "name")?,
        description: get(row, "description")?,
        item_count: get(row, "item_count")?,
        created_at: get(row, "created_at")?,
    })
}

fn answer_from_row(row: &AnyRow) -> Result<AnswerRecord> {
    let candidates: String = get(row, "candidates")?;
    let citations: String = get(row, "citations")?;
    Ok(AnswerRecord {
        answer_id: get(row, "id")?,
        conversation_id: get(row, "conversation_id")?,
        collection: get(row, "collection")?,
        prompt: get(row, "prompt")?,
        answer: get(row, "answer")?,
        language: get(row, "language")?,
        mode: get(row, "mode")?,
        image_hash: get(row, "image_hash")?,
        image_vector: bytes_vector(get(row, "image_vector")?)?,
        candidates: text_json("answer candidates", &candidates)?,
        citations: text_json("answer citations", &citations)?,
        created_at: get(row, "created_at")?,
    })
}

fn conversation_from_row(row: &AnyRow) -> Result<ConversationSummary> {
    Ok(ConversationSummary {
        id: get(row, "id")?,
        title: get(row, "title")?,
        collection: get(row, "collection")?,
        created_at: get(row, "created_at")?,
        updated_at: get(row, "updated_at")?,
        turns: get(row, "turns")?,
    })
}

fn collect<T>(rows: Vec<AnyRow>, f: impl Fn(&AnyRow) -> Result<T>) -> Result<Vec<T>> {
    rows.iter().map(f).collect()
}

// ------------------------------------------------------------------------------ the store

impl SqlStore {
    async fn collection_row(&self, name: &str) -> Result<Option<Collection>> {
        let row = sqlx::query(
            "SELECT c.name, c.description, c.created_at, \
             (SELECT COUNT(*) FROM items i WHERE i.collection = c.name AND i.state <> 'deleting') AS item_count \
             FROM collections c WHERE c.name = $1",
        )
        .bind(name)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        row.as_ref().map(collection_from_row).transpose()
    }

    async fn conversation_summary(&self, id: &str) -> Result<Option<ConversationSummary>> {
        let row = sqlx::query(concat!("SELECT ", conversation_cols!(), " FROM conversations c WHERE c.id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        row.as_ref().map(conversation_from_row).transpose()
    }
}

#[async_trait]
impl MetadataStore for SqlStore {
    fn backend(&self) -> &'static str {
        self.backend.name()
    }

    #[tracing::instrument(skip_all, fields(collection = name))]
    async fn create_collection(&self, name: &str, description: &str) -> Result<Collection> {
        let created_at = pyxa_core::now();
        sqlx::query("INSERT INTO collections (name, description, created_at) VALUES ($1, $2, $3)")
            .bind(name)
            .bind(description)
            .bind(created_at)
            .execute(&self.pool)
            .await
            .map_err(|e| match constraint_kind(&e) {
                Some(DbErrorKind::UniqueViolation) => {
                    Error::conflict("collection_exists", format!("collection {name:?} already exists"))
                }
                _ => db_err(e),
            })?;
        Ok(Collection { name: name.into(), description: description.into(), item_count: 0, created_at })
    }

    #[tracing::instrument(skip_all, fields(collection = name))]
    async fn ensure_collection(&self, name: &str, description: &str) -> Result<Collection> {
        sqlx::query(
            "INSERT INTO collections (name, description, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(description)
        .bind(pyxa_core::now())
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        // Deleted between the two statements: report it rather than invent it.
        self.collection_row(name)
            .await?
            .ok_or_else(|| Error::not_found("collection_not_found", format!("collection {name:?} vanished")))
    }

    #[tracing::instrument(skip_all, fields(collection = name))]
    async fn get_collection(&self, name: &str) -> Result<Option<Collection>> {
        self.collection_row(name).await
    }

    #[tracing::instrument(skip_all)]
    async fn list_collections(&self) -> Result<Vec<Collection>> {
        let rows = sqlx::query(
            "SELECT c.name, c.description, c.created_at, \
             (SELECT COUNT(*) FROM items i WHERE i.collection = c.name AND i.state <> 'deleting') AS item_count \
             FROM collections c ORDER BY c.name",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        collect(rows, collection_from_row)
    }

    #[tracing::instrument(skip_all, fields(collection = name))]
    async fn delete_collection(&self, name: &str) -> Result<()> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        // Explicitly, not only by ON DELETE CASCADE: no orphan even where foreign keys are off.
        sqlx::query("DELETE FROM items WHERE collection = $1")
            .bind(name)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        let done = sqlx::query("DELETE FROM collections WHERE name = $1")
            .bind(name)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        if done.rows_affected() == 0 {
            // Nothing was deleted; dropping `tx` rolls back.
            return Err(Error::not_found("collection_not_found", format!("no collection {name:?}")));
        }
        tx.commit().await.map_err(db_err)
    }

    #[tracing::instrument(skip_all, fields(collection = %item.collection, item = %item.id))]
    async fn insert_item(&self, item: NewItem) -> Result<Item> {
        let now = pyxa_core::now();
        let state = IndexState::Pending;
        sqlx::query(concat!(
            "INSERT INTO items (",
            item_vector_cols!(),
            ", updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $11)"
        ))
        .bind(&item.id)
        .bind(&item.collection)
        .bind(&item.label)
        .bind(&item.text)
        .bind(item.kind.as_str())
        .bind(json_text(&item.metadata))
        .bind(&item.content_hash)
        .bind(&item.blob_hash)
        .bind(&item.tenant)
        .bind(state.as_str())
        .bind(now)
        .bind(vector_bytes(&item.image_vector))
        .bind(vector_bytes(&item.text_vector))
        .execute(&self.pool)
        .await
        .map_err(|e| match constraint_kind(&e) {
            Some(DbErrorKind::UniqueViolation) => Error::conflict(
                "duplicate_item",
                format!("collection {:?} already holds this content", item.collection),
            ),
            Some(DbErrorKind::ForeignKeyViolation) => {
                Error::not_found("unknown_collection", format!("no collection {:?}", item.collection))
            }
            _ => db_err(e),
        })?;
        Ok(Item {
            id: item.id,
            collection: item.collection,
            label: item.label,
            text: item.text,
            kind: item.kind,
            metadata: item.metadata,
            content_hash: item.content_hash,
            blob_hash: item.blob_hash,
            tenant: item.tenant,
            state,
            created_at: now,
        })
    }

    #[tracing::instrument(skip_all, fields(item = item_id, state = state.as_str()))]
    async fn set_item_state(&self, item_id: &str, state: IndexState) -> Result<()> {
        let done = sqlx::query("UPDATE items SET state = $1, updated_at = $2 WHERE id = $3")
            .bind(state.as_str())
            .bind(pyxa_core::now())
            .bind(item_id)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        if done.rows_affected() == 0 {
            return Err(Error::not_found("item_not_found", format!("no item {item_id:?}")));
        }
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(collection = collection, item = item_id))]
    async fn get_item(&self, collection: &str, item_id: &str) -> Result<Option<Item>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            item_cols!(),
            " FROM items WHERE collection = $1 AND id = $2 AND state <> 'deleting'"
        ))
        .bind(collection)
        .bind(item_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        row.as_ref().map(item_from_row).transpose()
    }

    #[tracing::instrument(skip_all, fields(collection = collection))]
    async fn find_item_by_hash(&self, collection: &str, content_hash: &str) -> Result<Option<Item>> {
        // Every state, `deleting` included: the hash stays taken until the item is purged, and
        // the caller needs to see why.
        let row = sqlx::query(concat!(
            "SELECT ",
            item_cols!(),
            " FROM items WHERE collection = $1 AND content_hash = $2"
        ))
        .bind(collection)
        .bind(content_hash)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        row.as_ref().map(item_from_row).transpose()
    }

    #[tracing::instrument(skip_all, fields(collection = collection, limit = limit, offset = offset))]
    async fn list_items(
        &self,
        collection: &str,
        label: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<Item>, i64)> {
        let (limit, offset) = (limit.max(0), offset.max(0));
        let (count_sql, page_sql) = match label {
            None => (
                "SELECT COUNT(*) AS n FROM items WHERE collection = $1 AND state <> 'deleting'",
                concat!(
                    "SELECT ",
                    item_cols!(),
                    " FROM items WHERE collection = $1 AND state <> 'deleting' \
                     ORDER BY seq DESC LIMIT $2 OFFSET $3"
                ),
            ),
            Some(_) => (
                "SELECT COUNT(*) AS n FROM items WHERE collection = $1 AND state <> 'deleting' AND label = $2",
                concat!(
                    "SELECT ",
                    item_cols!(),
                    " FROM items WHERE collection = $1 AND state <> 'deleting' AND label = $4 \
                     ORDER BY seq DESC LIMIT $2 OFFSET $3"
                ),
            ),
        };
        let mut count = sqlx::query(count_sql).bind(collection);
        let mut page = sqlx::query(page_sql).bind(collection).bind(limit).bind(offset);
        if let Some(label) = label {
            count = count.bind(label);
            page = page.bind(label);
        }
        let total: i64 = get(&count.fetch_one(&self.pool).await.map_err(db_err)?, "n")?;
        let rows = page.fetch_all(&self.pool).await.map_err(db_err)?;
        Ok((collect(rows, item_from_row)?, total))
    }

    #[tracing::instrument(skip_all, fields(n = item_ids.len()))]
    async fn get_items(&self, item_ids: &[String]) -> Result<Vec<Item>> {
        let mut found = std::collections::HashMap::with_capacity(item_ids.len());
        for chunk in item_ids.chunks(IN_CHUNK) {
            let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let sql = format!(
                concat!("SELECT ", item_cols!(), " FROM items WHERE state <> 'deleting' AND id IN ({})"),
                marks.join(", ")
            );
            let mut q = sqlx::query(&sql);
            for id in chunk {
                q = q.bind(id);
            }
            for row in q.fetch_all(&self.pool).await.map_err(db_err)? {
                let item = item_from_row(&row)?;
                found.insert(item.id.clone(), item);
            }
        }
        // In the order asked for (search hits keep their ranking), each id once.
        Ok(item_ids.iter().filter_map(|id| found.remove(id)).collect())
    }

    #[tracing::instrument(skip_all, fields(item = item_id))]
    async fn purge_item(&self, item_id: &str) -> Result<()> {
        sqlx::query("DELETE FROM items WHERE id = $1")
            .bind(item_id)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(limit = limit))]
    async fn unsettled_items(&self, limit: i64) -> Result<Vec<ItemVectors>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            item_vector_cols!(),
            " FROM items WHERE state IN ('pending', 'deleting') ORDER BY seq LIMIT $1"
        ))
        .bind(limit.max(0))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        collect(rows, item_vectors_from_row)
    }

    #[tracing::instrument(skip_all, fields(collection = collection))]
    async fn labels(&self, collection: &str) -> Result<Vec<LabelCount>> {
        let rows = sqlx::query(
            "SELECT label, COUNT(*) AS n FROM items \
             WHERE collection = $1 AND state <> 'deleting' AND label IS NOT NULL \
             GROUP BY label ORDER BY n DESC, label",
        )
        .bind(collection)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        collect(rows, |row| Ok(LabelCount { label: get(row, "label")?, count: get(row, "n")? }))
    }

    #[tracing::instrument(skip_all, fields(collection = collection, limit = limit))]
    async fn items_with_vectors(
        &self,
        collection: &str,
        after_id: Option<&str>,
        limit: i64,
    ) -> Result<Vec<ItemVectors>> {
        // Keyset pagination by id; "" sorts before every id.
        let rows = sqlx::query(concat!(
            "SELECT ",
            item_vector_cols!(),
            " FROM items WHERE collection = $1 AND state = 'indexed' AND id > $2 ORDER BY id LIMIT $3"
        ))
        .bind(collection)
        .bind(after_id.unwrap_or(""))
        .bind(limit.max(0))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        collect(rows, item_vectors_from_row)
    }

    #[tracing::instrument(skip_all, fields(hash = %blob.hash))]
    async fn put_blob(&self, blob: &Blob) -> Result<()> {
        sqlx::query(
            "INSERT INTO blobs (hash, mime, size, width, height, created_at) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (hash) DO NOTHING",
        )
        .bind(&blob.hash)
        .bind(&blob.mime)
        .bind(blob.size)
        .bind(blob.width)
        .bind(blob.height)
        .bind(pyxa_core::now())
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(hash = hash))]
    async fn get_blob(&self, hash: &str) -> Result<Option<Blob>> {
        let row = sqlx::query("SELECT hash, mime, size, width, height FROM blobs WHERE hash = $1")
            .bind(hash)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        row.map(|row| {
            Ok(Blob {
                hash: get(&row, "hash")?,
                mime: get(&row, "mime")?,
                size: get(&row, "size")?,
                width: get(&row, "width")?,
                height: get(&row, "height")?,
            })
        })
        .transpose()
    }

    #[tracing::instrument(skip_all, fields(answer = %answer.answer_id, conversation = %answer.conversation_id))]
    async fn insert_answer(&self, answer: &AnswerRecord) -> Result<()> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        // The write comes first, so SQLite takes its write lock up front (no upgrade deadlock).
        sqlx::query(
            "INSERT INTO conversations (id, title, collection, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $4) ON CONFLICT (id) DO NOTHING",
        )
        .bind(&answer.conversation_id)
        .bind(title_of(&answer.prompt))
        .bind(&answer.collection)
        .bind(answer.created_at)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        sqlx::query(
            "UPDATE conversations SET updated_at = CASE WHEN updated_at > $2 THEN updated_at ELSE $2 END \
             WHERE id = $1",
        )
        .bind(&answer.conversation_id)
        .bind(answer.created_at)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        sqlx::query(concat!(
            "INSERT INTO answers (",
            answer_cols!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
        ))
        .bind(&answer.answer_id)
        .bind(&answer.conversation_id)
        .bind(&answer.collection)
        .bind(&answer.prompt)
        .bind(&answer.answer)
        .bind(&answer.language)
        .bind(&answer.mode)
        .bind(&answer.image_hash)
        .bind(vector_bytes(&answer.image_vector))
        .bind(json_text(&answer.candidates))
        .bind(json_text(&answer.citations))
        .bind(answer.created_at)
        .execute(&mut *tx)
        .await
        .map_err(|e| match constraint_kind(&e) {
            Some(DbErrorKind::UniqueViolation) => {
                Error::conflict("duplicate_answer", format!("answer {:?} already exists", answer.answer_id))
            }
            _ => db_err(e),
        })?;
        tx.commit().await.map_err(db_err)
    }

    #[tracing::instrument(skip_all, fields(answer = answer_id))]
    async fn get_answer(&self, answer_id: &str) -> Result<Option<AnswerRecord>> {
        let row = sqlx::query(concat!("SELECT ", answer_cols!(), " FROM answers WHERE id = $1"))
            .bind(answer_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        row.as_ref().map(answer_from_row).transpose()
    }

    #[tracing::instrument(skip_all, fields(limit = limit))]
    async fn list_conversations(&self, limit: i64) -> Result<Vec<ConversationSummary>> {
        // Most recently active first; within one second, the one with the latest answer.
        let rows = sqlx::query(concat!(
            "SELECT ",
            conversation_cols!(),
            " FROM conversations c ORDER BY c.updated_at DESC, \
             (SELECT MAX(a.seq) FROM answers a WHERE a.conversation_id = c.id) DESC, c.id LIMIT $1"
        ))
        .bind(limit.max(0))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        collect(rows, conversation_from_row)
    }

    #[tracing::instrument(skip_all, fields(conversation = id))]
    async fn get_conversation(&self, id: &str) -> Result<Option<(ConversationSummary, Vec<AnswerRecord>)>> {
        let Some(summary) = self.conversation_summary(id).await? else { return Ok(None) };
        let rows = sqlx::query(concat!(
            "SELECT ",
            answer_cols!(),
            " FROM answers WHERE conversation_id = $1 ORDER BY seq"
        ))
        .bind(id)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(Some((summary, collect(rows, answer_from_row)?)))
    }

    #[tracing::instrument(skip_all, fields(answer = %feedback.answer_id))]
    async fn insert_feedback(&self, feedback: &Feedback) -> Result<()> {
        sqlx::query(
            "INSERT INTO feedback (id, answer_id, correct, label, item_id, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&feedback.id)
        .bind(&feedback.answer_id)
        .bind(feedback.correct.map(i64::from))
        .bind(&feedback.label)
        .bind(&feedback.item_id)
        .bind(feedback.created_at)
        .execute(&self.pool)
        .await
        .map_err(|e| match constraint_kind(&e) {
            Some(DbErrorKind::UniqueViolation) => {
                Error::conflict("duplicate_feedback", format!("feedback {:?} already exists", feedback.id))
            }
            Some(DbErrorKind::ForeignKeyViolation) => {
                Error::not_found("unknown_answer", format!("no answer {:?}", feedback.answer_id))
            }
            _ => db_err(e),
        })?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vectors_round_trip_bit_exact() {
        let v = vec![0.0, -0.0, 1.5, f32::MIN_POSITIVE, f32::MAX, -1e-30, f32::NAN];
        let back = bytes_vector(vector_bytes(&Some(v.clone()))).unwrap().unwrap();
        assert_eq!(v.iter().map(|x| x.to_bits()).collect::<Vec<_>>(), back.iter().map(|x| x.to_bits()).collect::<Vec<_>>());
        assert!(bytes_vector(Some(vec![1, 2, 3])).is_err());
        assert_eq!(bytes_vector(None).unwrap(), None);
    }

    #[test]
    fn titles() {
        assert_eq!(title_of("  what is\nthis  bird? "), "what is this bird?");
        assert_eq!(title_of("   "), "Untitled");
        let long = "鸟".repeat(200);
        let t = title_of(&long);
        assert_eq!(t.chars().count(), TITLE_CHARS);
        assert!(t.ends_with('…'));
    }

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
