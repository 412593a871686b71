//! [`Shard`]: one collection's Edge shard, with its writes serialised and flushed by group commit.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use pyxa_core::Result;
use qdrant_edge::{
    CreateIndex, EdgeShard, FieldIndexOperations, KeywordIndexParams, PayloadFieldSchema, PayloadSchemaParams, UpdateOperation,
};

use super::convert::{edge_error, json_path};
use crate::common::{self, INDEXED_FIELDS};

pub(super) struct Shard {
    pub(super) name: String,
    pub(super) dim: usize,
    pub(super) edge: EdgeShard,
    /// Serialises update / flush / optimize (see the notes in `edge/mod.rs`).
    write: Mutex<()>,
    /// Group commit: number of writes applied, and how many of them the last flush covered.
    written: AtomicU64,
    flushed: AtomicU64,
    /// One flusher at a time; writers waiting here find their write already flushed by the
    /// previous flusher and return without flushing again.
    flush: Mutex<()>,
}

impl Shard {
    pub(super) fn new(name: String, dim: usize, edge: EdgeShard) -> Self {
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

    pub(super) fn lock(&self) -> MutexGuard<'_, ()> {
        self.write.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Apply a write under the write lock; with `durable`, return only once a flush covers it.
    /// Concurrent writers share flushes (group commit): a flush costs tens of ms (it fsyncs
    /// every file of every segment), an update of a few points well under one.
    pub(super) fn write(&self, durable: bool, apply: impl FnOnce() -> Result<()>) -> Result<()> {
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
    pub(super) fn flush_locked(&self, _write: &MutexGuard<'_, ()>) -> Result<()> {
        let upto = self.written.load(Ordering::SeqCst);
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.edge.flush())).map_err(|p| {
            let what =
                p.downcast_ref::<String>().map(String::as_str).or_else(|| p.downcast_ref::<&str>().copied()).unwrap_or("panic");
            common::backend_error(format!("qdrant edge, collection {:?}: flush failed: {what}", self.name))
        })?;
        self.flushed.fetch_max(upto, Ordering::SeqCst);
        Ok(())
    }
}

pub(super) fn check_dim(shard: &Shard, dim: usize) -> Result<()> {
    if shard.dim != dim {
        return Err(common::dim_conflict(&shard.name, shard.dim, dim));
    }
    Ok(())
}

/// Keyword indexes on the filterable fields. Idempotent: Edge skips indexes that exist.
/// Call with the shard's write lock held.
pub(super) fn create_payload_indexes(shard: &Shard) -> Result<()> {
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
