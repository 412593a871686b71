//! Splitting a document's text into passages of a bounded number of tokens, overlapping a
//! little so that a fact cut at a boundary is whole in one of them. Markdown is split along
//! its structure (headings, paragraphs, lists) before sentences and words.

use std::path::Path;
use std::sync::Arc;

use pyxa_core::{Error, ErrorCode, ParsedPassage, Result};
use text_splitter::{ChunkConfig, ChunkSizer, MarkdownSplitter, TextSplitter};
use tokenizers::Tokenizer;

use crate::extract::DocumentFormat;

/// How long passages are, in tokens.
#[derive(Debug, Clone, Copy)]
pub struct PassageSize {
    /// Passages grow to at least this many tokens when the text allows.
    pub min_tokens: usize,
    pub max_tokens: usize,
    /// Tokens shared by neighbouring passages.
    pub overlap_tokens: usize,
}

impl Default for PassageSize {
    /// A short paragraph: long enough to carry a fact and its context, short enough that the
    /// three given to the local model keep its prompt quick (~36 prompt tokens/s on one core
    /// for the 1.5B model) and that a passage is about one thing.
    fn default() -> Self {
        Self { min_tokens: 32, max_tokens: 100, overlap_tokens: 16 }
    }
}

/// Counts tokens with the text encoder's tokenizer, or characters / 3 without one.
#[derive(Clone)]
enum Sizer {
    Tokens(Arc<Tokenizer>),
    Characters,
}

impl ChunkSizer for Sizer {
    fn size(&self, chunk: &str) -> usize {
        match self {
            Sizer::Tokens(t) => t.encode(chunk, false).map(|e| e.len()).unwrap_or_else(|_| chunk.chars().count() / 3),
            Sizer::Characters => chunk.chars().count().div_ceil(3),
        }
    }
}

pub struct Splitter {
    text: TextSplitter<Sizer>,
    markdown: MarkdownSplitter<Sizer>,
}

impl Splitter {
    pub fn with_tokenizer_file(path: &Path, size: PassageSize) -> Result<Self> {
        let tokenizer = Tokenizer::from_file(path)
            .map_err(|e| Error::new(ErrorCode::ModelBundleInvalid, format!("{}: {e}", path.display())))?;
        Self::build(Sizer::Tokens(Arc::new(tokenizer)), size)
    }

    /// Sizes by characters (about three per token): for tests and encoders without a tokenizer.
    pub fn by_characters(size: PassageSize) -> Result<Self> {
        Self::build(Sizer::Characters, size)
    }

    fn build(sizer: Sizer, size: PassageSize) -> Result<Self> {
        let config = || {
            ChunkConfig::new(size.min_tokens..size.max_tokens)
                .with_overlap(size.overlap_tokens)
                .map(|c| c.with_sizer(sizer.clone()))
                .map_err(|e| Error::internal(format!("passage size: {e}")))
        };
        Ok(Self { text: TextSplitter::new(config()?), markdown: MarkdownSplitter::new(config()?) })
    }

    pub fn split(&self, text: &str, format: DocumentFormat) -> Vec<ParsedPassage> {
        let chunks: Vec<&str> = match format {
            DocumentFormat::Markdown => self.markdown.chunks(text).collect(),
            _ => self.text.chunks(text).collect(),
        };
        // A heading on its own says nothing: it goes with the passage after it.
        let mut merged: Vec<String> = Vec::new();
        let mut heading: Option<String> = None;
        for chunk in chunks.into_iter().map(str::trim).filter(|c| c.chars().any(char::is_alphanumeric)) {
            let text = match heading.take() {
                Some(h) => format!("{h}\n{chunk}"),
                None => chunk.to_string(),
            };
            if is_only_headings(&text) {
                heading = Some(text);
            } else {
                merged.push(text);
            }
        }
        merged.extend(heading);
        merged.into_iter().enumerate().map(|(position, text)| ParsedPassage { position, text }).collect()
    }
}

/// Markdown headings and nothing else.
fn is_only_headings(text: &str) -> bool {
    text.lines().filter(|l| !l.trim().is_empty()).all(|l| l.trim_start().starts_with('#'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passages_are_bounded_ordered_and_overlap() {
        let size = PassageSize { min_tokens: 10, max_tokens: 30, overlap_tokens: 5 };
        let s = Splitter::by_characters(size).unwrap();
        let text: String = (0..40).map(|i| format!("Sentence number {i} is here. ")).collect();
        let passages = s.split(&text, DocumentFormat::PlainText);
        assert!(passages.len() > 5);
        assert!(passages.iter().all(|p| p.text.chars().count() <= 30 * 3), "{passages:?}");
        assert_eq!(passages.iter().map(|p| p.position).collect::<Vec<_>>(), (0..passages.len()).collect::<Vec<_>>());
        assert!(passages[0].text.starts_with("Sentence number 0"));
        assert!(passages.last().unwrap().text.contains("number 39"));
    }

    #[test]
    fn chinese_is_split_too() {
        let s = Splitter::by_characters(PassageSize { min_tokens: 5, max_tokens: 20, overlap_tokens: 2 }).unwrap();
        let text = "办公室的猫叫摩卡。它是一只灰色的虎斑猫。每天早上九点喂它。咖啡机每三十天除垢一次。".repeat(3);
        let passages = s.split(&text, DocumentFormat::PlainText);
        assert!(passages.len() > 2);
        assert!(passages.iter().all(|p| p.text.chars().count() <= 60));
    }

    #[test]
    fn markdown_keeps_sections_apart() {
        let s = Splitter::by_characters(PassageSize { min_tokens: 5, max_tokens: 25, overlap_tokens: 0 }).unwrap();
        let md = "# Cat\n\nThe office cat is Mochi.\n\n# Coffee\n\nDescale the machine every 30 days.";
        let passages = s.split(md, DocumentFormat::Markdown);
        assert!(passages.iter().any(|p| p.text.contains("Mochi") && !p.text.contains("Descale")), "{passages:?}");
        // No passage is a heading alone: it is kept with what follows it.
        assert!(passages.iter().all(|p| !is_only_headings(&p.text)), "{passages:?}");
        let long = format!("## Mochi, the office cat\n\n{}", "She is a grey tabby who likes the sofa. ".repeat(6));
        let passages = s.split(&long, DocumentFormat::Markdown);
        assert!(passages[0].text.starts_with("## Mochi") && passages[0].text.contains("grey tabby"), "{passages:?}");
    }
}
