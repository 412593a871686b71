//! Continuous batching: every running request owns a slot (a KV-cache sequence); each step is
//! one `llama_decode` holding the next token of every request that is answering plus as much of
//! the waiting prompts as fits in the batch, so requests that arrive together are decoded
//! together and a new one joins at the next step instead of waiting for the others to finish.
//! Replies are sampled (greedy or top-k/top-p/min-p/temperature) and streamed to the sink as
//! whole UTF-8 characters.

use std::time::Instant;

use llama_cpp_2::sampling::LlamaSampler;
use llama_cpp_2::token::LlamaToken;
use pyxa_core::{Error, Generation, GenerationRequest, Result, TokenSink};
use tokio::sync::oneshot;

use super::engine::{cancelled, common_prefix, Engine, Feed, Logits};
use crate::utf8::Utf8Decoder;

/// Most prompt tokens a step takes while other requests are answering.
const PROMPT_TOKENS_WHILE_ANSWERING: usize = 64;

/// A request being answered on slot `seq`.
pub(super) struct Running {
    seq: usize,
    sampler: LlamaSampler,
    sink: Option<TokenSink>,
    reply: oneshot::Sender<Result<Generation>>,
    utf8: Utf8Decoder,
    text: String,
    /// Tokens still to decode: the rest of the prompt, then each sampled token in turn.
    feed: Vec<LlamaToken>,
    answering: bool,
    prompt_tokens: usize,
    reused: usize,
    generated: usize,
    budget: usize,
    started: Instant,
    first_token: Option<Instant>,
}

impl Running {
    pub(super) fn fail(self, error: Error) {
        let _ = self.reply.send(Err(error));
    }

    /// Cache cells this request may still fill (the rest of its prompt and its answer).
    pub(super) fn cells_to_come(&self, engine: &Engine<'_>) -> usize {
        (self.prompt_tokens + self.budget).saturating_sub(engine.cached[self.seq].len())
    }
}

/// What one step did with a request.
enum Progress {
    Continue,
    Done(Result<Generation>),
}

impl<'m> Engine<'m> {
    /// Render and tokenize a request and set one of the free slots up for it (see `pick_slot`);
    /// `reserved`: the cells the running requests may still fill.
    pub(super) fn start(
        &mut self,
        request: GenerationRequest,
        sink: Option<TokenSink>,
        reply: oneshot::Sender<Result<Generation>>,
        mut busy: Vec<bool>,
        reserved: usize,
    ) -> std::result::Result<Running, (Error, oneshot::Sender<Result<Generation>>)> {
        let prompt = match self.render(&request.messages, true) {
            Ok(text) => self.tokenize(&text),
            Err(e) => return Err((e, reply)),
        };
        if prompt.is_empty() {
            return Err((Error::new(pyxa_core::ErrorCode::EmptyPrompt, "the conversation is empty"), reply));
        }
        if prompt.len() >= self.n_ctx {
            return Err((self.too_long(prompt.len() + 1), reply));
        }
        let budget = request.max_tokens.min(self.n_ctx - prompt.len());
        let started = Instant::now();
        let Some(seq) = self.pick_slot(&prompt, &busy) else {
            return Err((Error::overloaded("every slot of the local language model is busy"), reply));
        };
        busy[seq] = true;
        let reused = self.adopt_prefix(seq, &prompt);
        // Room for this request and for what the running ones will still write, so that no
        // step ever finds the cache full.
        self.make_room(prompt.len() - reused + budget + reserved, &busy);
        let reused = self.cached[seq].len();
        let temperature = request.temperature;
        let sampler = if temperature.is_finite() && temperature > 0.0 {
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
        Ok(Running {
            seq,
            sampler,
            sink,
            reply,
            utf8: Utf8Decoder::default(),
            text: String::new(),
            feed: prompt[reused..].to_vec(),
            answering: false,
            prompt_tokens: prompt.len(),
            reused,
            generated: 0,
            budget,
            started,
            first_token: None,
        })
    }

    /// One batched decode over the running requests; finished ones are answered and removed.
    /// Returns how many sequences the step decoded.
    pub(super) fn step(&mut self, running: &mut Vec<Running>) -> usize {
        running.retain(|r| {
            let gone = r.reply.is_closed();
            if gone {
                tracing::debug!(seq = r.seq, "generation abandoned by its caller");
            }
            !gone
        });
        // Answering requests first, one token each, so a long prompt never stalls them; then
        // prompts, a chunk each while the batch has room. A prompt's last token goes in a step
        // of its own rows (as in `eval_prompt`): a cold and a warm cache then reach the first
        // answer token the same way.
        let mut room = self.n_batch;
        let mut plan: Vec<(usize, usize, Logits)> = Vec::with_capacity(running.len());
        for (k, r) in running.iter().enumerate() {
            if r.answering && room > 0 {
                plan.push((k, 1, Logits::Last));
                room -= 1;
            }
        }
        // While some are answering, prompts go in smaller chunks: a 512-token chunk takes seconds
        // on a CPU, and every answering request would wait that long for its next token.
        if !plan.is_empty() {
            room = room.min(PROMPT_TOKENS_WHILE_ANSWERING);
        }
        for (k, r) in running.iter().enumerate() {
            if r.answering || room == 0 {
                continue;
            }
            if r.feed.len() > 1 {
                let n = (r.feed.len() - 1).min(room);
                plan.push((k, n, Logits::None));
                room -= n;
            } else {
                plan.push((k, 1, Logits::Last));
                room -= 1;
            }
        }
        if plan.is_empty() {
            return 0;
        }
        let feeds: Vec<Feed<'_>> =
            plan.iter().map(|&(k, n, logits)| Feed { seq: running[k].seq, tokens: &running[k].feed[..n], logits }).collect();
        let firsts = match self.decode(&feeds) {
            Ok(firsts) => firsts,
            Err(e) => {
                // The cache no longer matches what the requests expect.
                self.fail_all(running, e);
                return 0;
            }
        };
        let decoded = plan.len();
        let mut finished = Vec::new();
        for (&(k, n, logits), first) in plan.iter().zip(firsts) {
            let r = &mut running[k];
            r.feed.drain(..n);
            if logits == Logits::Last {
                r.answering = true;
                if let Progress::Done(result) = self.next_token(r, first + n as i32 - 1) {
                    finished.push((k, result));
                }
            }
        }
        finished.sort_by_key(|&(k, _)| std::cmp::Reverse(k));
        for (k, result) in finished {
            let r = running.swap_remove(k);
            let _ = r.reply.send(result);
        }
        decoded
    }

    /// Sample the token after the logits at batch index `idx` and hand it out.
    fn next_token(&self, r: &mut Running, idx: i32) -> Progress {
        let vocab = self.model.vocab();
        let token = r.sampler.sample(&self.ctx, idx);
        r.first_token.get_or_insert_with(Instant::now);
        // End of turn (`<|im_end|>`, EOS) or any other control token: the reply is over.
        if vocab.is_eog(token) || vocab.is_control(token) {
            return Progress::Done(Ok(self.finish(r, false)));
        }
        r.generated += 1;
        let piece = r.utf8.push(&vocab.token_to_piece(token, false, None));
        if !piece.is_empty() {
            r.text.push_str(&piece);
            if let Some(sink) = r.sink.as_mut() {
                if !sink(&piece) {
                    return Progress::Done(Ok(self.finish(r, true)));
                }
            }
        }
        if r.generated >= r.budget {
            return Progress::Done(Ok(self.finish(r, false)));
        }
        if r.reply.is_closed() {
            return Progress::Done(Err(cancelled()));
        }
        r.feed.push(token);
        Progress::Continue
    }

    fn finish(&self, r: &mut Running, stopped: bool) -> Generation {
        if !stopped {
            let rest = r.utf8.finish();
            if !rest.is_empty() {
                r.text.push_str(&rest);
                if let Some(sink) = r.sink.as_mut() {
                    sink(&rest);
                }
            }
        }
        let prompt_done = r.first_token.unwrap_or(r.started);
        tracing::debug!(
            seq = r.seq,
            prompt_tokens = r.prompt_tokens,
            prompt_tokens_reused = r.reused,
            prompt_ms = (prompt_done - r.started).as_secs_f64() * 1e3,
            completion_tokens = r.generated,
            generation_ms = prompt_done.elapsed().as_secs_f64() * 1e3,
            "local generation"
        );
        Generation { text: std::mem::take(&mut r.text), prompt_tokens: r.prompt_tokens, completion_tokens: r.generated }
    }

    /// The free slot for `prompt`: the one whose cache it continues (it shares at least half of
    /// that cache, as llama-server's slot similarity), else the least recently used free slot,
    /// which borrows the longest shared prefix from any cache. So a cache another request may
    /// still want (the same photo asked about again, an earlier turn of a conversation) is not
    /// overwritten by a prompt that only shares the system prompt with it.
    fn pick_slot(&mut self, prompt: &[LlamaToken], busy: &[bool]) -> Option<usize> {
        let shared = |s: usize| common_prefix(&self.cached[s], prompt);
        let free = || (0..busy.len()).filter(|&s| !busy[s]);
        let continued =
            free().filter(|&s| !self.cached[s].is_empty() && 2 * shared(s) >= self.cached[s].len()).max_by_key(|&s| shared(s));
        let seq = match continued {
            Some(s) => s,
            None => free().min_by_key(|&s| (self.last_used[s], self.cached[s].len()))?,
        };
        self.clock += 1;
        self.last_used[seq] = self.clock;
        Some(seq)
    }

    /// Fails every running request with `error` and starts from an empty cache (after a failed
    /// decode or a panic, what the cache holds is in doubt).
    pub(super) fn fail_all(&mut self, running: &mut Vec<Running>, error: Error) {
        for r in running.drain(..) {
            r.fail(error.clone());
        }
        self.reset();
    }

    /// Whether slot `seq` is taken by one of `running`.
    pub(super) fn busy_slots(&self, running: &[Running]) -> Vec<bool> {
        let mut busy = vec![false; self.cached.len()];
        for r in running {
            busy[r.seq] = true;
        }
        busy
    }
}
