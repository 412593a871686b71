//! `score`: ln P(candidate as the complete assistant reply) for each candidate, the prompt
//! evaluated once and its KV entries reused for every candidate.

use std::time::Instant;

use llama_cpp_2::token::LlamaToken;
use pyxa_core::{ChatMessage, Result};
use tokio::sync::oneshot;

use super::engine::{cancelled, Engine, Feed, Logits};

/// ln softmax(logits)[token], computed in f64.
fn log_prob(logits: &[f32], token: LlamaToken) -> f64 {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
    let sum: f64 = logits.iter().map(|&l| (l as f64 - max).exp()).sum();
    let l = logits.get(token.0 as usize).copied().unwrap_or(f32::NEG_INFINITY) as f64;
    l - max - sum.ln()
}

impl<'m> Engine<'m> {
    /// Score on sequence `seq` (a slot nobody else is using while this runs).
    pub(super) fn score(
        &mut self,
        seq: usize,
        messages: &[ChatMessage],
        candidates: &[String],
        reply: &oneshot::Sender<Result<Vec<f64>>>,
    ) -> Result<Vec<f64>> {
        let started = Instant::now();
        let prompt_text = self.render(messages, true)?;
        let prompt = self.tokenize(&prompt_text);
        let replies =
            candidates.iter().map(|c| self.reply_tokens(messages, &prompt_text, &prompt, c)).collect::<Result<Vec<_>>>()?;
        let longest = replies.iter().map(Vec::len).max().unwrap_or(0);
        if prompt.len() + longest > self.n_ctx {
            return Err(self.too_long(prompt.len() + longest));
        }

        let idx = self.eval_prompt(seq, &prompt)?;
        let first_logits = self.ctx.get_logits_ith(idx).to_vec();
        let base = prompt.len();
        let mut scores = Vec::with_capacity(replies.len());
        for tokens in &replies {
            if reply.is_closed() {
                return Err(cancelled());
            }
            // Back to the prompt: its KV entries are reused for every candidate.
            self.truncate(seq, base);
            if self.cached[seq].len() < base {
                // llama.cpp could not cut the cache (not for transformer models): redo it.
                let missing = prompt[self.cached[seq].len()..].to_vec();
                self.decode_seq(seq, &missing)?;
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
                let first = self.decode(&[Feed { seq, tokens: chunk, logits: Logits::All }])?[0];
                for i in 0..chunk.len() {
                    lp += log_prob(self.ctx.get_logits_ith(first + i as i32), tokens[offset + i + 1]);
                }
                offset += chunk.len();
            }
            scores.push(lp);
        }
        // Leave the cache holding the prompt: a following request on it starts warm.
        self.truncate(seq, base);
        tracing::debug!(
            prompt_tokens = base,
            candidates = candidates.len(),
            ms = started.elapsed().as_secs_f64() * 1e3,
            "local scoring"
        );
        Ok(scores)
    }
}
