//! What the pipeline reports while it works, for streaming clients: the evidence as soon as it
//! is known, then the answer's pieces as the LLM writes them.

use pyxa_core::text::Language;

use super::candidate::Candidate;
use super::types::{Citation, Mode};

#[derive(Debug, Clone)]
pub struct Evidence {
    pub answer_id: String,
    pub conversation_id: String,
    pub candidates: Vec<Candidate>,
    pub citations: Vec<Citation>,
    pub language: Language,
    pub confident: bool,
    pub mode: Mode,
}

#[derive(Debug, Clone)]
pub enum AskEvent {
    Evidence(Evidence),
    /// A piece of the LLM's text (it may still be replaced by the template answer: the final
    /// response is authoritative).
    Token(String),
}
