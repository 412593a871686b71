//! The one place where error kinds become HTTP statuses, and the JSON error body every failure
//! gets: handlers' errors, extractor errors, and the responses actix makes itself (404, 405).

use actix_web::body::MessageBody;
use actix_web::dev::ServiceResponse;
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::middleware::ErrorHandlerResponse;
use actix_web::{HttpResponse, ResponseError};
use pyxa_core::{Error, ErrorCode, ErrorKind};
use serde::Serialize;

use super::metrics;

/// Seconds a client should wait before retrying a full queue.
const RETRY_AFTER_OVERLOADED_SECS: u32 = 1;
/// Seconds a client should wait before retrying when a dependency is down or slow.
const RETRY_AFTER_UNAVAILABLE_SECS: u32 = 5;

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

pub type ApiResult<T> = Result<T, ApiError>;

/// Every kind has exactly one status; the match is exhaustive so a new kind cannot be forgotten.
pub fn status_for(kind: ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::InvalidInput => StatusCode::BAD_REQUEST,
        ErrorKind::UnsupportedMedia => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ErrorKind::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorKind::HeadersTooLarge => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
        ErrorKind::Unauthorized => StatusCode::UNAUTHORIZED,
        ErrorKind::Forbidden => StatusCode::FORBIDDEN,
        ErrorKind::Conflict => StatusCode::CONFLICT,
        ErrorKind::ClientTimeout => StatusCode::REQUEST_TIMEOUT,
        ErrorKind::Overloaded => StatusCode::TOO_MANY_REQUESTS,
        ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorKind::Timeout => StatusCode::GATEWAY_TIMEOUT,
        ErrorKind::Setup => StatusCode::SERVICE_UNAVAILABLE,
        ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

fn retry_after(kind: ErrorKind) -> Option<u32> {
    match kind {
        ErrorKind::Overloaded => Some(RETRY_AFTER_OVERLOADED_SECS),
        ErrorKind::Unavailable | ErrorKind::Timeout | ErrorKind::Setup => Some(RETRY_AFTER_UNAVAILABLE_SECS),
        _ => None,
    }
}

/// `{"error": {"code", "message"}}`: the shape of every error pyxa answers.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code, e.g. `duplicate_item`.
    pub code: String,
    pub message: String,
    /// For server-side failures: the id under which the details were logged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_id: Option<String>,
}

/// The body for an error; server-side failures carry no internal details, only an id that
/// finds them in the log.
pub fn error_body(e: &Error) -> ErrorBody {
    let status = status_for(e.kind);
    if !status.is_server_error() {
        return ErrorBody { error: ErrorDetail { code: e.code.to_string(), message: e.message.clone(), error_id: None } };
    }
    let error_id = uuid::Uuid::new_v4().simple().to_string();
    tracing::error!(%error_id, code = %e.code, cause = %e.chain(), "request failed");
    let message = match e.kind {
        ErrorKind::Unavailable => "a service pyxa depends on is unavailable; try again later",
        ErrorKind::Timeout => "a service pyxa depends on did not answer in time; try again later",
        ErrorKind::Setup => "pyxa is not fully set up (models, runtime or device); the server log has the details",
        _ => "internal error; the server log has the details",
    };
    ErrorBody { error: ErrorDetail { code: e.code.to_string(), message: message.into(), error_id: Some(error_id) } }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        status_for(self.0.kind)
    }
    fn error_response(&self) -> HttpResponse {
        metrics::record_error(&self.0.code);
        let mut res = HttpResponse::build(self.status_code());
        if let Some(secs) = retry_after(self.0.kind) {
            res.insert_header((header::RETRY_AFTER, secs.to_string()));
        }
        res.json(error_body(&self.0))
    }
}

/// Errors actix raises before a handler runs (bad JSON, bad path, body too large) get the same
/// JSON shape and stable codes.
pub fn json_config(limit: usize) -> actix_web::web::JsonConfig {
    actix_web::web::JsonConfig::default().limit(limit).error_handler(|err, req| {
        use actix_web::error::JsonPayloadError as E;
        let e = match &err {
            E::OverflowKnownLength { .. } | E::Overflow { .. } => Error::new(ErrorCode::BodyTooLarge, err.to_string()),
            E::ContentType => Error::new(ErrorCode::UnsupportedContentType, "expected Content-Type: application/json"),
            E::Payload(_) => super::body::tripped(req, ErrorCode::InvalidBody, &err),
            _ => Error::new(ErrorCode::InvalidJson, err.to_string()),
        };
        ApiError(e).into()
    })
}

pub fn query_config() -> actix_web::web::QueryConfig {
    actix_web::web::QueryConfig::default()
        .error_handler(|err, _req| ApiError(Error::new(ErrorCode::InvalidQuery, err.to_string())).into())
}

pub fn path_config() -> actix_web::web::PathConfig {
    actix_web::web::PathConfig::default()
        .error_handler(|err, _req| ApiError(Error::new(ErrorCode::InvalidPath, err.to_string())).into())
}

pub async fn route_not_found() -> ApiResult<HttpResponse> {
    Err(Error::new(ErrorCode::RouteNotFound, "no such route").into())
}

pub async fn method_not_allowed() -> ApiResult<HttpResponse> {
    Err(Error::new(ErrorCode::MethodNotAllowed, "this route does not accept that method").into())
}

/// Rewrites an error response that is not JSON yet (made by actix itself) into the JSON shape.
pub fn json_error_bodies<B: MessageBody + 'static>(res: ServiceResponse<B>) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let is_json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json") || v.starts_with("text/event-stream"));
    if is_json {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let status = res.status();
    let code = match status {
        StatusCode::NOT_FOUND => ErrorCode::RouteNotFound,
        StatusCode::METHOD_NOT_ALLOWED => ErrorCode::MethodNotAllowed,
        StatusCode::PAYLOAD_TOO_LARGE => ErrorCode::BodyTooLarge,
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => ErrorCode::HeadersTooLarge,
        StatusCode::REQUEST_TIMEOUT => ErrorCode::RequestTimeout,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ErrorCode::UnsupportedContentType,
        s if s.is_client_error() => ErrorCode::InvalidRequest,
        _ => ErrorCode::Internal,
    };
    let reason = status.canonical_reason().unwrap_or("error").to_ascii_lowercase();
    let body = serde_json::to_string(&error_body(&Error::new(code, reason))).unwrap_or_default();
    let (req, mut res) = res.into_parts();
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    let res = res.set_body(body);
    Ok(ErrorHandlerResponse::Response(ServiceResponse::new(req, res).map_into_boxed_body().map_into_right_body()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_mistakes_are_4xx_and_every_code_has_a_status() {
        for code in ErrorCode::ALL {
            let status = status_for(code.kind());
            assert!(status.is_client_error() || status.is_server_error(), "{code}");
        }
        for kind in [
            ErrorKind::InvalidInput,
            ErrorKind::UnsupportedMedia,
            ErrorKind::TooLarge,
            ErrorKind::HeadersTooLarge,
            ErrorKind::NotFound,
            ErrorKind::Unauthorized,
            ErrorKind::Forbidden,
            ErrorKind::Conflict,
            ErrorKind::ClientTimeout,
            ErrorKind::Overloaded,
        ] {
            assert!(status_for(kind).is_client_error(), "{kind:?}");
        }
    }

    #[test]
    fn server_errors_hide_internal_details() {
        let body = error_body(&Error::internal("disk /var/secret failed"));
        assert_eq!(body.error.code, "internal");
        assert!(!body.error.message.contains("/var/secret"));
        assert!(body.error.error_id.is_some());
        let body = error_body(&Error::new(ErrorCode::DuplicateItem, "already there as 42"));
        assert_eq!(body.error.message, "already there as 42");
    }
}
