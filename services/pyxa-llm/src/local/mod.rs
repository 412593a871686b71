//! A local GGUF chat model run in-process by llama.cpp (`llama-cpp-2`).
//!
//! Design: one `LlamaBackend` per process (a process-wide once-cell: llama.cpp must not be
//! initialised twice, and `cargo test` runs every test in one process). Each [`LocalGenerator`]
//! owns ONE dedicated OS thread that loads the model and owns the llama context; requests reach
//! it through a bounded tokio channel (full -> `overloaded`), so the async runtime never blocks
//! on inference. Up to `parallel` requests are decoded together (continuous batching: one
//! `llama_decode` per step carries the next token of each, and a new request joins at the next
//! step). Each slot keeps its KV cache after its request: a request that shares a prefix with
//! any slot's cache (same system prompt, same evidence, `score` right after `generate` on the
//! same messages) only evaluates the new tokens.

mod engine;
mod generate;
mod score;
mod template;
mod worker;

use pyxa_core::ErrorCode;
use std::path::Path;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use async_trait::async_trait;
use llama_cpp_2::llama_backend::LlamaBackend;
use llama_cpp_2::LogOptions;
use pyxa_core::{ChatMessage, Error, Generation, GenerationRequest, Generator, GeneratorInfo, Result, TokenSink};
use tokio::sync::{mpsc, oneshot};

/// Settings of a [`LocalGenerator`].
#[derive(Debug, Clone)]
pub struct LocalConfig {
    /// llama.cpp compute threads (prompt and generation). Default 1: llama.cpp's threads
    /// spin-wait, and on a small, busy machine 2 threads measured 15x slower than 1. Raise it only
    /// for cores that are really free (and never let it fight ONNX Runtime's pool).
    pub threads: usize,
    /// Context window in tokens (prompt + answer); capped at the model's training context.
    pub context_size: u32,
    /// Tokens evaluated per `llama_decode` call for prompts.
    pub batch_size: u32,
    /// Requests decoded together (continuous batching): each holds a slot, i.e. a sequence
    /// of its own in the KV cache, which is `parallel` x `context_size` cells.
    pub parallel: usize,
    /// Requests that may wait for a free slot; beyond that `generate`/`score` fail with
    /// `ErrorKind::Overloaded`.
    pub queue_capacity: usize,
    /// Longest a generation may wait for a slot; then it fails with `llm_queue_timeout`
    /// (`ErrorKind::Overloaded`), so a client under load hears "retry later" instead of hanging.
    pub max_wait: std::time::Duration,
    /// Sampling seed when temperature > 0; `None` draws a fresh random seed per request.
    pub seed: Option<u32>,
    /// Route llama.cpp's own log lines to `tracing` (target `llama-cpp-2`) instead of stderr;
    /// `false` drops them. Process-wide: the first `load` in a process decides.
    pub log_to_tracing: bool,
}

impl Default for LocalConfig {
    fn default() -> Self {
        Self {
            threads: 1,
            context_size: 2048,
            batch_size: 512,
            parallel: 8,
            queue_capacity: 16,
            max_wait: std::time::Duration::from_secs(30),
            seed: None,
            log_to_tracing: true,
        }
    }
}

/// A GGUF chat model served by llama.cpp on one dedicated thread. Cheap to share (`Arc`);
/// dropping the last handle stops the thread once the queued requests are done.
///
/// * `generate`: the GGUF's own chat template, greedy when `temperature` is 0 (else top-k 40,
///   top-p 0.95, min-p 0.05, temperature), stops at end-of-turn (`<|im_end|>`/EOS) or
///   `max_tokens`; the sink gets whole UTF-8 characters only and may stop it by returning false.
/// * `score`: for each candidate, ln P(candidate as the complete assistant reply): the sum of
///   the log-softmax over the candidate's tokens *and the template's end-of-turn token*, so a
///   candidate is not rewarded for being only the start of a longer answer. The prompt is
///   evaluated once; each candidate then only costs its own few tokens.
/// * Errors: `Overloaded` when `queue_capacity` requests already wait; `InvalidInput`
///   `prompt_too_long` beyond the context; `Unavailable` `llm_worker_stopped` if the thread died.
pub struct LocalGenerator {
    queue: mpsc::Sender<Job>,
    info: GeneratorInfo,
    context_size: usize,
    stats: Arc<LocalStats>,
    max_wait: std::time::Duration,
}

/// What the model thread has done so far: how well requests were batched.
#[derive(Debug, Default)]
pub struct LocalStats {
    steps: AtomicU64,
    sequences: AtomicU64,
    widest: AtomicUsize,
}

impl LocalStats {
    pub(crate) fn record_step(&self, sequences: usize) {
        if sequences == 0 {
            return;
        }
        self.steps.fetch_add(1, Ordering::Relaxed);
        self.sequences.fetch_add(sequences as u64, Ordering::Relaxed);
        self.widest.fetch_max(sequences, Ordering::Relaxed);
    }

    /// `llama_decode` calls made for generation.
    pub fn steps(&self) -> u64 {
        self.steps.load(Ordering::Relaxed)
    }

    /// Sequences decoded, summed over the steps (sequences / steps = the mean batch width).
    pub fn sequences(&self) -> u64 {
        self.sequences.load(Ordering::Relaxed)
    }

    /// The most sequences one step decoded together.
    pub fn widest_step(&self) -> usize {
        self.widest.load(Ordering::Relaxed)
    }
}

impl std::fmt::Debug for LocalGenerator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalGenerator")
            .field("model", &self.info.model)
            .field("context_size", &self.context_size)
            .finish_non_exhaustive()
    }
}

enum Job {
    Generate {
        request: GenerationRequest,
        sink: Option<TokenSink>,
        /// Told when the request gets its slot (the wait for one has a deadline).
        started: oneshot::Sender<()>,
        reply: oneshot::Sender<Result<Generation>>,
    },
    Score {
        messages: Vec<ChatMessage>,
        candidates: Vec<String>,
        reply: oneshot::Sender<Result<Vec<f64>>>,
    },
}

fn backend(log_to_tracing: bool) -> Result<&'static LlamaBackend> {
    static BACKEND: OnceLock<std::result::Result<LlamaBackend, String>> = OnceLock::new();
    BACKEND
        .get_or_init(|| {
            // Before init, so that even the backend's start-up lines leave stderr alone.
            llama_cpp_2::send_logs_to_tracing(LogOptions::default().with_logs_enabled(log_to_tracing));
            LlamaBackend::init().map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| Error::new(ErrorCode::LlmBackendFailed, format!("llama.cpp backend: {e}")))
}

impl LocalGenerator {
    /// Load a GGUF model and start its inference thread. Blocks until the model is loaded
    /// (about 0.1-1 s for small models; call it from `spawn_blocking` inside a runtime if that
    /// matters).
    ///
    /// Errors: `ErrorKind::Setup` with code `llm_model_missing` (no such file) or
    /// `llm_load_failed` (not a loadable GGUF, context allocation failed).
    pub fn load(path: impl AsRef<Path>, config: LocalConfig) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        if !path.is_file() {
            return Err(Error::new(ErrorCode::LlmModelMissing, format!("GGUF model not found at {}", path.display())));
        }
        let backend = backend(config.log_to_tracing)?;
        let (queue, rx) = mpsc::channel(config.queue_capacity.max(1));
        let (ready_tx, ready_rx) = std::sync::mpsc::sync_channel(1);
        let stats = Arc::new(LocalStats::default());
        let worker_stats = stats.clone();
        let max_wait = config.max_wait;
        std::thread::Builder::new()
            .name("pyxa-llm".into())
            .spawn(move || worker::worker(backend, path, config, ready_tx, rx, worker_stats))
            .map_err(|e| Error::new(ErrorCode::LlmLoadFailed, format!("cannot start the model thread: {e}")))?;
        let (info, context_size) =
            ready_rx.recv().map_err(|_| Error::new(ErrorCode::LlmLoadFailed, "the model thread died while loading"))??;
        Ok(Self { queue, info, context_size, stats, max_wait })
    }

    /// The context window one request may use (prompt + answer tokens).
    pub fn context_size(&self) -> usize {
        self.context_size
    }

    /// How the model thread has batched requests so far.
    pub fn stats(&self) -> &LocalStats {
        &self.stats
    }

    fn submit(&self, job: Job) -> Result<()> {
        self.queue.try_send(job).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => {
                Error::overloaded("the local language model is busy: too many requests waiting")
            }
            mpsc::error::TrySendError::Closed(_) => {
                Error::new(ErrorCode::LlmWorkerStopped, "the local language model's thread has stopped")
            }
        })
    }
}

fn worker_gone() -> Error {
    Error::new(ErrorCode::LlmWorkerStopped, "the local language model's thread stopped while answering")
}

#[async_trait]
impl Generator for LocalGenerator {
    fn info(&self) -> GeneratorInfo {
        self.info.clone()
    }

    async fn generate(&self, request: GenerationRequest, on_token: Option<TokenSink>) -> Result<Generation> {
        let (reply, rx) = oneshot::channel();
        let (started, has_started) = oneshot::channel();
        self.submit(Job::Generate { request, sink: on_token, started, reply })?;
        // An error before the start drops `started` too; the reply then says what happened.
        if tokio::time::timeout(self.max_wait, has_started).await.is_err() {
            // Dropping `rx` closes the reply: the model thread skips the job when it comes up.
            return Err(Error::new(
                ErrorCode::LlmQueueTimeout,
                format!("the local language model had no free slot for {} s; try again", self.max_wait.as_secs()),
            ));
        }
        rx.await.map_err(|_| worker_gone())?
    }

    async fn score(&self, messages: Vec<ChatMessage>, candidates: Vec<String>) -> Result<Vec<f64>> {
        if candidates.is_empty() {
            return Ok(Vec::new());
        }
        let (reply, rx) = oneshot::channel();
        self.submit(Job::Score { messages, candidates, reply })?;
        rx.await.map_err(|_| worker_gone())?
    }
}
