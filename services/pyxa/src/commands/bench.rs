//! `pyxa bench`: comparable figures, printed with the baseline they compare against.
//! - `encoders`: images/s and texts/s at batch 1, batch 8 and with 8 concurrent callers,
//!   preprocessing apart, next to Python onnxruntime + PIL on the same ONNX files and photos.
//! - `ask`: /v1/ask latency p50/p99 at 1 and 8 concurrent clients, with and without generation,
//!   through the real HTTP app on a loopback port.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use pyxa_core::Encoder;
use pyxa_encoders::{preprocess, OnnxEncoder};
use serde_json::Value;

use crate::bootstrap::App;
use crate::config::{BenchArgs, CommonArgs};
use crate::http::{AppState, HttpLimits};

const BASELINE_PY: &str = include_str!("../../bench/baseline.py");

#[derive(Debug, Clone, Copy)]
struct Rate {
    per_s: f64,
    p50_ms: f64,
    p99_ms: f64,
}

fn summarize(mut lat: Vec<Duration>, items: usize, wall: Duration) -> Rate {
    lat.sort();
    Rate { per_s: items as f64 / wall.as_secs_f64(), p50_ms: percentile_ms(&lat, 0.5), p99_ms: percentile_ms(&lat, 0.99) }
}

/// The `q` quantile of sorted latencies, in milliseconds (0 for none).
pub(super) fn percentile_ms(sorted: &[Duration], q: f64) -> f64 {
    sorted.get(((sorted.len() as f64 * q) as usize).min(sorted.len().saturating_sub(1))).map_or(0.0, |d| d.as_secs_f64() * 1e3)
}

/// A memory figure of this process from /proc/self/status (`VmRSS`, `VmHWM`), in MiB.
pub(super) fn memory_mib(field: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.strip_prefix(field).is_some_and(|r| r.starts_with(':')))?
                .split_whitespace()
                .nth(1)?
                .parse::<f64>()
                .ok()
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

fn peak_rss_mib() -> f64 {
    memory_mib("VmHWM")
}

fn photos(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {} (run `pyxa models pull test-photos`)", dir.display()))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().and_then(|e| e.to_str()).is_some_and(|e| ["png", "jpg", "jpeg", "webp"].contains(&e)))
        .collect();
    out.sort();
    if out.is_empty() {
        bail!("no photos in {}", dir.display());
    }
    Ok(out)
}

pub async fn run(common: CommonArgs, args: BenchArgs) -> Result<()> {
    match args.what.as_str() {
        "encoders" => encoders(&common, &args).await,
        "ask" => ask(&common, &args).await,
        "load" => super::load::load(&common, &args).await,
        "vectors" => {
            bail!("the vector-store benchmark is its own binary: cargo run --release -p pyxa-vectors --bin vector-bench")
        }
        other => bail!("unknown benchmark {other:?}: encoders, ask, load or vectors"),
    }
}

/// Runs `op` from `callers` concurrent tasks for `seconds`; each call handles `per_call` items.
async fn measure<F, Fut>(seconds: f64, callers: usize, per_call: usize, op: F) -> Result<Rate>
where
    F: Fn(usize) -> Fut + Send + Sync + Clone + 'static,
    Fut: std::future::Future<Output = Result<()>> + Send,
{
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for caller in 0..callers {
        let op = op.clone();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut i = caller;
            while Instant::now() < deadline || lat.is_empty() {
                let t = Instant::now();
                op(i).await?;
                lat.push(t.elapsed());
                i += callers;
            }
            Ok::<_, anyhow::Error>(lat)
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await??);
    }
    let items = all.len() * per_call;
    Ok(summarize(all, items, started.elapsed()))
}

async fn encoders(common: &CommonArgs, args: &BenchArgs) -> Result<()> {
    let dir = args.photos.clone().unwrap_or_else(|| common.home().root.join("test-photos"));
    let photos = photos(&dir)?;
    let bytes: Arc<Vec<Vec<u8>>> = Arc::new(photos.iter().map(std::fs::read).collect::<Result<_, _>>()?);
    let encoder: Arc<OnnxEncoder> = crate::bootstrap::load_encoder(common).await?;
    let spec = encoder.bundle().manifest.image.preprocess.clone();
    let limits = preprocess::DecodeLimits::default();
    let s = args.seconds;

    // Preprocessing alone (decode + resize + crop + normalise), one thread.
    let prep = {
        let bytes = bytes.clone();
        let spec = spec.clone();
        tokio::task::spawn_blocking(move || {
            let deadline = Instant::now() + Duration::from_secs_f64(s / 2.0);
            let started = Instant::now();
            let mut lat = Vec::new();
            let mut i = 0;
            while Instant::now() < deadline || lat.is_empty() {
                let t = Instant::now();
                let img = preprocess::decode(&bytes[i % bytes.len()], limits)?;
                preprocess::to_views(&img.rgb, &spec)?;
                lat.push(t.elapsed());
                i += 1;
            }
            let n = lat.len();
            Ok::<_, pyxa_core::Error>(summarize(lat, n, started.elapsed()))
        })
        .await??
    };
    let tensors: Arc<Vec<Vec<Vec<f32>>>> = Arc::new(
        bytes
            .iter()
            .map(|b| preprocess::to_views(&preprocess::decode(b, limits)?.rgb, &spec))
            .collect::<pyxa_core::Result<_>>()?,
    );
    let enc = encoder.clone();
    let t = tensors.clone();
    let image_b1 = measure(s, 1, 1, move |i| {
        let (enc, t) = (enc.clone(), t.clone());
        async move { enc.infer_pixels(t[i % t.len()].clone()).await.map(|_| ()).map_err(Into::into) }
    })
    .await?;
    let enc = encoder.clone();
    let t = tensors.clone();
    let image_b8 = measure(s, 1, 8, move |i| {
        let (enc, t) = (enc.clone(), t.clone());
        async move {
            // Eight requests in flight at once: the inference thread takes them as one batch.
            let calls = (0..8).map(|k| enc.infer_pixels(t[(i + k) % t.len()].clone()));
            for r in futures::future::join_all(calls).await {
                r?;
            }
            Ok(())
        }
    })
    .await?;
    let enc = encoder.clone();
    let b = bytes.clone();
    let image_c8 = measure(s, 8, 1, move |i| {
        let (enc, b) = (enc.clone(), b.clone());
        async move { enc.encode_image(b[i % b.len()].clone()).await.map(|_| ()).map_err(Into::into) }
    })
    .await?;
    let enc = encoder.clone();
    let b = bytes.clone();
    let image_e2e = measure(s, 1, 1, move |i| {
        let (enc, b) = (enc.clone(), b.clone());
        async move { enc.encode_image(b[i % b.len()].clone()).await.map(|_| ()).map_err(Into::into) }
    })
    .await?;
    let texts: Arc<Vec<String>> =
        Arc::new((0..64).map(|k| format!("a photo of a thing number {k}, seen from the side")).collect());
    let enc = encoder.clone();
    let tx = texts.clone();
    let text_b1 = measure(s, 1, 1, move |i| {
        let (enc, tx) = (enc.clone(), tx.clone());
        async move { enc.encode_texts(vec![tx[i % tx.len()].clone()]).await.map(|_| ()).map_err(Into::into) }
    })
    .await?;
    let enc = encoder.clone();
    let tx = texts.clone();
    let text_b8 = measure(s, 1, 8, move |_| {
        let (enc, tx) = (enc.clone(), tx.clone());
        async move { enc.encode_texts(tx[..8].to_vec()).await.map(|_| ()).map_err(Into::into) }
    })
    .await?;
    let enc = encoder.clone();
    let tx = texts.clone();
    let text_c8 = measure(s, 8, 1, move |i| {
        let (enc, tx) = (enc.clone(), tx.clone());
        async move { enc.encode_texts(vec![tx[i % tx.len()].clone()]).await.map(|_| ()).map_err(Into::into) }
    })
    .await?;

    let baseline = if args.no_baseline {
        None
    } else {
        python_baseline(common, encoder.bundle().dir.as_path(), encoder.image_onnx(), &photos, s)?
    };
    let info = encoder.info();
    println!(
        "pyxa bench encoders: bundle {} (image {}), providers {:?}, {} ORT thread(s), {} photos from {}",
        info.bundle,
        info.image_precision,
        info.providers,
        common.encoder_threads,
        photos.len(),
        dir.display()
    );
    println!("{:<34} {:>10} {:>9} {:>9} | {:>12} {:>8}", "measure", "items/s", "p50 ms", "p99 ms", "python /s", "ratio");
    let row = |name: &str, r: Rate, key: Option<&str>| {
        let base = key.and_then(|k| baseline.as_ref().and_then(|b: &Value| b[k]["per_s"].as_f64()));
        match base {
            Some(bv) => {
                println!("{name:<34} {:>10.1} {:>9.2} {:>9.2} | {:>12.1} {:>7.2}x", r.per_s, r.p50_ms, r.p99_ms, bv, r.per_s / bv)
            }
            None => println!("{name:<34} {:>10.1} {:>9.2} {:>9.2} | {:>12} {:>8}", r.per_s, r.p50_ms, r.p99_ms, "-", "-"),
        }
    };
    row("preprocess (decode+resize+crop)", prep, Some("preprocess"));
    row("image inference, batch 1", image_b1, Some("image_batch1"));
    row("image inference, batch 8", image_b8, Some("image_batch8"));
    row("image end-to-end, 1 caller", image_e2e, Some("image_end_to_end"));
    row("image end-to-end, 8 callers", image_c8, None);
    row("text, batch 1", text_b1, Some("text_batch1"));
    row("text, batch 8", text_b8, Some("text_batch8"));
    row("text, 8 callers", text_c8, None);
    println!("peak RSS: {:.0} MiB", peak_rss_mib());
    if let Some(b) = &baseline {
        println!(
            "baseline: Python 3.11 onnxruntime {} + Pillow, same ONNX files and photos, same thread count",
            b["onnxruntime"].as_str().unwrap_or("?")
        );
    }
    Ok(())
}

/// Runs the Python onnxruntime + PIL pipeline in a throwaway venv under pyxa's home.
fn python_baseline(
    common: &CommonArgs,
    bundle: &Path,
    image_onnx: &str,
    photos: &[PathBuf],
    seconds: f64,
) -> Result<Option<Value>> {
    let venv = common.home().root.join("bench-venv");
    let py = venv.join("bin/python");
    if !py.is_file() {
        eprintln!("pyxa: creating the Python baseline environment at {}", venv.display());
        let ok = Command::new("python3").args(["-m", "venv"]).arg(&venv).status()?.success()
            && Command::new(&py)
                .args([
                    "-m",
                    "pip",
                    "install",
                    "-q",
                    "--disable-pip-version-check",
                    "onnxruntime==1.31.1",
                    "numpy==2.4.6",
                    "pillow==13.0.0",
                    "tokenizers==0.23.3",
                ])
                .status()?
                .success();
        if !ok {
            let _ = std::fs::remove_dir_all(&venv);
            eprintln!("pyxa: the Python baseline could not be installed; figures without it");
            return Ok(None);
        }
    }
    let script = venv.join("baseline.py");
    std::fs::write(&script, BASELINE_PY)?;
    let out = Command::new(&py)
        .arg(&script)
        .arg(bundle)
        .args(photos)
        .args(["--seconds", &seconds.to_string(), "--threads", &common.encoder_threads.to_string(), "--image-onnx", image_onnx])
        .output()?;
    if !out.status.success() {
        eprintln!("pyxa: the Python baseline failed: {}", String::from_utf8_lossy(&out.stderr));
        return Ok(None);
    }
    Ok(Some(serde_json::from_slice(&out.stdout)?))
}

async fn ask(common: &CommonArgs, args: &BenchArgs) -> Result<()> {
    let (data, photos, kb) = labelled_photos(common, args, "pyxa-bench-ask").await?;
    let generator = crate::bootstrap::open_generator(common, &args.generator).await?;
    let encoder = kb.encoder.info();
    println!(
        "pyxa bench ask: {} photos in the collection, {} s per measurement, bundle {} (image {})",
        photos.len(),
        args.seconds,
        encoder.bundle,
        encoder.image_precision
    );
    // First, while the model's cache is empty and nothing else runs (as for llama-bench).
    if let (Some(generator), Some(gguf)) = (&generator, crate::bootstrap::local_gguf(common, &args.generator)?) {
        decode_speed(generator.as_ref(), &gguf, args.generator.llm_threads, &common.home().root).await?;
    }
    println!("{:<40} {:>9} {:>9} {:>9}", "measure", "asks/s", "p50 ms", "p99 ms");
    for (label, gen) in [("candidates only (no generation)", None), ("with generation", generator.clone())] {
        if label == "with generation" && gen.is_none() {
            continue;
        }
        let settings = pyxa_engine::AnswerSettings { max_answer_tokens: args.generator.max_answer_tokens, ..Default::default() };
        let state = AppState {
            app: App::new(kb.clone(), gen, settings),
            limits: HttpLimits { max_upload_bytes: 25 << 20, allow_remote_images: false, ..HttpLimits::default() },
            auth: Default::default(),
        };
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let server = crate::http::run(state, listener, 2)?;
        let handle = server.handle();
        tokio::spawn(server);
        let client = reqwest::Client::new();
        let bytes: Arc<Vec<Vec<u8>>> = Arc::new(photos.iter().map(std::fs::read).collect::<Result<_, _>>()?);
        for callers in [1usize, 8] {
            let (client, bytes) = (client.clone(), bytes.clone());
            let url = format!("http://{addr}/v1/ask");
            let rate = measure(args.seconds, callers, 1, move |i| {
                let (client, bytes, url) = (client.clone(), bytes.clone(), url.clone());
                async move {
                    // Each photo with each phrasing in turn: no ask repeats the one before it on
                    // the same photo, so the local LLM's cache holds the photo's evidence (as for
                    // a user asking more about a photo) but never the whole prompt.
                    let question = QUESTIONS[(i / bytes.len()) % QUESTIONS.len()];
                    let form = reqwest::multipart::Form::new()
                        .text("prompt", question)
                        .part("image", reqwest::multipart::Part::bytes(bytes[i % bytes.len()].clone()).file_name("p.png"));
                    let res = client.post(&url).multipart(form).send().await?;
                    if !res.status().is_success() {
                        bail!("ask failed: {}", res.text().await?);
                    }
                    Ok(())
                }
            })
            .await?;
            println!(
                "{:<40} {:>9.2} {:>9.1} {:>9.1}",
                format!("{label}, {callers} client(s)"),
                rate.per_s,
                rate.p50_ms,
                rate.p99_ms
            );
        }
        handle.stop(true).await;
    }
    println!("peak RSS: {:.0} MiB", peak_rss_mib());
    // Close the stores (Qdrant Edge flushes on drop) before removing their files.
    drop(generator);
    drop(kb);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let _ = std::fs::remove_dir_all(&data);
    Ok(())
}

/// The questions `bench ask` cycles through, English and Chinese.
const QUESTIONS: [&str; 8] = [
    "This is an animal, what is it?",
    "What is in this photo?",
    "这是什么？",
    "What animal is this?",
    "Can you tell me what this is?",
    "照片里是什么动物？",
    "What am I looking at?",
    "Which animal is in the picture?",
];

/// Tokens each decode measurement generates (llama-bench's `-n`).
const DECODE_TOKENS: usize = 64;

/// The local generator's decode speed (tokens/s from its first streamed token to its last, one
/// request alone) next to llama.cpp's own `llama-bench` on the same GGUF and threads, run right
/// after it.
async fn decode_speed(generator: &dyn pyxa_core::Generator, gguf: &Path, threads: usize, home: &Path) -> Result<()> {
    use pyxa_core::{ChatMessage, GenerationRequest};
    use std::sync::Mutex;
    let mut rates = Vec::new();
    for run in 0..3 {
        let times: Arc<Mutex<Vec<Instant>>> = Arc::default();
        let sink_times = times.clone();
        let request = GenerationRequest {
            messages: vec![ChatMessage::user(format!(
                "Run {run}. Count from one to two hundred in English words, separated by commas, and nothing else."
            ))],
            max_tokens: DECODE_TOKENS,
            temperature: 0.0,
        };
        let out = generator
            .generate(request, Some(Box::new(move |_| sink_times.lock().map(|mut t| t.push(Instant::now())).is_ok())))
            .await?;
        let times = times.lock().map(|t| t.clone()).unwrap_or_default();
        if let (Some(first), Some(last)) = (times.first(), times.last()) {
            // Pieces are whole characters, so count tokens, not pieces: the first token's time
            // includes the prompt, the rest is decoding.
            let secs = (*last - *first).as_secs_f64();
            if out.completion_tokens > 8 && secs > 0.0 {
                rates.push((out.completion_tokens - 1) as f64 / secs);
            }
        }
    }
    let pyxa = rates.iter().sum::<f64>() / rates.len().max(1) as f64;
    println!(
        "local LLM decode, 1 request, {threads} thread(s): pyxa {pyxa:.1} tokens/s ({} runs of {DECODE_TOKENS} tokens)",
        rates.len()
    );
    match llama_bench(gguf, threads, home)? {
        Some(reference) => println!(
            "  llama.cpp llama-bench tg{DECODE_TOKENS}, same GGUF and threads: {reference:.1} tokens/s -> pyxa at {:.0}%",
            100.0 * pyxa / reference
        ),
        None => println!(
            "  llama.cpp's llama-bench was not found: build it with scripts/llama-bench.sh (or set PYXA_LLAMA_BENCH) to compare"
        ),
    }
    Ok(())
}

/// `llama-bench -p 0 -n 64` on `gguf`: llama.cpp's own decode tokens/s (None without the binary).
fn llama_bench(gguf: &Path, threads: usize, home: &Path) -> Result<Option<f64>> {
    let binary =
        std::env::var_os("PYXA_LLAMA_BENCH").map(PathBuf::from).unwrap_or_else(|| home.join("tools").join("llama-bench"));
    if !binary.is_file() {
        return Ok(None);
    }
    let out = Command::new(&binary)
        .arg("-m")
        .arg(gguf)
        .args(["-t", &threads.to_string(), "-p", "0", "-n", &DECODE_TOKENS.to_string(), "-r", "3", "-o", "json"])
        .output()
        .with_context(|| format!("running {}", binary.display()))?;
    if !out.status.success() {
        bail!("{} failed: {}", binary.display(), String::from_utf8_lossy(&out.stderr));
    }
    let runs: Value = serde_json::from_slice(&out.stdout).context("llama-bench's JSON")?;
    Ok(runs.as_array().and_then(|r| r.first()).and_then(|r| r["avg_ts"].as_f64()))
}

/// A knowledge base in a fresh temp dir whose default collection holds the benchmark photos,
/// each labelled by its file name: the data dir, the photos and the knowledge base.
pub(super) async fn labelled_photos(
    common: &CommonArgs,
    args: &BenchArgs,
    prefix: &str,
) -> Result<(PathBuf, Vec<PathBuf>, pyxa_engine::KnowledgeBase)> {
    let dir = args.photos.clone().unwrap_or_else(|| common.home().root.join("test-photos"));
    let photos = photos(&dir)?;
    let data = tempdir(prefix)?;
    let mut stores = args.stores.clone();
    stores.data_dir = data.clone();
    let encoder = crate::bootstrap::load_encoder(common).await?;
    let kb = crate::bootstrap::open_knowledge_base(encoder, &stores, common.encoder_config().decode_limits).await?;
    for p in &photos {
        let label = p.file_stem().map(|s| s.to_string_lossy().into_owned());
        let _ =
            kb.add_item("default", pyxa_engine::ItemInput { image: Some(std::fs::read(p)?), label, ..Default::default() }).await;
    }
    kb.settle_text_reading().await;
    Ok((data, photos, kb))
}

fn tempdir(prefix: &str) -> Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("{prefix}-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
