//! pyxa's vector stores: two backends of [`pyxa_core::VectorStore`] with the same behaviour.
//!
//! * [`EdgeStore`] (default): Qdrant Edge in-process, one Edge shard per pyxa collection in
//!   `DIR/<collection>/`. No server, no network.
//! * [`ServerStore`]: a Qdrant server or cluster over gRPC (`qdrant-client`); collection
//!   `pyxa_<collection>`.
//!
//! Both create the same layout: two named vectors `image` and `text` (cosine, the dimension given
//! to `ensure_collection`), keyword payload indexes on `label`, `kind`, `tenant` and `collection`,
//! payload `{item_id, collection, label?, kind, tenant?}`, point id = the item id (a UUID).
//! A point may carry only one of the two vectors; a search on the other vector does not return it.
//!
//! What must not live here: anything that joins hits to items or ranks answers (that is
//! `pyxa-engine`); SQL stays the source of truth, so a vector store can always be rebuilt from it.
//!
//! Errors (both backends):
//! * missing collection: `NotFound` / `unknown_collection` (search, count, contains, upsert,
//!   delete, optimize; `delete_collection` of a missing collection is a no-op);
//! * bad collection name, non-UUID item id, vector of the wrong dimension, non-finite values, a
//!   point with no vector, bad dimension: `InvalidInput` (`invalid_collection_name`,
//!   `invalid_item_id`, `vector_dim_mismatch`, `invalid_vector`, `point_without_vectors`,
//!   `invalid_dim`; other requests the engine rejects: `invalid_vector_request`). Points are
//!   validated before anything is written: a rejected upsert writes nothing;
//! * `ensure_collection` with another dimension than the existing collection's: `Conflict` /
//!   `collection_dim_mismatch`;
//! * server unreachable: `Unavailable` / `vector_store_unavailable`; too slow: `Timeout` /
//!   `vector_store_timeout`; bad URL: `Setup` / `vector_store_config`; rejected API key:
//!   `Setup` / `vector_store_auth`; Edge directory already open elsewhere: `Unavailable` /
//!   `vector_store_locked`; anything else failing inside a backend (I/O, corrupt data):
//!   `Unavailable` / `vector_store_error`.
//!
//! Writes: each `upsert`/`delete` call is durable when it returns (Edge flushes, the server
//! is asked to `wait`). A flush costs 10-250 ms on these machines, so ingest many points per
//! `upsert` call where possible; concurrent calls share Edge flushes.

mod common;
mod edge;
mod server;

pub use edge::{CollectionStats, EdgeStore, EdgeStoreConfig};
pub use server::{ReadConsistency, ServerStore, ServerStoreConfig, WriteOrder};

use std::sync::Arc;

use pyxa_core::{Result, VectorStore};

/// HNSW and indexing settings shared by both backends. `None` keeps Qdrant's default.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IndexSettings {
    /// HNSW graph degree (Qdrant default 16).
    pub m: Option<usize>,
    /// HNSW build beam width (Qdrant default 100).
    pub ef_construct: Option<usize>,
    /// Search beam width for indexed (non-exact) searches (Qdrant default: `ef_construct`).
    pub hnsw_ef: Option<usize>,
    /// Below this many KB of vectors (per segment, or matching a filter) a search scans exactly
    /// instead of walking the graph (Qdrant default 10,000 KB, about 6,600 vectors of 384-d).
    pub full_scan_threshold_kb: Option<usize>,
    /// Segments with more than this many KB of vectors get an HNSW index when optimized
    /// (Qdrant default 10,000 KB).
    pub indexing_threshold_kb: Option<usize>,
}

/// Which backend to open, for services that pick it from configuration.
#[derive(Debug, Clone)]
pub enum VectorStoreConfig {
    Edge(EdgeStoreConfig),
    Server(ServerStoreConfig),
}

/// Open the configured backend.
pub async fn open_store(config: VectorStoreConfig) -> Result<Arc<dyn VectorStore>> {
    Ok(match config {
        VectorStoreConfig::Edge(c) => Arc::new(EdgeStore::open_with(c).await?),
        VectorStoreConfig::Server(c) => Arc::new(ServerStore::new(c)?),
    })
}
