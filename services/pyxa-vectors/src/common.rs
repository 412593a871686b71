//! Validation and naming shared by both backends, so that they reject the same inputs with the
//! same errors.

use pyxa_core::ErrorCode;
use pyxa_core::{Error, ItemKind, VectorName, VectorPoint};
use uuid::Uuid;

pub(crate) const VECTORS: [VectorName; 2] = [VectorName::Image, VectorName::Text];
/// The sparse vector of keyword terms (BM25 with the store's IDF).
pub(crate) const KEYWORDS: &str = "keywords";

/// A keyword vector as the stores need it: indices sorted and unique, values finite and
/// non-zero (Qdrant does not check; a duplicate index corrupts a stored vector).
pub(crate) fn clean_sparse(v: &pyxa_core::SparseVector) -> (Vec<u32>, Vec<f32>) {
    let mut merged: std::collections::BTreeMap<u32, f32> = std::collections::BTreeMap::new();
    for (i, x) in v.indices.iter().zip(&v.values) {
        if x.is_finite() && *x != 0.0 {
            *merged.entry(*i).or_default() += x;
        }
    }
    merged.into_iter().filter(|(_, x)| x.is_finite() && *x != 0.0).unzip()
}

/// The named vectors a point lacks, grouped: each group is a set of names and the points (by
/// index into `points`) that lack exactly those.
///
/// Why the stores need it: an upsert of a point that already lives in an optimised
/// (non-appendable) segment makes Qdrant copy the old point into a writable segment and merge
/// the new vectors into the old ones (`upsert_points` in Qdrant's `lib/shard/src/update.rs`,
/// v1.18 and qdrant-edge 0.7), so a vector the new point lacks would survive the replacement.
/// Both stores delete these vectors in the same write.
pub(crate) fn absent_vectors(points: &[VectorPoint]) -> Vec<(Vec<&'static str>, Vec<usize>)> {
    let mut groups: std::collections::BTreeMap<Vec<&'static str>, Vec<usize>> = std::collections::BTreeMap::new();
    for (i, p) in points.iter().enumerate() {
        let mut absent = Vec::new();
        if p.image.is_none() {
            absent.push(VectorName::Image.as_str());
        }
        if p.text.is_none() {
            absent.push(VectorName::Text.as_str());
        }
        if p.keywords.as_ref().is_none_or(|k| clean_sparse(k).0.is_empty()) {
            absent.push(KEYWORDS);
        }
        if !absent.is_empty() {
            groups.entry(absent).or_default().push(i);
        }
    }
    groups.into_iter().collect()
}

/// Keyword-indexed payload fields and whether Qdrant should build extra HNSW links per value.
/// `collection` has one value per shard and `kind` only three: extra graphs for them would cost
/// about one full graph build each and buy nothing (filters on them are not selective; big
/// blocks are searched through the main graph with the filter applied).
/// `space` has one value per bundle: every search filters on it, so vectors of two embedding
/// spaces are never compared.
pub(crate) const INDEXED_FIELDS: [(&str, bool); 5] =
    [("label", true), ("kind", false), ("tenant", true), ("collection", false), ("space", false)];

pub(crate) const MAX_DIM: usize = 65_536;

/// Largest number of points sent to a backend in one write (Edge: one WAL record; server: one
/// gRPC message, 1,000 x 2 x 384 x 4 B = 3 MB, under the 32 MB default limits).
pub(crate) const WRITE_CHUNK: usize = 1_000;

pub(crate) fn validate_collection_name(name: &str) -> Result<(), Error> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        && !name.starts_with('-');
    if ok {
        Ok(())
    } else {
        Err(Error::new(
            ErrorCode::InvalidCollectionName,
            format!("collection name {name:?} must be 1-64 characters of [A-Za-z0-9_-], not starting with '-'"),
        ))
    }
}

pub(crate) fn validate_dim(dim: usize) -> Result<(), Error> {
    if dim == 0 || dim > MAX_DIM {
        return Err(Error::new(ErrorCode::InvalidDim, format!("vector dimension {dim} is not in 1..={MAX_DIM}")));
    }
    Ok(())
}

pub(crate) fn parse_item_id(id: &str) -> Result<Uuid, Error> {
    Uuid::parse_str(id).map_err(|_| Error::new(ErrorCode::InvalidItemId, format!("item id {id:?} is not a UUID")))
}

pub(crate) fn unknown_collection(name: &str) -> Error {
    Error::new(ErrorCode::UnknownCollection, format!("vector collection {name:?} does not exist"))
}

pub(crate) fn dim_conflict(name: &str, existing: usize, requested: usize) -> Error {
    Error::new(ErrorCode::CollectionDimMismatch, format!("vector collection {name:?} has dimension {existing}, not {requested}"))
}

pub(crate) fn check_vector(v: &[f32], dim: usize, what: &str) -> Result<(), Error> {
    if v.len() != dim {
        return Err(Error::new(
            ErrorCode::VectorDimMismatch,
            format!("{what}: vector has dimension {}, the collection {dim}", v.len()),
        ));
    }
    if !v.iter().all(|x| x.is_finite()) {
        return Err(Error::new(ErrorCode::InvalidVector, format!("{what}: vector has a non-finite value")));
    }
    Ok(())
}

/// Check one point against the collection's dimension; returns its parsed id.
pub(crate) fn validate_point(p: &VectorPoint, dim: usize) -> Result<Uuid, Error> {
    let id = parse_item_id(&p.item_id)?;
    if p.image.is_none() && p.text.is_none() {
        return Err(Error::new(
            ErrorCode::PointWithoutVectors,
            format!("item {} has neither an image nor a text vector", p.item_id),
        ));
    }
    if let Some(v) = &p.image {
        check_vector(v, dim, &format!("item {} image", p.item_id))?;
    }
    if let Some(v) = &p.text {
        check_vector(v, dim, &format!("item {} text", p.item_id))?;
    }
    Ok(id)
}

/// Group points by collection, keeping their order within each collection.
pub(crate) fn group_by_collection(points: Vec<VectorPoint>) -> Vec<(String, Vec<VectorPoint>)> {
    let mut groups: Vec<(String, Vec<VectorPoint>)> = Vec::new();
    for p in points {
        match groups.iter_mut().find(|(c, _)| *c == p.collection) {
            Some((_, v)) => v.push(p),
            None => groups.push((p.collection.clone(), vec![p])),
        }
    }
    groups
}

/// The payload stored with every point (both backends).
pub(crate) fn payload_json(p: &VectorPoint) -> serde_json::Map<String, serde_json::Value> {
    let mut m = serde_json::Map::new();
    m.insert("item_id".into(), p.item_id.clone().into());
    m.insert("collection".into(), p.collection.clone().into());
    if let Some(l) = &p.label {
        m.insert("label".into(), l.clone().into());
    }
    m.insert("kind".into(), p.kind.as_str().into());
    if let Some(t) = &p.tenant {
        m.insert("tenant".into(), t.clone().into());
    }
    if let Some(s) = &p.space {
        m.insert("space".into(), s.clone().into());
    }
    m
}

pub(crate) fn parse_kind(s: Option<&str>, point: &str) -> Result<ItemKind, Error> {
    s.and_then(ItemKind::parse)
        .ok_or_else(|| Error::new(ErrorCode::VectorPayloadCorrupt, format!("point {point} has no valid `kind` in its payload")))
}

pub(crate) fn backend_error(message: impl Into<String>) -> Error {
    Error::new(ErrorCode::VectorStoreError, message)
}
