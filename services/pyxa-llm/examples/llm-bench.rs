//! Local-model throughput: prompt tokens/s, generated tokens/s and the time to score 10
//! candidate answers.
//!
//! `cargo run --release -p pyxa-llm --example llm-bench -- [MODEL.gguf] [--threads N] [--runs N]`
//! (the model defaults to `$PYXA_TEST_GGUF`).

use std::sync::{Arc, Mutex};
use std::time::Instant;

use pyxa_core::{ChatMessage, GenerationRequest, Generator};
use pyxa_llm::{LocalConfig, LocalGenerator};

const CONTEXT: &str = "Context: Image analysis of the uploaded photo: top labels = tiger cat (0.39), Egyptian cat \
                       (0.36), tabby cat (0.17). Zero-shot: 'a cat' 1.00, 'a dog' 0.00.\n\nQuestion: This is an animal, \
                       what is it? Then describe such an animal in a few sentences.";

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut args = std::env::args().skip(1);
    let mut path = std::env::var("PYXA_TEST_GGUF").ok();
    let (mut threads, mut runs) = (1usize, 3usize);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--threads" => threads = args.next().and_then(|v| v.parse().ok()).expect("--threads N"),
            "--runs" => runs = args.next().and_then(|v| v.parse().ok()).expect("--runs N"),
            other => path = Some(other.to_owned()),
        }
    }
    let path = path.expect("usage: llm-bench MODEL.gguf [--threads N] [--runs N] (or set PYXA_TEST_GGUF)");

    let t = Instant::now();
    let g = LocalGenerator::load(&path, LocalConfig { threads, ..LocalConfig::default() }).expect("load");
    println!("model {} loaded in {:.2} s, threads {threads}", g.info().model, t.elapsed().as_secs_f64());

    let messages = |run: usize| {
        vec![
            // A different first line per run, so that no run reuses the previous prompt's cache.
            ChatMessage::system(format!(
                "Session {run}. You are a helpful assistant. Answer the question using only the context."
            )),
            ChatMessage::user(CONTEXT),
        ]
    };
    // Warm-up (page in the weights).
    let _ = g.generate(GenerationRequest { messages: messages(999), max_tokens: 4, temperature: 0.0 }, None).await.unwrap();

    let (mut p_tok, mut p_s, mut g_tok, mut g_s) = (0usize, 0f64, 0usize, 0f64);
    for run in 0..runs {
        let first: Arc<Mutex<Option<Instant>>> = Arc::default();
        let f = first.clone();
        let start = Instant::now();
        let out = g
            .generate(
                GenerationRequest { messages: messages(run), max_tokens: 128, temperature: 0.0 },
                Some(Box::new(move |_| {
                    f.lock().unwrap().get_or_insert_with(Instant::now);
                    true
                })),
            )
            .await
            .unwrap();
        let end = Instant::now();
        let first = first.lock().unwrap().expect("no token");
        // Time to the first piece = prompt evaluation (+ one sampling step).
        let prompt_s = (first - start).as_secs_f64();
        let gen_s = (end - first).as_secs_f64();
        println!(
            "run {run}: prompt {} tok in {:.3} s ({:.1} tok/s); generated {} tok in {:.3} s after the first ({:.1} tok/s)",
            out.prompt_tokens,
            prompt_s,
            out.prompt_tokens as f64 / prompt_s,
            out.completion_tokens,
            gen_s,
            (out.completion_tokens.saturating_sub(1)) as f64 / gen_s
        );
        p_tok += out.prompt_tokens;
        p_s += prompt_s;
        g_tok += out.completion_tokens.saturating_sub(1);
        g_s += gen_s;
    }
    println!("mean: prompt {:.1} tok/s, generation {:.1} tok/s", p_tok as f64 / p_s, g_tok as f64 / g_s);

    let candidates: Vec<String> = [
        "a cat",
        "a dog",
        "a rocket",
        "a cup of coffee",
        "a horse",
        "a motorcycle",
        "an astronaut",
        "a camera",
        "a tiger",
        "a bird",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    // Cold: a prompt not in the cache. Warm: the same prompt again (only the candidates run).
    for (label, msgs) in [("cold prompt", messages(runs + 1)), ("warm prompt", messages(runs + 1))] {
        let t = Instant::now();
        let scores = g.score(msgs, candidates.clone()).await.unwrap();
        let secs = t.elapsed().as_secs_f64();
        let best = scores.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).map(|(i, _)| candidates[i].as_str()).unwrap();
        println!("score 10 candidates ({label}): {:.3} s, best {best:?}", secs);
    }
}
