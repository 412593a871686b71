//! The one error type of pyxa: a stable machine-readable [`ErrorCode`] from one catalogue
//! (what clients match on), the [`ErrorKind`] that code belongs to (what the HTTP layer maps to
//! a status), a human message, and the underlying cause (logged, never sent to clients).

use std::fmt;
use std::sync::Arc;

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
    /// The request's headers are larger than allowed.
    HeadersTooLarge,
    /// A named thing (collection, item, answer, conversation) does not exist.
    NotFound,
    /// The route exists but not for this HTTP method.
    MethodNotAllowed,
    /// No API key, or not a valid one, where the server needs one.
    Unauthorized,
    /// The API key is valid but not for this action or collection.
    Forbidden,
    /// The request conflicts with stored state (duplicate item, existing collection).
    Conflict,
    /// The client sent its request too slowly (headers or body past their deadline).
    ClientTimeout,
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

/// Declares the catalogue: one line per code with its wire name and its kind.
macro_rules! error_codes {
    ($($variant:ident = $name:literal, $kind:ident;)*) => {
        /// Every stable error code pyxa can answer with. The wire name (`as_str`) never changes
        /// once released; clients match on it.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $($variant,)*
        }

        impl ErrorCode {
            /// All codes, in catalogue order (for documentation and tests).
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)*];

            /// The wire name, e.g. `"duplicate_item"`.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $name,)*
                }
            }

            /// The kind this code belongs to (decides the HTTP status).
            pub const fn kind(self) -> ErrorKind {
                match self {
                    $(ErrorCode::$variant => ErrorKind::$kind,)*
                }
            }

            /// The code with this wire name.
            pub fn parse(name: &str) -> Option<ErrorCode> {
                match name {
                    $($name => Some(ErrorCode::$variant),)*
                    _ => None,
                }
            }
        }
    };
}

error_codes! {
    ApiKeyRequired = "api_key_required", Unauthorized;
    BodyTooLarge = "body_too_large", TooLarge;
    ChecksumMismatch = "checksum_mismatch", Setup;
    CollectionDenied = "collection_denied", Forbidden;
    CollectionDimMismatch = "collection_dim_mismatch", Conflict;
    CollectionExists = "collection_exists", Conflict;
    CollectionGone = "collection_gone", Conflict;
    CollectionNotFound = "collection_not_found", NotFound;
    CollectionProtected = "collection_protected", Conflict;
    ConversionFailed = "conversion_failed", Setup;
    CrossOriginRequest = "cross_origin_request", Forbidden;
    DatabaseUnavailable = "database_unavailable", Unavailable;
    DocumentTooLarge = "document_too_large", TooLarge;
    DownloadFailed = "download_failed", Setup;
    DuplicateAnswer = "duplicate_answer", Conflict;
    DuplicateDocument = "duplicate_document", Conflict;
    DuplicateFeedback = "duplicate_feedback", Conflict;
    DuplicateItem = "duplicate_item", Conflict;
    EmptyDocument = "empty_document", InvalidInput;
    EmptyFeedback = "empty_feedback", InvalidInput;
    EmptyImage = "empty_image", InvalidInput;
    EmptyItem = "empty_item", InvalidInput;
    EmptyPrompt = "empty_prompt", InvalidInput;
    EmptyQuery = "empty_query", InvalidInput;
    EmptyQuestion = "empty_question", InvalidInput;
    ExecutionProviderFailed = "execution_provider_failed", Setup;
    ExecutionProviderUnavailable = "execution_provider_unavailable", Setup;
    FieldTooLarge = "field_too_large", TooLarge;
    FieldTooLong = "field_too_long", InvalidInput;
    FileUnreadable = "file_unreadable", Setup;
    HeadersTooLarge = "headers_too_large", HeadersTooLarge;
    ImageFetchFailed = "image_fetch_failed", Unavailable;
    ImageTooLarge = "image_too_large", TooLarge;
    Internal = "internal", Internal;
    InvalidApiKey = "invalid_api_key", Unauthorized;
    InvalidBase64 = "invalid_base64", InvalidInput;
    InvalidBlobId = "invalid_blob_id", InvalidInput;
    InvalidBody = "invalid_body", InvalidInput;
    InvalidCharacters = "invalid_characters", InvalidInput;
    InvalidCollectionName = "invalid_collection_name", InvalidInput;
    InvalidDatabaseUrl = "invalid_database_url", InvalidInput;
    InvalidDim = "invalid_dim", InvalidInput;
    InvalidDocument = "invalid_document", InvalidInput;
    InvalidFilter = "invalid_filter", InvalidInput;
    InvalidImage = "invalid_image", InvalidInput;
    InvalidImageUrl = "invalid_image_url", InvalidInput;
    InvalidItemId = "invalid_item_id", InvalidInput;
    InvalidJson = "invalid_json", InvalidInput;
    InvalidLanguage = "invalid_language", InvalidInput;
    InvalidMessage = "invalid_message", InvalidInput;
    InvalidMetadata = "invalid_metadata", InvalidInput;
    InvalidMode = "invalid_mode", InvalidInput;
    InvalidMultipart = "invalid_multipart", InvalidInput;
    InvalidPagination = "invalid_pagination", InvalidInput;
    InvalidPath = "invalid_path", InvalidInput;
    InvalidQuery = "invalid_query", InvalidInput;
    InvalidRequest = "invalid_request", InvalidInput;
    InvalidScopes = "invalid_scopes", InvalidInput;
    InvalidSettings = "invalid_settings", InvalidInput;
    InvalidText = "invalid_text", InvalidInput;
    InvalidTopK = "invalid_top_k", InvalidInput;
    InvalidUtf8 = "invalid_utf8", InvalidInput;
    InvalidVector = "invalid_vector", InvalidInput;
    InvalidVectorRequest = "invalid_vector_request", InvalidInput;
    ItemNotFound = "item_not_found", NotFound;
    LlmAuthFailed = "llm_auth_failed", Unavailable;
    LlmBackendFailed = "llm_backend_failed", Setup;
    LlmBadResponse = "llm_bad_response", Unavailable;
    LlmCancelled = "llm_cancelled", Unavailable;
    LlmConfigInvalid = "llm_config_invalid", Setup;
    LlmLoadFailed = "llm_load_failed", Setup;
    LlmModelMissing = "llm_model_missing", Setup;
    LlmQueueTimeout = "llm_queue_timeout", Overloaded;
    LlmTimeout = "llm_timeout", Timeout;
    LlmUnavailable = "llm_unavailable", Unavailable;
    LlmUpstreamError = "llm_upstream_error", Unavailable;
    LlmWorkerStopped = "llm_worker_stopped", Unavailable;
    MetadataTooLarge = "metadata_too_large", TooLarge;
    MethodNotAllowed = "method_not_allowed", MethodNotAllowed;
    MigrationFailed = "migration_failed", Internal;
    ModelBundleIncomplete = "model_bundle_incomplete", Setup;
    ModelBundleInvalid = "model_bundle_invalid", Setup;
    ModelBundleMissing = "model_bundle_missing", Setup;
    ModelChecksumMismatch = "model_checksum_mismatch", Setup;
    ModelLoadFailed = "model_load_failed", Setup;
    NotAnImage = "not_an_image", UnsupportedMedia;
    OcrModelsMissing = "ocr_models_missing", Setup;
    OnnxruntimeError = "onnxruntime_error", Setup;
    OnnxruntimeLoadFailed = "onnxruntime_load_failed", Setup;
    OnnxruntimeMissing = "onnxruntime_missing", Setup;
    Overloaded = "overloaded", Overloaded;
    PointWithoutVectors = "point_without_vectors", InvalidInput;
    PromptTooLong = "prompt_too_long", InvalidInput;
    ProvisioningFailed = "provisioning_failed", Setup;
    RemoteImagesDisabled = "remote_images_disabled", InvalidInput;
    RequestTimeout = "request_timeout", ClientTimeout;
    RouteNotFound = "route_not_found", NotFound;
    ScopeDenied = "scope_denied", Forbidden;
    ScoringUnsupported = "scoring_unsupported", Unavailable;
    TooManyParts = "too_many_parts", TooLarge;
    UnknownAnswer = "unknown_answer", NotFound;
    UnknownApiKey = "unknown_api_key", NotFound;
    UnknownArtifact = "unknown_artifact", InvalidInput;
    UnknownBlob = "unknown_blob", NotFound;
    UnknownCollection = "unknown_collection", NotFound;
    UnknownConversation = "unknown_conversation", NotFound;
    UnknownDocument = "unknown_document", NotFound;
    UnknownItem = "unknown_item", NotFound;
    UnsupportedContentType = "unsupported_content_type", UnsupportedMedia;
    UnsupportedDocument = "unsupported_document", UnsupportedMedia;
    UntrustedHost = "untrusted_host", Forbidden;
    UploadTooLarge = "upload_too_large", TooLarge;
    VectorDimMismatch = "vector_dim_mismatch", InvalidInput;
    VectorPayloadCorrupt = "vector_payload_corrupt", Internal;
    VectorStoreAuth = "vector_store_auth", Setup;
    VectorStoreConfig = "vector_store_config", Setup;
    VectorStoreError = "vector_store_error", Unavailable;
    VectorStoreLocked = "vector_store_locked", Unavailable;
    VectorStoreNotFound = "vector_store_not_found", NotFound;
    VectorStoreTimeout = "vector_store_timeout", Timeout;
    VectorStoreUnavailable = "vector_store_unavailable", Unavailable;
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::ops::Deref for ErrorCode {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for ErrorCode {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq<str> for ErrorCode {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for ErrorCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl serde::Serialize for ErrorCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// The underlying cause of an error, kept for logs.
pub type Cause = Arc<dyn std::error::Error + Send + Sync + 'static>;

/// pyxa's error: `code` is the stable identifier clients rely on, `kind` (from the code)
/// decides the status, `source` is the cause (logged, never shown to clients).
#[derive(Debug, Clone)]
pub struct Error {
    pub kind: ErrorKind,
    pub code: ErrorCode,
    pub message: String,
    source: Option<Cause>,
}

impl Error {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self { kind: code.kind(), code, message: message.into(), source: None }
    }
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Internal, message)
    }
    pub fn overloaded(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Overloaded, message)
    }
    /// Attach the underlying cause (kept in the `source` chain for logs).
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Arc::new(source));
        self
    }
    /// Prefix the message with context, keeping kind, code and cause.
    pub fn context(mut self, context: impl fmt::Display) -> Self {
        self.message = format!("{context}: {}", self.message);
        self
    }
    /// The message followed by every cause in the chain, for logs.
    pub fn chain(&self) -> String {
        let mut out = self.message.clone();
        let mut next: Option<&(dyn std::error::Error + 'static)> = self.source.as_deref().map(|s| s as _);
        while let Some(cause) = next {
            out.push_str(": ");
            out.push_str(&cause.to_string());
            next = cause.source();
        }
        out
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message, self.code)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_deref().map(|s| s as _)
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_are_unique_and_round_trip() {
        let mut seen = std::collections::HashSet::new();
        for code in ErrorCode::ALL {
            assert!(seen.insert(code.as_str()), "duplicate wire name {code}");
            assert_eq!(ErrorCode::parse(code.as_str()), Some(*code));
            assert!(code.as_str().bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'), "{code}");
        }
    }

    #[test]
    fn the_cause_is_kept_for_logs() {
        let io = std::io::Error::other("disk on fire");
        let e = Error::internal("blob store").with_source(io);
        assert_eq!(e.chain(), "blob store: disk on fire");
        assert_eq!(e.code, "internal");
        assert_eq!(e.kind, ErrorKind::Internal);
    }
}
