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

mod config;
mod convert;
mod dir;
mod shard;

pub use config::EdgeStoreConfig;

use std::collections::HashMap;
use std::fs;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use async_trait::async_trait;
use pyxa_core::{
    Error, ErrorCode, KeywordQuery, PayloadFilter, Result, ScoredPoint, VectorPoint, VectorQuery, VectorStore, VectorStoreInfo,
};
use qdrant_edge::{
    CountRequest, PointId, PointInsertOperations, PointOperations, UpdateOperation, VectorOperations, WithPayloadInterface,
    WithVector,
};
use tokio::sync::Semaphore;

use crate::common::{self, WRITE_CHUNK};
use convert::{edge_error, from_edge_hit, keyword_request, search_request, to_edge_point, to_filter};
use shard::{check_dim, create_payload_indexes, Shard};

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
        let (lock, shards) = blocking(move || dir::open_dir(&cfg)).await?;
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
        let path = self.config.dir.join(collection);
        blocking(move || {
            let info = shard.edge.info();
            Ok(CollectionStats {
                dim: shard.dim,
                points: info.points_count,
                indexed_vectors: info.indexed_vectors_count,
                segments: info.segments_count,
                disk_bytes: dir::dir_size(&path),
                wal_bytes: dir::dir_size(&path.join("wal")),
            })
        })
        .await
    }

    /// Flush every collection to disk (only needed with `durable_writes: false`).
    pub async fn flush(&self) -> Result<()> {
        let shards: Vec<Arc<Shard>> = self.shards.read().unwrap_or_else(|e| e.into_inner()).values().cloned().collect();
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
        let shard = blocking(move || dir::create_shard(&cfg, name, dim)).await?;
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
        let root = self.config.dir.clone();
        let name = collection.to_string();
        blocking(move || {
            drop(shard);
            dir::remove_collection_dir(&root, &name)
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
            let mut ids = Vec::with_capacity(points.len());
            for p in &points {
                let id = common::validate_point(p, shard.dim)?;
                edge_points.push(to_edge_point(id, p));
                ids.push(PointId::Uuid(id));
            }
            let absent = common::absent_vectors(&points);
            blocking(move || {
                shard.write(durable, || {
                    // Only a point that already exists can keep old vectors: a new one (an upload)
                    // needs no deletion, which would cost a WAL record per write.
                    let existing: std::collections::HashSet<PointId> = if absent.is_empty() {
                        Default::default()
                    } else {
                        let found = shard
                            .edge
                            .retrieve(&ids, Some(WithPayloadInterface::Bool(false)), Some(WithVector::Bool(false)))
                            .map_err(|e| edge_error(&shard.name, e))?;
                        found.into_iter().map(|r| r.id).collect()
                    };
                    let mut rest = edge_points;
                    while !rest.is_empty() {
                        let tail = rest.split_off(rest.len().min(WRITE_CHUNK));
                        let op = UpdateOperation::PointOperation(PointOperations::UpsertPoints(
                            PointInsertOperations::PointsList(rest),
                        ));
                        shard.edge.update(op).map_err(|e| edge_error(&shard.name, e))?;
                        rest = tail;
                    }
                    // Under the same write lock as the upsert, so no other write of these points comes between.
                    for (names, members) in &absent {
                        let replaced: Vec<PointId> = members.iter().map(|&i| ids[i]).filter(|id| existing.contains(id)).collect();
                        for chunk in replaced.chunks(WRITE_CHUNK) {
                            let points = chunk.to_vec();
                            let op = UpdateOperation::VectorOperation(VectorOperations::DeleteVectors(
                                points.into(),
                                names.iter().map(|n| n.to_string()).collect(),
                            ));
                            shard.edge.update(op).map_err(|e| edge_error(&shard.name, e))?;
                        }
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
        let ids: Vec<PointId> = item_ids.iter().map(|id| common::parse_item_id(id).map(PointId::Uuid)).collect::<Result<_>>()?;
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
        let permit =
            self.searches.clone().acquire_owned().await.map_err(|_| Error::internal("vector search semaphore closed"))?;
        let hnsw_ef = self.config.index.hnsw_ef;
        blocking(move || {
            let _permit = permit;
            let hits = shard.edge.query(search_request(query, hnsw_ef)).map_err(|e| edge_error(&shard.name, e))?;
            hits.into_iter().map(from_edge_hit).collect()
        })
        .await
    }

    async fn search_keywords(&self, query: KeywordQuery) -> Result<Vec<ScoredPoint>> {
        let shard = self.shard(&query.collection)?;
        let Some(request) = keyword_request(query) else { return Ok(Vec::new()) };
        if request.limit == 0 {
            return Ok(Vec::new());
        }
        let permit =
            self.searches.clone().acquire_owned().await.map_err(|_| Error::internal("vector search semaphore closed"))?;
        blocking(move || {
            let _permit = permit;
            let hits = shard.edge.query(request).map_err(|e| edge_error(&shard.name, e))?;
            hits.into_iter().map(from_edge_hit).collect()
        })
        .await
    }

    async fn count(&self, collection: &str, filter: &PayloadFilter) -> Result<usize> {
        let shard = self.shard(collection)?;
        let filter = to_filter(filter);
        blocking(move || shard.edge.count(CountRequest { filter, exact: true }).map_err(|e| edge_error(&shard.name, e))).await
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

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f).await.map_err(|e| Error::internal(format!("vector store task failed: {e}")))?
}
