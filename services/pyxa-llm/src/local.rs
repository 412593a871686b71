//! A local GGUF chat model run in-process by llama.cpp (`llama-cpp-2`).
//!
//! Design: one `LlamaBackend` per process (a process-wide once-cell: llama.cpp must not be
//! initialised twice, and `cargo test` runs every test in one process). Each [`LocalGenerator`]
//! owns ONE dedicated OS thread that loads the model, owns the llama context and runs every
//! request in turn; requests reach it through a bounded tokio channel (full -> `overloaded`), so
//! the async runtime never blocks on inference. The thread keeps the KV cache of the last
//! prompt: a request that shares a prefix with it (same system prompt, or `score` right after
//! `generate` on the same messages) only evaluates the new tokens.

use pyxa_core::ErrorCode;
use std::num::NonZeroU32;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Instant;

use async_trait::async_trait;
use llama_cpp_2::context::params::LlamaContextParams;
use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::llama_backend::LlamaBackend;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::model::{LlamaChatMessage, LlamaChatTemplate, LlamaModel};
use llama_cpp_2::sampling::LlamaSampler;
use llama_cpp_2::token::LlamaToken;
use llama_cpp_2::LogOptions;
use pyxa_core::{
    ChatMessage, Error, ErrorKind, Generation, GenerationRequest, Generator, GeneratorInfo, Result,
    Role, TokenSink,
};
use tokio::sync::{mpsc, oneshot};

use crate::utf8::Utf8Decoder;

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
    /// Requests that may wait for the model; beyond that `generate`/`score` fail with
    /// `ErrorKind::Overloaded`.
    pub queue_capacity: usize,
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
            queue_capacity: 16,
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
            llama_cpp_2::send_logs_to_tracing(
                LogOptions::default().with_logs_enabled(log_to_tracing),
            );
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
            return Err(Error::new(ErrorCode::LlmModelMissing,
                format!("GGUF model not found at {}", path.display()),
            ));
        }
        let backend = backend(config.log_to_tracing)?;
        let (queue, rx) = mpsc::channel(config.queue_capacity.max(1));
        let (ready_tx, ready_rx) = std::sync::mpsc::sync_channel(1);
        std::thread::Builder::new()
            .name("pyxa-llm".into())
            .spawn(move || worker(backend, path, config, ready_tx, rx))
            .map_err(|e| {
                Error::new(ErrorCode::LlmLoadFailed,
                    format!("cannot start the model thread: {e}"),
                )
            })?;
        let (info, context_size) = ready_rx.recv().map_err(|_| {
            Error::new(ErrorCode::LlmLoadFailed, "the model thread died while loading")
        })??;
        Ok(Self {
            queue,
            info,
            context_size,
        })
    }

    /// The context window actually allocated (prompt + answer tokens).
    pub fn context_size(&self) -> usize {
        self.context_size
    }

    fn submit(&self, job: Job) -> Result<()> {
        self.queue.try_send(job).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => {
                Error::overloaded("the local language model is busy: too many requests waiting")
            }
            mpsc::error::TrySendError::Closed(_) => Error::new(ErrorCode::LlmWorkerStopped,
                "the local language model's thread has stopped",
            ),
        })
    }
}

fn worker_gone() -> Error {
    Error::new(ErrorCode::LlmWorkerStopped,
        "the local language model's thread stopped while answering",
    )
}

#[async_trait]
impl Generator for LocalGenerator {
    fn info(&self) -> GeneratorInfo {
        self.info.clone()
    }

    async fn generate(
        &self,
        request: GenerationRequest,
        on_token: Option<TokenSink>,
    ) -> Result<Generation> {
        let (reply, rx) = oneshot::channel();
        self.submit(Job::Generate {
            request,
            sink: on_token,
            reply,
        })?;
        rx.await.map_err(|_| worker_gone())?
    }

    async fn score(&self, messages: Vec<ChatMessage>, candidates: Vec<String>) -> Result<Vec<f64>> {
        if candidates.is_empty() {
            return Ok(Vec::new());
        }
        let (reply, rx) = oneshot::channel();
        self.submit(Job::Score {
            messages,
            candidates,
            reply,
        })?;
        rx.await.map_err(|_| worker_gone())?
    }
}

// ------------------------------------------------------------------------------ the thread

type Ready = std::sync::mpsc::SyncSender<Result<(GeneratorInfo, usize)>>;

fn worker(
    backend: &'static LlamaBackend,
    path: PathBuf,
    config: LocalConfig,
    ready: Ready,
    mut rx: mpsc::Receiver<Job>,
) {
    let load_failed = |msg: String| Error::new(ErrorCode::LlmLoadFailed, msg);
    let model = match LlamaModel::load_from_file(backend, &path, &LlamaModelParams::default()) {
        Ok(m) => m,
        Err(e) => {
            let _ = ready.send(Err(load_failed(format!(
                "cannot load {}: {e}",
                path.display()
            ))));
            return;
        }
    };
    let template = match model.chat_template(None) {
        Ok(t) => t,
        Err(e) => {
            tracing::warn!(error = %e, "the GGUF has no usable chat template; using ChatML");
            match LlamaChatTemplate::new("chatml") {
                Ok(t) => t,
                Err(e) => {
                    let _ = ready.send(Err(load_failed(format!("chat template: {e}"))));
                    return;
                }
            }
        }
    };
    let train_ctx = model.n_ctx_train().max(1);
    let n_ctx = config.context_size.max(16).min(train_ctx);
    let n_batch = config.batch_size.clamp(1, n_ctx);
    let threads = i32::try_from(config.threads.max(1)).unwrap_or(1);
    let params = LlamaContextParams::default()
        .with_n_ctx(NonZeroU32::new(n_ctx))
        .with_n_batch(n_batch)
        .with_n_ubatch(n_batch)
        .with_n_threads(threads)
        .with_n_threads_batch(threads);
    let ctx = match model.new_context(backend, params) {
        Ok(c) => c,
        Err(e) => {
            let _ = ready.send(Err(load_failed(format!(
                "cannot create a {n_ctx}-token context: {e}"
            ))));
            return;
        }
    };
    let name = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string());
    let info = GeneratorInfo {
        backend: "llama.cpp".into(),
        model: name,
    };
    let n_ctx = ctx.n_ctx() as usize;
    tracing::info!(model = %info.model, n_ctx, threads, "local language model loaded");
    if ready.send(Ok((info, n_ctx))).is_err() {
        return;
    }

    let mut engine = Engine {
        model: &model,
        ctx,
        template,
        batch: LlamaBatch::new(n_batch as usize, 1),
        n_batch: n_batch as usize,
        n_ctx,
        seed: config.seed,
        cached: Vec::new(),
    };
    while let Some(job) = rx.blocking_recv() {
        match job {
            Job::Generate {
                request,
                sink,
                reply,
            } => {
                if reply.is_closed() {
                    continue;
                }
                let result =
                    catch_unwind(AssertUnwindSafe(|| engine.generate(request, sink, &reply)))
                        .unwrap_or_else(|_| {
                            Err(Error::internal("the local language model panicked"))
                        });
                if matches!(&result, Err(e) if e.kind == ErrorKind::Internal) {
                    engine.reset();
                }
                let _ = reply.send(result);
            }
            Job::Score {
                messages,
                candidates,
                reply,
            } => {
                if reply.is_closed() {
                    continue;
                }
                let result = catch_unwind(AssertUnwindSafe(|| {
                    engine.score(&messages, &candidates, &reply)
                }))
                .unwrap_or_else(|_| Err(Error::internal("the local language model panicked")));
                if matches!(&result, Err(e) if e.kind == ErrorKind::Internal) {
                    engine.reset();
                }
                let _ = reply.send(result);
            }
        }
    }
    tracing::debug!("local language model thread stopped");
}

struct Engine<'m> {
    model: &'m LlamaModel,
    ctx: LlamaContext<'m>,
    template: LlamaChatTemplate,
    batch: LlamaBatch<'static>,
    n_batch: usize,
    n_ctx: usize,
    seed: Option<u32>,
    /// The tokens whose keys/values sit in the KV cache (sequence 0, positions 0..len).
    cached: Vec<LlamaToken>,
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::System => "system",
        Role::User => "user",
        Role::Assistant => "assistant",
    }
}

fn decode_error(e: impl std::fmt::Display) -> Error {
    Error::internal(format!("llama.cpp decode failed: {e}"))
}

fn cancelled() -> Error {
    Error::new(ErrorCode::LlmCancelled,
        "the request was abandoned by its caller",
    )
}

/// ln softmax(logits)[token], computed in f64.
fn log_prob(logits: &[f32], token: LlamaToken) -> f64 {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
    let sum: f64 = logits.iter().map(|&l| (l as f64 - max).exp()).sum();
    let l = logits
        .get(token.0 as usize)
        .copied()
        .unwrap_or(f32::NEG_INFINITY) as f64;
    l - max - sum.ln()
}

fn common_prefix(a: &[LlamaToken], b: &[LlamaToken]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

impl<'m> Engine<'m> {
    fn reset(&mut self) {
        self.ctx.clear_kv_cache();
        self.cached.clear();
    }

    fn render(&self, messages: &[ChatMessage], open_assistant: bool) -> Result<String> {
        let chat = messages
            .iter()
            .map(|m| LlamaChatMessage::new(role_name(m.role).to_owned(), m.content.clone()))
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|_| {
                Error::new(ErrorCode::InvalidMessage,
                    "chat messages must not contain NUL characters",
                )
            })?;
        self.model
            .apply_chat_template(&self.template, &chat, open_assistant)
            .map_err(|e| Error::internal(format!("applying the model's chat template failed: {e}")))
    }

    fn tokenize(&self, text: &str) -> Vec<LlamaToken> {
        let vocab = self.model.vocab();
        let mut tokens = vocab.tokenize(text.as_bytes(), false, true);
        if vocab.should_add_bos() && tokens.first() != Some(&vocab.bos()) {
            tokens.insert(0, vocab.bos());
        }
        tokens
    }

    fn too_long(&self, needed: usize) -> Error {
        Error::new(ErrorCode::PromptTooLong,
            format!(
                "the conversation needs {needed} tokens; the model's context holds {}",
                self.n_ctx
            ),
        )
    }

    /// Decode `tokens` at the positions after the cached ones, in `n_batch` chunks, without
    /// logits (they only fill the KV cache).
    fn decode_tail(&mut self, tokens: &[LlamaToken]) -> Result<()> {
        for chunk in tokens.chunks(self.n_batch) {
            self.decode_chunk(chunk, |_| false)?;
        }
        Ok(())
    }

    /// One `llama_decode` of at most `n_batch` tokens; `logits(i)` says which want logits.
    fn decode_chunk(&mut self, chunk: &[LlamaToken], logits: impl Fn(usize) -> bool) -> Result<()> {
        self.batch.clear();
        let start = self.cached.len();
        for (i, &t) in chunk.iter().enumerate() {
            self.batch
                .add(t, (start + i) as i32, &[0], logits(i))
                .map_err(decode_error)?;
        }
        self.ctx.decode(&mut self.batch).map_err(decode_error)?;
        self.cached.extend_from_slice(chunk);
        Ok(())
    }

    /// Make the KV cache hold exactly `tokens`, reusing the longest cached prefix, and return
    /// the batch index of the last token's logits (the last token is always re-evaluated).
    fn eval_prompt(&mut self, tokens: &[LlamaToken]) -> Result<i32> {
        if tokens.is_empty() {
            return Err(Error::new(ErrorCode::EmptyPrompt, "the conversation is empty"));
        }
        if tokens.len() >= self.n_ctx {
            return Err(self.too_long(tokens.len() + 1));
        }
        let last = tokens.len() - 1;
        let keep = common_prefix(&self.cached, tokens).min(last);
        self.truncate(keep);
        // The last token always goes alone: llama.cpp's numbers depend slightly on the batch
        // shape (about 0.1-0.3 nats on a Q4 model between a 100-token batch and a single token),
        // so a cold and a warm cache must reach the first answer token the same way to give the
        // same scores and the same greedy answers.
        let rest = tokens[self.cached.len()..last].to_vec();
        if !rest.is_empty() {
            self.decode_tail(&rest)?;
        }
        self.decode_chunk(&tokens[last..], |_| true)?;
        Ok(0)
    }

    /// Drop cached tokens from position `n` on (or everything, where llama.cpp cannot).
    fn truncate(&mut self, n: usize) {
        if n >= self.cached.len() {
            return;
        }
        if self.ctx.kv_cache_seq_rm(0, Some(n as u32), None).is_ok() {
            self.cached.truncate(n);
        } else {
            self.reset();
        }
    }

    fn generate(
        &mut self,
        request: GenerationRequest,
        mut sink: Option<TokenSink>,
        reply: &oneshot::Sender<Result<Generation>>,
    ) -> Result<Generation> {
        let model = self.model;
        let vocab = model.vocab();
        let prompt = self.tokenize(&self.render(&request.messages, true)?);
        let started = Instant::now();
        let reused = common_prefix(&self.cached, &prompt).min(prompt.len().saturating_sub(1));
        let mut idx = self.eval_prompt(&prompt)?;
        let prompt_done = Instant::now();

        let budget = request.max_tokens.min(self.n_ctx - prompt.len());
        let temperature = request.temperature;
        let mut sampler = if temperature.is_finite() && temperature > 0.0 {
            LlamaSampler::chain_simple([
                LlamaSampler::top_k(40),
                LlamaSampler::top_p(0.95, 1),
                LlamaSampler::min_p(0.05, 1),
                LlamaSampler::temp(temperature),
                LlamaSampler::dist(self.seed.unwrap_or(u32::MAX)),
            ])
        } else {
            LlamaSampler::greedy()
        };

        let mut utf8 = Utf8Decoder::default();
        let mut text = String::new();
        let mut generated = 0usize;
        let mut stopped = false;
        while generated < budget {
            if reply.is_closed() {
                return Err(cancelled());
            }
            let token = sampler.sample(&self.ctx, idx);
            // End of turn (`<|im_end|>`, EOS) or any other control token: the reply is over.
            if vocab.is_eog(token) || vocab.is_control(token) {
                break;
            }
            generated += 1;
            let piece = utf8.push(&vocab.token_to_piece(token, false, None));
            if !piece.is_empty() {
                text.push_str(&piece);
                if let Some(sink) = sink.as_mut() {
                    if !sink(&piece) {
                        stopped = true;
                        break;
                    }
                }
            }
            if generated == budget {
                break;
            }
            self.decode_chunk(&[token], |_| true)?;
            idx = 0;
        }
        if !stopped {
            let rest = utf8.finish();
            if !rest.is_empty() {
                text.push_str(&rest);
                if let Some(sink) = sink.as_mut() {
                    sink(&rest);
                }
            }
        }
        let end = Instant::now();
        let prompt_s = (prompt_done - started).as_secs_f64();
        let gen_s = (end - prompt_done).as_secs_f64();
        tracing::debug!(
            prompt_tokens = prompt.len(),
            prompt_tokens_reused = reused,
            prompt_ms = prompt_s * 1e3,
            completion_tokens = generated,
            generation_ms = gen_s * 1e3,
            "local generation"
        );
        Ok(Generation {
            text,
            prompt_tokens: prompt.len(),
            completion_tokens: generated,
        })
    }

    /// The tokens of `candidate` as the assistant's complete reply after `prompt` (the
    /// rendered conversation with the assistant turn opened), up to and including the
    /// end-of-turn token, exactly as the chat template lays them out.
    fn reply_tokens(
        &self,
        messages: &[ChatMessage],
        prompt_text: &str,
        prompt: &[LlamaToken],
        candidate: &str,
    ) -> Result<Vec<LlamaToken>> {
        let vocab = self.model.vocab();
        let mut with_reply = messages.to_vec();
        with_reply.push(ChatMessage::assistant(candidate));
        let full_text = self.render(&with_reply, false)?;
        let mut suffix = match full_text.strip_prefix(prompt_text) {
            Some(suffix_text) => {
                let full = self.tokenize(&full_text);
                if full.len() > prompt.len() && full[..prompt.len()] == *prompt {
                    full[prompt.len()..].to_vec()
                } else {
                    vocab.tokenize(suffix_text.as_bytes(), false, true)
                }
            }
            // A template that renders the opened turn differently from a finished one.
            None => {
                let mut t = vocab.tokenize(candidate.as_bytes(), false, false);
                let end = if vocab.eot().0 >= 0 {
                    vocab.eot()
                } else {
                    vocab.eos()
                };
                if end.0 >= 0 {
                    t.push(end);
                }
                t
            }
        };
        if let Some(end) = suffix.iter().position(|&t| vocab.is_eog(t)) {
            suffix.truncate(end + 1);
        }
        Ok(suffix)
    }

    fn score(
        &mut self,
        messages: &[ChatMessage],
        candidates: &[String],
        reply: &oneshot::Sender<Result<Vec<f64>>>,
    ) -> Result<Vec<f64>> {
        let started = Instant::now();
        let prompt_text = self.render(messages, true)?;
        let prompt = self.tokenize(&prompt_text);
        let replies = candidates
            .iter()
            .map(|c| self.reply_tokens(messages, &prompt_text, &prompt, c))
            .collect::<Result<Vec<_>>>()?;
        let longest = replies.iter().map(Vec::len).max().unwrap_or(0);
        if prompt.len() + longest > self.n_ctx {
            return Err(self.too_long(prompt.len() + longest));
        }

        let idx = self.eval_prompt(&prompt)?;
        let first_logits = self.ctx.get_logits_ith(idx).to_vec();
        let base = prompt.len();
        let mut scores = Vec::with_capacity(replies.len());
        for tokens in &replies {
            if reply.is_closed() {
                return Err(cancelled());
            }
            // Back to the prompt: its KV entries are reused for every candidate.
            self.truncate(base);
            if self.cached.len() < base {
                // llama.cpp could not cut the cache (not for transformer models): redo it.
                let missing = prompt[self.cached.len()..].to_vec();
                self.decode_tail(&missing)?;
            }
            let Some(&first) = tokens.first() else {
                scores.push(0.0);
                continue;
            };
            let mut lp = log_prob(&first_logits, first);
            // Logits after tokens[i] give the probability of tokens[i + 1].
            let feed = &tokens[..tokens.len() - 1];
            let mut offset = 0;
            for chunk in feed.chunks(self.n_batch) {
                self.decode_chunk(chunk, |_| true)?;
                for i in 0..chunk.len() {
                    lp += log_prob(self.ctx.get_logits_ith(i as i32), tokens[offset + i + 1]);
                }
                offset += chunk.len();
            }
            scores.push(lp);
        }
        // Leave the cache holding the prompt: a following request on it starts warm.
        self.truncate(base);
        tracing::debug!(
            prompt_tokens = base,
            candidates = candidates.len(),
            ms = started.elapsed().as_secs_f64() * 1e3,
            "local scoring"
        );
        Ok(scores)
    }
}
