//! The one place where error kinds become HTTP statuses, and the JSON error body.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use pyxa_core::{Error, ErrorKind};
use serde_json::json;

/// An error on its way to an HTTP client.
#[derive(Debug)]
pub struct ApiError(pub Error);

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        ApiError(e)
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// Every kind has exactly one status; the match is exhaustive so a new kind cannot be forgotten.
pub fn status_for(kind: ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::InvalidInput => StatusCode::BAD_REQUEST,
        ErrorKind::UnsupportedMedia => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ErrorKind::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::Conflict => StatusCode::CONFLICT,
        ErrorKind::Overloaded => StatusCode::TOO_MANY_REQUESTS,
        ErrorKind::Unavailable => StatusCode::BAD_GATEWAY,
        ErrorKind::Timeout => StatusCode::GATEWAY_TIMEOUT,
        ErrorKind::Setup => StatusCode::SERVICE_UNAVAILABLE,
        ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

pub fn error_body(e: &Error) -> serde_json::Value {
    json!({"error": {"code": e.code, "message": e.message}})
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        status_for(self.0.kind)
    }
    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        if status.is_server_error() {
            tracing::error!(code = %self.0.code, message = %self.0.message, "request failed");
        }
        crate::metrics::record_error(&self.0.code);
        HttpResponse::build(status).json(error_body(&self.0))
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// Errors actix raises before a handler runs (bad JSON, bad path, body too large) get the same
/// JSON shape and stable codes.
pub fn json_config(limit: usize) -> actix_web::web::JsonConfig {
    actix_web::web::JsonConfig::default().limit(limit).error_handler(|err, _req| {
        let e = match &err {
            actix_web::error::JsonPayloadError::OverflowKnownLength { .. } | actix_web::error::JsonPayloadError::Overflow { .. } => {
                Error::new(ErrorKind::TooLarge, "body_too_large", err.to_string())
            }
            actix_web::error::JsonPayloadError::ContentType => {
                Error::new(ErrorKind::UnsupportedMedia, "unsupported_content_type", "expected Content-Type: application/json")
            }
            _ => Error::invalid("invalid_json", err.to_string()),
        };
        ApiError(e).into()
    })
}

pub fn query_config() -> actix_web::web::QueryConfig {
    actix_web::web::QueryConfig::default()
        .error_handler(|err, _req| ApiError(Error::invalid("invalid_query", err.to_string())).into())
}

pub fn path_config() -> actix_web::web::PathConfig {
    actix_web::web::PathConfig::default()
        .error_handler(|err, _req| ApiError(Error::invalid("invalid_path", err.to_string())).into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_mistakes_are_4xx() {
        for kind in [ErrorKind::InvalidInput, ErrorKind::UnsupportedMedia, ErrorKind::TooLarge, ErrorKind::NotFound, ErrorKind::Conflict, ErrorKind::Overloaded] {
            assert!(status_for(kind).is_client_error(), "{kind:?}");
        }
    }
}
