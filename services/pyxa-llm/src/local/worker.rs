//! The model thread: loads the GGUF, creates the llama context and answers queued jobs in turn.

use pyxa_core::ErrorCode;
use std::num::NonZeroU32;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;

use llama_cpp_2::context::params::LlamaContextParams;
use llama_cpp_2::llama_backend::LlamaBackend;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::model::{LlamaChatTemplate, LlamaModel};
use pyxa_core::{Error, ErrorKind, GeneratorInfo, Result};
use tokio::sync::mpsc;

use super::engine::Engine;
use super::{Job, LocalConfig};

type Ready = std::sync::mpsc::SyncSender<Result<(GeneratorInfo, usize)>>;

pub(super) fn worker(
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
            let _ = ready.send(Err(load_failed(format!("cannot load {}: {e}", path.display()))));
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
            let _ = ready.send(Err(load_failed(format!("cannot create a {n_ctx}-token context: {e}"))));
            return;
        }
    };
    let name = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| path.display().to_string());
    let info = GeneratorInfo { backend: "llama.cpp".into(), model: name };
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
            Job::Generate { request, sink, reply } => {
                if reply.is_closed() {
                    continue;
                }
                let result = catch_unwind(AssertUnwindSafe(|| engine.generate(request, sink, &reply)))
                    .unwrap_or_else(|_| Err(Error::internal("the local language model panicked")));
                if matches!(&result, Err(e) if e.kind == ErrorKind::Internal) {
                    engine.reset();
                }
                let _ = reply.send(result);
            }
            Job::Score { messages, candidates, reply } => {
                if reply.is_closed() {
                    continue;
                }
                let result = catch_unwind(AssertUnwindSafe(|| engine.score(&messages, &candidates, &reply)))
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
