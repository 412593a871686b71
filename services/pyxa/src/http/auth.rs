//! API keys on every `/v1` route: who is calling (`Caller`, put in the request's extensions by
//! [`require_key`]) and whether they may do this. Keys come as `Authorization: Bearer KEY` (what
//! OpenAI clients send) or `X-Api-Key: KEY`. Without keys configured every caller is `Open`
//! (pyxa then serves loopback only, see `serve`). Photos by hash need no key (see
//! `is_photo_read`).

use std::future::{ready, Ready};

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method};
use actix_web::middleware::Next;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest, ResponseError};
use pyxa_core::keys::{key_hash, same_secret, ApiKey, Scope};
use pyxa_core::{Error, ErrorCode};

use super::errors::ApiError;
use super::AppState;

/// How the server checks keys.
#[derive(Clone, Default)]
pub struct AuthConfig {
    /// Whether `/v1` needs a key at all.
    pub required: bool,
    /// The key from `--admin-key` (may do everything); never logged.
    pub admin_key: Option<String>,
    /// `--insecure-no-auth`: without keys, answer any `Host` (else loopback names only).
    pub any_host: bool,
}

impl std::fmt::Debug for AuthConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthConfig")
            .field("required", &self.required)
            .field("admin_key", &self.admin_key.as_ref().map(|_| "<redacted>"))
            .field("any_host", &self.any_host)
            .finish()
    }
}

/// Who is calling.
#[derive(Debug, Clone)]
pub enum Caller {
    /// No keys are configured: everything is allowed.
    Open,
    /// The `--admin-key`.
    Admin,
    Key(ApiKey),
}

impl Caller {
    fn allows(&self, scope: Scope) -> bool {
        match self {
            Caller::Open | Caller::Admin => true,
            Caller::Key(key) => key.allows(scope),
        }
    }

    /// Whether the caller may touch `collection`.
    pub fn covers(&self, collection: &str) -> bool {
        match self {
            Caller::Open | Caller::Admin => true,
            Caller::Key(key) => key.covers(collection),
        }
    }

    /// The key's id, for a caller with a stored key (the owner of what it starts).
    pub fn key_id(&self) -> Option<String> {
        match self {
            Caller::Key(key) => Some(key.id.clone()),
            Caller::Open | Caller::Admin => None,
        }
    }

    /// Whether the caller may see a conversation started by `owner`: its own, one made without
    /// a key, or any for the admin and on a server without keys.
    pub fn sees(&self, owner: Option<&str>) -> bool {
        match (self, owner) {
            (Caller::Open | Caller::Admin, _) | (_, None) => true,
            (Caller::Key(key), Some(owner)) => key.id == owner,
        }
    }

    /// `collection_denied` unless the caller may touch `collection`.
    pub fn check_collection(&self, collection: &str) -> Result<(), ApiError> {
        if self.covers(collection) {
            Ok(())
        } else {
            Err(Error::new(ErrorCode::CollectionDenied, format!("this API key may not use collection {collection:?}")).into())
        }
    }
}

impl FromRequest for Caller {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(req.extensions().get::<Caller>().cloned().unwrap_or(Caller::Open)))
    }
}

/// What a `/v1` request needs: asking, feedback and key management have scopes of their own;
/// otherwise reading (GET, HEAD, search) or writing.
pub fn required_scope(method: &Method, path: &str) -> Scope {
    let path = path.trim_end_matches('/');
    if path == "/v1/keys" || path.starts_with("/v1/keys/") {
        Scope::Admin
    } else if *method == Method::POST && (path == "/v1/ask" || path == "/v1/chat/completions") {
        Scope::Ask
    } else if *method == Method::POST && path.ends_with("/feedback") {
        Scope::Teach
    } else if *method == Method::GET || *method == Method::HEAD || (*method == Method::POST && path == "/v1/search") {
        Scope::Read
    } else {
        Scope::Write
    }
}

/// A photo by its sha256 (`GET /v1/blobs/{hash}[/thumbnail]`): the hash is the capability, as
/// `<img>` tags in the portal cannot send a key (and whoever could compute the hash already has
/// the photo).
fn is_photo_read(method: &Method, path: &str) -> bool {
    (*method == Method::GET || *method == Method::HEAD) && path.starts_with("/v1/blobs/")
}

/// The collection a path names (`/v1/collections/{collection}/...`).
fn path_collection(path: &str) -> Option<&str> {
    let mut segments = path.trim_start_matches('/').split('/');
    match (segments.next(), segments.next(), segments.next()) {
        (Some("v1"), Some("collections"), Some(c)) if !c.is_empty() => Some(c),
        _ => None,
    }
}

fn presented_key(req: &ServiceRequest) -> Option<String> {
    let headers = req.headers();
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")));
    let key = bearer.or_else(|| headers.get("x-api-key").and_then(|v| v.to_str().ok()));
    key.map(|k| k.trim().to_string()).filter(|k| !k.is_empty())
}

/// The host part of a `Host` or `Origin` value (`http://127.0.0.1:8080` -> `127.0.0.1`).
fn host_name(value: &str) -> &str {
    let rest = value.split_once("://").map_or(value, |(_, r)| r);
    let authority = rest.split('/').next().unwrap_or(rest);
    if let Some(v6) = authority.strip_prefix('[') {
        return v6.split(']').next().unwrap_or(v6);
    }
    authority.rsplit_once(':').map_or(authority, |(h, _)| h)
}

fn is_loopback_name(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost") || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Browser attacks on a local server: a page of another site posting to it (its `Origin` is
/// not this server), or a DNS name rebound to 127.0.0.1 reading it (its `Host` is that name).
/// Requests without these headers are not from a browser and pass.
fn check_browser_origin(req: &ServiceRequest, loopback_only: bool) -> Result<(), Error> {
    let header = |name| req.headers().get(name).and_then(|v| v.to_str().ok());
    let host = header(header::HOST);
    if loopback_only {
        if let Some(host) = host.filter(|h| !is_loopback_name(host_name(h))) {
            return Err(Error::new(
                ErrorCode::UntrustedHost,
                format!("this server has no API keys and answers loopback names only, not {host:?}"),
            ));
        }
    }
    let writes = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if let (true, Some(origin), Some(host)) = (writes, header(header::ORIGIN), host) {
        let origin_authority = origin.split_once("://").map_or(origin, |(_, r)| r);
        if origin_authority != host {
            return Err(Error::new(ErrorCode::CrossOriginRequest, format!("a request from {origin} to this server is refused")));
        }
    }
    Ok(())
}

async fn authorize(req: &ServiceRequest) -> Result<Caller, Error> {
    let Some(state) = req.app_data::<web::Data<AppState>>() else { return Ok(Caller::Open) };
    check_browser_origin(req, !state.auth.required && !state.auth.any_host)?;
    // The path as the router matches it (percent-encoded letters decoded): `/v1/%6Beys` is
    // `/v1/keys` here too.
    let path = req.match_info().as_str().to_string();
    if !state.auth.required || is_photo_read(req.method(), &path) {
        return Ok(Caller::Open);
    }
    let Some(key) = presented_key(req) else {
        return Err(Error::new(
            ErrorCode::ApiKeyRequired,
            "this server needs an API key: send `Authorization: Bearer KEY` (or `X-Api-Key: KEY`)",
        ));
    };
    let caller = match &state.auth.admin_key {
        Some(admin) if same_secret(&key, admin) => Caller::Admin,
        _ => match state.kb.meta.find_api_key(&key_hash(&key)).await? {
            Some(stored) => Caller::Key(stored),
            None => return Err(Error::new(ErrorCode::InvalidApiKey, "the API key is not valid (unknown or revoked)")),
        },
    };
    let scope = required_scope(req.method(), &path);
    if !caller.allows(scope) {
        return Err(Error::new(ErrorCode::ScopeDenied, format!("this API key lacks the `{}` scope", scope.as_str())));
    }
    let limited = matches!(&caller, Caller::Key(key) if key.collections.is_some());
    if limited && *req.method() == Method::POST && path.trim_end_matches('/') == "/v1/collections" {
        return Err(Error::new(ErrorCode::CollectionDenied, "an API key limited to some collections cannot create collections"));
    }
    if let Some(collection) = path_collection(&path) {
        // A percent-encoded name is compared as sent: a limited key is refused rather than
        // risk decoding it differently from the router.
        if !caller.covers(collection) {
            return Err(Error::new(ErrorCode::CollectionDenied, format!("this API key may not use collection {collection:?}")));
        }
    }
    Ok(caller)
}

/// Middleware for `/v1`: 401 without a valid key, 403 outside its scopes or collections.
pub async fn require_key<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    match authorize(&req).await {
        Ok(caller) => {
            req.extensions_mut().insert(caller);
            next.call(req).await.map(ServiceResponse::map_into_left_body)
        }
        // Answered here, as a response (not an error), so that metrics and headers apply.
        Err(e) => Ok(req.into_response(ApiError::from(e).error_response()).map_into_right_body()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_need_the_scope_of_what_they_do() {
        assert_eq!(required_scope(&Method::GET, "/v1/collections/a/items"), Scope::Read);
        assert_eq!(required_scope(&Method::HEAD, "/v1/collections"), Scope::Read);
        assert_eq!(required_scope(&Method::POST, "/v1/search"), Scope::Read);
        assert_eq!(required_scope(&Method::POST, "/v1/ask"), Scope::Ask);
        assert_eq!(required_scope(&Method::POST, "/v1/chat/completions"), Scope::Ask);
        assert_eq!(required_scope(&Method::POST, "/v1/answers/x/feedback"), Scope::Teach);
        assert_eq!(required_scope(&Method::POST, "/v1/collections/a/items"), Scope::Write);
        assert_eq!(required_scope(&Method::DELETE, "/v1/collections/a"), Scope::Write);
        assert_eq!(required_scope(&Method::PATCH, "/v1/collections/a"), Scope::Write);
        assert_eq!(required_scope(&Method::GET, "/v1/keys"), Scope::Admin);
        assert_eq!(required_scope(&Method::DELETE, "/v1/keys/k"), Scope::Admin);
        assert_eq!(path_collection("/v1/collections/a/items/1"), Some("a"));
        assert_eq!(path_collection("/v1/collections"), None);
        assert_eq!(path_collection("/v1/ask"), None);
        assert!(is_photo_read(&Method::GET, "/v1/blobs/abc/thumbnail"));
        for (value, host) in [
            ("127.0.0.1:8080", "127.0.0.1"),
            ("http://[::1]:80", "::1"),
            ("localhost", "localhost"),
            ("https://evil.example/x", "evil.example"),
        ] {
            assert_eq!(host_name(value), host);
        }
        assert!(is_loopback_name("127.0.0.1") && is_loopback_name("::1") && is_loopback_name("LOCALHOST"));
        assert!(!is_loopback_name("evil.example") && !is_loopback_name("10.0.0.1"));
        assert!(!is_photo_read(&Method::DELETE, "/v1/blobs/abc") && !is_photo_read(&Method::GET, "/v1/collections"));
    }
}
