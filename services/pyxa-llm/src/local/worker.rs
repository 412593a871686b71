//! The model thread: loads the GGUF, creates the llama context and answers queued jobs in turn.

use pyxa_core::ErrorCode;
use std::num::NonZeroU32;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::Arc;

use llama_cpp_2::context::params::LlamaContextParams;
use llama_cpp_2::llama_backend::LlamaBackend;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::model::{LlamaChatTemplate, LlamaModel};
use pyxa_core::{Error, ErrorKind, GeneratorInfo, Result};
use tokio::sync::mpsc;

use super::engine::Engine;
use super::generate::Running;
use super::{Job, LocalConfig, LocalStats};

type Ready = std::sync::mpsc::SyncSender<Result<(GeneratorInfo, usize)>>;

pub(super) fn worker(
    backend: &'static LlamaBackend,
    path: PathBuf,
    config: LocalConfig,
    ready: Ready,
    mut rx: mpsc::Receiver<Job>,
    stats: Arc<LocalStats>,
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
    let slots = config.parallel.clamp(1, 64);
    let n_batch = config.batch_size.clamp(1, n_ctx);
    let threads = i32::try_from(config.threads.max(1)).unwrap_or(1);
    // One unified cache for all slots: a prefix several requests share (the system prompt, the
    // same photo's evidence) then sits in the cache once.
    let params = LlamaContextParams::default()
        .with_n_ctx(NonZeroU32::new(n_ctx * slots as u32))
        .with_n_seq_max(slots as u32)
        .with_kv_unified(true)
        .with_n_batch(n_batch)
        .with_n_ubatch(n_batch)
        .with_n_threads(threads)
        .with_n_threads_batch(threads);
    let ctx = match model.new_context(backend, params) {
        Ok(c) => c,
        Err(e) => {
            let _ = ready.send(Err(load_failed(format!("cannot create a {n_ctx}-token context for {slots} slot(s): {e}"))));
            return;
        }
    };
    let name = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| path.display().to_string());
    let info = GeneratorInfo { backend: "llama.cpp".into(), model: name };
    let capacity = ctx.n_ctx() as usize;
    let n_ctx = n_ctx as usize;
    tracing::info!(model = %info.model, n_ctx, slots, threads, "local language model loaded");
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
        capacity,
        seed: config.seed,
        cached: vec![Vec::new(); slots],
        last_used: vec![0; slots],
        clock: 0,
    };
    let mut running: Vec<Running> = Vec::new();
    let mut open = true;
    loop {
        // Take new requests while a slot is free: waiting for one when idle, else only those
        // already queued (the rest stay in the bounded queue, which refuses when full).
        while open && running.len() < slots {
            let job = if running.is_empty() {
                match rx.blocking_recv() {
                    Some(job) => job,
                    None => {
                        open = false;
                        break;
                    }
                }
            } else {
                match rx.try_recv() {
                    Ok(job) => job,
                    Err(mpsc::error::TryRecvError::Empty) => break,
                    Err(mpsc::error::TryRecvError::Disconnected) => {
                        open = false;
                        break;
                    }
                }
            };
            // A panic while taking a job (say, in tokenization) leaves the cache in doubt: the
            // running requests fail with it, and the thread goes on.
            if catch_unwind(AssertUnwindSafe(|| accept(&mut engine, &mut running, job))).is_err() {
                engine.fail_all(&mut running, panicked());
            }
        }
        if running.is_empty() {
            if !open {
                break;
            }
            continue;
        }
        let decoded = catch_unwind(AssertUnwindSafe(|| engine.step(&mut running))).unwrap_or_else(|_| {
            engine.fail_all(&mut running, panicked());
            0
        });
        stats.record_step(decoded);
    }
    tracing::debug!("local language model thread stopped");
}

fn panicked() -> Error {
    Error::internal("the local language model panicked")
}

/// Cache cells the running requests may still fill.
fn reserved(engine: &Engine<'_>, running: &[Running]) -> usize {
    running.iter().map(|r| r.cells_to_come(engine)).sum()
}

/// Start a generation on a free slot, or run a scoring job there to completion (scoring is
/// rare: tests and tools, not the answer path).
fn accept(engine: &mut Engine<'_>, running: &mut Vec<Running>, job: Job) {
    match job {
        Job::Generate { request, sink, started, reply } => {
            if reply.is_closed() || started.send(()).is_err() {
                return;
            }
            match engine.start(request, sink, reply, engine.busy_slots(running), reserved(engine, running)) {
                Ok(r) => running.push(r),
                Err((e, reply)) => {
                    let _ = reply.send(Err(e));
                }
            }
        }
        Job::Score { messages, candidates, reply } => {
            if reply.is_closed() {
                return;
            }
            let mut busy = engine.busy_slots(running);
            let Some(seq) = busy.iter().position(|b| !b) else {
                let _ = reply.send(Err(Error::overloaded("every slot of the local language model is busy")));
                return;
            };
            busy[seq] = true;
            engine.make_room(engine.n_ctx + reserved(engine, running), &busy);
            let result = catch_unwind(AssertUnwindSafe(|| engine.score(seq, &messages, &candidates, &reply)))
                .unwrap_or_else(|_| Err(panicked()));
            if matches!(&result, Err(e) if e.kind == ErrorKind::Internal) {
                engine.forget(seq);
            }
            let _ = reply.send(result);
        }
    }
}
