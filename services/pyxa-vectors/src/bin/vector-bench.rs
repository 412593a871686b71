//! EdgeStore benchmark on clustered synthetic data (seeded, reproducible).
//!
//! For each size: upsert throughput (batches of 1,000 through `VectorStore::upsert`, each
//! flushed to disk; and, in a separate directory, without flushing until the end), the latency
//! of a single-point durable upsert, the throughput of 8 concurrent single-point writers (group
//! commit), exact-scan search before
//! `optimize`, `optimize` time (HNSW build), then exact and indexed search latency (p50/p99, ms)
//! and QPS on one thread, recall@10 of indexed vs exact search, bytes on disk, reopen time.
//!
//! ```text
//! CARGO_TARGET_DIR=/root/.cache/pyxa/target cargo run --release -p pyxa-vectors --bin vector-bench -- \
//!     --sizes 10000,100000 --queries 200
//! ```
//! Options: `--sizes`, `--queries`, `--dim` (384), `--clusters-per` (points per cluster, 1000),
//! `--spread` (noise / centre scale, 0.8), `--threads` (HNSW build threads, 0 = auto),
//! `--ef` (search beam, default Qdrant's), `--dir` (work dir, default the system temp dir),
//! `--seed` (1).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use pyxa_core::{ItemKind, PayloadFilter, VectorName, VectorPoint, VectorQuery, VectorStore};
use pyxa_vectors::{EdgeStore, EdgeStoreConfig};

struct Args {
    sizes: Vec<usize>,
    queries: usize,
    dim: usize,
    clusters_per: usize,
    spread: f32,
    threads: usize,
    ef: Option<usize>,
    dir: PathBuf,
    seed: u64,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        sizes: vec![10_000, 100_000],
        queries: 200,
        dim: 384,
        clusters_per: 1000,
        spread: 0.8,
        threads: 0,
        ef: None,
        dir: std::env::temp_dir(),
        seed: 1,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut val = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        let num = |s: String| s.replace('_', "").parse::<usize>().map_err(|e| format!("{s}: {e}"));
        match flag.as_str() {
            "--sizes" => a.sizes = val()?.split(',').map(|s| num(s.to_string())).collect::<Result<_, _>>()?,
            "--queries" => a.queries = num(val()?)?,
            "--dim" => a.dim = num(val()?)?,
            "--clusters-per" => a.clusters_per = num(val()?)?.max(1),
            "--spread" => a.spread = val()?.parse().map_err(|e| format!("--spread: {e}"))?,
            "--threads" => a.threads = num(val()?)?,
            "--ef" => a.ef = Some(num(val()?)?),
            "--dir" => a.dir = PathBuf::from(val()?),
            "--seed" => a.seed = num(val()?)? as u64,
            "-h" | "--help" => {
                println!("vector-bench [--sizes 10000,100000] [--queries 200] [--dim 384] [--clusters-per 1000] [--spread 0.8] [--threads 0] [--ef N] [--dir DIR] [--seed 1]");
                std::process::exit(0);
            }
            other => return Err(format!("unknown option {other}")),
        }
    }
    Ok(a)
}

/// splitmix64 + Box-Muller: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }
    fn gauss_pair(&mut self) -> (f32, f32) {
        let (u1, u2) = (self.uniform(), self.uniform());
        let r = (-2.0 * u1.ln()).sqrt();
        let t = std::f64::consts::TAU * u2;
        ((r * t.cos()) as f32, (r * t.sin()) as f32)
    }
    fn gauss_vec(&mut self, dim: usize, scale: f32) -> Vec<f32> {
        let mut v = Vec::with_capacity(dim + 1);
        while v.len() < dim {
            let (a, b) = self.gauss_pair();
            v.push(a * scale);
            v.push(b * scale);
        }
        v.truncate(dim);
        v
    }
}

/// Clustered data: centres ~ N(0, 1), points = normalise(centre + N(0, spread^2)).
struct Data {
    centers: Vec<Vec<f32>>,
    spread: f32,
    dim: usize,
}

impl Data {
    fn new(n: usize, a: &Args, rng: &mut Rng) -> Self {
        let k = (n / a.clusters_per).max(1);
        Self { centers: (0..k).map(|_| rng.gauss_vec(a.dim, 1.0)).collect(), spread: a.spread, dim: a.dim }
    }
    fn sample(&self, cluster: usize, rng: &mut Rng) -> Vec<f32> {
        let noise = rng.gauss_vec(self.dim, self.spread);
        let mut v: Vec<f32> = self.centers[cluster].iter().zip(noise).map(|(c, e)| c + e).collect();
        pyxa_core::l2_normalize(&mut v);
        v
    }
}

fn point(i: usize, cluster: usize, v: Vec<f32>) -> VectorPoint {
    VectorPoint {
        item_id: uuid::Uuid::from_u128(i as u128 + 1).to_string(),
        collection: "bench".into(),
        label: Some(format!("l{cluster}")),
        kind: ItemKind::Image,
        tenant: None,
        space: None,
        image: Some(v),
        text: None,
        keywords: None,
    }
}

fn percentile(sorted_ms: &[f64], p: f64) -> f64 {
    if sorted_ms.is_empty() {
        return f64::NAN;
    }
    let idx = ((sorted_ms.len() as f64 - 1.0) * p).round() as usize;
    sorted_ms[idx]
}

struct Latency {
    p50: f64,
    p99: f64,
    qps: f64,
}

/// Run the queries one after another (one thread); returns latencies and each top-10.
async fn run_queries(
    store: &EdgeStore,
    queries: &[Vec<f32>],
    exact: bool,
    filter: impl Fn(usize) -> PayloadFilter,
) -> (Latency, Vec<Vec<String>>) {
    let mut ms = Vec::with_capacity(queries.len());
    let mut tops = Vec::with_capacity(queries.len());
    let start = Instant::now();
    for (i, q) in queries.iter().enumerate() {
        let t = Instant::now();
        let hits = store
            .search(VectorQuery {
                collection: "bench".into(),
                using: VectorName::Image,
                vector: q.clone(),
                top_k: 10,
                filter: filter(i),
                exact,
            })
            .await
            .expect("search");
        ms.push(t.elapsed().as_secs_f64() * 1e3);
        tops.push(hits.into_iter().map(|h| h.item_id).collect());
    }
    let total = start.elapsed().as_secs_f64();
    ms.sort_by(f64::total_cmp);
    (Latency { p50: percentile(&ms, 0.5), p99: percentile(&ms, 0.99), qps: queries.len() as f64 / total }, tops)
}

fn recall(truth: &[Vec<String>], got: &[Vec<String>]) -> f64 {
    let (mut hit, mut total) = (0usize, 0usize);
    for (t, g) in truth.iter().zip(got) {
        total += t.len();
        hit += g.iter().filter(|id| t.contains(id)).count();
    }
    if total == 0 {
        1.0
    } else {
        hit as f64 / total as f64
    }
}

struct Row {
    n: usize,
    upsert_pps: f64,
    upsert_noflush_pps: f64,
    single_upsert_ms: f64,
    concurrent_single_pps: f64,
    plain: Latency,
    optimize_s: f64,
    exact: Latency,
    indexed: Latency,
    recall10: f64,
    filtered: Latency,
    filtered_recall10: f64,
    disk_mb: f64,
    wal_mb: f64,
    reopen_s: f64,
    indexed_vectors: usize,
    segments: usize,
}

/// Upsert throughput with `durable_writes: false` (one flush at the end), same data, own dir.
async fn upsert_without_flush(n: usize, a: &Args) -> f64 {
    let dir = a.dir.join(format!("pyxa-vector-bench-{}-{n}-noflush", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut cfg = EdgeStoreConfig::new(&dir);
    cfg.durable_writes = false;
    let store = EdgeStore::open_with(cfg).await.expect("open");
    store.ensure_collection("bench", a.dim).await.expect("ensure");
    let mut rng = Rng(a.seed.wrapping_mul(1_000_003).wrapping_add(n as u64));
    let data = Data::new(n, a, &mut rng);
    let k = data.centers.len();
    let mut time = Duration::ZERO;
    let mut i = 0;
    while i < n {
        let batch: Vec<VectorPoint> = (i..(i + 1000).min(n)).map(|j| point(j, j % k, data.sample(j % k, &mut rng))).collect();
        let t = Instant::now();
        store.upsert(batch).await.expect("upsert");
        time += t.elapsed();
        i += 1000;
    }
    let t = Instant::now();
    store.flush().await.expect("flush");
    time += t.elapsed();
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
    n as f64 / time.as_secs_f64()
}

async fn bench_size(n: usize, a: &Args) -> Row {
    let upsert_noflush_pps = upsert_without_flush(n, a).await;
    let dir = a.dir.join(format!("pyxa-vector-bench-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut cfg = EdgeStoreConfig::new(&dir);
    cfg.indexing_threads = a.threads;
    cfg.index.hnsw_ef = a.ef;
    cfg.search_concurrency = 1;
    let store = EdgeStore::open_with(cfg.clone()).await.expect("open");
    store.ensure_collection("bench", a.dim).await.expect("ensure");

    let mut rng = Rng(a.seed.wrapping_mul(1_000_003).wrapping_add(n as u64));
    let data = Data::new(n, a, &mut rng);
    let k = data.centers.len();

    // Upsert in batches of 1,000 (generation not timed).
    let mut upsert_time = Duration::ZERO;
    let mut i = 0;
    while i < n {
        let batch: Vec<VectorPoint> = (i..(i + 1000).min(n)).map(|j| point(j, j % k, data.sample(j % k, &mut rng))).collect();
        let t = Instant::now();
        store.upsert(batch).await.expect("upsert");
        upsert_time += t.elapsed();
        i += 1000;
    }
    let upsert_pps = n as f64 / upsert_time.as_secs_f64();

    // Single-point durable upserts (replacing existing points): what one ingest call costs.
    let mut single = Vec::new();
    for j in 0..20 {
        let p = point(j, j % k, data.sample(j % k, &mut rng));
        let t = Instant::now();
        store.upsert(vec![p]).await.expect("upsert");
        single.push(t.elapsed().as_secs_f64() * 1e3);
    }
    single.sort_by(f64::total_cmp);

    // 8 concurrent writers of single points: flushes are shared (group commit).
    let store = std::sync::Arc::new(store);
    let t = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..8usize {
        let store = store.clone();
        let pts: Vec<VectorPoint> = (0..25)
            .map(|j| {
                let id = 100 + w * 25 + j;
                point(id, id % k, data.sample(id % k, &mut rng))
            })
            .collect();
        tasks.push(tokio::spawn(async move {
            for p in pts {
                store.upsert(vec![p]).await.expect("upsert");
            }
        }));
    }
    for task in tasks {
        task.await.expect("writer");
    }
    let concurrent_single_pps = 200.0 / t.elapsed().as_secs_f64();
    let store = std::sync::Arc::into_inner(store).expect("no other owner");

    let queries: Vec<Vec<f32>> = (0..a.queries).map(|q| data.sample(q % k, &mut rng)).collect();
    let label = |q: usize| PayloadFilter { label: Some(format!("l{}", q % k)), ..Default::default() };

    // Before optimize: everything is an exact scan of plain segments.
    let (plain, _) = run_queries(&store, &queries, false, |_| PayloadFilter::default()).await;

    let t = Instant::now();
    store.optimize("bench").await.expect("optimize");
    let optimize_s = t.elapsed().as_secs_f64();

    let (exact, truth) = run_queries(&store, &queries, true, |_| PayloadFilter::default()).await;
    let (indexed, got) = run_queries(&store, &queries, false, |_| PayloadFilter::default()).await;
    let (_, ftruth) = run_queries(&store, &queries, true, label).await;
    let (filtered, fgot) = run_queries(&store, &queries, false, label).await;
    let stats = store.stats("bench").await.expect("stats");
    drop(store);

    let t = Instant::now();
    let store = EdgeStore::open_with(cfg).await.expect("reopen");
    let count = store.count("bench", &PayloadFilter::default()).await.expect("count");
    let reopen_s = t.elapsed().as_secs_f64();
    assert_eq!(count, n, "points after reopen");
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);

    Row {
        n,
        upsert_pps,
        upsert_noflush_pps,
        single_upsert_ms: percentile(&single, 0.5),
        concurrent_single_pps,
        plain,
        optimize_s,
        exact,
        indexed,
        recall10: recall(&truth, &got),
        filtered,
        filtered_recall10: recall(&ftruth, &fgot),
        disk_mb: stats.disk_bytes as f64 / 1e6,
        wal_mb: stats.wal_bytes as f64 / 1e6,
        reopen_s,
        indexed_vectors: stats.indexed_vectors,
        segments: stats.segments,
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let a = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("vector-bench: {e}");
            std::process::exit(2);
        }
    };
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    println!(
        "EdgeStore (qdrant-edge 0.7.2) | dim {} | {} queries, top-10, 1 thread | clusters of {} (spread {}) | cores {} | HNSW m=16 ef_construct=100{} | build threads {}",
        a.dim,
        a.queries,
        a.clusters_per,
        a.spread,
        cores,
        a.ef.map(|e| format!(" ef={e}")).unwrap_or_default(),
        if a.threads == 0 { "auto".to_string() } else { a.threads.to_string() },
    );
    let started = Instant::now();
    let mut rows = Vec::new();
    for &n in &a.sizes {
        let row = bench_size(n, &a).await;
        eprintln!("  N={n} done after {:.1} s", started.elapsed().as_secs_f64());
        rows.push(row);
    }
    println!();
    println!("| N | upsert (points/s, batches of 1k, each flushed) | upsert, no flush until the end (points/s) | single-point upsert p50 (ms) | single-point upserts, 8 writers (points/s) | optimize (s) | exact scan before optimize p50/p99 (ms) | exact after optimize p50/p99 (ms), QPS | indexed p50/p99 (ms) | indexed QPS | recall@10 | filtered (1 label) indexed p50/p99 (ms), recall@10 | disk / WAL (MB) | reopen (s) |");
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for r in &rows {
        println!(
            "| {} | {:.0} | {:.0} | {:.1} | {:.0} | {:.1} | {:.2} / {:.2} | {:.2} / {:.2}, {:.0} | {:.2} / {:.2} | {:.0} | {:.3} | {:.2} / {:.2}, {:.3} | {:.0} / {:.0} | {:.2} |",
            r.n,
            r.upsert_pps,
            r.upsert_noflush_pps,
            r.single_upsert_ms,
            r.concurrent_single_pps,
            r.optimize_s,
            r.plain.p50,
            r.plain.p99,
            r.exact.p50,
            r.exact.p99,
            r.exact.qps,
            r.indexed.p50,
            r.indexed.p99,
            r.indexed.qps,
            r.recall10,
            r.filtered.p50,
            r.filtered.p99,
            r.filtered_recall10,
            r.disk_mb,
            r.wal_mb,
            r.reopen_s,
        );
    }
    for r in &rows {
        println!("N={}: {} segments, {} vectors in HNSW after optimize", r.n, r.segments, r.indexed_vectors);
    }
    println!("total {:.1} s", started.elapsed().as_secs_f64());
}
