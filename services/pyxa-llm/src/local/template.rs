//! The GGUF's chat template: rendering a conversation, tokenizing it, and laying out a candidate
//! reply's tokens as the template would.

use pyxa_core::ErrorCode;

use llama_cpp_2::model::LlamaChatMessage;
use llama_cpp_2::token::LlamaToken;
use pyxa_core::{ChatMessage, Error, Result, Role};

use super::engine::Engine;

fn role_name(role: Role) -> &'static str {
    match role {
        Role::System => "system",
        Role::User => "user",
        Role::Assistant => "assistant",
    }
}

impl<'m> Engine<'m> {
    pub(super) fn render(&self, messages: &[ChatMessage], open_assistant: bool) -> Result<String> {
        let chat = messages
            .iter()
            .map(|m| LlamaChatMessage::new(role_name(m.role).to_owned(), m.content.clone()))
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|_| Error::new(ErrorCode::InvalidMessage, "chat messages must not contain NUL characters"))?;
        self.model
            .apply_chat_template(&self.template, &chat, open_assistant)
            .map_err(|e| Error::internal(format!("applying the model's chat template failed: {e}")))
    }

    pub(super) fn tokenize(&self, text: &str) -> Vec<LlamaToken> {
        let vocab = self.model.vocab();
        let mut tokens = vocab.tokenize(text.as_bytes(), false, true);
        if vocab.should_add_bos() && tokens.first() != Some(&vocab.bos()) {
            tokens.insert(0, vocab.bos());
        }
        tokens
    }

    /// The tokens of `candidate` as the assistant's complete reply after `prompt` (the
    /// rendered conversation with the assistant turn opened), up to and including the
    /// end-of-turn token, exactly as the chat template lays them out.
    pub(super) fn reply_tokens(
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
                let end = if vocab.eot().0 >= 0 { vocab.eot() } else { vocab.eos() };
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
}
