//! The one error type of pyxa: a kind (what the HTTP layer maps to a status), a stable
//! machine-readable code (what clients match on) and a human message.

use std::borrow::Cow;
use std::fmt;

/// What went wrong, coarsely. The HTTP layer maps each kind to exactly one status code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The request is malformed or a field is out of range.
    InvalidInput,
    /// The uploaded bytes are not a supported image (or not an image at all).
    UnsupportedMedia,
    /// The request body or a decoded image is larger than allowed.
    TooLarge,
    /// A named thing (collection, item, answer, conversation) does not exist.
    NotFound,
    /// The request conflicts with stored state (duplicate item, existing collection).
    Conflict,
    /// A bounded queue is full: retry later.
    Overloaded,
    /// A dependency (vector store, database, LLM server) is unreachable or failing.
    Unavailable,
    /// A dependency answered, but too late.
    Timeout,
    /// Models or runtime libraries are not provisioned, or a requested execution provider failed.
    Setup,
    /// A bug or an unexpected condition inside pyxa.
    Internal,
}

/// pyxa's error: `kind` decides the status, `code` is the stable identifier clients rely on.
#[derive(Debug, Clone)]
pub struct Error {
    pub kind: ErrorKind,
    pub code: Cow<'static, str>,
    pub message: String,
}

impl Error {
    pub fn new(kind: ErrorKind, code: impl Into<Cow<'static, str>>, message: impl Into<String>) -> Self {
        Self { kind, code: code.into(), message: message.into() }
    }
    pub fn invalid(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidInput, code, message)
    }
    pub fn not_found(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, code, message)
    }
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Conflict, code, message)
    }
    pub fn unavailable(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Unavailable, code, message)
    }
    pub fn setup(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Setup, code, message)
    }
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Internal, "internal", message)
    }
    pub fn overloaded(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Overloaded, "overloaded", message)
    }
    /// Prefix the message with context, keeping kind and code.
    pub fn context(mut self, context: impl fmt::Display) -> Self {
        self.message = format!("{context}: {}", self.message);
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message, self.code)
    }
}

impl std::error::Error for Error {}

pub type Result<T, E = Error> = std::result::Result<T, E>;
