//! [`EdgeStore`]: Qdrant Edge 0.7.2 in-process, one `EdgeShard` per pyxa collection.
//!
//! Facts about qdrant-edge 0.7.2 this code relies on (read from its source, checked by the tests):
//! * Every `EdgeShard` method is synchronous; the shard is `Send + Sync`. Calls run on tokio's
//!   blocking pool (`spawn_blocking`) with the shard in an `Arc`.
//! * `update` appends each operation to a WAL, but `EdgeShard::load` never replays that WAL: a
//!   write is durable only once the segments are flushed (`EdgeShard::flush`, which msyncs and
//!   fsyncs every file of every segment). Killed with SIGKILL before a flush, a process loses
//!   every write since the last flush (the test `edge_sigkill_without_flush_experiment`: 300
//!   upserted points, 0 after reopening). With `durable_writes` (default) every upsert/delete
//!   returns only after a flush that covers it; concurrent writers share flushes (group
//!   commit), because one flush costs 10-200 ms here while applying a small update costs well
//!   under 1 ms.
//! * The WAL is never truncated either (Edge never acknowledges it): it grows by about the size
//!   of every write (207 MB after 100k x 384-d upserts), forever. Deleting it is not safe
//!   (operation numbers restart and the segments would skip new writes as already applied).
//! * `EdgeShard::flush` takes the WAL and segment-holder locks with `try_lock(..).expect(..)`:
//!   a flush that races an update or an optimization panics. All writes, flushes and
//!   optimizations of one shard are therefore serialised by a per-shard mutex here.
//! * There is no background optimizer. Until [`VectorStore::optimize`] runs, every search is an
//!   exact scan (about 15 ms per query at 100k x 384-d). `optimize` merges segments and builds
//!   the HNSW graph for segments above the indexing threshold (blocking; 30-45 s for 100k x
//!   384-d on 2 busy cores). Writes to that collection wait for it; searches keep running on the
//!   old segments meanwhile. Points written after it go to a small plain segment that is
//!   scanned exactly until the next `optimize`: call it after large ingests, not after each item.
//! * Searches run in the calling thread, segment after segment (0.7.2 has no search thread
//!   pool: `search_thread_count` exists in its source but nothing uses it); `search_concurrency`
//!   bounds how many run at once. HNSW building uses `indexing_threads` threads (0: Qdrant's
//!   default, all cores up to 8; the env var `QDRANT_NUM_CPUS` overrides the core count Edge
//!   sees).

use pyxa_core::ErrorCode;
use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::Duration;

use async_trait::async_trait;
use pyxa_core::{
    Error, PayloadFilter, Result, ScoredPoint, VectorName, VectorPoint, VectorQuery, VectorStore,
    VectorStoreInfo,
};
use qdrant_edge::external::serde_json as ejson;
use qdrant_edge::{
    Condition, CountRequest, CreateIndex, Distance, EdgeConfig, EdgeOptimizersConfig, EdgeShard, EdgeVectorParams,
    FieldCondition, FieldIndexOperations, Filter, HnswIndexConfig, JsonPath, KeywordIndexParams, Match, NamedQuery,
    OperationError, Payload, PayloadFieldSchema, PayloadSchemaParams, PointId, PointInsertOperations,
    PointOperations, PointStructPersisted, QueryEnum, QueryRequest, ScoringQuery, SearchParams, UpdateOperation,
    VectorInternal, VectorPersisted, VectorStructPersisted, WithPayloadInterface, WithVector,
};
use tokio::sync::Semaphore;

use crate::common::{self, INDEXED_FIELDS, VECTORS, WRITE_CHUNK};
use crate::IndexSettings;

const EDGE_CONFIG_FILE: &str = "edge_config.json";
const TRASH_PREFIX: &str = ".trash-";
const LOCK_FILE: &str = ".pyxa-vectors.lock";

/// Settings of [`EdgeStore`].
#[derive(Debug, Clone)]
pub struct EdgeStoreConfig {
    /// Root directory; each collection lives in `dir/<collection>/`.
    pub dir: PathBuf,
    /// HNSW / indexing settings (applied to new and, on open, to existing collections).
    pub index: IndexSettings,
    /// Threads used to build HNSW graphs in `optimize` (0: Qdrant's default, all cores up to 8).
    pub indexing_threads: usize,
    /// Searches running at once (each runs on one blocking thread). Default: the number of cores.
    pub search_concurrency: usize,
    /// Flush (fsync) after every upsert/delete, so that a write that returned survives a crash.
    /// Default true. Without it, writes since the last flush/optimize are lost on a crash.
    pub durable_writes: bool,
}

impl EdgeStoreConfig {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: dir.into(),
            index: IndexSettings::default(),
            indexing_threads: 0,
            search_concurrency: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2),
            durable_writes: true,
        }
    }
}

/// What one collection holds, from Edge's own bookkeeping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectionStats {
    pub dim: usize,
    /// Approximate number of points (exact when no deletes are pending a vacuum).
    pub points: usize,
    /// Vectors (both names together) in HNSW-indexed segments.
    pub indexed_vectors: usize,
    pub segments: usize,
    /// Bytes on disk: the whole collection directory, and its WAL part.
    pub disk_bytes: u64,
    pub wal_bytes: u64,
}

struct Shard {
    name: String,
    dim: usize,
    edge: EdgeShard,
    /// Serialises update / flush / optimize (see the module notes).
    write: Mutex<()>,
    /// Group commit: number of writes applied, and how many of them the last flush covered.
    written: AtomicU64,
    flushed: AtomicU64,
    /// One flusher at a time; writers waiting here find their write already flushed by the
    /// previous flusher and return without flushing again.
    flush: Mutex<()>,
}

impl Shard {
    fn new(name: String, dim: usize, edge: EdgeShard) -> Self {
        Self {
            name,
            dim,
            edge,
            write: Mutex::new(()),
            written: AtomicU64::new(0),
            flushed: AtomicU64::new(0),
            flush: Mutex::new(()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, ()> {
        self.write.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Apply a write under the write lock; with `durable`, return only once a flush covers it.
    /// Concurrent writers share flushes (group commit): a flush costs tens of ms (it fsyncs
    /// every file of every segment), an update of a few points well under one.
    fn write(&self, durable: bool, apply: impl FnOnce() -> Result<()>) -> Result<()> {
        let seq = {
            let _w = self.lock();
            let r = apply();
            // Count partial writes too: they become durable with the next flush either way.
            let seq = self.written.fetch_add(1, Ordering::SeqCst) + 1;
            r?;
            seq
        };
        if durable {
            let _f = self.flush.lock().unwrap_or_else(|e| e.into_inner());
            if self.flushed.load(Ordering::SeqCst) < seq {
                let w = self.lock();
                self.flush_locked(&w)?;
            }
        }
        Ok(())
    }

    /// Flush everything written so far. Call with the write lock held (`EdgeShard::flush`
    /// panics if it races an update). Edge panics on I/O errors too (disk full): reported as
    /// `vector_store_error` rather than a crashed task.
    fn flush_locked(&self, _write: &MutexGuard<'_, ()>) -> Result<()> {
        let upto = self.written.load(Ordering::SeqCst);
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.edge.flush())).map_err(|p| {
            let what = p
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| p.downcast_ref::<&str>().copied())
                .unwrap_or("panic");
            common::backend_error(format!("qdrant edge, collection {:?}: flush failed: {what}", self.name))
        })?;
        self.flushed.fetch_max(upto, Ordering::SeqCst);
        Ok(())
    }
}

/// Qdrant Edge in-process vector store (pyxa's default).
pub struct EdgeStore {
    config: EdgeStoreConfig,
    shards: RwLock<HashMap<String, Arc<Shard>>>,
    /// Serialises ensure_collection / delete_collection.
    admin: tokio::sync::Mutex<()>,
    searches: Arc<Semaphore>,
    _lock: fs::File,
}

impl EdgeStore {
    /// Open (or create) a store in `dir` with default settings, loading existing collections.
    pub async fn open(dir: impl Into<PathBuf>) -> Result<Self> {
        Self::open_with(EdgeStoreConfig::new(dir)).await
    }

    /// Open (or create) a store, loading every collection found in `config.dir`. Takes an
    /// exclusive lock on the directory: a second store (in this or another process) fails with
    /// `Unavailable` / `vector_store_locked`.
    pub async fn open_with(config: EdgeStoreConfig) -> Result<Self> {
        if config.search_concurrency == 0 {
            return Err(Error::new(ErrorCode::VectorStoreConfig, "search_concurrency must be at least 1"));
        }
        let cfg = config.clone();
        let (lock, shards) = blocking(move || {
            fs::create_dir_all(&cfg.dir).map_err(|e| io_error(&cfg.dir, e))?;
            let lock_path = cfg.dir.join(LOCK_FILE);
            let lock = fs::OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&lock_path)
                .map_err(|e| io_error(&lock_path, e))?;
            lock.try_lock().map_err(|_| {
                Error::new(ErrorCode::VectorStoreLocked,
                    format!("{} is in use by another vector store", cfg.dir.display()),
                )
            })?;
            let mut shards = HashMap::new();
            for entry in fs::read_dir(&cfg.dir).map_err(|e| io_error(&cfg.dir, e))? {
                let entry = entry.map_err(|e| io_error(&cfg.dir, e))?;
                let path = entry.path();
                let name = entry.file_name().to_string_lossy().into_owned();
                if !path.is_dir() {
                    continue;
                }
                if name.starts_with(TRASH_PREFIX) {
                    // Left by a delete_collection that was interrupted.
                    fs::remove_dir_all(&path).map_err(|e| io_error(&path, e))?;
                    continue;
                }
                if common::validate_collection_name(&name).is_err() {
                    tracing::warn!(path = %path.display(), "not a vector collection, ignored");
                    continue;
                }
                if !path.join(EDGE_CONFIG_FILE).exists() {
                    // A create that was interrupted before any data: ensure_collection recreates it.
                    tracing::warn!(path = %path.display(), "incomplete vector collection, ignored");
                    continue;
                }
                let shard = load_shard(&cfg, &path, &name)?;
                shards.insert(name, Arc::new(shard));
            }
            Ok((lock, shards))
        })
        .await?;
        tracing::info!(dir = %config.dir.display(), collections = shards.len(), "qdrant edge store opened");
        Ok(Self {
            searches: Arc::new(Semaphore::new(config.search_concurrency)),
            config,
            shards: RwLock::new(shards),
            admin: tokio::sync::Mutex::new(()),
            _lock: lock,
        })
    }

    pub fn config(&self) -> &EdgeStoreConfig {
        &self.config
    }

    /// Names of the open collections, sorted.
    pub fn collections(&self) -> Vec<String> {
        let mut v: Vec<String> = self.shards.read().unwrap_or_else(|e| e.into_inner()).keys().cloned().collect();
        v.sort();
        v
    }

    /// Edge's view of one collection (segments, indexed vectors, bytes on disk).
    pub async fn stats(&self, collection: &str) -> Result<CollectionStats> {
        let shard = self.shard(collection)?;
        let dir = self.config.dir.join(collection);
        blocking(move || {
            let info = shard.edge.info();
            Ok(CollectionStats {
                dim: shard.dim,
                points: info.points_count,
                indexed_vectors: info.indexed_vectors_count,
                segments: info.segments_count,
                disk_bytes: dir_size(&dir),
                wal_bytes: dir_size(&dir.join("wal")),
            })
        })
        .await
    }

    /// Flush every collection to disk (only needed with `durable_writes: false`).
    pub async fn flush(&self) -> Result<()> {
        let shards: Vec<Arc<Shard>> =
            self.shards.read().unwrap_or_else(|e| e.into_inner()).values().cloned().collect();
        blocking(move || {
            for s in shards {
                let w = s.lock();
                s.flush_locked(&w)?;
            }
            Ok(())
        })
        .await
    }

    fn shard(&self, collection: &str) -> Result<Arc<Shard>> {
        common::validate_collection_name(collection)?;
        self.shards
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(collection)
            .cloned()
            .ok_or_else(|| common::unknown_collection(collection))
    }
}

#[async_trait]
impl VectorStore for EdgeStore {
    fn info(&self) -> VectorStoreInfo {
        VectorStoreInfo { backend: "qdrant-edge 0.7.2".into(), location: self.config.dir.display().to_string() }
    }

    async fn ensure_collection(&self, collection: &str, dim: usize) -> Result<()> {
        common::validate_collection_name(collection)?;
        common::validate_dim(dim)?;
        if let Ok(s) = self.shard(collection) {
            return check_dim(&s, dim);
        }
        let _admin = self.admin.lock().await;
        if let Ok(s) = self.shard(collection) {
            return check_dim(&s, dim);
        }
        let cfg = self.config.clone();
        let name = collection.to_string();
        let shard = blocking(move || {
            let path = cfg.dir.join(&name);
            if path.exists() {
                // Not loaded at open: an interrupted create (no config file, hence no data).
                fs::remove_dir_all(&path).map_err(|e| io_error(&path, e))?;
            }
            fs::create_dir_all(&path).map_err(|e| io_error(&path, e))?;
            let edge = EdgeShard::new(&path, edge_config(&cfg, dim)).map_err(|e| edge_error(&name, e))?;
            let shard = Shard::new(name, dim, edge);
            {
                let w = shard.lock();
                create_payload_indexes(&shard)?;
                shard.flush_locked(&w)?;
            }
            Ok(shard)
        })
        .await?;
        let shard = Arc::new(shard);
        let s = shard.clone();
        self.shards.write().unwrap_or_else(|e| e.into_inner()).insert(collection.to_string(), shard);
        tracing::info!(collection, dim, "vector collection created");
        check_dim(&s, dim)
    }

    async fn delete_collection(&self, collection: &str) -> Result<()> {
        common::validate_collection_name(collection)?;
        let _admin = self.admin.lock().await;
        let removed = self.shards.write().unwrap_or_else(|e| e.into_inner()).remove(collection);
        // Wait until no search/write still holds the shard, so that it is dropped (and flushed)
        // before its directory goes away.
        let shard = match removed {
            Some(mut arc) => loop {
                match Arc::try_unwrap(arc) {
                    Ok(s) => break Some(s),
                    Err(a) => {
                        arc = a;
                        tokio::time::sleep(Duration::from_millis(5)).await;
                    }
                }
            },
            None => None,
        };
        let path = self.config.dir.join(collection);
        let trash = self.config.dir.join(format!("{TRASH_PREFIX}{collection}-{}", uuid::Uuid::new_v4().simple()));
        blocking(move || {
            drop(shard);
            if path.exists() {
                fs::rename(&path, &trash).map_err(|e| io_error(&path, e))?;
                fs::remove_dir_all(&trash).map_err(|e| io_error(&trash, e))?;
            }
            Ok(())
        })
        .await?;
        tracing::info!(collection, "vector collection deleted");
        Ok(())
    }

    async fn upsert(&self, points: Vec<VectorPoint>) -> Result<()> {
        let durable = self.config.durable_writes;
        for (collection, points) in common::group_by_collection(points) {
            let shard = self.shard(&collection)?;
            let mut edge_points = Vec::with_capacity(points.len());
            for p in &points {
                let id = common::validate_point(p, shard.dim)?;
                edge_points.push(to_edge_point(id, p));
            }
            blocking(move || {
                shard.write(durable, || {
                    let mut rest = edge_points;
                    while !rest.is_empty() {
                        let tail = rest.split_off(rest.len().min(WRITE_CHUNK));
                        let op = UpdateOperation::PointOperation(PointOperations::UpsertPoints(
                            PointInsertOperations::PointsList(rest),
                        ));
                        shard.edge.update(op).map_err(|e| edge_error(&shard.name, e))?;
                        rest = tail;
                    }
                    Ok(())
                })
            })
            .await?;
        }
        Ok(())
    }

    async fn delete(&self, collection: &str, item_ids: &[String]) -> Result<()> {
        let shard = self.shard(collection)?;
        let ids: Vec<PointId> =
            item_ids.iter().map(|id| common::parse_item_id(id).map(PointId::Uuid)).collect::<Result<_>>()?;
        if ids.is_empty() {
            return Ok(());
        }
        let durable = self.config.durable_writes;
        blocking(move || {
            shard.write(durable, || {
                for chunk in ids.chunks(WRITE_CHUNK) {
                    let op = UpdateOperation::PointOperation(PointOperations::DeletePoints { ids: chunk.to_vec() });
                    shard.edge.update(op).map_err(|e| edge_error(&shard.name, e))?;
                }
                Ok(())
            })
        })
        .await
    }

    async fn search(&self, query: VectorQuery) -> Result<Vec<ScoredPoint>> {
        let shard = self.shard(&query.collection)?;
        common::check_vector(&query.vector, shard.dim, "query")?;
        if query.top_k == 0 {
            return Ok(Vec::new());
        }
        let permit = self
            .searches
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| Error::internal("vector search semaphore closed"))?;
        let hnsw_ef = self.config.index.hnsw_ef;
        blocking(move || {
            let _permit = permit;
            let request = QueryRequest {
                prefetches: Vec::new(),
                query: Some(ScoringQuery::Vector(QueryEnum::Nearest(NamedQuery::new(
                    VectorInternal::Dense(query.vector),
                    query.using.as_str(),
                )))),
                filter: to_filter(&query.filter),
                score_threshold: None,
                limit: query.top_k,
                offset: 0,
                params: Some(SearchParams { hnsw_ef, exact: query.exact, ..Default::default() }),
                with_vector: WithVector::Bool(false),
                with_payload: WithPayloadInterface::Bool(true),
            };
            let hits = shard.edge.query(request).map_err(|e| edge_error(&shard.name, e))?;
            hits.into_iter()
                .map(|h| {
                    let payload = h.payload.map(|p| p.0).unwrap_or_default();
                    let get = |k: &str| payload.get(k).and_then(|v| v.as_str());
                    Ok(ScoredPoint {
                        item_id: get("item_id").map(str::to_string).unwrap_or_else(|| h.id.to_string()),
                        label: get("label").map(str::to_string),
                        kind: common::parse_kind(get("kind"), &h.id.to_string())?,
                        score: h.score,
                    })
                })
                .collect()
        })
        .await
    }

    async fn count(&self, collection: &str, filter: &PayloadFilter) -> Result<usize> {
        let shard = self.shard(collection)?;
        let filter = to_filter(filter);
        blocking(move || {
            shard.edge.count(CountRequest { filter, exact: true }).map_err(|e| edge_error(&shard.name, e))
        })
        .await
    }

    async fn contains(&self, collection: &str, item_id: &str) -> Result<bool> {
        let shard = self.shard(collection)?;
        let id = PointId::Uuid(common::parse_item_id(item_id)?);
        blocking(move || {
            let found = shard
                .edge
                .retrieve(&[id], Some(WithPayloadInterface::Bool(false)), Some(WithVector::Bool(false)))
                .map_err(|e| edge_error(&shard.name, e))?;
            Ok(!found.is_empty())
        })
        .await
    }

    async fn optimize(&self, collection: &str) -> Result<()> {
        let shard = self.shard(collection)?;
        blocking(move || {
            let w = shard.lock();
            let t = std::time::Instant::now();
            let changed = shard.edge.optimize().map_err(|e| edge_error(&shard.name, e))?;
            // New appendable segments start without payload indexes: add them (no-op if present).
            create_payload_indexes(&shard)?;
            shard.flush_locked(&w)?;
            if changed {
                tracing::info!(collection = %shard.name, secs = t.elapsed().as_secs_f64(), "vector collection optimized");
            }
            Ok(())
        })
        .await
    }
}

// ---------------------------------------------------------------- helpers

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::internal(format!("vector store task failed: {e}")))?
}

fn check_dim(shard: &Shard, dim: usize) -> Result<()> {
    if shard.dim != dim {
        return Err(common::dim_conflict(&shard.name, shard.dim, dim));
    }
    Ok(())
}

fn hnsw_config(cfg: &EdgeStoreConfig) -> HnswIndexConfig {
    let mut h = HnswIndexConfig::default();
    if let Some(m) = cfg.index.m {
        h.m = m;
    }
    if let Some(ef) = cfg.index.ef_construct {
        h.ef_construct = ef;
    }
    if let Some(t) = cfg.index.full_scan_threshold_kb {
        h.full_scan_threshold = t;
    }
    h.max_indexing_threads = cfg.indexing_threads;
    h
}

fn optimizers_config(cfg: &EdgeStoreConfig) -> EdgeOptimizersConfig {
    EdgeOptimizersConfig { indexing_threshold: cfg.index.indexing_threshold_kb, ..Default::default() }
}

fn edge_config(cfg: &EdgeStoreConfig, dim: usize) -> EdgeConfig {
    let mut b = EdgeConfig::builder();
    for v in VECTORS {
        b = b.vector(v.as_str(), EdgeVectorParams::builder(dim, Distance::Cosine).build());
    }
    b.hnsw_config(hnsw_config(cfg)).optimizers(optimizers_config(cfg)).build()
}

fn load_shard(cfg: &EdgeStoreConfig, path: &Path, name: &str) -> Result<Shard> {
    let edge = EdgeShard::load(path, None).map_err(|e| edge_error(name, e))?;
    let (dim, hnsw_differs, optimizers_differ) = {
        let c = edge.config();
        let dims: Vec<usize> = VECTORS.iter().filter_map(|v| c.vectors.get(v.as_str()).map(|p| p.size)).collect();
        if dims.len() != VECTORS.len() || dims[0] != dims[1] {
            return Err(common::backend_error(format!(
                "{} is not a pyxa vector collection (named vectors {:?})",
                path.display(),
                c.vectors.keys().collect::<Vec<_>>()
            )));
        }
        (dims[0], c.hnsw_config != hnsw_config(cfg), c.optimizers != optimizers_config(cfg))
    };
    // The store's settings win over the ones saved with the collection.
    if hnsw_differs {
        edge.set_hnsw_config(hnsw_config(cfg)).map_err(|e| edge_error(name, e))?;
    }
    if optimizers_differ {
        edge.set_optimizers_config(optimizers_config(cfg)).map_err(|e| edge_error(name, e))?;
    }
    let shard = Shard::new(name.to_string(), dim, edge);
    {
        let _w = shard.lock();
        create_payload_indexes(&shard)?;
    }
    Ok(shard)
}

/// Keyword indexes on the filterable fields. Idempotent: Edge skips indexes that exist.
/// Call with the shard's write lock held.
fn create_payload_indexes(shard: &Shard) -> Result<()> {
    for (field, hnsw_links) in INDEXED_FIELDS {
        let schema = PayloadFieldSchema::FieldParams(PayloadSchemaParams::Keyword(KeywordIndexParams {
            enable_hnsw: Some(hnsw_links),
            ..Default::default()
        }));
        let op = UpdateOperation::FieldIndexOperation(FieldIndexOperations::CreateIndex(CreateIndex {
            field_name: json_path(field),
            field_schema: Some(schema),
        }));
        shard.edge.update(op).map_err(|e| edge_error(&shard.name, e))?;
    }
    Ok(())
}

fn to_edge_point(id: uuid::Uuid, p: &VectorPoint) -> PointStructPersisted {
    let mut vectors = HashMap::new();
    for name in VECTORS {
        let v = match name {
            VectorName::Image => &p.image,
            VectorName::Text => &p.text,
        };
        if let Some(v) = v {
            vectors.insert(name.as_str().to_string(), VectorPersisted::Dense(v.clone()));
        }
    }
    let payload: ejson::Map<String, ejson::Value> = common::payload_json(p);
    PointStructPersisted {
        id: PointId::Uuid(id),
        vector: VectorStructPersisted::Named(vectors),
        payload: Some(Payload(payload)),
    }
}

fn to_filter(f: &PayloadFilter) -> Option<Filter> {
    let mut must = Vec::new();
    let mut add = |key: &str, value: &str| {
        must.push(Condition::Field(FieldCondition::new_match(json_path(key), Match::from(value.to_string()))));
    };
    if let Some(l) = &f.label {
        add("label", l);
    }
    if let Some(k) = f.kind {
        add("kind", k.as_str());
    }
    if let Some(t) = &f.tenant {
        add("tenant", t);
    }
    if must.is_empty() {
        None
    } else {
        Some(Filter { must: Some(must), ..Default::default() })
    }
}

fn json_path(key: &str) -> JsonPath {
    key.parse().unwrap_or_else(|_| panic!("{key:?} is a valid payload key"))
}

fn edge_error(collection: &str, e: OperationError) -> Error {
    let message = format!("qdrant edge, collection {collection:?}: {e}");
    match e {
        OperationError::WrongVectorDimension { .. } => Error::new(ErrorCode::VectorDimMismatch, message),
        OperationError::ValidationError { .. } => Error::new(ErrorCode::InvalidVectorRequest, message),
        OperationError::Timeout { .. } | OperationError::Cancelled { .. } => {
            Error::new(ErrorCode::VectorStoreTimeout, message)
        }
        _ => common::backend_error(message),
    }
}

fn io_error(path: &Path, e: std::io::Error) -> Error {
    common::backend_error(format!("{}: {e}", path.display()))
}

fn dir_size(path: &Path) -> u64 {
    let Ok(entries) = fs::read_dir(path) else { return 0 };
    entries
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_size(&e.path()),
            // Allocated blocks, not the length: WAL and mmap files are sparse or preallocated.
            Ok(m) => std::os::unix::fs::MetadataExt::blocks(&m) * 512,
            Err(_) => 0,
        })
        .sum()
}
