//! [`EdgeStoreConfig`] and the Qdrant Edge settings (HNSW, optimizers, collection layout) built from it.

use std::path::PathBuf;

use qdrant_edge::{
    Distance, EdgeConfig, EdgeOptimizersConfig, EdgeSparseVectorParams, EdgeVectorParams, HnswIndexConfig, Modifier,
};

use crate::common::{KEYWORDS, VECTORS};
use crate::IndexSettings;

/// Settings of [`EdgeStore`](super::EdgeStore).
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

pub(super) fn hnsw_config(cfg: &EdgeStoreConfig) -> HnswIndexConfig {
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

pub(super) fn optimizers_config(cfg: &EdgeStoreConfig) -> EdgeOptimizersConfig {
    EdgeOptimizersConfig { indexing_threshold: cfg.index.indexing_threshold_kb, ..Default::default() }
}

pub(super) fn edge_config(cfg: &EdgeStoreConfig, dim: usize) -> EdgeConfig {
    let mut b = EdgeConfig::builder();
    for v in VECTORS {
        b = b.vector(v.as_str(), EdgeVectorParams::builder(dim, Distance::Cosine).build());
    }
    // IDF is applied by the store at query time, from the whole collection: it cannot be
    // changed later, so it is set from the start.
    b = b.sparse_vector(KEYWORDS, EdgeSparseVectorParams::builder().modifier(Modifier::Idf).on_disk(true).build());
    b.hnsw_config(hnsw_config(cfg)).optimizers(optimizers_config(cfg)).build()
}
