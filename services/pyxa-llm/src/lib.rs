//! pyxa's generators: a local GGUF model run in-process by llama.cpp ([`LocalGenerator`]) and
//! any OpenAI-compatible chat-completions server ([`OpenAiGenerator`]: Ollama, vLLM, llama.cpp
//! server, hosted APIs). Both implement [`pyxa_core::Generator`].
//!
//! What must not live here: prompts, answer checks or anything about pyxa's evidence (that is
//! the answer pipeline in `pyxa-engine`); this crate only turns messages into text.

mod local;
mod openai;
mod utf8;

pub use local::{LocalConfig, LocalGenerator};
pub use openai::{OpenAiConfig, OpenAiGenerator};
