//! Documents into passages: the text of a plain-text, Markdown, HTML or PDF file, with its
//! title, split into overlapping passages sized by the text encoder's own tokenizer (so every
//! passage fits the encoder's window and carries enough context to be found and cited).

mod extract;
mod split;

use std::path::Path;

use pyxa_core::{DocumentParser, Error, ErrorCode, ParsedDocument, Result};

pub use extract::{extract, DocumentFormat, Extracted};
pub use split::{PassageSize, Splitter};

/// File extensions pyxa reads, as shown in errors and the API docs.
pub const SUPPORTED_EXTENSIONS: &[&str] = &["txt", "md", "markdown", "html", "htm", "pdf"];

/// The parser pyxa serves with: extraction by file type, splitting by tokens.
pub struct Parser {
    splitter: Splitter,
}

impl Parser {
    pub fn new(splitter: Splitter) -> Self {
        Self { splitter }
    }

    /// Counts tokens with the tokenizer in `tokenizer_json` (the text encoder's).
    pub fn with_tokenizer_file(tokenizer_json: &Path, size: PassageSize) -> Result<Self> {
        Ok(Self::new(Splitter::with_tokenizer_file(tokenizer_json, size)?))
    }
}

impl DocumentParser for Parser {
    fn parse(&self, file_name: &str, bytes: &[u8]) -> Result<ParsedDocument> {
        let format = DocumentFormat::from_file_name(file_name).ok_or_else(|| {
            Error::new(
                ErrorCode::UnsupportedDocument,
                format!("{file_name}: pyxa reads .{} files", SUPPORTED_EXTENSIONS.join(", .")),
            )
        })?;
        let extracted = extract(format, bytes)?;
        let title = extracted.title.clone().unwrap_or_else(|| title_from_file_name(file_name));
        let passages = self.splitter.split(&extracted.text, format);
        tracing::debug!(file = file_name, chars = extracted.text.len(), passages = passages.len(), "document parsed");
        Ok(ParsedDocument { title, mime: format.mime().to_string(), passages })
    }
}

/// "office-handbook.md" -> "office-handbook".
fn title_from_file_name(file_name: &str) -> String {
    let stem = file_name.rsplit_once('.').map(|(stem, _)| stem).unwrap_or(file_name);
    if stem.is_empty() {
        file_name.to_string()
    } else {
        stem.to_string()
    }
}
