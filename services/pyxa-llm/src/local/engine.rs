//! [`Engine`]: the model thread's llama context and the prompt tokens in its KV cache, decoded
//! in batches with the longest cached prefix reused.

use pyxa_core::ErrorCode;

use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::{LlamaChatTemplate, LlamaModel};
use llama_cpp_2::token::LlamaToken;
use pyxa_core::{Error, Result};

pub(super) struct Engine<'m> {
    pub(super) model: &'m LlamaModel,
    pub(super) ctx: LlamaContext<'m>,
    pub(super) template: LlamaChatTemplate,
    pub(super) batch: LlamaBatch<'static>,
    pub(super) n_batch: usize,
    pub(super) n_ctx: usize,
    pub(super) seed: Option<u32>,
    /// The tokens whose keys/values sit in the KV cache (sequence 0, positions 0..len).
    pub(super) cached: Vec<LlamaToken>,
}

fn decode_error(e: impl std::fmt::Display) -> Error {
    Error::internal(format!("llama.cpp decode failed: {e}"))
}

pub(super) fn cancelled() -> Error {
    Error::new(ErrorCode::LlmCancelled, "the request was abandoned by its caller")
}

pub(super) fn common_prefix(a: &[LlamaToken], b: &[LlamaToken]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

impl<'m> Engine<'m> {
    pub(super) fn reset(&mut self) {
        self.ctx.clear_kv_cache();
        self.cached.clear();
    }

    pub(super) fn too_long(&self, needed: usize) -> Error {
        Error::new(
            ErrorCode::PromptTooLong,
            format!("the conversation needs {needed} tokens; the model's context holds {}", self.n_ctx),
        )
    }

    /// Decode `tokens` at the positions after the cached ones, in `n_batch` chunks, without
    /// logits (they only fill the KV cache).
    pub(super) fn decode_tail(&mut self, tokens: &[LlamaToken]) -> Result<()> {
        for chunk in tokens.chunks(self.n_batch) {
            self.decode_chunk(chunk, |_| false)?;
        }
        Ok(())
    }

    /// One `llama_decode` of at most `n_batch` tokens; `logits(i)` says which want logits.
    pub(super) fn decode_chunk(&mut self, chunk: &[LlamaToken], logits: impl Fn(usize) -> bool) -> Result<()> {
        self.batch.clear();
        let start = self.cached.len();
        for (i, &t) in chunk.iter().enumerate() {
            self.batch.add(t, (start + i) as i32, &[0], logits(i)).map_err(decode_error)?;
        }
        self.ctx.decode(&mut self.batch).map_err(decode_error)?;
        self.cached.extend_from_slice(chunk);
        Ok(())
    }

    /// Make the KV cache hold exactly `tokens`, reusing the longest cached prefix, and return
    /// the batch index of the last token's logits (the last token is always re-evaluated).
    pub(super) fn eval_prompt(&mut self, tokens: &[LlamaToken]) -> Result<i32> {
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
    pub(super) fn truncate(&mut self, n: usize) {
        if n >= self.cached.len() {
            return;
        }
        if self.ctx.kv_cache_seq_rm(0, Some(n as u32), None).is_ok() {
            self.cached.truncate(n);
        } else {
            self.reset();
        }
    }
}
