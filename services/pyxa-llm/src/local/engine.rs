//! [`Engine`]: the model thread's llama context, one KV-cache sequence per slot, and the prompt
//! tokens each sequence holds, so that a new request reuses the longest cached prefix (its own
//! slot's, or another slot's shared by `seq_cp`, which costs no copy in a unified cache).

use pyxa_core::ErrorCode;

use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::{LlamaChatTemplate, LlamaModel};
use llama_cpp_2::token::LlamaToken;
use llama_cpp_2::DecodeError;
use pyxa_core::{Error, Result};

pub(super) struct Engine<'m> {
    pub(super) model: &'m LlamaModel,
    pub(super) ctx: LlamaContext<'m>,
    pub(super) template: LlamaChatTemplate,
    pub(super) batch: LlamaBatch<'static>,
    /// Most tokens one `llama_decode` takes.
    pub(super) n_batch: usize,
    /// Most tokens (prompt + answer) one request may use.
    pub(super) n_ctx: usize,
    /// KV cells in the whole cache (`n_ctx` per slot).
    pub(super) capacity: usize,
    pub(super) seed: Option<u32>,
    /// Per sequence id: the tokens whose keys/values sit in the KV cache at positions 0..len.
    pub(super) cached: Vec<Vec<LlamaToken>>,
    /// Per sequence id: when a request last started on it (`clock` ticks once per request).
    pub(super) last_used: Vec<u64>,
    pub(super) clock: u64,
}

pub(super) fn decode_error(e: impl std::fmt::Display) -> Error {
    Error::internal(format!("llama.cpp decode failed: {e}"))
}

pub(super) fn cancelled() -> Error {
    Error::new(ErrorCode::LlmCancelled, "the request was abandoned by its caller")
}

pub(super) fn common_prefix(a: &[LlamaToken], b: &[LlamaToken]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

/// Which of a feed's tokens want logits.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Logits {
    None,
    Last,
    /// Every token's (scoring a candidate reply reads each one).
    All,
}

/// One sequence's share of a batched `llama_decode`: `tokens` go at the positions after the
/// sequence's cached ones.
pub(super) struct Feed<'a> {
    pub(super) seq: usize,
    pub(super) tokens: &'a [LlamaToken],
    pub(super) logits: Logits,
}

impl<'m> Engine<'m> {
    pub(super) fn reset(&mut self) {
        self.ctx.clear_kv_cache();
        self.cached.iter_mut().for_each(Vec::clear);
    }

    pub(super) fn too_long(&self, needed: usize) -> Error {
        Error::new(
            ErrorCode::PromptTooLong,
            format!("the conversation needs {needed} tokens; the model's context holds {}", self.n_ctx),
        )
    }

    /// Drop everything sequence `seq` holds.
    pub(super) fn forget(&mut self, seq: usize) {
        if self.cached[seq].is_empty() {
            return;
        }
        if self.ctx.kv_cache_seq_rm(seq as i32, None, None).is_ok() {
            self.cached[seq].clear();
        } else {
            self.reset();
        }
    }

    /// Drop sequence `seq`'s cached tokens from position `n` on (or everything, where llama.cpp
    /// cannot).
    pub(super) fn truncate(&mut self, seq: usize, n: usize) {
        if n >= self.cached[seq].len() {
            return;
        }
        if n == 0 {
            return self.forget(seq);
        }
        if self.ctx.kv_cache_seq_rm(seq as i32, Some(n as u32), None).is_ok() {
            self.cached[seq].truncate(n);
        } else {
            self.reset();
        }
    }

    /// Cells in use, counting a cell shared by several sequences once per sequence (so never
    /// less than the truth).
    fn used(&self) -> usize {
        self.cached.iter().map(Vec::len).sum()
    }

    /// Make room for `needed` more cells by dropping the caches of sequences nobody is using,
    /// largest first.
    pub(super) fn make_room(&mut self, needed: usize, busy: &[bool]) {
        while self.used() + needed > self.capacity {
            let victim =
                (0..self.cached.len()).filter(|&s| !busy[s] && !self.cached[s].is_empty()).max_by_key(|&s| self.cached[s].len());
            let Some(victim) = victim else { return };
            self.forget(victim);
        }
    }

    /// Set sequence `seq` up to continue with `prompt`: keep its own longest common prefix, or
    /// share a longer one held by another sequence. At least the last prompt token is left to
    /// evaluate (its logits start the answer). Returns how many prompt tokens are cached.
    pub(super) fn adopt_prefix(&mut self, seq: usize, prompt: &[LlamaToken]) -> usize {
        let last = prompt.len().saturating_sub(1);
        let own = common_prefix(&self.cached[seq], prompt).min(last);
        let donor = (0..self.cached.len())
            .filter(|&s| s != seq)
            .map(|s| (s, common_prefix(&self.cached[s], prompt).min(last)))
            .max_by_key(|&(_, n)| n);
        match donor {
            Some((donor, shared)) if shared > own => {
                self.forget(seq);
                if self.ctx.copy_kv_cache_seq(donor as i32, seq as i32, None, Some(shared as u32)).is_ok() {
                    self.cached[seq] = prompt[..shared].to_vec();
                }
                self.cached[seq].len()
            }
            _ => {
                self.truncate(seq, own);
                self.cached[seq].len()
            }
        }
    }

    /// One `llama_decode` over several sequences (at most `n_batch` tokens in all). Returns each
    /// feed's batch index of its first token (logits of token i sit at that index + i).
    pub(super) fn decode(&mut self, feeds: &[Feed<'_>]) -> Result<Vec<i32>> {
        self.batch.clear();
        let mut firsts = Vec::with_capacity(feeds.len());
        let mut n = 0i32;
        for feed in feeds {
            firsts.push(n);
            let start = self.cached[feed.seq].len();
            let last = feed.tokens.len().saturating_sub(1);
            for (i, &t) in feed.tokens.iter().enumerate() {
                let logits = feed.logits == Logits::All || (feed.logits == Logits::Last && i == last);
                self.batch.add(t, (start + i) as i32, &[feed.seq as i32], logits).map_err(decode_error)?;
                n += 1;
            }
        }
        match self.ctx.decode(&mut self.batch) {
            Ok(()) => {}
            Err(DecodeError::NoKvCacheSlot) => {
                return Err(Error::overloaded("the local language model's cache is full; try again shortly"))
            }
            Err(e) => return Err(decode_error(e)),
        }
        for feed in feeds {
            self.cached[feed.seq].extend_from_slice(feed.tokens);
        }
        Ok(firsts)
    }

    /// One sequence's `tokens` in `n_batch` chunks, without logits (they only fill the cache).
    pub(super) fn decode_seq(&mut self, seq: usize, tokens: &[LlamaToken]) -> Result<()> {
        for chunk in tokens.chunks(self.n_batch) {
            self.decode(&[Feed { seq, tokens: chunk, logits: Logits::None }])?;
        }
        Ok(())
    }

    /// Make sequence `seq` hold exactly `tokens`, reusing the longest cached prefix, and return
    /// the batch index of the last token's logits (the last token is always re-evaluated).
    pub(super) fn eval_prompt(&mut self, seq: usize, tokens: &[LlamaToken]) -> Result<i32> {
        if tokens.is_empty() {
            return Err(Error::new(ErrorCode::EmptyPrompt, "the conversation is empty"));
        }
        if tokens.len() >= self.n_ctx {
            return Err(self.too_long(tokens.len() + 1));
        }
        let last = tokens.len() - 1;
        let keep = common_prefix(&self.cached[seq], tokens).min(last);
        self.truncate(seq, keep);
        // The last token always goes alone: llama.cpp's numbers depend slightly on the batch
        // shape (about 0.1-0.3 nats on a Q4 model between a 100-token batch and a single token),
        // so a cold and a warm cache must reach the first answer token the same way to give the
        // same scores and the same greedy answers.
        let rest = tokens[self.cached[seq].len()..last].to_vec();
        self.decode_seq(seq, &rest)?;
        self.decode(&[Feed { seq, tokens: &tokens[last..], logits: Logits::Last }])?;
        Ok(0)
    }
}
