//! `generate`: sampling a reply token by token (greedy or top-k/top-p/min-p/temperature),
//! streamed to the sink as whole UTF-8 characters.

use std::time::Instant;

use llama_cpp_2::sampling::LlamaSampler;
use pyxa_core::{Generation, GenerationRequest, Result, TokenSink};
use tokio::sync::oneshot;

use super::engine::{cancelled, common_prefix, Engine};
use crate::utf8::Utf8Decoder;

impl<'m> Engine<'m> {
    pub(super) fn generate(
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
        Ok(Generation { text, prompt_tokens: prompt.len(), completion_tokens: generated })
    }
}
