//! `pyxa bench load`: many clients at once against the real HTTP app on a loopback port, with
//! the stores and models `serve` uses, a mix of what users do (photo and text questions, search,
//! listing, uploads, health). Prints throughput, latency percentiles per operation, responses by
//! status (every 5xx is a failure, every 429/503 must carry Retry-After) and the process's RSS
//! over time.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Result;
use serde_json::json;

use super::bench::{labelled_photos, memory_mib, percentile_ms};
use crate::bootstrap::App;
use crate::config::{BenchArgs, CommonArgs};
use crate::http::{AppState, HttpLimits};

/// What one client does, in turn (a client's i-th request is `MIX[i % MIX.len()]`).
const MIX: [Op; 10] = [
    Op::AskPhoto,
    Op::Search,
    Op::AskPhoto,
    Op::AskText,
    Op::ListItems,
    Op::AskPhoto,
    Op::Search,
    Op::AddItem,
    Op::AskText,
    Op::Health,
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Op {
    AskPhoto,
    AskText,
    Search,
    ListItems,
    AddItem,
    Health,
}

/// Questions that are not "what is this?", in both languages.
const TEXT_QUESTIONS: [&str; 4] =
    ["What animals are in the collection?", "办公室里有什么？", "Is there a photo of a rocket?", "咖啡是什么颜色的？"];

#[derive(Default)]
struct Tally {
    latencies: BTreeMap<Op, Vec<Duration>>,
    statuses: BTreeMap<u16, usize>,
    transport_errors: BTreeMap<String, usize>,
    retry_without_header: usize,
}

fn rss_mib() -> f64 {
    memory_mib("VmRSS")
}

pub async fn load(common: &CommonArgs, args: &BenchArgs) -> Result<()> {
    let (data, photos, kb) = labelled_photos(common, args, "pyxa-bench-load").await?;
    let generator = crate::bootstrap::open_generator(common, &args.generator).await?;
    let with_llm = generator.is_some();
    let settings = pyxa_engine::AnswerSettings { max_answer_tokens: args.generator.max_answer_tokens, ..Default::default() };
    let state =
        AppState { app: App::new(kb.clone(), generator, settings), limits: HttpLimits::default(), auth: Default::default() };
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let server = crate::http::run(state, listener, 2)?;
    let handle = server.handle();
    tokio::spawn(server);

    let clients = args.clients.max(1);
    let warm_up = Duration::from_secs_f64((args.seconds / 6.0).clamp(1.0, 10.0));
    println!(
        "pyxa bench load: {clients} clients for {} s after {} s of warm-up, {} photos, generator: {}",
        args.seconds,
        warm_up.as_secs(),
        photos.len(),
        if with_llm { "local LLM" } else { "none (candidates only)" }
    );
    let rss_at_setup = rss_mib();
    let bytes: Arc<Vec<Vec<u8>>> = Arc::new(photos.iter().map(std::fs::read).collect::<Result<_, _>>()?);
    let client = reqwest::Client::builder().timeout(Duration::from_secs(180)).build()?;
    let base = format!("http://{addr}");

    // Warm-up with the same load, not counted: caches, the KV cache, the allocator's pools.
    run_clients(&client, &base, &bytes, clients, warm_up, &Arc::new(Mutex::new(Tally::default())), 1_000_000).await;
    let rss_start = rss_mib();
    let tally = Arc::new(Mutex::new(Tally::default()));
    let started = Instant::now();
    let samples = Arc::new(Mutex::new(Vec::new()));
    let sampling = {
        let samples = samples.clone();
        let every = Duration::from_secs_f64((args.seconds / 12.0).max(1.0));
        tokio::spawn(async move {
            let t0 = Instant::now();
            loop {
                tokio::time::sleep(every).await;
                samples.lock().unwrap().push((t0.elapsed().as_secs_f64(), rss_mib()));
            }
        })
    };
    run_clients(&client, &base, &bytes, clients, Duration::from_secs_f64(args.seconds), &tally, 0).await;
    let wall = started.elapsed();
    sampling.abort();
    let rss_end = rss_mib();
    handle.stop(true).await;

    let tally = std::mem::take(&mut *tally.lock().unwrap());
    let total: usize = tally.statuses.values().sum();
    println!("\n{:<12} {:>8} {:>10} {:>10} {:>10}", "operation", "requests", "p50 ms", "p99 ms", "max ms");
    let mut all = Vec::new();
    for (op, lat) in &tally.latencies {
        let mut lat = lat.clone();
        lat.sort();
        println!(
            "{:<12} {:>8} {:>10.1} {:>10.1} {:>10.1}",
            format!("{op:?}"),
            lat.len(),
            percentile_ms(&lat, 0.5),
            percentile_ms(&lat, 0.99),
            lat.last().map_or(0.0, |d| d.as_secs_f64() * 1e3)
        );
        all.extend(lat);
    }
    all.sort();
    println!(
        "{:<12} {:>8} {:>10.1} {:>10.1} {:>10.1}",
        "all",
        all.len(),
        percentile_ms(&all, 0.5),
        percentile_ms(&all, 0.99),
        all.last().map_or(0.0, |d| d.as_secs_f64() * 1e3)
    );
    println!("\nthroughput: {:.1} requests/s ({total} in {:.1} s)", total as f64 / wall.as_secs_f64(), wall.as_secs_f64());
    let by_status: Vec<String> = tally.statuses.iter().map(|(s, n)| format!("{s}: {n}")).collect();
    println!("responses by status: {}", by_status.join(", "));
    let server_errors: usize = tally.statuses.iter().filter(|(s, _)| **s >= 500).map(|(_, n)| n).sum();
    println!(
        "5xx: {server_errors}; 429/503 without Retry-After: {}; transport errors: {:?}",
        tally.retry_without_header, tally.transport_errors
    );
    println!(
        "the run took {:.1} s: requests started in the {} s window are answered after it too",
        wall.as_secs_f64(),
        args.seconds
    );
    let timeline: Vec<String> = samples.lock().unwrap().iter().map(|(t, m)| format!("{t:.0}s {m:.0}")).collect();
    println!("RSS MiB: setup {rss_at_setup:.0}, after warm-up {rss_start:.0}, then {}, end {rss_end:.0}", timeline.join(", "));
    println!("RSS at the end vs after warm-up: {:+.1}%", (rss_end / rss_start - 1.0) * 100.0);

    drop(kb);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let _ = std::fs::remove_dir_all(&data);
    Ok(())
}

/// `clients` tasks, each sending the mix in turn for `duration`; `seed` shifts what they send
/// (the warm-up adds other items than the measured run).
async fn run_clients(
    client: &reqwest::Client,
    base: &str,
    photos: &Arc<Vec<Vec<u8>>>,
    clients: usize,
    duration: Duration,
    tally: &Arc<Mutex<Tally>>,
    seed: usize,
) {
    let deadline = Instant::now() + duration;
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (client, base, photos, tally) = (client.clone(), base.to_string(), photos.clone(), tally.clone());
        tasks.push(tokio::spawn(async move {
            let mut i = c;
            while Instant::now() < deadline {
                let op = MIX[i % MIX.len()];
                let t = Instant::now();
                let res = send(&client, &base, &photos, op, seed + i * clients + c).await;
                let elapsed = t.elapsed();
                let mut tally = tally.lock().unwrap();
                match res {
                    Ok((status, has_retry_after)) => {
                        *tally.statuses.entry(status).or_default() += 1;
                        if matches!(status, 429 | 503) && !has_retry_after {
                            tally.retry_without_header += 1;
                        }
                        tally.latencies.entry(op).or_default().push(elapsed);
                    }
                    Err(e) => {
                        let kind = if e.is_timeout() {
                            "timeout"
                        } else if e.is_connect() {
                            "connect"
                        } else {
                            "other"
                        };
                        *tally.transport_errors.entry(format!("{op:?} {kind}")).or_default() += 1;
                    }
                }
                drop(tally);
                i += 1;
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
}

/// One request; its status and whether it carried Retry-After.
async fn send(client: &reqwest::Client, base: &str, photos: &[Vec<u8>], op: Op, n: usize) -> reqwest::Result<(u16, bool)> {
    let req = match op {
        Op::AskPhoto => {
            let form = reqwest::multipart::Form::new()
                .text("prompt", if n.is_multiple_of(2) { "What is this?" } else { "这是什么？" })
                .part("image", reqwest::multipart::Part::bytes(photos[n % photos.len()].clone()).file_name("photo.png"));
            client.post(format!("{base}/v1/ask")).multipart(form)
        }
        Op::AskText => client.post(format!("{base}/v1/ask")).json(&json!({"prompt": TEXT_QUESTIONS[n % TEXT_QUESTIONS.len()]})),
        Op::Search => client.post(format!("{base}/v1/search")).json(&json!({"text": "a cat on a sofa", "top_k": 5})),
        Op::ListItems => client.get(format!("{base}/v1/collections/default/items?limit=20")),
        Op::AddItem => client
            .post(format!("{base}/v1/collections/default/items"))
            .json(&json!({"text": format!("Load test note {n}: the meeting room {n} is on floor {}.", n % 7), "label": "note"})),
        Op::Health => client.get(format!("{base}/health")),
    };
    let res = req.send().await?;
    let status = res.status().as_u16();
    let has_retry_after = res.headers().contains_key(reqwest::header::RETRY_AFTER);
    // Read the whole body: a client that reads it is what the server serves.
    res.bytes().await?;
    Ok((status, has_retry_after))
}
