//! Conversions between pyxa and Qdrant Edge: points, payload filters, search requests and hits,
//! and Edge / I/O errors.

use std::collections::HashMap;
use std::path::Path;

use pyxa_core::{Error, ErrorCode, KeywordQuery, PayloadFilter, Result, ScoredPoint, VectorName, VectorPoint, VectorQuery};
use qdrant_edge::external::serde_json as ejson;
use qdrant_edge::{
    Condition, FieldCondition, Filter, JsonPath, Match, NamedQuery, OperationError, Payload, PointId, PointStructPersisted,
    QueryEnum, QueryRequest, ScoringQuery, SearchParams, SparseVector, VectorInternal, VectorPersisted, VectorStructPersisted,
    WithPayloadInterface, WithVector,
};

use crate::common::{self, KEYWORDS, VECTORS};

pub(super) fn to_edge_point(id: uuid::Uuid, p: &VectorPoint) -> PointStructPersisted {
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
    if let Some(k) = &p.keywords {
        let (indices, values) = common::clean_sparse(k);
        if !indices.is_empty() {
            vectors.insert(KEYWORDS.to_string(), VectorPersisted::Sparse(SparseVector { indices, values }));
        }
    }
    let payload: ejson::Map<String, ejson::Value> = common::payload_json(p);
    PointStructPersisted { id: PointId::Uuid(id), vector: VectorStructPersisted::Named(vectors), payload: Some(Payload(payload)) }
}

/// The Edge request for a nearest-neighbour search with payloads and without vectors.
pub(super) fn search_request(query: VectorQuery, hnsw_ef: Option<usize>) -> QueryRequest {
    QueryRequest {
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
    }
}

/// The Edge request for a keyword (BM25) search; none when the query has no terms.
pub(super) fn keyword_request(query: KeywordQuery) -> Option<QueryRequest> {
    let (indices, values) = common::clean_sparse(&query.terms);
    if indices.is_empty() {
        return None;
    }
    Some(QueryRequest {
        prefetches: Vec::new(),
        query: Some(ScoringQuery::Vector(QueryEnum::Nearest(NamedQuery::new(
            VectorInternal::Sparse(SparseVector { indices, values }),
            KEYWORDS,
        )))),
        filter: to_filter(&query.filter),
        score_threshold: None,
        limit: query.top_k,
        offset: 0,
        params: None,
        with_vector: WithVector::Bool(false),
        with_payload: WithPayloadInterface::Bool(true),
    })
}

/// A search hit back into pyxa's [`ScoredPoint`] (item id, label and kind from the payload).
pub(super) fn from_edge_hit(h: qdrant_edge::ScoredPoint) -> Result<ScoredPoint> {
    let payload = h.payload.map(|p| p.0).unwrap_or_default();
    let get = |k: &str| payload.get(k).and_then(|v| v.as_str());
    Ok(ScoredPoint {
        item_id: get("item_id").map(str::to_string).unwrap_or_else(|| h.id.to_string()),
        label: get("label").map(str::to_string),
        kind: common::parse_kind(get("kind"), &h.id.to_string())?,
        score: h.score,
    })
}

pub(super) fn to_filter(f: &PayloadFilter) -> Option<Filter> {
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
    if let Some(s) = &f.space {
        add("space", s);
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

pub(super) fn json_path(key: &str) -> JsonPath {
    key.parse().unwrap_or_else(|_| panic!("{key:?} is a valid payload key"))
}

pub(super) fn edge_error(collection: &str, e: OperationError) -> Error {
    let message = format!("qdrant edge, collection {collection:?}: {e}");
    match e {
        OperationError::WrongVectorDimension { .. } => Error::new(ErrorCode::VectorDimMismatch, message),
        OperationError::ValidationError { .. } => Error::new(ErrorCode::InvalidVectorRequest, message),
        OperationError::Timeout { .. } | OperationError::Cancelled { .. } => Error::new(ErrorCode::VectorStoreTimeout, message),
        _ => common::backend_error(message),
    }
}

pub(super) fn io_error(path: &Path, e: std::io::Error) -> Error {
    common::backend_error(format!("{}: {e}", path.display()))
}
