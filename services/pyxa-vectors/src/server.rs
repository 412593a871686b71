//! [`ServerStore`]: a Qdrant server or cluster over gRPC (`qdrant-client` 1.20).
//!
//! pyxa collection `c` is Qdrant collection `pyxa_c`, with the same layout as [`crate::EdgeStore`]:
//! named vectors `image` and `text` (cosine), keyword indexes on `label`, `kind`, `tenant`,
//! `collection`, point id = item id (UUID). Writes wait for the server to apply them
//! (`wait=true`). Qdrant optimises in the background; `optimize` waits until the collection is
//! green (all optimisations done).

use pyxa_core::ErrorCode;
use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::RwLock;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use pyxa_core::{
    Error, ErrorKind, KeywordQuery, PayloadFilter, Result, ScoredPoint, StoreStatus, VectorPoint, VectorQuery, VectorStore,
    VectorStoreHealth, VectorStoreInfo,
};
use qdrant_client::qdrant::{
    points_update_operation::{DeleteVectors, Operation, PointStructList},
    read_consistency,
    value::Kind,
    vectors_config, CollectionStatus, Condition, CountPointsBuilder, CreateCollectionBuilder, CreateFieldIndexCollectionBuilder,
    CreateVectorNameRequestBuilder, DeletePointsBuilder, Distance, FieldType, Filter, GetPointsBuilder, HnswConfigDiff,
    KeywordIndexParamsBuilder, Modifier, NamedVectors, OptimizersConfigDiff, PointId, PointStruct, PointsIdsList,
    PointsUpdateOperation, Query, QueryPointsBuilder, ReadConsistencyType, ReplicaState, SearchParamsBuilder,
    SparseIndexConfigBuilder, SparseVectorCreationConfigBuilder, SparseVectorParamsBuilder, SparseVectorsConfigBuilder,
    UpdateBatchPointsBuilder, UpdateCollectionBuilder, Value, Vector, VectorInput, VectorParamsBuilder, VectorsConfigBuilder,
    VectorsSelector, WriteOrdering, WriteOrderingType,
};
use qdrant_client::{Payload, Qdrant, QdrantError};

use crate::common::{self, INDEXED_FIELDS, KEYWORDS, VECTORS, WRITE_CHUNK};
use crate::IndexSettings;

/// How long `/health` waits for each peer.
const HEALTH_PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// How long a collection just created (by this process or another replica) may take before
/// its shards answer reads.
const COLLECTION_READY_TIMEOUT: Duration = Duration::from_secs(30);
const COLLECTION_READY_POLL: Duration = Duration::from_millis(200);

/// Qdrant collection names are `pyxa_<collection>`.
pub const COLLECTION_PREFIX: &str = "pyxa_";

/// Settings of [`ServerStore`].
#[derive(Debug, Clone)]
pub struct ServerStoreConfig {
    /// gRPC URL, e.g. `http://localhost:6334` (https for TLS); several, comma-separated, for
    /// the peers of a cluster: requests go to one and move to the next when it cannot be reached.
    pub url: String,
    pub api_key: Option<String>,
    /// Shards per new collection (server default 1; on a cluster, e.g. one per node).
    pub shard_number: Option<u32>,
    /// Copies of each shard on a cluster (server default 1).
    pub replication_factor: Option<u32>,
    /// Replicas that must confirm a write before it succeeds (server default 1).
    pub write_consistency_factor: Option<u32>,
    /// How writes are ordered across replicas (server default `weak`).
    pub write_ordering: Option<WriteOrder>,
    /// How many replicas a read asks (server default: one).
    pub read_consistency: Option<ReadConsistency>,
    /// HNSW / indexing settings for new collections.
    pub index: IndexSettings,
    /// Per-request timeout (default 30 s).
    pub timeout: Duration,
    /// Connection timeout (default 5 s).
    pub connect_timeout: Duration,
    /// How long `optimize` waits for the server's background optimisation (default 10 min).
    pub optimize_timeout: Duration,
}

impl ServerStoreConfig {
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            api_key: None,
            shard_number: None,
            replication_factor: None,
            write_consistency_factor: None,
            write_ordering: None,
            read_consistency: None,
            index: IndexSettings::default(),
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(5),
            optimize_timeout: Duration::from_secs(600),
        }
    }
}

/// Qdrant's write ordering: `weak` lets each replica apply writes as they come, `medium` goes
/// through a dynamically chosen leader, `strong` through the permanent leader of each shard, so
/// two pyxa replicas writing the same point see one order everywhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteOrder {
    Weak,
    Medium,
    Strong,
}

impl std::str::FromStr for WriteOrder {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "weak" => Ok(Self::Weak),
            "medium" => Ok(Self::Medium),
            "strong" => Ok(Self::Strong),
            _ => Err(format!("write ordering {s:?} is not one of weak, medium, strong")),
        }
    }
}

/// Qdrant's read consistency: how many replicas of a shard a read asks and agrees across.
/// `all` and `majority` ask every replica (and fail while one is down); `quorum` asks half + 1
/// and keeps the points all of them hold; a number asks that many.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadConsistency {
    All,
    Majority,
    Quorum,
    Replicas(u64),
}

impl std::str::FromStr for ReadConsistency {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "all" => Ok(Self::All),
            "majority" => Ok(Self::Majority),
            "quorum" => Ok(Self::Quorum),
            n => match n.parse::<u64>() {
                Ok(n) if n >= 1 => Ok(Self::Replicas(n)),
                _ => Err(format!("read consistency {s:?} is not one of all, majority, quorum or a number of replicas")),
            },
        }
    }
}

impl ReadConsistency {
    fn grpc(self) -> read_consistency::Value {
        match self {
            Self::All => read_consistency::Value::Type(ReadConsistencyType::All as i32),
            Self::Majority => read_consistency::Value::Type(ReadConsistencyType::Majority as i32),
            Self::Quorum => read_consistency::Value::Type(ReadConsistencyType::Quorum as i32),
            Self::Replicas(n) => read_consistency::Value::Factor(n),
        }
    }
}

/// Qdrant server / cluster vector store.
pub struct ServerStore {
    /// One client per URL given (the peers of a cluster, or one server).
    peers: Vec<(String, Qdrant)>,
    /// Index into `peers` of the one requests go to.
    current: AtomicUsize,
    config: ServerStoreConfig,
    /// Dimension of each known collection (pyxa name).
    dims: RwLock<HashMap<String, usize>>,
}

impl ServerStore {
    /// Build the client. Does not connect: the first call does (and fails with `Unavailable` /
    /// `vector_store_unavailable` when the server cannot be reached).
    pub fn new(config: ServerStoreConfig) -> Result<Self> {
        let mut peers = Vec::new();
        for url in config.url.split(',').map(str::trim).filter(|u| !u.is_empty()) {
            let client = Qdrant::from_url(url)
                .api_key(config.api_key.clone())
                .timeout(config.timeout)
                .connect_timeout(config.connect_timeout)
                .skip_compatibility_check()
                .build()
                .map_err(|e| Error::new(ErrorCode::VectorStoreConfig, format!("qdrant client for {url}: {e}")))?;
            peers.push((url.to_string(), client));
        }
        if peers.is_empty() {
            return Err(Error::new(ErrorCode::VectorStoreConfig, "the qdrant URL is empty"));
        }
        Ok(Self { peers, current: AtomicUsize::new(0), config, dims: RwLock::new(HashMap::new()) })
    }

    /// Runs `op` against the peer in use; when that peer cannot be reached, against the next
    /// one, which then stays in use. Every request pyxa sends is idempotent (upserts and
    /// deletes by id, reads), so repeating one on another peer is safe.
    async fn call<T, F, Fut>(&self, op: F) -> std::result::Result<T, QdrantError>
    where
        F: Fn(Qdrant) -> Fut,
        Fut: Future<Output = std::result::Result<T, QdrantError>>,
    {
        let start = self.current.load(Ordering::Relaxed);
        let mut k = 0;
        loop {
            let i = (start + k) % self.peers.len();
            match op(self.peers[i].1.clone()).await {
                Err(e) if k + 1 < self.peers.len() && is_unreachable(&e) => {
                    tracing::warn!(peer = %self.peers[i].0, error = %e, "qdrant peer unreachable, trying the next one");
                    k += 1;
                }
                result => {
                    if k > 0 && result.is_ok() {
                        self.current.store(i, Ordering::Relaxed);
                        tracing::info!(peer = %self.peers[i].0, "qdrant requests now go to this peer");
                    }
                    return result;
                }
            }
        }
    }

    pub fn config(&self) -> &ServerStoreConfig {
        &self.config
    }

    /// Every peer's health check, then the replica states of pyxa's collections as the first
    /// reachable peer sees them.
    async fn check_health(&self) -> VectorStoreHealth {
        let mut problems = Vec::new();
        let mut reachable = None;
        for (i, (url, client)) in self.peers.iter().enumerate() {
            match tokio::time::timeout(HEALTH_PROBE_TIMEOUT, client.health_check()).await {
                Ok(Ok(_)) => {
                    reachable.get_or_insert(i);
                }
                Ok(Err(e)) => problems.push(format!("peer {url} does not answer: {}", server_error(None, e).message)),
                Err(_) => problems.push(format!("peer {url} does not answer within {HEALTH_PROBE_TIMEOUT:?}")),
            }
        }
        let Some(i) = reachable else {
            return VectorStoreHealth { status: StoreStatus::Unavailable, problems };
        };
        let client = &self.peers[i].1;
        match client.list_collections().await {
            Ok(list) => {
                for name in list.collections.into_iter().map(|c| c.name).filter(|n| n.starts_with(COLLECTION_PREFIX)) {
                    let Ok(info) = client.collection_cluster_info(name.as_str()).await else { continue };
                    let local = info.local_shards.iter().map(|s| (s.shard_id, info.peer_id, s.state));
                    let remote = info.remote_shards.iter().map(|s| (s.shard_id, s.peer_id, s.state));
                    for (shard, peer, state) in local.chain(remote) {
                        if state != ReplicaState::Active as i32 {
                            let state = ReplicaState::try_from(state).map(|s| s.as_str_name()).unwrap_or("Unknown");
                            problems.push(format!("{name} shard {shard} on peer {peer}: {state}"));
                        }
                    }
                }
            }
            Err(e) => problems.push(format!("listing collections: {}", server_error(None, e).message)),
        }
        let status = if problems.is_empty() { StoreStatus::Ok } else { StoreStatus::Degraded };
        VectorStoreHealth { status, problems }
    }

    fn cached_dim(&self, collection: &str) -> Option<usize> {
        self.dims.read().unwrap_or_else(|e| e.into_inner()).get(collection).copied()
    }

    /// The collection's dimension (cached); `unknown_collection` when it does not exist.
    async fn dim(&self, collection: &str) -> Result<usize> {
        common::validate_collection_name(collection)?;
        if let Some(d) = self.cached_dim(collection) {
            return Ok(d);
        }
        let info = self
            .call(|c| {
                let name = qname(collection);
                async move { c.collection_info(name).await }
            })
            .await
            .map_err(|e| server_error(Some(collection), e))?;
        let params = info.result.and_then(|r| r.config).and_then(|c| c.params);
        let has_keywords =
            params.as_ref().and_then(|p| p.sparse_vectors_config.as_ref()).is_some_and(|s| s.map.contains_key(KEYWORDS));
        let params = params.and_then(|p| p.vectors_config);
        let dims: Vec<u64> = match params.and_then(|v| v.config) {
            Some(vectors_config::Config::ParamsMap(m)) => {
                VECTORS.iter().filter_map(|v| m.map.get(v.as_str()).map(|p| p.size)).collect()
            }
            _ => Vec::new(),
        };
        if dims.len() != VECTORS.len() || dims[0] != dims[1] {
            return Err(common::backend_error(format!(
                "qdrant collection {} is not a pyxa collection (no named vectors image and text of one size)",
                qname(collection)
            )));
        }
        if !has_keywords {
            // A collection made before hybrid retrieval (needs a Qdrant server >= 1.18).
            let req = CreateVectorNameRequestBuilder::new(
                qname(collection),
                KEYWORDS,
                SparseVectorCreationConfigBuilder::new().modifier(Modifier::Idf),
            )
            .wait(true);
            self.call(|c| {
                let req = req.clone();
                async move { c.create_vector_name(req).await }
            })
            .await
            .map_err(|e| server_error(Some(collection), e))?;
            tracing::info!(collection, "keyword vector added to the qdrant collection");
        }
        let d = dims[0] as usize;
        self.dims.write().unwrap_or_else(|e| e.into_inner()).insert(collection.to_string(), d);
        Ok(d)
    }

    /// Waits until the collection answers a read. On a cluster a new collection's shard
    /// replicas start inactive, and reads fail meanwhile ("0 of 0 read operations failed"): a
    /// replica starting beside the one that created it must not take that for an error.
    async fn wait_until_readable(&self, collection: &str) -> Result<()> {
        let deadline = tokio::time::Instant::now() + COLLECTION_READY_TIMEOUT;
        loop {
            let probe = self
                .call(|c| {
                    let req = CountPointsBuilder::new(qname(collection)).exact(false);
                    async move { c.count(req).await }
                })
                .await;
            match probe {
                Ok(_) => return Ok(()),
                Err(e) if tokio::time::Instant::now() < deadline => {
                    tracing::debug!(collection, error = %e, "qdrant collection not readable yet");
                    tokio::time::sleep(COLLECTION_READY_POLL).await;
                }
                Err(e) => return Err(server_error(Some(collection), e)),
            }
        }
    }

    async fn create_collection(&self, collection: &str, dim: usize) -> Result<()> {
        let mut vectors = VectorsConfigBuilder::default();
        for v in VECTORS {
            vectors.add_named_vector_params(v.as_str(), VectorParamsBuilder::new(dim as u64, Distance::Cosine));
        }
        let idx = &self.config.index;
        let mut sparse = SparseVectorsConfigBuilder::default();
        sparse.add_named_vector_params(
            KEYWORDS,
            SparseVectorParamsBuilder::default().modifier(Modifier::Idf).index(SparseIndexConfigBuilder::default().on_disk(true)),
        );
        let mut create = CreateCollectionBuilder::new(qname(collection)).vectors_config(vectors).sparse_vectors_config(sparse);
        if let Some(n) = self.config.shard_number {
            create = create.shard_number(n);
        }
        if let Some(n) = self.config.replication_factor {
            create = create.replication_factor(n);
        }
        if let Some(n) = self.config.write_consistency_factor {
            create = create.write_consistency_factor(n);
        }
        if idx.m.is_some() || idx.ef_construct.is_some() || idx.full_scan_threshold_kb.is_some() {
            create = create.hnsw_config(HnswConfigDiff {
                m: idx.m.map(|x| x as u64),
                ef_construct: idx.ef_construct.map(|x| x as u64),
                full_scan_threshold: idx.full_scan_threshold_kb.map(|x| x as u64),
                ..Default::default()
            });
        }
        if let Some(t) = idx.indexing_threshold_kb {
            create = create.optimizers_config(OptimizersConfigDiff { indexing_threshold: Some(t as u64), ..Default::default() });
        }
        if let Err(e) = self
            .call(|c| {
                let req = create.clone();
                async move { c.create_collection(req).await }
            })
            .await
        {
            // Created meanwhile by another process? Then it is fine if it matches.
            let exists = self
                .call(|c| {
                    let name = qname(collection);
                    async move { c.collection_exists(name).await }
                })
                .await
                .unwrap_or(false);
            if !exists {
                return Err(server_error(Some(collection), e));
            }
        }
        for (field, hnsw_links) in INDEXED_FIELDS {
            let req = CreateFieldIndexCollectionBuilder::new(qname(collection), field, FieldType::Keyword)
                .field_index_params(KeywordIndexParamsBuilder::default().enable_hnsw(hnsw_links))
                .wait(true);
            self.call(|c| {
                let req = req.clone();
                async move { c.create_field_index(req).await }
            })
            .await
            .map_err(|e| server_error(Some(collection), e))?;
        }
        Ok(())
    }
}

#[async_trait]
impl VectorStore for ServerStore {
    fn info(&self) -> VectorStoreInfo {
        VectorStoreInfo { backend: "qdrant-server".into(), location: self.config.url.clone() }
    }

    async fn health(&self) -> VectorStoreHealth {
        self.check_health().await
    }

    async fn ensure_collection(&self, collection: &str, dim: usize) -> Result<()> {
        common::validate_collection_name(collection)?;
        common::validate_dim(dim)?;
        let seen_before = self.dims.read().unwrap_or_else(|e| e.into_inner()).contains_key(collection);
        match self.dim(collection).await {
            // Another replica may have created it a moment ago: readable first.
            Ok(d) if d == dim => return if seen_before { Ok(()) } else { self.wait_until_readable(collection).await },
            Ok(d) => return Err(common::dim_conflict(collection, d, dim)),
            Err(e) if e.kind == ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        self.create_collection(collection, dim).await?;
        self.dims.write().unwrap_or_else(|e| e.into_inner()).remove(collection);
        let d = self.dim(collection).await?;
        if d != dim {
            return Err(common::dim_conflict(collection, d, dim));
        }
        self.wait_until_readable(collection).await?;
        tracing::info!(collection, dim, "qdrant collection created");
        Ok(())
    }

    async fn delete_collection(&self, collection: &str) -> Result<()> {
        common::validate_collection_name(collection)?;
        self.dims.write().unwrap_or_else(|e| e.into_inner()).remove(collection);
        match self
            .call(|c| {
                let name = qname(collection);
                async move { c.delete_collection(name).await }
            })
            .await
        {
            Ok(_) => Ok(()),
            Err(e) => match server_error(Some(collection), e) {
                e if e.kind == ErrorKind::NotFound => Ok(()),
                e => Err(e),
            },
        }
    }

    async fn upsert(&self, points: Vec<VectorPoint>) -> Result<()> {
        for (collection, points) in common::group_by_collection(points) {
            let dim = self.dim(&collection).await?;
            let mut qpoints = Vec::with_capacity(points.len());
            for p in &points {
                let id = common::validate_point(p, dim)?;
                let mut vectors = NamedVectors::default();
                if let Some(v) = &p.image {
                    vectors = vectors.add_vector("image", Vector::new_dense(v.clone()));
                }
                if let Some(v) = &p.text {
                    vectors = vectors.add_vector("text", Vector::new_dense(v.clone()));
                }
                if let Some(k) = &p.keywords {
                    let (indices, values) = common::clean_sparse(k);
                    if !indices.is_empty() {
                        vectors = vectors.add_vector(KEYWORDS, Vector::new_sparse(indices, values));
                    }
                }
                qpoints.push(PointStruct::new(id.to_string(), vectors, Payload::from(common::payload_json(p))));
            }
            // One batch per chunk: the upsert, then the deletion of the vectors each point lacks
            // (see `common::absent_vectors`), applied in order by every replica.
            let absent = common::absent_vectors(&points);
            let ids: Vec<PointId> = qpoints.iter().filter_map(|p| p.id.clone()).collect();
            for (start, chunk) in qpoints.chunks(WRITE_CHUNK).enumerate().map(|(k, c)| (k * WRITE_CHUNK, c)) {
                let range = start..start + chunk.len();
                let mut operations = vec![PointsUpdateOperation {
                    operation: Some(Operation::Upsert(PointStructList { points: chunk.to_vec(), ..Default::default() })),
                }];
                for (names, members) in &absent {
                    let lacking: Vec<PointId> = members.iter().filter(|i| range.contains(i)).map(|&i| ids[i].clone()).collect();
                    if !lacking.is_empty() {
                        operations.push(PointsUpdateOperation {
                            operation: Some(Operation::DeleteVectors(DeleteVectors {
                                points_selector: Some(lacking.into()),
                                vectors: Some(VectorsSelector { names: names.iter().map(|n| n.to_string()).collect() }),
                                ..Default::default()
                            })),
                        });
                    }
                }
                let req = UpdateBatchPointsBuilder::new(qname(&collection), operations).wait(true).ordering(self.ordering());
                self.call(|c| {
                    let req = req.clone();
                    async move { c.update_points_batch(req).await }
                })
                .await
                .map_err(|e| self.write_error(&collection, e))?;
            }
        }
        Ok(())
    }

    async fn delete(&self, collection: &str, item_ids: &[String]) -> Result<()> {
        self.dim(collection).await?;
        let ids: Vec<PointId> =
            item_ids.iter().map(|id| common::parse_item_id(id).map(|u| PointId::from(u.to_string()))).collect::<Result<_>>()?;
        for chunk in ids.chunks(WRITE_CHUNK) {
            let req = DeletePointsBuilder::new(qname(collection))
                .points(PointsIdsList { ids: chunk.to_vec() })
                .wait(true)
                .ordering(self.ordering());
            self.call(|c| {
                let req = req.clone();
                async move { c.delete_points(req).await }
            })
            .await
            .map_err(|e| self.write_error(collection, e))?;
        }
        Ok(())
    }

    async fn search(&self, query: VectorQuery) -> Result<Vec<ScoredPoint>> {
        let dim = self.dim(&query.collection).await?;
        common::check_vector(&query.vector, dim, "query")?;
        if query.top_k == 0 {
            return Ok(Vec::new());
        }
        let mut params = SearchParamsBuilder::default().exact(query.exact);
        if let Some(ef) = self.config.index.hnsw_ef {
            params = params.hnsw_ef(ef as u64);
        }
        let mut req = QueryPointsBuilder::new(qname(&query.collection))
            .query(Query::new_nearest(query.vector))
            .using(query.using.as_str())
            .limit(query.top_k as u64)
            .params(params)
            .with_payload(true);
        if let Some(rc) = self.config.read_consistency {
            req = req.read_consistency(rc.grpc());
        }
        if let Some(f) = to_filter(&query.filter) {
            req = req.filter(f);
        }
        let res = self
            .call(|c| {
                let req = req.clone();
                async move { c.query(req).await }
            })
            .await
            .map_err(|e| self.read_error(&query.collection, e))?;
        res.result.into_iter().map(|p| scored_point(&p.payload, p.id.as_ref(), p.score)).collect()
    }

    async fn search_keywords(&self, query: KeywordQuery) -> Result<Vec<ScoredPoint>> {
        self.dim(&query.collection).await?;
        let (indices, values) = common::clean_sparse(&query.terms);
        if indices.is_empty() || query.top_k == 0 {
            return Ok(Vec::new());
        }
        let mut req = QueryPointsBuilder::new(qname(&query.collection))
            .query(Query::new_nearest(VectorInput::new_sparse(indices, values)))
            .using(KEYWORDS)
            .limit(query.top_k as u64)
            .with_payload(true);
        if let Some(rc) = self.config.read_consistency {
            req = req.read_consistency(rc.grpc());
        }
        if let Some(f) = to_filter(&query.filter) {
            req = req.filter(f);
        }
        let res = self
            .call(|c| {
                let req = req.clone();
                async move { c.query(req).await }
            })
            .await
            .map_err(|e| self.read_error(&query.collection, e))?;
        res.result.into_iter().map(|p| scored_point(&p.payload, p.id.as_ref(), p.score)).collect()
    }

    async fn count(&self, collection: &str, filter: &PayloadFilter) -> Result<usize> {
        self.dim(collection).await?;
        let mut req = CountPointsBuilder::new(qname(collection)).exact(true);
        if let Some(rc) = self.config.read_consistency {
            req = req.read_consistency(rc.grpc());
        }
        if let Some(f) = to_filter(filter) {
            req = req.filter(f);
        }
        let res = self
            .call(|c| {
                let req = req.clone();
                async move { c.count(req).await }
            })
            .await
            .map_err(|e| self.read_error(collection, e))?;
        Ok(res.result.map(|r| r.count as usize).unwrap_or(0))
    }

    async fn contains(&self, collection: &str, item_id: &str) -> Result<bool> {
        self.dim(collection).await?;
        let id = common::parse_item_id(item_id)?;
        let mut req =
            GetPointsBuilder::new(qname(collection), vec![PointId::from(id.to_string())]).with_payload(false).with_vectors(false);
        if let Some(rc) = self.config.read_consistency {
            req = req.read_consistency(rc.grpc());
        }
        let res = self
            .call(|c| {
                let req = req.clone();
                async move { c.get_points(req).await }
            })
            .await
            .map_err(|e| self.read_error(collection, e))?;
        Ok(!res.result.is_empty())
    }

    async fn optimize(&self, collection: &str) -> Result<()> {
        self.dim(collection).await?;
        let deadline = Instant::now() + self.config.optimize_timeout;
        let mut nudged = false;
        let mut greens = 0;
        loop {
            let info = self
                .call(|c| {
                    let name = qname(collection);
                    async move { c.collection_info(name).await }
                })
                .await
                .map_err(|e| self.read_error(collection, e))?;
            let status = info.result.map(|r| r.status).unwrap_or_default();
            if status == CollectionStatus::Green as i32 {
                // Twice in a row: an update may have just queued an optimisation.
                greens += 1;
                if greens >= 2 {
                    return Ok(());
                }
            } else {
                greens = 0;
                if status == CollectionStatus::Grey as i32 && !nudged {
                    // Grey: optimisations pending but not started (e.g. after a restart).
                    // An empty optimizer-config update starts them.
                    let req = UpdateCollectionBuilder::new(qname(collection)).optimizers_config(OptimizersConfigDiff::default());
                    self.call(|c| {
                        let req = req.clone();
                        async move { c.update_collection(req).await }
                    })
                    .await
                    .map_err(|e| self.read_error(collection, e))?;
                    nudged = true;
                } else if status == CollectionStatus::Red as i32 {
                    return Err(common::backend_error(format!("qdrant collection {} is red", qname(collection))));
                }
            }
            if Instant::now() > deadline {
                return Err(Error::new(
                    ErrorCode::VectorStoreTimeout,
                    format!("qdrant collection {} still optimizing after {:?}", qname(collection), self.config.optimize_timeout),
                ));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

impl ServerStore {
    fn ordering(&self) -> WriteOrdering {
        let kind = match self.config.write_ordering.unwrap_or(WriteOrder::Weak) {
            WriteOrder::Weak => WriteOrderingType::Weak,
            WriteOrder::Medium => WriteOrderingType::Medium,
            WriteOrder::Strong => WriteOrderingType::Strong,
        };
        WriteOrdering { r#type: kind as i32 }
    }

    fn read_error(&self, collection: &str, e: QdrantError) -> Error {
        let e = server_error(Some(collection), e);
        if e.kind == ErrorKind::NotFound {
            // Deleted behind our back: forget the cached dimension.
            self.dims.write().unwrap_or_else(|e| e.into_inner()).remove(collection);
        }
        e
    }

    fn write_error(&self, collection: &str, e: QdrantError) -> Error {
        self.read_error(collection, e)
    }
}

fn qname(collection: &str) -> String {
    format!("{COLLECTION_PREFIX}{collection}")
}

fn to_filter(f: &PayloadFilter) -> Option<Filter> {
    let mut must = Vec::new();
    if let Some(l) = &f.label {
        must.push(Condition::matches("label", l.clone()));
    }
    if let Some(k) = f.kind {
        must.push(Condition::matches("kind", k.as_str().to_string()));
    }
    if let Some(s) = &f.space {
        must.push(Condition::matches("space", s.clone()));
    }
    if let Some(t) = &f.tenant {
        must.push(Condition::matches("tenant", t.clone()));
    }
    (!must.is_empty()).then(|| Filter::must(must))
}

fn scored_point(payload: &HashMap<String, Value>, id: Option<&PointId>, score: f32) -> Result<ScoredPoint> {
    let id = id.map(point_id_string).unwrap_or_default();
    Ok(ScoredPoint {
        item_id: payload_str(payload, "item_id").unwrap_or_else(|| id.clone()),
        label: payload_str(payload, "label"),
        kind: common::parse_kind(payload_str(payload, "kind").as_deref(), &id)?,
        score,
    })
}

fn payload_str(payload: &HashMap<String, Value>, key: &str) -> Option<String> {
    match payload.get(key).and_then(|v| v.kind.as_ref()) {
        Some(Kind::StringValue(s)) => Some(s.clone()),
        _ => None,
    }
}

fn point_id_string(id: &PointId) -> String {
    use qdrant_client::qdrant::point_id::PointIdOptions;
    match &id.point_id_options {
        Some(PointIdOptions::Uuid(s)) => s.clone(),
        Some(PointIdOptions::Num(n)) => n.to_string(),
        None => String::new(),
    }
}

// gRPC status codes (numbers fixed by the gRPC spec; tonic is not a direct dependency).
const GRPC_CANCELLED: i32 = 1;
const GRPC_UNKNOWN: i32 = 2;
const GRPC_INVALID_ARGUMENT: i32 = 3;
const GRPC_DEADLINE_EXCEEDED: i32 = 4;
const GRPC_NOT_FOUND: i32 = 5;
const GRPC_PERMISSION_DENIED: i32 = 7;
const GRPC_RESOURCE_EXHAUSTED: i32 = 8;
const GRPC_INTERNAL: i32 = 13;
const GRPC_UNAVAILABLE: i32 = 14;
const GRPC_UNAUTHENTICATED: i32 = 16;

/// Whether the request did not reach a working server (so another peer may serve it).
fn is_unreachable(e: &QdrantError) -> bool {
    match e {
        QdrantError::ResponseError { status } => unreachable_status(status.code() as i32, status.message()),
        _ => false,
    }
}

/// A peer that is down, restarting, or dropped the connection mid-request (a killed peer).
fn unreachable_status(code: i32, msg: &str) -> bool {
    match code {
        GRPC_UNAVAILABLE | GRPC_UNKNOWN => true,
        // qdrant-client reports a failed connect as Internal "Failed to connect to ...".
        GRPC_INTERNAL => msg.contains("Failed to connect") || msg.contains("transport error"),
        _ => false,
    }
}

/// Map a client error to pyxa's error. `collection` (pyxa name) turns NotFound into
/// `unknown_collection`.
pub(crate) fn server_error(collection: Option<&str>, e: QdrantError) -> Error {
    let (code, msg) = match &e {
        QdrantError::ResponseError { status } => (status.code() as i32, status.message().to_string()),
        QdrantError::ResourceExhaustedError { retry_after_seconds, .. } => {
            return Error::overloaded(format!("qdrant is overloaded, retry after {retry_after_seconds} s"));
        }
        QdrantError::InvalidUri(_) => return Error::new(ErrorCode::VectorStoreConfig, format!("qdrant: {e}")),
        _ => return common::backend_error(format!("qdrant: {e}")),
    };
    let message = format!("qdrant: {msg}");
    match code {
        _ if unreachable_status(code, &msg) => Error::new(ErrorCode::VectorStoreUnavailable, message),
        GRPC_DEADLINE_EXCEEDED => Error::new(ErrorCode::VectorStoreTimeout, message),
        // tonic reports its own request timeout as Cancelled "Timeout expired".
        GRPC_CANCELLED if msg.contains("Timeout") || msg.contains("timeout") => {
            Error::new(ErrorCode::VectorStoreTimeout, message)
        }
        GRPC_NOT_FOUND => match collection {
            Some(c) => common::unknown_collection(c),
            None => Error::new(ErrorCode::VectorStoreNotFound, message),
        },
        GRPC_INVALID_ARGUMENT if msg.contains("dimension") => Error::new(ErrorCode::VectorDimMismatch, message),
        GRPC_INVALID_ARGUMENT => Error::new(ErrorCode::InvalidVectorRequest, message),
        GRPC_UNAUTHENTICATED | GRPC_PERMISSION_DENIED => Error::new(ErrorCode::VectorStoreAuth, message),
        GRPC_RESOURCE_EXHAUSTED => Error::overloaded(message),
        _ => common::backend_error(message),
    }
}
