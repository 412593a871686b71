//! Both generators: the OpenAI-compatible backend against a fake server started in-process,
//! and the local llama.cpp backend on a real GGUF (`PYXA_TEST_GGUF`, skipped when unset).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use pyxa_core::{ChatMessage, ErrorKind, GenerationRequest, Generator, TokenSink};
use pyxa_llm::{LocalConfig, LocalGenerator, OpenAiConfig, OpenAiGenerator};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

// ------------------------------------------------------------------ a fake OpenAI server

#[derive(Clone)]
enum Reply {
    /// 200 application/json with this assistant content.
    Json(String),
    /// 200 text/event-stream: the SSE text, written in pieces of this many bytes (so that
    /// characters are split across network writes).
    Sse(String, usize),
    /// Any status with this body.
    Status(u16, String),
    /// Wait before answering at all.
    Silent(Duration),
    /// Send the first SSE event, then stall.
    Stall(String, Duration),
}

struct Recorded {
    head: String,
    body: Value,
}

struct FakeServer {
    addr: SocketAddr,
    requests: Arc<Mutex<Vec<Recorded>>>,
}

impl FakeServer {
    async fn start(reply: Reply) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let rec = requests.clone();
        tokio::spawn(async move {
            while let Ok((conn, _)) = listener.accept().await {
                let (reply, rec) = (reply.clone(), rec.clone());
                tokio::spawn(async move {
                    let _ = serve(conn, reply, rec).await;
                });
            }
        });
        Self { addr, requests }
    }

    fn base(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    fn config(&self) -> OpenAiConfig {
        OpenAiConfig::new(self.base(), "fake-model")
    }
}

async fn serve(mut conn: TcpStream, reply: Reply, rec: Arc<Mutex<Vec<Recorded>>>) -> std::io::Result<()> {
    let mut buf = Vec::new();
    let mut tmp = [0u8; 4096];
    let head_end = loop {
        let n = conn.read(&mut tmp).await?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&tmp[..n]);
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break p + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let len: usize = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length").then(|| v.trim().parse().ok())?
        })
        .unwrap_or(0);
    while buf.len() < head_end + len {
        let n = conn.read(&mut tmp).await?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&tmp[..n]);
    }
    let body = serde_json::from_slice(&buf[head_end..]).unwrap_or(Value::Null);
    rec.lock().unwrap().push(Recorded { head, body });

    let chunked = |bytes: &[u8]| {
        let mut out = format!("{:x}\r\n", bytes.len()).into_bytes();
        out.extend_from_slice(bytes);
        out.extend_from_slice(b"\r\n");
        out
    };
    const SSE_HEAD: &str =
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
    match reply {
        Reply::Json(content) => {
            let body = serde_json::json!({
                "id": "x", "object": "chat.completion", "model": "fake-model",
                "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 12, "completion_tokens": 5, "total_tokens": 17}
            })
            .to_string();
            respond(&mut conn, 200, "application/json", &body).await?;
        }
        Reply::Status(code, body) => respond(&mut conn, code, "application/json", &body).await?,
        Reply::Silent(wait) => {
            tokio::time::sleep(wait).await;
            respond(&mut conn, 200, "application/json", "{}").await?;
        }
        Reply::Sse(text, piece) => {
            conn.write_all(SSE_HEAD.as_bytes()).await?;
            for part in text.as_bytes().chunks(piece) {
                conn.write_all(&chunked(part)).await?;
                conn.flush().await?;
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            conn.write_all(b"0\r\n\r\n").await?;
        }
        Reply::Stall(first, wait) => {
            conn.write_all(SSE_HEAD.as_bytes()).await?;
            conn.write_all(&chunked(first.as_bytes())).await?;
            conn.flush().await?;
            tokio::time::sleep(wait).await;
            conn.write_all(b"0\r\n\r\n").await?;
        }
    }
    conn.shutdown().await
}

async fn respond(conn: &mut TcpStream, code: u16, content_type: &str, body: &str) -> std::io::Result<()> {
    let head = format!(
        "HTTP/1.1 {code} X\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    conn.write_all(head.as_bytes()).await?;
    conn.write_all(body.as_bytes()).await
}

/// SSE text of a streamed answer made of `pieces`, with a usage chunk and `[DONE]`.
fn sse(pieces: &[&str]) -> String {
    let mut out = String::from(": keep-alive comment\n\n");
    out.push_str("data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\"}}]}\n\n");
    for p in pieces {
        let ev = serde_json::json!({"choices": [{"index": 0, "delta": {"content": p}, "finish_reason": null}]});
        out.push_str(&format!("data: {ev}\r\n\r\n"));
    }
    out.push_str("data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n");
    out.push_str("data: {\"choices\":[],\"usage\":{\"prompt_tokens\":21,\"completion_tokens\":4}}\n\n");
    out.push_str("data: [DONE]\n\n");
    out
}

fn request(q: &str) -> GenerationRequest {
    GenerationRequest { messages: vec![ChatMessage::system("Be brief."), ChatMessage::user(q)], max_tokens: 64, temperature: 0.0 }
}

/// A sink that records the pieces; returns false once `stop_after` pieces arrived.
fn recording_sink(stop_after: Option<usize>) -> (TokenSink, Arc<Mutex<Vec<String>>>) {
    let pieces = Arc::new(Mutex::new(Vec::new()));
    let p = pieces.clone();
    let sink: TokenSink = Box::new(move |s: &str| {
        let mut v = p.lock().unwrap();
        v.push(s.to_owned());
        stop_after.is_none_or(|n| v.len() < n)
    });
    (sink, pieces)
}

// ------------------------------------------------------------------ OpenAI-compatible backend

#[tokio::test]
async fn openai_non_streaming_sends_key_and_parses_answer() {
    let server = FakeServer::start(Reply::Json("This is a cat.".into())).await;
    let key = "sk-test-0123456789";
    let g = OpenAiGenerator::new(server.config().with_api_key(key)).unwrap();
    let out = g.generate(request("What is it?"), None).await.unwrap();
    assert_eq!(out.text, "This is a cat.");
    assert_eq!((out.prompt_tokens, out.completion_tokens), (12, 5));
    assert_eq!(g.info().backend, "openai");
    assert_eq!(g.info().model, "fake-model");

    let reqs = server.requests.lock().unwrap();
    assert_eq!(reqs.len(), 1);
    let r = &reqs[0];
    assert!(r.head.starts_with("POST /v1/chat/completions HTTP/1.1"), "{}", r.head);
    assert!(
        r.head.lines().any(|l| l.eq_ignore_ascii_case(&format!("authorization: Bearer {key}"))),
        "no bearer key in {}",
        r.head
    );
    assert_eq!(r.body["model"], "fake-model");
    assert_eq!(r.body["stream"], false);
    assert_eq!(r.body["max_tokens"], 64);
    assert_eq!(r.body["messages"][0]["role"], "system");
    assert_eq!(r.body["messages"][1]["role"], "user");
    assert_eq!(r.body["messages"][1]["content"], "What is it?");

    // The key never shows in Debug output.
    let dbg = format!("{:?} {:?}", server.config().with_api_key(key), g);
    assert!(!dbg.contains(key), "{dbg}");
    assert!(dbg.contains("<redacted>"));
}

#[tokio::test]
async fn openai_streaming_forwards_pieces_and_keeps_utf8_whole() {
    let pieces = ["你好，", "猫", "！ This is ", "a cat."];
    // 3-byte writes split most Chinese characters across network chunks.
    let server = FakeServer::start(Reply::Sse(sse(&pieces), 3)).await;
    let g = OpenAiGenerator::new(server.config()).unwrap();
    let (sink, got) = recording_sink(None);
    let out = g.generate(request("什么？"), Some(sink)).await.unwrap();
    assert_eq!(out.text, pieces.concat());
    assert_eq!(*got.lock().unwrap(), pieces);
    assert_eq!((out.prompt_tokens, out.completion_tokens), (21, 4));
    let reqs = server.requests.lock().unwrap();
    assert_eq!(reqs[0].body["stream"], true);
    assert_eq!(reqs[0].body["stream_options"]["include_usage"], true);
    assert_eq!(reqs[0].body["messages"][1]["content"], "什么？");
    assert!(!reqs[0].head.to_ascii_lowercase().contains("authorization"));
}

#[tokio::test]
async fn openai_streaming_stops_when_the_sink_says_so() {
    let server = FakeServer::start(Reply::Sse(sse(&["one ", "two ", "three"]), 64)).await;
    let g = OpenAiGenerator::new(server.config()).unwrap();
    let (sink, got) = recording_sink(Some(1));
    let out = g.generate(request("count"), Some(sink)).await.unwrap();
    assert_eq!(out.text, "one ");
    assert_eq!(got.lock().unwrap().len(), 1);

    // A server that just closes the stream (no `[DONE]`, no final newline) is fine too.
    let last = r#"data: {"choices":[{"index":0,"delta":{"content":"bye"}}]}"#;
    let server = FakeServer::start(Reply::Sse(format!("{}{last}", sse(&["hi "]).replace("data: [DONE]\n\n", "")), 5)).await;
    let g = OpenAiGenerator::new(server.config()).unwrap();
    let (sink, got) = recording_sink(None);
    let out = g.generate(request("q"), Some(sink)).await.unwrap();
    assert_eq!(out.text, "hi bye");
    assert_eq!(got.lock().unwrap().concat(), "hi bye");
}

#[tokio::test]
async fn openai_json_answer_to_a_streaming_request_still_reaches_the_sink() {
    let server = FakeServer::start(Reply::Json("whole answer".into())).await;
    let g = OpenAiGenerator::new(server.config()).unwrap();
    let (sink, got) = recording_sink(None);
    let out = g.generate(request("q"), Some(sink)).await.unwrap();
    assert_eq!(out.text, "whole answer");
    assert_eq!(*got.lock().unwrap(), vec!["whole answer".to_owned()]);
}

#[tokio::test]
async fn openai_401_is_auth_failed_without_leaking_the_key() {
    let key = "sk-secret-abcdef";
    let body = format!(r#"{{"error":{{"message":"Incorrect API key provided: {key}","type":"invalid_request_error"}}}}"#);
    let server = FakeServer::start(Reply::Status(401, body)).await;
    let g = OpenAiGenerator::new(server.config().with_api_key(key)).unwrap();
    let e = g.generate(request("q"), None).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Unavailable);
    assert_eq!(e.code, "llm_auth_failed");
    assert!(e.message.contains("Incorrect API key"), "{}", e.message);
    assert!(!e.message.contains(key), "{}", e.message);
}

#[tokio::test]
async fn openai_other_errors_map_to_stable_codes() {
    let server = FakeServer::start(Reply::Status(500, r#"{"error":{"message":"model 'fake-model' not loaded"}}"#.into())).await;
    let g = OpenAiGenerator::new(server.config()).unwrap();
    let e = g.generate(request("q"), None).await.unwrap_err();
    assert_eq!((e.kind, e.code.as_ref()), (ErrorKind::Unavailable, "llm_upstream_error"));
    assert!(e.message.contains("model 'fake-model' not loaded"), "{}", e.message);

    let server = FakeServer::start(Reply::Status(200, "this is not json".into())).await;
    let g = OpenAiGenerator::new(server.config()).unwrap();
    let e = g.generate(request("q"), None).await.unwrap_err();
    assert_eq!((e.kind, e.code.as_ref()), (ErrorKind::Unavailable, "llm_bad_response"));

    let server = FakeServer::start(Reply::Sse("data: {not json}\n\n".into(), 64)).await;
    let g = OpenAiGenerator::new(server.config()).unwrap();
    let (sink, _) = recording_sink(None);
    let e = g.generate(request("q"), Some(sink)).await.unwrap_err();
    assert_eq!(e.code, "llm_bad_response");

    let e = g.score(vec![ChatMessage::user("q")], vec!["a".into()]).await.unwrap_err();
    assert_eq!((e.kind, e.code.as_ref()), (ErrorKind::Unavailable, "scoring_unsupported"));

    let e = OpenAiGenerator::new(OpenAiConfig::new("127.0.0.1:11434/v1", "m")).unwrap_err();
    assert_eq!((e.kind, e.code.as_ref()), (ErrorKind::Setup, "llm_config_invalid"));
}

#[tokio::test]
async fn openai_unreachable_server_is_unavailable() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let g = OpenAiGenerator::new(OpenAiConfig::new(format!("http://127.0.0.1:{port}/v1"), "m")).unwrap();
    let e = g.generate(request("q"), None).await.unwrap_err();
    assert_eq!((e.kind, e.code.as_ref()), (ErrorKind::Unavailable, "llm_unavailable"), "{}", e.message);
}

#[tokio::test]
async fn openai_slow_server_times_out() {
    let server = FakeServer::start(Reply::Silent(Duration::from_secs(5))).await;
    let mut config = server.config();
    config.timeout = Duration::from_millis(400);
    let g = OpenAiGenerator::new(config.clone()).unwrap();
    let started = Instant::now();
    let e = g.generate(request("q"), None).await.unwrap_err();
    assert_eq!((e.kind, e.code.as_ref()), (ErrorKind::Timeout, "llm_timeout"), "{}", e.message);
    assert!(started.elapsed() < Duration::from_secs(3));

    // A stream that stalls half-way also times out.
    let first = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel\"}}]}\n\n";
    let server = FakeServer::start(Reply::Stall(first.into(), Duration::from_secs(5))).await;
    let mut config = server.config();
    config.timeout = Duration::from_millis(400);
    let g = OpenAiGenerator::new(config).unwrap();
    let (sink, got) = recording_sink(None);
    let e = g.generate(request("q"), Some(sink)).await.unwrap_err();
    assert_eq!((e.kind, e.code.as_ref()), (ErrorKind::Timeout, "llm_timeout"), "{}", e.message);
    assert_eq!(*got.lock().unwrap(), vec!["Hel".to_owned()]);
}

// ------------------------------------------------------------------ local llama.cpp backend

const SYSTEM: &str = "You are a helpful assistant. Answer the question using only the context. Be brief.";
const CONTEXT: &str = "Context: Image analysis of the uploaded photo: top labels = tiger cat (0.39), Egyptian cat \
                       (0.36), tabby cat (0.17). Zero-shot: 'a cat' 1.00, 'a dog' 0.00.\n\nQuestion: This is an animal, \
                       what is it?";

fn gguf() -> Option<String> {
    let path = std::env::var("PYXA_TEST_GGUF").ok().filter(|p| !p.is_empty());
    if path.is_none() {
        println!("PYXA_TEST_GGUF is not set: skipping the local-model test");
    }
    path
}

/// One model for every test of this binary (they run in one process, on one worker thread).
fn local() -> Option<&'static LocalGenerator> {
    static MODEL: OnceLock<Option<LocalGenerator>> = OnceLock::new();
    MODEL
        .get_or_init(|| {
            let path = gguf()?;
            let started = Instant::now();
            // One slot: the tests of this binary run at once, and the determinism checks below
            // compare answers decoded alone.
            let g = LocalGenerator::load(&path, LocalConfig { parallel: 1, ..LocalConfig::default() }).expect("load the GGUF");
            println!("loaded {path} in {:?}", started.elapsed());
            Some(g)
        })
        .as_ref()
}

fn animal_question() -> Vec<ChatMessage> {
    vec![ChatMessage::system(SYSTEM), ChatMessage::user(CONTEXT)]
}

#[tokio::test]
async fn local_answers_from_the_context_and_streams() {
    let Some(g) = local() else { return };
    assert_eq!(g.info().backend, "llama.cpp");
    let (sink, pieces) = recording_sink(None);
    let req = GenerationRequest { messages: animal_question(), max_tokens: 48, temperature: 0.0 };
    let started = Instant::now();
    let out = g.generate(req.clone(), Some(sink)).await.unwrap();
    println!("answer {:?} ({} prompt + {} tokens, {:?})", out.text, out.prompt_tokens, out.completion_tokens, started.elapsed());
    assert!(out.text.to_lowercase().contains("cat"), "{:?}", out.text);
    assert_eq!(pieces.lock().unwrap().concat(), out.text);
    assert!(out.prompt_tokens > 50 && out.completion_tokens > 0);
    assert!(out.completion_tokens <= 48);

    // Greedy decoding is deterministic, with or without a sink (and with a warm KV cache).
    let again = g.generate(req, None).await.unwrap();
    assert_eq!(again.text, out.text);
}

#[tokio::test]
async fn local_scoring_prefers_the_right_answer() {
    let Some(g) = local() else { return };
    let candidates: Vec<String> = ["a cat", "a rocket", "a dog", "a cup of coffee"].iter().map(|s| s.to_string()).collect();
    let started = Instant::now();
    let scores = g.score(animal_question(), candidates.clone()).await.unwrap();
    println!("scores {:?} in {:?}", candidates.iter().zip(&scores).collect::<Vec<_>>(), started.elapsed());
    assert_eq!(scores.len(), 4);
    assert!(scores.iter().all(|s| s.is_finite() && *s < 0.0), "{scores:?}");
    assert!(scores[0] > scores[1], "a cat {} <= a rocket {}", scores[0], scores[1]);
    assert!(scores[0] > scores[3], "a cat {} <= a cup of coffee {}", scores[0], scores[3]);

    // The same numbers with a warm prompt cache (the prompt is now cached) and in another order:
    // a cold and a warm cache must reach the answer the same way.
    let again = g.score(animal_question(), vec![candidates[1].clone(), candidates[0].clone()]).await.unwrap();
    assert!((again[0] - scores[1]).abs() < 1e-6 && (again[1] - scores[0]).abs() < 1e-6, "{again:?} vs {scores:?}");
}

#[tokio::test]
async fn local_chinese_round_trips_through_the_sink() {
    let Some(g) = local() else { return };
    let req = GenerationRequest {
        messages: vec![
            ChatMessage::system("Repeat the user's message exactly, with nothing else."),
            ChatMessage::user("你好，世界。这是一只猫。"),
        ],
        max_tokens: 48,
        temperature: 0.0,
    };
    let (sink, pieces) = recording_sink(None);
    let out = g.generate(req, Some(sink)).await.unwrap();
    let pieces = pieces.lock().unwrap().clone();
    println!("chinese answer {:?} in {} pieces: {pieces:?}", out.text, pieces.len());
    assert_eq!(pieces.concat(), out.text);
    assert!(!out.text.contains('\u{FFFD}'), "broken UTF-8 in {:?}", out.text);
    assert!(out.text.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)), "no Chinese in {:?}", out.text);
    // Byte-level BPE splits CJK characters over several tokens: fewer pieces than tokens.
    assert!(pieces.len() <= out.completion_tokens);
}

#[tokio::test]
async fn local_stops_when_the_sink_says_so() {
    let Some(g) = local() else { return };
    let (sink, pieces) = recording_sink(Some(2));
    let req = GenerationRequest {
        messages: vec![ChatMessage::user("Write a long story about a cat and a dog.")],
        max_tokens: 200,
        temperature: 0.7,
    };
    let out = g.generate(req, Some(sink)).await.unwrap();
    let pieces = pieces.lock().unwrap().clone();
    assert_eq!(pieces.len(), 2);
    assert_eq!(pieces.concat(), out.text);
    assert!(out.completion_tokens < 10, "{}", out.completion_tokens);
}

#[tokio::test]
async fn local_requests_arriving_together_are_decoded_together_with_the_answers_they_get_alone() {
    let Some(path) = gguf() else { return };
    let g = LocalGenerator::load(&path, LocalConfig { parallel: 4, ..LocalConfig::default() }).unwrap();
    let questions = [
        "What is the capital of France?",
        "Name three colours of the rainbow.",
        "What do cats like to eat?",
        "你好，请介绍一下你自己。",
        "What is two plus two?",
        "Write one sentence about the sea.",
    ];
    let request = |q: &str, max_tokens| GenerationRequest {
        messages: vec![ChatMessage::system("You are a helpful assistant. Answer briefly."), ChatMessage::user(q)],
        max_tokens,
        temperature: 0.0,
    };
    // Different lengths, so requests finish at different steps and later ones join running ones.
    let alone: Vec<_> = {
        let mut out = Vec::new();
        for (k, q) in questions.iter().enumerate() {
            out.push(g.generate(request(q, 12 + 6 * k), None).await.unwrap());
        }
        out
    };
    let steps_alone = g.stats().steps();
    assert_eq!(g.stats().widest_step(), 1, "requests sent one by one were decoded together");

    let together =
        futures::future::join_all(questions.iter().enumerate().map(|(k, q)| g.generate(request(q, 12 + 6 * k), None))).await;
    let stats = g.stats();
    println!(
        "alone {steps_alone} steps; together {} steps, widest {}, {:.2} sequences per step",
        stats.steps() - steps_alone,
        stats.widest_step(),
        stats.sequences() as f64 / stats.steps() as f64
    );
    assert_eq!(stats.widest_step(), 4, "6 requests on 4 slots never filled them");
    assert!(stats.steps() - steps_alone < steps_alone, "batching took as many steps as one by one");
    // llama.cpp's sums depend slightly on the batch's shape, so a long greedy answer may drift
    // after a while (as in llama-server); a sequence mixed up with another would differ from its
    // first words.
    for ((q, a), t) in questions.iter().zip(&alone).zip(together) {
        let t = t.unwrap();
        let same = a.text.chars().zip(t.text.chars()).take_while(|(x, y)| x == y).count();
        assert!(same >= a.text.chars().count().min(24), "{q}: alone {:?}, together {:?}", a.text, t.text);
        assert!(t.completion_tokens <= 12 + 6 * questions.len());
    }
}

#[tokio::test]
async fn local_queue_overflow_and_long_prompts_are_refused() {
    let Some(path) = gguf() else { return };
    let config = LocalConfig { queue_capacity: 1, context_size: 256, parallel: 1, ..LocalConfig::default() };
    let g = LocalGenerator::load(&path, config).unwrap();
    assert_eq!(g.context_size(), 256);

    let long = "cat ".repeat(400);
    let e = g
        .generate(GenerationRequest { messages: vec![ChatMessage::user(long)], max_tokens: 8, temperature: 0.0 }, None)
        .await
        .unwrap_err();
    assert_eq!((e.kind, e.code.as_ref()), (ErrorKind::InvalidInput, "prompt_too_long"));

    let req = GenerationRequest { messages: vec![ChatMessage::user("Tell me about cats.")], max_tokens: 64, temperature: 0.0 };
    let (a, b, c) = tokio::join!(g.generate(req.clone(), None), g.generate(req.clone(), None), g.generate(req, None));
    let errors: Vec<_> = [a, b, c].into_iter().filter_map(Result::err).collect();
    assert!(!errors.is_empty(), "a queue of 1 took 3 requests");
    assert!(errors.iter().all(|e| e.kind == ErrorKind::Overloaded), "{errors:?}");

    let e = LocalGenerator::load("/nonexistent/model.gguf", LocalConfig::default()).unwrap_err();
    assert_eq!((e.kind, e.code.as_ref()), (ErrorKind::Setup, "llm_model_missing"));
}
