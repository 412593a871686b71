//! The store directory on disk: its lock, loading the collections found there, creating and
//! removing one collection's directory, and disk usage.

use std::collections::HashMap;
use std::fs;
use std::path::Path;
use std::sync::Arc;

use pyxa_core::{Error, ErrorCode, Result};
use qdrant_edge::{
    CreateVectorName, EdgeShard, Modifier, SparseVectorConfig, UpdateOperation, VectorNameConfig, VectorNameOperations,
};

use super::config::{edge_config, hnsw_config, optimizers_config, EdgeStoreConfig};
use super::convert::{edge_error, io_error};
use super::shard::{create_payload_indexes, Shard};
use crate::common::{self, KEYWORDS, VECTORS};

const EDGE_CONFIG_FILE: &str = "edge_config.json";
const TRASH_PREFIX: &str = ".trash-";
const LOCK_FILE: &str = ".pyxa-vectors.lock";

/// Create `cfg.dir` if needed, lock it exclusively (the returned file holds the lock) and load
/// every collection in it. Blocking.
pub(super) fn open_dir(cfg: &EdgeStoreConfig) -> Result<(fs::File, HashMap<String, Arc<Shard>>)> {
    fs::create_dir_all(&cfg.dir).map_err(|e| io_error(&cfg.dir, e))?;
    let lock_path = cfg.dir.join(LOCK_FILE);
    let lock =
        fs::OpenOptions::new().create(true).truncate(false).write(true).open(&lock_path).map_err(|e| io_error(&lock_path, e))?;
    lock.try_lock().map_err(|_| {
        Error::new(ErrorCode::VectorStoreLocked, format!("{} is in use by another vector store", cfg.dir.display()))
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
        let shard = load_shard(cfg, &path, &name)?;
        shards.insert(name, Arc::new(shard));
    }
    Ok((lock, shards))
}

/// Marks a keyword-vector upgrade in progress; its backups restore the shard if it was cut short.
const UPGRADE_MARKER: &str = ".pyxa-keywords-upgrade";
const BACKUP_SUFFIX: &str = ".pyxa-before-keywords";

/// The files the keyword upgrade rewrites: the shard's config and every segment's description.
fn upgraded_files(path: &Path) -> Result<Vec<std::path::PathBuf>> {
    let mut files = vec![path.join(EDGE_CONFIG_FILE)];
    let segments = path.join("segments");
    if segments.is_dir() {
        for entry in fs::read_dir(&segments).map_err(|e| io_error(&segments, e))?.flatten() {
            let file = entry.path().join("segment.json");
            if file.is_file() {
                files.push(file);
            }
        }
    }
    Ok(files)
}

/// A crash in the middle of adding the keyword vector leaves segments that no configuration
/// opens: put back the files as they were before it, and drop what it had created.
fn undo_interrupted_upgrade(path: &Path) -> Result<()> {
    if !path.join(UPGRADE_MARKER).exists() {
        return Ok(());
    }
    tracing::warn!(path = %path.display(), "finishing an interrupted keyword-vector upgrade: restoring the collection's files");
    for file in upgraded_files(path)? {
        let backup = file.with_extension(format!("json{BACKUP_SUFFIX}"));
        if backup.exists() {
            fs::rename(&backup, &file).map_err(|e| io_error(&backup, e))?;
        }
    }
    let segments = path.join("segments");
    if segments.is_dir() {
        for entry in fs::read_dir(&segments).map_err(|e| io_error(&segments, e))?.flatten() {
            for created in [format!("vector_storage-{KEYWORDS}"), format!("vector_index-{KEYWORDS}")] {
                let p = entry.path().join(created);
                if p.exists() {
                    fs::remove_dir_all(&p).map_err(|e| io_error(&p, e))?;
                }
            }
        }
    }
    fs::remove_file(path.join(UPGRADE_MARKER)).map_err(|e| io_error(path, e))
}

/// Adds the keyword vector to a collection created before hybrid retrieval (its points get
/// keyword vectors when they are next written, e.g. by the re-embedding after a bundle change).
fn add_keywords_vector(edge: &EdgeShard, path: &Path, name: &str) -> Result<()> {
    let has = edge.config().sparse_vectors.contains_key(KEYWORDS);
    if has {
        return Ok(());
    }
    let files = upgraded_files(path)?;
    for file in &files {
        let backup = file.with_extension(format!("json{BACKUP_SUFFIX}"));
        fs::copy(file, &backup).map_err(|e| io_error(file, e))?;
    }
    fs::write(path.join(UPGRADE_MARKER), b"adding the keywords vector\n").map_err(|e| io_error(path, e))?;
    let op = UpdateOperation::VectorNameOperation(VectorNameOperations::CreateVectorName(CreateVectorName {
        vector_name: KEYWORDS.to_string(),
        config: VectorNameConfig::sparse(SparseVectorConfig { modifier: Some(Modifier::Idf), datatype: None }),
    }));
    edge.update(op).map_err(|e| edge_error(name, e))?;
    edge.flush();
    fs::remove_file(path.join(UPGRADE_MARKER)).map_err(|e| io_error(path, e))?;
    for file in &files {
        let _ = fs::remove_file(file.with_extension(format!("json{BACKUP_SUFFIX}")));
    }
    tracing::info!(collection = name, "keyword vector added to the collection");
    Ok(())
}

fn load_shard(cfg: &EdgeStoreConfig, path: &Path, name: &str) -> Result<Shard> {
    undo_interrupted_upgrade(path)?;
    let edge = EdgeShard::load(path, None).map_err(|e| edge_error(name, e))?;
    add_keywords_vector(&edge, path, name)?;
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

/// Create collection `name` in `cfg.dir/name/` (replacing what an interrupted create left
/// there), with its payload indexes, flushed. Blocking.
pub(super) fn create_shard(cfg: &EdgeStoreConfig, name: String, dim: usize) -> Result<Shard> {
    let path = cfg.dir.join(&name);
    if path.exists() {
        // Not loaded at open: an interrupted create (no config file, hence no data).
        fs::remove_dir_all(&path).map_err(|e| io_error(&path, e))?;
    }
    fs::create_dir_all(&path).map_err(|e| io_error(&path, e))?;
    let edge = EdgeShard::new(&path, edge_config(cfg, dim)).map_err(|e| edge_error(&name, e))?;
    let shard = Shard::new(name, dim, edge);
    {
        let w = shard.lock();
        create_payload_indexes(&shard)?;
        shard.flush_locked(&w)?;
    }
    Ok(shard)
}

/// Remove a collection's directory (if any): renamed to a trash name first, so that an
/// interrupted removal is finished by the next `open_dir` instead of leaving half a collection.
/// Blocking.
pub(super) fn remove_collection_dir(root: &Path, collection: &str) -> Result<()> {
    let path = root.join(collection);
    let trash = root.join(format!("{TRASH_PREFIX}{collection}-{}", uuid::Uuid::new_v4().simple()));
    if path.exists() {
        fs::rename(&path, &trash).map_err(|e| io_error(&path, e))?;
        fs::remove_dir_all(&trash).map_err(|e| io_error(&trash, e))?;
    }
    Ok(())
}

pub(super) fn dir_size(path: &Path) -> u64 {
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
