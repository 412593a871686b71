//! The vector-store contract: one suite of assertions (`contract`, taking `&dyn VectorStore`) run
//! against `EdgeStore` in a temp dir always, and against `ServerStore` (an ignored test) when
//! run with `--include-ignored` and `PYXA_TEST_QDRANT_URL` (e.g. `http://localhost:6334`;
//! optional `PYXA_TEST_QDRANT_API_KEY`); `tests/scale/run.sh` builds that set-up. Plus Edge-only
//! checks: reopen from disk, HNSW really built by `optimize`, durability across SIGKILL,
//! concurrent use, directory lock.
//!
//! Run: `CARGO_TARGET_DIR=/root/.cache/pyxa/target cargo test --release -p pyxa-vectors --test contract`

use std::collections::{BTreeMap, HashSet};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use pyxa_core::keywords::{document_vector, query_vector};
use pyxa_core::{
    ErrorKind, ItemKind, KeywordQuery, PayloadFilter, Result, ScoredPoint, VectorName, VectorPoint, VectorQuery, VectorStore,
};
use pyxa_vectors::{EdgeStore, EdgeStoreConfig, IndexSettings, ServerStore, ServerStoreConfig};

const DIM: usize = 32;
const N: usize = 300;
const LABELS: [&str; 3] = ["cat", "dog", "cup"];

// ---------------------------------------------------------------- deterministic data

struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        // splitmix64
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [-1, 1).
    fn unit(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 23) as f32 - 1.0
    }
    fn vector(&mut self, dim: usize) -> Vec<f32> {
        (0..dim).map(|_| self.unit()).collect()
    }
}

fn normalized(mut v: Vec<f32>) -> Vec<f32> {
    pyxa_core::l2_normalize(&mut v);
    v
}

fn near(center: &[f32], rng: &mut Rng, spread: f32) -> Vec<f32> {
    normalized(center.iter().map(|c| c + spread * rng.unit()).collect())
}

fn item_id(i: usize) -> String {
    uuid::Uuid::from_u128(0x5EED_0000_0000_0000_0000_0000_0000_0000 + i as u128).to_string()
}

/// N items in 6 clusters; every 10th has only a text vector, every 10th+1 only an image vector;
/// labels cycle cat/dog/cup; tenants t1/t2, none for every 7th.
fn dataset(collection: &str) -> Vec<VectorPoint> {
    let mut rng = Rng(42);
    let image_centers: Vec<Vec<f32>> = (0..6).map(|_| rng.vector(DIM)).collect();
    let text_centers: Vec<Vec<f32>> = (0..6).map(|_| rng.vector(DIM)).collect();
    (0..N)
        .map(|i| {
            let kind = match i % 10 {
                0 => ItemKind::Text,
                1 => ItemKind::Image,
                _ => ItemKind::ImageText,
            };
            let image = near(&image_centers[i % 6], &mut rng, 0.6);
            let text = near(&text_centers[i % 6], &mut rng, 0.6);
            VectorPoint {
                item_id: item_id(i),
                collection: collection.to_string(),
                label: Some(LABELS[i % 3].to_string()),
                kind,
                tenant: if i % 7 == 0 { None } else { Some(["t1", "t2"][i % 2].to_string()) },
                // Two embedding spaces (as during a re-embedding after a bundle change).
                space: Some(if i % 5 == 0 { "old@1" } else { "new@2" }.to_string()),
                image: (kind != ItemKind::Text).then_some(image),
                text: (kind != ItemKind::Image).then_some(text),
                keywords: None,
            }
        })
        .collect()
}

fn queries(seed: u64, count: usize) -> Vec<Vec<f32>> {
    let mut rng = Rng(seed);
    (0..count).map(|_| normalized(rng.vector(DIM))).collect()
}

// ---------------------------------------------------------------- reference model

/// What the store should hold, computed by brute force.
#[derive(Default, Clone)]
struct Model {
    points: BTreeMap<String, VectorPoint>,
}

impl Model {
    fn upsert(&mut self, points: &[VectorPoint]) {
        for p in points {
            self.points.insert(p.item_id.clone(), p.clone());
        }
    }
    fn delete(&mut self, ids: &[String]) {
        for id in ids {
            self.points.remove(id);
        }
    }
    fn matches(p: &VectorPoint, f: &PayloadFilter) -> bool {
        f.label.as_ref().is_none_or(|l| p.label.as_ref() == Some(l))
            && f.kind.is_none_or(|k| p.kind == k)
            && f.tenant.as_ref().is_none_or(|t| p.tenant.as_ref() == Some(t))
            && f.space.as_ref().is_none_or(|s| p.space.as_ref() == Some(s))
    }
    fn count(&self, f: &PayloadFilter) -> usize {
        self.points.values().filter(|p| Self::matches(p, f)).count()
    }
    /// All candidates (having the vector, matching the filter), best first, with cosine scores.
    fn ranking(&self, using: VectorName, q: &[f32], f: &PayloadFilter) -> Vec<(String, f32)> {
        let qn = normalized(q.to_vec());
        let mut v: Vec<(String, f32)> = self
            .points
            .values()
            .filter(|p| Self::matches(p, f))
            .filter_map(|p| {
                let vec = match using {
                    VectorName::Image => p.image.as_ref(),
                    VectorName::Text => p.text.as_ref(),
                }?;
                Some((p.item_id.clone(), pyxa_core::dot(&qn, &normalized(vec.clone()))))
            })
            .collect();
        v.sort_by(|a, b| b.1.total_cmp(&a.1));
        v
    }
}

fn query(collection: &str, using: VectorName, vector: &[f32], top_k: usize, filter: PayloadFilter, exact: bool) -> VectorQuery {
    VectorQuery { collection: collection.to_string(), using, vector: vector.to_vec(), top_k, filter, exact }
}

fn filter(label: Option<&str>, kind: Option<ItemKind>, tenant: Option<&str>) -> PayloadFilter {
    PayloadFilter { label: label.map(str::to_string), kind, tenant: tenant.map(str::to_string), space: None }
}

/// Search exactly and compare with the model: same ids in the same order (ties within 1e-5 may
/// swap), same cosine scores, payload fields right.
async fn check_exact(store: &dyn VectorStore, model: &Model, q: VectorQuery) {
    let expected = model.ranking(q.using, &q.vector, &q.filter);
    let got = store.search(q.clone()).await.unwrap_or_else(|e| panic!("search {:?}: {e}", q.filter));
    let want = expected.len().min(q.top_k);
    assert_eq!(got.len(), want, "result count for {:?} {:?}", q.using, q.filter);
    for w in got.windows(2) {
        assert!(w[0].score >= w[1].score - 1e-6, "scores not descending: {got:?}");
    }
    for (i, hit) in got.iter().enumerate() {
        let model_score = expected
            .iter()
            .find(|(id, _)| *id == hit.item_id)
            .unwrap_or_else(|| panic!("hit {} is not a candidate for {:?} {:?}", hit.item_id, q.using, q.filter))
            .1;
        assert!((hit.score - model_score).abs() < 1e-4, "score of {}: {} vs {}", hit.item_id, hit.score, model_score);
        assert!(
            hit.item_id == expected[i].0 || (model_score - expected[i].1).abs() < 1e-5,
            "rank {i}: got {} ({}), expected {} ({})",
            hit.item_id,
            hit.score,
            expected[i].0,
            expected[i].1
        );
        let p = &model.points[&hit.item_id];
        assert_eq!(hit.label, p.label);
        assert_eq!(hit.kind, p.kind);
    }
}

fn expect_err<T: std::fmt::Debug>(r: Result<T>, kind: ErrorKind, code: &str) {
    match r {
        Ok(v) => panic!("expected {kind:?}/{code}, got Ok({v:?})"),
        Err(e) => {
            assert_eq!(e.kind, kind, "{e}");
            assert_eq!(e.code, code, "{e}");
        }
    }
}

fn query_vector_of(term: u32) -> pyxa_core::SparseVector {
    pyxa_core::SparseVector { indices: vec![term], values: vec![1.0] }
}

fn ids(hits: &[ScoredPoint]) -> HashSet<String> {
    hits.iter().map(|h| h.item_id.clone()).collect()
}

// ---------------------------------------------------------------- the contract

/// Same assertions for every backend. `ns` prefixes the collection names. The store must be
/// configured with `contract_index_settings()` so that `optimize` really builds HNSW on 300
/// points and indexed search really walks the graph.
async fn contract(store: &dyn VectorStore, ns: &str) {
    let c = format!("{ns}main");
    let all = PayloadFilter::default();
    let q0 = queries(7, 1).remove(0);

    // Names, dimensions and missing collections.
    expect_err(store.ensure_collection("bad name", DIM).await, ErrorKind::InvalidInput, "invalid_collection_name");
    expect_err(store.ensure_collection("../etc", DIM).await, ErrorKind::InvalidInput, "invalid_collection_name");
    expect_err(store.ensure_collection(&c, 0).await, ErrorKind::InvalidInput, "invalid_dim");
    check_unknown(store, &c).await;
    store.delete_collection(&c).await.expect("deleting a missing collection is a no-op");

    // ensure_collection is idempotent; another dimension conflicts.
    store.ensure_collection(&c, DIM).await.unwrap();
    store.ensure_collection(&c, DIM).await.unwrap();
    expect_err(store.ensure_collection(&c, DIM + 1).await, ErrorKind::Conflict, "collection_dim_mismatch");
    assert_eq!(store.count(&c, &all).await.unwrap(), 0);
    assert!(store.search(query(&c, VectorName::Image, &q0, 5, all.clone(), false)).await.unwrap().is_empty());

    // Upsert.
    let data = dataset(&c);
    let mut model = Model::default();
    store.upsert(data[..100].to_vec()).await.unwrap();
    store.upsert(data[100..].to_vec()).await.unwrap();
    model.upsert(&data);
    assert_eq!(store.count(&c, &all).await.unwrap(), N);

    // Invalid points are rejected before anything is written.
    let mut bad = data[5].clone();
    bad.image = Some(vec![0.1; DIM + 1]);
    expect_err(store.upsert(vec![data[6].clone(), bad]).await, ErrorKind::InvalidInput, "vector_dim_mismatch");
    let mut bad = data[5].clone();
    bad.item_id = "not-a-uuid".into();
    expect_err(store.upsert(vec![bad]).await, ErrorKind::InvalidInput, "invalid_item_id");
    let mut bad = data[5].clone();
    bad.image = None;
    bad.text = None;
    expect_err(store.upsert(vec![bad]).await, ErrorKind::InvalidInput, "point_without_vectors");
    let mut bad = data[5].clone();
    bad.text = Some(vec![f32::NAN; DIM]);
    expect_err(store.upsert(vec![bad]).await, ErrorKind::InvalidInput, "invalid_vector");
    assert_eq!(store.count(&c, &all).await.unwrap(), N);

    // Search order and cosine scores (exact), on both named vectors.
    for q in queries(11, 6) {
        for using in [VectorName::Image, VectorName::Text] {
            check_exact(store, &model, query(&c, using, &q, 10, all.clone(), true)).await;
        }
    }
    // A stored vector finds itself first with score 1.
    let me = &data[22];
    let hits = store.search(query(&c, VectorName::Image, me.image.as_ref().unwrap(), 3, all.clone(), true)).await.unwrap();
    assert_eq!(hits[0].item_id, me.item_id);
    assert!((hits[0].score - 1.0).abs() < 1e-4, "self score {}", hits[0].score);
    // Unnormalised queries give the same cosine scores.
    let scaled: Vec<f32> = q0.iter().map(|x| x * 3.5).collect();
    check_exact(store, &model, query(&c, VectorName::Text, &scaled, 10, all.clone(), true)).await;

    // Items lacking a named vector are never returned for it.
    let with_text: HashSet<String> = model.points.values().filter(|p| p.text.is_some()).map(|p| p.item_id.clone()).collect();
    let with_image: HashSet<String> = model.points.values().filter(|p| p.image.is_some()).map(|p| p.item_id.clone()).collect();
    let hits = store.search(query(&c, VectorName::Text, &q0, N + 10, all.clone(), true)).await.unwrap();
    assert_eq!(ids(&hits), with_text);
    let hits = store.search(query(&c, VectorName::Image, &q0, N + 10, all.clone(), false)).await.unwrap();
    assert_eq!(ids(&hits), with_image);
    let hits = store.search(query(&c, VectorName::Image, &q0, N, filter(None, Some(ItemKind::Text), None), true)).await.unwrap();
    assert!(hits.is_empty(), "text-only items returned by an image search: {hits:?}");

    // Filters, alone and combined.
    let filters = [
        filter(Some("cat"), None, None),
        filter(None, Some(ItemKind::Text), None),
        filter(None, Some(ItemKind::ImageText), None),
        filter(None, None, Some("t2")),
        filter(Some("dog"), Some(ItemKind::ImageText), Some("t1")),
        filter(Some("bird"), None, None),
        PayloadFilter { space: Some("old@1".into()), ..Default::default() },
        PayloadFilter { space: Some("new@2".into()), label: Some("cat".into()), ..Default::default() },
    ];
    for f in &filters {
        for q in queries(13, 2) {
            check_exact(store, &model, query(&c, VectorName::Text, &q, 8, f.clone(), true)).await;
            check_exact(store, &model, query(&c, VectorName::Image, &q, 8, f.clone(), true)).await;
        }
        assert_eq!(store.count(&c, f).await.unwrap(), model.count(f), "count {f:?}");
    }
    assert_eq!(model.count(&filters[5]), 0);

    // contains.
    assert!(store.contains(&c, &data[3].item_id).await.unwrap());
    assert!(store.contains(&c, &data[3].item_id.to_uppercase()).await.unwrap(), "ids are UUIDs, any case");
    assert!(!store.contains(&c, &item_id(N + 1)).await.unwrap());
    expect_err(store.contains(&c, "nope").await, ErrorKind::InvalidInput, "invalid_item_id");

    // Delete by id (missing ids are fine).
    let gone: Vec<String> = [3usize, 4, 10, 11, 150].iter().map(|i| item_id(*i)).chain([item_id(N + 5)]).collect();
    store.delete(&c, &gone).await.unwrap();
    model.delete(&gone);
    assert_eq!(store.count(&c, &all).await.unwrap(), N - 5);
    assert!(!store.contains(&c, &gone[0]).await.unwrap());
    let hits = store.search(query(&c, VectorName::Text, &q0, N, all.clone(), true)).await.unwrap();
    assert!(gone.iter().all(|g| !ids(&hits).contains(g)));
    expect_err(store.delete(&c, &["x".to_string()]).await, ErrorKind::InvalidInput, "invalid_item_id");
    store.delete(&c, &[]).await.unwrap();

    // Upsert replaces the whole point: new label, and the image vector is gone. The point is
    // first moved into an optimised (indexed, non-appendable) segment: Qdrant then copies the
    // old point into a writable segment and merges the new vectors into the old ones, so a
    // vector the new point lacks would survive unless the store deletes it.
    let with_keywords =
        VectorPoint { keywords: Some(pyxa_core::SparseVector { indices: vec![77], values: vec![1.0] }), ..data[24].clone() };
    store.upsert(vec![with_keywords]).await.unwrap();
    store.optimize(&c).await.unwrap();
    let keyword_77 = KeywordQuery { collection: c.clone(), terms: query_vector_of(77), top_k: 5, filter: all.clone() };
    assert_eq!(ids(&store.search_keywords(keyword_77.clone()).await.unwrap()), HashSet::from([data[24].item_id.clone()]));
    let mut changed = data[24].clone();
    assert!(changed.image.is_some() && changed.text.is_some());
    changed.label = Some("bird".into());
    changed.kind = ItemKind::Text;
    changed.image = None;
    store.upsert(vec![changed.clone()]).await.unwrap();
    model.upsert(std::slice::from_ref(&changed));
    assert_eq!(store.count(&c, &all).await.unwrap(), N - 5);
    assert_eq!(store.count(&c, &filter(Some("bird"), None, None)).await.unwrap(), 1);
    let hits = store.search(query(&c, VectorName::Image, &q0, N, all.clone(), true)).await.unwrap();
    assert!(!ids(&hits).contains(&changed.item_id), "replaced point kept its image vector");
    assert!(store.search_keywords(keyword_77).await.unwrap().is_empty(), "replaced point kept its keywords");
    check_exact(
        store,
        &model,
        query(&c, VectorName::Text, changed.text.as_ref().unwrap(), 5, filter(Some("bird"), None, None), true),
    )
    .await;

    // Query validation.
    expect_err(
        store.search(query(&c, VectorName::Image, &[0.5; 3], 5, all.clone(), false)).await,
        ErrorKind::InvalidInput,
        "vector_dim_mismatch",
    );
    assert!(store.search(query(&c, VectorName::Image, &q0, 0, all.clone(), false)).await.unwrap().is_empty());

    // Optimize (builds HNSW with the contract's settings), then indexed search agrees with exact.
    store.optimize(&c).await.unwrap();
    store.optimize(&c).await.unwrap(); // nothing left to do: cheap
    assert_eq!(store.count(&c, &all).await.unwrap(), N - 5);
    let (mut found, mut total) = (0, 0);
    for q in queries(17, 20) {
        for using in [VectorName::Image, VectorName::Text] {
            let exact = store.search(query(&c, using, &q, 10, all.clone(), true)).await.unwrap();
            let indexed = store.search(query(&c, using, &q, 10, all.clone(), false)).await.unwrap();
            assert_eq!(indexed.len(), 10);
            assert_eq!(exact[0].item_id, indexed[0].item_id, "top hit differs after optimize");
            found += ids(&indexed).intersection(&ids(&exact)).count();
            total += 10;
            // Exact search after optimize is still the model's ranking.
            check_exact(store, &model, query(&c, using, &q, 10, all.clone(), true)).await;
        }
    }
    let recall = found as f64 / total as f64;
    assert!(recall >= 0.95, "recall@10 of indexed vs exact search after optimize: {recall}");
    // Filters and named-vector rules still hold on optimized segments (indexed and exact).
    for f in &filters {
        assert_eq!(store.count(&c, f).await.unwrap(), model.count(f), "count after optimize {f:?}");
        check_exact(store, &model, query(&c, VectorName::Text, &q0, 8, f.clone(), true)).await;
        let hits = store.search(query(&c, VectorName::Image, &q0, 8, f.clone(), false)).await.unwrap();
        for h in &hits {
            let p = &model.points[&h.item_id];
            assert!(Model::matches(p, f) && p.image.is_some(), "indexed hit {h:?} breaks {f:?}");
        }
    }
    let hits = store.search(query(&c, VectorName::Text, &q0, N + 10, all.clone(), false)).await.unwrap();
    let with_text: HashSet<String> = model.points.values().filter(|p| p.text.is_some()).map(|p| p.item_id.clone()).collect();
    assert_eq!(ids(&hits), with_text, "indexed search with top_k > points returns every text item");

    // Writes after optimize land in a fresh segment and are found.
    let extra = VectorPoint { item_id: item_id(N + 20), ..data[7].clone() };
    store.upsert(vec![extra.clone()]).await.unwrap();
    model.upsert(std::slice::from_ref(&extra));
    assert_eq!(store.count(&c, &all).await.unwrap(), N - 4);
    check_exact(store, &model, query(&c, VectorName::Image, extra.image.as_ref().unwrap(), 3, all.clone(), true)).await;

    // A second collection is independent.
    let c2 = format!("{ns}other");
    store.ensure_collection(&c2, 8).await.unwrap();
    assert_eq!(store.count(&c2, &all).await.unwrap(), 0);
    let p = VectorPoint { collection: c2.clone(), image: Some(vec![1.0; 8]), text: None, ..data[1].clone() };
    // One upsert call may span collections.
    store.upsert(vec![p, VectorPoint { item_id: item_id(N + 21), ..data[8].clone() }]).await.unwrap();
    assert_eq!(store.count(&c2, &all).await.unwrap(), 1);
    assert_eq!(store.count(&c, &all).await.unwrap(), N - 3);

    // Delete collection.
    store.delete_collection(&c).await.unwrap();
    check_unknown(store, &c).await;
    store.ensure_collection(&c, DIM).await.unwrap();
    assert_eq!(store.count(&c, &all).await.unwrap(), 0, "a recreated collection starts empty");
    store.delete_collection(&c).await.unwrap();
    store.delete_collection(&c2).await.unwrap();
    check_unknown(store, &c2).await;
}

/// Keyword (BM25) search: rare terms rank first, the store's IDF outweighs repeated common
/// words, Chinese characters match, filters apply, deleted and keyword-less points are not found.
async fn keywords(store: &dyn VectorStore, ns: &str) {
    let c = format!("{ns}kw");
    store.ensure_collection(&c, DIM).await.unwrap();
    let texts = [
        "The office cat is called Mochi. She sleeps in the office.",
        "The office printer on the third floor is called HERON.",
        "Office hours: the office opens at 9. Office office office.",
        "办公室的猫叫摩卡，每天早上八点半喂它。",
        "咖啡机显示E07时，请检查水箱。",
        "A note without much in it.",
    ];
    let mut points: Vec<VectorPoint> = texts
        .iter()
        .enumerate()
        .map(|(i, t)| VectorPoint {
            item_id: item_id(1000 + i),
            collection: c.clone(),
            label: Some(if i < 3 { "en" } else { "zh" }.into()),
            kind: ItemKind::Passage,
            tenant: None,
            space: Some("s@1".into()),
            image: None,
            text: Some(normalized((0..DIM).map(|d| ((d + i) % 7) as f32 + 0.5).collect())),
            keywords: Some(document_vector(t)),
        })
        .collect();
    // A point without keywords and one with a raw, unsorted vector with a repeated index.
    points.push(VectorPoint { item_id: item_id(1010), keywords: None, ..points[0].clone() });
    let raw = pyxa_core::SparseVector { indices: vec![9, 3, 9], values: vec![1.0, f32::NAN, 2.0] };
    points.push(VectorPoint { item_id: item_id(1011), keywords: Some(raw), ..points[5].clone() });
    store.upsert(points).await.unwrap();
    let search =
        |text: &str, filter: PayloadFilter| KeywordQuery { collection: c.clone(), terms: query_vector(text), top_k: 3, filter };
    let top = |hits: Vec<ScoredPoint>| hits.first().map(|h| h.item_id.clone());
    assert_eq!(top(store.search_keywords(search("Mochi", PayloadFilter::default())).await.unwrap()), Some(item_id(1000)));
    assert_eq!(top(store.search_keywords(search("who is HERON", PayloadFilter::default())).await.unwrap()), Some(item_id(1001)));
    // "office" is everywhere in English: the rare "cat" decides.
    assert_eq!(top(store.search_keywords(search("office cat", PayloadFilter::default())).await.unwrap()), Some(item_id(1000)));
    assert_eq!(top(store.search_keywords(search("摩卡", PayloadFilter::default())).await.unwrap()), Some(item_id(1003)));
    assert_eq!(
        top(store.search_keywords(search("E07 是什么意思", PayloadFilter::default())).await.unwrap()),
        Some(item_id(1004))
    );
    let zh_only = PayloadFilter { label: Some("zh".into()), ..Default::default() };
    let hits = store.search_keywords(search("Mochi 摩卡", zh_only)).await.unwrap();
    assert_eq!(top(hits.clone()), Some(item_id(1003)));
    assert!(hits.iter().all(|h| h.item_id != item_id(1000)));
    assert!(store.search_keywords(search("the of", PayloadFilter::default())).await.unwrap().is_empty());
    assert!(store.search_keywords(search("nothing matches zzzz", PayloadFilter::default())).await.unwrap().is_empty());
    store.delete(&c, &[item_id(1000)]).await.unwrap();
    let hits = store.search_keywords(search("Mochi", PayloadFilter::default())).await.unwrap();
    assert!(hits.iter().all(|h| h.item_id != item_id(1000) && h.item_id != item_id(1010)), "{hits:?}");
    store.delete_collection(&c).await.unwrap();
}

async fn check_unknown(store: &dyn VectorStore, c: &str) {
    let all = PayloadFilter::default();
    let q = vec![0.1; DIM];
    let nf = |r: Result<()>| expect_err(r, ErrorKind::NotFound, "unknown_collection");
    nf(store.search(query(c, VectorName::Image, &q, 5, all.clone(), false)).await.map(|_| ()));
    nf(store.count(c, &all).await.map(|_| ()));
    nf(store.contains(c, &item_id(1)).await.map(|_| ()));
    nf(store.delete(c, &[item_id(1)]).await);
    nf(store.optimize(c).await);
    let p = VectorPoint { collection: c.to_string(), ..dataset(c)[2].clone() };
    nf(store.upsert(vec![p]).await);
}

/// Small thresholds so that 300 points of 32-d get an HNSW graph and indexed searches use it
/// (10 KB = 80 vectors of 32-d; 10 is the server's minimum full-scan threshold).
fn contract_index_settings() -> IndexSettings {
    IndexSettings { full_scan_threshold_kb: Some(10), indexing_threshold_kb: Some(10), ..Default::default() }
}

fn edge_config(dir: &std::path::Path) -> EdgeStoreConfig {
    let mut c = EdgeStoreConfig::new(dir);
    c.index = contract_index_settings();
    c
}

// ---------------------------------------------------------------- runs

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edge_contract() {
    let dir = tempfile::tempdir().unwrap();
    let store = EdgeStore::open_with(edge_config(dir.path())).await.unwrap();
    contract(&store, "ct").await;
    keywords(&store, "ct").await;
    assert!(store.collections().is_empty());
    // Only the lock file is left.
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().flatten().map(|e| e.file_name()).collect();
    assert_eq!(left.len(), 1, "{left:?}");
}

/// Reported as ignored, not passed, without a server; `tests/scale/run.sh` starts one and runs it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Qdrant server: tests/scale/run.sh, or PYXA_TEST_QDRANT_URL and --include-ignored"]
async fn server_contract() {
    let url = std::env::var("PYXA_TEST_QDRANT_URL").expect("PYXA_TEST_QDRANT_URL (e.g. http://localhost:6334)");
    let mut cfg = ServerStoreConfig::new(url);
    cfg.api_key = std::env::var("PYXA_TEST_QDRANT_API_KEY").ok();
    cfg.index = contract_index_settings();
    let store = ServerStore::new(cfg).unwrap();
    let ns = format!("ct{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    contract(&store, &ns).await;
    keywords(&store, &ns).await;
}

#[tokio::test]
async fn server_unreachable_is_unavailable() {
    // Nothing listens on port 9 of loopback here: the connection is refused.
    let mut cfg = ServerStoreConfig::new("http://127.0.0.1:9");
    cfg.connect_timeout = Duration::from_secs(2);
    let store = ServerStore::new(cfg).unwrap();
    expect_err(store.ensure_collection("x", DIM).await, ErrorKind::Unavailable, "vector_store_unavailable");
    expect_err(store.count("x", &PayloadFilter::default()).await, ErrorKind::Unavailable, "vector_store_unavailable");
    // Validation happens before any network call.
    expect_err(store.ensure_collection("a b", DIM).await, ErrorKind::InvalidInput, "invalid_collection_name");
}

/// A collection made before keyword vectors existed gets one when opened, keeps its points, and
/// answers keyword searches for what is written afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edge_upgrades_a_collection_without_keywords() {
    use qdrant_edge::{Distance, EdgeConfig, EdgeShard, EdgeVectorParams};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old");
    std::fs::create_dir_all(&path).unwrap();
    {
        let mut b = EdgeConfig::builder();
        for v in ["image", "text"] {
            b = b.vector(v, EdgeVectorParams::builder(DIM, Distance::Cosine).build());
        }
        let edge = EdgeShard::new(&path, b.build()).unwrap();
        edge.flush();
    }
    let store = EdgeStore::open_with(edge_config(dir.path())).await.unwrap();
    let data: Vec<VectorPoint> = dataset("old").into_iter().take(20).collect();
    store.upsert(data.clone()).await.unwrap();
    let mut p = data[3].clone();
    p.keywords = Some(document_vector("The spare key is in the blue tin."));
    store.upsert(vec![p.clone()]).await.unwrap();
    let hits = store
        .search_keywords(KeywordQuery {
            collection: "old".into(),
            terms: query_vector("blue tin"),
            top_k: 5,
            filter: PayloadFilter::default(),
        })
        .await
        .unwrap();
    assert_eq!(hits.first().map(|h| h.item_id.clone()), Some(p.item_id.clone()));
    assert_eq!(store.count("old", &PayloadFilter::default()).await.unwrap(), 20);
    drop(store);
    // Reopened: already upgraded, nothing left of the upgrade's backups.
    let store = EdgeStore::open_with(edge_config(dir.path())).await.unwrap();
    assert_eq!(store.count("old", &PayloadFilter::default()).await.unwrap(), 20);
    let leftovers: Vec<_> =
        walk(&path).into_iter().filter(|f| f.contains("pyxa-before-keywords") || f.contains("keywords-upgrade")).collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

fn walk(dir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        if e.path().is_dir() {
            out.extend(walk(&e.path()));
        } else {
            out.push(e.path().display().to_string());
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edge_reopen_keeps_points() {
    let dir = tempfile::tempdir().unwrap();
    let data = dataset("photos");
    let mut model = Model::default();
    model.upsert(&data);
    let qs = queries(23, 4);
    let f = filter(Some("dog"), None, Some("t2"));
    {
        let store = EdgeStore::open_with(edge_config(dir.path())).await.unwrap();
        store.ensure_collection("photos", DIM).await.unwrap();
        store.ensure_collection("empty", 16).await.unwrap();
        store.upsert(data[..200].to_vec()).await.unwrap();
        store.optimize("photos").await.unwrap();
        store.upsert(data[200..].to_vec()).await.unwrap(); // after optimize: in a plain segment
        assert!(store.stats("photos").await.unwrap().indexed_vectors > 0);
        // A second store on the same directory is refused while this one is open.
        let second = EdgeStore::open(dir.path()).await;
        expect_err(second.map(|_| ()), ErrorKind::Unavailable, "vector_store_locked");
    }
    let store = EdgeStore::open_with(edge_config(dir.path())).await.unwrap();
    assert_eq!(store.collections(), vec!["empty".to_string(), "photos".to_string()]);
    assert_eq!(store.count("photos", &PayloadFilter::default()).await.unwrap(), N);
    assert_eq!(store.count("photos", &f).await.unwrap(), model.count(&f));
    assert_eq!(store.count("empty", &PayloadFilter::default()).await.unwrap(), 0);
    expect_err(store.ensure_collection("empty", 17).await, ErrorKind::Conflict, "collection_dim_mismatch");
    let stats = store.stats("photos").await.unwrap();
    assert!(stats.indexed_vectors > 0, "{stats:?}");
    for q in &qs {
        check_exact(&store, &model, query("photos", VectorName::Image, q, 10, PayloadFilter::default(), true)).await;
        check_exact(&store, &model, query("photos", VectorName::Text, q, 10, f.clone(), true)).await;
    }
    // Still writable and optimizable after reopening.
    store.delete("photos", &[item_id(0)]).await.unwrap();
    model.delete(&[item_id(0)]);
    store.optimize("photos").await.unwrap();
    drop(store);
    let store = EdgeStore::open(dir.path()).await.unwrap();
    assert_eq!(store.count("photos", &PayloadFilter::default()).await.unwrap(), N - 1);
    check_exact(&store, &model, query("photos", VectorName::Text, &qs[0], 10, f.clone(), true)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edge_optimize_builds_hnsw() {
    let dir = tempfile::tempdir().unwrap();
    let store = EdgeStore::open_with(edge_config(dir.path())).await.unwrap();
    store.ensure_collection("c", DIM).await.unwrap();
    store.upsert(dataset("c")).await.unwrap();
    let before = store.stats("c").await.unwrap();
    assert_eq!(before.indexed_vectors, 0, "{before:?}");
    assert_eq!(before.points, N);
    store.optimize("c").await.unwrap();
    let after = store.stats("c").await.unwrap();
    // Both named vectors of every point are in HNSW segments.
    let vectors = dataset("c").iter().map(|p| p.image.is_some() as usize + p.text.is_some() as usize).sum::<usize>();
    assert_eq!(after.indexed_vectors, vectors, "{after:?}");
    eprintln!("before optimize {before:?}\nafter optimize  {after:?}");

    // With Qdrant's default thresholds (10 MB), 300 small points stay unindexed: exact scans.
    let dir2 = tempfile::tempdir().unwrap();
    let store2 = EdgeStore::open(dir2.path()).await.unwrap();
    store2.ensure_collection("c", DIM).await.unwrap();
    store2.upsert(dataset("c")).await.unwrap();
    store2.optimize("c").await.unwrap();
    assert_eq!(store2.stats("c").await.unwrap().indexed_vectors, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edge_concurrent_use() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(EdgeStore::open_with(edge_config(dir.path())).await.unwrap());
    store.ensure_collection("c", DIM).await.unwrap();
    let data = dataset("c");
    store.upsert(data[..150].to_vec()).await.unwrap();
    let mut tasks = Vec::new();
    for w in 0..3 {
        let (store, data) = (store.clone(), data.clone());
        tasks.push(tokio::spawn(async move {
            for (i, p) in data[150..].iter().enumerate().filter(|(i, _)| i % 3 == w) {
                store.upsert(vec![p.clone()]).await.unwrap();
                if i % 10 == 0 {
                    store.delete("c", &[item_id(i)]).await.unwrap();
                }
            }
        }));
    }
    for s in 0..2 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            for q in queries(100 + s, 60) {
                let hits = store.search(query("c", VectorName::Image, &q, 5, PayloadFilter::default(), s == 0)).await.unwrap();
                assert!(!hits.is_empty());
                store.count("c", &filter(Some("cat"), None, None)).await.unwrap();
            }
        }));
    }
    {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            for _ in 0..3 {
                store.optimize("c").await.unwrap();
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let deleted: HashSet<String> = (0..150).filter(|i| i % 10 == 0).map(item_id).collect();
    assert_eq!(store.count("c", &PayloadFilter::default()).await.unwrap(), N - deleted.len());
    store.optimize("c").await.unwrap();
    assert_eq!(store.count("c", &PayloadFilter::default()).await.unwrap(), N - deleted.len());
}

const KILL_CHILD_ENV: &str = "PYXA_VECTORS_KILL_CHILD_DIR";
const KILL_CHILD_DURABLE_ENV: &str = "PYXA_VECTORS_KILL_CHILD_DURABLE";

/// Child side of the SIGKILL tests: upsert in batches, report each returned call, then wait to
/// be killed.
async fn kill_child(dir: String) {
    let mut cfg = EdgeStoreConfig::new(dir);
    cfg.durable_writes = std::env::var(KILL_CHILD_DURABLE_ENV).map(|v| v != "0").unwrap_or(true);
    let store = EdgeStore::open_with(cfg).await.unwrap();
    store.ensure_collection("k", DIM).await.unwrap();
    let data = dataset("k");
    for (i, chunk) in data.chunks(50).enumerate() {
        store.upsert(chunk.to_vec()).await.unwrap();
        println!("UPSERTED {}", (i + 1) * 50);
    }
    store.delete("k", &[item_id(0), item_id(1)]).await.unwrap();
    println!("DONE");
    tokio::time::sleep(Duration::from_secs(120)).await;
    panic!("not killed");
}

/// Run `test` of this binary as a child with `dir`, wait for "DONE", SIGKILL it.
fn run_and_kill(test: &str, dir: &std::path::Path, durable: bool) {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([test, "--exact", "--nocapture", "--test-threads=1", "--include-ignored"])
        .env(KILL_CHILD_ENV, dir)
        .env(KILL_CHILD_DURABLE_ENV, if durable { "1" } else { "0" })
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let out = BufReader::new(child.stdout.take().unwrap());
    let mut done = false;
    for line in out.lines() {
        let line = line.unwrap();
        if line.trim() == "DONE" {
            done = true;
            break;
        }
    }
    assert!(done, "child ended before DONE");
    child.kill().unwrap(); // SIGKILL
    let status = child.wait().unwrap();
    assert!(!status.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edge_survives_sigkill() {
    if let Ok(dir) = std::env::var(KILL_CHILD_ENV) {
        return kill_child(dir).await;
    }
    let dir = tempfile::tempdir().unwrap();
    run_and_kill("edge_survives_sigkill", dir.path(), true);
    let store = EdgeStore::open(dir.path()).await.unwrap();
    assert_eq!(store.count("k", &PayloadFilter::default()).await.unwrap(), N - 2);
    assert!(!store.contains("k", &item_id(0)).await.unwrap());
    assert!(store.contains("k", &item_id(N - 1)).await.unwrap());
    let mut model = Model::default();
    model.upsert(&dataset("k"));
    model.delete(&[item_id(0), item_id(1)]);
    check_exact(&store, &model, query("k", VectorName::Image, &queries(3, 1)[0], 10, filter(Some("cup"), None, None), true))
        .await;
}

/// Experiment (not part of the contract): what Edge 0.7.2 keeps after SIGKILL when nothing is
/// flushed after the writes. Run with `--ignored --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn edge_sigkill_without_flush_experiment() {
    if let Ok(dir) = std::env::var(KILL_CHILD_ENV) {
        return kill_child(dir).await;
    }
    let dir = tempfile::tempdir().unwrap();
    run_and_kill("edge_sigkill_without_flush_experiment", dir.path(), false);
    match EdgeStore::open(dir.path()).await {
        Ok(store) => {
            let n = store.count("k", &PayloadFilter::default()).await;
            eprintln!("EXPERIMENT without flush: count after SIGKILL = {n:?} (written {N}, 2 deleted)");
        }
        Err(e) => eprintln!("EXPERIMENT without flush: reopen failed: {e}"),
    }
}
